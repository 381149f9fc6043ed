//! What goes wrong in a monitor: writing its file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A monitor could not write its log or its plot: which file (if it has a
/// path), at which epoch, and the I/O error.
///
/// A monitor keeps the first such error, asks training to stop, and returns
/// it from its `finish()`.
///
/// ```
/// use std::io;
/// use typenet::monitor::MonitorError;
///
/// let e = MonitorError::Log { path: Some("out/log.csv".into()), epoch: Some(3), source: io::ErrorKind::StorageFull.into() };
/// assert_eq!(e.to_string(), "writing the training log `out/log.csv` at epoch 3: no storage space");
/// assert_eq!(e.path().unwrap().to_str(), Some("out/log.csv"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum MonitorError {
    /// Creating the CSV log, or writing or flushing it, failed.
    Log {
        /// The log's file, `None` for a log to a writer.
        path: Option<PathBuf>,
        /// The epoch whose row could not be written; `None` when creating
        /// the file, or writing the header of a run with no epoch.
        epoch: Option<usize>,
        /// What the system said.
        source: io::Error,
    },
    /// Writing the SVG plot failed.
    Plot {
        /// The image's file.
        path: PathBuf,
        /// The last epoch the plot was to show.
        epoch: usize,
        /// What the system said (or the plotting library, for an error it
        /// found while drawing).
        source: io::Error,
    },
}

impl MonitorError {
    /// The file that could not be written, if there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            MonitorError::Log { path, .. } => path.as_deref(),
            MonitorError::Plot { path, .. } => Some(path),
        }
    }

    /// The I/O error underneath.
    pub fn io_error(&self) -> &io::Error {
        match self {
            MonitorError::Log { source, .. } | MonitorError::Plot { source, .. } => source,
        }
    }
}

impl fmt::Display for MonitorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MonitorError::Log { path, epoch, source } => {
                f.write_str("writing the training log")?;
                if let Some(path) = path {
                    write!(f, " `{}`", path.display())?;
                }
                match epoch {
                    Some(epoch) => write!(f, " at epoch {epoch}: {source}"),
                    None => write!(f, ": {source}"),
                }
            }
            MonitorError::Plot { path, epoch, source } => {
                write!(f, "writing the plot `{}` at epoch {epoch}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for MonitorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.io_error())
    }
}
