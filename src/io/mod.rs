//! Parameters in and out: a model's parameters as bytes, and back.
//!
//! A model's parameters are saved in the order of PyTorch's `state_dict` of
//! the equivalent `nn.Sequential` (the order [`Params::visit_state`] gives),
//! as little-endian `f32` or `f64` (the model's scalar), behind a small
//! header and the model's architecture: the role (name) and shape of every
//! tensor. The size is a constant of the model's type, [`encoded_len`], so
//! a buffer can be a plain array, nothing allocates, and a file exported
//! from PyTorch by `tools/interop/export_torch.py` loads into a network here
//! and back (`tools/interop/import_torch.py`; see `docs/interop.md`).
//! On the host, [`safetensors`] (feature `safetensors`) reads and writes
//! PyTorch's own `safetensors` files by `state_dict` key, with no script.
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
//! // The header, the signature (per tensor: role, rank, sizes), the values.
//! assert_eq!(buf.len(), 20 + 4 * ((2 + 2) + (2 + 1) + (2 + 2) + (2 + 1)) + 67 * 4);
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
//!
//! // So is a file from another architecture, even one with as many
//! // parameters (67): the error names the first tensor that differs.
//! buf[100] ^= 1;
//! type Other = net![Dense<U4, U11>, Tanh, Dense<U11, U1>];
//! let err = io::load(&mut Other::default(), &buf).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "tensor 0 (weight) is 8×4 in the file, 11×4 in the model: it was saved from another architecture"
//! );
//! # Ok::<(), io::ParamsError>(())
//! ```
//!
//! # Weights in firmware
//!
//! Embed the file with `include_bytes!` and load it at start-up. Typing the
//! constant with the model's [`encoded_len`] makes a file of the wrong size
//! a compile error; everything else (magic, version, scalar, architecture,
//! count, checksum, finite values) is checked by [`load`]:
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
//! # Format (version 2)
//!
//! All integers little-endian; the signature follows the 20-byte header,
//! the values follow the signature.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `b"TNET"` ([`MAGIC`]) |
//! | 4 | 2 | format version, 2 ([`VERSION`]) |
//! | 6 | 2 | scalar tag ([`Scalar::TAG`]): 1 for `f32`, 2 for `f64` |
//! | 8 | 4 | count of parameters and buffers ([`Params::COUNT`] + [`Params::BUFFER_COUNT`]) |
//! | 12 | 4 | CRC-32 (IEEE, as zlib's `crc32`) of every byte after this field: offset 16 to the end |
//! | 16 | 4 | S, the signature's length in `u32` words ([`Params::SIGNATURE_LEN`]) |
//! | 20 | 4 × S | the architecture signature: per state tensor, in `state_dict` order, its role word ([`role_of`] its name: FNV-1a of `"weight"`, `"running_var"`, …), its rank, then its sizes, outermost first, a `u32` each |
//! | 20 + 4 × S | count × 4 or 8 | the parameters and buffers, PyTorch `state_dict` order |
//!
//! The shapes are typenet's ([`Tensor::DIMS`](crate::shape::Tensor::DIMS)):
//! PyTorch's, except that a recurrent layer's `weight_ih` and `weight_hh`
//! are `[G][H][I]` and its biases `[G][H]` (one block per gate; PyTorch's
//! `[G·H, I]` and `[G·H]`, the same values in the same order), and
//! `num_batches_tracked` is a scalar (rank 0), as in PyTorch. So
//! `Dense<U3, U2>` is `weight` 2×3, `bias` 2: 4 + 3 words.
//!
//! Every field is checked exactly and the checksum catches any damage after
//! the first 16 bytes, so a file for another model, scalar or version, or
//! a damaged one, is refused with a [`ParamsError`] that says which, never
//! misread: a file from another architecture with as many values (a
//! `Dense<U3, U2>`'s into a `Dense<U1, U4>`) is refused at the first tensor
//! whose role or shape differs, [`ParamsError::WrongTensor`], which names
//! both. Loading is atomic: every check (and the scan for NaN and infinity)
//! runs before the first parameter is written. No input panics.
//!
//! # Version 1
//!
//! [`load`] still reads files of version 1, the format before the
//! signature: the same first 16 bytes with version 1 and the CRC-32 of the
//! values, then the values ([`HEADER_LEN_V1`]). Such a file has no
//! architecture to check: it loads into any model with the same scalar and
//! the same number of values, so a version 1 file from another architecture
//! of that count is misread. Load it into the model it was saved from, then
//! [`save`] it again to get a version 2 file.

pub(crate) mod crc;
pub mod embed;
mod error;
#[cfg(feature = "std")]
mod file;
#[cfg(feature = "safetensors")]
pub mod safetensors;
mod signature;

pub use error::ParamsError;
#[cfg(feature = "std")]
pub use file::{FileError, load_file, save_file};
pub use signature::{TensorSignature, role_name, role_of};

use crate::layer::Params;
use crate::scalar::Scalar;

/// The first four bytes of every parameter file.
pub const MAGIC: [u8; 4] = *b"TNET";

/// The format version [`save`] writes and the newest [`load`] reads (it
/// reads version 1 too; see the [module docs](self#version-1)).
pub const VERSION: u16 = 2;

/// The size of the header of a version 2 file in bytes; the signature
/// follows it.
pub const HEADER_LEN: usize = 20;

/// The size of the header of a version 1 file (and of an int8 file,
/// [`crate::quant::file`]): magic, version, scalar, count, checksum.
pub const HEADER_LEN_V1: usize = 16;

/// The exact size in bytes of the parameter file of model `P` in scalar `T`:
/// the header, the signature's [`Params::SIGNATURE_LEN`] words and
/// `P::COUNT + P::BUFFER_COUNT` values. A `const fn`, so it sizes arrays:
///
/// ```
/// use typenet::io;
/// use typenet::prelude::*;
///
/// type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];
/// static WEIGHTS: [u8; io::encoded_len::<Net, f32>()] = [0; io::encoded_len::<Net, f32>()];
/// let signature = 4 * <Net as Params<f32>>::SIGNATURE_LEN; // 2 × (weight 4 words + bias 3)
/// assert_eq!(WEIGHTS.len(), 20 + 56 + ((4 * 8 + 8) + (8 * 3 + 3)) * 4);
/// assert_eq!(signature, 56);
/// ```
pub const fn encoded_len<P: Params<T>, T: Scalar>() -> usize {
    HEADER_LEN + 4 * P::SIGNATURE_LEN + (P::COUNT + P::BUFFER_COUNT) * T::BYTES
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
/// let mut buf = [0u8; 256];
/// let n = io::save(&net, &mut buf)?;
/// let header = Header::read(&buf[..n])?;
/// assert_eq!((header.version, header.scalar, header.count, header.signature_len), (2, 2, 8, 7));
/// assert_eq!(header.byte_len(), io::HEADER_LEN);
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
    /// The CRC-32 of the bytes after the first 16.
    pub checksum: u32,
    /// The signature's length in `u32` words (version 2; 0 in a version 1
    /// file, which has none).
    pub signature_len: u32,
}

impl Header {
    /// Reads the header at the start of `bytes`, checking the magic.
    ///
    /// Errors: [`ParamsError::WrongMagic`], or [`ParamsError::WrongLength`]
    /// when there are fewer bytes than the header of its version holds
    /// ([`HEADER_LEN`] for version 2, [`HEADER_LEN_V1`] otherwise).
    ///
    /// A `const fn`: [`embedded!`](crate::embedded) reads a file's header
    /// at compile time with it.
    pub const fn read(bytes: &[u8]) -> Result<Header, ParamsError> {
        if let Some(found) = bytes.first_chunk::<4>()
            && u32::from_le_bytes(*found) != u32::from_le_bytes(MAGIC)
        {
            return Err(ParamsError::WrongMagic { found: *found });
        }
        let Some(h) = bytes.first_chunk::<HEADER_LEN_V1>() else {
            return Err(ParamsError::WrongLength { expected: HEADER_LEN_V1, got: bytes.len() });
        };
        let mut header = Header {
            version: u16::from_le_bytes([h[4], h[5]]),
            scalar: u16::from_le_bytes([h[6], h[7]]),
            count: u32::from_le_bytes([h[8], h[9], h[10], h[11]]),
            checksum: u32::from_le_bytes([h[12], h[13], h[14], h[15]]),
            signature_len: 0,
        };
        if header.version == VERSION {
            let Some(h) = bytes.first_chunk::<HEADER_LEN>() else {
                return Err(ParamsError::WrongLength { expected: HEADER_LEN, got: bytes.len() });
            };
            header.signature_len = u32::from_le_bytes([h[16], h[17], h[18], h[19]]);
        }
        Ok(header)
    }

    /// The size of this header in bytes: [`HEADER_LEN`] for version 2,
    /// [`HEADER_LEN_V1`] otherwise.
    pub fn byte_len(&self) -> usize {
        if self.version == VERSION { HEADER_LEN } else { HEADER_LEN_V1 }
    }

    /// The header's bytes: the first [`byte_len`](Header::byte_len) count.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&self.version.to_le_bytes());
        h[6..8].copy_from_slice(&self.scalar.to_le_bytes());
        h[8..12].copy_from_slice(&self.count.to_le_bytes());
        h[12..16].copy_from_slice(&self.checksum.to_le_bytes());
        h[16..].copy_from_slice(&self.signature_len.to_le_bytes());
        h
    }
}

/// Checks that `bytes` is a valid parameter file for model `P` in scalar
/// `T`, without loading it: what [`load`] checks before it writes anything.
///
/// The checks, in order: magic, length of the header, version (2, or 1),
/// scalar; in a version 2 file the architecture signature, record by
/// record; then the parameter count, the total length, the checksum, and
/// every value finite. The first that fails is the error, except that a
/// signature that differs is reported as [`ParamsError::WrongTensor`] only
/// for an intact file: one cut short (shorter or longer than its own header
/// says, and than the model's file) is [`ParamsError::WrongLength`], one
/// whose checksum fails [`ParamsError::ChecksumMismatch`].
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
/// assert_eq!(io::verify::<Small<f64>, f64>(&buf), Err(ParamsError::WrongScalar { expected: 2, found: 1 }));
/// let err = io::verify::<Large<f32>, f32>(&buf).unwrap_err();
/// assert_eq!(err.to_string(), "tensor 0 (weight) is 2×2 in the file, 4×2 in the model: it was saved from another architecture");
/// # Ok::<(), ParamsError>(())
/// ```
pub fn verify<P: Params<T>, T: Scalar>(bytes: &[u8]) -> Result<(), ParamsError> {
    verified_values::<P, T>(bytes).map(|_| ())
}

/// [`verify`], returning the checked values' bytes.
fn verified_values<P: Params<T>, T: Scalar>(bytes: &[u8]) -> Result<&[u8], ParamsError> {
    let expected = encoded_len::<P, T>();
    let header = Header::read(bytes).map_err(|e| match e {
        ParamsError::WrongLength { got, .. } => ParamsError::WrongLength { expected, got },
        e => e,
    })?;
    if header.version != VERSION && header.version != 1 {
        return Err(ParamsError::UnsupportedVersion { found: header.version, supported: VERSION });
    }
    if header.scalar != T::TAG as u16 {
        return Err(ParamsError::WrongScalar { expected: T::TAG as u16, found: header.scalar });
    }
    let checksum = || {
        let computed = crc::crc32(bytes.get(HEADER_LEN_V1..).unwrap_or_default());
        match computed == header.checksum {
            true => Ok(()),
            false => Err(ParamsError::ChecksumMismatch { expected: header.checksum, computed }),
        }
    };
    // Where the values start: after the signature (version 2) or the header.
    let mut values_at = header.byte_len();
    if header.version == VERSION {
        let words = (header.signature_len as usize).saturating_mul(4);
        let end = HEADER_LEN.saturating_add(words).min(bytes.len() / 4 * 4);
        if let Err(mismatch) = signature::check::<P, T>(bytes.get(HEADER_LEN..end).unwrap_or_default()) {
            // Another architecture, unless the file is cut short or damaged.
            let declared = words
                .checked_add(HEADER_LEN)
                .zip((header.count as usize).checked_mul(T::BYTES))
                .and_then(|(signed, values)| signed.checked_add(values));
            if declared != Some(bytes.len()) && bytes.len() != expected {
                return Err(ParamsError::WrongLength { expected, got: bytes.len() });
            }
            checksum()?;
            return Err(mismatch);
        }
        values_at = HEADER_LEN + 4 * P::SIGNATURE_LEN;
    }
    if header.count as usize != P::COUNT + P::BUFFER_COUNT {
        return Err(ParamsError::WrongCount { expected: P::COUNT + P::BUFFER_COUNT, found: header.count as usize });
    }
    let expected = values_at + (P::COUNT + P::BUFFER_COUNT) * T::BYTES;
    if bytes.len() != expected {
        return Err(ParamsError::WrongLength { expected, got: bytes.len() });
    }
    checksum()?;
    let values = &bytes[values_at..];
    for (index, value) in values.chunks_exact(T::BYTES).enumerate() {
        if !T::read_le(value).is_finite() {
            return Err(ParamsError::NonFinite { index });
        }
    }
    Ok(values)
}

/// Loads the parameters of `params` from `bytes`, a whole parameter file
/// (version 2, or version 1: see the [module docs](self#version-1)).
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
    let mut values = verified_values::<P, T>(bytes)?;
    let mut written = 0;
    params.visit_state_mut(&mut |tensor| {
        // Each tensor's bytes as a slice of their own, so the copy is one
        // counted loop (where the file starts its values is known only at
        // run time: version 1 or 2).
        let (own, rest) = values.split_at_checked(tensor.len() * T::BYTES).unwrap_or((values, &[]));
        for (p, v) in tensor.iter_mut().zip(own.chunks_exact(T::BYTES)) {
            *p = T::read_le(v);
            written += 1;
        }
        values = rest;
    });
    debug_assert_eq!(
        written,
        (P::COUNT + P::BUFFER_COUNT),
        "Params::COUNT disagrees with the tensors Params::visit_state_mut gives"
    );
    Ok(())
}

/// Saves the parameters of `params` into the start of `out` as a version 2
/// file and returns the number of bytes written,
/// [`encoded_len::<P, T>()`](encoded_len).
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
/// assert_eq!(io::save(&net, &mut buf), Ok(20 + 4 * (4 + 3) + 3 * 4));
/// assert_eq!(io::save(&net, &mut buf[..20]), Err(ParamsError::WrongLength { expected: 60, got: 20 }));
/// net.0.bias[0] = f32::NAN;
/// assert_eq!(io::save(&net, &mut buf), Err(ParamsError::NonFinite { index: 2 }));
/// ```
pub fn save<P: Params<T>, T: Scalar>(params: &P, out: &mut [u8]) -> Result<usize, ParamsError> {
    const {
        assert!(
            (P::COUNT + P::BUFFER_COUNT) <= u32::MAX as usize && P::SIGNATURE_LEN <= u32::MAX as usize,
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

    let mut header = Header {
        version: VERSION,
        scalar: T::TAG as u16,
        count: (P::COUNT + P::BUFFER_COUNT) as u32,
        checksum: 0,
        signature_len: P::SIGNATURE_LEN as u32,
    };
    out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    let (signature, payload) = out[HEADER_LEN..].split_at_mut(4 * P::SIGNATURE_LEN);
    signature::write::<P, T>(signature);
    let mut slots = payload.chunks_exact_mut(T::BYTES);
    params.visit_state(&mut |tensor| {
        for (&v, slot) in tensor.iter().zip(&mut slots) {
            v.write_le(slot);
        }
    });
    header.checksum = crc::crc32(&out[HEADER_LEN_V1..]);
    out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::shape::Dims;

    type Net = net![Dense<U3, U2, f64>, Tanh, Dense<U2, U1, f64>];

    /// Words of `Net`'s signature: weight 2×3, bias 2, weight 1×2, bias 1.
    const SIGNATURE: usize = (2 + 2) + (2 + 1) + (2 + 2) + (2 + 1);
    /// Where `Net`'s values start.
    const VALUES: usize = HEADER_LEN + 4 * SIGNATURE;

    fn saved() -> [u8; encoded_len::<Net, f64>()] {
        let mut net = Net::default();
        net.init(&mut Xoshiro256PlusPlus::seed_from_u64(5));
        let mut buf = [0u8; encoded_len::<Net, f64>()];
        assert_eq!(save(&net, &mut buf), Ok(buf.len()));
        buf
    }

    /// `bytes` with its checksum made right again.
    fn resealed(mut bytes: std::vec::Vec<u8>) -> std::vec::Vec<u8> {
        let crc = crc::crc32(&bytes[16..]);
        bytes[12..16].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn header_and_signature_are_laid_out_as_documented() {
        let buf = saved();
        assert_eq!(&buf[..4], b"TNET");
        assert_eq!(&buf[4..6], &[2, 0]);
        assert_eq!(&buf[6..8], &[2, 0]);
        assert_eq!(&buf[8..12], &[11, 0, 0, 0]);
        assert_eq!(u32::from_le_bytes(buf[12..16].try_into().unwrap()), crc::crc32(&buf[16..]));
        assert_eq!(&buf[16..20], &[SIGNATURE as u8, 0, 0, 0]);
        let words: std::vec::Vec<u32> =
            buf[20..VALUES].chunks(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())).collect();
        let (weight, bias) = (role_of("weight"), role_of("bias"));
        assert_eq!(words, [weight, 2, 2, 3, bias, 1, 2, weight, 2, 1, 2, bias, 1, 1]);
        assert_eq!(buf.len(), 20 + 14 * 4 + 11 * 8);
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
        assert_eq!(with(4, &[3, 0]), Err(ParamsError::UnsupportedVersion { found: 3, supported: 2 }));
        assert_eq!(with(4, &[0, 0]), Err(ParamsError::UnsupportedVersion { found: 0, supported: 2 }));
        // Read as version 1, the file is 4 × SIGNATURE + 4 bytes too long for its header.
        assert_eq!(with(4, &[1, 0]), Err(ParamsError::WrongLength { expected: 16 + 11 * 8, got: good.len() }));
        assert_eq!(with(6, &[1, 0]), Err(ParamsError::WrongScalar { expected: 2, found: 1 }));
        assert_eq!(with(8, &[12, 0, 0, 0]), Err(ParamsError::WrongCount { expected: 11, found: 12 }));
        let crc = u32::from_le_bytes(good[12..16].try_into().unwrap());
        assert_eq!(
            with(12, &(crc ^ 4).to_le_bytes()),
            Err(ParamsError::ChecksumMismatch { expected: crc ^ 4, computed: crc })
        );
        // The signature's length is under the checksum: a changed one is damage.
        for len in [SIGNATURE as u32 - 3, SIGNATURE as u32 + 1, u32::MAX] {
            assert!(matches!(with(16, &len.to_le_bytes()), Err(ParamsError::ChecksumMismatch { .. })), "{len}");
        }
        assert_eq!(verify::<Net, f64>(&good[..15]), Err(ParamsError::WrongLength { expected: 164, got: 15 }));
        assert_eq!(verify::<Net, f64>(&good[..19]), Err(ParamsError::WrongLength { expected: 164, got: 19 }));
        // Cut inside the signature or just after it.
        assert_eq!(verify::<Net, f64>(&good[..30]), Err(ParamsError::WrongLength { expected: 164, got: 30 }));
        assert_eq!(verify::<Net, f64>(&good[..VALUES]), Err(ParamsError::WrongLength { expected: 164, got: 76 }));
        assert_eq!(verify::<Net, f64>(&good[..163]), Err(ParamsError::WrongLength { expected: 164, got: 163 }));
        assert_eq!(verify::<Net, f64>(&good[..2]), Err(ParamsError::WrongLength { expected: 164, got: 2 }));
        assert_eq!(verify::<Net, f64>(&good), Ok(()));
    }

    #[test]
    fn an_intact_signature_change_is_another_architecture() {
        // Tensor 2's shape 1×2 written as 2×1, with a good checksum.
        let mut file = saved().to_vec();
        let at = 20 + 4 * (4 + 3 + 2);
        file[at..at + 8].copy_from_slice(&[2, 0, 0, 0, 1, 0, 0, 0]);
        let file = resealed(file);
        let dims = |sizes: [usize; 2]| Dims::SCALAR.prepend(sizes[1]).prepend(sizes[0]);
        let weight = |sizes| TensorSignature::new("weight", dims(sizes));
        assert_eq!(
            verify::<Net, f64>(&file),
            Err(ParamsError::WrongTensor { index: 2, file: Some(weight([2, 1])), model: Some(weight([1, 2])) })
        );
        // The same change without the checksum's: damage, not architecture.
        let mut damaged = saved();
        damaged[at..at + 8].copy_from_slice(&[2, 0, 0, 0, 1, 0, 0, 0]);
        assert!(matches!(verify::<Net, f64>(&damaged), Err(ParamsError::ChecksumMismatch { .. })));
    }

    #[test]
    fn a_version_1_file_loads_where_the_count_matches() {
        let v2 = saved();
        let mut net = Net::default();
        load(&mut net, &v2).unwrap();
        // The same values behind the version 1 header.
        let mut v1 = std::vec::Vec::from(&v2[..16]);
        v1[4] = 1;
        v1.extend_from_slice(&v2[VALUES..]);
        let v1 = resealed(v1);
        let mut copy = Net::default();
        assert_eq!(load(&mut copy, &v1), Ok(()));
        assert!(copy == net);
        // Its count is all there is to check: another architecture of 11 values loads too.
        type Other = Dense<U10, U1, f64>;
        assert_eq!(verify::<Other, f64>(&v1), Ok(()));
        assert_eq!(
            verify::<net![Dense<U3, U3, f64>], f64>(&v1),
            Err(ParamsError::WrongCount { expected: 12, found: 11 })
        );
        assert_eq!(verify::<Net, f64>(&v1[..100]), Err(ParamsError::WrongLength { expected: 104, got: 100 }));
        assert!(matches!(verify::<Net, f64>(&v1[..103]), Err(ParamsError::WrongLength { .. })));
    }

    #[test]
    fn a_non_finite_value_is_refused_by_index() {
        let mut buf = saved().to_vec();
        buf[VALUES + 7 * 8..VALUES + 8 * 8].copy_from_slice(&f64::INFINITY.to_le_bytes());
        let buf = resealed(buf);
        let mut net = Net::default();
        assert_eq!(load(&mut net, &buf), Err(ParamsError::NonFinite { index: 7 }));
        assert!(net == Net::default());
    }

    #[test]
    fn save_leaves_a_short_buffer_untouched() {
        let mut buf = [7u8; 50];
        assert_eq!(save(&Net::default(), &mut buf), Err(ParamsError::WrongLength { expected: 164, got: 50 }));
        assert_eq!(buf, [7u8; 50]);
    }

    #[test]
    fn every_error_reads_in_decimal() {
        use std::string::ToString;
        let dims = |sizes: &[usize]| sizes.iter().rev().fold(Dims::SCALAR, |d, &n| d.prepend(n));
        let tensor = |name, sizes: &[usize]| Some(TensorSignature::new(name, dims(sizes)));
        let deep = TensorSignature { role: role_of("weight"), dims: Dims::new(9, [1, 2, 3, 4, 5, 6, 7, 8, 9]) };
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
                ParamsError::UnsupportedVersion { found: 3, supported: 2 },
                "parameter file format version 3 is not supported (the newest this crate reads is 2)",
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
            (
                ParamsError::WrongTensor {
                    index: 0,
                    file: tensor("weight", &[2, 3]),
                    model: tensor("weight", &[4, 1]),
                },
                "tensor 0 (weight) is 2×3 in the file, 4×1 in the model: it was saved from another architecture",
            ),
            (
                ParamsError::WrongTensor {
                    index: 12,
                    file: tensor("running_mean", &[1024]),
                    model: tensor("weight", &[64, 16, 3, 3]),
                },
                "tensor 12 is running_mean 1024 in the file, weight 64×16×3×3 in the model: it was saved from another architecture",
            ),
            (
                ParamsError::WrongTensor { index: 4, file: None, model: tensor("num_batches_tracked", &[]) },
                "tensor 4 (num_batches_tracked, a scalar) is in the model, not in the file: it was saved from another architecture",
            ),
            (
                ParamsError::WrongTensor { index: 2, file: tensor("scale", &[3]), model: None },
                "tensor 2 (field 0x82971c71, 3) is in the file, not in the model: it was saved from another architecture",
            ),
            (
                ParamsError::WrongTensor { index: 1, file: Some(deep), model: tensor("weight", &[2]) },
                "tensor 1 (weight) is 1×2×3×4×5×6×… (rank 9) in the file, 2 in the model: it was saved from another architecture",
            ),
            (
                ParamsError::WrongTensor { index: 3, file: None, model: None },
                "tensor 3 is cut short in the file's architecture signature",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn the_error_stays_small() {
        // Returned by every load, on a microcontroller's stack too: two
        // tensor records of up to Dims::MAX_RANK sizes and an index.
        assert!(size_of::<ParamsError>() <= 80, "{}", size_of::<ParamsError>());
    }
}
