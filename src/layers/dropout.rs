//! `Dropout`: randomly zeroes inputs during training.

use rand::{Rng, RngExt};

use crate::layer::{Layer, Train};
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Inverted dropout: in training, each element is zeroed with probability
/// `rate` and the survivors are scaled by `1/(1 − rate)`, so inference needs
/// no rescaling and is the identity. PyTorch's `nn.Dropout(p=rate)`.
///
/// Takes any tensor of `T`, the network's scalar (`f32` unless given), in
/// which the rate is stored and the scale computed: an `f64` network writes
/// `Dropout<f64>` and keeps PyTorch's `float64` scale (`1/0.7`, not the
/// `f32` one). The mask is drawn from the `rng` handed to `forward_train`
/// (one `f32` uniform draw per element, whatever `T`), so a seeded run
/// draws the same masks every time; the cache holds the mask's scale
/// factors (0 or `1/(1 − rate)`), which the backward pass multiplies into
/// the gradient. A rate below 0 (or NaN) acts as 0, one above 1 as 1.
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
pub struct Dropout<T: Scalar = f32> {
    /// The probability of zeroing an element, in [0, 1] (a value outside
    /// acts as the nearest end, NaN as 0).
    pub rate: T,
}

impl<T: Scalar> Dropout<T> {
    /// Dropout zeroing each element with probability `rate`.
    pub const fn new(rate: T) -> Self {
        Dropout { rate }
    }

    /// The rate in [0, 1]: below 0 or NaN gives 0, above 1 gives 1.
    #[inline]
    fn probability(&self) -> T {
        if self.rate > T::zero() { self.rate.min(T::one()) } else { T::zero() }
    }
}

crate::params!(impl[T: Scalar] Params for Dropout<T> { rate: T = T::HALF });

impl<T: Scalar, X: Tensor<Scalar = T>> Layer<X> for Dropout<T> {
    type Output = X;
    fn forward(&self, x: &X) -> X {
        x.clone()
    }
}

impl<T: Scalar, X: Tensor<Scalar = T>> Train<X> for Dropout<T> {
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
        let rate = self.probability();
        let keep = if rate < T::one() { T::one() / (T::one() - rate) } else { T::zero() };
        for ((x, mask), y) in inputs.into_iter().zip(masks).zip(outputs).take(n) {
            for m in mask.as_flat_mut() {
                *m = if T::from_f32(rng.random::<f32>()) < rate { T::zero() } else { keep };
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
        // Outside [0, 1]: the nearest end; NaN: no dropout.
        assert_eq!(Dropout::new(7.0).forward_train(&x, &mut mask, &mut rng).as_slice(), &[0.0; 3]);
        assert_eq!(Dropout::new(-2.0).forward_train(&x, &mut mask, &mut rng), x);
        assert_eq!(Dropout::new(f32::NAN).forward_train(&x, &mut mask, &mut rng), x);
    }

    /// The scale is computed in the layer's scalar: `1/0.7` in `f64`, not
    /// the `f32` 1.4285714528998554 (the issue's case).
    #[test]
    fn an_f64_dropout_keeps_the_f64_scale() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
        let x: Vector<f64, U64> = GenericArray::from_array([1.0; 64]);
        let mut mask = Default::default();
        let y = Dropout::new(0.3).forward_train(&x, &mut mask, &mut rng);
        assert!(y.contains(&0.0));
        assert!(y.iter().all(|&v| v == 0.0 || v == 1.0 / 0.7), "{y:?}");
    }

    /// An `f32` dropout draws the masks it drew before the scalar became a
    /// parameter: the seeded runs of `f32` models are unchanged.
    #[test]
    fn f32_masks_are_the_draws_against_the_f32_rate() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
        let x: Vector<f32, U64> = GenericArray::from_array([1.0; 64]);
        let mut mask = Default::default();
        let y = Dropout::new(0.3f32).forward_train(&x, &mut mask, &mut rng);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
        for v in y {
            let kept = rng.random::<f32>() >= 0.3f32;
            assert_eq!(v, if kept { (1.0 / (1.0 - 0.3f32 as f64)) as f32 } else { 0.0 });
        }
    }
}
