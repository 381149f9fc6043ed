//! Binary cross-entropy, on probabilities and on logits.

use num_traits::{Float, One, Zero};

use crate::layers::activation::logistic;
use crate::loss::mse::n;
use crate::loss::{Loss, TargetError, check_values, same_decision};
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Binary cross-entropy on probabilities (a sigmoid output):
/// `L = −(1/N) Σ [tᵢ ln pᵢ + (1 − tᵢ) ln(1 − pᵢ)]`,
/// `dL/dpᵢ = (pᵢ − tᵢ) / (pᵢ(1 − pᵢ)) / N`. PyTorch's `nn.BCELoss()`.
///
/// Stable at the ends as PyTorch is: each logarithm is clamped at −100 and
/// the gradient's denominator at 1e-12, so `p = 0` or `p = 1` gives a large
/// finite loss, never `NaN`. Prefer [`BceWithLogits`] on logits, which needs
/// no clamping.
///
/// ```
/// use typenet::prelude::*;
/// let loss = Bce.loss(&vector([0.8f64]), &vector([1.0]));
/// assert!((loss + 0.8f64.ln()).abs() < 1e-15);
/// assert_eq!(Bce.loss(&vector([0.0f32]), &vector([1.0])), 100.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bce;

/// `ln x`, at least `floor` (PyTorch clamps BCE's logarithms at −100), with
/// NaN kept: `max` would turn a NaN probability into the floor and a NaN
/// input into a finite loss.
#[inline]
fn floored_ln<T: Scalar>(x: T, floor: T) -> T {
    let ln = x.ln();
    if ln < floor { floor } else { ln }
}

impl<Y: Tensor> Loss<Y, Y> for Bce {
    const CLASSIFIES: bool = true;

    fn loss(&self, p: &Y, t: &Y) -> Y::Scalar {
        let floor = Y::Scalar::from_f64(-100.0);
        let one = Y::Scalar::one();
        let sum = p.as_flat().iter().zip(t.as_flat()).fold(Y::Scalar::zero(), |s, (&p, &t)| {
            s - (t * floored_ln(p, floor) + (one - t) * floored_ln(one - p, floor))
        });
        sum / n::<Y>()
    }

    fn loss_grad(&self, p: &Y, t: &Y, grad: &mut Y) -> Y::Scalar {
        let eps = Y::Scalar::from_f64(1e-12);
        let n = n::<Y>();
        for ((g, &p), &t) in grad.as_flat_mut().iter_mut().zip(p.as_flat()).zip(t.as_flat()) {
            *g = (p - t) / (p * (Y::Scalar::one() - p)).max(eps) / n;
        }
        self.loss(p, t)
    }

    fn is_correct(&self, p: &Y, t: &Y) -> bool {
        same_decision(p.as_flat(), t.as_flat(), Y::Scalar::from_f64(0.5))
    }

    fn check_target(&self, t: &Y) -> Result<(), TargetError> {
        check_values(t.as_flat(), true)
    }
}

/// Binary cross-entropy on logits, fused with the sigmoid:
/// `L = (1/N) Σ [max(xᵢ, 0) − xᵢtᵢ + ln(1 + e^−|xᵢ|)]`,
/// `dL/dxᵢ = (σ(xᵢ) − tᵢ) / N`. PyTorch's `nn.BCEWithLogitsLoss()`.
///
/// Finite for every finite logit. Accuracy thresholds a single logit at 0.
///
/// ```
/// use typenet::prelude::*;
/// let loss = BceWithLogits.loss(&vector([0.0f64]), &vector([1.0]));
/// assert!((loss - core::f64::consts::LN_2).abs() < 1e-15);
/// assert_eq!(BceWithLogits.loss(&vector([-1e4f32]), &vector([1.0])), 1e4);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BceWithLogits;

impl<Y: Tensor> Loss<Y, Y> for BceWithLogits {
    const CLASSIFIES: bool = true;

    fn loss(&self, x: &Y, t: &Y) -> Y::Scalar {
        let sum = x
            .as_flat()
            .iter()
            .zip(t.as_flat())
            .fold(Y::Scalar::zero(), |s, (&x, &t)| s + x.max(Y::Scalar::zero()) - x * t + (-x.abs()).exp().ln_1p());
        sum / n::<Y>()
    }

    fn loss_grad(&self, x: &Y, t: &Y, grad: &mut Y) -> Y::Scalar {
        let n = n::<Y>();
        for ((g, &x), &t) in grad.as_flat_mut().iter_mut().zip(x.as_flat()).zip(t.as_flat()) {
            *g = (logistic(x) - t) / n;
        }
        self.loss(x, t)
    }

    fn is_correct(&self, x: &Y, t: &Y) -> bool {
        same_decision(x.as_flat(), t.as_flat(), Y::Scalar::zero())
    }

    fn check_target(&self, t: &Y) -> Result<(), TargetError> {
        check_values(t.as_flat(), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::tests::assert_grad;
    use crate::prelude::*;

    #[test]
    fn gradients_match_finite_differences() {
        let t = vector([1.0, 0.0, 0.25, 1.0]);
        assert_grad(&Bce, vector([0.3, 0.8, 0.5, 0.999]), &t);
        assert_grad(&BceWithLogits, vector([0.3, -2.0, 5.0, -0.7]), &t);
    }

    #[test]
    fn logits_and_probabilities_agree() {
        let x = vector([0.3f64, -2.0, 5.0, -0.7]);
        let p = Sigmoid.forward(&x);
        let t = vector([1.0, 0.0, 0.25, 1.0]);
        assert!((Bce.loss(&p, &t) - BceWithLogits.loss(&x, &t)).abs() < 1e-12);
    }

    #[test]
    fn targets_outside_the_unit_interval_are_refused() {
        assert_eq!(
            Loss::<Vector<f32, U2>, _>::check_target(&Bce, &vector([0.5, 1.5])),
            Err(TargetError::NotAProbability { index: 1, value: crate::Value::F32(1.5) })
        );
        assert_eq!(
            Loss::<Vector<f32, U1>, _>::check_target(&BceWithLogits, &vector([f32::NAN])),
            Err(TargetError::NonFinite { index: 0 })
        );
    }
}
