//! Parameter files on disk (with `std`): [`save_file`] and [`load_file`],
//! [`save`](super::save) and [`load`](super::load) with the reading and
//! writing of the file, and errors that name it.

use std::path::{Path, PathBuf};
use std::vec;

use super::{ParamsError, encoded_len, load, save};
use crate::layer::Params;
use crate::scalar::Scalar;

/// Why a parameter file could not be saved or loaded: the file (reading,
/// writing), or its content ([`ParamsError`]); either way with its path.
///
/// ```
/// use typenet::prelude::*;
///
/// let mut net = <net![Dense<U2, U1>]>::default();
/// let err = typenet::io::load_file(&mut net, "no/such/model.tnet").unwrap_err();
/// assert!(err.to_string().starts_with("reading no/such/model.tnet: "));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// Reading (`false`) or writing (`true`).
        writing: bool,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file was read, its content refused (or the model could not be
    /// saved: a parameter that is not finite).
    Params {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        error: ParamsError,
    },
}

impl core::fmt::Display for FileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FileError::Io { path, writing, source } => {
                write!(f, "{} {}: {source}", if *writing { "writing" } else { "reading" }, path.display())
            }
            FileError::Params { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Io { source, .. } => Some(source),
            FileError::Params { error, .. } => Some(error),
        }
    }
}

/// Saves the parameters (and buffers) of `params` to the file at `path`,
/// a version 2 parameter file ([`save`](super::save)); returns its length.
/// Nothing is written when a parameter is not finite.
///
/// ```
/// use typenet::prelude::*;
///
/// let net = <net![Dense<U2, U1>]>::default();
/// let path = std::env::temp_dir().join("typenet-doc-save-file.tnet");
/// assert_eq!(typenet::io::save_file(&net, &path).unwrap(), 60);
/// let mut back = <net![Dense<U2, U1>]>::default();
/// typenet::io::load_file(&mut back, &path).unwrap();
/// assert_eq!(back, net);
/// ```
pub fn save_file<P: Params<T>, T: Scalar>(params: &P, path: impl AsRef<Path>) -> Result<usize, FileError> {
    let path = path.as_ref();
    let mut bytes = vec![0; encoded_len::<P, T>()];
    let len = save(params, &mut bytes).map_err(|error| FileError::Params { path: path.into(), error })?;
    std::fs::write(path, &bytes).map_err(|source| FileError::Io { path: path.into(), writing: true, source })?;
    Ok(len)
}

/// Loads the file at `path` into `params` ([`load`](super::load)): every
/// check runs first, so after an error `params` is as it was.
pub fn load_file<P: Params<T>, T: Scalar>(params: &mut P, path: impl AsRef<Path>) -> Result<(), FileError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| FileError::Io { path: path.into(), writing: false, source })?;
    load(params, &bytes).map_err(|error| FileError::Params { path: path.into(), error })
}
