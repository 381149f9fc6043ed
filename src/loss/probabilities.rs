//! What a classifier's output means: its class probabilities and the class
//! it predicts, which depend on the cost it was trained with.

use generic_array::ArrayLength;
use typenum::{Max, Maximum, U2};

use crate::layer::Layer;
use crate::layers::activation::{Softmax, logistic};
use crate::loss::{Bce, BceWithLogits, SoftmaxCrossEntropy, argmax};
use crate::scalar::Scalar;
use crate::shape::Vector;

/// The class probabilities and the predicted class of a classifier's
/// output, as the cost it was trained with reads that output.
///
/// | cost | output | probabilities | class |
/// | --- | --- | --- | --- |
/// | [`SoftmaxCrossEntropy`] | `N` logits | softmax | the largest logit |
/// | [`BceWithLogits`] | one logit | its sigmoid, `P(class 1)` | 1 if the logit is above 0 |
/// | [`Bce`] | one probability | itself, `P(class 1)` | 1 if it is above 0.5 |
///
/// With several outputs the two binary costs read them one-vs-rest: each
/// output's probability on its own (they need not sum to 1) and the class of
/// the largest. The class is the one the cost's
/// [`is_correct`](crate::loss::Loss::is_correct) counts, so a confusion
/// matrix's accuracy is the trainer's. Ties go to the first class, as
/// NumPy's `argmax`; a probability of exactly 0.5 (a logit of 0) is class 0,
/// as scikit-learn thresholds (`p > 0.5`).
///
/// Regression costs ([`Mse`](crate::loss::Mse), [`Huber`](crate::loss::Huber))
/// do not implement it: their output is the prediction.
///
/// ```
/// use typenet::prelude::*;
///
/// let logits = vector([2.0f64, 0.0, -1.0]);
/// let p = SoftmaxCrossEntropy.probabilities(&logits);
/// assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
/// assert_eq!(SoftmaxCrossEntropy.class(&logits), 0);
///
/// assert_eq!(BceWithLogits.probabilities(&vector([0.0f32])), vector([0.5]));
/// assert_eq!(BceWithLogits.class(&vector([0.3f32])), 1);
/// assert_eq!(Bce.class(&vector([0.3f32])), 0);
/// ```
#[diagnostic::on_unimplemented(
    message = "the cost `{Self}` does not say what the output `{Y}` means as class probabilities",
    note = "classifiers are trained with SoftmaxCrossEntropy (logits), BceWithLogits (logits) or Bce (probabilities); a regression cost's output is the prediction itself"
)]
pub trait Probabilities<Y> {
    /// The number of classes the output tells apart: `N` for `N` softmax
    /// logits, 2 for a single sigmoid output.
    type Classes: ArrayLength;

    /// The class probabilities of `output`, in the output's shape (for a
    /// single binary output, the probability of class 1).
    fn probabilities(&self, output: &Y) -> Y;

    /// The predicted class, below `Classes::USIZE`.
    fn class(&self, output: &Y) -> usize;
}

/// The number of classes that `N` one-vs-rest sigmoid outputs tell apart:
/// 2 for one output, `N` for several. A shape rule with one blanket impl.
pub trait BinaryClasses: ArrayLength {
    /// `max(N, 2)`.
    type Classes: ArrayLength;
}

impl<N: ArrayLength + Max<U2, Output: ArrayLength>> BinaryClasses for N {
    type Classes = Maximum<N, U2>;
}

/// The class of one-vs-rest outputs: one output above `threshold` is 1,
/// otherwise the largest.
fn binary_class<T: Scalar>(output: &[T], threshold: T) -> usize {
    match output {
        [one] => usize::from(*one > threshold),
        _ => argmax(output),
    }
}

impl<T: Scalar, N: ArrayLength> Probabilities<Vector<T, N>> for SoftmaxCrossEntropy {
    type Classes = N;

    /// The softmax, `pᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)` with `m = max x`
    /// (the [`Softmax`] layer's).
    fn probabilities(&self, logits: &Vector<T, N>) -> Vector<T, N> {
        Softmax.forward(logits)
    }

    fn class(&self, logits: &Vector<T, N>) -> usize {
        argmax(logits)
    }
}

impl<T: Scalar, N: BinaryClasses> Probabilities<Vector<T, N>> for BceWithLogits {
    type Classes = N::Classes;

    /// The sigmoid of each logit, computed without overflow.
    fn probabilities(&self, logits: &Vector<T, N>) -> Vector<T, N> {
        logits.iter().map(|&x| logistic(x)).collect()
    }

    fn class(&self, logits: &Vector<T, N>) -> usize {
        binary_class(logits, T::zero())
    }
}

impl<T: Scalar, N: BinaryClasses> Probabilities<Vector<T, N>> for Bce {
    type Classes = N::Classes;

    /// The output itself: a `Bce` model ends in a sigmoid.
    fn probabilities(&self, p: &Vector<T, N>) -> Vector<T, N> {
        p.clone()
    }

    fn class(&self, p: &Vector<T, N>) -> usize {
        binary_class(p, T::from_f64(0.5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Loss;
    use crate::prelude::*;

    #[test]
    fn classes_are_two_for_one_binary_output() {
        typenum::assert_type_eq!(<BceWithLogits as Probabilities<Vector<f32, U1>>>::Classes, U2);
        typenum::assert_type_eq!(<Bce as Probabilities<Vector<f32, U3>>>::Classes, U3);
        typenum::assert_type_eq!(<SoftmaxCrossEntropy as Probabilities<Vector<f32, U10>>>::Classes, U10);
    }

    #[test]
    fn the_class_is_the_one_is_correct_counts() {
        for x in [-2.0f64, -1e-9, 0.0, 1e-9, 0.5, 3.0] {
            let logit = vector([x]);
            let p = BceWithLogits.probabilities(&logit);
            for class in 0..2 {
                let target = vector([class as f64]);
                let chosen = BceWithLogits.class(&logit) == class;
                assert_eq!(BceWithLogits.is_correct(&logit, &target), chosen, "logit {x}");
                assert_eq!(Bce.is_correct(&p, &target), Bce.class(&p) == class, "p {p:?}");
            }
        }
        let logits = vector([0.5f32, 2.0, 2.0, -1.0]);
        assert_eq!(SoftmaxCrossEntropy.class(&logits), 1);
        assert!(SoftmaxCrossEntropy.is_correct(&logits, &1));
    }

    #[test]
    fn probabilities_are_finite_for_huge_logits() {
        let p = SoftmaxCrossEntropy.probabilities(&vector([1e4f32, 0.0, -1e4]));
        assert_eq!(p.as_slice(), &[1.0, 0.0, 0.0]);
        let p = BceWithLogits.probabilities(&vector([1e4f32, -1e4]));
        assert_eq!(p.as_slice(), &[1.0, 0.0]);
    }
}
