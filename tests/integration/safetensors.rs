//! `safetensors` files by `state_dict` key (feature `safetensors`): files
//! written by PyTorch's `save_file(model.state_dict())` (fixtures made by
//! tools/fixtures/gen_safetensors.py) load and give PyTorch's outputs,
//! typenet writes them back byte for byte, and every refusal names the key.

#[path = "../fixtures/safetensors.rs"]
mod fixtures;

use typenet::check::randomize;
use typenet::io::safetensors::{self, Names, SafetensorsError, StateDict};
use typenet::prelude::*;

type Mlp<T> = net![Dense<U4, U8, T>, Tanh, Dense<U8, U3, T>];
type Cnn = net![Conv2d<U1, U4, U3, U1, U1>, BatchNorm2d<U4>, Relu, MaxPool2d<U2>, Flatten, Dense<U36, U3>];
/// gen_blocks.py's residual CNN; `GlobalAvgPool` is PyTorch's
/// `AdaptiveAvgPool2d(1), Flatten()`.
type ResNet = net![
    Conv2d<U1, U4, U3, U1, U1, f64>,
    Relu,
    Residual<net![Conv2d<U4, U4, U3, U1, U1, f64>, Relu, Conv2d<U4, U4, U3, U1, U1, f64>]>,
    Relu,
    Projected<
        net![Conv2d<U4, U8, U3, U2, U1, f64>, HardSwish, Conv2d<U8, U8, U3, U1, U1, f64>],
        Conv2d<U4, U8, U1, U2, U0, f64>,
    >,
    Relu6,
    GlobalAvgPool,
    LayerNorm<U8, f64>,
    Dense<U8, U3, f64>,
];
type LstmNet = net![Lstm<U3, U4>, LastStep, Dense<U4, U2>];

const MLP: &[u8] = include_bytes!("../fixtures/st_mlp_f32.safetensors");
const CNN: &[u8] = include_bytes!("../fixtures/st_cnn_bn_f32.safetensors");
const RESNET: &[u8] = include_bytes!("../fixtures/st_resnet_f64.safetensors");
const LSTM: &[u8] = include_bytes!("../fixtures/st_lstm_f32.safetensors");

/// PyTorch's module names for `LstmNet`: `self.lstm`, `self.fc`.
fn lstm_names() -> Names {
    Names::new().rename("0", "lstm").rename("2", "fc")
}

/// Every state value's bits, in order (`f32` widens exactly).
fn bits<P: Params<T>, T: Scalar>(params: &P) -> Vec<u64> {
    let mut out = Vec::new();
    params.visit_state(&mut |t| out.extend(t.iter().map(|&v| Scalar::to_f64(v).to_bits())));
    out
}

/// `model` loaded from `bytes`, with `names`.
fn loaded<P: StateDict<T> + Default, T: Scalar>(bytes: &[u8], names: &Names) -> P {
    let mut model = P::default();
    safetensors::load_with(&mut model, bytes, names).unwrap();
    model
}

/// Checks `model`'s outputs on `xs` (flat inputs of `X`) against PyTorch's `ys`.
fn assert_outputs<P, X, T>(model: &P, xs: &[T], ys: &[T], tolerance: f64)
where
    P: Layer<X, Output: Tensor<Scalar = T>>,
    X: Tensor<Scalar = T> + Default,
    T: Scalar,
{
    let outputs = ys.len() / (xs.len() / X::LEN);
    for (x, want) in xs.chunks(X::LEN).zip(ys.chunks(outputs)) {
        let mut input = X::default();
        input.as_flat_mut().copy_from_slice(x);
        let y = model.forward(&input);
        for (got, want) in y.as_flat().iter().zip(want) {
            let (got, want) = (Scalar::to_f64(*got), Scalar::to_f64(*want));
            assert!((got - want).abs() <= tolerance * want.abs().max(1.0), "{got} vs PyTorch's {want}");
        }
    }
}

#[test]
fn torch_files_give_torchs_outputs() {
    let mlp: Mlp<f32> = loaded(MLP, &Names::new());
    assert_outputs::<_, Vector<f32, U4>, _>(&mlp, &fixtures::MLP_X, &fixtures::MLP_Y, 1e-5);

    let cnn: Cnn = loaded(CNN, &Names::new());
    assert_eq!(cnn.layer::<U1>().num_batches_tracked, 3.0); // PyTorch's int64 count
    assert_outputs::<_, Tensor3<f32, U1, U6, U6>, _>(&cnn, &fixtures::CNN_X, &fixtures::CNN_Y, 1e-5);

    let resnet: ResNet = loaded(RESNET, &Names::new());
    assert_outputs::<_, Tensor3<f64, U1, U6, U6>, _>(&resnet, &fixtures::RESNET_X, &fixtures::RESNET_Y, 1e-12);

    let lstm: LstmNet = loaded(LSTM, &lstm_names());
    assert_outputs::<_, Matrix<f32, U5, U3>, _>(&lstm, &fixtures::LSTM_X, &fixtures::LSTM_Y, 1e-5);
}

#[test]
fn typenet_writes_the_bytes_torch_wrote() {
    assert_eq!(safetensors::save(&loaded::<Mlp<f32>, f32>(MLP, &Names::new())).unwrap(), MLP);
    assert_eq!(safetensors::save(&loaded::<Cnn, f32>(CNN, &Names::new())).unwrap(), CNN);
    assert_eq!(safetensors::save(&loaded::<ResNet, f64>(RESNET, &Names::new())).unwrap(), RESNET);
    let names = lstm_names();
    assert_eq!(safetensors::save_with(&loaded::<LstmNet, f32>(LSTM, &names), &names).unwrap(), LSTM);
}

#[test]
fn the_keys_are_the_state_dicts() {
    let keys = |names: Vec<(String, Vec<usize>)>| names.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        keys(safetensors::state_dict_keys::<Cnn, f32>(&Names::new())),
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked",
            "5.weight",
            "5.bias"
        ]
    );
    let resnet = safetensors::state_dict_keys::<ResNet, f64>(&Names::new());
    let at = |key: &str| resnet.iter().find(|(k, _)| k == key).map(|(_, shape)| shape.clone());
    assert_eq!(at("2.body.2.weight"), Some(vec![4, 4, 3, 3]));
    assert_eq!(at("4.body.0.weight"), Some(vec![8, 4, 3, 3]));
    assert_eq!(at("4.shortcut.weight"), Some(vec![8, 4, 1, 1]));
    assert_eq!(at("8.weight"), Some(vec![8])); // LayerNorm after AdaptiveAvgPool2d(1), Flatten()
    assert_eq!(at("9.bias"), Some(vec![3]));
    let lstm = safetensors::state_dict_keys::<LstmNet, f32>(&Names::new());
    assert_eq!(lstm[0], ("0.weight_ih_l0".to_string(), vec![16, 3]));
    assert_eq!(lstm[1], ("0.weight_hh_l0".to_string(), vec![16, 4]));
    assert_eq!(lstm[3], ("0.bias_hh_l0".to_string(), vec![16]));
}

#[test]
fn a_round_trip_keeps_every_bit() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(19);
    let mut resnet = ResNet::default();
    randomize(&mut resnet, &mut rng);
    let mut copy = ResNet::default();
    safetensors::load(&mut copy, &safetensors::save(&resnet).unwrap()).unwrap();
    assert_eq!(bits(&copy), bits(&resnet));

    let mut cnn = Cnn::default();
    randomize(&mut cnn, &mut rng);
    cnn.layer_mut::<U1>().num_batches_tracked = 16_777_216.0; // 2²⁴, the largest count every f32 below holds
    let mut copy = Cnn::default();
    safetensors::load(&mut copy, &safetensors::save(&cnn).unwrap()).unwrap();
    assert_eq!(bits(&copy), bits(&cnn));

    // Through a file, and the wider f64 model reads the f32 file exactly.
    let path = std::env::temp_dir().join(format!("typenet-safetensors-{}.safetensors", std::process::id()));
    let mut mlp = Mlp::<f32>::default();
    randomize(&mut mlp, &mut rng);
    let written = safetensors::save_file(&mlp, &path).unwrap();
    assert_eq!(written as u64, std::fs::metadata(&path).unwrap().len());
    let mut wide = Mlp::<f64>::default();
    safetensors::load_file(&mut wide, &path).unwrap();
    assert_eq!(bits(&wide), bits(&mlp));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn half_precision_widens_as_torch_widens() {
    for (half, as_f32) in [
        (
            &include_bytes!("../fixtures/st_mlp_f16.safetensors")[..],
            &include_bytes!("../fixtures/st_mlp_f16_as_f32.safetensors")[..],
        ),
        (
            &include_bytes!("../fixtures/st_mlp_bf16.safetensors")[..],
            &include_bytes!("../fixtures/st_mlp_bf16_as_f32.safetensors")[..],
        ),
    ] {
        let torch: Mlp<f32> = loaded(as_f32, &Names::new());
        let ours: Mlp<f32> = loaded(half, &Names::new());
        assert_eq!(bits(&ours), bits(&torch));
        let wide: Mlp<f64> = loaded(half, &Names::new());
        assert_eq!(bits(&wide), bits(&torch));
    }
}

/// A safetensors file of `tensors` (key, dtype, shape, little-endian data),
/// laid out by hand: the format without the crate.
fn file(tensors: &[(&str, &str, &[usize], Vec<u8>)]) -> Vec<u8> {
    let (mut header, mut data) = (Vec::new(), Vec::new());
    for (key, dtype, shape, bytes) in tensors {
        let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
        let (start, end) = (data.len(), data.len() + bytes.len());
        header.push(format!(
            "\"{key}\":{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{start},{end}]}}",
            shape.join(",")
        ));
        data.extend_from_slice(bytes);
    }
    let header = format!("{{{}}}", header.join(","));
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

fn f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `Dense<U2, U1>`'s file with `weight` and `bias` as given.
fn dense_file(weight: (&str, &[usize], Vec<u8>), bias: (&str, &[usize], Vec<u8>)) -> Vec<u8> {
    file(&[("0.weight", weight.0, weight.1, weight.2), ("0.bias", bias.0, bias.1, bias.2)])
}

/// Loads `bytes` into a seeded `P`, expects an error with `message`, and
/// checks that the model was left as it was.
fn refused<P: StateDict<T> + Default, T: Scalar>(bytes: &[u8], names: &Names, message: &str) -> SafetensorsError {
    let mut model = P::default();
    randomize(&mut model, &mut Xoshiro256PlusPlus::seed_from_u64(7));
    let before = bits(&model);
    let err = safetensors::load_with(&mut model, bytes, names).unwrap_err();
    assert_eq!(err.to_string(), message);
    assert_eq!(bits(&model), before, "the model changed on: {message}");
    err
}

#[test]
fn every_refusal_names_the_key() {
    type Small = net![Dense<U2, U1>];
    let none = Names::new();
    let good = dense_file(("F32", &[1, 2], f32s(&[1.0, 2.0])), ("F32", &[1], f32s(&[3.0])));
    let mut ok = Small::default();
    safetensors::load(&mut ok, &good).unwrap();
    assert_eq!((ok.layer::<U0>().weight[0][1], ok.layer::<U0>().bias[0]), (2.0, 3.0));

    // What the format itself refuses, in the safetensors crate's words.
    let err = refused::<Small, f32>(b"\x05\0\0\0\0\0\0\0{}", &none, "not a safetensors file: invalid header length");
    assert!(matches!(err, SafetensorsError::Format { .. }));
    let mut short = good.clone();
    short.pop();
    refused::<Small, f32>(&short, &none, "not a safetensors file: incomplete metadata, file not fully covered");
    let mut model = Small::default();
    let err = safetensors::load(&mut model, b"\x02\0\0\0\0\0\0\0{x").unwrap_err();
    assert!(err.to_string().starts_with("not a safetensors file: invalid JSON in header: "), "{err}");

    // The MLP's file into other chains.
    type Longer = net![Dense<U4, U8>, Tanh, Dense<U8, U3>, Tanh, Dense<U3, U2>];
    let err = refused::<Longer, f32>(MLP, &none, "tensor `4.weight` (2×3) is in the model, not in the file");
    assert!(matches!(err, SafetensorsError::Missing { ref key, ref shape } if key == "4.weight" && shape == &[2, 3]));
    type Shorter = net![Dense<U4, U8>, Tanh];
    let err = refused::<Shorter, f32>(MLP, &none, "tensor `2.bias` (F32, 3) is in the file, not in the model");
    assert!(matches!(err, SafetensorsError::Unexpected { ref key, .. } if key == "2.bias"));
    type Wider = net![Dense<U4, U9>, Tanh, Dense<U9, U3>];
    let err = refused::<Wider, f32>(MLP, &none, "tensor `0.weight` is 8×4 in the file, 9×4 in the model");
    assert!(
        matches!(err, SafetensorsError::WrongShape { ref expected, ref found, .. } if expected == &[9, 4] && found == &[8, 4])
    );
    // The LSTM's file without its module names.
    refused::<LstmNet, f32>(LSTM, &none, "tensor `0.weight_ih_l0` (16×3) is in the model, not in the file");

    // Dtypes: F64 into f32 would round; integers are no weights.
    let f64_file = safetensors::save(&Mlp::<f64>::default()).unwrap();
    let err = refused::<Mlp<f32>, f32>(
        &f64_file,
        &none,
        "tensor `0.weight` holds F64 values; an f32 model reads F32, F16 or BF16 here, nothing that would round",
    );
    assert!(matches!(err, SafetensorsError::WrongDtype { scalar: "f32", ref found, .. } if found == "F64"));
    let ints = dense_file(("I32", &[1, 2], vec![0; 8]), ("F32", &[1], f32s(&[3.0])));
    refused::<net![Dense<U2, U1, f64>], f64>(
        &ints,
        &none,
        "tensor `0.weight` holds I32 values; an f64 model reads F64, F32, F16 or BF16 here, nothing that would round",
    );

    // Non-finite values, by key and index.
    let nan = dense_file(("F32", &[1, 2], f32s(&[1.0, f32::NAN])), ("F32", &[1], f32s(&[3.0])));
    let err = refused::<Small, f32>(&nan, &none, "tensor `0.weight`: value 1 is not finite (NaN or infinite)");
    assert!(matches!(err, SafetensorsError::NonFinite { index: 1, .. }));
    let inf = dense_file(("F16", &[1, 2], vec![0, 0x3c, 0, 0x7c]), ("F32", &[1], f32s(&[3.0])));
    refused::<Small, f32>(&inf, &none, "tensor `0.weight`: value 1 is not finite (NaN or infinite)");

    // A batch norm's count: any integer dtype, if the scalar holds it exactly.
    type Norm = net![BatchNorm1d<U1>];
    let norm = |count: (&str, Vec<u8>)| {
        file(&[
            ("0.weight", "F32", &[1], f32s(&[1.0])),
            ("0.bias", "F32", &[1], f32s(&[0.0])),
            ("0.running_mean", "F32", &[1], f32s(&[0.5])),
            ("0.running_var", "F32", &[1], f32s(&[2.0])),
            ("0.num_batches_tracked", count.0, &[], count.1),
        ])
    };
    let mut bn = Norm::default();
    safetensors::load(&mut bn, &norm(("I32", 7i32.to_le_bytes().to_vec()))).unwrap();
    assert_eq!((bn.layer::<U0>().num_batches_tracked, bn.layer::<U0>().running_var[0]), (7.0, 2.0));
    let err = refused::<Norm, f32>(
        &norm(("I64", 16_777_217i64.to_le_bytes().to_vec())),
        &none,
        "tensor `0.num_batches_tracked` holds 16777217, which f32 cannot hold exactly",
    );
    assert!(matches!(err, SafetensorsError::Inexact { target: "f32", .. }));
    let mut wide = <net![BatchNorm1d<U1, f64>]>::default();
    // The same count fits f64 (the file's other tensors, F32, widen).
    safetensors::load(&mut wide, &norm(("I64", 16_777_217i64.to_le_bytes().to_vec()))).unwrap();
    assert_eq!(wide.layer::<U0>().num_batches_tracked, 16_777_217.0);
    refused::<Norm, f32>(
        &norm(("BOOL", vec![1])),
        &none,
        "tensor `0.num_batches_tracked` holds BOOL values; an f32 model reads an integer dtype, F32, F16 or BF16 here, nothing that would round",
    );

    // Names that give two tensors one key.
    let twice = Names::new().rename("0", "x").rename("2", "x");
    let err = refused::<Mlp<f32>, f32>(MLP, &twice, "two tensors of the model have the key `x.weight`");
    assert!(matches!(err, SafetensorsError::DuplicateKey { .. }));

    // A file that is not there.
    let err = safetensors::load_file(&mut Small::default(), "/nonexistent/m.safetensors").unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/m.safetensors: "), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn saving_refuses_what_torch_could_not_load_back() {
    let mut mlp = Mlp::<f32>::default();
    mlp.layer_mut::<U2>().bias[1] = f32::INFINITY;
    let err = safetensors::save(&mlp).unwrap_err();
    assert_eq!(err.to_string(), "tensor `2.bias`: value 1 is not finite (NaN or infinite)");

    let mut bn = <net![Dense<U2, U2>, BatchNorm1d<U2>]>::default();
    bn.layer_mut::<U1>().num_batches_tracked = 2.5;
    let err = safetensors::save(&bn).unwrap_err();
    assert_eq!(err.to_string(), "tensor `1.num_batches_tracked` holds 2.5, which I64 cannot hold exactly");

    let err = safetensors::save_with(&Mlp::<f32>::default(), &Names::new().rename("2", "0")).unwrap_err();
    assert_eq!(err.to_string(), "two tensors of the model have the key `0.weight`");
}

proptest::proptest! {
    /// Damaged files: never a panic, and a refused file leaves the model as it was.
    #[test]
    fn damage_is_refused_whole(
        flips in proptest::collection::vec((0..MLP.len(), proptest::prelude::any::<u8>()), 1..4),
        cut in 0..=MLP.len(),
    ) {
        let mut bytes = MLP.to_vec();
        for (at, byte) in flips {
            bytes[at] = byte;
        }
        bytes.truncate(cut);
        let mut model = Mlp::<f32>::default();
        randomize(&mut model, &mut Xoshiro256PlusPlus::seed_from_u64(3));
        let before = bits(&model);
        if safetensors::load(&mut model, &bytes).is_err() {
            proptest::prop_assert_eq!(bits(&model), before);
        }
    }
}
