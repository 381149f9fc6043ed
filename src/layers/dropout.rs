//! `Dropout`: randomly zeroes inputs during training.

use num_traits::Zero;
use rand::{Rng, RngExt};

use crate::layer::{Layer, Train};
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Inverted dropout: in training, each element is zeroed with probability
/// `rate` and the survivors are scaled by `1/(1 − rate)`, so inference needs
/// no rescaling and is the identity. PyTorch's `nn.Dropout(p=rate)`.
///
/// Takes any tensor. The mask is drawn from the `rng` handed to
/// `forward_train`, so a seeded run draws the same masks every time; the
/// cache holds the mask's scale factors (0 or `1/(1 − rate)`), which the
/// backward pass multiplies into the gradient.
///
/// ```
/// use typenet::prelude::*;
///
/// let dropout = Dropout::new(0.5);
/// let x = vector([1.0f32; 8]);
/// assert_eq!(dropout.forward(&x), x); // inference: identity
///
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
/// let mut mask = Default::default();
/// let y = dropout.forward_train(&x, &mut mask, &mut rng);
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    /// The probability of zeroing an element, in [0, 1].
    pub rate: f32,
}

impl Dropout {
    /// Dropout zeroing each element with probability `rate` (clamped to
    /// [0, 1]).
    pub const fn new(rate: f32) -> Self {
        Dropout { rate: rate.clamp(0.0, 1.0) }
    }
}

crate::params!(impl[] Params for Dropout { rate: f32 = 0.5 });

impl<X: Tensor> Layer<X> for Dropout {
    type Output = X;
    fn forward(&self, x: &X) -> X {
        x.clone()
    }
}

impl<X: Tensor> Train<X> for Dropout {
    type Cache = X;

    /// Draws each sample's mask into its cache, in order, and applies it.
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        masks: [&mut X; B],
        outputs: [&mut X; B],
        rng: &mut R,
    ) {
        let keep = X::Scalar::from_f64(if self.rate < 1.0 { 1.0 / (1.0 - self.rate as f64) } else { 0.0 });
        for ((x, mask), y) in inputs.into_iter().zip(masks).zip(outputs).take(n) {
            for m in mask.as_flat_mut() {
                *m = if rng.random::<f32>() < self.rate { X::Scalar::zero() } else { keep };
            }
            for ((y, &x), &m) in y.as_flat_mut().iter_mut().zip(x.as_flat()).zip(mask.as_flat()) {
                *y = x * m;
            }
        }
    }

    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&X; B],
        masks: [&mut X; B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        let Some(grad_inputs) = grad_inputs else { return };
        for ((mask, dy), dx) in masks.into_iter().zip(grad_outputs).zip(grad_inputs).take(n) {
            for ((d, &di), &m) in dx.as_flat_mut().iter_mut().zip(dy.as_flat()).zip(mask.as_flat()) {
                *d = di * m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_gradients;
    use crate::prelude::*;

    #[test]
    fn gradient_check_with_a_fixed_mask() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let x = vector([0.5, -1.0, 2.0, 0.1, -0.3, 1.7]);
        let report = check_gradients(&mut Dropout::new(0.4), &x, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
        assert_eq!(report.inputs_checked, 6);
    }

    #[test]
    fn drops_the_stated_fraction_and_keeps_the_mean() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(10);
        let x: Vector<f64, U1024> = GenericArray::from_array([1.0; 1024]);
        let mut mask = Default::default();
        let y = Dropout::new(0.3).forward_train(&x, &mut mask, &mut rng);
        let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / 1024.0;
        let mean = y.iter().sum::<f64>() / 1024.0;
        assert!((dropped - 0.3).abs() < 0.05, "{dropped}");
        assert!((mean - 1.0).abs() < 0.08, "{mean}");
    }

    #[test]
    fn extreme_rates() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let x = vector([1.0f32, 2.0, 3.0]);
        let mut mask = Default::default();
        assert_eq!(Dropout::new(0.0).forward_train(&x, &mut mask, &mut rng), x);
        assert_eq!(Dropout::new(1.0).forward_train(&x, &mut mask, &mut rng).as_slice(), &[0.0; 3]);
        assert_eq!(Dropout::new(7.0).rate, 1.0);
    }
}
