//! Neural networks whose shapes are types.
//!
//! Layer sizes are `typenum` constants and every buffer is a fixed-size
//! [`GenericArray`](generic_array::GenericArray), so a network whose layers
//! do not fit together does not compile, nothing allocates, and
//! `size_of` of a model is the exact RAM it needs. The same code trains on
//! a workstation and on a microcontroller (`#![no_std]`, no allocator), and
//! parameters are laid out as PyTorch lays them out.
//!
//! # Build, train, infer
//!
//! ```
//! use typenet::prelude::*;
//!
//! // Build: the XOR network, 2 → 4 → 1.
//! type Xor = net![Dense<U2, U4, f64>, Sigmoid, Dense<U4, U1, f64>, Sigmoid];
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut net = Xor::default();
//! typenet::check::randomize(&mut net, &mut rng);
//!
//! // Train: per-sample gradient descent on the squared error.
//! let data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)];
//! let mut cache = Default::default();
//! let mut grads = <Xor as Params<f64>>::Grads::default();
//! for _ in 0..3000 {
//!     for (x, t) in data {
//!         let x = vector(x);
//!         let y = net.forward_train(&x, &mut cache, &mut NoRng);
//!         grads = Default::default();
//!         net.backward(&x, &mut cache, &vector([2.0 * (y[0] - t)]), &mut grads);
//!         net.zip_mut([&mut grads], &mut |p, [g]| {
//!             p.iter_mut().zip(g.iter()).for_each(|(p, g)| *p -= 0.5 * g)
//!         });
//!     }
//! }
//!
//! // Infer.
//! for (x, t) in data {
//!     assert_eq!(net.forward(&vector(x))[0] > 0.5, t > 0.5);
//! }
//! ```
//!
//! # Learn
//!
//! The [`guide`] is the classic "neural network from scratch" course,
//! executable: the training loop, activations, costs, the backward pass,
//! optimisers, initialisation, regularisation, monitoring, hyperparameters,
//! convolutional and recurrent networks, and firmware, a chapter each, with
//! the equations, the types that implement them, an example that runs, and
//! what the experiments in `examples/` measured.
//!
//! # Where things are
//!
//! - [`shape`]: `Vector`, `Matrix`, `Tensor3` and the shape rules.
//! - [`layer`]: the traits, [`Layer`] (inference), [`Params`] (parameter
//!   walking) and [`Train`] (training forward and backward).
//! - [`chain`]: networks as chains of layers, [`net!`] and [`layers!`](crate::layers!).
//! - [`mod@layers`]: `Dense`, the activations, `Dropout`, the convolutions
//!   `Conv1d`, `Conv2d`, `DepthwiseConv2d` and `Pointwise` (1×1), pooling (`MaxPool2d`, `AvgPool2d`,
//!   `GlobalAvgPool`), `Flatten`, and the recurrent layers (`Rnn`, `Lstm`,
//!   `Gru`, `LastStep`) in [`layers::recurrent`].
//! - [`init`]: initialisation schemes (PyTorch's default, small random,
//!   Xavier, He, LeCun).
//! - [`loss`]: costs (MSE, Huber, binary and softmax cross-entropy).
//! - [`optim`]: SGD, momentum, Adam/AdamW, RMSprop, learning-rate schedules.
//! - [`train`]: the mini-batch training loop, penalties, clipping, metrics.
//! - [`monitor`]: watching training on a workstation: a progress bar, a
//!   CSV log, the history, SVG curves, and tuples of monitors.
//! - [`memory`]: building large models in place, without the stack.
//! - [`metrics`]: R², RMSE, MAE; confusion matrix, precision, recall, F1;
//!   `predict` and `predict_proba`.
//! - [`data`]: random and stratified splits, imputation, feature and target
//!   scaling, CSV loading with a chosen target and missing values (`std`).
//! - [`check`]: finite-difference gradient checking.
//! - [`mod@io`]: parameters (and gradients, optimiser state) to bytes and
//!   back, in PyTorch's order, with a checked header; `tools/interop/` has
//!   the PyTorch side (`docs/interop.md`).
//! - [`guide`]: the course, a chapter per topic (documentation only).
//!
//! # Features
//!
//! - `std` (default): `std::error::Error` impls and host conveniences (data
//!   loading, the [`CsvLog`](monitor::CsvLog) and
//!   [`History`](monitor::History) monitors). Turn it off
//!   (`default-features = false`) for firmware; the library never allocates
//!   either way.
//! - `progress` (default, implies `std`): [`monitor::Progress`], progress
//!   bars (`indicatif`).
//! - `plot` (default, implies `std`): [`monitor::SvgPlot`] and
//!   [`monitor::Curves`], the curves as SVG (`plotters`, no system library).
//! - `safetensors` (default, implies `std`): PyTorch's `safetensors` files
//!   in and out by `state_dict` key, [`io::safetensors`].
//!
//! A host library that wants none of bars, plots and safetensors takes
//! `default-features = false, features = ["std"]`.

#![no_std]
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod chain;
pub mod check;
pub mod data;
pub mod guide;
pub mod init;
pub mod io;
mod kernel;
/// The int8 matrix-vector kernels, reachable for the firmware example's
/// check that the Cortex-M DSP leaf equals the portable loop bit for bit
/// on the device. Not part of the API.
#[doc(hidden)]
pub mod __int8_kernels {
    pub use crate::kernel::int8::{KERNEL, matvec, matvec_portable, matvec2, matvec2_portable};
}
/// The Cortex-M FPU leaf of the `f32` kernels beside the portable loops,
/// reachable for the firmware example's check that they agree bit for bit
/// on the device. Only on the hard-float Thumb targets. Not part of the API.
#[cfg(typenet_arm_fpu)]
#[doc(hidden)]
pub mod __f32_kernels {
    pub use crate::kernel::cortex_m::check::*;
}
pub mod layer;
pub mod layers;
pub mod loss;
pub mod memory;
pub mod metrics;
pub mod monitor;
pub mod optim;
pub mod quant;
mod scalar;
pub mod shape;
mod text;
pub mod train;

pub use generic_array;
pub use rand;
pub use typenum;

pub use chain::{Chain, LayerAt, LayerOf, Link};
pub use io::ParamsError;
pub use layer::{Layer, NoRng, Params, Train};
pub use scalar::{Scalar, Value};

/// Everything a network definition and a training loop need, in one import.
pub mod prelude {
    pub use crate::chain::{Chain, LayerAt, LayerOf};
    pub use crate::init::{
        HeNormal, HeUniform, Init, Initialize, LecunNormal, PyTorch, Scheme, SmallRandom, XavierNormal, XavierUniform,
        Zeros,
    };
    pub use crate::layer::{Layer, NoRng, Params, Train};
    pub use crate::layers::*;
    pub use crate::loss::Probabilities;
    pub use crate::loss::{Bce, BceWithLogits, Huber, Loss, Mse, SoftmaxCrossEntropy};
    pub use crate::metrics::{Classifier, ConfusionMatrix, Regression, RegressionTally};
    pub use crate::optim::{Adam, CosineAnnealing, ExponentialDecay, Momentum, Optimizer, RmsProp, Sgd, StepDecay};
    pub use crate::scalar::Scalar;
    pub use crate::shape::{Matrix, Tensor, Tensor3, Tensor4, Vector, matrix, tensor3, vector};
    pub use crate::train::{BatchReport, Config, EpochReport, Metrics, Monitor, TrainError, Trainer, evaluate};
    pub use crate::{layers, net};
    pub use generic_array::{ArrayLength, GenericArray};
    pub use rand::rngs::Xoshiro256PlusPlus;
    pub use rand::{Rng, RngExt, SeedableRng};
    pub use typenum::consts::*;
}
