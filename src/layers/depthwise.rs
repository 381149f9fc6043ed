//! The depthwise-separable convolution's two halves: [`DepthwiseConv2d`],
//! which filters each channel on its own, and [`Pointwise`], the 1×1
//! [`Conv2d`] that mixes the channels, as MobileNet and DS-CNN stack them.
//!
//! ```
//! use typenet::prelude::*;
//!
//! // A depthwise-separable block on 8×14×14: depthwise 3×3 (padding 1),
//! // then pointwise 8 → 16, each followed by ReLU.
//! type Block = net![DepthwiseConv2d<U8, U3, U1, U1>, Relu, Pointwise<U8, U16>, Relu];
//! let mut block = Block::default();
//! block.init(&mut Xoshiro256PlusPlus::seed_from_u64(0));
//! let y: Tensor3<f32, U16, U14, U14> = block.forward(&Tensor3::<f32, U8, U14, U14>::default());
//! # let _ = y;
//! // 8·9 + 8 depthwise parameters, 16·8 + 16 pointwise ones.
//! assert_eq!(<Block as Params<f32>>::COUNT, 80 + 144);
//! ```
//!
//! A depthwise convolution costs `K²` multiply-adds per output instead of
//! a full convolution's `CI·K²`; the pointwise convolution is a matrix
//! product per sample, which the kernels run as one (see
//! [`Pointwise`]). Training hands both whole blocks of samples. On x86-64
//! the depthwise kernel computes each output plane in the widest registers
//! the CPU has, stride 2 included (the input is split into phase planes so
//! that every kernel offset reads one contiguous slice); elsewhere it runs
//! plain loops that need no scratch memory. Nothing is allocated.

use core::marker::PhantomData;

use generic_array::ArrayLength;
use rand::Rng;
use typenum::{U0, U1, Unsigned};

use crate::init::{Initialize, Scheme};
use crate::kernel::{ConvShape, Dims};
use crate::layer::{Layer, Train};
use crate::layers::conv::{Conv2d, ConvDims, ConvOut};
use crate::scalar::Scalar;
use crate::shape::{Tensor, Tensor3, Tensor4, Times, TimesOf, Vector};

/// A depthwise 2-D convolution of `C` channels with a `K`×`K` kernel,
/// stride `S`, zero padding `P` and channel multiplier `M`: PyTorch's
/// `nn.Conv2d(C, C·M, K, stride=S, padding=P, groups=C)`.
///
/// Input channel `c` is convolved on its own with `M` kernels into output
/// channels `c·M .. (c + 1)·M`:
/// `y[o][i][j] = b[o] + Σ_ky Σ_kx w[o][0][ky][kx] · x[o / M][i·S + ky − P][j·S + kx − P]`,
/// with `x` zero outside the image.
///
/// - `C`: channels; `K`: kernel size; `S`: stride (`U1` unless stated);
///   `P`: zero padding on each side (`U0` unless stated); `M`: outputs
///   per input channel (`U1` unless stated); all `typenum` constants. `T`:
///   the scalar, `f32` unless stated.
/// - Input `Tensor3<T, C, H, W>` of any `H`, `W` the kernel fits; output
///   `Tensor3<T, C·M, ConvOut<H, K, S, P>, ConvOut<W, K, S, P>>` (see
///   [`ConvDims`]; PyTorch's sizes). A wrong channel count or a kernel
///   larger than the padded input does not compile.
/// - Parameters, in PyTorch's order: `weight`, a `Tensor4<T, C·M, U1, K, K>`
///   (`[out][1][kh][kw]`, the shape PyTorch gives a depthwise weight), then
///   `bias`, a `Vector<T, C·M>`.
/// - `Default` is all zeros; [`Initialize`] draws PyTorch's default
///   U(−1/√fan_in, 1/√fan_in) for weight and bias, or any [`Scheme`],
///   with PyTorch's fans for this weight: fan-in `K·K` (one input channel
///   per output), fan-out `C·M·K·K`.
///
/// Backward: `db[o] += Σ dy[o]`, `dW[o][0][ky][kx] += Σ_ij dy[o][i][j] · x[o / M][i·S + ky − P][j·S + kx − P]`,
/// and `dx[c]` the transposed convolution of `dy[c·M .. (c + 1)·M]`.
///
/// ```
/// use typenet::prelude::*;
///
/// // Two channels, a 2×2 kernel, stride 1, no padding, two outputs per channel.
/// let mut dw = DepthwiseConv2d::<U2, U2, U1, U0, U2, f64>::default();
/// dw.weight[0][0] = matrix([[1.0, 1.0], [1.0, 1.0]]); // channel 0: window sums
/// dw.weight[1][0] = matrix([[0.0, 0.0], [0.0, 1.0]]); // channel 0: bottom-right value
/// dw.weight[2][0] = matrix([[1.0, 0.0], [0.0, 0.0]]); // channel 1: top-left value
/// dw.bias[3] = 0.5; // channel 1, second output: only the bias
/// let x = tensor3([
///     [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
///     [[9.0, 8.0, 7.0], [6.0, 5.0, 4.0], [3.0, 2.0, 1.0]],
/// ]);
/// let y = dw.forward(&x);
/// assert_eq!(y[0], matrix([[12.0, 16.0], [24.0, 28.0]]));
/// assert_eq!(y[1], matrix([[5.0, 6.0], [8.0, 9.0]]));
/// assert_eq!(y[2], matrix([[9.0, 8.0], [6.0, 5.0]]));
/// assert_eq!(y[3], matrix([[0.5, 0.5], [0.5, 0.5]]));
/// assert_eq!(size_of::<DepthwiseConv2d<U32, U3, U1, U1, U1, f32>>(), (32 * 9 + 32) * 4);
/// ```
///
/// Stride 2 halves the plane, as in PyTorch:
///
/// ```
/// use typenet::prelude::*;
/// let dw = DepthwiseConv2d::<U4, U3, U2, U1>::default();
/// let y: Tensor3<f32, U4, U7, U7> = dw.forward(&Tensor3::<f32, U4, U14, U14>::default());
/// # let _ = y;
/// ```
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct DepthwiseConv2d<C: Times<M>, K: ArrayLength, S = U1, P = U0, M = U1, T = f32> {
    /// `[out][1][kh][kw]` weights, output channel `o` filtering input
    /// channel `o / M`.
    pub weight: Tensor4<T, TimesOf<C, M>, U1, K, K>,
    /// One bias per output channel.
    pub bias: Vector<T, TimesOf<C, M>>,
    shape: PhantomData<(S, P)>,
}

/// The pointwise (1×1) convolution from `CI` to `CO` channels with stride
/// `S` (`U1` unless stated) and no padding: a [`Conv2d`] with a 1×1 kernel,
/// PyTorch's `nn.Conv2d(CI, CO, 1, stride=S)`, the second half of a
/// depthwise-separable convolution.
///
/// Per sample it is the matrix product `Y[CO × HW] = W[CO × CI] · X[CI × HW] + b`,
/// and the kernels compute it as one, forward and backward (a whole block
/// of samples at once for the weight gradient), at any stride (a stride
/// above 1 first gathers the input positions it reads). The type is the
/// same `Conv2d`, so every 1×1 convolution without padding takes this path.
///
/// ```
/// use typenet::prelude::*;
///
/// // Mix 2 channels into 3 at every position.
/// let pw = Pointwise::<U2, U3, U1, f64>::new(
///     GenericArray::from_array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]].map(|r| GenericArray::from_array(r.map(|w| matrix([[w]]))))),
///     vector([0.0, 0.0, 0.5]),
/// );
/// let x = tensor3([[[1.0, 2.0]], [[3.0, 5.0]]]);
/// let y = pw.forward(&x);
/// assert_eq!(y, tensor3([[[1.0, 2.0]], [[3.0, 5.0]], [[-1.5, -2.5]]]));
/// ```
pub type Pointwise<CI, CO, S = U1, T = f32> = Conv2d<CI, CO, U1, S, U0, T>;

crate::params! {
    impl[C: Times<M>, K: ArrayLength, S, P, M, T: Scalar] Params<T> for DepthwiseConv2d<C, K, S, P, M, T> {
        weight: Tensor4<T, TimesOf<C, M>, U1, K, K>,
        bias: Vector<T, TimesOf<C, M>>;
        shape: PhantomData<(S, P)> = PhantomData,
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M, T: Scalar> DepthwiseConv2d<C, K, S, P, M, T> {
    /// A layer with the given weight and bias.
    pub fn new(weight: Tensor4<T, TimesOf<C, M>, U1, K, K>, bias: Vector<T, TimesOf<C, M>>) -> Self {
        DepthwiseConv2d { weight, bias, shape: PhantomData }
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M, T: Scalar> Initialize for DepthwiseConv2d<C, K, S, P, M, T> {
    /// Weights with fan-in `K·K` and fan-out `C·M·K·K` (PyTorch's fans for
    /// a `[C·M][1][K][K]` weight); biases as the scheme says.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        let taps = K::USIZE * K::USIZE;
        scheme.fill_weight(self.weight.as_flat_mut(), taps, TimesOf::<C, M>::USIZE * taps, rng);
        scheme.fill_bias(self.bias.as_flat_mut(), taps, rng);
    }
}

/// The kernels' view of a depthwise convolution `L` on input `In`: its
/// sizes as constants of a type, so the kernel is compiled for them.
struct On<L, In>(PhantomData<(L, In)>);

impl<C, K, S, P, M, T, H, W> ConvShape for On<DepthwiseConv2d<C, K, S, P, M, T>, Tensor3<T, C, H, W>>
where
    C: Times<M>,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    const DIMS: Dims = Dims {
        c_in: C::USIZE,
        c_out: TimesOf::<C, M>::USIZE,
        h: H::USIZE,
        w: W::USIZE,
        kh: K::USIZE,
        kw: K::USIZE,
        sh: S::USIZE,
        sw: S::USIZE,
        ph: P::USIZE,
        pw: P::USIZE,
        oh: ConvOut::<H, K, S, P>::USIZE,
        ow: ConvOut::<W, K, S, P>::USIZE,
    };
}

impl<C, K, S, P, M, T, H, W> Layer<Tensor3<T, C, H, W>> for DepthwiseConv2d<C, K, S, P, M, T>
where
    C: Times<M>,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    T: Scalar,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Output = Tensor3<T, TimesOf<C, M>, ConvOut<H, K, S, P>, ConvOut<W, K, S, P>>;

    #[inline]
    fn forward(&self, x: &Tensor3<T, C, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        T::depthwise_forward::<On<Self, Tensor3<T, C, H, W>>>(
            self.weight.as_flat(),
            self.bias.as_flat(),
            &[x.as_flat()],
            &mut [y.as_flat_mut()],
        );
        y
    }
}

impl<C, K, S, P, M, T, H, W> Train<Tensor3<T, C, H, W>> for DepthwiseConv2d<C, K, S, P, M, T>
where
    C: Times<M>,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    T: Scalar,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Cache = ();

    /// The whole block through the depthwise kernel at once.
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        outputs: [&mut Self::Output; B],
        _: &mut R,
    ) {
        let n = n.min(B);
        let (xs, mut ys) = (inputs.map(|x| x.as_flat()), outputs.map(|y| y.as_flat_mut()));
        T::depthwise_forward::<On<Self, Tensor3<T, C, H, W>>>(
            self.weight.as_flat(),
            self.bias.as_flat(),
            &xs[..n],
            &mut ys[..n],
        );
    }

    /// `dW`, `db` summed over the block, and each sample's `dx` when asked
    /// for.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Tensor3<T, C, H, W>; B]>,
    ) {
        let n = n.min(B);
        let (xs, dys) = (inputs.map(|x| x.as_flat()), grad_outputs.map(|dy| dy.as_flat()));
        let (w, gw, gb) = (self.weight.as_flat(), grads.weight.as_flat_mut(), grads.bias.as_flat_mut());
        type G<C, K, S, P, M, T, H, W> = On<DepthwiseConv2d<C, K, S, P, M, T>, Tensor3<T, C, H, W>>;
        match grad_inputs {
            Some(dxs) => {
                let mut dxs = dxs.map(|dx| dx.as_flat_mut());
                T::depthwise_backward::<G<C, K, S, P, M, T, H, W>>(w, &xs[..n], &dys[..n], gw, gb, Some(&mut dxs[..n]));
            }
            None => T::depthwise_backward::<G<C, K, S, P, M, T, H, W>>(w, &xs[..n], &dys[..n], gw, gb, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::check::randomize;
    use crate::layers::testing::gradient_check;
    use crate::prelude::*;

    /// The definition term by term, padding tested per value:
    /// `y[o][i][j] = b[o] + Σ w[o][ky][kx] · x[o / m][i·s + ky − p][j·s + kx − p]`.
    fn definition(d: Dims, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
        let m = d.c_out / d.c_in;
        let mut y = Vec::new();
        for o in 0..d.c_out {
            for i in 0..d.oh {
                for j in 0..d.ow {
                    let mut sum = b[o];
                    for ky in 0..d.kh {
                        for kx in 0..d.kw {
                            let (iy, ix) =
                                ((i * d.sh + ky) as isize - d.ph as isize, (j * d.sw + kx) as isize - d.pw as isize);
                            if (0..d.h as isize).contains(&iy) && (0..d.w as isize).contains(&ix) {
                                let (iy, ix) = (iy as usize, ix as usize);
                                sum += w[(o * d.kh + ky) * d.kw + kx] * x[((o / m) * d.h + iy) * d.w + ix];
                            }
                        }
                    }
                    y.push(sum);
                }
            }
        }
        y
    }

    /// Checks a depthwise convolution `L` on input `X` against
    /// [`definition`] and finite differences; returns the worst gradient
    /// error.
    fn check<L, X>(seed: u64) -> f64
    where
        X: Tensor<Scalar = f64>,
        L: Train<X> + Default,
        On<L, X>: ConvShape,
    {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (mut layer, mut x) = (L::default(), X::default());
        randomize(&mut layer, &mut rng);
        x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random::<f64>() * 2.0 - 1.0);
        let mut params = Vec::new();
        layer.visit(&mut |t| params.push(t.to_vec()));
        let want = definition(On::<L, X>::DIMS, x.as_flat(), &params[0], &params[1]);
        let got = layer.forward(&x);
        assert_eq!(got.as_flat().len(), want.len());
        for (g, w) in got.as_flat().iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{}: {g} != {w}", core::any::type_name::<L>());
        }
        gradient_check::<L, X>(seed)
    }

    type Image = Tensor3<f64, U2, U5, U6>;

    /// Strides 1 and 2, padding 0 and 1, multipliers 1 and 2; then a
    /// stride past the kernel, a kernel as large as the padded input,
    /// padding wider than the kernel, 1×1, stride 3.
    #[test]
    fn depthwise_agrees_with_the_definition_and_finite_differences() {
        let worst = [
            check::<DepthwiseConv2d<U2, U3, U1, U0, U1, f64>, Image>(1),
            check::<DepthwiseConv2d<U2, U3, U1, U1, U1, f64>, Image>(2),
            check::<DepthwiseConv2d<U2, U3, U2, U0, U1, f64>, Image>(3),
            check::<DepthwiseConv2d<U2, U3, U2, U1, U1, f64>, Image>(4),
            check::<DepthwiseConv2d<U2, U3, U1, U0, U2, f64>, Image>(5),
            check::<DepthwiseConv2d<U2, U3, U1, U1, U2, f64>, Image>(6),
            check::<DepthwiseConv2d<U2, U3, U2, U0, U2, f64>, Image>(7),
            check::<DepthwiseConv2d<U2, U3, U2, U1, U2, f64>, Image>(8),
            check::<DepthwiseConv2d<U2, U2, U3, U2, U1, f64>, Image>(9),
            check::<DepthwiseConv2d<U2, U5, U2, U1, U3, f64>, Image>(10),
            check::<DepthwiseConv2d<U2, U2, U1, U3, U1, f64>, Image>(11),
            check::<DepthwiseConv2d<U2, U1, U1, U0, U2, f64>, Image>(12),
            check::<DepthwiseConv2d<U3, U3, U3, U1, U1, f64>, Tensor3<f64, U3, U8, U7>>(13),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        std::println!("depthwise: worst gradient-check error {worst:.2e}");
    }

    #[test]
    fn output_sizes_follow_pytorch() {
        typenum::assert_type_eq!(
            <DepthwiseConv2d<U32, U3, U1, U1> as Layer<Tensor3<f32, U32, U14, U14>>>::Output,
            Tensor3<f32, U32, U14, U14>
        );
        typenum::assert_type_eq!(
            <DepthwiseConv2d<U32, U3, U2, U1> as Layer<Tensor3<f32, U32, U14, U14>>>::Output,
            Tensor3<f32, U32, U7, U7>
        );
        typenum::assert_type_eq!(
            <DepthwiseConv2d<U3, U3, U2, U0, U2> as Layer<Tensor3<f32, U3, U9, U8>>>::Output,
            Tensor3<f32, U6, U4, U3>
        );
        typenum::assert_type_eq!(
            <DepthwiseConv2d<U1, U5, U3, U2, U4> as Layer<Tensor3<f32, U1, U6, U7>>>::Output,
            Tensor3<f32, U4, U2, U3>
        );
        typenum::assert_type_eq!(<Pointwise<U8, U16, U2> as Layer<Tensor3<f32, U8, U7, U7>>>::Output, Tensor3<f32, U16, U4, U4>);
    }

    /// In `f32` (the widest variant on x86-64), a block of 5 samples in
    /// slots of 8 gives each sample's output and input gradient as the
    /// per-sample passes do, and the sum of their parameter gradients;
    /// at strides 1 and 2 with a multiplier of 2.
    #[test]
    fn blocks_agree_with_samples() {
        block_agrees::<DepthwiseConv2d<U3, U3, U1, U1, U2>, U3, U9, U7>(23);
        block_agrees::<DepthwiseConv2d<U3, U3, U2, U1, U2>, U3, U9, U7>(24);
    }

    type In<C, H, W> = Tensor3<f32, C, H, W>;

    fn block_agrees<L, C: ArrayLength, H: ArrayLength, W: ArrayLength>(seed: u64)
    where
        L: Train<In<C, H, W>, Cache = ()>
            + Params<f32, Grads = L>
            + Default
            + Initialize
            + PartialEq
            + core::fmt::Debug,
        L::Output: PartialEq + Copy,
        In<C, H, W>: Copy,
    {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut layer = L::default();
        layer.init(&mut rng);
        let (mut xs, mut dys) = ([In::<C, H, W>::default(); 8], [L::Output::default(); 8]);
        xs.iter_mut().for_each(|x| x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0)));
        dys.iter_mut().for_each(|y| y.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0)));
        let (mut ys, mut dxs) = ([L::Output::default(); 8], [In::<C, H, W>::default(); 8]);
        // Stale values in the input gradients: they must be overwritten.
        dxs.iter_mut().for_each(|dx| dx.as_flat_mut().fill(7.0));
        layer.forward_train_block(5, xs.each_ref(), [(); 8].each_mut(), ys.each_mut(), &mut NoRng);
        let (mut block, mut each) = (L::default(), L::default());
        layer.backward_block(5, xs.each_ref(), [(); 8].each_mut(), dys.each_ref(), &mut block, Some(dxs.each_mut()));
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| (a - b).abs() <= 1e-5 * (1.0 + a.abs()));
        for b in 0..5 {
            assert!(close(layer.forward(&xs[b]).as_flat(), ys[b].as_flat()), "output {b}");
            let dx = layer.backward(&xs[b], &mut (), &dys[b], &mut each);
            assert!(close(dx.as_flat(), dxs[b].as_flat()), "input gradient {b}");
        }
        assert!(ys[5..].iter().all(|y| *y == L::Output::default()), "slots past n stay as they were");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        each.visit(&mut |t| a.extend_from_slice(t));
        block.visit(&mut |t| b.extend_from_slice(t));
        assert!(close(&a, &b), "parameter gradients");
        let mut params_only = L::default();
        layer.backward_block(5, xs.each_ref(), [(); 8].each_mut(), dys.each_ref(), &mut params_only, None);
        assert_eq!(params_only, block);
    }

    #[test]
    fn parameters_are_the_weight_then_the_bias() {
        type Dw = DepthwiseConv2d<U2, U3, U1, U1, U2>;
        assert_eq!(<Dw as Params<f32>>::COUNT, 4 * 9 + 4);
        let padded = |bytes: usize| bytes.next_multiple_of(crate::memory::LAYER_ALIGN);
        assert_eq!(size_of::<Dw>(), padded((4 * 9 + 4) * 4));
        let mut dw = Dw::default();
        let mut k = 0.0;
        dw.visit_mut(&mut |t| {
            t.iter_mut().for_each(|p| {
                *p = k;
                k += 1.0;
            })
        });
        // [o = 3][0][ky = 1][kx = 2] is 3·9 + 1·3 + 2 = 32 in the flat order.
        assert_eq!(dw.weight[3][0][1][2], 32.0);
        assert_eq!(dw.bias.as_slice(), &[36.0, 37.0, 38.0, 39.0]);
    }

    #[test]
    fn pytorch_init_draws_within_one_over_root_fan_in() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(22);
        let mut dw = DepthwiseConv2d::<U16, U3, U1, U1, U2>::default();
        dw.init(&mut rng);
        let bound = 1.0 / 3.0f32; // 1/√(3·3)
        for t in [dw.weight.as_flat(), dw.bias.as_flat()] {
            assert!(t.iter().all(|v| v.abs() <= bound));
            assert!(t.iter().any(|v| v.abs() > 0.9 * bound));
        }
        dw.init_with(crate::init::XavierUniform, &mut rng);
        let bound = (6.0f32 / (9.0 + 32.0 * 9.0)).sqrt();
        assert!(dw.weight.as_flat().iter().all(|v| v.abs() <= bound));
        assert!(dw.weight.as_flat().iter().any(|v| v.abs() > 0.9 * bound));
        assert!(dw.bias.iter().all(|&b| b == 0.0));
    }
}
