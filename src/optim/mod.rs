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

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::scalar::Scalar;

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

/// `base` to the power `n`, by repeated squaring: at most two
/// multiplications per bit of `n`.
///
/// Adam's bias corrections (`β₁ᵗ`, `β₂ᵗ`, every step) and the step and
/// exponential schedules raise to integer powers. `libm::pow` does that in
/// about 9,000 instructions on a core without a double-precision FPU (a
/// Cortex-M4F: more than Adam's whole update of a small network) and
/// brings 3 KB of code; this takes a few hundred. Each squaring doubles the
/// relative error so far, so it is at most about `n·ε`, and for
/// `0 ≤ base < 1` the absolute error stays below `ε/(1 − base)` for
/// every `n`: at most 10⁻¹³ for β₂ = 0.999.
fn powi(mut base: f64, mut n: u64) -> f64 {
    let mut result = 1.0;
    while n > 0 {
        if n & 1 == 1 {
            result *= base;
        }
        n >>= 1;
        if n > 0 {
            base *= base;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::powi;

    #[test]
    fn powi_agrees_with_pow_within_its_bound() {
        assert_eq!(powi(0.9, 0), 1.0);
        assert_eq!(powi(0.9, 1), 0.9);
        assert_eq!(powi(0.9, 2), 0.9 * 0.9);
        assert_eq!(powi(2.0, 10), 1024.0);
        assert_eq!(powi(0.5, 1100), 0.0);
        assert_eq!(powi(-1.5, 3), -3.375);
        for beta in [0.5, 0.9, 0.95, 0.99, 0.999, 0.9999] {
            let exponents = (0..3000).chain([10_000, 123_457, 1 << 20, u32::MAX as u64, u64::MAX]);
            for t in exponents {
                let (ours, pow) = (powi(beta, t), libm::pow(beta, t as f64));
                let bound = f64::EPSILON / (1.0 - beta);
                assert!((ours - pow).abs() <= bound, "{beta}^{t}: {ours} vs {pow}");
                if t <= 64 {
                    assert!((ours - pow).abs() <= 64.0 * f64::EPSILON * pow, "{beta}^{t}: {ours} vs {pow}");
                }
            }
        }
    }
}
