//! [`ParamsError`]: why a parameter file was refused.

use core::fmt;

use super::signature::{TensorSignature, role_name};
use crate::shape::Dims;

/// Why bytes could not be loaded as (or a model could not be saved to) a
/// parameter file. Every check runs before anything is written, so after an
/// error the model, or the output buffer, is as it was.
///
/// ```
/// use typenet::io::{self, ParamsError};
/// use typenet::prelude::*;
///
/// let mut net = <net![Dense<U2, U2>, Relu]>::default();
/// let err = io::load(&mut net, b"TNET").unwrap_err();
/// assert_eq!(err, ParamsError::WrongLength { expected: 72, got: 4 });
/// assert_eq!(err.to_string(), "parameter data is 4 bytes long, expected 72 bytes");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParamsError {
    /// The data (or the output buffer) has the wrong size for this model.
    WrongLength {
        /// The size this model's file has: [`encoded_len`](super::encoded_len)
        /// (16 + 4 or 8 × the count for a version 1 file).
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// The data does not start with [`MAGIC`](super::MAGIC): not a parameter file.
    WrongMagic {
        /// The first four bytes found.
        found: [u8; 4],
    },
    /// The file was written in a format version this crate cannot read.
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The version this crate reads and writes: [`VERSION`](super::VERSION).
        supported: u16,
    },
    /// The file holds another scalar type than the model's (`f64` values for
    /// an `f32` model, say).
    WrongScalar {
        /// The model's scalar tag ([`Scalar::TAG`](crate::Scalar::TAG)).
        expected: u16,
        /// The tag in the file.
        found: u16,
    },
    /// The file holds another number of parameters than the model: it was
    /// saved from a different architecture (or, for a version 2 file whose
    /// tensors are the model's, its header is damaged).
    WrongCount {
        /// The model's parameter count ([`Params::COUNT`](crate::Params::COUNT)).
        expected: usize,
        /// The count in the file.
        found: usize,
    },
    /// The payload's CRC-32 is not the one in the header: the file is damaged.
    ChecksumMismatch {
        /// The checksum stored in the header.
        expected: u32,
        /// The checksum of the payload as read.
        computed: u32,
    },
    /// A value is NaN or infinite (in the file when loading, in the model
    /// when saving).
    NonFinite {
        /// Its flat index, in PyTorch `state_dict` order.
        index: usize,
    },
    /// A version 2 parameter file was saved from another architecture: its
    /// signature differs from the model's at tensor `index` (in
    /// [`Params::visit_state`](crate::Params::visit_state) order), in the
    /// tensor's role (its name), its shape, or its presence.
    ///
    /// ```
    /// use typenet::io::{self, ParamsError};
    /// use typenet::prelude::*;
    ///
    /// let mut file = [0u8; io::encoded_len::<Dense<U3, U2>, f32>()];
    /// io::save(&Dense::<U3, U2>::default(), &mut file)?;
    /// let mut other = Dense::<U1, U4>::default(); // also 8 parameters
    /// let err = io::load(&mut other, &file).unwrap_err();
    /// assert!(matches!(err, ParamsError::WrongTensor { index: 0, .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "tensor 0 (weight) is 2×3 in the file, 4×1 in the model: it was saved from another architecture"
    /// );
    /// # Ok::<(), ParamsError>(())
    /// ```
    WrongTensor {
        /// The tensor's position among the state tensors, from 0.
        index: usize,
        /// The file's record there; `None` when the file's signature has
        /// ended (or its last record is cut short).
        file: Option<TensorSignature>,
        /// The model's; `None` when the model has no more tensors.
        model: Option<TensorSignature>,
    },
    /// An int8 parameter file was written for another architecture: its
    /// signature (the layers' kinds and sizes) is not the model's.
    WrongArchitecture {
        /// The model's signature ([`Int8Params::SIGNATURE`](crate::quant::Int8Params::SIGNATURE)).
        expected: u32,
        /// The signature in the file.
        found: u32,
    },
    /// An int8 parameter is outside the range its meaning allows (a shift
    /// beyond ±31, a zero point outside int8, a scale that is not positive).
    OutOfRange {
        /// The value's index in the file's order of values.
        index: usize,
        /// What the value is ("shift", "zero point", "scale", "multiplier").
        what: &'static str,
    },
}

/// The name of a scalar tag in messages.
fn scalar_name(tag: u16) -> &'static str {
    match tag {
        t if t == <f32 as crate::scalar::Scalar>::TAG as u16 => "f32",
        t if t == <f64 as crate::scalar::Scalar>::TAG as u16 => "f64",
        crate::quant::file::INT8_TAG => "int8 (a quantised network)",
        _ => "an unknown type",
    }
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParamsError::WrongLength { expected, got } => {
                write!(f, "parameter data is {got} bytes long, expected {expected} bytes")
            }
            ParamsError::WrongMagic { found } => {
                write!(
                    f,
                    "not a typenet parameter file: it starts with {found:?}, expected {:?} (\"TNET\")",
                    super::MAGIC
                )
            }
            ParamsError::UnsupportedVersion { found, supported } => {
                write!(
                    f,
                    "parameter file format version {found} is not supported (the newest this crate reads is {supported})"
                )
            }
            ParamsError::WrongScalar { expected, found } => write!(
                f,
                "parameter file holds values of {} (tag {found}), the model computes in {} (tag {expected})",
                scalar_name(found),
                scalar_name(expected)
            ),
            ParamsError::WrongCount { expected, found } => write!(
                f,
                "parameter file holds {found} parameters, the model has {expected}: it was saved from another architecture"
            ),
            ParamsError::ChecksumMismatch { expected, computed } => {
                write!(f, "parameter file is damaged: its CRC-32 is {computed}, the header says {expected}")
            }
            ParamsError::NonFinite { index } => write!(f, "parameter {index} is not finite (NaN or infinite)"),
            ParamsError::WrongTensor { index, file, model } => {
                write!(f, "tensor {index}")?;
                match (file, model) {
                    (Some(file), Some(model)) if file.role == model.role => write!(
                        f,
                        " ({}) is {} in the file, {} in the model",
                        Role(model.role),
                        Shape(file.dims),
                        Shape(model.dims)
                    )?,
                    (Some(file), Some(model)) => write!(
                        f,
                        " is {} {} in the file, {} {} in the model",
                        Role(file.role),
                        Shape(file.dims),
                        Role(model.role),
                        Shape(model.dims)
                    )?,
                    (Some(tensor), None) | (None, Some(tensor)) => {
                        let (here, not_there) = if file.is_some() { ("file", "model") } else { ("model", "file") };
                        write!(
                            f,
                            " ({}, {}) is in the {here}, not in the {not_there}",
                            Role(tensor.role),
                            Shape(tensor.dims)
                        )?
                    }
                    (None, None) => return f.write_str(" is cut short in the file's architecture signature"),
                }
                f.write_str(": it was saved from another architecture")
            }
            ParamsError::WrongArchitecture { expected, found } => write!(
                f,
                "int8 parameter file was written for another architecture (signature {found:#010x}, the model's is {expected:#010x})"
            ),
            ParamsError::OutOfRange { index, what } => {
                write!(f, "int8 parameter {index}, a {what}, is out of its range")
            }
        }
    }
}

/// A role word in messages: its name when it is one of PyTorch's, else
/// the hash.
struct Role(u32);

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match role_name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "field {:#010x}", self.0),
        }
    }
}

/// A shape in messages: `2×3`, `4`, `a scalar`.
struct Shape(Dims);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes = self.0.sizes();
        let Some((first, rest)) = sizes.split_first() else {
            return f.write_str("a scalar");
        };
        write!(f, "{first}")?;
        rest.iter().try_for_each(|size| write!(f, "×{size}"))?;
        if self.0.rank() > sizes.len() {
            write!(f, "×… (rank {})", self.0.rank())?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParamsError {}
