//! The training loop: mini-batches, regularisation, validation, reports.
//!
//! A [`Trainer`] holds everything training needs besides the model: the
//! gradients, the cache of the training forward, the optimiser and its
//! state, and the [`Config`]. All of it has a size known at compile time,
//! so it can live on the stack, in a `static` or in a `Box`
//! ([`Trainer::boxed`], [`Trainer::new_in`]), and nothing allocates.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::train::EarlyStopping;
//!
//! type Xor = net![Dense<U2, U8>, Tanh, Dense<U8, U1>, Sigmoid];
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
//! let mut model = Xor::default();
//! model.init(&mut rng);
//!
//! let data = [
//!     (vector([0.0f32, 0.0]), vector([0.0])),
//!     (vector([0.0, 1.0]), vector([1.0])),
//!     (vector([1.0, 0.0]), vector([1.0])),
//!     (vector([1.0, 1.0]), vector([0.0])),
//! ];
//! let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
//! let mut best = Xor::default(); // where early stopping keeps the best model
//! let report = trainer
//!     .fit(&mut model, &Bce, &data, &mut rng)
//!     .validate_on(&data)
//!     .epochs(1000)
//!     .early_stopping(EarlyStopping::new(&mut best).patience(10).min_delta(1e-4))
//!     .run()?;
//! assert!(report.stopped_early);
//! assert_eq!(evaluate(&model, &Bce, &data).unwrap().accuracy, Some(1.0));
//! # Ok::<(), typenet::train::TrainError>(())
//! ```
//!
//! # Life of a step
//!
//! From [`Trainer::fit`] down to the matrix products and back, in order.
//! Private items are named with their file.
//!
//! 1. [`Fit::run`] (after [`Trainer::fit`] and its options) checks the
//!    settings ([`Config::validate`], the optimiser's
//!    [`Optimizer::validate`]), every target once and the early stopping's
//!    metric, then for each epoch takes the learning rate from
//!    [`Optimizer::rate_at`] (its schedule; the optimiser is the one place
//!    the rate is set), trains the epoch, runs [`evaluate`] on the
//!    validation set, lets the [`EarlyStopping`] copy the model into its
//!    slot if the epoch is its best, and asks the [`Monitor`] (and the
//!    early stopping's patience) whether to go on; at the end the model
//!    gets the best epoch's parameters and buffers back.
//! 2. [`Trainer::train_epoch`] draws the epoch's order, a [`Permutation`] of
//!    the indices (the identity without [`Config::shuffle`]), and cuts it
//!    into batches of [`Config::batch_size`]; a batch is a closure from a
//!    position to a `&(x, y)` in the caller's slice, so no sample is copied,
//!    and each batch's [`StepResult`] goes to [`Monitor::on_batch`].
//! 3. [`Trainer::step`] (a batch given as a slice) and the epoch's loop both
//!    enter `step_any` (`src/train/trainer.rs`), which picks the widest
//!    instruction set once per step: a model of `SMALL_MODEL` (256)
//!    parameters or more runs inside `with_best_isa`
//!    (`src/kernel/dispatch.rs`), a
//!    copy of the whole step compiled for AVX2 or AVX-512 when the CPU has
//!    them.
//! 4. `step_blocks` (`src/train/trainer.rs`) zeroes the trainer's gradients
//!    and cuts the batch into blocks of `B` samples (a short last block
//!    repeats its last sample in the unused slots; a batch of one sample
//!    skips the block arrays and runs blocks of one on it alone).
//! 5. The chain's [`Train::forward_train_block`] (`src/chain.rs`) runs the
//!    block through the layers: `(A, Rest)` runs `A` over the block, writes
//!    its outputs into the `mid` of each sample's [`Link`] cache and recurses
//!    into `Rest` with them as its inputs, so the trainer's `B` caches come
//!    to hold every layer's cache and output, and the last layer writes into
//!    the trainer's `B` outputs.
//! 6. A layer's own block forward does the work: [`Dense`]
//!    (`src/layers/dense.rs`) makes the block one matrix product,
//!    `Y = X·Wᵀ + b`, and keeps no cache; a layer that gains nothing from
//!    the block (an activation, a pooling) loops over its samples.
//! 7. The kernel seam, `Kernels::dense_forward` (`src/kernel/mod.rs`,
//!    the algorithm in `src/kernel/dense.rs`), is the
//!    GEMM: register-blocked over compile-time sizes and, in `f32` on x86-64
//!    with `std`, run in its AVX2 or AVX-512 variant when the CPU has it and
//!    the product is large enough, else in the portable one.
//! 8. Back in `step_blocks`, the loss's [`Loss::loss_grad`] writes each
//!    sample's dL/dy into the trainer's output gradients and returns its
//!    loss (one that is not finite stops the step with
//!    [`TrainError::NonFiniteLoss`]); each dL/dy is then scaled by 1/batch,
//!    and as backward is linear in dy, the gradients it accumulates are the
//!    batch's mean with no pass over the parameters to divide them.
//! 9. The chain's [`Train::backward_block`] (`src/chain.rs`), asked for no
//!    input gradient (`None`), goes back through the layers: `(A, Rest)`
//!    lets `Rest` write the gradients of `A`'s outputs into the `grad`
//!    slots of its [`Link`] caches through its own `backward_block`
//!    (`Some`), then runs `A`'s with them, so each layer adds its parameter
//!    gradients into the trainer's and the first layer skips its input
//!    gradient.
//! 10. In [`Dense`] these are the kernel's gradient GEMMs
//!     (`src/kernel/dense.rs`):
//!     `dW += dYᵀ·X` and `db += Σ dy` (`Kernels::dense_grads`) and, for
//!     every layer but the first, `dX = dY·W` (`Kernels::dense_input_grads`).
//! 11. `step_blocks` then adds the gradients of the L1 and L2 penalties
//!     (`add_penalty` in `src/train/regularize.rs`, whose value is
//!     [`penalty`]'s), takes the global norm with [`grad_norm`] or rescales
//!     with [`clip_grad_norm`], and refuses a step whose norm is not finite
//!     with [`TrainError::NonFiniteGradient`]; then it asks
//!     [`Train::buffers_stay_finite`] whether batch norm's running
//!     statistics would stay finite. Until here the parameters have not been
//!     touched.
//! 12. The optimiser's [`Optimizer::step`] updates the parameters at the
//!     epoch's rate, walking parameters, gradients and its own state in
//!     lockstep with [`Params::zip_mut`] twice: once computing every new
//!     value and checking that all are finite, once writing them (a rate
//!     too large, an overflow: [`TrainError::NonFiniteUpdate`], nothing
//!     written). Then [`Train::update_buffers`] folds the batch statistics
//!     the caches hold into batch norm's running statistics (nothing for
//!     other layers), and the step returns its [`StepResult`].
//!
//! So a step is all or nothing: after any [`TrainError`] the parameters,
//! the buffers and the optimiser's state are those of the last accepted
//! step.
//!
//! What lives where: the model is borrowed, the data is only read, and the
//! rest is the trainer's, each part a size known at compile time: the
//! gradients (the size of the parameters), the optimiser's state (none, or
//! once or twice that), `B` caches (each holding every layer's cache,
//! output and output gradient for one sample), `B` outputs and `B` output
//! gradients. The step puts no block of samples on the stack: its stack is
//! a few references per layer, whatever the size of the images.

// For the links in the docs above.
#[cfg(doc)]
use crate::{
    chain::Link,
    layer::{Params, Train},
    layers::Dense,
    loss::Loss,
    optim::Optimizer,
};

mod budget;
mod error;
mod fit;
mod order;
mod regularize;
mod report;
mod trainer;

pub use budget::{Budget, Limits};
pub use error::{Position, TrainError};
pub use fit::{EarlyStopping, Fit, Metric};
pub use order::Permutation;
pub use regularize::{clip_grad_norm, grad_norm, penalty};
pub use report::{BatchReport, EpochReport, FitReport, Metrics, Monitor, OnEpoch, StepResult, evaluate, on_epoch};
pub use trainer::{Config, DEFAULT_BLOCK, MAX_BY_VALUE, Trainer};
