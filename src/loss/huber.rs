//! Huber loss.

use num_traits::{Float, Zero};

use crate::loss::mse::n;
use crate::loss::{Loss, TargetError, check_values, same_decision};
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Huber loss: quadratic near the target, linear far from it.
/// With `d = y − t`: `½d²` for `|d| ≤ δ`, else `δ(|d| − ½δ)`, averaged over
/// the elements; `dL/dy = d/N` or `δ·sign(d)/N`. PyTorch's
/// `nn.HuberLoss(delta)`; the default δ is 1.
///
/// ```
/// use typenet::prelude::*;
/// let huber = Huber::default();
/// assert_eq!(huber.loss(&vector([0.5f32]), &vector([0.0])), 0.125);
/// assert_eq!(huber.loss(&vector([3.0f32]), &vector([0.0])), 2.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear.
    pub delta: f32,
}

impl Huber {
    /// Huber loss with the given δ.
    pub const fn new(delta: f32) -> Self {
        Huber { delta }
    }
}

impl Default for Huber {
    fn default() -> Self {
        Huber::new(1.0)
    }
}

impl<Y: Tensor> Loss<Y, Y> for Huber {
    fn loss(&self, y: &Y, t: &Y) -> Y::Scalar {
        let delta = Y::Scalar::from_f64(self.delta as f64);
        let half = Y::Scalar::from_f64(0.5);
        let sum = y.as_flat().iter().zip(t.as_flat()).fold(Y::Scalar::zero(), |s, (&y, &t)| {
            let d = (y - t).abs();
            s + if d <= delta { half * d * d } else { delta * (d - half * delta) }
        });
        sum / n::<Y>()
    }

    fn loss_grad(&self, y: &Y, t: &Y, grad: &mut Y) -> Y::Scalar {
        let delta = Y::Scalar::from_f64(self.delta as f64);
        let n = n::<Y>();
        for ((g, &y), &t) in grad.as_flat_mut().iter_mut().zip(y.as_flat()).zip(t.as_flat()) {
            let d = y - t;
            *g = d.max(-delta).min(delta) / n;
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
}
