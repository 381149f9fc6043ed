//! Whole models against TFLite: the digits MLP, the digits CNN, the MNIST
//! DS-CNN and the MNIST ResNet-8 of the examples, built in Keras from their
//! trained `f32` parameters, converted by TFLite to full-integer int8
//! models (calibrated on the examples' own calibration samples), imported by
//! `tools/interop/import_tflite.py` and loaded into the examples' types
//! (`tests/fixtures/int8_models/`, `tools/fixtures/gen_int8_models.py`).
//!
//! Per model:
//! - the imported file loads into `quant::QuantizedOf<Net, Input>` of the
//!   `f32` type declared here (its signature is that architecture's);
//! - on 20 test samples, quantised as typenet quantises its input, the int8
//!   logits are TFLite Micro's reference kernels' bit for bit;
//! - the `f32` parameters give the Keras model's float logits (to rounding).
//!
//! LiteRT's desktop reference `FULLY_CONNECTED` requantises in `f64` where
//! TFLite Micro and typenet use the fixed-point multiplier: on these samples
//! that changes one logit of the digits MLP by one step, pinned below.

#[path = "../fixtures/int8_models/fixtures.rs"]
mod fixtures;

use typenet::prelude::*;
use typenet::quant::{self, Int8Params, QParams, QuantizeChain, ToInt8Tensor};

use crate::models::{Cnn, Digit, DigitImage, DsCnn, Mlp, MnistImage, ResNet8};

/// What the fixture holds of one model.
struct Fixture {
    f32_file: &'static [u8],
    int8_file: &'static [u8],
    signature: u32,
    input: QParams,
    outputs: &'static [[i8; 10]; 20],
    float_outputs: &'static [[f32; 10]; 20],
}

macro_rules! fixture {
    ($name:ident) => {
        Fixture {
            f32_file: include_bytes!(concat!("../fixtures/int8_models/", stringify!($name), "_f32.tnet")),
            int8_file: include_bytes!(concat!("../fixtures/int8_models/", stringify!($name), "_tflite_int8.tnet")),
            signature: fixtures::$name::SIGNATURE,
            input: QParams { scale: fixtures::$name::INPUT_SCALE, zero_point: fixtures::$name::INPUT_ZERO_POINT },
            outputs: &fixtures::$name::OUTPUTS,
            float_outputs: &fixtures::$name::FLOAT_OUTPUTS,
        }
    };
}

/// An `f32` tensor holding `values`.
fn tensor<X: Tensor<Scalar = f32>>(values: impl IntoIterator<Item = f32>) -> X {
    let mut x = X::default();
    let mut n = 0;
    for (slot, v) in x.as_flat_mut().iter_mut().zip(values) {
        *slot = v;
        n += 1;
    }
    assert_eq!(n, X::LEN, "fixture length");
    x
}

/// The digits examples' input: pixel / 16.
fn digit<X: Tensor<Scalar = f32>>(pixels: &[u8; 64]) -> X {
    tensor(pixels.iter().map(|&p| p as f32 / 16.0))
}

/// The MNIST examples' input: `(byte / 255 − 0.1307) / 0.3081` in `f32`,
/// as `load_idx` and `common::mnist` compute it.
fn mnist(pixels: &[u8; 784]) -> MnistImage {
    tensor(pixels.iter().map(|&p| (p as f32 / 255.0 - 0.1307) / 0.3081))
}

/// The int8 logits of the imported model, loaded into the examples' type.
fn int8_logits<Net, X>(fx: &Fixture, inputs: &[X]) -> Vec<[i8; 10]>
where
    X: ToInt8Tensor<Scalar = f32>,
    Net: QuantizeChain<X>,
    Net::Int8: Int8Params + Default + Layer<X::Int8, Output = Vector<i8, U10>>,
{
    let mut int8 = Box::<quant::QuantizedOf<Net, X>>::default();
    quant::file::load(&mut *int8, fx.int8_file).expect("the imported file loads into the example's type");
    assert_eq!(quant::QuantizedOf::<Net, X>::SIGNATURE, fx.signature);
    assert_eq!(int8.input, fx.input, "TFLite's input quantisation");
    inputs
        .iter()
        .map(|x| {
            let y = int8.forward(&int8.quantize_input(x));
            core::array::from_fn(|i| y[i])
        })
        .collect()
}

/// Checks the int8 logits against TFLite Micro's, every sample, and the
/// `f32` model against Keras's float logits.
fn check<Net, X>(fx: &Fixture, inputs: &[X])
where
    X: ToInt8Tensor<Scalar = f32>,
    Net: QuantizeChain<X> + Params<f32> + Default + Layer<X, Output = Vector<f32, U10>>,
    Net::Int8: Int8Params + Default + Layer<X::Int8, Output = Vector<i8, U10>>,
{
    for (s, (got, want)) in int8_logits::<Net, X>(fx, inputs).iter().zip(fx.outputs).enumerate() {
        assert_eq!(got, want, "int8 logits of sample {s}");
    }
    let mut net = Box::<Net>::default();
    typenet::io::load(&mut *net, fx.f32_file).expect("the f32 parameters load");
    for (s, (x, want)) in inputs.iter().zip(fx.float_outputs).enumerate() {
        let y = net.forward(x);
        let top = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (o, (a, b)) in y.iter().zip(want).enumerate() {
            assert!((a - b).abs() <= 1e-4 * top, "f32 logit {o} of sample {s}: typenet {a}, Keras {b}");
        }
    }
}

/// The larger models' forward passes (unoptimised in tests) want more than
/// a test thread's default stack.
fn with_stack(run: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(64 << 20).spawn(run).unwrap().join().unwrap();
}

#[test]
fn digits_mlp_is_tflite_bit_for_bit() {
    let inputs: Vec<Digit> = fixtures::digits::TEST_PIXELS.iter().map(digit).collect();
    check::<Mlp, _>(&fixture!(digits_mlp), &inputs);
}

#[test]
fn digits_cnn_is_tflite_bit_for_bit() {
    let inputs: Vec<DigitImage> = fixtures::digits::TEST_PIXELS.iter().map(digit).collect();
    check::<Cnn, _>(&fixture!(digits_cnn), &inputs);
}

#[test]
fn mnist_dscnn_is_tflite_bit_for_bit() {
    with_stack(|| {
        let inputs: Vec<MnistImage> = fixtures::mnist::TEST_PIXELS.iter().map(mnist).collect();
        check::<DsCnn, _>(&fixture!(mnist_dscnn), &inputs);
    });
}

#[test]
fn mnist_resnet_is_tflite_bit_for_bit() {
    with_stack(|| {
        let inputs: Vec<MnistImage> = fixtures::mnist::TEST_PIXELS.iter().map(mnist).collect();
        check::<ResNet8, _>(&fixture!(mnist_resnet), &inputs);
    });
}

/// LiteRT's desktop `BUILTIN_REF` kernels differ from TFLite Micro (and
/// typenet) in one logit of these fixtures: the digits MLP's sample 15,
/// logit 1, one step apart, from its `f64` requantisation.
#[test]
fn desktop_reference_dense_differs_once() {
    assert_eq!(fixtures::digits_mlp::BUILTIN_REF_DIFFERS, [(15, 1, -66)]);
    assert!(fixtures::digits_cnn::BUILTIN_REF_DIFFERS.is_empty());
    assert!(fixtures::mnist_dscnn::BUILTIN_REF_DIFFERS.is_empty());
    assert!(fixtures::mnist_resnet::BUILTIN_REF_DIFFERS.is_empty());
    let inputs: Vec<Digit> = fixtures::digits::TEST_PIXELS.iter().map(digit).collect();
    let typenet = int8_logits::<Mlp, _>(&fixture!(digits_mlp), &inputs);
    for (s, o, desktop) in fixtures::digits_mlp::BUILTIN_REF_DIFFERS {
        assert_eq!(typenet[s][o], fixtures::digits_mlp::OUTPUTS[s][o]);
        assert_eq!((typenet[s][o] as i32 - desktop as i32).abs(), 1);
    }
}

/// The file written for one example's type is refused by another's.
#[test]
fn a_file_for_another_architecture_is_refused() {
    let mut cnn = Box::<quant::QuantizedOf<Cnn, DigitImage>>::default();
    let mlp_file = fixture!(digits_mlp).int8_file;
    assert!(matches!(quant::file::load(&mut *cnn, mlp_file), Err(typenet::ParamsError::WrongLength { .. })));
    // The DS-CNN's file, flat: the same bytes but for the signature, which
    // follows the nesting of the `Separable` blocks.
    type Flat = net![
        Conv2d<U1, U32, U3, U2, U1>,
        Relu,
        DepthwiseConv2d<U32, U3, U1, U1>,
        Relu,
        Pointwise<U32, U32>,
        Relu,
        DepthwiseConv2d<U32, U3, U2, U1>,
        Relu,
        Pointwise<U32, U64>,
        Relu,
        DepthwiseConv2d<U64, U3, U1, U1>,
        Relu,
        Pointwise<U64, U64>,
        Relu,
        DepthwiseConv2d<U64, U3, U1, U1>,
        Relu,
        Pointwise<U64, U64>,
        Relu,
        GlobalAvgPool,
        Dense<U64, U10>
    ];
    with_stack(|| {
        let mut flat = Box::<quant::QuantizedOf<Flat, MnistImage>>::default();
        let file = fixture!(mnist_dscnn).int8_file;
        assert_eq!(file.len(), quant::file::encoded_len::<quant::QuantizedOf<Flat, MnistImage>>());
        assert!(matches!(quant::file::load(&mut *flat, file), Err(typenet::ParamsError::WrongArchitecture { .. })));
    });
}

/// The generator calibrated the digits models on the examples' training
/// digits: its Python split is `stratified_split`'s.
#[test]
fn the_digits_calibration_set_is_the_examples_training_split() {
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv")).unwrap();
    let mut rows: Vec<(usize, usize)> = csv
        .lines()
        .skip(1)
        .enumerate()
        .map(|(i, line)| (i, line.split(',').next().unwrap().parse().unwrap()))
        .collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    let split = typenet::data::stratified_split::<_, U10, _>(&mut rows, 0.6, 0.2, &mut rng).unwrap();
    let train: Vec<usize> = split.train.iter().map(|&(i, _)| i).collect();
    assert_eq!(train.len(), fixtures::digits::TRAIN_LEN);
    assert_eq!(train[..16], fixtures::digits::TRAIN_FIRST);
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &i in &train {
        for b in (i as u32).to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    }
    assert_eq!(h, fixtures::digits::TRAIN_FNV1A);
}
