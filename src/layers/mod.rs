//! The layers, one per file: each file holds a layer's forward and backward
//! passes, its docs and its tests.

pub mod activation;
pub mod batch_norm;
pub mod bias_only;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod dropout;
pub mod flatten;
pub mod frozen;
pub mod layer_norm;
pub mod pool;
pub mod recurrent;
pub mod residual;
pub mod standardize;

pub use activation::{
    Elu, Gelu, GeluTanh, HardSigmoid, HardSwish, Identity, LeakyRelu, LogSoftmax, Relu, Relu6, Sigmoid, Silu, Softmax,
    Softplus, Tanh,
};
pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use bias_only::{BiasOnly, HasBias};
pub use conv::{Conv1d, Conv2d};
pub use dense::Dense;
pub use depthwise::{DepthwiseConv2d, Pointwise};
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use frozen::Frozen;
pub use layer_norm::LayerNorm;
pub use pool::{AvgPool2d, GlobalAvgPool, MaxPool2d};
pub use recurrent::{Gru, LastStep, Lstm, LstmState, Recurrent, Rnn, SequenceCache};
pub use residual::{Projected, Residual};
pub use standardize::{Standardize, Unstandardize};

/// What the layers' tests share.
#[cfg(test)]
pub(crate) mod testing {
    use crate::check::{check_gradients, randomize};
    use crate::prelude::*;

    /// Checks `L`'s gradients against finite differences, with parameters
    /// and input drawn from [-1, 1) by `seed`, asserts that every input and
    /// parameter was checked and the worst relative error is below 1e-6,
    /// and returns that error.
    pub fn gradient_check<L: Train<X> + Default, X: Tensor<Scalar = f64>>(seed: u64) -> f64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (mut layer, mut x) = (L::default(), X::default());
        randomize(&mut layer, &mut rng);
        x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random::<f64>() * 2.0 - 1.0);
        let report = check_gradients(&mut layer, &x, &mut rng);
        let name = core::any::type_name::<L>();
        assert!(report.max_rel_error < 1e-6, "{name}: {report:?}");
        assert_eq!((report.inputs_checked, report.params_checked), (X::LEN, L::COUNT), "{name}");
        report.max_rel_error
    }
}
