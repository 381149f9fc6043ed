//! Parameters in and out: round trips, files from and for PyTorch (fixtures
//! made by tools/fixtures/gen_io.py), and the loader fed arbitrary bytes.

#[path = "../fixtures/io.rs"]
mod fixtures;

use proptest::prelude::*;
use typenet::check::randomize;
use typenet::io::{self, ParamsError, TensorSignature};
use typenet::layers::batch_norm::NotAffine;
use typenet::prelude::*;
use typenet::shape::Dims;

type Mlp<T> = net![Dense<U4, U8, T>, Tanh, Dense<U8, U3, T>];

const TORCH_F32: &[u8] = include_bytes!("../fixtures/torch_mlp_f32.tnet");
const TORCH_F64: &[u8] = include_bytes!("../fixtures/torch_mlp_f64.tnet");
/// `torch_mlp_f32.tnet` as the exporter wrote it in format version 1,
/// before the architecture signature.
const TORCH_F32_V1: &[u8] = include_bytes!("../fixtures/torch_mlp_f32_v1.tnet");

/// Every parameter's bits, in order (`f32` widens exactly).
fn bits<P: Params<T>, T: Scalar>(params: &P) -> Vec<u64> {
    let mut out = Vec::new();
    params.visit(&mut |t| out.extend(t.iter().map(|&v| Scalar::to_f64(v).to_bits())));
    out
}

fn randomized<P: Params<T> + Default, T: Scalar>(seed: u64) -> P {
    let mut params = P::default();
    randomize(&mut params, &mut Xoshiro256PlusPlus::seed_from_u64(seed));
    params
}

fn saved<P: Params<T>, T: Scalar>(params: &P) -> Vec<u8> {
    let mut buf = vec![0; io::encoded_len::<P, T>()];
    assert_eq!(io::save(params, &mut buf), Ok(buf.len()));
    buf
}

/// Saves and loads `P` (with edge-case values: −0, a subnormal, the largest
/// finite value), then its gradients, and checks the bits survive.
fn round_trip<P: Params<T> + Default, T: Scalar>() {
    let mut visited = 0;
    P::default().visit(&mut |t| visited += t.len());
    assert_eq!(visited, P::COUNT, "Params::COUNT disagrees with visit");
    // The signature names every value, in the state tensors' sizes.
    let (mut sizes, mut words) = (Vec::new(), 0);
    P::visit_signature(&mut |_, dims| {
        sizes.push(dims.count());
        words += 2 + dims.rank();
    });
    let mut state = Vec::new();
    P::default().visit_state(&mut |t| state.push(t.len()));
    assert_eq!(sizes, state, "Params::visit_signature disagrees with visit_state");
    assert_eq!(words, P::SIGNATURE_LEN);
    assert_eq!(io::encoded_len::<P, T>(), 20 + 4 * P::SIGNATURE_LEN + (P::COUNT + P::BUFFER_COUNT) * T::BYTES);

    let mut net: P = randomized(1);
    let specials = [-T::zero(), T::min_positive_value() / T::from_f64(4.0), T::max_value(), T::min_value()];
    let mut k = 0;
    net.visit_mut(&mut |t| {
        for v in t {
            if let Some(&s) = specials.get(k) {
                *v = s;
            }
            k += 1;
        }
    });
    let file = saved(&net);
    let mut copy = P::default();
    io::load(&mut copy, &file).unwrap();
    assert_eq!(bits(&copy), bits(&net));
    assert_eq!(saved(&copy), file);

    // Gradients (and optimiser state, which has the same type) go the same way.
    let grads: P::Grads = randomized(2);
    assert_eq!(io::encoded_len::<P::Grads, T>(), io::encoded_len::<P, T>());
    let mut loaded = P::Grads::default();
    io::load(&mut loaded, &saved(&grads)).unwrap();
    assert_eq!(bits(&loaded), bits(&grads));
}

#[test]
fn save_then_load_gives_the_same_bits() {
    // One line per model.
    round_trip::<Mlp<f32>, f32>();
    round_trip::<Mlp<f64>, f64>();
    round_trip::<Dense<U1, U1>, f32>();
    round_trip::<net![Dense<U3, U5, f64>, Relu, Dense<U5, U5, f64>, Gelu, Dense<U5, U2, f64>, LogSoftmax], f64>();
    round_trip::<net![Dense<U2, U4>, Sigmoid, Dense<U4, U4>, LeakyRelu, Dense<U4, U1>, Sigmoid], f32>();
    // Convolutional: weight [out][in][kh][kw] then bias, per layer.
    round_trip::<net![Conv2d<U1, U4, U3, U1, U1>, Relu, MaxPool2d<U2>, Conv2d<U4, U8, U3>, Flatten, Dense<U8, U3>], f32>(
    );
    round_trip::<net![Conv1d<U2, U3, U3, U1, U0, f64>, Tanh, Flatten, Dense<U6, U2, f64>], f64>();
    // Recurrent: weight_ih, weight_hh, bias_ih, bias_hh, per layer.
    round_trip::<net![Lstm<U3, U5>, Gru<U5, U4>, LastStep, Dense<U4, U2>], f32>();
    round_trip::<net![Rnn<U2, U3, f64>, LastStep, Dense<U3, U1, f64>], f64>();
    // Normalisation (with buffers), depthwise, residual blocks with and without a projection.
    round_trip::<net![Conv2d<U1, U2, U3>, BatchNorm2d<U2>, Relu, LayerNorm<(U2, U3, U3)>], f32>();
    round_trip::<net![DepthwiseConv2d<U2, U3, U1, U1, U2, f64>, BatchNorm2d<U4, f64, NotAffine>], f64>();
    round_trip::<
        net![
            Residual<net![Conv2d<U2, U2, U3, U1, U1>, Relu, Conv2d<U2, U2, U3, U1, U1>]>,
            Projected<net![Conv2d<U2, U4, U3, U2, U1>, Relu], net![Conv2d<U2, U4, U1, U2>, BatchNorm2d<U4>]>
        ],
        f32,
    >();
}

/// The largest |typenet − PyTorch| over the fixture inputs.
fn max_deviation<T: Scalar>(net: &Mlp<T>, torch: &[f64]) -> f64 {
    let inputs = fixtures::INPUTS.chunks(4);
    assert_eq!(inputs.len() * 3, torch.len());
    inputs
        .zip(torch.chunks(3))
        .flat_map(|(x, want)| {
            let y = net.forward(&vector([0, 1, 2, 3].map(|i| T::from_f64(x[i]))));
            (0..3).map(move |i| (Scalar::to_f64(y[i]) - want[i]).abs())
        })
        .fold(0.0, f64::max)
}

#[test]
fn weights_exported_from_pytorch_give_pytorchs_outputs() {
    let mut net = Mlp::<f32>::default();
    io::load(&mut net, TORCH_F32).unwrap();
    let dev = max_deviation(&net, &fixtures::TORCH_F32);
    assert!(dev < 1e-5, "f32: {dev:e}");

    let mut net = Mlp::<f64>::default();
    io::load(&mut net, TORCH_F64).unwrap();
    let dev = max_deviation(&net, &fixtures::TORCH_F64);
    assert!(dev < 1e-12, "f64: {dev:e}");
}

#[test]
fn typenet_writes_exactly_what_the_python_exporter_writes() {
    let mut net = Mlp::<f32>::default();
    io::load(&mut net, TORCH_F32).unwrap();
    assert_eq!(saved(&net), TORCH_F32);
    let mut net = Mlp::<f64>::default();
    io::load(&mut net, TORCH_F64).unwrap();
    assert_eq!(saved(&net), TORCH_F64);
}

/// A tensor's record: `name` and its sizes.
fn record(name: &str, sizes: &[usize]) -> Option<TensorSignature> {
    Some(TensorSignature::new(name, sizes.iter().rev().fold(Dims::SCALAR, |dims, &n| dims.prepend(n))))
}

#[test]
fn a_file_for_another_model_is_refused() {
    let mut net = Mlp::<f64>::default();
    assert_eq!(io::load(&mut net, TORCH_F32), Err(ParamsError::WrongScalar { expected: 2, found: 1 }));
    let mut wider = <net![Dense<U4, U9>, Tanh, Dense<U9, U3>]>::default();
    assert_eq!(
        io::load(&mut wider, TORCH_F32),
        Err(ParamsError::WrongTensor { index: 0, file: record("weight", &[8, 4]), model: record("weight", &[9, 4]) })
    );
    assert!(wider == Default::default());
    // One layer fewer: the file's third tensor has no place in the model.
    let mut shorter = <net![Dense<U4, U8>, Tanh]>::default();
    assert_eq!(
        io::load(&mut shorter, TORCH_F32),
        Err(ParamsError::WrongTensor { index: 2, file: record("weight", &[3, 8]), model: None })
    );
}

/// Loads the file of `From` into a randomized `Into` with as many values:
/// the error must name the first differing tensor and leave `Into` as it was.
fn refused_with_as_many_values<From, Into, T>(expected: &str)
where
    From: Params<T> + Default,
    Into: Params<T> + Default,
    T: Scalar,
{
    let values = |count, buffers| count + buffers;
    assert_eq!(
        values(From::COUNT, From::BUFFER_COUNT),
        values(Into::COUNT, Into::BUFFER_COUNT),
        "the case needs as many values on both sides"
    );
    let file = saved(&randomized::<From, T>(3));
    let mut model: Into = randomized(4);
    let before = bits(&model);
    let err = io::load(&mut model, &file).unwrap_err();
    assert!(matches!(err, ParamsError::WrongTensor { .. }), "{err:?}");
    assert_eq!(err.to_string(), expected);
    assert_eq!(bits(&model), before, "a refused file changed the model");
}

/// The audit's case (issue 20, R5): a `Dense<U3, U2>` file (8 values) was
/// read into a `Dense<U1, U4>` (8 values) as if it were one.
#[test]
fn a_file_from_another_architecture_with_the_same_count_is_refused() {
    refused_with_as_many_values::<Dense<U3, U2>, Dense<U1, U4>, f32>(
        "tensor 0 (weight) is 2×3 in the file, 4×1 in the model: it was saved from another architecture",
    );
    // A convolution and a dense layer of 10 values each: weight [2][1][2][2] and [2][4].
    refused_with_as_many_values::<Conv2d<U1, U2, U2, U1, U0, f64>, Dense<U4, U2, f64>, f64>(
        "tensor 0 (weight) is 2×1×2×2 in the file, 2×4 in the model: it was saved from another architecture",
    );
    // The same shapes in other roles: batch norm's weight, bias, running_mean,
    // running_var, num_batches_tracked against running_mean, running_var,
    // num_batches_tracked, then a layer norm's weight and bias.
    refused_with_as_many_values::<BatchNorm1d<U2>, net![BatchNorm1d<U2, f32, NotAffine>, LayerNorm<U2>], f32>(
        "tensor 0 is weight 2 in the file, running_mean 2 in the model: it was saved from another architecture",
    );
    // An LSTM against a GRU of the same sizes (4 gates against 3) and a Dense of 21.
    refused_with_as_many_values::<Lstm<U2, U3>, net![Gru<U2, U3>, Dense<U20, U1>], f32>(
        "tensor 0 (weight_ih) is 4×3×2 in the file, 3×3×2 in the model: it was saved from another architecture",
    );
}

/// Files of format version 1 (no signature) still load where the count
/// matches: the committed one the exporter wrote before version 2 gives
/// PyTorch's outputs, and saving it back writes version 2.
#[test]
fn a_version_1_file_still_loads() {
    assert_eq!(TORCH_F32_V1.len(), 16 + 67 * 4);
    assert_eq!(io::Header::read(TORCH_F32_V1).unwrap().version, 1);
    let mut net = Mlp::<f32>::default();
    io::load(&mut net, TORCH_F32_V1).unwrap();
    let dev = max_deviation(&net, &fixtures::TORCH_F32);
    assert!(dev < 1e-5, "f32: {dev:e}");
    assert_eq!(saved(&net), TORCH_F32, "saved again, it is the version 2 file of the same values");
    assert_eq!(&TORCH_F32_V1[16..], &TORCH_F32[TORCH_F32.len() - 67 * 4..]);
    // Its count is all a version 1 file can be checked against (the documented caveat).
    let mut other = <net![Dense<U4, U11>, Tanh, Dense<U11, U1>]>::default();
    assert_eq!(io::load(&mut other, TORCH_F32_V1), Ok(()));
    let mut wider = <net![Dense<U4, U9>, Tanh, Dense<U9, U3>]>::default();
    assert_eq!(io::load(&mut wider, TORCH_F32_V1), Err(ParamsError::WrongCount { expected: 75, found: 67 }));
    assert_eq!(io::load(&mut net, &TORCH_F32_V1[..283]), Err(ParamsError::WrongLength { expected: 284, got: 283 }));
}

/// The signatures `tools/interop/typenet_io.py` computes from PyTorch's
/// `state_dict`s (fixtures from tools/fixtures/gen_io.py) are the ones typenet
/// writes for the same layers: one model per kind of tensor layout.
#[test]
fn signatures_match_the_python_tools() {
    fn words<P: Params<f32> + Default>() -> Vec<u32> {
        let file = saved(&P::default());
        let end = 20 + 4 * P::SIGNATURE_LEN;
        file[20..end].chunks(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())).collect()
    }
    type Cnn = net![Conv2d<U1, U4, U3>, BatchNorm2d<U4>, Relu, Flatten, Dense<U4, U2>];
    assert_eq!(words::<Cnn>(), fixtures::SIGNATURE_CNN);
    type Conv1dNorm = net![Conv1d<U2, U3, U3>, LayerNorm<(U3, U5)>, BatchNorm1d<U3, f32, NotAffine>];
    assert_eq!(words::<Conv1dNorm>(), fixtures::SIGNATURE_CONV1D_NORM);
    assert_eq!(words::<DepthwiseConv2d<U2, U3, U1, U0, U2>>(), fixtures::SIGNATURE_DEPTHWISE);
    type Recurrent = net![Lstm<U3, U5>, Gru<U5, U4>, Rnn<U4, U2>];
    assert_eq!(words::<Recurrent>(), fixtures::SIGNATURE_RECURRENT);
}

/// The model whose saved files tools/fixtures/gen_io.py reads into PyTorch.
fn typenet_model<T: Scalar>() -> Mlp<T> {
    let mut net = Mlp::<T>::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(2024));
    net
}

fn check_or_bless(name: &str, bytes: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    if std::env::var_os("TYPENET_BLESS").is_some() {
        std::fs::write(&path, bytes).unwrap();
    } else {
        let committed = std::fs::read(&path).unwrap();
        assert!(committed == bytes, "{name} is not what typenet saves; rerun tools/fixtures/gen_io.py");
    }
}

/// The committed typenet_mlp_*.tnet are what `io::save` writes (with
/// `TYPENET_BLESS=1`, this writes them: tools/fixtures/gen_io.py does).
#[test]
fn typenet_saves_the_committed_files() {
    check_or_bless("typenet_mlp_f32.tnet", &saved(&typenet_model::<f32>()));
    check_or_bless("typenet_mlp_f64.tnet", &saved(&typenet_model::<f64>()));
}

#[test]
fn pytorch_reads_files_saved_by_typenet_to_the_same_outputs() {
    let dev = max_deviation(&typenet_model::<f32>(), &fixtures::TORCH_OF_TYPENET_F32);
    assert!(dev < 1e-5, "f32: {dev:e}");
    let dev = max_deviation(&typenet_model::<f64>(), &fixtures::TORCH_OF_TYPENET_F64);
    assert!(dev < 1e-12, "f64: {dev:e}");
}

/// Loads `bytes` into a randomized `P`: an error must leave every bit as it
/// was and be what `verify` says; success must be a file `save` writes back
/// byte for byte.
fn load_checked<P: Params<T> + Default, T: Scalar>(bytes: &[u8]) -> Result<Result<(), ParamsError>, TestCaseError> {
    let mut net: P = randomized(9);
    let before = bits(&net);
    let result = io::load(&mut net, bytes);
    prop_assert_eq!(result, io::verify::<P, T>(bytes));
    match result {
        Ok(()) => prop_assert_eq!(saved(&net), bytes),
        Err(_) => prop_assert_eq!(bits(&net), before),
    }
    Ok(result)
}

/// FNV-1a (32-bit) of `name`, written independently of the crate's.
fn fnv1a(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193))
}

/// The file of an `Mlp<T>` holding `payload` (67 values), written here from
/// the documented layout: the header, the signature (weight [8][4], bias
/// [8], weight [3][8], bias [3]), the values, with the checksum.
fn with_header<T: Scalar>(payload: &[u8]) -> Vec<u8> {
    let (weight, bias) = (fnv1a("weight"), fnv1a("bias"));
    let signature = [weight, 2, 8, 4, bias, 1, 8, weight, 2, 3, 8, bias, 1, 3];
    let mut rest = (signature.len() as u32).to_le_bytes().to_vec();
    rest.extend(signature.iter().flat_map(|w| w.to_le_bytes()));
    rest.extend(payload);
    let mut file = io::MAGIC.to_vec();
    file.extend(2u16.to_le_bytes());
    file.extend((T::TAG as u16).to_le_bytes());
    file.extend(67u32.to_le_bytes());
    file.extend(crc32(&rest).to_le_bytes());
    file.extend(rest);
    file
}

/// Bitwise CRC-32 (zlib's), written independently of the crate's table.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// `count` values' bytes: mostly arbitrary bits (NaN among them), now and
/// then exactly ±infinity, which arbitrary bits almost never are.
fn payload<T: Scalar>(count: usize) -> impl Strategy<Value = Vec<u8>> {
    let to_bytes = |v: T| {
        let mut b = vec![0; T::BYTES];
        v.write_le(&mut b);
        b
    };
    let value = prop_oneof![
        100 => any::<u64>().prop_map(|bits| bits.to_le_bytes()[..T::BYTES].to_vec()),
        1 => proptest::sample::select(vec![T::infinity(), T::neg_infinity(), T::nan()]).prop_map(to_bytes),
    ];
    proptest::collection::vec(value, count).prop_map(|values| values.concat())
}

/// A payload under a valid header loads, or is refused for its first value
/// that is not finite.
fn payload_case<T: Scalar>(payload: &[u8]) -> Result<(), TestCaseError> {
    let file = with_header::<T>(payload);
    let first_bad = payload.chunks(T::BYTES).position(|v| !T::read_le(v).is_finite());
    let expected = match first_bad {
        Some(index) => Err(ParamsError::NonFinite { index }),
        None => Ok(()),
    };
    prop_assert_eq!(load_checked::<Mlp<T>, T>(&file)?, expected);
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_nor_touch_the_model(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = load_checked::<Mlp<f32>, f32>(&bytes)?;
        let _ = load_checked::<Mlp<f64>, f64>(&bytes)?;
    }

    #[test]
    fn bytes_after_a_valid_magic_never_panic_nor_touch_the_model(rest in proptest::collection::vec(any::<u8>(), 0..600)) {
        let bytes = [&io::MAGIC[..], &rest].concat();
        let _ = load_checked::<Mlp<f32>, f32>(&bytes)?;
        let _ = load_checked::<Mlp<f64>, f64>(&bytes)?;
    }

    #[test]
    fn every_truncation_or_extension_is_a_wrong_length(seed in any::<u64>(), cut in 0usize..344, extra in 1usize..9) {
        let file = saved(&randomized::<Mlp<f32>, f32>(seed));
        prop_assert_eq!(load_checked::<Mlp<f32>, f32>(&file[..cut])?, Err(ParamsError::WrongLength { expected: 344, got: cut }));
        let longer = [&file[..], &vec![0; extra]].concat();
        prop_assert_eq!(load_checked::<Mlp<f32>, f32>(&longer)?, Err(ParamsError::WrongLength { expected: 344, got: 344 + extra }));
    }

    #[test]
    fn every_single_bit_flip_is_refused(seed in any::<u64>(), bit in 0usize..(20 + 14 * 4 + 67 * 8) * 8) {
        let mut file = saved(&randomized::<Mlp<f64>, f64>(seed));
        file[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(load_checked::<Mlp<f64>, f64>(&file)?.is_err());
    }

    #[test]
    fn several_flips_never_panic_nor_touch_the_model(
        seed in any::<u64>(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut file = saved(&randomized::<Mlp<f32>, f32>(seed));
        for (at, mask) in flips {
            let i = at.index(file.len());
            file[i] ^= mask;
        }
        let _ = load_checked::<Mlp<f32>, f32>(&file)?;
    }

    #[test]
    fn any_f32_payload_under_a_valid_header_loads_unless_a_value_is_not_finite(payload in payload::<f32>(67)) {
        payload_case::<f32>(&payload)?;
    }

    #[test]
    fn any_f64_payload_under_a_valid_header_loads_unless_a_value_is_not_finite(payload in payload::<f64>(67)) {
        payload_case::<f64>(&payload)?;
    }
}

/// `embedded!` builds at compile time the model `io::load` reads at run
/// time, in both scalars; the static is not mutable, so it can sit in
/// flash.
#[test]
fn embedded_models_are_the_loaded_ones() {
    static F32: Mlp<f32> = typenet::embedded!(Mlp<f32>, "../fixtures/torch_mlp_f32.tnet");
    static F64: Mlp<f64> = typenet::embedded!(Mlp<f64>, f64, "../fixtures/torch_mlp_f64.tnet");
    assert_is_loaded(&F32, TORCH_F32);
    assert_is_loaded(&F64, TORCH_F64);
}

/// Asserts that `embedded`, built by `embedded!`, is the model `io::load`
/// reads from `file`.
pub fn assert_is_loaded<M: Params<T> + Default + PartialEq, T: Scalar>(embedded: &M, file: &[u8]) {
    let mut loaded = M::default();
    io::load(&mut loaded, file).unwrap();
    assert!(*embedded == loaded, "the embedded model differs from the loaded one");
}

/// A small residual network of every kind of block: what
/// `tests/fixtures/residual_f32.tnet` holds.
type ResidualNet = net![
    Conv2d<U1, U4, U3, U1, U1>,
    BatchNorm2d<U4>,
    Residual<net![Conv2d<U4, U4, U3, U1, U1>, BatchNorm2d<U4>, Relu]>,
    Projected<net![DepthwiseConv2d<U4, U3, U2, U1>, Pointwise<U4, U8>], Pointwise<U4, U8, U2>>,
    GlobalAvgPool,
    Dropout,
    Dense<U8, U2>
];

fn residual_net() -> ResidualNet {
    let mut net = ResidualNet::default();
    randomize(&mut net, &mut Xoshiro256PlusPlus::seed_from_u64(18));
    net.visit_state_mut(&mut |t| t.iter_mut().for_each(|v| *v = v.abs() + 0.5)); // valid variances too
    net
}

/// Residual and projected blocks, nested chains, depthwise and pointwise
/// convolutions, batch norm buffers and a parameterless layer with a fixed
/// field (dropout's rate) embed at compile time as they load (with
/// `TYPENET_BLESS=1`, this writes the file).
#[test]
fn residual_blocks_embed_as_they_load() {
    static NET: ResidualNet = typenet::embedded!(ResidualNet, "../fixtures/residual_f32.tnet");
    let net = residual_net();
    check_or_bless("residual_f32.tnet", &saved(&net));
    assert!(NET == net);
    assert_eq!(NET.layer::<U5>().rate, 0.5);
    let x = Tensor3::<f32, U1, U6, U6>::default();
    assert_eq!(NET.forward(&x), net.forward(&x));
}
