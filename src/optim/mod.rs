//! Optimisers and learning-rate schedules.
//!
//! An optimiser holds its hyperparameters; its state (momentum, Adam's
//! moments) has the shape of the gradients, a fixed-size value the trainer
//! keeps beside them. Every update follows PyTorch's `torch.optim` formulas,
//! and the tests check them against values computed by PyTorch.
//!
//! | optimiser | state | PyTorch |
//! | --- | --- | --- |
//! | [`Sgd`] | none | `SGD(lr, weight_decay)` |
//! | [`Momentum`] | velocity | `SGD(lr, momentum, nesterov, weight_decay)` |
//! | [`Adam`] | two moments and a step count | `Adam(lr, betas, eps, weight_decay)` and `AdamW` |
//! | [`RmsProp`] | squared-gradient average | `RMSprop(lr, alpha, eps, weight_decay)` |
//!
//! ```
//! use typenet::prelude::*;
//!
//! let mut dense = Dense::<U1, U1, f64>::new(matrix([[1.0]]), vector([0.0]));
//! let mut grads = Dense::new(matrix([[0.5]]), vector([-1.0]));
//! let adam = Adam::new(0.1);
//! let mut state = Default::default();
//! adam.step(&mut dense, &mut grads, &mut state, adam.learning_rate());
//! // Adam's first step moves each parameter by lr against its gradient's sign.
//! assert!((dense.weight[0][0] - 0.9).abs() < 1e-7); // up to ε = 1e-8
//! assert!((dense.bias[0] - 0.1).abs() < 1e-7);
//! ```

mod adam;
mod rmsprop;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamState};
pub use rmsprop::{RmsProp, RmsPropState};
pub use schedule::Schedule;
pub use sgd::{Momentum, MomentumState, Sgd};

use crate::Scalar;
use crate::layer::Params;
use crate::memory::Zeroable;

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// The state kept between steps for gradients of type `G`.
    type State<G: Zeroable + Default>: Zeroable + Default;

    /// The base learning rate (a [`Schedule`] scales it per epoch).
    fn learning_rate(&self) -> f64;

    /// One update of `params` with `grads` at learning rate `lr`.
    fn step<T: Scalar, P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut Self::State<P::Grads>,
        lr: f64,
    );
}

/// `g + wd·p`: PyTorch's coupled weight decay (an L2 penalty of `wd/2·p²`).
#[inline]
fn decayed<T: Scalar>(g: T, p: T, weight_decay: T) -> T {
    g + weight_decay * p
}

#[inline]
fn c<T: Scalar>(x: f64) -> T {
    T::from_f64(x)
}
