//! The contracts the fuzz targets (`fuzz/fuzz_targets/`) and the property
//! tests (`tests/integration/fuzz.rs`, which includes this file) hold the
//! loaders to, on any bytes:
//!
//! - no input panics;
//! - on `Err` the model is unchanged, bit for bit, and `verify` gave the
//!   same error;
//! - on `Ok` a save of the model is a file that loads to the same model,
//!   and, when the input was in the format version this crate writes, that
//!   file is the input byte for byte (one encoding of every model).
//!
//! Each `*_case` function takes one fuzz input and panics on a broken
//! contract. Its first byte says how to read the rest (see [`Mode`]), so
//! the fuzzer reaches past the checksum without knowing the file layout:
//! the layout (where the checksum is, what it covers) is learnt from a file
//! the crate saves, so the contracts hold whatever the format version.

use std::vec::Vec;

use typenet::data::read_csv;
use typenet::io::{self, Header, ParamsError};
use typenet::prelude::*;
use typenet::quant;

/// A small network with batch norm buffers (running mean and variance) in
/// its file, in scalar `T`.
pub type Net<T> = net![Dense<U3, U4, T>, BatchNorm1d<U4, T>, Relu, Dense<U4, U2, T>];

/// The `f32` network whose int8 twin [`int8_case`] loads into: every kind
/// of int8 layer but the residual ones, batch norm folded, ReLU fused.
pub type Float = net![
    Conv2d<U1, U2, U3, U1, U1>,
    BatchNorm2d<U2>,
    Relu,
    MaxPool2d<U2>,
    DepthwiseConv2d<U2, U3, U1, U1>,
    Relu,
    Flatten,
    Dense<U18, U3>
];

/// The input of [`Float`].
pub type Image = Tensor3<f32, U1, U6, U6>;

/// The int8 twin of [`Float`].
pub type Int8Net = quant::QuantizedOf<Float, Image>;

/// The number of classes of the CSV files [`csv_case`] reads.
pub const CLASSES: usize = 3;

/// How a fuzz input's first byte says to read the rest (bit by bit).
#[derive(Clone, Copy, Debug)]
pub struct Mode(pub u8);

impl Mode {
    /// Start from a valid file of the model and XOR the rest of the input
    /// over it, from its first byte (a longer input extends the file).
    pub const OVERLAY: u8 = 1;
    /// With [`OVERLAY`](Self::OVERLAY): cut the file to the rest's length.
    pub const CUT: u8 = 2;
    /// Write the checksum the header would need for the bytes it covers.
    pub const REPAIR: u8 = 4;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The file a fuzz input stands for, given a valid file of the model.
pub fn file_of(input: &[u8], valid: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = input.split_first() else {
        return Vec::new();
    };
    let mode = Mode(mode);
    let mut file = if mode.has(Mode::OVERLAY) {
        let mut file = valid.to_vec();
        if mode.has(Mode::CUT) {
            file.truncate(rest.len());
        }
        file.resize(file.len().max(rest.len()), 0);
        file.iter_mut().zip(rest).for_each(|(b, r)| *b ^= r);
        file
    } else {
        rest.to_vec()
    };
    if mode.has(Mode::REPAIR) {
        repair_checksum(&mut file, valid);
    }
    file
}

/// Writes into `file` the checksum of the bytes it covers, where `valid`,
/// a file the crate saved, keeps its checksum and what that covers.
fn repair_checksum(file: &mut [u8], valid: &[u8]) {
    let Ok(header) = Header::read(valid) else { return };
    let stored = header.checksum.to_le_bytes();
    let Some(at) = valid[..io::HEADER_LEN].windows(4).position(|w| w == stored) else {
        return;
    };
    // The covered bytes run from some offset to the end: most likely just
    // after the header, so that is tried first.
    let covered =
        core::iter::once(io::HEADER_LEN).chain(0..valid.len()).find(|&from| crc32(&valid[from..]) == header.checksum);
    if let Some(from) = covered
        && file.len() >= from.max(at + 4)
    {
        let checksum = crc32(&file[from..]);
        file[at..at + 4].copy_from_slice(&checksum.to_le_bytes());
    }
}

/// CRC-32 (IEEE, zlib's), bit by bit: the fuzz harness's own, so a
/// mistake in the crate's table shows as a refused valid file.
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &byte| {
        (0..8).fold(crc ^ u32::from(byte), |c, _| (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg()))
    })
}

/// The model each case starts from: seeded values in every parameter and
/// buffer, so that a stray write shows.
pub fn start<P: Params<T> + Default, T: Scalar>() -> P {
    let mut model = P::default();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20);
    model.visit_state_mut(&mut |tensor| {
        tensor.iter_mut().for_each(|v| *v = T::from_f64(rng.random::<f64>() + 0.5));
    });
    model
}

/// Every parameter's and buffer's bits, in file order.
pub fn state_bits<P: Params<T>, T: Scalar>(model: &P) -> Vec<u64> {
    let mut bits = Vec::new();
    model.visit_state(&mut |tensor| bits.extend(tensor.iter().map(|v| Scalar::to_f64(*v).to_bits())));
    bits
}

/// The file `io::save` writes for `model`.
pub fn saved<P: Params<T>, T: Scalar>(model: &P) -> Vec<u8> {
    let mut file = std::vec![0; io::encoded_len::<P, T>()];
    assert_eq!(io::save(model, &mut file), Ok(file.len()), "a finite model saves");
    file
}

/// Whether `file` is in the format version this crate writes.
fn current_version(file: &[u8]) -> bool {
    Header::read(file).is_ok_and(|h| h.version == io::VERSION)
}

/// `io::load`'s contract on `file` for model `P` in scalar `T`; the load's
/// result.
pub fn load_contract<P: Params<T> + Default, T: Scalar>(file: &[u8]) -> Result<(), ParamsError> {
    let before = start::<P, T>();
    let mut model = start::<P, T>();
    let result = io::load(&mut model, file);
    assert_eq!(result, io::verify::<P, T>(file), "load and verify disagree");
    match result {
        Err(_) => assert_eq!(state_bits(&model), state_bits(&before), "a refused file changed the model"),
        Ok(()) => {
            let again = saved(&model);
            if current_version(file) {
                assert_eq!(again, file, "the save of a loaded file differs from it");
            }
            let mut copy = start::<P, T>();
            assert_eq!(io::load(&mut copy, &again), Ok(()), "a saved file is refused");
            assert_eq!(state_bits(&copy), state_bits(&model), "a saved file loads to another model");
        }
    }
    result
}

/// One fuzz input against `io::load` for [`Net`] in `f32` and in `f64`;
/// the two loads' results.
pub fn params_case(input: &[u8]) -> [Result<(), ParamsError>; 2] {
    [
        load_contract::<Net<f32>, f32>(&file_of(input, &saved(&start::<Net<f32>, f32>()))),
        load_contract::<Net<f64>, f64>(&file_of(input, &saved(&start::<Net<f64>, f64>()))),
    ]
}

/// `data::read_csv`'s contract on `text` in scalar `T`, with [`CLASSES`]
/// classes and three features: on `Ok` at least one sample, every label a
/// class, every feature finite, and the samples written back as CSV read
/// back the same, bit for bit; on `Err` an error that prints. The number
/// of samples read, or the error.
pub fn csv_contract<T: Scalar>(text: &[u8]) -> Result<usize, std::string::String> {
    let samples = match read_csv::<U3, T>(text, CLASSES) {
        Ok(samples) => samples,
        Err(e) => return Err(e.to_string()),
    };
    assert!(!samples.is_empty(), "Ok with no samples");
    for (x, class) in &samples {
        assert!(*class < CLASSES, "label {class} is not a class");
        assert!(x.iter().all(|v| v.is_finite()), "a feature is not finite: {:?}", x.as_slice());
    }
    let mut written = std::string::String::from("label,a,b,c\n");
    for (x, class) in &samples {
        written += &std::format!("{class}");
        // An `f32` widens to `f64` exactly, and `f64`'s shortest form
        // parses back to the same bits.
        x.iter().for_each(|v| written += &std::format!(",{}", Scalar::to_f64(*v)));
        written.push('\n');
    }
    let again = read_csv::<U3, T>(written.as_bytes(), CLASSES).expect("samples written back read back");
    let bits = |s: &[(Vector<T, U3>, usize)]| -> Vec<(Vec<u64>, usize)> {
        s.iter().map(|(x, c)| (x.iter().map(|v| Scalar::to_f64(*v).to_bits()).collect(), *c)).collect()
    };
    assert_eq!(bits(&again), bits(&samples), "samples written back read back differently");
    Ok(samples.len())
}

/// One fuzz input (the CSV text) against `data::read_csv` in `f32` and in
/// `f64`; the two reads' results.
pub fn csv_case(text: &[u8]) -> [Result<usize, std::string::String>; 2] {
    [csv_contract::<f32>(text), csv_contract::<f64>(text)]
}

/// The int8 network each int8 case starts from: [`Float`] with seeded
/// parameters, calibrated on seeded images and converted.
pub fn int8_start() -> Int8Net {
    let mut float = Float::default();
    float.init(&mut Xoshiro256PlusPlus::seed_from_u64(20));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    let images: Vec<Image> = (0..8)
        .map(|_| {
            let mut x = Image::default();
            x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random::<f32>() * 2.0 - 1.0);
            x
        })
        .collect();
    quant::quantize(&float, &quant::calibrate(&float, &images)).expect("the seeded network converts")
}

/// The file `quant::file::save` writes for `model`.
pub fn int8_saved(model: &Int8Net) -> Vec<u8> {
    let mut file = std::vec![0; quant::file::encoded_len::<Int8Net>()];
    assert_eq!(quant::file::save(model, &mut file), Ok(file.len()), "a converted network saves");
    file
}

/// `quant::file::load`'s contract on `file`, and on `Ok` one inference
/// with the loaded values (a loaded file cannot make a kernel panic); the
/// load's result.
pub fn int8_contract(start: &Int8Net, file: &[u8]) -> Result<(), ParamsError> {
    let mut model = start.clone();
    let result = quant::file::load(&mut model, file);
    assert_eq!(result, quant::file::verify(start, file), "load and verify disagree");
    match result {
        Err(_) => {
            assert!(model == *start, "a refused file changed the network");
            assert_eq!(int8_saved(&model), int8_saved(start), "a refused file changed the network's bits");
        }
        Ok(()) => {
            let again = int8_saved(&model);
            if current_version(file) {
                assert_eq!(again, file, "the save of a loaded file differs from it");
            }
            let mut copy = start.clone();
            assert_eq!(quant::file::load(&mut copy, &again), Ok(()), "a saved file is refused");
            assert!(copy == model, "a saved file loads to another network");
            let mut x = Image::default();
            x.as_flat_mut().iter_mut().enumerate().for_each(|(i, v)| *v = (i % 7) as f32 - 3.0);
            let _ = model.classify(&x);
        }
    }
    result
}

/// One fuzz input against `quant::file::load` for [`Int8Net`], starting
/// from `start` (from [`int8_start`]); the load's result.
pub fn int8_case(start: &Int8Net, input: &[u8]) -> Result<(), ParamsError> {
    int8_contract(start, &file_of(input, &int8_saved(start)))
}
