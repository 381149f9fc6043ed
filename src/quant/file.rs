//! Int8 networks to bytes and back, behind the crate's checked header.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::quant::{self, file};
//!
//! type Net = net![Dense<U3, U4>, Relu, Dense<U4, U2>];
//! let mut net = Net::default();
//! net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
//! let samples = [vector([0.1, 0.5, -0.2]), vector([1.0, -1.0, 0.3])];
//! let int8 = quant::quantize(&net, &quant::calibrate(&net, &samples))?;
//!
//! type Int8Net = quant::QuantizedOf<Net, Vector<f32, U3>>;
//! let mut bytes = [0u8; file::encoded_len::<Int8Net>()];
//! file::save(&int8, &mut bytes)?;
//!
//! let mut loaded = Int8Net::default();
//! file::load(&mut loaded, &bytes)?;
//! assert_eq!(loaded, int8);
//!
//! // A file for another architecture of the same size is refused.
//! type Other = quant::QuantizedOf<net![Dense<U14, U4>], Vector<f32, U14>>;
//! assert_eq!(file::encoded_len::<Other>(), bytes.len());
//! assert!(matches!(file::load(&mut Other::default(), &bytes), Err(typenet::ParamsError::WrongArchitecture { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Format
//!
//! The header of [`crate::io`] (16 bytes: magic `TNET`, version 1, scalar
//! tag [`INT8_TAG`], the payload's size in bytes, its CRC-32), then the
//! payload: the network's [`SIGNATURE`](Int8Params::SIGNATURE) (`u32`),
//! then every tensor [`Int8Params::visit`] walks, in that order, little
//! endian: weights, shifts and clamp bounds one byte per value, everything
//! else (biases, multipliers, zero points, `f32` scales) four.
//!
//! Loading checks the header, the size, the signature, the checksum and the
//! range of every value before it writes anything, so a refused file leaves
//! the network as it was, and a loaded one cannot make a kernel panic.

use crate::io::{HEADER_LEN_V1 as HEADER_LEN, Header, ParamsError, crc};
use crate::quant::{Int8Params, Values, ValuesMut};

/// The scalar tag of an int8 network's parameter file.
pub const INT8_TAG: u16 = 3;

/// The format version of int8 files: 1, the header of [`crate::io`]'s
/// version 1 (their architecture signature is the hash that follows it).
const VERSION: u16 = 1;

/// The exact size in bytes of the parameter file of the int8 network `Q`.
pub const fn encoded_len<Q: Int8Params>() -> usize {
    HEADER_LEN + 4 + Q::BYTES
}

/// One value's kind, as [`Values`] names it: its width and its check.
#[derive(Clone, Copy)]
enum Kind {
    Weight,
    Bias,
    Multiplier,
    Shift,
    Scale,
    ZeroPoint,
    Bound,
}

impl Kind {
    fn width(self) -> usize {
        match self {
            Kind::Weight | Kind::Bound | Kind::Shift => 1,
            _ => 4,
        }
    }

    /// What a value of this kind is, in errors.
    fn what(self) -> &'static str {
        match self {
            Kind::Weight => "weight",
            Kind::Bias => "bias",
            Kind::Multiplier => "multiplier",
            Kind::Shift => "shift",
            Kind::Scale => "scale",
            Kind::ZeroPoint => "zero point",
            Kind::Bound => "clamp bound",
        }
    }

    /// Whether the little-endian `bytes` (the first [`width`](Self::width)
    /// of them) are a valid value of this kind; its name if not.
    fn check(self, bytes: &[u8]) -> Result<(), &'static str> {
        let int = || i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let valid = match self {
            Kind::Weight | Kind::Bias | Kind::Bound => true,
            Kind::Multiplier => int() >= 0,
            Kind::Shift => (-31..=30).contains(&(bytes[0] as i8)),
            Kind::ZeroPoint => (-128..=127).contains(&int()),
            Kind::Scale => {
                let v = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                v.is_finite() && v > 0.0
            }
        };
        if valid { Ok(()) } else { Err(self.what()) }
    }
}

/// Calls `f(kind, bytes)` for each value of `values`, in file order, with
/// its little-endian encoding (the first [`Kind::width`] bytes count), or
/// `None` for a shift that does not fit the byte the file gives it.
fn each_value(values: Values<'_>, f: &mut impl FnMut(Kind, Option<[u8; 4]>)) {
    let byte = |x: i8| [x as u8, 0, 0, 0];
    match values {
        Values::Weights(v) => v.iter().for_each(|&x| f(Kind::Weight, Some(byte(x)))),
        Values::Bound(v) => v.iter().for_each(|&x| f(Kind::Bound, Some(byte(x)))),
        Values::Shift(v) => v.iter().for_each(|&x| f(Kind::Shift, i8::try_from(x).ok().map(byte))),
        Values::Bias(v) => v.iter().for_each(|x| f(Kind::Bias, Some(x.to_le_bytes()))),
        Values::Multiplier(v) => v.iter().for_each(|x| f(Kind::Multiplier, Some(x.to_le_bytes()))),
        Values::ZeroPoint(v) => v.iter().for_each(|x| f(Kind::ZeroPoint, Some(x.to_le_bytes()))),
        Values::Scale(v) => v.iter().for_each(|x| f(Kind::Scale, Some(x.to_le_bytes()))),
    }
}

/// Checks every value of `payload` (after the signature) against the
/// kinds `model` walks; the first out of range is the error.
fn check_values<Q: Int8Params>(model: &Q, payload: &[u8]) -> Result<(), ParamsError> {
    let (mut at, mut index, mut error) = (0, 0, None);
    model.visit(&mut |values| {
        each_value(values, &mut |kind, _| {
            if error.is_none()
                && let Err(what) = kind.check(&payload[at..at + kind.width()])
            {
                error = Some(ParamsError::OutOfRange { index, what });
            }
            at += kind.width();
            index += 1;
        })
    });
    error.map_or(Ok(()), Err)
}

/// Checks that `bytes` is a valid parameter file for `model`'s
/// architecture, without loading it: what [`load`] checks first.
pub fn verify<Q: Int8Params>(model: &Q, bytes: &[u8]) -> Result<(), ParamsError> {
    let expected = encoded_len::<Q>();
    let header = Header::read(bytes).map_err(|e| match e {
        ParamsError::WrongLength { got, .. } => ParamsError::WrongLength { expected, got },
        e => e,
    })?;
    if header.version != VERSION {
        return Err(ParamsError::UnsupportedVersion { found: header.version, supported: VERSION });
    }
    if header.scalar != INT8_TAG {
        return Err(ParamsError::WrongScalar { expected: INT8_TAG, found: header.scalar });
    }
    let payload = match bytes.get(HEADER_LEN..) {
        Some(payload) if bytes.len() == expected => payload,
        _ => return Err(ParamsError::WrongLength { expected, got: bytes.len() }),
    };
    let found = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
    if found != Q::SIGNATURE {
        return Err(ParamsError::WrongArchitecture { expected: Q::SIGNATURE, found });
    }
    if header.count as usize != Q::BYTES {
        return Err(ParamsError::WrongCount { expected: Q::BYTES, found: header.count as usize });
    }
    let computed = crc::crc32(payload);
    if computed != header.checksum {
        return Err(ParamsError::ChecksumMismatch { expected: header.checksum, computed });
    }
    check_values(model, &payload[4..])
}

/// Loads the int8 network `model` from `bytes`, a whole parameter file
/// (from [`save`] or `tools/interop/import_tflite.py`). Atomic: on any
/// error nothing has been written. Never panics.
pub fn load<Q: Int8Params>(model: &mut Q, bytes: &[u8]) -> Result<(), ParamsError> {
    verify(model, bytes)?;
    let mut at = HEADER_LEN + 4;
    let mut take = |width: usize| {
        let b = &bytes[at..at + width];
        at += width;
        b
    };
    model.visit_mut(&mut |values| match values {
        ValuesMut::Weights(v) | ValuesMut::Bound(v) => v.iter_mut().for_each(|x| *x = take(1)[0] as i8),
        ValuesMut::Shift(v) => v.iter_mut().for_each(|x| *x = take(1)[0] as i8 as i32),
        ValuesMut::Bias(v) | ValuesMut::Multiplier(v) | ValuesMut::ZeroPoint(v) => {
            v.iter_mut().for_each(|x| *x = i32::from_le_bytes(take(4).try_into().unwrap_or_default()))
        }
        ValuesMut::Scale(v) => {
            v.iter_mut().for_each(|x| *x = f32::from_le_bytes(take(4).try_into().unwrap_or_default()))
        }
    });
    model.refresh();
    Ok(())
}

/// Saves the int8 network `model` into the start of `out`; returns the
/// bytes written, [`encoded_len::<Q>()`](encoded_len).
///
/// Errors, with `out` untouched: [`ParamsError::WrongLength`] when `out`
/// is too short, [`ParamsError::OutOfRange`] when a value could not be
/// loaded back (a scale that is not positive, say).
pub fn save<Q: Int8Params>(model: &Q, out: &mut [u8]) -> Result<usize, ParamsError> {
    const { assert!(Q::BYTES <= u32::MAX as usize, "the network is too large for the file format") };
    let len = encoded_len::<Q>();
    let got = out.len();
    let Some(out) = out.get_mut(..len) else {
        return Err(ParamsError::WrongLength { expected: len, got });
    };
    let (header, payload) = out.split_at_mut(HEADER_LEN);
    // Check first, so a refused save writes nothing; then write.
    let (mut index, mut error) = (0, None);
    model.visit(&mut |values| {
        each_value(values, &mut |kind, bytes| {
            let valid = bytes.map_or(Err(kind.what()), |b| kind.check(&b));
            if let (None, Err(what)) = (error, valid) {
                error = Some(ParamsError::OutOfRange { index, what });
            }
            index += 1;
        })
    });
    if let Some(error) = error {
        return Err(error);
    }
    payload[..4].copy_from_slice(&Q::SIGNATURE.to_le_bytes());
    let mut at = 4;
    model.visit(&mut |values| {
        each_value(values, &mut |kind, bytes| {
            payload[at..at + kind.width()].copy_from_slice(&bytes.unwrap_or_default()[..kind.width()]);
            at += kind.width();
        })
    });
    let checksum = crc::crc32(payload);
    let header_value =
        Header { version: VERSION, scalar: INT8_TAG, count: Q::BYTES as u32, checksum, signature_len: 0 };
    header.copy_from_slice(&header_value.to_bytes()[..HEADER_LEN]);
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::quant::{self, QuantizedOf};

    type Net = net![Dense<U3, U4>, Relu, Dense<U4, U2>];
    type Int8Net = QuantizedOf<Net, Vector<f32, U3>>;

    fn saved() -> (Int8Net, std::vec::Vec<u8>) {
        let mut net = Net::default();
        net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
        let samples = [vector([0.1, 0.5, -0.2]), vector([1.0, -1.0, 0.3]), vector([0.0, 2.0, 1.0])];
        let int8 = quant::quantize(&net, &quant::calibrate(&net, &samples)).unwrap();
        let mut bytes = std::vec![0u8; encoded_len::<Int8Net>()];
        assert_eq!(save(&int8, &mut bytes), Ok(bytes.len()));
        (int8, bytes)
    }

    #[test]
    fn every_damaged_file_is_refused_and_changes_nothing() {
        let (int8, bytes) = saved();
        let mut target = int8.clone();
        target.net.0 = Default::default();
        let before = target.clone();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert!(load(&mut target, &bad).is_err(), "byte {i}");
            assert_eq!(target, before);
        }
        assert!(load(&mut target, &bytes[..bytes.len() - 1]).is_err());
        load(&mut target, &bytes).unwrap();
        assert_eq!(target, int8);
    }

    #[test]
    fn out_of_range_values_are_refused_even_with_a_good_checksum() {
        let (mut int8, _) = saved();
        let mut bytes = std::vec![0u8; encoded_len::<Int8Net>()];
        // In file order: the network's input and output scale and zero point
        // (4 values), the first layer's 12 weights, 4 biases, 4 multipliers, then its shifts.
        int8.net.0.channels.shift[2] = 40;
        assert_eq!(save(&int8, &mut bytes), Err(ParamsError::OutOfRange { index: 4 + 12 + 4 + 4 + 2, what: "shift" }));
        assert!(bytes.iter().all(|&b| b == 0), "a refused save writes nothing");
        // One that does not fit the shift's byte at all (300 would wrap to 44).
        int8.net.0.channels.shift[2] = 300;
        assert_eq!(save(&int8, &mut bytes), Err(ParamsError::OutOfRange { index: 4 + 12 + 4 + 4 + 2, what: "shift" }));
        // Forge a file with the shift out of range and a matching checksum.
        int8.net.0.channels.shift[2] = 0;
        save(&int8, &mut bytes).unwrap();
        let at = HEADER_LEN + 4 + 4 * 4 + 12 + (4 + 4) * 4 + 2;
        bytes[at] = 40;
        let checksum = crc::crc32(&bytes[HEADER_LEN..]);
        bytes[12..16].copy_from_slice(&checksum.to_le_bytes());
        assert!(matches!(load(&mut int8.clone(), &bytes), Err(ParamsError::OutOfRange { what: "shift", .. })));
    }
}
