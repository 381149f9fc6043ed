//! Costs: the loss of one sample, its gradient with respect to the
//! network's output, and whether the output counts as correct.
//!
//! | cost | output | target | PyTorch |
//! | --- | --- | --- | --- |
//! | [`Mse`] | any tensor | same tensor | `nn.MSELoss()` |
//! | [`Huber`] | any tensor | same tensor | `nn.HuberLoss(delta)` |
//! | [`Bce`] | probabilities | same tensor, in [0, 1] | `nn.BCELoss()` |
//! | [`BceWithLogits`] | logits | same tensor, in [0, 1] | `nn.BCEWithLogitsLoss()` |
//! | [`SoftmaxCrossEntropy`] | logits (vector) | class index `usize`, or a probability vector | `nn.CrossEntropyLoss()` |
//!
//! Every cost averages over the output's elements as PyTorch's `mean`
//! reduction does (cross-entropy sums over classes and so is per sample);
//! the trainer then averages over the mini-batch, so a batch's loss equals
//! PyTorch's for the same batch.
//!
//! A classifier's output means what its cost says: [`Probabilities`] gives
//! the class probabilities and the predicted class under
//! [`SoftmaxCrossEntropy`], [`BceWithLogits`] and [`Bce`], which
//! [`metrics`](crate::metrics) builds on.
//!
//! ```
//! use typenet::prelude::*;
//!
//! let logits = vector([2.0f64, 0.5, -1.0]);
//! let mut grad = Vector::<f64, U3>::default();
//! let loss = SoftmaxCrossEntropy.loss_grad(&logits, &0, &mut grad);
//! assert!((loss - 0.2413).abs() < 1e-4);
//! assert!(grad.iter().sum::<f64>().abs() < 1e-15); // softmax − one-hot sums to 0
//! assert!(SoftmaxCrossEntropy.is_correct(&logits, &0));
//! ```

mod bce;
mod cross_entropy;
mod huber;
mod mse;
mod probabilities;

pub use bce::{Bce, BceWithLogits};
pub use cross_entropy::SoftmaxCrossEntropy;
#[doc(hidden)]
pub use cross_entropy::softmax_xent_portable;
pub use huber::Huber;
pub use mse::Mse;
pub use probabilities::{BinaryClasses, Probabilities};

use core::fmt;

use crate::scalar::{Scalar, Value};
use crate::shape::Tensor;

/// A cost comparing an output `Y` with a target of type `Target`.
#[diagnostic::on_unimplemented(
    message = "the cost `{Self}` cannot compare output `{Y}` with target `{Target}`",
    note = "regression costs take a target of the output's type; SoftmaxCrossEntropy takes a class index (usize) or a probability vector"
)]
pub trait Loss<Y: Tensor, Target> {
    /// Whether the cost classifies: its outputs are class scores or
    /// probabilities, so [`is_correct`](Self::is_correct) means something
    /// and training and [`evaluate`](crate::train::evaluate) report an
    /// accuracy (`Metrics::accuracy` is `Some`). `true` for [`Bce`],
    /// [`BceWithLogits`] and [`SoftmaxCrossEntropy`]; `false` for the
    /// regression costs [`Mse`] and [`Huber`], whose metrics have no
    /// accuracy (`None`), even on 0/1 targets: a regressor's "accuracy"
    /// would only say which side of 0.5 it fell on.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// assert!(<SoftmaxCrossEntropy as Loss<Vector<f32, U3>, usize>>::CLASSIFIES);
    /// assert!(!<Mse as Loss<Vector<f32, U1>, Vector<f32, U1>>>::CLASSIFIES);
    /// ```
    const CLASSIFIES: bool;

    /// The loss of one sample.
    fn loss(&self, output: &Y, target: &Target) -> Y::Scalar;

    /// The loss of one sample; writes dL/dy into `grad`.
    fn loss_grad(&self, output: &Y, target: &Target, grad: &mut Y) -> Y::Scalar;

    /// Whether `output` counts as a correct prediction of `target`, for
    /// accuracy: the largest output is the target class, or, for a single
    /// output, it falls on the target's side of the decision threshold.
    /// Training and [`evaluate`](crate::train::evaluate) ask only when
    /// [`CLASSIFIES`](Self::CLASSIFIES).
    fn is_correct(&self, output: &Y, target: &Target) -> bool;

    /// Checks a target before training, so bad data is an error rather than
    /// a `NaN` loss.
    fn check_target(&self, target: &Target) -> Result<(), TargetError> {
        let _ = target;
        Ok(())
    }
}

/// What is wrong with a target.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TargetError {
    /// A class index at or past the number of classes.
    ClassOutOfRange {
        /// The class given.
        class: usize,
        /// The number of classes the output has.
        classes: usize,
    },
    /// A probability target outside [0, 1].
    NotAProbability {
        /// Its flat index within the target.
        index: usize,
        /// Its value, in the type it had.
        value: Value,
    },
    /// A target value that is `NaN` or infinite.
    NonFinite {
        /// Its flat index within the target.
        index: usize,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TargetError::ClassOutOfRange { class, classes } => {
                write!(f, "class {class} is out of range for {classes} classes")
            }
            TargetError::NotAProbability { index, value } => {
                write!(f, "target value {value} at index {index} is not a probability in [0, 1]")
            }
            TargetError::NonFinite { index } => write!(f, "target value at index {index} is not finite"),
        }
    }
}

/// The index of the largest value (the first, on ties), or 0 if empty.
pub fn argmax<T: Scalar>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Accuracy rule shared by the regression-style costs: for one output,
/// both sides of `threshold` (target at 0.5); for several, the same argmax.
fn same_decision<T: Scalar>(output: &[T], target: &[T], threshold: T) -> bool {
    if output.len() == 1 {
        (output[0] > threshold) == (target[0] > T::from_f64(0.5))
    } else {
        argmax(output) == argmax(target)
    }
}

/// Checks every target value is finite and, when `unit`, in [0, 1].
fn check_values<T: Scalar>(target: &[T], unit: bool) -> Result<(), TargetError> {
    for (index, &t) in target.iter().enumerate() {
        if !t.is_finite() {
            return Err(TargetError::NonFinite { index });
        }
        if unit && !(T::zero()..=T::one()).contains(&t) {
            return Err(TargetError::NotAProbability { index, value: t.value() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// dL/dy from `loss_grad` against central differences of `loss`.
    pub(super) fn assert_grad<L: Loss<Vector<f64, U4>, Y>, Y>(cost: &L, y: Vector<f64, U4>, target: &Y) {
        let mut grad = Vector::<f64, U4>::default();
        let loss = cost.loss_grad(&y, target, &mut grad);
        assert_eq!(loss, cost.loss(&y, target));
        for k in 0..4 {
            let (mut plus, mut minus) = (y, y);
            plus[k] += 1e-6;
            minus[k] -= 1e-6;
            let numeric = (cost.loss(&plus, target) - cost.loss(&minus, target)) / 2e-6;
            let error = (grad[k] - numeric).abs() / grad[k].abs().max(numeric.abs()).max(1e-2);
            assert!(error < 1e-6, "{}: d/dy[{k}] {} vs {numeric}", core::any::type_name::<L>(), grad[k]);
        }
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0f32, 3.0, 3.0, -1.0]), 1);
        assert_eq!(argmax::<f32>(&[]), 0);
    }
}
