//! Softmax cross-entropy, fused on logits.

use generic_array::ArrayLength;

use crate::loss::{Loss, TargetError, argmax, check_values};
use crate::scalar::Scalar;
use crate::shape::Vector;

/// Softmax cross-entropy on logits: `L = ln Σⱼ e^(xⱼ) − x_c` for class `c`,
/// `dL/dx = softmax(x) − onehot(c)`. PyTorch's `nn.CrossEntropyLoss()`.
///
/// Targets are a class index (`usize`) or a probability vector `t`
/// (`L = −Σ tⱼ log_softmax(x)ⱼ`, `dL/dx = softmax(x)·Σt − t`), as PyTorch
/// accepts both. The log-sum-exp subtracts the largest logit first, so no
/// exponential overflows. Accuracy: the largest logit is the target class.
///
/// ```
/// use typenet::prelude::*;
/// let loss = SoftmaxCrossEntropy.loss(&vector([1.0f64, 1.0]), &1);
/// assert!((loss - core::f64::consts::LN_2).abs() < 1e-15);
/// let soft = SoftmaxCrossEntropy.loss(&vector([1.0f64, 1.0]), &vector([0.0, 1.0]));
/// assert_eq!(loss, soft);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SoftmaxCrossEntropy;

/// Folds `values` with `op` pairwise in eight lanes (`pad` fills the
/// lanes past the end), so the work spreads over a vector register instead
/// of one long chain.
#[inline(always)]
fn tree<T: Scalar>(values: &[T], pad: T, op: impl Fn(T, T) -> T) -> T {
    let mut lanes = [pad; 8];
    for chunk in values.chunks(8) {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l = op(*l, v);
        }
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    op(op(op(a, e), op(c, g)), op(op(b, f), op(d, h)))
}

/// `ln Σ e^x`, computed as `max + ln Σ e^(x − max)`.
fn log_sum_exp<T: Scalar, N: ArrayLength>(x: &Vector<T, N>) -> T {
    let mut e = Vector::<T, N>::default();
    let m = tree(x, T::neg_infinity(), T::max);
    for (e, &xi) in e.iter_mut().zip(x.iter()) {
        *e = xi - m;
    }
    T::exp_in_place(&mut e);
    m + tree(&e, T::zero(), |a, b| a + b).ln()
}

/// Softmax cross-entropy for `class < x.len()`, on every target: one
/// exponential per logit, `e = exp(x − max)`, softmax `e / Σe`, loss
/// `max + ln Σe − x_c`.
#[doc(hidden)]
#[inline(always)]
pub fn softmax_xent_portable<T: Scalar>(x: &[T], class: usize, grad: &mut [T]) -> T {
    let m = tree(x, T::neg_infinity(), T::max);
    for (e, &xi) in grad.iter_mut().zip(x) {
        *e = xi - m;
    }
    T::exp_in_place(grad);
    let sum = tree(grad, T::zero(), |a, b| a + b);
    let inv = T::one() / sum;
    for g in grad.iter_mut() {
        *g = *g * inv;
    }
    grad[class] = grad[class] - T::one();
    m + sum.ln() - x[class]
}

impl<T: Scalar, N: ArrayLength> Loss<Vector<T, N>, usize> for SoftmaxCrossEntropy {
    const CLASSIFIES: bool = true;

    /// `NaN` for a class out of range; [`check_target`](Loss::check_target)
    /// catches that first in the trainer. The same arithmetic as
    /// [`loss_grad`](Loss::loss_grad), so both give the same bits.
    fn loss(&self, x: &Vector<T, N>, class: &usize) -> T {
        self.loss_grad(x, class, &mut Vector::default())
    }

    /// One exponential per logit: `e = exp(x − max)`, softmax `e / Σe`,
    /// loss `max + ln Σe − x_c` (in one AVX-512 register for up to 16
    /// classes in `f32` where the CPU has it).
    #[inline(always)]
    fn loss_grad(&self, x: &Vector<T, N>, &class: &usize, grad: &mut Vector<T, N>) -> T {
        if class >= N::USIZE {
            grad.iter_mut().for_each(|g| *g = T::nan());
            return T::nan();
        }
        if let Some(loss) = T::softmax_xent(x, class, grad) {
            return loss;
        }
        softmax_xent_portable(x, class, grad)
    }

    fn is_correct(&self, x: &Vector<T, N>, &class: &usize) -> bool {
        argmax(x) == class
    }

    fn check_target(&self, &class: &usize) -> Result<(), TargetError> {
        if class < N::USIZE { Ok(()) } else { Err(TargetError::ClassOutOfRange { class, classes: N::USIZE }) }
    }
}

impl<T: Scalar, N: ArrayLength> Loss<Vector<T, N>, Vector<T, N>> for SoftmaxCrossEntropy {
    const CLASSIFIES: bool = true;

    fn loss(&self, x: &Vector<T, N>, t: &Vector<T, N>) -> T {
        let lse = log_sum_exp(x);
        x.iter().zip(t.iter()).fold(T::zero(), |s, (&xi, &ti)| s - ti * (xi - lse))
    }

    fn loss_grad(&self, x: &Vector<T, N>, t: &Vector<T, N>, grad: &mut Vector<T, N>) -> T {
        let lse = log_sum_exp(x);
        let mass = t.iter().fold(T::zero(), |s, &ti| s + ti);
        for ((g, &xi), &ti) in grad.iter_mut().zip(x.iter()).zip(t.iter()) {
            *g = (xi - lse).exp() * mass - ti;
        }
        self.loss(x, t)
    }

    fn is_correct(&self, x: &Vector<T, N>, t: &Vector<T, N>) -> bool {
        argmax(x) == argmax(t)
    }

    fn check_target(&self, t: &Vector<T, N>) -> Result<(), TargetError> {
        check_values(t, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::tests::assert_grad;
    use crate::prelude::*;

    #[test]
    fn gradients_match_finite_differences() {
        assert_grad(&SoftmaxCrossEntropy, vector([0.3, -1.2, 2.0, 0.0]), &2);
        assert_grad(&SoftmaxCrossEntropy, vector([0.3, -1.2, 2.0, 0.0]), &vector([0.1, 0.2, 0.6, 0.1]));
    }

    #[test]
    fn matches_pytorch() {
        // torch.nn.functional.cross_entropy(torch.tensor([[2.0, 0.5, -1.0]], dtype=torch.float64),
        //                                   torch.tensor([0]))
        let loss = SoftmaxCrossEntropy.loss(&vector([2.0f64, 0.5, -1.0]), &0);
        assert!((loss - 0.241_311_296_657_157_03).abs() < 1e-15, "{loss}");
    }

    #[test]
    fn stable_for_huge_logits() {
        let mut grad = Vector::<f32, U3>::default();
        let loss = SoftmaxCrossEntropy.loss_grad(&vector([1e4f32, 0.0, -1e4]), &1, &mut grad);
        assert_eq!(loss, 1e4);
        assert_eq!(grad.as_slice(), &[1.0, -1.0, 0.0]);
    }

    #[test]
    fn out_of_range_classes_are_refused() {
        let check = Loss::<Vector<f32, U3>, usize>::check_target(&SoftmaxCrossEntropy, &3);
        assert_eq!(check, Err(TargetError::ClassOutOfRange { class: 3, classes: 3 }));
        assert!(SoftmaxCrossEntropy.loss(&vector([0.0f32; 3]), &3).is_nan());
    }
}
