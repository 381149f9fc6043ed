//! The int8 `Dense`: TFLite's `FULLY_CONNECTED` with int8 weights.

use generic_array::ArrayLength;

use crate::kernel::int8;
use crate::layer::Layer;
use crate::layers::Dense as DenseF32;
use crate::quant::channels::{Channels, WeightRows, quantize_weights};
use crate::quant::convert::{Int8Form, ObservesOutput, OutputStage, OwnLayer, QuantError, ToInt8};
use crate::quant::scale::{QParams, Range};
use crate::quant::{Int8Params, Int8Tensor, SIGNATURE_SEED, Values, ValuesMut, signature};
use crate::shape::{Matrix, Tensor, Vector};

/// The int8 twin of [`Dense<I, O>`](crate::layers::Dense): `y = requantise(W·(x − z_in) + b)`.
///
/// - Weights `[out][in]`, int8, symmetric per output channel (zero point 0).
/// - Per channel ([`Channels`]): int32 bias at scale `s_in · s_w[o]`,
///   fixed-point requantisation to `s_out`, the output zero point and the
///   fused activation's clamp.
/// - Input `Vector<i8, I>`, output `Vector<i8, O>`.
///
/// Built by [`quantize`](crate::quant::quantize) from a trained `Dense`
/// (with a following batch norm folded, ReLU or ReLU6 fused), or from
/// TFLite's parameters with [`Dense::from_tflite`].
///
/// ```
/// use typenet::prelude::*;
/// use typenet::quant::{self, Clamp, QParams};
///
/// // y = 2·x₀ − x₁ with every scale 1/8 and zero points 0.
/// let q = QParams { scale: 0.125, zero_point: 0 };
/// let layer = quant::Dense::<U2, U1>::from_tflite(matrix([[16, -8]]), &[0.125], &[0], q, q, Clamp::default());
/// // x = (1.0, 0.5) is (8, 4) in int8; y = 1.5 is 12.
/// assert_eq!(layer.forward(&vector([8, 4]))[0], 12);
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Dense<I: ArrayLength, O: ArrayLength> {
    weight: Matrix<i8, O, I>,
    pub(crate) channels: Channels<O>,
    /// `bias − z_in · Σᵢ W[o][i]`: the input zero point folded into the
    /// bias, so the kernel multiplies raw int8 values.
    kernel_bias: Vector<i32, O>,
}

crate::zeroable!(impl[I: ArrayLength, O: ArrayLength] for Dense<I, O> {
    weight: Matrix<i8, O, I>,
    channels: Channels<O>,
    kernel_bias: Vector<i32, O>,
});

impl<I: ArrayLength, O: ArrayLength> crate::memory::DefaultInPlace for Dense<I, O> {
    fn zeroed_to_default(&mut self) {
        self.channels = Channels::default();
    }
}

impl<I: ArrayLength, O: ArrayLength> Dense<I, O> {
    /// The layer TFLite describes: int8 weights `[out][in]`, one weight
    /// scale per output channel (repeat a per-tensor scale), int32 biases,
    /// input and output quantisation, fused activation clamp.
    ///
    /// # Panics
    ///
    /// If `weight_scales` or `bias` holds fewer values than the layer has
    /// output channels (a programming error: the sizes are the type's).
    pub fn from_tflite(
        weight: Matrix<i8, O, I>,
        weight_scales: &[f32],
        bias: &[i32],
        input: QParams,
        output: QParams,
        clamp: crate::quant::Clamp,
    ) -> Self {
        let mut layer = Dense {
            weight,
            channels: Channels::from_scales(weight_scales, bias, input, output, clamp),
            kernel_bias: Vector::default(),
        };
        layer.refresh();
        layer
    }

    /// The int8 weights, `[out][in]`.
    pub fn weight(&self) -> &Matrix<i8, O, I> {
        &self.weight
    }

    /// The per-channel output stage.
    pub fn channels(&self) -> &Channels<O> {
        &self.channels
    }
}

impl<I: ArrayLength, O: ArrayLength> Layer<Vector<i8, I>> for Dense<I, O> {
    type Output = Vector<i8, O>;

    #[inline]
    fn forward(&self, x: &Vector<i8, I>) -> Vector<i8, O> {
        // The sums start at the folded bias; the kernel adds `W·x` to all
        // rows in one call (the Cortex-M4 leaf reads `x` once per two rows).
        let mut acc = Vector::<i32, O>::default();
        acc.copy_from_slice(&self.kernel_bias);
        int8::matvec(Int8Tensor::as_flat(&self.weight), x, &mut acc);
        let mut y = Vector::<i8, O>::default();
        for (o, (out, &acc)) in y.iter_mut().zip(acc.iter()).enumerate() {
            *out = self.channels.finish(o, acc);
        }
        y
    }
}

impl<I: ArrayLength, O: ArrayLength> Int8Params for Dense<I, O> {
    const BYTES: usize = O::USIZE * I::USIZE + Channels::<O>::BYTES;
    const SIGNATURE: u32 = signature(SIGNATURE_SEED, &[1, I::U32, O::U32]);

    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        f(Values::Weights(Int8Tensor::as_flat(&self.weight)));
        self.channels.visit(f);
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        f(ValuesMut::Weights(Int8Tensor::as_flat_mut(&mut self.weight)));
        self.channels.visit_mut(f);
    }

    fn refresh(&mut self) {
        self.channels.fold_zero_point(Int8Tensor::as_flat(&self.weight), &mut self.kernel_bias);
    }
}

impl<I: ArrayLength, O: ArrayLength> Int8Form for DenseF32<I, O, f32> {
    type Role = OwnLayer;
}

impl<I: ArrayLength, O: ArrayLength> ObservesOutput for DenseF32<I, O, f32> {}

impl<I: ArrayLength, O: ArrayLength> ToInt8<Vector<f32, I>> for DenseF32<I, O, f32> {
    type Int8 = Dense<I, O>;
    type Stage = OutputStage<O>;
    const NAME: &'static str = "Dense";

    fn stage(&self) -> OutputStage<O> {
        OutputStage::default()
    }

    fn to_int8(
        &self,
        _: &Range,
        stage: &OutputStage<O>,
        input: QParams,
        output: QParams,
        at: usize,
        out: &mut Dense<I, O>,
    ) -> Result<QParams, QuantError> {
        let rows = WeightRows { weights: self.weight.as_flat(), bias: &self.bias, stage };
        quantize_weights(
            rows,
            input,
            output,
            at,
            Self::NAME,
            Int8Tensor::as_flat_mut(&mut out.weight),
            &mut out.channels,
        )?;
        out.refresh();
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use generic_array::GenericArray;
    use generic_array::sequence::GenericSequence;

    use super::Dense;
    use crate::prelude::*;
    use crate::quant::{self, Clamp, QParams};
    use crate::shape::{Matrix, Vector};

    /// The reference arithmetic, spelled out: what TFLite's
    /// `reference_integer_ops::FullyConnected` computes.
    fn reference<I: ArrayLength, O: ArrayLength>(layer: &Dense<I, O>, x: &[i8]) -> std::vec::Vec<i8> {
        let c = &layer.channels;
        (0..O::USIZE)
            .map(|o| {
                let acc: i32 =
                    (0..I::USIZE).map(|i| layer.weight[o][i] as i32 * (x[i] as i32 - c.input.zero_point)).sum::<i32>()
                        + c.bias[o];
                let v = c.requantize(o).apply(acc) + c.output.zero_point;
                v.clamp(c.clamp.min as i32, c.clamp.max as i32) as i8
            })
            .collect()
    }

    #[test]
    fn folded_zero_point_gives_the_reference_arithmetic() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let weight: Matrix<i8, U3, U7> =
            GenericArray::generate(|_| GenericArray::generate(|_| rng.random_range(-127..=127)));
        let input = QParams { scale: 0.02, zero_point: -17 };
        let output = QParams { scale: 0.09, zero_point: 5 };
        let layer = Dense::from_tflite(
            weight,
            &[0.004, 0.011, 0.0007],
            &[1200, -5000, 77],
            input,
            output,
            Clamp { min: 5, max: 127 },
        );
        for _ in 0..50 {
            let x: Vector<i8, U7> = GenericArray::generate(|_| rng.random());
            assert_eq!(layer.forward(&x).as_slice(), reference(&layer, &x).as_slice());
        }
    }

    #[test]
    fn converted_layer_tracks_the_float_one() {
        let mut net = <net![crate::layers::Dense<U6, U4>, Relu]>::default();
        net.init(&mut Xoshiro256PlusPlus::seed_from_u64(2));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let samples: std::vec::Vec<Vector<f32, U6>> =
            (0..100).map(|_| GenericArray::generate(|_| rng.random_range(-1.0..2.0))).collect();
        let calibration = quant::calibrate(&net, &samples);
        let int8 = quant::quantize(&net, &calibration).unwrap();
        let _: &quant::Quantized<(Dense<U6, U4>,)> = &int8;
        for x in &samples {
            let y = int8.forward(&int8.quantize_input(x));
            let f = net.forward(x);
            for (q, f) in y.iter().zip(f) {
                let back = int8.output.dequantize(*q);
                assert!((back - f).abs() <= 3.0 * int8.output.scale, "{back} vs {f}");
                assert!(back >= 0.0, "the ReLU is fused into the clamp");
            }
        }
    }
}
