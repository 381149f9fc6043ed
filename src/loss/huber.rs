//! Huber loss.

use crate::loss::mse::n;
use crate::loss::{Loss, TargetError, check_values, same_decision};
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Huber loss: quadratic near the target, linear far from it.
/// With `d = y − t`: `½d²` for `|d| ≤ δ`, else `δ(|d| − ½δ)`, averaged over
/// the elements; `dL/dy = d/N` or `δ·sign(d)/N`. PyTorch's
/// `nn.HuberLoss(delta)`; the default δ is 1.
///
/// `T` is the scalar of the outputs it compares (`f32` unless given), in
/// which δ is stored: `Huber::<f64>::new(0.3)` computes with the `f64` 0.3,
/// as PyTorch's `float64` does. A NaN difference gives a NaN loss and a NaN
/// gradient.
///
/// ```
/// use typenet::prelude::*;
/// let huber = Huber::default();
/// assert_eq!(huber.loss(&vector([0.5f32]), &vector([0.0])), 0.125);
/// assert_eq!(huber.loss(&vector([3.0f32]), &vector([0.0])), 2.5);
/// assert_eq!(Huber::<f64>::new(0.3).loss(&vector([1.0]), &vector([0.0])), 0.3 * (1.0 - 0.15));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber<T: Scalar = f32> {
    /// Where the loss turns from quadratic to linear.
    pub delta: T,
}

impl<T: Scalar> Huber<T> {
    /// Huber loss with the given δ.
    pub const fn new(delta: T) -> Self {
        Huber { delta }
    }
}

impl<T: Scalar> Default for Huber<T> {
    fn default() -> Self {
        Huber::new(T::one())
    }
}

impl<T: Scalar, Y: Tensor<Scalar = T>> Loss<Y, Y> for Huber<T> {
    const CLASSIFIES: bool = false;

    fn loss(&self, y: &Y, t: &Y) -> T {
        let delta = self.delta;
        let half = T::from_f64(0.5);
        let sum = y.as_flat().iter().zip(t.as_flat()).fold(T::zero(), |s, (&y, &t)| {
            let d = (y - t).abs();
            s + if d <= delta { half * d * d } else { delta * (d - half * delta) }
        });
        sum / n::<Y>()
    }

    fn loss_grad(&self, y: &Y, t: &Y, grad: &mut Y) -> T {
        let delta = self.delta;
        let n = n::<Y>();
        for ((g, &y), &t) in grad.as_flat_mut().iter_mut().zip(y.as_flat()).zip(t.as_flat()) {
            let d = y - t;
            // Compared rather than `max`/`min`, which would turn a NaN into ±δ.
            let clipped = if d < -delta {
                -delta
            } else if d > delta {
                delta
            } else {
                d
            };
            *g = clipped / n;
        }
        self.loss(y, t)
    }

    fn is_correct(&self, y: &Y, t: &Y) -> bool {
        same_decision(y.as_flat(), t.as_flat(), Y::Scalar::from_f64(0.5))
    }

    fn check_target(&self, t: &Y) -> Result<(), TargetError> {
        check_values(t.as_flat(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::tests::assert_grad;
    use crate::prelude::*;

    #[test]
    fn gradient_matches_finite_differences_on_both_branches() {
        assert_grad(&Huber::new(0.8), vector([0.3, -1.2, 2.0, 0.0]), &vector([1.0, 0.0, 2.5, -0.5]));
    }

    /// A NaN output gives a NaN gradient, as in PyTorch, not a clipped ±δ.
    #[test]
    fn a_nan_difference_stays_nan() {
        let mut grad = vector([0.0f32; 2]);
        let loss = Huber::default().loss_grad(&vector([f32::NAN, 3.0]), &vector([0.0, 0.0]), &mut grad);
        assert!(loss.is_nan() && grad[0].is_nan(), "{loss} {grad:?}");
        assert_eq!(grad[1], 0.5);
    }
}
