//! Layer normalisation: [`LayerNorm`], PyTorch's `nn.LayerNorm`, over the
//! last dimension or the last two or three, and the shape rules
//! [`NormShape`] (which shapes can be normalised) and [`NormalisedOver`]
//! (which inputs end with that shape).
//!
//! ```
//! use typenet::prelude::*;
//!
//! // Over the last dimension: each row of a 3×4 matrix on its own.
//! let norm = LayerNorm::<U4, f64>::new();
//! let y = norm.forward(&matrix([[1.0, 2.0, 3.0, 4.0], [0.0; 4], [-2.0, 2.0, -2.0, 2.0]]));
//! let sigma = (1.25f64 + 1e-5).sqrt(); // row 0: mean 2.5, biased variance 1.25
//! assert!((y[0][3] - 1.5 / sigma).abs() < 1e-15);
//! assert_eq!(y[1].as_slice(), &[0.0; 4]); // a constant row: eps keeps it finite
//!
//! // Over a whole `[C][H][W]` sample, and over each channel's `[H][W]` plane.
//! let whole = LayerNorm::<(U2, U3, U3)>::new();
//! let planes = LayerNorm::<(U3, U3)>::new();
//! let x = Tensor3::<f32, U2, U3, U3>::default();
//! assert_eq!(whole.forward(&x), planes.forward(&x));
//! ```

use generic_array::{ArrayLength, GenericArray};
use rand::Rng;
use typenum::{Bit, NonZero, U1, UInt, Unsigned};

use crate::init::{Initialize, Scheme};
use crate::layer::{Layer, Train};
use crate::memory::Zeroable;
use crate::scalar::Scalar;
use crate::shape::{Matrix, Tensor, Tensor3, Times, TimesOf, Vector};

/// The shapes a [`LayerNorm`] normalises over, PyTorch's
/// `normalized_shape`: a size `N` (the last dimension, `[N]`), a pair
/// `(H, W)` (the last two, `[H, W]`) or a triple `(C, H, W)` (the last
/// three, a whole `[C][H][W]` sample). No size may be zero. Sealed.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::layers::layer_norm::NormShape;
/// typenum::assert_type_eq!(<U5 as NormShape>::Of<f32>, Vector<f32, U5>);
/// typenum::assert_type_eq!(<(U2, U3, U4) as NormShape>::Of<f64>, Tensor3<f64, U2, U3, U4>);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a shape a layer norm can normalise over",
    note = "write the normalised shape as a size `N` (the last dimension), a pair `(H, W)` or a triple `(C, H, W)` of nonzero typenum sizes"
)]
pub trait NormShape: sealed::Sealed {
    /// The tensor of that shape: the type of the weight and of the bias.
    type Of<T: Scalar>: Tensor<Scalar = T>;
}

mod sealed {
    pub trait Sealed {}
    impl<U, B> Sealed for typenum::UInt<U, B> {}
    impl<H, W> Sealed for (H, W) {}
    impl<C, H, W> Sealed for (C, H, W) {}
}

impl<U: Unsigned, B: Bit> NormShape for UInt<U, B>
where
    UInt<U, B>: ArrayLength,
{
    type Of<T: Scalar> = Vector<T, Self>;
}

impl<H: ArrayLength + NonZero, W: ArrayLength + NonZero> NormShape for (H, W) {
    type Of<T: Scalar> = Matrix<T, H, W>;
}

impl<C: ArrayLength + NonZero, H: ArrayLength + NonZero, W: ArrayLength + NonZero> NormShape for (C, H, W) {
    type Of<T: Scalar> = Tensor3<T, C, H, W>;
}

/// Shape rule: the input `Self` ends with the normalised shape `G` (is
/// `G`, or an array of `G`s, or an array of arrays of them), so it is
/// `Groups` groups of `G`, each normalised on its own.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::layers::layer_norm::NormalisedOver;
/// type Groups<X, G> = <X as NormalisedOver<G>>::Groups;
/// typenum::assert_type_eq!(Groups<Tensor3<f32, U2, U3, U4>, Vector<f32, U4>>, U6);
/// typenum::assert_type_eq!(Groups<Tensor3<f32, U2, U3, U4>, Matrix<f32, U3, U4>>, U2);
/// typenum::assert_type_eq!(Groups<Tensor3<f32, U2, U3, U4>, Tensor3<f32, U2, U3, U4>>, U1);
/// ```
#[diagnostic::on_unimplemented(
    message = "a layer norm over `{G}` cannot take input `{Self}`",
    label = "the input's last dimensions (and scalar) are not the normalised shape's",
    note = "`LayerNorm<N>` takes a vector, matrix or tensor whose last dimension is N; `LayerNorm<(H, W)>` one whose last two are H×W; `LayerNorm<(C, H, W)>` a C×H×W tensor",
    note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B0>` is U4 (1,0,0)"
)]
pub trait NormalisedOver<G>: Tensor {
    /// How many groups of `G` the input holds.
    type Groups: ArrayLength;
}

impl<G: Tensor> NormalisedOver<G> for G {
    type Groups = U1;
}

impl<G: Tensor, M: ArrayLength> NormalisedOver<G> for GenericArray<G, M> {
    type Groups = M;
}

impl<G: Tensor, M1: Times<M2>, M2: ArrayLength> NormalisedOver<G> for GenericArray<GenericArray<G, M2>, M1> {
    type Groups = TimesOf<M1, M2>;
}

/// Layer normalisation over the shape `S`: PyTorch's
/// `nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)`.
///
/// Each group of the input with the shape `S` (a row of the last
/// dimension, a plane, or the whole sample) is normalised on its own with
/// its mean `μ` and biased variance `σ²`, then scaled and shifted element
/// by element:
/// `y = (x − μ) / √(σ² + eps) ⊙ weight + bias`.
///
/// - `S`: the normalised shape, see [`NormShape`]: `N` for the last
///   dimension (`nn.LayerNorm(N)`), `(H, W)` for the last two
///   (`nn.LayerNorm([H, W])`), `(C, H, W)` for a whole `[C][H][W]` sample
///   (`nn.LayerNorm([C, H, W])`). `T`: the scalar, `f32` unless stated.
/// - Input: any tensor whose last dimensions are `S` (the rule
///   [`NormalisedOver`]): with `S = N`, a `Vector<T, N>`, a
///   `Matrix<T, L, N>` (a sequence, each step on its own) or a
///   `Tensor3<T, C, H, N>`; output of the input's type.
/// - Parameters, in PyTorch's order: `weight`, then `bias`, each of the
///   shape `S` (`S::Of<T>`). `eps` (default 1e-5) is an `f64`: exact in
///   `f64`, converted to the scalar before it is added to the variance.
/// - `Default` has zero parameters, like every layer's; [`new`](Self::new)
///   and [`Initialize`] (whatever the scheme) give PyTorch's weight 1 and
///   bias 0.
/// - Training and evaluation are the same (no running statistics). The
///   cache keeps `μ` and `1/√(σ² + eps)` of each group.
///
/// Backward, with `x̂ = (x − μ)/√(σ² + eps)` and `g = dy ⊙ weight`, per
/// group of `M` elements: `dweight += dy ⊙ x̂`, `dbias += dy`,
/// `dx = (g − mean(g) − x̂ · mean(g ⊙ x̂)) / √(σ² + eps)`.
///
/// ```
/// use typenet::prelude::*;
///
/// // A sequence of 5 steps of 8 features, each step normalised.
/// let mut norm = LayerNorm::<U8>::default();
/// norm.init(&mut NoRng);
/// let y = norm.forward(&Matrix::<f32, U5, U8>::default());
/// assert_eq!((norm.weight[0], norm.bias[0], norm.eps), (1.0, 0.0, 1e-5));
/// assert_eq!(<LayerNorm<U8> as Params<f32>>::COUNT, 16);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct LayerNorm<S: NormShape, T: Scalar = f32> {
    /// The scale, one per element of the normalised shape.
    pub weight: S::Of<T>,
    /// The shift, one per element of the normalised shape.
    pub bias: S::Of<T>,
    /// Added to the variance before its square root.
    pub eps: f64,
}

crate::params! {
    impl[S: NormShape, T: Scalar] Params<T> for LayerNorm<S, T> {
        weight: S::Of<T>,
        bias: S::Of<T>;
        eps: f64 = 1e-5,
    }
}

impl<S: NormShape, T: Scalar> LayerNorm<S, T> {
    /// PyTorch's fresh `nn.LayerNorm`: weight 1, bias 0, `eps` 1e-5.
    pub fn new() -> Self {
        let mut norm = Self::default();
        norm.weight.as_flat_mut().fill(T::one());
        norm
    }
}

impl<S: NormShape, T: Scalar> Initialize for LayerNorm<S, T> {
    /// PyTorch's: weight 1, bias 0, whatever the scheme.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {
        self.weight.as_flat_mut().fill(T::one());
        self.bias.as_flat_mut().fill(T::zero());
    }
}

/// What the backward pass of a [`LayerNorm`] needs of a sample: each
/// group's mean and `1/√(σ² + eps)` (the normalised input is recomputed
/// from the input).
#[derive(Clone, Debug, Default)]
pub struct NormStats<T, G: ArrayLength> {
    /// Each group's mean.
    pub mean: Vector<T, G>,
    /// Each group's `1/√(σ² + eps)`.
    pub inv_std: Vector<T, G>,
}

crate::zeroable!(impl[T: Zeroable, G: ArrayLength] for NormStats<T, G> { mean: Vector<T, G>, inv_std: Vector<T, G> });

impl<S: NormShape, T: Scalar> LayerNorm<S, T> {
    /// Normalises one group `x` into `y`; returns its mean and
    /// `1/√(σ² + eps)`.
    #[inline]
    fn normalise_group(&self, x: &[T], y: &mut [T]) -> (T, T) {
        let count = T::from_f64(x.len() as f64);
        let mean = x.iter().fold(T::zero(), |s, &v| s + v) / count;
        let var = x.iter().fold(T::zero(), |s, &v| s + (v - mean) * (v - mean)) / count;
        let inv_std = T::one() / (var + T::from_f64(self.eps)).sqrt();
        let params = self.weight.as_flat().iter().zip(self.bias.as_flat());
        for ((y, &x), (&w, &b)) in y.iter_mut().zip(x).zip(params) {
            *y = (x - mean) * inv_std * w + b;
        }
        (mean, inv_std)
    }

    /// Normalises every group of `x` into `y`, recording the statistics.
    #[inline]
    fn normalise<X: NormalisedOver<S::Of<T>, Scalar = T>>(
        &self,
        x: &X,
        stats: &mut NormStats<T, X::Groups>,
        y: &mut X,
    ) {
        let len = <S::Of<T> as Tensor>::LEN;
        let groups = x.as_flat().chunks_exact(len).zip(y.as_flat_mut().chunks_exact_mut(len));
        for ((x, y), (mean, inv_std)) in groups.zip(stats.mean.iter_mut().zip(stats.inv_std.iter_mut())) {
            (*mean, *inv_std) = self.normalise_group(x, y);
        }
    }
}

impl<S, T, X> Layer<X> for LayerNorm<S, T>
where
    S: NormShape,
    T: Scalar,
    X: NormalisedOver<S::Of<T>, Scalar = T>,
{
    type Output = X;

    #[inline]
    fn forward(&self, x: &X) -> X {
        let mut y = X::default();
        self.normalise(x, &mut NormStats::default(), &mut y);
        y
    }
}

impl<S, T, X> Train<X> for LayerNorm<S, T>
where
    S: NormShape,
    T: Scalar,
    X: NormalisedOver<S::Of<T>, Scalar = T>,
{
    type Cache = NormStats<T, X::Groups>;

    /// Each sample on its own: layer norm does not couple samples.
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        for ((x, stats), y) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
            self.normalise(x, stats, y);
        }
    }

    /// `dweight`, `dbias` summed over the block's groups, and each
    /// sample's `dx` when asked for.
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&X; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut X; B]>,
    ) {
        let len = <S::Of<T> as Tensor>::LEN;
        let count = T::from_f64(len as f64);
        let (weight, gw, gb) = (self.weight.as_flat(), grads.weight.as_flat_mut(), grads.bias.as_flat_mut());
        let mut grad_inputs = grad_inputs.map(|dxs| dxs.map(Some)).unwrap_or_else(|| core::array::from_fn(|_| None));
        let samples = inputs.into_iter().zip(caches).zip(grad_outputs).zip(&mut grad_inputs);
        for (((x, stats), dy), dx) in samples.take(n) {
            let groups = x.as_flat().chunks_exact(len).zip(dy.as_flat().chunks_exact(len));
            let stats = stats.mean.iter().zip(stats.inv_std.iter());
            for (k, ((x, dy), (&mean, &inv_std))) in groups.zip(stats).enumerate() {
                // The parameter gradients, and the two means dx needs.
                let (mut sum_g, mut sum_g_x_hat) = (T::zero(), T::zero());
                let params = weight.iter().zip(gw.iter_mut()).zip(gb.iter_mut());
                for ((&x, &dy), ((&w, gw), gb)) in x.iter().zip(dy).zip(params) {
                    let x_hat = (x - mean) * inv_std;
                    *gw = *gw + dy * x_hat;
                    *gb = *gb + dy;
                    sum_g = sum_g + dy * w;
                    sum_g_x_hat = sum_g_x_hat + dy * w * x_hat;
                }
                let Some(dx) = dx.as_deref_mut() else { continue };
                let (mean_g, mean_g_x_hat) = (sum_g / count, sum_g_x_hat / count);
                let dx = &mut dx.as_flat_mut()[k * len..(k + 1) * len];
                for (((dx, &x), &dy), &w) in dx.iter_mut().zip(x).zip(dy).zip(weight) {
                    let x_hat = (x - mean) * inv_std;
                    *dx = (dy * w - mean_g - x_hat * mean_g_x_hat) * inv_std;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::check::{check_gradients_block, randomize};
    use crate::layers::testing::gradient_check;
    use crate::prelude::*;

    /// Checks `L` on `X` in blocks of 3 samples against finite differences.
    fn block_check<L: Train<X> + Default, X: Tensor<Scalar = f64>>(seed: u64) -> f64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut layer = L::default();
        randomize(&mut layer, &mut rng);
        let xs: [X; 3] = core::array::from_fn(|_| {
            let mut x = X::default();
            x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-2.0..2.0));
            x
        });
        let report = check_gradients_block(&mut layer, &xs, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{}: {report:?}", core::any::type_name::<L>());
        assert_eq!((report.inputs_checked, report.params_checked), (3 * X::LEN, L::COUNT));
        report.max_rel_error
    }

    #[test]
    fn gradients_match_finite_differences_for_every_shape() {
        let worst = [
            gradient_check::<LayerNorm<U5, f64>, Vector<f64, U5>>(1),
            gradient_check::<LayerNorm<U5, f64>, Matrix<f64, U3, U5>>(2),
            gradient_check::<LayerNorm<U4, f64>, Tensor3<f64, U2, U3, U4>>(3),
            gradient_check::<LayerNorm<(U3, U4), f64>, Tensor3<f64, U2, U3, U4>>(4),
            gradient_check::<LayerNorm<(U3, U4), f64>, Matrix<f64, U3, U4>>(5),
            gradient_check::<LayerNorm<(U2, U3, U4), f64>, Tensor3<f64, U2, U3, U4>>(6),
            block_check::<LayerNorm<(U3, U4), f64>, Tensor3<f64, U2, U3, U4>>(7),
            block_check::<LayerNorm<U6, f64>, Matrix<f64, U2, U6>>(8),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        std::println!("layer norm: worst gradient-check error {worst:.2e}");
    }

    /// Each group's output has mean `bias` and variance `weight²·σ²/(σ² + eps)`
    /// when weight and bias are constant.
    #[test]
    fn each_group_is_normalised_on_its_own() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut x = Tensor3::<f64, U3, U4, U5>::default();
        x.as_flat_mut()
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = rng.random_range(-1.0..1.0) * (1 + i / 20) as f64);
        let mut norm = LayerNorm::<(U4, U5), f64>::new();
        norm.weight.as_flat_mut().fill(2.0);
        norm.bias.as_flat_mut().fill(-0.5);
        let y = norm.forward(&x);
        for (c, (xc, yc)) in x.iter().zip(y.iter()).enumerate() {
            let moments = |v: &[f64]| {
                let mean = v.iter().sum::<f64>() / 20.0;
                (mean, v.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / 20.0)
            };
            let ((_, var_x), (mean_y, var_y)) = (moments(xc.as_flat()), moments(yc.as_flat()));
            assert!((mean_y + 0.5).abs() < 1e-14, "channel {c}: mean {mean_y}");
            assert!((var_y - 4.0 * var_x / (var_x + 1e-5)).abs() < 1e-13, "channel {c}: variance {var_y}");
        }
    }

    #[test]
    fn shapes_and_groups() {
        typenum::assert_type_eq!(<LayerNorm<U4> as Layer<Matrix<f32, U3, U4>>>::Output, Matrix<f32, U3, U4>);
        typenum::assert_type_eq!(<Tensor3<f32, U2, U3, U4> as NormalisedOver<Vector<f32, U4>>>::Groups, U6);
        assert_eq!(<LayerNorm<(U2, U3, U4)> as Params<f32>>::COUNT, 48);
        assert_eq!(size_of::<<LayerNorm<U4> as Train<Tensor3<f32, U2, U3, U4>>>::Cache>(), 2 * 6 * 4);
        let mut names = Vec::new();
        LayerNorm::<(U2, U3), f64>::new().visit(&mut |t| names.push(t.to_vec()));
        assert_eq!(names, [std::vec![1.0; 6], std::vec![0.0; 6]], "weight then bias");
    }

    /// A constant group has zero variance: `eps` keeps the output finite
    /// (the bias), and the input gradient is finite too.
    #[test]
    fn constant_groups_stay_finite() {
        let mut norm = LayerNorm::<U4, f64>::new();
        norm.bias = vector([0.1, 0.2, 0.3, 0.4]);
        let x = vector([3.0; 4]);
        let mut cache = Default::default();
        let y = norm.forward_train(&x, &mut cache, &mut NoRng);
        assert_eq!(y.as_slice(), &[0.1, 0.2, 0.3, 0.4]);
        let dx = norm.backward(&x, &mut cache, &vector([1.0, -2.0, 0.5, 0.0]), &mut Default::default());
        assert!(dx.iter().all(|d| d.is_finite()), "{dx:?}");
    }

    /// In a block, every sample gives what it gives alone; without input
    /// gradients the parameter gradients are the same.
    #[test]
    fn blocks_agree_with_samples() {
        type X = Matrix<f32, U2, U6>;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut norm = LayerNorm::<U6>::default();
        randomize(&mut norm, &mut rng);
        let draw = |rng: &mut Xoshiro256PlusPlus| {
            let mut x = X::default();
            x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
            x
        };
        let xs: [X; 4] = core::array::from_fn(|_| draw(&mut rng));
        let dys: [X; 4] = core::array::from_fn(|_| draw(&mut rng));
        let (mut caches, mut ys, mut dxs) = (<[_; 4]>::default(), [X::default(); 4], [X::default(); 4]);
        norm.forward_train_block(3, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        let (mut block, mut each, mut params_only) = (LayerNorm::default(), LayerNorm::default(), LayerNorm::default());
        norm.backward_block(3, xs.each_ref(), caches.each_mut(), dys.each_ref(), &mut block, Some(dxs.each_mut()));
        norm.backward_block(3, xs.each_ref(), caches.each_mut(), dys.each_ref(), &mut params_only, None);
        for b in 0..3 {
            let mut cache = Default::default();
            assert_eq!(ys[b], norm.forward_train(&xs[b], &mut cache, &mut NoRng));
            assert_eq!(dxs[b], norm.backward(&xs[b], &mut cache, &dys[b], &mut each));
        }
        assert_eq!((ys[3], dxs[3]), (X::default(), X::default()), "slots past n stay as they were");
        assert_eq!(block, each);
        assert_eq!(block, params_only);
    }
}
