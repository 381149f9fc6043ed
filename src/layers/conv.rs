//! Convolutions: [`Conv2d`] over `[C][H][W]` images and [`Conv1d`] over
//! `[C][L]` sequences, with kernel size, stride and zero padding as types,
//! and the shape rule [`ConvDims`] that gives their output sizes.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::layers::conv::ConvOut;
//!
//! // A 3×3 convolution, stride 2, padding 1, from 1 channel to 4, on 1×16×16.
//! let conv = Conv2d::<U1, U4, U3, U2, U1>::default();
//! let y = conv.forward(&Tensor3::<f32, U1, U16, U16>::default());
//! typenum::assert_type_eq!(ConvOut<U16, U3, U2, U1>, U8); // (16 + 2 − 3) / 2 + 1
//! let _: &Tensor3<f32, U4, U8, U8> = &y;
//! ```
//!
//! Both layers share one kernel: `Conv1d` is a convolution over a plane of
//! height 1. Training hands it whole blocks of samples. On x86-64 it
//! computes each output plane at the full width of the padded input (at
//! stride `S`, of its `S×S` polyphase parts, each a stride-1 convolution),
//! so every kernel offset is one contiguous multiply-add in full
//! registers, with tiles of output channels × positions kept in registers;
//! targets without wide registers (microcontrollers) add `w · x` along each
//! output row with the padding cut off beforehand, which needs no scratch
//! memory. Every size is a constant of the layer's type; nothing is
//! allocated.

use core::marker::PhantomData;
use core::ops::{Add, Div, Sub};

use generic_array::ArrayLength;
use rand::Rng;
use typenum::{Add1, B1, Cmp, Compare, Diff, Equal, Greater, NonZero, Quot, Sum, U1, Unsigned};

use crate::init::{Initialize, Scheme};
use crate::kernel::{ConvShape, Dims};
use crate::layer::{Layer, Misfit, Train};
use crate::scalar::Scalar;
use crate::shape::{Matrix, Tensor, Tensor3, Tensor4, Vector};

/// Shape rule: the output size of a convolution or pooling window of size
/// `K`, stride `S` and zero padding `P` on each side, sliding over `Self`
/// positions: `(Self + 2P − K) / S + 1`, rounded down (PyTorch's rule).
///
/// It holds only when the window fits the padded input (`K ≤ Self + 2P`)
/// and the stride is not zero, so a kernel larger than its input does not
/// compile, and the error says so.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::layers::conv::ConvOut;
/// typenum::assert_type_eq!(ConvOut<U28, U5, U1, U0>, U24);
/// typenum::assert_type_eq!(ConvOut<U16, U3, U1, U1>, U16); // "same" padding
/// typenum::assert_type_eq!(ConvOut<U7, U2, U2, U0>, U3); // the last column is dropped
/// typenum::assert_type_eq!(ConvOut<U3, U5, U1, U1>, U1); // 3 + 2 = 5: fits once
/// ```
#[diagnostic::on_unimplemented(
    message = "a window of size `{K}`, stride `{S}` and padding `{P}` cannot slide over `{Self}` positions",
    note = "the window must fit the padded input (kernel ≤ input + 2 · padding) and the stride must not be zero"
)]
pub trait ConvDims<K, S, P>: ArrayLength {
    /// `(Self + 2P − K) / S + 1`.
    type Out: ArrayLength;
}

impl<I, K, S, P> ConvDims<K, S, P> for I
where
    S: NonZero,
    I: ArrayLength + Add<P>,
    Sum<I, P>: Add<P>,
    Sum<Sum<I, P>, P>: Cmp<K>,
    Compare<Sum<Sum<I, P>, P>, K>: sealed::KernelFits<I, K, S, P>,
{
    type Out = <Compare<Sum<Sum<I, P>, P>, K> as sealed::KernelFits<I, K, S, P>>::Out;
}

/// The output size of a window of size `K`, stride `S`, padding `P` over
/// `I` positions: `ConvOut<U16, U3, U2, U1>` is `U8`.
pub type ConvOut<I, K, S, P> = <I as ConvDims<K, S, P>>::Out;

mod sealed {
    use super::*;

    /// The comparison of the padded input with the kernel decides: only
    /// `Greater` and `Equal` have an impl, so a kernel larger than its padded
    /// input fails here, with this message, instead of deep inside `typenum`'s
    /// subtraction.
    #[diagnostic::on_unimplemented(
        message = "a kernel of size `{K}` does not fit an input of size `{I}` with padding `{P}` on each side",
        label = "the kernel is larger than the padded input",
        note = "a convolution or pooling window needs kernel ≤ input + 2 · padding; the output size is (input + 2 · padding − kernel) / stride + 1",
        note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B1>` is U5 (1,0,1), `UTerm` is U0"
    )]
    pub trait KernelFits<I, K, S, P> {
        type Out: ArrayLength;
    }

    #[diagnostic::do_not_recommend]
    impl<I, K, S, P> KernelFits<I, K, S, P> for Equal {
        type Out = U1;
    }

    #[diagnostic::do_not_recommend]
    impl<I, K, S, P> KernelFits<I, K, S, P> for Greater
    where
        I: Add<P>,
        Sum<I, P>: Add<P>,
        Sum<Sum<I, P>, P>: Sub<K>,
        Diff<Sum<Sum<I, P>, P>, K>: Div<S>,
        Quot<Diff<Sum<Sum<I, P>, P>, K>, S>: Add<B1>,
        Add1<Quot<Diff<Sum<Sum<I, P>, P>, K>, S>>: ArrayLength,
    {
        type Out = Add1<Quot<Diff<Sum<Sum<I, P>, P>, K>, S>>;
    }
}

/// A 2-D convolution from `CI` to `CO` channels with a `K`×`K` kernel,
/// stride `S` and zero padding `P`: PyTorch's
/// `nn.Conv2d(CI, CO, K, stride=S, padding=P)`.
///
/// `y[o][i][j] = b[o] + Σ_c Σ_ky Σ_kx w[o][c][ky][kx] · x[c][i·S + ky − P][j·S + kx − P]`,
/// with `x` zero outside the image.
///
/// - `CI`, `CO`: input and output channels; `K`: kernel size; `S`: stride
///   (`U1` unless stated); `P`: zero padding on each side (`U0` unless
///   stated); all `typenum` constants. `T`: the scalar, `f32` unless stated.
/// - Input `Tensor3<T, CI, H, W>` (channels first) of any `H`, `W` the
///   kernel fits; output `Tensor3<T, CO, ConvOut<H, K, S, P>, ConvOut<W, K, S, P>>`
///   (see [`ConvDims`]). A wrong channel count or a kernel larger than the
///   padded input does not compile.
/// - Parameters, in PyTorch's order: `weight`, a `Tensor4<T, CO, CI, K, K>`
///   (`[out][in][kh][kw]`), then `bias`, a `Vector<T, CO>`. The layer holds
///   nothing else.
/// - `Default` is all zeros; [`Initialize`] draws PyTorch's default
///   U(−1/√fan_in, 1/√fan_in) for weight and bias, or any [`Scheme`],
///   with fan-in `CI·K·K` and fan-out `CO·K·K`.
///
/// Backward: `db[o] += Σ dy[o]`, `dW[o][c][ky][kx] += Σ_ij dy[o][i][j] · x[c][i·S + ky − P][j·S + kx − P]`,
/// and `dx` the transposed convolution of `dy`.
///
/// ```
/// use typenet::prelude::*;
///
/// // A 2×2 kernel summing each window, on a 1×3×3 image.
/// let conv = Conv2d::<U1, U1, U2, U1, U0, f64>::new(
///     GenericArray::from_array([tensor3([[[1.0, 1.0], [1.0, 1.0]]])]),
///     vector([0.5]),
/// );
/// let x = tensor3([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]);
/// let y = conv.forward(&x);
/// assert_eq!(y[0], matrix([[12.5, 16.5], [24.5, 28.5]]));
/// assert_eq!(size_of::<Conv2d<U3, U8, U3>>(), (8 * 3 * 3 * 3 + 8) * 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct Conv2d<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S = U1, P = typenum::U0, T = f32> {
    /// `[out][in][kh][kw]` weights.
    pub weight: Tensor4<T, CO, CI, K, K>,
    /// One bias per output channel.
    pub bias: Vector<T, CO>,
    shape: PhantomData<(S, P)>,
}

/// A 1-D convolution from `CI` to `CO` channels with a kernel of `K`,
/// stride `S` and zero padding `P`: PyTorch's
/// `nn.Conv1d(CI, CO, K, stride=S, padding=P)`.
///
/// `y[o][i] = b[o] + Σ_c Σ_k w[o][c][k] · x[c][i·S + k − P]`, with `x` zero
/// outside the sequence.
///
/// - `CI`, `CO`: input and output channels; `K`: kernel size; `S`: stride
///   (`U1` unless stated); `P`: zero padding at each end (`U0` unless
///   stated). `T`: the scalar, `f32` unless stated.
/// - Input `Matrix<T, CI, L>` (`[channel][position]`, PyTorch's layout) of
///   any length `L` the kernel fits; output `Matrix<T, CO, ConvOut<L, K, S, P>>`.
/// - Parameters, in PyTorch's order: `weight`, a `Tensor3<T, CO, CI, K>`
///   (`[out][in][k]`), then `bias`, a `Vector<T, CO>`.
/// - `Default` is all zeros; [`Initialize`] draws PyTorch's default
///   U(−1/√fan_in, 1/√fan_in), or any [`Scheme`], with fan-in `CI·K`
///   and fan-out `CO·K`.
///
/// ```
/// use typenet::prelude::*;
///
/// // A difference filter [-1, 1] over a sequence padded with one zero at each end.
/// let conv = Conv1d::<U1, U1, U2, U1, U1, f64>::new(tensor3([[[-1.0, 1.0]]]), vector([0.0]));
/// let y = conv.forward(&matrix([[1.0, 4.0, 9.0]]));
/// assert_eq!(y, matrix([[1.0, 3.0, 5.0, -9.0]]));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct Conv1d<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S = U1, P = typenum::U0, T = f32> {
    /// `[out][in][k]` weights.
    pub weight: Tensor3<T, CO, CI, K>,
    /// One bias per output channel.
    pub bias: Vector<T, CO>,
    shape: PhantomData<(S, P)>,
}

crate::params! {
    impl[CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar] Params<T> for Conv2d<CI, CO, K, S, P, T> {
        weight: Tensor4<T, CO, CI, K, K>,
        bias: Vector<T, CO>;
        shape: PhantomData<(S, P)> = PhantomData,
    }
}

crate::params! {
    impl[CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar] Params<T> for Conv1d<CI, CO, K, S, P, T> {
        weight: Tensor3<T, CO, CI, K>,
        bias: Vector<T, CO>;
        shape: PhantomData<(S, P)> = PhantomData,
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar> Conv2d<CI, CO, K, S, P, T> {
    /// A layer with the given weight and bias.
    pub fn new(weight: Tensor4<T, CO, CI, K, K>, bias: Vector<T, CO>) -> Self {
        Conv2d { weight, bias, shape: PhantomData }
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar> Conv1d<CI, CO, K, S, P, T> {
    /// A layer with the given weight and bias.
    pub fn new(weight: Tensor3<T, CO, CI, K>, bias: Vector<T, CO>) -> Self {
        Conv1d { weight, bias, shape: PhantomData }
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar> Initialize for Conv2d<CI, CO, K, S, P, T> {
    /// Weights with fan-in `CI·K·K` and fan-out `CO·K·K`; biases as the
    /// scheme says.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        init_conv(
            scheme,
            self.weight.as_flat_mut(),
            self.bias.as_flat_mut(),
            [CI::USIZE, CO::USIZE, K::USIZE * K::USIZE],
            rng,
        );
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar> Initialize for Conv1d<CI, CO, K, S, P, T> {
    /// Weights with fan-in `CI·K` and fan-out `CO·K`; biases as the scheme
    /// says.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        init_conv(scheme, self.weight.as_flat_mut(), self.bias.as_flat_mut(), [CI::USIZE, CO::USIZE, K::USIZE], rng);
    }
}

/// Draws a convolution's weight and bias: fan-in `c_in·taps`, fan-out
/// `c_out·taps`, where `taps` is the number of kernel positions.
fn init_conv<T: Scalar, R: Rng + ?Sized>(
    scheme: impl Scheme,
    w: &mut [T],
    b: &mut [T],
    [c_in, c_out, taps]: [usize; 3],
    rng: &mut R,
) {
    scheme.fill_weight(w, c_in * taps, c_out * taps, rng);
    scheme.fill_bias(b, c_in * taps, rng);
}

/// The sizes of a convolution layer on input `In`, as constants of its type.
trait Geometry<In> {
    const DIMS: Dims;
}

/// Layer `L` on input `In`: the type the kernels are compiled for.
struct On<L, In>(PhantomData<(L, In)>);

impl<L: Geometry<In>, In> ConvShape for On<L, In> {
    const DIMS: Dims = L::DIMS;
}

impl<CI, CO, K, S, P, T, C, H, W> Geometry<Tensor3<T, C, H, W>> for Conv2d<CI, CO, K, S, P, T>
where
    CI: ArrayLength,
    C: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    const DIMS: Dims = Dims {
        c_in: CI::USIZE,
        c_out: CO::USIZE,
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

/// A sequence is a plane of height 1, convolved by a kernel of height 1.
impl<CI, CO, K, S, P, T, C, L> Geometry<Matrix<T, C, L>> for Conv1d<CI, CO, K, S, P, T>
where
    CI: ArrayLength,
    C: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    L: ConvDims<K, S, P>,
{
    const DIMS: Dims = Dims {
        c_in: CI::USIZE,
        c_out: CO::USIZE,
        h: 1,
        w: L::USIZE,
        kh: 1,
        kw: K::USIZE,
        sh: 1,
        sw: S::USIZE,
        ph: 0,
        pw: P::USIZE,
        oh: 1,
        ow: ConvOut::<L, K, S, P>::USIZE,
    };
}

/// A `Conv2d<CI, …>` takes a `Tensor3<T, C, H, W>` of any channel count `C`
/// at the type level and checks `C == CI` at compile time, as `Dense` checks
/// its input size (see [`crate::chain`]'s size errors): one message, in
/// decimal, with the layer's position, whatever the call syntax.
///
/// ```compile_fail,E0080
/// use typenet::prelude::*;
/// // typenet: layer 3 of the model, `Conv2d<3, 8, 3>`, takes 3 channels, but layer 2 gives it 4
/// let net = <net![Conv2d<U1, U4, U3>, Relu, Conv2d<U3, U8, U3>]>::default();
/// let y = net.forward(&Tensor3::<f32, U1, U8, U8>::default());
/// ```
impl<CI, CO, K, S, P, T, C, H, W> Layer<Tensor3<T, C, H, W>> for Conv2d<CI, CO, K, S, P, T>
where
    CI: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    T: Scalar,
    C: ArrayLength,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Output = Tensor3<T, CO, ConvOut<H, K, S, P>, ConvOut<W, K, S, P>>;

    const MISFIT: Option<Misfit> =
        channels_misfit("Conv2d", [CI::USIZE, CO::USIZE, K::USIZE, S::USIZE, P::USIZE], C::USIZE);

    #[inline]
    fn forward(&self, x: &Tensor3<T, C, H, W>) -> Self::Output {
        let () = <Self as Layer<Tensor3<T, C, H, W>>>::FITS;
        self.forward_unchecked(x)
    }

    #[inline]
    fn forward_unchecked(&self, x: &Tensor3<T, C, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        T::conv_forward::<On<Self, Tensor3<T, C, H, W>>>(
            self.weight.as_flat(),
            self.bias.as_flat(),
            &[x.as_flat()],
            &mut [y.as_flat_mut()],
        );
        y
    }
}

/// A `Conv1d<CI, …>` takes a `Matrix<T, C, L>` of any channel count `C` and
/// checks `C == CI` at compile time, as [`Conv2d`] does.
impl<CI, CO, K, S, P, T, C, L> Layer<Matrix<T, C, L>> for Conv1d<CI, CO, K, S, P, T>
where
    CI: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    T: Scalar,
    C: ArrayLength,
    L: ConvDims<K, S, P>,
{
    type Output = Matrix<T, CO, ConvOut<L, K, S, P>>;

    const MISFIT: Option<Misfit> =
        channels_misfit("Conv1d", [CI::USIZE, CO::USIZE, K::USIZE, S::USIZE, P::USIZE], C::USIZE);

    #[inline]
    fn forward(&self, x: &Matrix<T, C, L>) -> Self::Output {
        let () = <Self as Layer<Matrix<T, C, L>>>::FITS;
        self.forward_unchecked(x)
    }

    #[inline]
    fn forward_unchecked(&self, x: &Matrix<T, C, L>) -> Self::Output {
        let mut y = Self::Output::default();
        T::conv_forward::<On<Self, Matrix<T, C, L>>>(
            self.weight.as_flat(),
            self.bias.as_flat(),
            &[x.as_flat()],
            &mut [y.as_flat_mut()],
        );
        y
    }
}

/// The misfit of a convolution `name<CI, CO, K, S, P>` given `c` channels
/// (stride and padding shown only when not 1 and 0, as they are written).
const fn channels_misfit(name: &'static str, [ci, co, k, s, p]: [usize; 5], c: usize) -> Option<Misfit> {
    if c == ci {
        return None;
    }
    let len = if p != 0 {
        5
    } else if s != 1 {
        4
    } else {
        3
    };
    Some(Misfit {
        layer: name,
        sizes: [ci, co, k, s, p, 0],
        len,
        unit: ["channel", "channels"],
        takes: ci,
        given: c,
        index: 0,
    })
}

impl<CI, CO, K, S, P, T, C, H, W> Train<Tensor3<T, C, H, W>> for Conv2d<CI, CO, K, S, P, T>
where
    CI: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    T: Scalar,
    C: ArrayLength,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Cache = ();

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        caches: [&mut (); B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        let () = <Self as Layer<Tensor3<T, C, H, W>>>::FITS;
        self.forward_train_block_unchecked(n, inputs, caches, outputs, rng);
    }

    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        caches: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Tensor3<T, C, H, W>; B]>,
    ) {
        let () = <Self as Layer<Tensor3<T, C, H, W>>>::FITS;
        self.backward_block_unchecked(n, inputs, caches, grad_outputs, grads, grad_inputs);
    }

    /// The whole block through the convolution kernel at once.
    #[inline]
    fn forward_train_block_unchecked<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        outputs: [&mut Self::Output; B],
        _: &mut R,
    ) {
        block_forward::<On<Self, Tensor3<T, C, H, W>>, _, _, _, B>(&self.weight, &self.bias, n, inputs, outputs);
    }

    /// `dW`, `db` summed over the block, and each sample's `dx` when asked
    /// for.
    #[inline]
    fn backward_block_unchecked<const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Tensor3<T, C, H, W>; B]>,
    ) {
        let grads = (grads.weight.as_flat_mut(), grads.bias.as_flat_mut());
        let weight = self.weight.as_flat();
        block_backward::<On<Self, Tensor3<T, C, H, W>>, _, _, _, B>(
            weight,
            n,
            inputs,
            grad_outputs,
            grads,
            grad_inputs,
        );
    }
}

impl<CI, CO, K, S, P, T, C, L> Train<Matrix<T, C, L>> for Conv1d<CI, CO, K, S, P, T>
where
    CI: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    T: Scalar,
    C: ArrayLength,
    L: ConvDims<K, S, P>,
{
    type Cache = ();

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, C, L>; B],
        caches: [&mut (); B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        let () = <Self as Layer<Matrix<T, C, L>>>::FITS;
        self.forward_train_block_unchecked(n, inputs, caches, outputs, rng);
    }

    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, C, L>; B],
        caches: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Matrix<T, C, L>; B]>,
    ) {
        let () = <Self as Layer<Matrix<T, C, L>>>::FITS;
        self.backward_block_unchecked(n, inputs, caches, grad_outputs, grads, grad_inputs);
    }

    /// The whole block through the convolution kernel at once.
    #[inline]
    fn forward_train_block_unchecked<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, C, L>; B],
        _: [&mut (); B],
        outputs: [&mut Self::Output; B],
        _: &mut R,
    ) {
        block_forward::<On<Self, Matrix<T, C, L>>, _, _, _, B>(&self.weight, &self.bias, n, inputs, outputs);
    }

    /// `dW`, `db` summed over the block, and each sample's `dx` when asked
    /// for.
    #[inline]
    fn backward_block_unchecked<const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, C, L>; B],
        _: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Matrix<T, C, L>; B]>,
    ) {
        let grads = (grads.weight.as_flat_mut(), grads.bias.as_flat_mut());
        let weight = self.weight.as_flat();
        block_backward::<On<Self, Matrix<T, C, L>>, _, _, _, B>(weight, n, inputs, grad_outputs, grads, grad_inputs);
    }
}

/// The block forward of convolution `G`: the first `n` samples through the
/// kernel at once.
#[inline(always)]
fn block_forward<G: ConvShape, T: Scalar, X: Tensor<Scalar = T>, Y: Tensor<Scalar = T>, const B: usize>(
    weight: &impl Tensor<Scalar = T>,
    bias: &impl Tensor<Scalar = T>,
    n: usize,
    inputs: [&X; B],
    outputs: [&mut Y; B],
) {
    let n = n.min(B);
    let (xs, mut ys) = (inputs.map(|x| x.as_flat()), outputs.map(|y| y.as_flat_mut()));
    T::conv_forward::<G>(weight.as_flat(), bias.as_flat(), &xs[..n], &mut ys[..n]);
}

/// The block backward of convolution `G`: `dW` and `db` summed over the
/// first `n` samples into `grads`, and each sample's `dx` when asked for.
#[inline(always)]
fn block_backward<G: ConvShape, T: Scalar, X: Tensor<Scalar = T>, Y: Tensor<Scalar = T>, const B: usize>(
    weight: &[T],
    n: usize,
    inputs: [&X; B],
    grad_outputs: [&Y; B],
    (gw, gb): (&mut [T], &mut [T]),
    grad_inputs: Option<[&mut X; B]>,
) {
    let n = n.min(B);
    let (xs, dys) = (inputs.map(|x| x.as_flat()), grad_outputs.map(|dy| dy.as_flat()));
    match grad_inputs {
        Some(dxs) => {
            let mut dxs = dxs.map(|dx| dx.as_flat_mut());
            T::conv_backward::<G>(weight, &xs[..n], &dys[..n], gw, gb, Some(&mut dxs[..n]));
        }
        None => T::conv_backward::<G>(weight, &xs[..n], &dys[..n], gw, gb, None),
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
    /// `y[o][i][j] = b[o] + Σ w[o][c][ky][kx] · x[c][i·s + ky − p][j·s + kx − p]`.
    fn definition(d: Dims, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
        let mut y = Vec::new();
        for o in 0..d.c_out {
            for i in 0..d.oh {
                for j in 0..d.ow {
                    let mut sum = b[o];
                    for c in 0..d.c_in {
                        for ky in 0..d.kh {
                            for kx in 0..d.kw {
                                let (iy, ix) = (
                                    (i * d.sh + ky) as isize - d.ph as isize,
                                    (j * d.sw + kx) as isize - d.pw as isize,
                                );
                                if (0..d.h as isize).contains(&iy) && (0..d.w as isize).contains(&ix) {
                                    let (iy, ix) = (iy as usize, ix as usize);
                                    sum += w[((o * d.c_in + c) * d.kh + ky) * d.kw + kx] * x[(c * d.h + iy) * d.w + ix];
                                }
                            }
                        }
                    }
                    y.push(sum);
                }
            }
        }
        y
    }

    /// Checks a convolution `L` on input `X` against [`definition`] and
    /// finite differences; returns the worst gradient error.
    fn check<L, X>(seed: u64) -> f64
    where
        X: Tensor<Scalar = f64>,
        L: Train<X> + Geometry<X> + Default,
    {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (mut conv, mut x) = (L::default(), X::default());
        randomize(&mut conv, &mut rng);
        randomize_input(&mut x, &mut rng);
        let mut params = Vec::new();
        conv.visit(&mut |t| params.push(t.to_vec()));
        let want = definition(L::DIMS, x.as_flat(), &params[0], &params[1]);
        let got = conv.forward(&x);
        assert_eq!(got.as_flat().len(), want.len());
        for (g, w) in got.as_flat().iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{}: {g} != {w}", core::any::type_name::<L>());
        }
        gradient_check::<L, X>(seed)
    }

    fn randomize_input<X: Tensor<Scalar = f64>>(x: &mut X, rng: &mut Xoshiro256PlusPlus) {
        x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random::<f64>() * 2.0 - 1.0);
    }

    type Image = Tensor3<f64, U2, U5, U6>;
    type Sequence = Matrix<f64, U2, U7>;

    /// Strides 1 and 2 with padding 0 and 1, then rows and columns wholly in
    /// the padding, a stride past the kernel, a kernel as wide as the input.
    #[test]
    fn convolutions_agree_with_the_definition_and_finite_differences() {
        let worst = [
            check::<Conv2d<U2, U3, U3, U1, U0, f64>, Image>(1),
            check::<Conv2d<U2, U3, U3, U1, U1, f64>, Image>(2),
            check::<Conv2d<U2, U3, U3, U2, U0, f64>, Image>(3),
            check::<Conv2d<U2, U3, U3, U2, U1, f64>, Image>(4),
            check::<Conv2d<U2, U3, U2, U3, U2, f64>, Image>(5),
            check::<Conv2d<U2, U3, U5, U2, U1, f64>, Image>(6),
            check::<Conv2d<U2, U1, U1, U1, U0, f64>, Image>(7),
            check::<Conv1d<U2, U3, U3, U1, U0, f64>, Sequence>(11),
            check::<Conv1d<U2, U3, U3, U1, U1, f64>, Sequence>(12),
            check::<Conv1d<U2, U3, U3, U2, U0, f64>, Sequence>(13),
            check::<Conv1d<U2, U3, U3, U2, U1, f64>, Sequence>(14),
            check::<Conv1d<U2, U3, U2, U3, U2, f64>, Sequence>(15),
            check::<Conv1d<U2, U3, U7, U1, U0, f64>, Sequence>(16),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        std::println!("convolutions: worst gradient-check error {worst:.2e}");
    }

    #[test]
    fn output_sizes_follow_pytorch() {
        typenum::assert_type_eq!(ConvOut<U5, U3, U1, U1>, U5);
        typenum::assert_type_eq!(ConvOut<U5, U3, U2, U0>, U2);
        typenum::assert_type_eq!(ConvOut<U6, U3, U2, U1>, U3);
        typenum::assert_type_eq!(ConvOut<U5, U2, U3, U2>, U3);
        typenum::assert_type_eq!(ConvOut<U3, U3, U1, U0>, U1);
        typenum::assert_type_eq!(ConvOut<U1, U3, U1, U1>, U1);
        typenum::assert_type_eq!(
            <Conv2d<U2, U4, U3, U2, U1> as Layer<Tensor3<f32, U2, U9, U6>>>::Output,
            Tensor3<f32, U4, U5, U3>
        );
        typenum::assert_type_eq!(<Conv1d<U2, U4, U3> as Layer<Matrix<f32, U2, U9>>>::Output, Matrix<f32, U4, U7>);
    }

    /// In `f32` (the wide kernel on x86-64), a block of 5 samples in slots
    /// of 8 gives each sample's output and input gradient as the
    /// per-sample passes do, and the sum of their parameter gradients.
    #[test]
    fn blocks_agree_with_samples() {
        type Conv = Conv2d<U2, U5, U3, U1, U1>;
        type In = Tensor3<f32, U2, U7, U6>;
        type Out = Tensor3<f32, U5, U7, U6>;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
        let mut conv = Conv::default();
        conv.init(&mut rng);
        let (mut xs, mut dys) = ([In::default(); 8], [Out::default(); 8]);
        xs.iter_mut().for_each(|x| x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0)));
        dys.iter_mut().for_each(|y| y.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0)));
        let (mut ys, mut dxs, mut caches) = ([Out::default(); 8], [In::default(); 8], [(); 8]);
        conv.forward_train_block(5, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        let (mut block, mut each) = (Conv::default(), Conv::default());
        conv.backward_block(5, xs.each_ref(), [(); 8].each_mut(), dys.each_ref(), &mut block, Some(dxs.each_mut()));
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| (a - b).abs() <= 1e-5 * (1.0 + a.abs()));
        for b in 0..5 {
            assert!(close(conv.forward(&xs[b]).as_flat(), ys[b].as_flat()), "output {b}");
            let dx = conv.backward(&xs[b], &mut (), &dys[b], &mut each);
            assert!(close(dx.as_flat(), dxs[b].as_flat()), "input gradient {b}");
        }
        assert!(ys[5..].iter().all(|y| *y == Out::default()), "slots past n stay as they were");
        assert!(
            close(each.weight.as_flat(), block.weight.as_flat()) && close(each.bias.as_flat(), block.bias.as_flat())
        );
        let mut params_only = Conv::default();
        conv.backward_block(5, xs.each_ref(), [(); 8].each_mut(), dys.each_ref(), &mut params_only, None);
        assert_eq!(params_only, block);
    }

    #[test]
    fn skipping_the_input_gradient_keeps_the_parameter_gradients() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
        let (mut conv, mut x, mut dy) =
            (Conv2d::<U2, U3, U3, U2, U1, f64>::default(), Image::default(), Default::default());
        randomize(&mut conv, &mut rng);
        randomize_input(&mut x, &mut rng);
        randomize_input::<Tensor3<f64, U3, U3, U3>>(&mut dy, &mut rng);
        let (mut a, mut b) = (Conv2d::default(), Conv2d::default());
        conv.backward(&x, &mut (), &dy, &mut a);
        conv.backward_block(1, [&x], [&mut ()], [&dy], &mut b, None);
        assert_eq!(a, b);
        // Gradients accumulate.
        conv.backward_block(1, [&x], [&mut ()], [&dy], &mut b, None);
        assert!(b.weight.as_flat().iter().zip(a.weight.as_flat()).all(|(b, a)| (b - 2.0 * a).abs() < 1e-12));
        assert!(b.bias.iter().zip(a.bias.iter()).all(|(b, a)| (b - 2.0 * a).abs() < 1e-12));
    }

    #[test]
    fn parameters_are_the_weight_then_the_bias() {
        let mut conv = Conv2d::<U2, U3, U3>::default();
        assert_eq!(<Conv2d<U2, U3, U3> as Params<f32>>::COUNT, 3 * 2 * 3 * 3 + 3);
        let padded = |bytes: usize| bytes.next_multiple_of(crate::memory::LAYER_ALIGN);
        assert_eq!(size_of::<Conv2d<U2, U3, U3>>(), padded((3 * 2 * 3 * 3 + 3) * 4));
        assert_eq!(size_of::<Conv1d<U2, U3, U3, U1, U0, f64>>(), padded((3 * 2 * 3 + 3) * 8));
        let mut k = 0.0;
        conv.visit_mut(&mut |t| {
            t.iter_mut().for_each(|p| {
                *p = k;
                k += 1.0;
            })
        });
        // [o = 1][c = 0][ky = 2][kx = 1] is ((1·2 + 0)·3 + 2)·3 + 1 = 25 in the flat order.
        assert_eq!(conv.weight[1][0][2][1], 25.0);
        assert_eq!(conv.bias.as_slice(), &[54.0, 55.0, 56.0]);
    }

    #[test]
    fn pytorch_init_draws_within_one_over_root_fan_in() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(22);
        let mut conv = Conv2d::<U4, U8, U3>::default();
        conv.init(&mut rng);
        let bound = 1.0 / (4.0f32 * 9.0).sqrt();
        for t in [conv.weight.as_flat(), conv.bias.as_flat()] {
            assert!(t.iter().all(|v| v.abs() <= bound));
            assert!(t.iter().any(|v| v.abs() > 0.8 * bound));
        }
        let mut conv = Conv1d::<U4, U8, U3>::default();
        conv.init_with(crate::init::HeUniform, &mut rng);
        let bound = (6.0f32 / 12.0).sqrt();
        assert!(conv.weight.as_flat().iter().all(|v| v.abs() <= bound));
        assert!(conv.weight.as_flat().iter().any(|v| v.abs() > 0.9 * bound));
        assert!(conv.bias.iter().all(|&b| b == 0.0));
    }
}
