//! Parameters in and out: round trips, files from and for PyTorch (fixtures
//! made by tools/fixtures/gen_io.py), and the loader fed arbitrary bytes.

#[path = "../fixtures/io.rs"]
mod fixtures;

use proptest::prelude::*;
use typenet::check::randomize;
use typenet::io::{self, ParamsError};
use typenet::prelude::*;

type Mlp<T> = net![Dense<U4, U8, T>, Tanh, Dense<U8, U3, T>];

const TORCH_F32: &[u8] = include_bytes!("../fixtures/torch_mlp_f32.tnet");
const TORCH_F64: &[u8] = include_bytes!("../fixtures/torch_mlp_f64.tnet");

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
    assert_eq!(io::encoded_len::<P, T>(), 16 + P::COUNT * T::BYTES);

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

#[test]
fn a_file_for_another_model_is_refused() {
    let mut net = Mlp::<f64>::default();
    assert_eq!(io::load(&mut net, TORCH_F32), Err(ParamsError::WrongScalar { expected: 2, found: 1 }));
    let mut wider = <net![Dense<U4, U9>, Tanh, Dense<U9, U3>]>::default();
    assert_eq!(io::load(&mut wider, TORCH_F32), Err(ParamsError::WrongCount { expected: 75, found: 67 }));
    assert!(wider == Default::default());
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

/// A header for `count` values of `T`, written here from the documented
/// layout, followed by `payload`, with its checksum.
fn with_header<T: Scalar>(count: u32, payload: &[u8]) -> Vec<u8> {
    let mut file = io::MAGIC.to_vec();
    file.extend(1u16.to_le_bytes());
    file.extend((T::TAG as u16).to_le_bytes());
    file.extend(count.to_le_bytes());
    file.extend(crc32(payload).to_le_bytes());
    file.extend(payload);
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
fn payload_case<P: Params<T> + Default, T: Scalar>(payload: &[u8]) -> Result<(), TestCaseError> {
    let file = with_header::<T>(P::COUNT as u32, payload);
    let first_bad = payload.chunks(T::BYTES).position(|v| !T::read_le(v).is_finite());
    let expected = match first_bad {
        Some(index) => Err(ParamsError::NonFinite { index }),
        None => Ok(()),
    };
    prop_assert_eq!(load_checked::<P, T>(&file)?, expected);
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
    fn every_truncation_or_extension_is_a_wrong_length(seed in any::<u64>(), cut in 0usize..284, extra in 1usize..9) {
        let file = saved(&randomized::<Mlp<f32>, f32>(seed));
        prop_assert_eq!(load_checked::<Mlp<f32>, f32>(&file[..cut])?, Err(ParamsError::WrongLength { expected: 284, got: cut }));
        let longer = [&file[..], &vec![0; extra]].concat();
        prop_assert_eq!(load_checked::<Mlp<f32>, f32>(&longer)?, Err(ParamsError::WrongLength { expected: 284, got: 284 + extra }));
    }

    #[test]
    fn every_single_bit_flip_is_refused(seed in any::<u64>(), bit in 0usize..(16 + 67 * 8) * 8) {
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
        payload_case::<Mlp<f32>, f32>(&payload)?;
    }

    #[test]
    fn any_f64_payload_under_a_valid_header_loads_unless_a_value_is_not_finite(payload in payload::<f64>(67)) {
        payload_case::<Mlp<f64>, f64>(&payload)?;
    }
}
