//! Mean squared error.

use num_traits::Zero;

use crate::loss::{Loss, TargetError, check_values, same_decision};
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Mean squared error, `L = (1/N) Σ (yᵢ − tᵢ)²`; `dL/dyᵢ = 2(yᵢ − tᵢ)/N`.
/// PyTorch's `nn.MSELoss()`.
///
/// Accuracy: a single output is correct on the target's side of 0.5, several
/// outputs when their argmax is the target's.
///
/// ```
/// use typenet::prelude::*;
/// let loss = Mse.loss(&vector([1.0f32, 3.0]), &vector([0.0, 1.0]));
/// assert_eq!(loss, (1.0 + 4.0) / 2.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mse;

impl<Y: Tensor> Loss<Y, Y> for Mse {
    const CLASSIFIES: bool = false;

    fn loss(&self, y: &Y, t: &Y) -> Y::Scalar {
        let sum = y.as_flat().iter().zip(t.as_flat()).fold(Y::Scalar::zero(), |s, (&y, &t)| s + (y - t) * (y - t));
        sum / n::<Y>()
    }

    fn loss_grad(&self, y: &Y, t: &Y, grad: &mut Y) -> Y::Scalar {
        let scale = Y::Scalar::from_f64(2.0) / n::<Y>();
        for ((g, &y), &t) in grad.as_flat_mut().iter_mut().zip(y.as_flat()).zip(t.as_flat()) {
            *g = (y - t) * scale;
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

/// The number of elements of `Y` as a scalar.
pub(super) fn n<Y: Tensor>() -> Y::Scalar {
    Y::Scalar::from_f64(Y::LEN as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::tests::assert_grad;
    use crate::prelude::*;

    #[test]
    fn gradient_matches_finite_differences() {
        assert_grad(&Mse, vector([0.3, -1.2, 2.0, 0.0]), &vector([1.0, 0.0, 2.5, -0.5]));
    }

    #[test]
    fn accuracy_thresholds_one_output_and_argmaxes_several() {
        assert!(Mse.is_correct(&vector([0.7f32]), &vector([1.0])));
        assert!(!Mse.is_correct(&vector([0.3f32]), &vector([1.0])));
        assert!(Mse.is_correct(&vector([0.1f32, 0.8, 0.3]), &vector([0.0, 1.0, 0.0])));
    }
}
