//! Loading labelled samples from CSV files (`std`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::vec::Vec;

use generic_array::ArrayLength;

use crate::data::Labelled;
use crate::scalar::Scalar;
use crate::shape::Vector;

/// Why a CSV file could not be loaded. Lines count from 1 as an editor
/// shows them (the header is line 1); columns count from 1.
#[derive(Debug)]
pub enum CsvError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// The CSV text itself is broken (for example a field that is not UTF-8).
    Malformed {
        /// The line.
        line: u64,
        /// What the parser said.
        message: std::string::String,
    },
    /// A row has the wrong number of fields.
    ColumnCount {
        /// The line.
        line: u64,
        /// One label and the features.
        expected: usize,
        /// What the row has.
        found: usize,
    },
    /// A feature is not a number.
    NotANumber {
        /// The line.
        line: u64,
        /// The column.
        column: usize,
        /// The field as written.
        field: std::string::String,
    },
    /// The label is not a class index below the number of classes.
    BadLabel {
        /// The line.
        line: u64,
        /// The field as written.
        field: std::string::String,
        /// The number of classes.
        classes: usize,
    },
    /// The file has no samples.
    Empty,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            CsvError::Malformed { line, message } => write!(f, "line {line}: {message}"),
            CsvError::ColumnCount { line, expected, found } => {
                write!(f, "line {line}: expected {expected} fields (a label and the features), found {found}")
            }
            CsvError::NotANumber { line, column, field } => {
                write!(f, "line {line}, column {column}: `{field}` is not a number")
            }
            CsvError::BadLabel { line, field, classes } => {
                write!(
                    f,
                    "line {line}, column 1: label `{field}` is not a class from 0 to {}",
                    classes.saturating_sub(1)
                )
            }
            CsvError::Empty => write!(f, "the file has no samples"),
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CsvError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Loads labelled samples from a CSV file with a header row, the class
/// label (0 to `classes − 1`) in the first column and `N` features after it.
///
/// ```
/// use typenet::prelude::*;
/// let iris = typenet::data::load_csv::<U4, f32>(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"), 3).unwrap();
/// assert_eq!(iris.len(), 150);
/// assert_eq!(iris[0].0.as_slice(), &[5.1, 3.5, 1.4, 0.2]);
/// ```
pub fn load_csv<N: ArrayLength, T: Scalar>(
    path: impl AsRef<Path>,
    classes: usize,
) -> Result<Vec<Labelled<T, N>>, CsvError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|error| CsvError::Io { path: path.to_path_buf(), error })?;
    read_csv(std::io::BufReader::new(file), classes).map_err(|e| match e {
        CsvError::Io { error, .. } => CsvError::Io { path: path.to_path_buf(), error },
        other => other,
    })
}

/// Reads labelled samples in the format of [`load_csv`] from any reader.
pub fn read_csv<N: ArrayLength, T: Scalar>(
    reader: impl std::io::Read,
    classes: usize,
) -> Result<Vec<Labelled<T, N>>, CsvError> {
    let mut csv =
        ::csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(::csv::Trim::All).from_reader(reader);
    let mut samples = Vec::new();
    let mut record = ::csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != N::USIZE + 1 {
            return Err(CsvError::ColumnCount { line, expected: N::USIZE + 1, found: record.len() });
        }
        let text = |column: usize| {
            std::str::from_utf8(&record[column]).map_err(|_| CsvError::Malformed {
                line,
                message: std::format!("column {}: not valid UTF-8", column + 1),
            })
        };
        let label = text(0)?;
        let class = label.parse::<usize>().ok().filter(|&c| c < classes).ok_or_else(|| CsvError::BadLabel {
            line,
            field: label.into(),
            classes,
        })?;
        let mut x = Vector::<T, N>::default();
        for (column, v) in x.iter_mut().enumerate().map(|(i, v)| (i + 1, v)) {
            let field = text(column)?;
            let value = field.parse::<f64>().ok().filter(|v| v.is_finite());
            *v = T::from_f64(value.ok_or_else(|| CsvError::NotANumber {
                line,
                column: column + 1,
                field: field.into(),
            })?);
        }
        samples.push((x, class));
    }
    if samples.is_empty() {
        return Err(CsvError::Empty);
    }
    Ok(samples)
}

fn csv_error(e: ::csv::Error) -> CsvError {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        ::csv::ErrorKind::Io(error) => CsvError::Io { path: PathBuf::new(), error },
        kind => CsvError::Malformed { line, message: std::format!("{kind:?}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use std::string::ToString;

    fn read(text: &str) -> Result<Vec<Labelled<f32, U2>>, CsvError> {
        read_csv::<U2, f32>(text.as_bytes(), 3)
    }

    #[test]
    fn reads_labels_and_features() {
        let data = read("label,a,b\n0,1.5,2\n2, -3 ,4e1\n").unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!((data[1].0.as_slice(), data[1].1), (&[-3.0, 40.0][..], 2));
    }

    #[test]
    fn each_error_names_its_place() {
        let e = read("label,a,b\n0,1,2\n1,2\n").unwrap_err();
        assert!(matches!(e, CsvError::ColumnCount { line: 3, expected: 3, found: 2 }), "{e:?}");
        assert_eq!(e.to_string(), "line 3: expected 3 fields (a label and the features), found 2");

        let e = read("label,a,b\n0,1,x7\n").unwrap_err();
        assert!(matches!(&e, CsvError::NotANumber { line: 2, column: 3, field } if field == "x7"), "{e:?}");

        let e = read("label,a,b\n0,1,NaN\n").unwrap_err();
        assert!(matches!(&e, CsvError::NotANumber { line: 2, column: 3, .. }), "{e:?}");

        let e = read("label,a,b\n0,1,2\n3,1,2\n").unwrap_err();
        assert!(matches!(&e, CsvError::BadLabel { line: 3, field, classes: 3 } if field == "3"), "{e:?}");
        assert_eq!(e.to_string(), "line 3, column 1: label `3` is not a class from 0 to 2");

        let e = read("label,a,b\n-1,1,2\n").unwrap_err();
        assert!(matches!(&e, CsvError::BadLabel { line: 2, .. }), "{e:?}");

        assert!(matches!(read("label,a,b\n").unwrap_err(), CsvError::Empty));

        let e = read_csv::<U2, f32>(&b"label,a,b\n0,1,\xff\n"[..], 3).unwrap_err();
        assert_eq!(e.to_string(), "line 2: column 3: not valid UTF-8");

        let e = load_csv::<U2, f32>("/nonexistent/file.csv", 3).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/file.csv: "), "{e}");
    }
}
