//! Loading labelled samples from CSV files (`std`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::vec::Vec;

use generic_array::ArrayLength;

use crate::data::{Labelled, ShownPath};
use crate::scalar::Scalar;
use crate::shape::Vector;

/// Why a CSV file could not be loaded. Lines count from 1 as an editor
/// shows them (the header is line 1); columns count from 1. A field is
/// quoted as a [`Field`]: escaped and cut short, whatever the file holds.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::{CsvError, read_csv};
///
/// let e = read_csv::<U2, f32>(&b"label,a,b\n0,1e39,2\n"[..], 2).unwrap_err();
/// assert!(matches!(e, CsvError::OutOfRange { line: 2, column: 2, scalar: "f32", .. }));
/// assert_eq!(e.to_string(), "line 2, column 2: `1e39` is beyond the range of f32 (magnitudes up to 3.4028234663852886e38)");
/// ```
#[derive(Debug)]
pub enum CsvError {
    /// The file could not be opened or read.
    Io {
        /// The file; `None` for [`read_csv`]'s reader.
        path: Option<PathBuf>,
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
    /// A feature is not a number (`inf` and `NaN` are not numbers here).
    NotANumber {
        /// The line.
        line: u64,
        /// The column.
        column: usize,
        /// The field as written.
        field: Field,
    },
    /// A feature is a number too large for the data set's scalar (`1e39`
    /// in `f32`), which would load as infinity.
    OutOfRange {
        /// The line.
        line: u64,
        /// The column.
        column: usize,
        /// The field as written.
        field: Field,
        /// The scalar: `"f32"` or `"f64"`.
        scalar: &'static str,
        /// The largest magnitude the scalar holds.
        max: f64,
    },
    /// The label is not a class index below the number of classes.
    BadLabel {
        /// The line.
        line: u64,
        /// The field as written.
        field: Field,
        /// The number of classes.
        classes: usize,
    },
    /// The file has no samples.
    Empty {
        /// The file; `None` for [`read_csv`]'s reader.
        path: Option<PathBuf>,
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io { path: Some(path), error } => write!(f, "{}: {error}", ShownPath(path)),
            CsvError::Io { path: None, error } => write!(f, "reading the CSV data: {error}"),
            CsvError::Malformed { line, message } => write!(f, "line {line}: {message}"),
            CsvError::ColumnCount { line, expected, found } => {
                write!(f, "line {line}: expected {expected} fields (a label and the features), found {found}")
            }
            CsvError::NotANumber { line, column, field } => {
                write!(f, "line {line}, column {column}: {field} is not a number")
            }
            CsvError::OutOfRange { line, column, field, scalar, max } => {
                write!(
                    f,
                    "line {line}, column {column}: {field} is beyond the range of {scalar} (magnitudes up to {max:e})"
                )
            }
            CsvError::BadLabel { line, field, classes } => {
                write!(f, "line {line}, column 1: label {field} is not a class from 0 to {}", classes.saturating_sub(1))
            }
            CsvError::Empty { path: Some(path) } => write!(f, "{}: the file has no samples", ShownPath(path)),
            CsvError::Empty { path: None } => write!(f, "the CSV data has no samples"),
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

/// A field of a CSV file as an error quotes it: its first
/// [`SHOWN`](Field::SHOWN) characters and its whole length, so that a
/// message stays one short line whatever the file holds (a megabyte in
/// one field, a NUL byte). `Display` puts it in backticks, escaped as Rust
/// escapes a string (`\0`, `\n`, `\u{202e}`), and marks a cut with `…` and
/// the length in bytes.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::{CsvError, read_csv};
///
/// let text = format!("label,a\n0,{}\n", "9".repeat(100_000) + "x");
/// let CsvError::NotANumber { field, .. } = read_csv::<U1, f32>(text.as_bytes(), 1).unwrap_err() else { panic!() };
/// assert_eq!((field.start(), field.byte_len()), ("9".repeat(40).as_str(), 100_001));
/// assert_eq!(field.to_string(), format!("`{}…` (100001 bytes)", "9".repeat(40)));
///
/// let e = read_csv::<U1, f32>(&b"label,a\n0,\0\n"[..], 1).unwrap_err();
/// assert_eq!(e.to_string(), "line 2, column 2: `\\0` is not a number");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    start: std::string::String,
    byte_len: usize,
}

impl Field {
    /// The number of characters an error keeps of a field.
    pub const SHOWN: usize = 40;

    fn new(text: &str) -> Self {
        let end = text.char_indices().nth(Self::SHOWN).map_or(text.len(), |(i, _)| i);
        Field { start: text[..end].into(), byte_len: text.len() }
    }

    /// The field's first [`SHOWN`](Self::SHOWN) characters as written
    /// (the whole field if it is no longer).
    pub fn start(&self) -> &str {
        &self.start
    }

    /// The length of the whole field in bytes.
    pub fn byte_len(&self) -> usize {
        self.byte_len
    }

    /// Whether [`start`](Self::start) is the whole field.
    pub fn is_whole(&self) -> bool {
        self.start.len() == self.byte_len
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}", self.start.escape_debug())?;
        if self.is_whole() { write!(f, "`") } else { write!(f, "…` ({} bytes)", self.byte_len) }
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
    let file = std::fs::File::open(path).map_err(|error| CsvError::Io { path: Some(path.to_path_buf()), error })?;
    read_csv(std::io::BufReader::new(file), classes).map_err(|e| match e {
        CsvError::Io { error, .. } => CsvError::Io { path: Some(path.to_path_buf()), error },
        CsvError::Empty { .. } => CsvError::Empty { path: Some(path.to_path_buf()) },
        other => other,
    })
}

/// Reads labelled samples in the format of [`load_csv`] from any reader.
///
/// Each feature is parsed in `T` directly (rounded once, to nearest); a
/// number beyond `T`'s range is refused ([`CsvError::OutOfRange`]), as are
/// `inf` and `NaN` ([`CsvError::NotANumber`]). A number too small for `T`
/// rounds to zero or a subnormal, as it does in every parser.
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
            field: Field::new(label),
            classes,
        })?;
        let mut x = Vector::<T, N>::default();
        for (column, v) in x.iter_mut().enumerate().map(|(i, v)| (i + 1, v)) {
            *v = feature(text(column)?, line, column + 1)?;
        }
        samples.push((x, class));
    }
    if samples.is_empty() {
        return Err(CsvError::Empty { path: None });
    }
    Ok(samples)
}

/// A feature in `T`: a finite number within `T`'s range. Rust's parser
/// also takes `inf`, `infinity` and `NaN` (any case, signed): those are not
/// numbers here, while a decimal it rounds to infinity is out of range.
fn feature<T: Scalar>(field: &str, line: u64, column: usize) -> Result<T, CsvError> {
    let value = field.parse::<T>().ok().filter(|v| !v.is_nan());
    let spelled_infinity = || {
        let unsigned = field.strip_prefix(['+', '-']).unwrap_or(field);
        unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity")
    };
    match value {
        Some(v) if v.is_finite() => Ok(v),
        Some(_) if !spelled_infinity() => Err(CsvError::OutOfRange {
            line,
            column,
            field: Field::new(field),
            scalar: T::NAME,
            max: T::max_value().to_f64(),
        }),
        _ => Err(CsvError::NotANumber { line, column, field: Field::new(field) }),
    }
}

fn csv_error(e: ::csv::Error) -> CsvError {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        ::csv::ErrorKind::Io(error) => CsvError::Io { path: None, error },
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
        assert!(matches!(&e, CsvError::NotANumber { line: 2, column: 3, field } if field.start() == "x7"), "{e:?}");
        assert_eq!(e.to_string(), "line 2, column 3: `x7` is not a number");

        let e = read("label,a,b\n0,1,NaN\n").unwrap_err();
        assert!(matches!(&e, CsvError::NotANumber { line: 2, column: 3, .. }), "{e:?}");

        let e = read("label,a,b\n0,1,2\n3,1,2\n").unwrap_err();
        assert!(matches!(&e, CsvError::BadLabel { line: 3, field, classes: 3 } if field.start() == "3"), "{e:?}");
        assert_eq!(e.to_string(), "line 3, column 1: label `3` is not a class from 0 to 2");

        let e = read("label,a,b\n-1,1,2\n").unwrap_err();
        assert!(matches!(&e, CsvError::BadLabel { line: 2, .. }), "{e:?}");

        let e = read("label,a,b\n").unwrap_err();
        assert!(matches!(e, CsvError::Empty { path: None }), "{e:?}");
        assert_eq!(e.to_string(), "the CSV data has no samples");

        let e = read_csv::<U2, f32>(&b"label,a,b\n0,1,\xff\n"[..], 3).unwrap_err();
        assert_eq!(e.to_string(), "line 2: column 3: not valid UTF-8");

        let e = load_csv::<U2, f32>("/nonexistent/file.csv", 3).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/file.csv: "), "{e}");
    }

    /// The audit's case: `1e39` loaded as `inf` in `f32` while `inf` was
    /// refused. Both are refused now, each with its own error.
    #[test]
    fn a_value_beyond_the_scalars_range_is_refused() {
        let e = read_csv::<U2, f32>(&b"label,a,b\n0,1e39,2\n"[..], 2).unwrap_err();
        assert!(
            matches!(&e, CsvError::OutOfRange { line: 2, column: 2, field, scalar: "f32", max }
            if field.start() == "1e39" && *max == f32::MAX as f64),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "line 2, column 2: `1e39` is beyond the range of f32 (magnitudes up to 3.4028234663852886e38)"
        );
        for text in ["-1e39", "3.5e38", "1e400"] {
            let csv = std::format!("label,a,b\n0,1,{text}\n");
            let e = read_csv::<U2, f32>(csv.as_bytes(), 2).unwrap_err();
            assert!(matches!(&e, CsvError::OutOfRange { line: 2, column: 3, .. }), "{text}: {e:?}");
        }
        // The same text is in range for f64; f64's own limit.
        assert_eq!(read_csv::<U2, f64>(&b"label,a,b\n0,1e39,-1e39\n"[..], 2).unwrap()[0].0.as_slice(), &[1e39, -1e39]);
        let e = read_csv::<U2, f64>(&b"label,a,b\n0,1,2e308\n"[..], 2).unwrap_err();
        assert!(matches!(&e, CsvError::OutOfRange { column: 3, scalar: "f64", .. }), "{e:?}");
        assert!(e.to_string().ends_with("beyond the range of f64 (magnitudes up to 1.7976931348623157e308)"), "{e}");
        // The largest f32 loads; infinities and NaN spelled out are not numbers.
        assert_eq!(read("label,a,b\n0,3.4028235e38,-3.4028235e38\n").unwrap()[0].0.as_slice(), &[f32::MAX, f32::MIN]);
        for text in ["inf", "-inf", "+Infinity", "INF", "nan", "-NaN"] {
            let e = read(&std::format!("label,a,b\n0,1,{text}\n")).unwrap_err();
            assert!(matches!(&e, CsvError::NotANumber { column: 3, .. }), "{text}: {e:?}");
        }
    }

    /// Each feature is parsed in its scalar, rounded once: the `f32` nearest
    /// to the text, not the `f32` nearest to the `f64` nearest to it.
    #[test]
    fn features_round_once_to_the_scalar() {
        // Halfway between two f32s plus a little: rounding through f64 lands
        // on the halfway point and then rounds to even, the wrong way.
        let text = "1.00000005960464477539062500000000001";
        let data = read(&std::format!("label,a,b\n0,{text},0\n")).unwrap();
        assert_eq!(data[0].0[0], text.parse::<f32>().unwrap());
        assert_eq!(data[0].0[0], 1.0 + f32::EPSILON);
        assert_eq!(text.parse::<f64>().unwrap() as f32, 1.0);
    }

    /// A field is quoted escaped and cut at `Field::SHOWN` characters with
    /// its length in bytes (the audit's 1 MB field and NUL byte).
    #[test]
    fn messages_quote_fields_short_and_escaped() {
        let huge = "7".repeat(1 << 20) + "z";
        let e = read(&std::format!("label,a,b\n0,{huge},1\n")).unwrap_err();
        let CsvError::NotANumber { line: 2, column: 2, field } = &e else { panic!("{e:?}") };
        assert_eq!((field.start().len(), field.byte_len(), field.is_whole()), (Field::SHOWN, (1 << 20) + 1, false));
        let message = e.to_string();
        assert_eq!(message, std::format!("line 2, column 2: `{}…` (1048577 bytes) is not a number", "7".repeat(40)));
        assert!(std::format!("{e:?}").len() < 200, "{e:?}");

        let e = read_csv::<U2, f32>(&b"label,a,b\n0,1,a\x00b\n"[..], 3).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column 3: `a\\0b` is not a number");
        assert!(!e.to_string().contains('\0'));

        let label = "9".repeat(50) + "\u{202e}";
        let e = read(&std::format!("label,a,b\n{label},1,2\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            std::format!("line 2, column 1: label `{}…` (53 bytes) is not a class from 0 to 2", "9".repeat(40))
        );
        let e = read("label,a,b\n\u{202e}\t\"q\",1,2\n").unwrap_err();
        assert!(e.to_string().contains("label `\\u{202e}"), "{e}");

        // A cut never splits a character.
        let field = Field::new(&"é".repeat(41));
        assert_eq!((field.start().chars().count(), field.byte_len()), (40, 82));
    }

    #[test]
    fn an_empty_path_and_a_reader_are_named_as_such() {
        let e = load_csv::<U2, f32>("", 3).unwrap_err();
        assert!(matches!(&e, CsvError::Io { path: Some(p), .. } if p.as_os_str().is_empty()), "{e:?}");
        assert!(e.to_string().starts_with("(empty path): "), "{e}");

        struct OnFire;
        impl std::io::Read for OnFire {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let e = read_csv::<U2, f32>(OnFire, 3).unwrap_err();
        assert!(matches!(e, CsvError::Io { path: None, .. }), "{e:?}");
        assert_eq!(e.to_string(), "reading the CSV data: disk on fire");
    }

    #[test]
    fn an_empty_file_is_named() {
        let path = std::env::temp_dir().join(std::format!("typenet-empty-{}.csv", std::process::id()));
        std::fs::write(&path, "label,a,b\n").unwrap();
        let e = load_csv::<U2, f32>(&path, 3).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(&e, CsvError::Empty { path: Some(p) } if *p == path), "{e:?}");
        assert_eq!(e.to_string(), std::format!("{}: the file has no samples", path.display()));
    }
}
