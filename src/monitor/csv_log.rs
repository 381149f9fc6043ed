//! The CSV log: a row per epoch, flushed as it is written.

use core::ops::ControlFlow;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::string::String;

use super::MonitorError;
use crate::scalar::Scalar;
use crate::train::{EpochReport, Monitor};

/// A [`Monitor`] that writes [`EpochReport::CSV_HEADER`] and then each
/// epoch's [`csv_row`](EpochReport::csv_row) to a file or any
/// [`io::Write`], flushing after every row, so the log is whole up to the
/// last epoch even if the program stops.
///
/// An I/O error stops training at the end of that epoch and is returned by
/// [`finish`](Self::finish) (and seen by [`error`](Self::error) before);
/// nothing panics.
///
/// ```
/// use typenet::monitor::CsvLog;
/// use typenet::train::{EpochReport, Metrics, Monitor};
///
/// let mut log = CsvLog::new(Vec::new());
/// for epoch in 1..=2 {
///     let train = Metrics { loss: 1.0 / epoch as f32, accuracy: Some(0.5) };
///     let report = EpochReport { epoch, train, val: None, lr: 0.01 };
///     assert!(log.on_epoch(&report).is_continue());
/// }
/// let bytes = log.finish()?;
/// assert_eq!(
///     String::from_utf8(bytes)?,
///     "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr\n1,1,0.5,,,0.01\n2,0.5,0.5,,,0.01\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// To a file, whose folder is created if need be:
///
/// ```no_run
/// # use typenet::monitor::CsvLog;
/// let log = CsvLog::create("out/run/log.csv")?;
/// # Ok::<(), typenet::monitor::MonitorError>(())
/// ```
pub struct CsvLog<W: Write = BufWriter<File>> {
    out: W,
    path: Option<PathBuf>,
    header_written: bool,
    /// The row being written, reused from epoch to epoch.
    row: String,
    error: Option<MonitorError>,
}

impl CsvLog<BufWriter<File>> {
    /// A log to the file at `path`, created (or emptied), with its folder
    /// created if it does not exist.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Log`] naming the file if the folder or the file
    /// cannot be created.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, MonitorError> {
        let path = path.as_ref();
        let fail = |source| MonitorError::Log { path: Some(path.to_path_buf()), epoch: None, source };
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(fail)?;
        }
        let file = File::create(path).map_err(fail)?;
        let mut log = CsvLog::new(BufWriter::new(file));
        log.path = Some(path.to_path_buf());
        Ok(log)
    }
}

impl<W: Write> CsvLog<W> {
    /// A log to `out`; the header is written with the first row (or by
    /// [`finish`](Self::finish) if no epoch ran).
    pub fn new(out: W) -> Self {
        CsvLog { out, path: None, header_written: false, row: String::new(), error: None }
    }

    /// The file this log writes, if it was made by [`create`](Self::create).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The first I/O error met, if any; training was asked to stop then.
    pub fn error(&self) -> Option<&MonitorError> {
        self.error.as_ref()
    }

    /// The writer, for a look at what was written so far.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Ends the log: writes the header if no epoch ran, flushes, and gives
    /// back the writer.
    ///
    /// # Errors
    ///
    /// The first I/O error met while logging, or in this last write.
    pub fn finish(mut self) -> Result<W, MonitorError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.write_header().and_then(|()| self.out.flush()).map_err(|source| self.fail(None, source))?;
        Ok(self.out)
    }

    fn write_header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.out.write_all(EpochReport::CSV_HEADER.as_bytes())?;
            self.out.write_all(b"\n")?;
            self.header_written = true;
        }
        Ok(())
    }

    fn write_row<T: Scalar>(&mut self, report: &EpochReport<T>) -> io::Result<()> {
        self.write_header()?;
        self.row.clear();
        report.csv_row(&mut self.row).map_err(|_| io::Error::other("formatting the row"))?;
        self.row.push('\n');
        self.out.write_all(self.row.as_bytes())?;
        self.out.flush()
    }

    fn fail(&self, epoch: Option<usize>, source: io::Error) -> MonitorError {
        MonitorError::Log { path: self.path.clone(), epoch, source }
    }
}

impl<T: Scalar, W: Write> Monitor<T> for CsvLog<W> {
    /// Writes the epoch's row and flushes; on an I/O error, keeps it and
    /// asks training to stop (and writes nothing more).
    fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()> {
        if self.error.is_none()
            && let Err(source) = self.write_row(report)
        {
            self.error = Some(self.fail(Some(report.epoch), source));
        }
        if self.error.is_some() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
}
