//! Parameters in and out: a model's parameters as bytes, and back.
//!
//! A model's parameters are saved in the order of PyTorch's `state_dict` of
//! the equivalent `nn.Sequential` (the order [`Params::visit`] gives), as
//! little-endian `f32` or `f64` (the model's scalar), behind a small header.
//! The size is a constant of the model's type, [`encoded_len`], so a
//! buffer can be a plain array, nothing allocates, and a file exported from
//! PyTorch by `tools/interop/export_torch.py` loads into a network here and
//! back (`tools/interop/import_torch.py`; see `docs/interop.md`).
//!
//! ```
//! use typenet::io;
//! use typenet::prelude::*;
//!
//! type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];
//! let mut net = Net::default();
//! net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
//!
//! let mut buf = [0u8; io::encoded_len::<Net, f32>()];
//! assert_eq!(buf.len(), 16 + 67 * 4);
//! io::save(&net, &mut buf)?;
//!
//! let mut copy = Net::default();
//! io::load(&mut copy, &buf)?;
//! assert!(copy == net);
//!
//! // A damaged file is refused and the model is left as it was.
//! buf[100] ^= 1;
//! assert!(matches!(io::load(&mut copy, &buf), Err(io::ParamsError::ChecksumMismatch { .. })));
//! assert!(copy == net);
//! # Ok::<(), io::ParamsError>(())
//! ```
//!
//! # Weights in firmware
//!
//! Embed the file with `include_bytes!` and load it at start-up. Typing the
//! constant with the model's [`encoded_len`] makes a file of the wrong size
//! a compile error; everything else (magic, version, scalar, count,
//! checksum, finite values) is checked by [`load`]:
//!
//! ```
//! use typenet::io;
//! use typenet::prelude::*;
//!
//! type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];
//!
//! // In firmware: `include_bytes!("../model.tnet")`, relative to the source file.
//! const WEIGHTS: &[u8; io::encoded_len::<Net, f32>()] =
//!     include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_mlp_f32.tnet"));
//!
//! let mut net = Net::default();
//! io::load(&mut net, WEIGHTS)?;
//! let y = net.forward(&vector([0.5, -1.0, 0.25, 2.0]));
//! let torch = [0.304_625_5, -0.558_406_5, 0.270_136_4]; // PyTorch's output
//! assert!(y.iter().zip(torch).all(|(y, t)| (y - t).abs() < 1e-5));
//! # Ok::<(), io::ParamsError>(())
//! ```
//!
//! [`load`] reads the bytes where they are (in flash, say): nothing is
//! copied but the values themselves, one at a time, into the model.
//!
//! # Checkpoints: gradients and optimiser state
//!
//! Gradients have the shape of the parameters ([`Params::Grads`] implements
//! [`Params`]), and so does an optimiser's state (Adam's moments are each a
//! `Grads`), so they save and load the same way, with the same size. A
//! checkpoint is the model followed by each state tensor, in buffers or
//! files of their own or one after another in one buffer:
//!
//! ```
//! use typenet::io;
//! use typenet::prelude::*;
//!
//! type Net = net![Dense<U2, U3, f64>, Relu, Dense<U3, U1, f64>];
//! type Grads = <Net as Params<f64>>::Grads;
//! const N: usize = io::encoded_len::<Net, f64>();
//! assert_eq!(io::encoded_len::<Grads, f64>(), N);
//!
//! let mut net = Net::default();
//! net.init(&mut Xoshiro256PlusPlus::seed_from_u64(3));
//! let mut momentum = Grads::default();
//! momentum.visit_mut(&mut |t| t.fill(0.5));
//!
//! let mut checkpoint = [0u8; 2 * N];
//! let (a, b) = checkpoint.split_at_mut(N);
//! io::save(&net, a)?;
//! io::save(&momentum, b)?;
//!
//! let (mut net2, mut momentum2) = (Net::default(), Grads::default());
//! io::load(&mut net2, &checkpoint[..N])?;
//! io::load(&mut momentum2, &checkpoint[N..])?;
//! assert!(net2 == net && momentum2 == momentum);
//! # Ok::<(), io::ParamsError>(())
//! ```
//!
//! # Format (version 1)
//!
//! All integers little-endian; `count` values follow the 16-byte header.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `b"TNET"` ([`MAGIC`]) |
//! | 4 | 2 | format version, 1 ([`VERSION`]) |
//! | 6 | 2 | scalar tag ([`Scalar::TAG`]): 1 for `f32`, 2 for `f64` |
//! | 8 | 4 | count of parameters and buffers ([`Params::COUNT`] + [`Params::BUFFER_COUNT`]) |
//! | 12 | 4 | CRC-32 of the payload (IEEE, as zlib's `crc32`) |
//! | 16 | count × 4 or 8 | the parameters and buffers, PyTorch `state_dict` order |
//!
//! Every field is checked exactly and the checksum catches any damage to the
//! payload, so a file for another model, scalar or version, or a damaged
//! one, is refused with a [`ParamsError`] that says which, never misread.
//! Loading is atomic: every check (and the scan for NaN and infinity) runs
//! before the first parameter is written. No input panics.

pub(crate) mod crc;
mod error;

pub use error::ParamsError;

use crate::layer::Params;
use crate::scalar::Scalar;

/// The first four bytes of every parameter file.
pub const MAGIC: [u8; 4] = *b"TNET";

/// The format version this crate reads and writes.
pub const VERSION: u16 = 1;

/// The size of the header in bytes; the parameters follow it.
pub const HEADER_LEN: usize = 16;

/// The exact size in bytes of the parameter file of model `P` in scalar `T`:
/// the header and `P::COUNT + P::BUFFER_COUNT` values. A `const fn`, so it sizes arrays:
///
/// ```
/// use typenet::io;
/// use typenet::prelude::*;
///
/// type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];
/// static WEIGHTS: [u8; io::encoded_len::<Net, f32>()] = [0; io::encoded_len::<Net, f32>()];
/// assert_eq!(WEIGHTS.len(), 16 + ((4 * 8 + 8) + (8 * 3 + 3)) * 4);
/// ```
pub const fn encoded_len<P: Params<T>, T: Scalar>() -> usize {
    HEADER_LEN + (P::COUNT + P::BUFFER_COUNT) * T::BYTES
}

/// The header of a parameter file, as stored.
///
/// [`Header::read`] checks only that the bytes start like a parameter file;
/// [`verify`] checks a whole file against a model.
///
/// ```
/// use typenet::io::{self, Header};
/// use typenet::prelude::*;
///
/// let net = <net![Dense<U3, U2, f64>]>::default();
/// let mut buf = [0u8; 128];
/// let n = io::save(&net, &mut buf)?;
/// let header = Header::read(&buf[..n])?;
/// assert_eq!((header.version, header.scalar, header.count), (1, 2, 8));
/// # Ok::<(), io::ParamsError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The format version.
    pub version: u16,
    /// The scalar tag ([`Scalar::TAG`]).
    pub scalar: u16,
    /// The number of parameters.
    pub count: u32,
    /// The CRC-32 of the payload.
    pub checksum: u32,
}

impl Header {
    /// Reads the header at the start of `bytes`, checking the magic.
    ///
    /// Errors: [`ParamsError::WrongMagic`], or [`ParamsError::WrongLength`]
    /// when there are fewer than [`HEADER_LEN`] bytes.
    pub fn read(bytes: &[u8]) -> Result<Header, ParamsError> {
        if let Some(found) = bytes.first_chunk::<4>()
            && *found != MAGIC
        {
            return Err(ParamsError::WrongMagic { found: *found });
        }
        let Some(h) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(ParamsError::WrongLength { expected: HEADER_LEN, got: bytes.len() });
        };
        Ok(Header {
            version: u16::from_le_bytes([h[4], h[5]]),
            scalar: u16::from_le_bytes([h[6], h[7]]),
            count: u32::from_le_bytes([h[8], h[9], h[10], h[11]]),
            checksum: u32::from_le_bytes([h[12], h[13], h[14], h[15]]),
        })
    }

    /// The header's bytes.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&self.version.to_le_bytes());
        h[6..8].copy_from_slice(&self.scalar.to_le_bytes());
        h[8..12].copy_from_slice(&self.count.to_le_bytes());
        h[12..].copy_from_slice(&self.checksum.to_le_bytes());
        h
    }
}

/// Checks that `bytes` is a valid parameter file for model `P` in scalar
/// `T`, without loading it: what [`load`] checks before it writes anything.
///
/// The checks, in order: magic, length of the header, version, scalar,
/// parameter count, total length, checksum, then every value finite. The
/// first that fails is the error.
///
/// ```
/// use typenet::io::{self, ParamsError};
/// use typenet::prelude::*;
///
/// type Small<T> = net![Dense<U2, U2, T>];
/// type Large<T> = net![Dense<U2, U4, T>];
/// let mut buf = [0u8; io::encoded_len::<Small<f32>, f32>()];
/// io::save(&Small::<f32>::default(), &mut buf)?;
/// assert_eq!(io::verify::<Small<f32>, f32>(&buf), Ok(()));
/// assert_eq!(io::verify::<Large<f32>, f32>(&buf), Err(ParamsError::WrongCount { expected: 12, found: 6 }));
/// assert_eq!(io::verify::<Small<f64>, f64>(&buf), Err(ParamsError::WrongScalar { expected: 2, found: 1 }));
/// # Ok::<(), ParamsError>(())
/// ```
pub fn verify<P: Params<T>, T: Scalar>(bytes: &[u8]) -> Result<(), ParamsError> {
    let expected = encoded_len::<P, T>();
    let header = Header::read(bytes).map_err(|e| match e {
        ParamsError::WrongLength { got, .. } => ParamsError::WrongLength { expected, got },
        e => e,
    })?;
    if header.version != VERSION {
        return Err(ParamsError::UnsupportedVersion { found: header.version, supported: VERSION });
    }
    if header.scalar != T::TAG as u16 {
        return Err(ParamsError::WrongScalar { expected: T::TAG as u16, found: header.scalar });
    }
    if header.count as usize != (P::COUNT + P::BUFFER_COUNT) {
        return Err(ParamsError::WrongCount { expected: (P::COUNT + P::BUFFER_COUNT), found: header.count as usize });
    }
    let payload = match bytes.get(HEADER_LEN..) {
        Some(payload) if bytes.len() == expected => payload,
        _ => return Err(ParamsError::WrongLength { expected, got: bytes.len() }),
    };
    let computed = crc::crc32(payload);
    if computed != header.checksum {
        return Err(ParamsError::ChecksumMismatch { expected: header.checksum, computed });
    }
    match payload.chunks_exact(T::BYTES).position(|v| !T::read_le(v).is_finite()) {
        Some(index) => Err(ParamsError::NonFinite { index }),
        None => Ok(()),
    }
}

/// Loads the parameters of `params` from `bytes`, a whole parameter file.
///
/// Atomic: `bytes` is checked completely first ([`verify`]); on any error
/// nothing has been written and `params` is as it was. Never panics.
///
/// ```
/// use typenet::io::{self, ParamsError};
/// use typenet::prelude::*;
///
/// let mut net = <net![Dense<U2, U1>, Sigmoid]>::default();
/// assert!(matches!(io::load(&mut net, b"PK\x03\x04 a zip file"), Err(ParamsError::WrongMagic { .. })));
/// ```
pub fn load<P: Params<T>, T: Scalar>(params: &mut P, bytes: &[u8]) -> Result<(), ParamsError> {
    verify::<P, T>(bytes)?;
    let mut values = bytes.get(HEADER_LEN..).unwrap_or_default().chunks_exact(T::BYTES).map(T::read_le);
    let mut written = 0;
    params.visit_state_mut(&mut |tensor| {
        for (p, v) in tensor.iter_mut().zip(&mut values) {
            *p = v;
            written += 1;
        }
    });
    debug_assert_eq!(
        written,
        (P::COUNT + P::BUFFER_COUNT),
        "Params::COUNT disagrees with the tensors Params::visit_state_mut gives"
    );
    Ok(())
}

/// Saves the parameters of `params` into the start of `out` and returns the
/// number of bytes written, [`encoded_len::<P, T>()`](encoded_len).
///
/// Errors, with `out` left untouched: [`ParamsError::WrongLength`] when
/// `out` is shorter than that, [`ParamsError::NonFinite`] when a parameter
/// is NaN or infinite (such a file could not be loaded back).
///
/// ```
/// use typenet::io::{self, ParamsError};
/// use typenet::prelude::*;
///
/// let mut net = <net![Dense<U2, U1>]>::default();
/// let mut buf = [0u8; 64];
/// assert_eq!(io::save(&net, &mut buf), Ok(16 + 3 * 4));
/// assert_eq!(io::save(&net, &mut buf[..20]), Err(ParamsError::WrongLength { expected: 28, got: 20 }));
/// net.0.bias[0] = f32::NAN;
/// assert_eq!(io::save(&net, &mut buf), Err(ParamsError::NonFinite { index: 2 }));
/// ```
pub fn save<P: Params<T>, T: Scalar>(params: &P, out: &mut [u8]) -> Result<usize, ParamsError> {
    const {
        assert!(
            (P::COUNT + P::BUFFER_COUNT) <= u32::MAX as usize,
            "the model has more parameters than the file format can count"
        )
    };
    let len = encoded_len::<P, T>();
    let got = out.len();
    let Some(out) = out.get_mut(..len) else {
        return Err(ParamsError::WrongLength { expected: len, got });
    };

    let (mut index, mut non_finite) = (0, None);
    params.visit_state(&mut |tensor| {
        if non_finite.is_none()
            && let Some(i) = tensor.iter().position(|v| !v.is_finite())
        {
            non_finite = Some(index + i);
        }
        index += tensor.len();
    });
    debug_assert_eq!(
        index,
        (P::COUNT + P::BUFFER_COUNT),
        "Params::COUNT disagrees with the tensors Params::visit_state gives"
    );
    if let Some(index) = non_finite {
        return Err(ParamsError::NonFinite { index });
    }

    let (header, payload) = out.split_at_mut(HEADER_LEN);
    let mut slots = payload.chunks_exact_mut(T::BYTES);
    params.visit_state(&mut |tensor| {
        for (&v, slot) in tensor.iter().zip(&mut slots) {
            v.write_le(slot);
        }
    });
    let header_value = Header {
        version: VERSION,
        scalar: T::TAG as u16,
        count: (P::COUNT + P::BUFFER_COUNT) as u32,
        checksum: crc::crc32(payload),
    };
    header.copy_from_slice(&header_value.to_bytes());
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    type Net = net![Dense<U3, U2, f64>, Tanh, Dense<U2, U1, f64>];

    fn saved() -> [u8; encoded_len::<Net, f64>()] {
        let mut net = Net::default();
        net.init(&mut Xoshiro256PlusPlus::seed_from_u64(5));
        let mut buf = [0u8; encoded_len::<Net, f64>()];
        assert_eq!(save(&net, &mut buf), Ok(buf.len()));
        buf
    }

    #[test]
    fn header_is_laid_out_as_documented() {
        let buf = saved();
        assert_eq!(&buf[..4], b"TNET");
        assert_eq!(&buf[4..6], &[1, 0]);
        assert_eq!(&buf[6..8], &[2, 0]);
        assert_eq!(&buf[8..12], &[11, 0, 0, 0]);
        assert_eq!(u32::from_le_bytes(buf[12..16].try_into().unwrap()), crc::crc32(&buf[16..]));
        assert_eq!(buf.len(), 16 + 11 * 8);
    }

    #[test]
    fn each_header_field_is_checked() {
        let good = saved();
        let with = |at: usize, bytes: &[u8]| {
            let mut b = good;
            b[at..at + bytes.len()].copy_from_slice(bytes);
            verify::<Net, f64>(&b)
        };
        assert_eq!(with(0, b"TNEX"), Err(ParamsError::WrongMagic { found: *b"TNEX" }));
        assert_eq!(with(4, &[2, 0]), Err(ParamsError::UnsupportedVersion { found: 2, supported: 1 }));
        assert_eq!(with(6, &[1, 0]), Err(ParamsError::WrongScalar { expected: 2, found: 1 }));
        assert_eq!(with(8, &[12, 0, 0, 0]), Err(ParamsError::WrongCount { expected: 11, found: 12 }));
        let crc = u32::from_le_bytes(good[12..16].try_into().unwrap());
        assert_eq!(
            with(12, &(crc ^ 4).to_le_bytes()),
            Err(ParamsError::ChecksumMismatch { expected: crc ^ 4, computed: crc })
        );
        assert_eq!(verify::<Net, f64>(&good[..15]), Err(ParamsError::WrongLength { expected: 104, got: 15 }));
        assert_eq!(verify::<Net, f64>(&good[..103]), Err(ParamsError::WrongLength { expected: 104, got: 103 }));
        assert_eq!(verify::<Net, f64>(&good[..2]), Err(ParamsError::WrongLength { expected: 104, got: 2 }));
        assert_eq!(verify::<Net, f64>(&good), Ok(()));
    }

    #[test]
    fn a_non_finite_value_is_refused_by_index() {
        let mut buf = saved();
        buf[16 + 7 * 8..16 + 8 * 8].copy_from_slice(&f64::INFINITY.to_le_bytes());
        let crc = crc::crc32(&buf[16..]);
        buf[12..16].copy_from_slice(&crc.to_le_bytes());
        let mut net = Net::default();
        assert_eq!(load(&mut net, &buf), Err(ParamsError::NonFinite { index: 7 }));
        assert!(net == Net::default());
    }

    #[test]
    fn save_leaves_a_short_buffer_untouched() {
        let mut buf = [7u8; 50];
        assert_eq!(save(&Net::default(), &mut buf), Err(ParamsError::WrongLength { expected: 104, got: 50 }));
        assert_eq!(buf, [7u8; 50]);
    }

    #[test]
    fn every_error_reads_in_decimal() {
        use std::string::ToString;
        let cases = [
            (
                ParamsError::WrongLength { expected: 104, got: 15 },
                "parameter data is 15 bytes long, expected 104 bytes",
            ),
            (
                ParamsError::WrongMagic { found: *b"PK\x03\x04" },
                "not a typenet parameter file: it starts with [80, 75, 3, 4], expected [84, 78, 69, 84] (\"TNET\")",
            ),
            (
                ParamsError::UnsupportedVersion { found: 2, supported: 1 },
                "parameter file format version 2 is not supported (this crate reads version 1)",
            ),
            (
                ParamsError::WrongScalar { expected: 1, found: 2 },
                "parameter file holds values of f64 (tag 2), the model computes in f32 (tag 1)",
            ),
            (
                ParamsError::WrongScalar { expected: 2, found: 9 },
                "parameter file holds values of an unknown type (tag 9), the model computes in f64 (tag 2)",
            ),
            (
                ParamsError::WrongCount { expected: 11, found: 12 },
                "parameter file holds 12 parameters, the model has 11: it was saved from another architecture",
            ),
            (
                ParamsError::ChecksumMismatch { expected: 10, computed: 11 },
                "parameter file is damaged: its CRC-32 is 11, the header says 10",
            ),
            (ParamsError::NonFinite { index: 7 }, "parameter 7 is not finite (NaN or infinite)"),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
