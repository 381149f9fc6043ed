//! Int8 against TFLite: every case of `tests/fixtures/int8.rs`
//! (`tools/fixtures/gen_int8.py`: Keras models converted to full-integer
//! TFLite models, run by LiteRT's reference kernels).
//!
//! Two checks per layer:
//! - **kernels**: the int8 layer built from TFLite's parameters
//!   (`from_tflite`) gives TFLite's int8 outputs on every test input, bit
//!   for bit;
//! - **conversion**: typenet's conversion of the same `f32` layer, given
//!   the ranges TFLite's calibration recorded, gives TFLite's scales, zero
//!   points, int8 weights, int32 biases, multipliers and clamps exactly,
//!   and typenet's own calibration gives the same zero points and scales
//!   within two ulps (the `f32` sums that make the ranges are ordered
//!   differently).
//!
//! `FULLY_CONNECTED` is checked against `OUTPUTS_MBQM`: the fixed-point
//! requantisation of TFLite Micro and of every TFLite kernel but one.
//! LiteRT's desktop reference `FULLY_CONNECTED` requantises in `f64`
//! (`OUTPUTS`), which an integer-only device cannot; the two differ on one
//! value of the fixtures, which the test pins.

#[path = "../fixtures/int8.rs"]
mod fixtures;

use typenet::prelude::*;
use typenet::quant::{self, Activation, Calibrate, Clamp, Int8Of, Int8Tensor, QParams, Range};

/// A tensor holding `values`.
fn load<X: Tensor<Scalar = f32>>(values: &[f32]) -> X {
    assert_eq!(values.len(), X::LEN, "fixture length");
    let mut x = X::default();
    x.as_flat_mut().copy_from_slice(values);
    x
}

/// An int8 tensor holding `values`.
fn load_i8<X: Int8Tensor>(values: &[i8]) -> X {
    assert_eq!(values.len(), X::LEN, "fixture length");
    let mut x = X::default();
    x.as_flat_mut().copy_from_slice(values);
    x
}

fn range([min, max]: [f32; 2]) -> Range {
    Range { min, max, count: 1, non_finite: false }
}

fn activation(name: &str) -> Activation {
    match name {
        "none" => Activation::None,
        "relu" => Activation::Relu,
        "relu6" => Activation::Relu6,
        other => panic!("unknown activation {other}"),
    }
}

/// Sets every range a calibration holds (a chain's, nested) to one range.
trait SetAll {
    fn set_all(&mut self, r: Range);
}

impl SetAll for Range {
    fn set_all(&mut self, r: Range) {
        *self = r;
    }
}

impl<A: SetAll> SetAll for (A,) {
    fn set_all(&mut self, r: Range) {
        self.0.set_all(r);
    }
}

impl<A: SetAll, B: SetAll> SetAll for (A, B) {
    fn set_all(&mut self, r: Range) {
        self.0.set_all(r);
        self.1.set_all(r);
    }
}

/// The calibration of `net` on the fixture's samples, and the same with
/// TFLite's recorded ranges in place of typenet's.
fn calibrations<In, Net>(
    net: &Net,
    samples: &[In],
    input: [f32; 2],
    output: [f32; 2],
) -> [quant::Calibration<In, Net::Ranges>; 2]
where
    In: Tensor<Scalar = f32>,
    Net: Calibrate<In, Ranges: SetAll>,
{
    let own = quant::calibrate(net, samples);
    let mut tflite = own.clone();
    tflite.input = range(input);
    tflite.layers.set_all(range(output));
    [own, tflite]
}

/// Scales within two ulps; zero points equal.
fn assert_close(q: QParams, scale: f32, zero_point: i32, what: &str) {
    assert_eq!(q.zero_point, zero_point, "{what} zero point");
    assert!((q.scale - scale).abs() <= 2.0 * f32::EPSILON * scale, "{what} scale {} vs TFLite's {scale}", q.scale);
}

/// A layer with weights: the int8 layer from TFLite's parameters against
/// TFLite's outputs (`$outputs`), and typenet's conversion of the `f32`
/// layer (then `$act`) against TFLite's converter.
macro_rules! weighted_case {
    ($case:ident, $int8:ty, $f32:ty, $input:ty, $act:ty, $outputs:ident) => {
        mod $case {
            use super::fixtures::$case as fx;
            use super::*;

            fn tflite_layer() -> $int8 {
                let q = |s, z| QParams { scale: s, zero_point: z };
                let clamp = Clamp { min: fx::ACTIVATION_MIN as i8, max: fx::ACTIVATION_MAX as i8 };
                let layer = <$int8>::from_tflite(
                    load_i8(&fx::WEIGHT),
                    &fx::WEIGHT_SCALES,
                    &fx::BIAS,
                    q(fx::INPUT_SCALE, fx::INPUT_ZERO_POINT),
                    q(fx::OUTPUT_SCALE, fx::OUTPUT_ZERO_POINT),
                    clamp,
                );
                assert_eq!(Clamp::of(activation(fx::ACTIVATION), layer.channels().output), clamp);
                layer
            }

            #[test]
            fn kernel_is_bit_exact() {
                let layer = tflite_layer();
                assert_eq!(layer.channels().multiplier.as_slice(), &fx::OUTPUT_MULTIPLIER);
                assert_eq!(layer.channels().shift.as_slice(), &fx::OUTPUT_SHIFT);
                for (x, want) in fx::INPUTS.iter().zip(&fx::$outputs) {
                    assert_eq!(layer.forward(&load_i8::<Int8Of<$input>>(x)).as_flat(), want);
                }
            }

            #[test]
            fn conversion_matches_the_converter() {
                let mut net = <net![$f32, $act]>::default();
                net.0 = <$f32>::new(load(&fx::FLOAT_WEIGHT), load(&fx::FLOAT_BIAS));
                let samples: Vec<$input> = fx::CALIBRATION.iter().map(|x| load(x)).collect();
                let [own, tflite] = calibrations(&net, &samples, fx::INPUT_RANGE, fx::OUTPUT_RANGE);

                let int8 = quant::quantize(&net, &tflite).unwrap();
                assert_eq!((int8.input.scale, int8.input.zero_point), (fx::INPUT_SCALE, fx::INPUT_ZERO_POINT));
                assert_eq!((int8.output.scale, int8.output.zero_point), (fx::OUTPUT_SCALE, fx::OUTPUT_ZERO_POINT));
                assert_eq!(&int8.net.0, &tflite_layer(), "weights, biases, multipliers, clamp");

                let int8 = quant::quantize(&net, &own).unwrap();
                assert_close(int8.input, fx::INPUT_SCALE, fx::INPUT_ZERO_POINT, "input");
                assert_close(int8.output, fx::OUTPUT_SCALE, fx::OUTPUT_ZERO_POINT, "output");
            }
        }
    };
}

// FULLY_CONNECTED against the fixed-point outputs (see the module docs).
weighted_case!(dense_16_8, quant::Dense<U16, U8>, Dense<U16, U8>, Vector<f32, U16>, Identity, OUTPUTS_MBQM);
weighted_case!(dense_16_8_relu, quant::Dense<U16, U8>, Dense<U16, U8>, Vector<f32, U16>, Relu, OUTPUTS_MBQM);
weighted_case!(dense_20_6_relu6, quant::Dense<U20, U6>, Dense<U20, U6>, Vector<f32, U20>, Relu6, OUTPUTS_MBQM);
weighted_case!(dense_64_10, quant::Dense<U64, U10>, Dense<U64, U10>, Vector<f32, U64>, Identity, OUTPUTS_MBQM);

type Image<C, H, W> = Tensor3<f32, C, H, W>;
weighted_case!(conv2d_k3_s1_p1, quant::Conv2d<U3, U4, U3, U1, U1>, Conv2d<U3, U4, U3, U1, U1>, Image<U3, U7, U7>, Relu, OUTPUTS);
weighted_case!(conv2d_k3_s2_p1, quant::Conv2d<U3, U4, U3, U2, U1>, Conv2d<U3, U4, U3, U2, U1>, Image<U3, U8, U8>, Identity, OUTPUTS);
weighted_case!(conv2d_k5_s1_p0, quant::Conv2d<U3, U4, U5, U1, U0>, Conv2d<U3, U4, U5, U1, U0>, Image<U3, U9, U9>, Relu6, OUTPUTS);
weighted_case!(conv2d_k1_s1, quant::Conv2d<U6, U5, U1, U1, U0>, Conv2d<U6, U5, U1, U1, U0>, Image<U6, U5, U5>, Relu, OUTPUTS);
weighted_case!(conv2d_k1_s2, quant::Conv2d<U6, U5, U1, U2, U0>, Conv2d<U6, U5, U1, U2, U0>, Image<U6, U6, U6>, Identity, OUTPUTS);
weighted_case!(conv2d_k3_s2_p0, quant::Conv2d<U3, U4, U3, U2, U0>, Conv2d<U3, U4, U3, U2, U0>, Image<U3, U9, U9>, Relu, OUTPUTS);

type Depthwise8<C, M, K, S, P> = quant::DepthwiseConv2d<C, K, S, P, M>;
type DepthwiseF32<C, M, K, S, P> = DepthwiseConv2d<C, K, S, P, M>;
weighted_case!(depthwise_k3_s1_p1, Depthwise8<U4, U1, U3, U1, U1>, DepthwiseF32<U4, U1, U3, U1, U1>, Image<U4, U7, U7>, Relu, OUTPUTS);
weighted_case!(depthwise_k3_s2_p1, Depthwise8<U3, U1, U3, U2, U1>, DepthwiseF32<U3, U1, U3, U2, U1>, Image<U3, U8, U8>, Relu6, OUTPUTS);
weighted_case!(depthwise_k3_s1_p0_m2, Depthwise8<U2, U2, U3, U1, U0>, DepthwiseF32<U2, U2, U3, U1, U0>, Image<U2, U6, U6>, Identity, OUTPUTS);

/// LiteRT's desktop reference `FULLY_CONNECTED` rounds in `f64`; the
/// fixed-point multiplier (TFLite Micro's, typenet's) differs from it on
/// this one value of the fixtures, by one level.
#[test]
fn desktop_reference_dense_differs_from_the_fixed_point_one_once() {
    use fixtures::dense_64_10 as fx;
    let differing: Vec<(usize, usize)> = (0..fx::OUTPUTS.len())
        .flat_map(|s| (0..fx::OUT).map(move |o| (s, o)))
        .filter(|&(s, o)| fx::OUTPUTS[s][o] != fx::OUTPUTS_MBQM[s][o])
        .collect();
    assert_eq!(differing.len(), 1, "{differing:?}");
    let (s, o) = differing[0];
    assert_eq!((fx::OUTPUTS[s][o] as i32 - fx::OUTPUTS_MBQM[s][o] as i32).abs(), 1);
}

macro_rules! pool_case {
    ($case:ident, $pool:ty, $c:ty, $h:ty, $w:ty) => {
        #[test]
        fn $case() {
            use fixtures::$case as fx;
            // Pooling keeps its input's quantisation, as TFLite requires.
            assert_eq!((fx::INPUT_SCALE, fx::INPUT_ZERO_POINT), (fx::OUTPUT_SCALE, fx::OUTPUT_ZERO_POINT));
            let pool = <$pool>::new();
            for (x, want) in fx::INPUTS.iter().zip(&fx::OUTPUTS) {
                assert_eq!(pool.forward(&load_i8::<Tensor3<i8, $c, $h, $w>>(x)).as_flat(), want);
            }
        }
    };
}

pool_case!(max_pool_k2_s2, MaxPool2d<U2, U2>, U3, U8, U8);
pool_case!(max_pool_k3_s2, MaxPool2d<U3, U2>, U3, U9, U9);
pool_case!(avg_pool_k2_s2, AvgPool2d<U2, U2>, U3, U8, U8);
pool_case!(avg_pool_k3_s1, AvgPool2d<U3, U1>, U3, U6, U6);

macro_rules! mean_case {
    ($case:ident, $c:ty, $h:ty, $w:ty) => {
        #[test]
        fn $case() {
            use fixtures::$case as fx;
            let q = |s, z| QParams { scale: s, zero_point: z };
            let input = q(fx::INPUT_SCALE, fx::INPUT_ZERO_POINT);
            let output = q(fx::OUTPUT_SCALE, fx::OUTPUT_ZERO_POINT);
            let gap = quant::GlobalAvgPool::from_tflite(input, output, fx::H * fx::W);
            for (x, want) in fx::INPUTS.iter().zip(&fx::OUTPUTS) {
                assert_eq!(gap.forward(&load_i8::<Tensor3<i8, $c, $h, $w>>(x)).as_slice(), want);
            }

            // Converted from the f32 layer, with TFLite's ranges: the same layer.
            let net = <net![GlobalAvgPool]>::default();
            let samples: Vec<Tensor3<f32, $c, $h, $w>> = fx::CALIBRATION.iter().map(|x| load(x)).collect();
            let [_, tflite] = calibrations(&net, &samples, fx::INPUT_RANGE, fx::OUTPUT_RANGE);
            let int8 = quant::quantize(&net, &tflite).unwrap();
            assert_eq!((int8.input, int8.output), (input, output));
            assert_eq!(int8.net.0, gap);
        }
    };
}

mean_case!(global_avg_pool_c5, U5, U4, U4);
mean_case!(global_avg_pool_c8, U8, U5, U5);

macro_rules! add_case {
    ($case:ident) => {
        #[test]
        fn $case() {
            use fixtures::$case as fx;
            let q = |s, z| QParams { scale: s, zero_point: z };
            let output = q(fx::OUTPUT_SCALE, fx::OUTPUT_ZERO_POINT);
            let clamp = Clamp { min: fx::ACTIVATION_MIN as i8, max: fx::ACTIVATION_MAX as i8 };
            assert_eq!(Clamp::of(activation(fx::ACTIVATION), output), clamp);
            let add = quant::Add::new(
                q(fx::INPUT1_SCALE, fx::INPUT1_ZERO_POINT),
                q(fx::INPUT2_SCALE, fx::INPUT2_ZERO_POINT),
                output,
                clamp,
            );
            for ((a, b), want) in fx::INPUTS1.iter().zip(&fx::INPUTS2).zip(&fx::OUTPUTS) {
                let mut y = *a;
                add.apply_into(&mut y, b);
                assert_eq!(&y, want);
            }
        }
    };
}

add_case!(add);
add_case!(add_relu);

/// `QUANTIZE` of float inputs (its last sample is all exact ties), then
/// the dense layer after it.
#[test]
fn quantize_rounds_ties_away_from_zero() {
    use fixtures::quantize as fx;
    let q = QParams { scale: fx::INPUT_SCALE, zero_point: fx::INPUT_ZERO_POINT };
    for (x, want) in fx::FLOAT_INPUTS.iter().zip(&fx::INPUTS) {
        let mut got = [0i8; 16];
        q.quantize_slice(x, &mut got);
        assert_eq!(&got, want);
    }
}

/// A whole network, conv + ReLU → max pool → flatten → dense, converted by
/// typenet from the Keras model's `f32` weights with TFLite's ranges: every
/// intermediate tensor and the logits equal TFLite's.
#[test]
fn chain_converted_by_typenet_runs_like_tflite() {
    use fixtures::chain as fx;
    type Net = net![Conv2d<U1, U4, U3, U1, U1>, Relu, MaxPool2d<U2>, Flatten, Dense<U64, U10>];
    let mut net = Net::default();
    net.0 = Conv2d::new(load(&fx::CONV_FLOAT_WEIGHT), load(&fx::CONV_FLOAT_BIAS));
    *net.layer_mut::<U4>() = Dense::new(load(&fx::DENSE_FLOAT_WEIGHT), load(&fx::DENSE_FLOAT_BIAS));
    let samples: Vec<Tensor3<f32, U1, U8, U8>> = fx::CALIBRATION.iter().map(|x| load(x)).collect();
    let mut calibration = quant::calibrate(&net, &samples);
    calibration.input = range(fx::INPUT_RANGE);
    calibration.layers.0 = range(fx::CONV_OUTPUT_RANGE);
    calibration.layers.1.0 = range(fx::CONV_OUTPUT_RANGE);
    calibration.layers.1.1.1.1.0 = range(fx::DENSE_OUTPUT_RANGE);

    let int8 = quant::quantize(&net, &calibration).unwrap();
    let (conv, (pool, (flatten, (dense,)))) = &int8.net;
    assert_eq!(conv.weight().as_flat(), &fx::CONV_WEIGHT);
    assert_eq!(conv.channels().bias.as_slice(), &fx::CONV_BIAS);
    assert_eq!(dense.weight().as_flat(), &fx::DENSE_WEIGHT);
    assert_eq!(dense.channels().bias.as_slice(), &fx::DENSE_BIAS);
    assert_eq!((int8.output.scale, int8.output.zero_point), (fx::DENSE_OUTPUT_SCALE, fx::DENSE_OUTPUT_ZERO_POINT));
    for (s, x) in fx::INPUTS.iter().enumerate() {
        let x = load_i8::<Tensor3<i8, U1, U8, U8>>(x);
        let a = conv.forward(&x);
        assert_eq!(a.as_flat(), &fx::INTERMEDIATE_0[s], "conv, sample {s}");
        let b = pool.forward(&a);
        assert_eq!(b.as_flat(), &fx::INTERMEDIATE_1[s], "pool, sample {s}");
        let c = flatten.forward(&b);
        assert_eq!(c.as_flat(), &fx::INTERMEDIATE_2[s], "flatten, sample {s}");
        assert_eq!(dense.forward(&c).as_slice(), &fx::OUTPUTS_MBQM[s], "logits, sample {s}");
        assert_eq!(int8.forward(&x), dense.forward(&c));
    }
}
