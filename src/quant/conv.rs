//! The int8 `Conv2d`: TFLite's `CONV_2D` with per-channel int8 weights.

use core::marker::PhantomData;

use generic_array::ArrayLength;
use typenum::Unsigned;

use crate::kernel::int8::{self, Window};
use crate::layer::Layer;
use crate::layers::Conv2d as Conv2dF32;
use crate::layers::conv::{ConvDims, ConvOut};
use crate::quant::channels::{Channels, WeightRows, quantize_weights};
use crate::quant::convert::{Int8Form, ObservesOutput, OutputStage, OwnLayer, QuantError, ToInt8};
use crate::quant::scale::{Clamp, QParams, Range};
use crate::quant::{Int8Params, Int8Tensor, SIGNATURE_SEED, Values, ValuesMut, signature};
use crate::shape::{Tensor, Tensor3, Tensor4, Vector};

/// The int8 twin of [`Conv2d<CI, CO, K, S, P>`](crate::layers::Conv2d):
/// from `CI` to `CO` channels, a `K×K` kernel, stride `S`, zero padding `P`
/// on each side (padding holds the input's zero point: real zero).
///
/// - Weights `[out][in][kh][kw]`, int8, symmetric per output channel.
/// - Per channel ([`Channels`]): int32 bias, requantisation, output zero
///   point, fused activation clamp.
/// - Input `Tensor3<i8, CI, H, W>`, output `Tensor3<i8, CO, H', W'>` with
///   the `f32` layer's sizes.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::quant::{self, Clamp, QParams};
///
/// // A 2×2 box filter over one channel, every scale 1 and zero points 0.
/// let q = QParams { scale: 1.0, zero_point: 0 };
/// let weight = Tensor4::<i8, U1, U1, U2, U2>::from_array([tensor3([[[1, 1], [1, 1]]])]);
/// let conv = quant::Conv2d::<U1, U1, U2>::from_tflite(weight, &[1.0], &[0], q, q, Clamp::default());
/// let y = conv.forward(&tensor3([[[1, 2, 3], [4, 5, 6]]]));
/// assert_eq!(y, tensor3([[[12, 16]]]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S = typenum::U1, P = typenum::U0> {
    weight: Tensor4<i8, CO, CI, K, K>,
    pub(crate) channels: Channels<CO>,
    /// `bias − z_in · Σ W[o]`: the input zero point folded into the bias.
    kernel_bias: Vector<i32, CO>,
    shape: PhantomData<(S, P)>,
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P> Default for Conv2d<CI, CO, K, S, P> {
    fn default() -> Self {
        Conv2d {
            weight: Default::default(),
            channels: Channels::default(),
            kernel_bias: Default::default(),
            shape: PhantomData,
        }
    }
}

crate::zeroable!(impl[CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P] for Conv2d<CI, CO, K, S, P> {
    weight: Tensor4<i8, CO, CI, K, K>,
    channels: Channels<CO>,
    kernel_bias: Vector<i32, CO>,
    shape: PhantomData<(S, P)>,
});

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P> crate::memory::DefaultInPlace for Conv2d<CI, CO, K, S, P> {
    fn zeroed_to_default(&mut self) {
        self.channels = Channels::default();
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S: Unsigned, P: Unsigned> Conv2d<CI, CO, K, S, P> {
    /// The layer TFLite describes: int8 weights `[out][in][kh][kw]`, one
    /// weight scale per output channel, int32 biases, input and output
    /// quantisation, fused activation clamp.
    ///
    /// # Panics
    ///
    /// If `weight_scales` or `bias` holds fewer values than the layer has
    /// output channels (a programming error: the sizes are the type's).
    pub fn from_tflite(
        weight: Tensor4<i8, CO, CI, K, K>,
        weight_scales: &[f32],
        bias: &[i32],
        input: QParams,
        output: QParams,
        clamp: Clamp,
    ) -> Self {
        let channels = Channels::from_scales(weight_scales, bias, input, output, clamp);
        let mut layer = Conv2d { weight, channels, kernel_bias: Vector::default(), shape: PhantomData };
        layer.refresh();
        layer
    }

    /// The int8 weights, `[out][in][kh][kw]`.
    pub fn weight(&self) -> &Tensor4<i8, CO, CI, K, K> {
        &self.weight
    }

    /// The per-channel output stage.
    pub fn channels(&self) -> &Channels<CO> {
        &self.channels
    }
}

impl<CI, CO, K, S, P, H, W> Layer<Tensor3<i8, CI, H, W>> for Conv2d<CI, CO, K, S, P>
where
    CI: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Output = Tensor3<i8, CO, ConvOut<H, K, S, P>, ConvOut<W, K, S, P>>;

    #[inline]
    fn forward(&self, x: &Tensor3<i8, CI, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        let window = Window::of::<CI, H, W, K, S, P>();
        let (oh, ow) = (ConvOut::<H, K, S, P>::USIZE, ConvOut::<W, K, S, P>::USIZE);
        let positions = oh * ow;
        let pad = self.channels.input.zero_point.clamp(-128, 127) as i8;
        // The whole layer in the instruction set's leaf where there is one
        // (x86-64: a matrix product over packed columns), the same bits as below.
        let stage = self.channels.stage(&self.kernel_bias);
        if int8::conv(&window, self.weight.as_flat(), &stage, x.as_flat(), pad, y.as_flat_mut()) {
            return y;
        }
        let (mut patch, mut next_patch) = (Tensor3::<i8, CI, K, K>::default(), Tensor3::<i8, CI, K, K>::default());
        let (mut acc, mut next_acc) = (Vector::<i32, CO>::default(), Vector::<i32, CO>::default());
        let (input, out, w) = (x.as_flat(), y.as_flat_mut(), self.weight.as_flat());
        // Output positions two at a time (row-major, `p` and `p + 1`): the
        // kernel takes both windows against the same weights (the
        // Cortex-M4 leaf loads and widens each weight once for both).
        let mut p = 0;
        while p < positions {
            window.gather(input, p / ow, p % ow, pad, patch.as_flat_mut());
            acc.copy_from_slice(&self.kernel_bias);
            if p + 1 < positions {
                window.gather(input, (p + 1) / ow, (p + 1) % ow, pad, next_patch.as_flat_mut());
                next_acc.copy_from_slice(&self.kernel_bias);
                int8::matvec2(w, patch.as_flat(), next_patch.as_flat(), &mut acc, &mut next_acc);
                for (o, &sum) in next_acc.iter().enumerate() {
                    out[o * positions + p + 1] = self.channels.finish(o, sum);
                }
            } else {
                int8::matvec(w, patch.as_flat(), &mut acc);
            }
            for (o, &sum) in acc.iter().enumerate() {
                out[o * positions + p] = self.channels.finish(o, sum);
            }
            p += 2;
        }
        y
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S: Unsigned, P: Unsigned> Int8Params
    for Conv2d<CI, CO, K, S, P>
{
    const BYTES: usize = CO::USIZE * CI::USIZE * K::USIZE * K::USIZE + Channels::<CO>::BYTES;
    const SIGNATURE: u32 = signature(SIGNATURE_SEED, &[2, CI::U32, CO::U32, K::U32, S::U32, P::U32]);

    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        f(Values::Weights(self.weight.as_flat()));
        self.channels.visit(f);
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        f(ValuesMut::Weights(self.weight.as_flat_mut()));
        self.channels.visit_mut(f);
    }

    fn refresh(&mut self) {
        self.channels.fold_zero_point(self.weight.as_flat(), &mut self.kernel_bias);
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P> Int8Form for Conv2dF32<CI, CO, K, S, P, f32> {
    type Role = OwnLayer;
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P> ObservesOutput for Conv2dF32<CI, CO, K, S, P, f32> {}

impl<CI, CO, K, S, P, H, W> ToInt8<Tensor3<f32, CI, H, W>> for Conv2dF32<CI, CO, K, S, P, f32>
where
    CI: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    S: Unsigned,
    P: Unsigned,
    H: ConvDims<K, S, P>,
    W: ConvDims<K, S, P>,
{
    type Int8 = Conv2d<CI, CO, K, S, P>;
    type Stage = OutputStage<CO>;
    const NAME: &'static str = "Conv2d";

    fn stage(&self) -> OutputStage<CO> {
        OutputStage::default()
    }

    fn to_int8(
        &self,
        _: &Range,
        stage: &OutputStage<CO>,
        input: QParams,
        output: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let rows = WeightRows { weights: Tensor::as_flat(&self.weight), bias: &self.bias, stage };
        quantize_weights(rows, input, output, at, "Conv2d", out.weight.as_flat_mut(), &mut out.channels)?;
        out.refresh();
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use generic_array::GenericArray;
    use generic_array::sequence::GenericSequence;
    use typenum::{U1, U2, U3, U5, Unsigned};

    use super::Conv2d;
    use crate::layer::Layer;
    use crate::prelude::{RngExt, SeedableRng, Xoshiro256PlusPlus};
    use crate::quant::{Clamp, Int8Tensor, QParams};
    use crate::shape::{Tensor3, Tensor4};

    /// TFLite's `reference_integer_ops::ConvPerChannel`, spelled out:
    /// padded taps are skipped, the others add `w · (x − z_in)`.
    fn reference<S: typenum::Unsigned, P: typenum::Unsigned>(
        layer: &Conv2d<U2, U3, U3, S, P>,
        x: &Tensor3<i8, U2, U5, U5>,
        oh: usize,
        ow: usize,
    ) -> std::vec::Vec<i8> {
        let c = layer.channels();
        let mut out = std::vec![0i8; 3 * oh * ow];
        for o in 0..3 {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = c.bias[o];
                    for ci in 0..2 {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (y, xx) = (
                                    (oy * S::USIZE + ky) as isize - P::ISIZE,
                                    (ox * S::USIZE + kx) as isize - P::ISIZE,
                                );
                                if (0..5).contains(&y) && (0..5).contains(&xx) {
                                    acc += layer.weight()[o][ci][ky][kx] as i32
                                        * (x[ci][y as usize][xx as usize] as i32 - c.input.zero_point);
                                }
                            }
                        }
                    }
                    out[(o * oh + oy) * ow + ox] = c.finish(o, acc);
                }
            }
        }
        out
    }

    fn layer<S: Unsigned, P: Unsigned>(rng: &mut Xoshiro256PlusPlus) -> Conv2d<U2, U3, U3, S, P> {
        let weight: Tensor4<i8, U3, U2, U3, U3> = GenericArray::generate(|_| {
            GenericArray::generate(|_| {
                GenericArray::generate(|_| GenericArray::generate(|_| rng.random_range(-127..=127)))
            })
        });
        let input = QParams { scale: 0.03, zero_point: 11 };
        let output = QParams { scale: 0.2, zero_point: -9 };
        Conv2d::from_tflite(weight, &[0.01, 0.004, 0.02], &[300, -1000, 5], input, output, Clamp { min: -9, max: 127 })
    }

    #[test]
    fn padded_strided_conv_matches_the_reference_arithmetic() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let same = layer::<U1, U1>(&mut rng);
        let strided = layer::<U2, U1>(&mut rng);
        let valid = layer::<U2, typenum::U0>(&mut rng);
        for _ in 0..20 {
            let x: Tensor3<i8, U2, U5, U5> =
                GenericArray::generate(|_| GenericArray::generate(|_| GenericArray::generate(|_| rng.random())));
            assert_eq!(same.forward(&x).as_flat(), reference(&same, &x, 5, 5).as_slice());
            assert_eq!(strided.forward(&x).as_flat(), reference(&strided, &x, 3, 3).as_slice());
            assert_eq!(valid.forward(&x).as_flat(), reference(&valid, &x, 2, 2).as_slice());
        }
    }
}
