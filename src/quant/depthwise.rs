//! The int8 `DepthwiseConv2d`: TFLite's `DEPTHWISE_CONV_2D` with per-channel
//! int8 weights.

use core::marker::PhantomData;

use generic_array::ArrayLength;
use typenum::{U0, U1, Unsigned};

use crate::kernel::int8;
use crate::layer::Layer;
use crate::layers::DepthwiseConv2d as DepthwiseF32;
use crate::layers::conv::{ConvDims, ConvOut};
use crate::quant::channels::{Channels, WeightRows, quantize_weights};
use crate::quant::convert::{Int8Form, ObservesOutput, OutputStage, OwnLayer, QuantError, ToInt8};
use crate::quant::scale::{Clamp, QParams, Range};
use crate::quant::{Int8Params, Int8Tensor, SIGNATURE_SEED, Values, ValuesMut, signature};
use crate::shape::{Matrix, Tensor, Tensor3, Times, TimesOf, Vector};

/// The int8 twin of [`DepthwiseConv2d<C, K, S, P, M>`](crate::layers::DepthwiseConv2d):
/// each of `C` channels filtered on its own by `M` kernels of `K×K`, stride
/// `S`, padding `P` (real zero, the input's zero point).
///
/// - Weights `[C·M][kh][kw]`, int8, symmetric per output channel; output
///   channel `o` filters input channel `o / M` (TFLite's numbering too).
/// - Per channel ([`Channels`]): int32 bias, requantisation, output zero
///   point, fused activation clamp.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::quant::{self, Clamp, QParams};
///
/// // Two channels, a 1×2 kernel each (K = 2, one row of the window used).
/// let q = QParams { scale: 1.0, zero_point: 0 };
/// let w = GenericArray::from_array([matrix([[1, 1], [0, 0]]), matrix([[2, 0], [0, 0]])]);
/// let dw = quant::DepthwiseConv2d::<U2, U2>::from_tflite(w, &[1.0, 1.0], &[0, 1], q, q, Clamp::default());
/// let y = dw.forward(&tensor3([[[1, 2, 3], [0, 0, 0]], [[4, 5, 6], [0, 0, 0]]]));
/// assert_eq!(y, tensor3([[[3, 5]], [[9, 11]]]));
/// ```
pub struct DepthwiseConv2d<C: Times<M>, K: ArrayLength, S = U1, P = U0, M = U1> {
    weight: Vector<Matrix<i8, K, K>, TimesOf<C, M>>,
    pub(crate) channels: Channels<TimesOf<C, M>>,
    shape: PhantomData<(S, P)>,
}

// Written out: derives would ask bounds of `C` and `M` that the computed
// channel count `TimesOf<C, M>` does not need.
impl<C: Times<M>, K: ArrayLength, S, P, M> Clone for DepthwiseConv2d<C, K, S, P, M> {
    fn clone(&self) -> Self {
        DepthwiseConv2d { weight: self.weight.clone(), channels: self.channels.clone(), shape: PhantomData }
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M> core::fmt::Debug for DepthwiseConv2d<C, K, S, P, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DepthwiseConv2d").field("weight", &self.weight).field("channels", &self.channels).finish()
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M> PartialEq for DepthwiseConv2d<C, K, S, P, M> {
    fn eq(&self, other: &Self) -> bool {
        self.weight == other.weight && self.channels == other.channels
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M> Default for DepthwiseConv2d<C, K, S, P, M> {
    fn default() -> Self {
        DepthwiseConv2d { weight: Default::default(), channels: Channels::default(), shape: PhantomData }
    }
}

crate::zeroable!(impl[C: Times<M>, K: ArrayLength, S, P, M] for DepthwiseConv2d<C, K, S, P, M> {
    weight: Vector<Matrix<i8, K, K>, TimesOf<C, M>>,
    channels: Channels<TimesOf<C, M>>,
    shape: PhantomData<(S, P)>,
});

impl<C: Times<M>, K: ArrayLength, S, P, M> crate::memory::DefaultInPlace for DepthwiseConv2d<C, K, S, P, M> {
    fn zeroed_to_default(&mut self) {
        self.channels = Channels::default();
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M> DepthwiseConv2d<C, K, S, P, M> {
    /// The layer TFLite describes: int8 weights `[C·M][kh][kw]`, one weight
    /// scale per output channel, int32 biases, input and output
    /// quantisation, fused activation clamp.
    ///
    /// # Panics
    ///
    /// If `weight_scales` or `bias` holds fewer values than the layer has
    /// output channels (a programming error: the sizes are the type's).
    pub fn from_tflite(
        weight: Vector<Matrix<i8, K, K>, TimesOf<C, M>>,
        weight_scales: &[f32],
        bias: &[i32],
        input: QParams,
        output: QParams,
        clamp: Clamp,
    ) -> Self {
        DepthwiseConv2d {
            weight,
            channels: Channels::from_scales(weight_scales, bias, input, output, clamp),
            shape: PhantomData,
        }
    }

    /// The int8 weights, `[C·M][kh][kw]`.
    pub fn weight(&self) -> &Vector<Matrix<i8, K, K>, TimesOf<C, M>> {
        &self.weight
    }

    /// The per-channel output stage.
    pub fn channels(&self) -> &Channels<TimesOf<C, M>> {
        &self.channels
    }
}

impl<C, K, S, P, M, H, W> Layer<Tensor3<i8, C, H, W>> for DepthwiseConv2d<C, K, S, P, M>
where
    C: Times<M>,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    M: Unsigned,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Output = Tensor3<i8, TimesOf<C, M>, ConvOut<H, K, S, P>, ConvOut<W, K, S, P>>;

    /// TFLite's reference arithmetic: taps outside the input are skipped
    /// (they stand for real zero), the others add `w · (x − z_in)`.
    #[inline]
    fn forward(&self, x: &Tensor3<i8, C, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        let (k, s, p) = (K::USIZE, S::USIZE, P::ISIZE);
        let (h, w) = (H::ISIZE, W::ISIZE);
        let zero_point = self.channels.input.zero_point;
        // In the instruction set's leaf where there is one (phase planes
        // padded with the zero point), the same bits as below.
        if let Ok(pad) = i8::try_from(zero_point) {
            let window = int8::Window::of::<C, H, W, K, S, P>();
            let stage = self.channels.stage(&self.channels.bias);
            let (input, out) = (x.as_flat(), y.as_flat_mut());
            if int8::depthwise(&window, M::USIZE, self.weight.as_flat(), &stage, pad, input, out) {
                return y;
            }
        }
        for (o, (kernel, plane_out)) in self.weight.iter().zip(y.iter_mut()).enumerate() {
            let plane = &x[o / M::USIZE];
            let bias = self.channels.bias[o];
            for (oy, row_out) in plane_out.iter_mut().enumerate() {
                for (ox, out) in row_out.iter_mut().enumerate() {
                    let (y0, x0) = ((oy * s) as isize - p, (ox * s) as isize - p);
                    let mut acc = bias;
                    for ky in 0..k {
                        let iy = y0 + ky as isize;
                        if iy < 0 || iy >= h {
                            continue;
                        }
                        let row = &plane[iy as usize];
                        for kx in 0..k {
                            let ix = x0 + kx as isize;
                            if ix >= 0 && ix < w {
                                acc = acc.wrapping_add(kernel[ky][kx] as i32 * (row[ix as usize] as i32 - zero_point));
                            }
                        }
                    }
                    *out = self.channels.finish(o, acc);
                }
            }
        }
        y
    }
}

impl<C: Times<M>, K: ArrayLength, S: Unsigned, P: Unsigned, M: Unsigned> Int8Params for DepthwiseConv2d<C, K, S, P, M> {
    const BYTES: usize = TimesOf::<C, M>::USIZE * K::USIZE * K::USIZE + Channels::<TimesOf<C, M>>::BYTES;
    const SIGNATURE: u32 = signature(SIGNATURE_SEED, &[3, C::U32, K::U32, S::U32, P::U32, M::U32]);

    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        f(Values::Weights(self.weight.as_flat()));
        self.channels.visit(f);
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        f(ValuesMut::Weights(self.weight.as_flat_mut()));
        self.channels.visit_mut(f);
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M> Int8Form for DepthwiseF32<C, K, S, P, M, f32> {
    type Role = OwnLayer;
}

impl<C: Times<M>, K: ArrayLength, S, P, M> ObservesOutput for DepthwiseF32<C, K, S, P, M, f32> {}

impl<C, K, S, P, M, H, W> ToInt8<Tensor3<f32, C, H, W>> for DepthwiseF32<C, K, S, P, M, f32>
where
    C: Times<M>,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    M: Unsigned,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Int8 = DepthwiseConv2d<C, K, S, P, M>;
    type Stage = OutputStage<TimesOf<C, M>>;
    const NAME: &'static str = "DepthwiseConv2d";

    fn stage(&self) -> Self::Stage {
        OutputStage::default()
    }

    fn to_int8(
        &self,
        _: &Range,
        stage: &Self::Stage,
        input: QParams,
        output: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let rows = WeightRows { weights: Tensor::as_flat(&self.weight), bias: &self.bias, stage };
        quantize_weights(rows, input, output, at, "DepthwiseConv2d", out.weight.as_flat_mut(), &mut out.channels)?;
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use generic_array::GenericArray;
    use generic_array::sequence::GenericSequence;
    use typenum::{U0, U1, U2, U3, U6};

    use super::DepthwiseConv2d;
    use crate::layer::Layer;
    use crate::prelude::{RngExt, SeedableRng, Xoshiro256PlusPlus};
    use crate::quant::{Clamp, QParams};
    use crate::shape::Tensor3;

    #[test]
    fn padding_is_real_zero() {
        // A 3×3 kernel of ones at padding 1 over a constant image of real
        // zero (the zero point) gives real zero (the output zero point)
        // everywhere, border included.
        let input = QParams { scale: 0.1, zero_point: -20 };
        let output = QParams { scale: 0.1, zero_point: 7 };
        let ones = GenericArray::generate(|_| GenericArray::generate(|_| GenericArray::generate(|_| 1i8)));
        let dw = DepthwiseConv2d::<U2, U3, U1, U1, U1>::from_tflite(
            ones,
            &[1.0, 1.0],
            &[0, 0],
            input,
            output,
            Clamp::default(),
        );
        let x = Tensor3::<i8, U2, U6, U6>::generate(|_| GenericArray::generate(|_| GenericArray::generate(|_| -20)));
        let y = dw.forward(&x);
        assert!(y.iter().flatten().flatten().all(|&v| v == 7));
    }

    #[test]
    fn multiplier_two_filters_each_channel_twice() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let q = QParams { scale: 1.0, zero_point: 0 };
        let w = GenericArray::generate(|_| {
            GenericArray::generate(|_| GenericArray::generate(|_| rng.random_range(-3..=3)))
        });
        let dw = DepthwiseConv2d::<U2, U3, U2, U0, U2>::from_tflite(w, &[1.0; 4], &[0; 4], q, q, Clamp::default());
        let x = Tensor3::<i8, U2, U6, U6>::generate(|_| {
            GenericArray::generate(|_| GenericArray::generate(|_| rng.random_range(-9..=9)))
        });
        let y = dw.forward(&x);
        for o in 0..4 {
            for (oy, ox) in [(0, 0), (1, 1), (0, 1)] {
                let want: i32 = (0..3)
                    .flat_map(|ky| (0..3).map(move |kx| (ky, kx)))
                    .map(|(ky, kx)| dw.weight()[o][ky][kx] as i32 * x[o / 2][oy * 2 + ky][ox * 2 + kx] as i32)
                    .sum();
                assert_eq!(y[o][oy][ox] as i32, want.clamp(-128, 127), "channel {o} at ({oy}, {ox})");
            }
        }
    }
}
