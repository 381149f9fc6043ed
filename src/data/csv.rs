//! Loading samples from CSV files (`std`): [`Csv`], the loader with its
//! options, and the short forms [`load_csv`] and [`read_csv`].

use std::boxed::Box;
use std::fmt;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use generic_array::ArrayLength;
use typenum::U1;

use crate::data::{Labelled, Regression, ShownPath};
use crate::scalar::Scalar;
use crate::shape::Vector;

/// A column of a CSV file, by its name in the header or by its index.
///
/// Indexes count from 0, as Rust and pandas' `iloc` do; error messages
/// count columns from 1, as an editor shows them. `"mpg"` and `3` convert
/// into a `Column`, so [`Csv::target`] and [`Csv::skip`] take either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// The column with this index, from 0.
    Index(usize),
    /// The column with this name in the header.
    Name(String),
}

impl From<usize> for Column {
    fn from(index: usize) -> Self {
        Column::Index(index)
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.into())
    }
}

impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}

impl fmt::Display for Column {
    /// `column 3` (counted from 1) or `` column `mpg` ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "column {}", i + 1),
            Column::Name(name) => write!(f, "column `{}`", name.escape_debug()),
        }
    }
}

/// Whether the first line of a CSV file is a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Header {
    /// The first line is a header, and is checked: if every field of it
    /// that is read as a number (the features and targets) parses as a
    /// number, it looks like data, and the load fails with
    /// [`CsvError::HeaderLooksLikeData`] instead of silently dropping the
    /// file's first sample. The default.
    #[default]
    Expected,
    /// The first line is a header, whatever it holds (for the rare header
    /// whose names are all numbers).
    Present,
    /// There is no header: the first line is a sample, and columns can be
    /// chosen only by index.
    Absent,
}

/// What to do with a missing value: an empty field, or one of the
/// spellings in [`MISSING`] (`NA`, `?`, `nan`, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Missing {
    /// Refuse the file with [`CsvError::Missing`], naming the file, the
    /// line and the column. The default.
    #[default]
    Error,
    /// Leave the row out; [`Loaded::dropped`] counts the rows left out.
    Drop,
    /// Keep the value as NaN, to be filled later, for instance by an
    /// [`Imputer`](crate::data::Imputer) fitted on the training part.
    /// For a class label, which has no NaN, this is [`Missing::Error`].
    Nan,
}

/// The spellings of a missing value, compared after trimming spaces and
/// ignoring ASCII case; an empty field is missing too. pandas' default
/// `na_values` and the UCI repository's `?`.
pub const MISSING: &[&str] = &["?", "NA", "N/A", "#N/A", "#NA", "<NA>", "NaN", "-NaN", "nan", "NULL", "None"];

/// Whether a trimmed field is a missing value.
fn is_missing(field: &str) -> bool {
    field.is_empty() || MISSING.iter().any(|m| m.eq_ignore_ascii_case(field))
}

/// Where a CSV error is: the file (`None` for a reader), the line, and
/// for an error in one field its column and its name in the header, if
/// the file has one. Lines and columns count from 1, as an editor shows
/// them; the header is line 1. `Display` writes, for instance,
/// ``data/auto_mpg.csv, line 40, column 4 (`horsepower`)``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file; `None` for [`Csv::from_reader`]'s reader.
    pub path: Option<PathBuf>,
    /// The line, from 1.
    pub line: u64,
    /// The column, from 1; `None` for an error about a whole row.
    pub column: Option<usize>,
    /// The column's name in the header.
    pub name: Option<String>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}, ", ShownPath(path))?;
        }
        write!(f, "line {}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(name) = &self.name {
            write!(f, " (`{}`)", name.escape_debug())?;
        }
        Ok(())
    }
}

/// Why a CSV file could not be loaded. A field is quoted as a [`Field`]:
/// escaped and cut short, whatever the file holds; a place as a [`Place`].
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::{CsvError, read_csv};
///
/// let e = read_csv::<U2, f32>(&b"label,a,b\n0,1e39,2\n"[..], 2).unwrap_err();
/// assert!(matches!(&e, CsvError::OutOfRange { at, scalar: "f32", .. } if at.line == 2 && at.column == Some(2)));
/// assert_eq!(e.to_string(), "line 2, column 2 (`a`): `1e39` is beyond the range of f32 (magnitudes up to 3.4028234663852886e38)");
/// ```
#[derive(Debug)]
pub enum CsvError {
    /// The file could not be opened or read.
    Io {
        /// The file; `None` for a reader.
        path: Option<PathBuf>,
        /// What the system said.
        error: std::io::Error,
    },
    /// The CSV text itself is broken (for example a field that is not UTF-8).
    Malformed {
        /// Where.
        at: Box<Place>,
        /// What the parser said.
        message: String,
    },
    /// A row does not have the number of features the model takes.
    Width {
        /// Where: line 1 (the header, or the first row) when the whole
        /// file is too wide or too narrow, a later line when that row is.
        at: Box<Place>,
        /// The features the model takes.
        expected: usize,
        /// The features the row has: its fields less the target and
        /// skipped columns.
        found: usize,
        /// The fields of this row.
        fields: usize,
        /// The fields of the first line.
        columns: usize,
    },
    /// A feature or a real target is not a number (`inf` is not a number
    /// here; `NaN` is a [missing value](MISSING)).
    NotANumber {
        /// Where.
        at: Box<Place>,
        /// The field as written.
        field: Field,
    },
    /// A number too large for the data set's scalar (`1e39` in `f32`),
    /// which would load as infinity.
    OutOfRange {
        /// Where.
        at: Box<Place>,
        /// The field as written.
        field: Field,
        /// The scalar: `"f32"` or `"f64"`.
        scalar: &'static str,
        /// The largest magnitude the scalar holds.
        max: f64,
    },
    /// A class label that is not a class: not a whole number (`2.5`), or
    /// not below the number of classes. `0`, `1.0` and `2.` are classes.
    BadLabel {
        /// Where.
        at: Box<Place>,
        /// The field as written.
        field: Field,
        /// The number of classes.
        classes: usize,
        /// Whether the label is a number with a fractional part.
        fractional: bool,
    },
    /// A missing value, with [`Missing::Error`] (the default) for its
    /// column's role.
    Missing {
        /// Where.
        at: Box<Place>,
        /// The field as written (empty, `NA`, `?`, …).
        field: Field,
    },
    /// A classification load was asked for 0 classes.
    NoClasses,
    /// The file has no samples: no rows, or every row was dropped for a
    /// missing value.
    Empty {
        /// The file; `None` for a reader.
        path: Option<PathBuf>,
        /// The rows dropped for missing values.
        dropped: usize,
    },
    /// A target or skipped column that the file does not have.
    NoColumn {
        /// The file; `None` for a reader.
        path: Option<PathBuf>,
        /// The column asked for.
        column: Column,
        /// The number of columns of the first line.
        columns: usize,
    },
    /// A column was chosen by name in a file read with [`Header::Absent`].
    NameWithoutHeader {
        /// The name.
        name: String,
    },
    /// A column was chosen twice: as a target and skipped, or as two
    /// targets.
    ColumnTwice {
        /// The file; `None` for a reader.
        path: Option<PathBuf>,
        /// The column, from 1.
        column: usize,
    },
    /// The number of target columns chosen is not the number of targets
    /// the samples take.
    TargetCount {
        /// The targets of a sample.
        expected: usize,
        /// The target columns chosen.
        found: usize,
    },
    /// The first line, read as the header ([`Header::Expected`]), is all
    /// numbers where the samples are read: it looks like a sample, and
    /// reading it as a header would lose it.
    HeaderLooksLikeData {
        /// The file; `None` for a reader.
        path: Option<PathBuf>,
    },
}

/// `data/x.csv: ` or nothing.
struct In<'a>(&'a Option<PathBuf>);

impl fmt::Display for In<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, "{}: ", ShownPath(path)),
            None => Ok(()),
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    std::format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io { path: Some(path), error } => write!(f, "{}: {error}", ShownPath(path)),
            CsvError::Io { path: None, error } => write!(f, "reading the CSV data: {error}"),
            CsvError::Malformed { at, message } => write!(f, "{at}: {message}"),
            CsvError::Width { at, expected, found, fields, columns } => {
                let features = plural(*expected, "feature", "features");
                if at.line == 1 || fields == columns {
                    write!(f, "{at}: the model takes {features}, the file has {found}")
                } else {
                    write!(
                        f,
                        "{at}: the model takes {features}, the file has {found} on this line ({} where line 1 has {columns})",
                        plural(*fields, "field", "fields")
                    )
                }
            }
            CsvError::NotANumber { at, field } => write!(f, "{at}: {field} is not a number"),
            CsvError::OutOfRange { at, field, scalar, max } => {
                write!(f, "{at}: {field} is beyond the range of {scalar} (magnitudes up to {max:e})")
            }
            CsvError::BadLabel { at, field, classes, fractional: true } => write!(
                f,
                "{at}: label {field} is not a whole number, so not a class (0 to {})",
                classes.saturating_sub(1)
            ),
            CsvError::BadLabel { at, field, classes, fractional: false } => {
                write!(f, "{at}: label {field} is not a class from 0 to {}", classes.saturating_sub(1))
            }
            CsvError::Missing { at, field } => {
                let what = if field.byte_len() == 0 { "empty field".into() } else { field.to_string() };
                write!(
                    f,
                    "{at}: missing value ({what}); `Csv::missing` and `Csv::missing_target` can drop the row or keep NaN"
                )
            }
            CsvError::NoClasses => write!(
                f,
                "0 classes asked for: a class label must be below the number of classes, so it must be at least 1"
            ),
            CsvError::Empty { path: Some(path), dropped: 0 } => {
                write!(f, "{}: the file has no samples", ShownPath(path))
            }
            CsvError::Empty { path: None, dropped: 0 } => write!(f, "the CSV data has no samples"),
            CsvError::Empty { path, dropped } => write!(
                f,
                "{}no samples left: all {} dropped for missing values",
                In(path),
                plural(*dropped, "row was", "rows were")
            ),
            CsvError::NoColumn { path, column: column @ Column::Name(_), .. } => {
                write!(f, "{}no {column} in the header", In(path))
            }
            CsvError::NoColumn { path, column, columns } => {
                write!(f, "{}no {column}: the first line has {}", In(path), plural(*columns, "column", "columns"))
            }
            CsvError::NameWithoutHeader { name } => write!(
                f,
                "column `{}` is chosen by name, but the file is read without a header (`Header::Absent`): choose it by index",
                name.escape_debug()
            ),
            CsvError::ColumnTwice { path, column } => {
                write!(f, "{}column {column} is chosen twice (as a target and skipped, or as two targets)", In(path))
            }
            CsvError::TargetCount { expected, found } => write!(
                f,
                "the samples take {}, {} chosen",
                plural(*expected, "target", "targets"),
                plural(*found, "target column is", "target columns are")
            ),
            CsvError::HeaderLooksLikeData { path } => write!(
                f,
                "{}line 1: the header is all numbers, so it looks like a sample; read a file without a header with \
                 `.header(Header::Absent)`, or a header of numbers with `.header(Header::Present)`",
                In(path)
            ),
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
/// assert_eq!(e.to_string(), "line 2, column 2 (`a`): `\\0` is not a number");
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

/// Samples loaded from a CSV file, with what the load left out and the
/// columns it read. Dereferences to the `Vec` of samples, so
/// `data.len()`, `&mut data[..]` and `&mut data` (as a slice) work as on
/// the `Vec` itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded<S> {
    /// The samples, in the order of the file's rows.
    pub samples: Vec<S>,
    /// The rows left out for a missing value ([`Missing::Drop`]).
    pub dropped: usize,
    /// The header's names, if the file has a header.
    pub header: Option<Vec<String>>,
    /// The columns read as features, from 0, in the order of a sample's
    /// features.
    pub feature_columns: Vec<usize>,
    /// The columns read as targets, from 0.
    pub target_columns: Vec<usize>,
}

impl<S> Loaded<S> {
    /// The name of each feature in the header (`None` without a header).
    pub fn feature_names(&self) -> Option<Vec<&str>> {
        let header = self.header.as_ref()?;
        Some(self.feature_columns.iter().map(|&c| header[c].as_str()).collect())
    }
}

impl<S> core::ops::Deref for Loaded<S> {
    type Target = Vec<S>;
    fn deref(&self) -> &Vec<S> {
        &self.samples
    }
}

impl<S> core::ops::DerefMut for Loaded<S> {
    fn deref_mut(&mut self) -> &mut Vec<S> {
        &mut self.samples
    }
}

impl<S> From<Loaded<S>> for Vec<S> {
    fn from(loaded: Loaded<S>) -> Vec<S> {
        loaded.samples
    }
}

/// Features and a target.
type Sample<T, N, Y> = (Vector<T, N>, Y);

/// Where a [`Csv`] reads from.
enum Source<'r> {
    Path(PathBuf),
    Reader(Box<dyn std::io::Read + 'r>),
}

/// A CSV loader and its options: which column is the target, which to
/// skip, whether there is a header, what to do with missing values. Every
/// column neither target nor skipped is a feature, in the file's order.
///
/// Nothing is read until one of [`regression`](Csv::regression),
/// [`regression_targets`](Csv::regression_targets) or
/// [`classification`](Csv::classification) is called. The defaults are
/// [`load_csv`]'s format: the target in column 0, a header
/// ([`Header::Expected`], checked), every other column a feature, and
/// missing values refused.
///
/// Each number is parsed in the scalar `T` directly (rounded once, to
/// nearest); a number beyond `T`'s range is refused
/// ([`CsvError::OutOfRange`]), as is `inf` ([`CsvError::NotANumber`]).
/// Spaces around a field are trimmed. A skipped column is not read at all
/// (it may hold any text, not even UTF-8).
///
/// Regression on Auto MPG: the target `mpg` by name, the car's name
/// skipped, rows with no `mpg` dropped, a missing `horsepower` kept as NaN
/// for an [`Imputer`](crate::data::Imputer):
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::{Csv, Missing};
///
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/auto_mpg.csv");
/// let cars = Csv::open(path)
///     .target("mpg")
///     .skip("name")
///     .missing(Missing::Nan)
///     .missing_target(Missing::Drop)
///     .regression::<U9, f32>()?;
/// assert_eq!((cars.len(), cars.dropped), (398, 8));
/// assert_eq!(cars.feature_names().unwrap()[2], "horsepower");
/// assert_eq!(cars.iter().filter(|(x, _)| x[2].is_nan()).count(), 6);
/// assert_eq!((cars[0].0[0], cars[0].1[0]), (8.0, 18.0)); // cylinders, mpg
///
/// // Too few features for the file: the message says so in decimal.
/// let e = Csv::open(path).target("mpg").skip("name").regression::<U8, f32>().unwrap_err();
/// assert!(e.to_string().ends_with("auto_mpg.csv, line 1: the model takes 8 features, the file has 9"), "{e}");
/// # Ok::<(), typenet::data::CsvError>(())
/// ```
pub struct Csv<'r> {
    source: Source<'r>,
    targets: Vec<Column>,
    skip: Vec<Column>,
    header: Header,
    missing: Missing,
    missing_target: Missing,
}

impl fmt::Debug for Csv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Path(path) => path.display().to_string(),
            Source::Reader(_) => "(a reader)".into(),
        };
        f.debug_struct("Csv")
            .field("source", &source)
            .field("targets", &self.targets)
            .field("skip", &self.skip)
            .field("header", &self.header)
            .field("missing", &self.missing)
            .field("missing_target", &self.missing_target)
            .finish()
    }
}

impl Csv<'static> {
    /// A loader of the file at `path` (opened when the samples are read),
    /// with the default options.
    pub fn open(path: impl AsRef<Path>) -> Self {
        Csv::with_source(Source::Path(path.as_ref().to_path_buf()))
    }
}

impl<'r> Csv<'r> {
    /// A loader of CSV text from any reader (a byte slice, a socket), with
    /// the default options. Its errors name no file.
    pub fn from_reader(reader: impl std::io::Read + 'r) -> Self {
        Csv::with_source(Source::Reader(Box::new(reader)))
    }

    fn with_source(source: Source<'r>) -> Self {
        Csv {
            source,
            targets: std::vec![Column::Index(0)],
            skip: Vec::new(),
            header: Header::Expected,
            missing: Missing::Error,
            missing_target: Missing::Error,
        }
    }

    /// The target column, by name (`"mpg"`) or index from 0 (`3`), in
    /// place of column 0.
    pub fn target(mut self, column: impl Into<Column>) -> Self {
        self.targets = std::vec![column.into()];
        self
    }

    /// Several target columns, in the order of a sample's targets, for
    /// [`regression_targets`](Csv::regression_targets).
    pub fn targets<C: Into<Column>>(mut self, columns: impl IntoIterator<Item = C>) -> Self {
        self.targets = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Leaves a column out (a name, an identifier, any text), by name or
    /// index from 0; call it once per column.
    pub fn skip(mut self, column: impl Into<Column>) -> Self {
        self.skip.push(column.into());
        self
    }

    /// Whether the first line is a header: see [`Header`]; by default it is
    /// and is checked ([`Header::Expected`]).
    pub fn header(mut self, header: Header) -> Self {
        self.header = header;
        self
    }

    /// What to do with a missing feature ([`Missing::Error`] by default).
    pub fn missing(mut self, policy: Missing) -> Self {
        self.missing = policy;
        self
    }

    /// What to do with a missing target ([`Missing::Error`] by default).
    pub fn missing_target(mut self, policy: Missing) -> Self {
        self.missing_target = policy;
        self
    }

    /// Regression samples: `N` features and one real target, a
    /// `Vector<T, U1>` as [`Mse`](crate::loss::Mse) takes it.
    pub fn regression<N: ArrayLength, T: Scalar>(self) -> Result<Loaded<Regression<T, N>>, CsvError> {
        self.regression_targets::<N, U1, T>()
    }

    /// Regression samples with `M` real targets, from the `M` columns
    /// given to [`targets`](Csv::targets) in that order.
    pub fn regression_targets<N: ArrayLength, M: ArrayLength, T: Scalar>(
        self,
    ) -> Result<Loaded<Regression<T, N, M>>, CsvError> {
        if self.targets.len() != M::USIZE {
            return Err(CsvError::TargetCount { expected: M::USIZE, found: self.targets.len() });
        }
        let policy = self.missing_target;
        self.read(|fields, place| {
            let mut y = Vector::<T, M>::default();
            for (k, (y, field)) in y.iter_mut().zip(fields).enumerate() {
                let at = || place(k);
                *y = match (is_missing(field), policy) {
                    (false, _) => number(field, &at)?,
                    (true, Missing::Nan) => T::nan(),
                    (true, Missing::Drop) => return Ok(None),
                    (true, Missing::Error) => return Err(CsvError::Missing { at: at(), field: Field::new(field) }),
                };
            }
            Ok(Some(y))
        })
    }

    /// Classification samples: `N` features and a class index below
    /// `classes`. A label is a whole number, written `2`, `2.0` or `2.`
    /// (pandas writes integer columns with a missing value as floats);
    /// `2.5` and `-1` are refused ([`CsvError::BadLabel`]), and so is
    /// `classes = 0` ([`CsvError::NoClasses`]). A missing label is dropped
    /// with [`Missing::Drop`] and refused otherwise.
    pub fn classification<N: ArrayLength, T: Scalar>(self, classes: usize) -> Result<Loaded<Labelled<T, N>>, CsvError> {
        if classes == 0 {
            return Err(CsvError::NoClasses);
        }
        if self.targets.len() != 1 {
            return Err(CsvError::TargetCount { expected: 1, found: self.targets.len() });
        }
        let policy = self.missing_target;
        self.read(|fields, place| {
            let (label, at) = (fields[0], || place(0));
            if is_missing(label) {
                return match policy {
                    Missing::Drop => Ok(None),
                    _ => Err(CsvError::Missing { at: at(), field: Field::new(label) }),
                };
            }
            match class(label) {
                Ok(c) if c < classes => Ok(Some(c)),
                Ok(_) | Err(false) => {
                    Err(CsvError::BadLabel { at: at(), field: Field::new(label), classes, fractional: false })
                }
                Err(true) => Err(CsvError::BadLabel { at: at(), field: Field::new(label), classes, fractional: true }),
            }
        })
    }

    /// Reads the rows, each into features and, by `target`, its target
    /// (`None`: drop the row).
    fn read<N: ArrayLength, T: Scalar, Y>(
        self,
        mut target: impl FnMut(&[&str], &dyn Fn(usize) -> Box<Place>) -> Result<Option<Y>, CsvError>,
    ) -> Result<Loaded<Sample<T, N, Y>>, CsvError> {
        let path = match &self.source {
            Source::Path(path) => Some(path.clone()),
            Source::Reader(_) => None,
        };
        let io = |error| CsvError::Io { path: path.clone(), error };
        let reader: Box<dyn std::io::Read + 'r> = match self.source {
            Source::Path(ref p) => Box::new(std::io::BufReader::new(std::fs::File::open(p).map_err(io)?)),
            Source::Reader(reader) => reader,
        };
        let newlines = std::rc::Rc::new(core::cell::RefCell::new(Vec::new()));
        let reader = Lines { inner: reader, offset: 0, last_cr: None, newlines: newlines.clone() };
        let mut csv =
            ::csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(::csv::Trim::All).from_reader(reader);
        let mut record = ::csv::ByteRecord::new();
        let line_of =
            |position: Option<&::csv::Position>| position.map_or(0, |p| line_at(&newlines.borrow(), p.byte()));
        let mut next = |record: &mut ::csv::ByteRecord| match csv.read_byte_record(record) {
            Ok(more) => Ok(more),
            Err(e) => {
                let line = line_of(e.position());
                Err(csv_error(e, &path, line))
            }
        };
        if !next(&mut record)? {
            return Err(CsvError::Empty { path, dropped: 0 });
        }
        let columns = record.len();
        let header: Option<Vec<String>> = if self.header == Header::Absent {
            None
        } else {
            let mut names = Vec::with_capacity(columns);
            for c in 0..columns {
                let at = || Box::new(Place { path: path.clone(), line: 1, column: Some(c + 1), name: None });
                names.push(text_at(&record, c, &at)?.to_string());
            }
            Some(names)
        };
        let resolve = |column: &Column| -> Result<usize, CsvError> {
            let found = match (column, &header) {
                (Column::Index(i), _) => Some(*i).filter(|&i| i < columns),
                (Column::Name(name), Some(names)) => names.iter().position(|n| n == name),
                (Column::Name(name), None) => return Err(CsvError::NameWithoutHeader { name: name.clone() }),
            };
            found.ok_or_else(|| CsvError::NoColumn { path: path.clone(), column: column.clone(), columns })
        };
        let targets = self.targets.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
        let skipped = self.skip.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
        for (k, &c) in targets.iter().enumerate() {
            if targets[..k].contains(&c) || skipped.contains(&c) {
                return Err(CsvError::ColumnTwice { path, column: c + 1 });
            }
        }
        let feature_columns: Vec<usize> =
            (0..columns).filter(|c| !targets.contains(c) && !skipped.contains(c)).collect();
        let mut skipped_unique = skipped.clone();
        skipped_unique.sort_unstable();
        skipped_unique.dedup();
        let not_features = targets.len() + skipped_unique.len();
        let place = |line: u64, column: Option<usize>| {
            Box::new(Place {
                path: path.clone(),
                line,
                column: column.map(|c| c + 1),
                name: column.and_then(|c| header.as_ref().map(|h| h[c].clone())),
            })
        };
        if feature_columns.len() != N::USIZE {
            return Err(CsvError::Width {
                at: place(1, None),
                expected: N::USIZE,
                found: feature_columns.len(),
                fields: columns,
                columns,
            });
        }
        if self.header == Header::Expected {
            let numeric = |c: &usize| std::str::from_utf8(&record[*c]).is_ok_and(|f| f.parse::<f64>().is_ok());
            if feature_columns.iter().chain(&targets).all(numeric) {
                return Err(CsvError::HeaderLooksLikeData { path });
            }
        }
        let mut samples = Vec::new();
        let mut dropped = 0;
        let mut first = header.is_none();
        loop {
            if !first && !next(&mut record)? {
                break;
            }
            first = false;
            let line = line_of(record.position());
            if record.len() != columns {
                return Err(CsvError::Width {
                    at: place(line, None),
                    expected: N::USIZE,
                    found: record.len().saturating_sub(not_features),
                    fields: record.len(),
                    columns,
                });
            }
            let mut x = Vector::<T, N>::default();
            let mut keep = true;
            for (v, &c) in x.iter_mut().zip(&feature_columns) {
                let at = || place(line, Some(c));
                let field = text_at(&record, c, &at)?;
                *v = match (is_missing(field), self.missing) {
                    (false, _) => number(field, &at)?,
                    (true, Missing::Nan) => T::nan(),
                    (true, Missing::Drop) => {
                        keep = false;
                        break;
                    }
                    (true, Missing::Error) => return Err(CsvError::Missing { at: at(), field: Field::new(field) }),
                };
            }
            let mut fields = Vec::with_capacity(targets.len());
            for &c in &targets {
                fields.push(text_at(&record, c, &|| place(line, Some(c)))?);
            }
            if !keep {
                dropped += 1;
                continue;
            }
            match target(&fields, &|k| place(line, Some(targets[k])))? {
                Some(y) => samples.push((x, y)),
                None => dropped += 1,
            }
        }
        if samples.is_empty() {
            return Err(CsvError::Empty { path, dropped });
        }
        Ok(Loaded { samples, dropped, header, feature_columns, target_columns: targets })
    }
}

/// Field `column` of `record` as text.
fn text_at<'a>(record: &'a ::csv::ByteRecord, column: usize, at: &dyn Fn() -> Box<Place>) -> Result<&'a str, CsvError> {
    std::str::from_utf8(&record[column])
        .map_err(|_| CsvError::Malformed { at: at(), message: "not valid UTF-8".into() })
}

/// A class index: `Ok` for a whole number (`2`, `2.0`, `2.`, `2e0`),
/// `Err(true)` for a number with a fractional part, `Err(false)` for
/// anything else (negative numbers, text).
fn class(label: &str) -> Result<usize, bool> {
    if let Ok(c) = label.parse::<usize>() {
        return Ok(c);
    }
    match label.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() != 0.0 => Err(true),
        Ok(v) if (0.0..9_007_199_254_740_992.0).contains(&v) => Ok(v as usize),
        _ => Err(false),
    }
}

/// Loads labelled samples from a CSV file with a header row, the class
/// label (0 to `classes − 1`) in the first column and `N` features after
/// it: `Csv::open(path).classification::<N, T>(classes)`, the samples
/// alone. [`Csv`] chooses other columns, reads real targets, files
/// without a header and missing values.
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
    Csv::open(path).classification::<N, T>(classes).map(Vec::from)
}

/// Reads labelled samples in the format of [`load_csv`] from any reader:
/// `Csv::from_reader(reader).classification::<N, T>(classes)`, the
/// samples alone.
pub fn read_csv<N: ArrayLength, T: Scalar>(
    reader: impl std::io::Read,
    classes: usize,
) -> Result<Vec<Labelled<T, N>>, CsvError> {
    Csv::from_reader(reader).classification::<N, T>(classes).map(Vec::from)
}

/// A number in `T`: a finite number within `T`'s range. Rust's parser
/// also takes `inf` and `infinity` (any case, signed): those are not
/// numbers here, while a decimal it rounds to infinity is out of range.
fn number<T: Scalar>(field: &str, at: &dyn Fn() -> Box<Place>) -> Result<T, CsvError> {
    let value = field.parse::<T>().ok().filter(|v| !v.is_nan());
    let spelled_infinity = || {
        let unsigned = field.strip_prefix(['+', '-']).unwrap_or(field);
        unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity")
    };
    match value {
        Some(v) if v.is_finite() => Ok(v),
        Some(_) if !spelled_infinity() => Err(CsvError::OutOfRange {
            at: at(),
            field: Field::new(field),
            scalar: T::NAME,
            max: T::max_value().to_f64(),
        }),
        _ => Err(CsvError::NotANumber { at: at(), field: Field::new(field) }),
    }
}

/// Counts the lines of what it reads: the offset of each line break (`\n`,
/// `\r`, or the `\n` of a CRLF). The `csv` crate's own line numbers are
/// one short after a CRLF (it counts the `\n` only when it reads the next
/// record), so lines are counted here from a record's byte offset instead.
struct Lines<R> {
    inner: R,
    offset: u64,
    last_cr: Option<u64>,
    newlines: std::rc::Rc<core::cell::RefCell<Vec<u64>>>,
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut breaks = self.newlines.borrow_mut();
        for (i, &b) in buf[..n].iter().enumerate() {
            let at = self.offset + i as u64;
            if b == b'\n' && self.last_cr.is_some_and(|cr| cr + 1 == at) {
                breaks.pop(); // CRLF: one break, at its `\n`
            }
            if b == b'\n' || b == b'\r' {
                breaks.push(at);
            }
            if b == b'\r' {
                self.last_cr = Some(at);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The line (from 1) of a record starting at byte `byte`, given the
/// offsets of the line breaks: one more than the breaks before it, or at
/// it (a record after a CRLF starts at its `\n`).
fn line_at(newlines: &[u64], byte: u64) -> u64 {
    1 + newlines.partition_point(|&o| o <= byte) as u64
}

fn csv_error(e: ::csv::Error, path: &Option<PathBuf>, line: u64) -> CsvError {
    match e.into_kind() {
        ::csv::ErrorKind::Io(error) => CsvError::Io { path: path.clone(), error },
        kind => CsvError::Malformed {
            at: Box::new(Place { path: path.clone(), line, column: None, name: None }),
            message: std::format!("{kind:?}"),
        },
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
        assert!(
            matches!(&e, CsvError::Width { at, expected: 2, found: 1, fields: 2, columns: 3 } if at.line == 3),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "line 3: the model takes 2 features, the file has 1 on this line (2 fields where line 1 has 3)"
        );

        let e = read("label,a,b\n0,1,x7\n").unwrap_err();
        assert!(
            matches!(&e, CsvError::NotANumber { at, field } if at.line == 2 && at.column == Some(3) && field.start() == "x7"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "line 2, column 3 (`b`): `x7` is not a number");

        let e = read("label,a,b\n0,1,NaN\n").unwrap_err();
        assert!(matches!(&e, CsvError::Missing { at, .. } if at.line == 2 && at.column == Some(3)), "{e:?}");

        let e = read("label,a,b\n0,1,2\n3,1,2\n").unwrap_err();
        assert!(
            matches!(&e, CsvError::BadLabel { at, field, classes: 3, fractional: false } if at.line == 3 && field.start() == "3"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "line 3, column 1 (`label`): label `3` is not a class from 0 to 2");

        let e = read("label,a,b\n-1,1,2\n").unwrap_err();
        assert!(matches!(&e, CsvError::BadLabel { at, .. } if at.line == 2), "{e:?}");

        let e = read("label,a,b\n").unwrap_err();
        assert!(matches!(e, CsvError::Empty { path: None, dropped: 0 }), "{e:?}");
        assert_eq!(e.to_string(), "the CSV data has no samples");

        let e = read_csv::<U2, f32>(&b"label,a,b\n0,1,\xff\n"[..], 3).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column 3 (`b`): not valid UTF-8");

        let e = load_csv::<U2, f32>("/nonexistent/file.csv", 3).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/file.csv: "), "{e}");
    }

    /// The audit's case: `1e39` loaded as `inf` in `f32` while `inf` was
    /// refused. Both are refused now, each with its own error.
    #[test]
    fn a_value_beyond_the_scalars_range_is_refused() {
        let e = read_csv::<U2, f32>(&b"label,a,b\n0,1e39,2\n"[..], 2).unwrap_err();
        assert!(
            matches!(&e, CsvError::OutOfRange { at, field, scalar: "f32", max }
            if at.column == Some(2) && field.start() == "1e39" && *max == f32::MAX as f64),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "line 2, column 2 (`a`): `1e39` is beyond the range of f32 (magnitudes up to 3.4028234663852886e38)"
        );
        for text in ["-1e39", "3.5e38", "1e400"] {
            let csv = std::format!("label,a,b\n0,1,{text}\n");
            let e = read_csv::<U2, f32>(csv.as_bytes(), 2).unwrap_err();
            assert!(
                matches!(&e, CsvError::OutOfRange { at, .. } if at.line == 2 && at.column == Some(3)),
                "{text}: {e:?}"
            );
        }
        // The same text is in range for f64; f64's own limit.
        assert_eq!(read_csv::<U2, f64>(&b"label,a,b\n0,1e39,-1e39\n"[..], 2).unwrap()[0].0.as_slice(), &[1e39, -1e39]);
        let e = read_csv::<U2, f64>(&b"label,a,b\n0,1,2e308\n"[..], 2).unwrap_err();
        assert!(matches!(&e, CsvError::OutOfRange { at, scalar: "f64", .. } if at.column == Some(3)), "{e:?}");
        assert!(e.to_string().ends_with("beyond the range of f64 (magnitudes up to 1.7976931348623157e308)"), "{e}");
        // The largest f32 loads; infinities spelled out are not numbers,
        // NaN is a missing value.
        assert_eq!(read("label,a,b\n0,3.4028235e38,-3.4028235e38\n").unwrap()[0].0.as_slice(), &[f32::MAX, f32::MIN]);
        for text in ["inf", "-inf", "+Infinity", "INF"] {
            let e = read(&std::format!("label,a,b\n0,1,{text}\n")).unwrap_err();
            assert!(matches!(&e, CsvError::NotANumber { at, .. } if at.column == Some(3)), "{text}: {e:?}");
        }
        for text in ["nan", "-NaN"] {
            let e = read(&std::format!("label,a,b\n0,1,{text}\n")).unwrap_err();
            assert!(matches!(&e, CsvError::Missing { at, .. } if at.column == Some(3)), "{text}: {e:?}");
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
        let CsvError::NotANumber { at, field } = &e else { panic!("{e:?}") };
        assert_eq!((at.line, at.column), (2, Some(2)));
        assert_eq!((field.start().len(), field.byte_len(), field.is_whole()), (Field::SHOWN, (1 << 20) + 1, false));
        let message = e.to_string();
        assert_eq!(
            message,
            std::format!("line 2, column 2 (`a`): `{}…` (1048577 bytes) is not a number", "7".repeat(40))
        );
        assert!(std::format!("{e:?}").len() < 200, "{e:?}");

        let e = read_csv::<U2, f32>(&b"label,a,b\n0,1,a\x00b\n"[..], 3).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column 3 (`b`): `a\\0b` is not a number");
        assert!(!e.to_string().contains('\0'));

        let label = "9".repeat(50) + "\u{202e}";
        let e = read(&std::format!("label,a,b\n{label},1,2\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            std::format!(
                "line 2, column 1 (`label`): label `{}…` (53 bytes) is not a class from 0 to 2",
                "9".repeat(40)
            )
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
        assert!(matches!(&e, CsvError::Empty { path: Some(p), dropped: 0 } if *p == path), "{e:?}");
        assert_eq!(e.to_string(), std::format!("{}: the file has no samples", path.display()));
    }

    fn csv(text: &str) -> Csv<'_> {
        Csv::from_reader(text.as_bytes())
    }

    /// The target by name or index, skipped columns, several targets; the
    /// features are the other columns in the file's order.
    #[test]
    fn chooses_target_and_skipped_columns() {
        let text = "id,x1,y,name,x2\n7,1.5,10,ab,2\n8,-1,20.25,cd,4\n";
        let data = csv(text).target("y").skip("id").skip(3).regression::<U2, f64>().unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!((data[1].0.as_slice(), data[1].1[0]), (&[-1.0, 4.0][..], 20.25));
        assert_eq!((data.feature_columns.as_slice(), data.target_columns.as_slice()), (&[1, 4][..], &[2][..]));
        assert_eq!(data.feature_names(), Some(std::vec!["x1", "x2"]));
        let two = csv(text).targets(["y", "x2"]).skip("id").skip("name").regression_targets::<U1, U2, f32>().unwrap();
        assert_eq!((two[0].0.as_slice(), two[0].1.as_slice()), (&[1.5][..], &[10.0, 2.0][..]));

        let e = csv(text).target("y").skip("id").regression_targets::<U2, U2, f32>().unwrap_err();
        assert_eq!(e.to_string(), "the samples take 2 targets, 1 target column is chosen");
        let e = csv(text).target("z").regression::<U4, f32>().unwrap_err();
        assert!(matches!(&e, CsvError::NoColumn { column: Column::Name(n), columns: 5, .. } if n == "z"), "{e:?}");
        assert_eq!(e.to_string(), "no column `z` in the header");
        let e = csv(text).target(5).regression::<U4, f32>().unwrap_err();
        assert_eq!(e.to_string(), "no column 6: the first line has 5 columns");
        let e = csv(text).target("y").skip("y").regression::<U3, f32>().unwrap_err();
        assert_eq!(e.to_string(), "column 3 is chosen twice (as a target and skipped, or as two targets)");
        // The name column holds text: not skipped, it is a feature that is not a number.
        let e = csv(text).target("y").skip("id").regression::<U3, f32>().unwrap_err();
        assert_eq!(e.to_string(), "line 2, column 4 (`name`): `ab` is not a number");
    }

    /// The width check names both sizes, for the file and for one row.
    #[test]
    fn a_wrong_width_says_model_and_file() {
        let e = csv("y,a,b,c\n1,2,3,4\n").regression::<U2, f32>().unwrap_err();
        assert!(matches!(&e, CsvError::Width { at, expected: 2, found: 3, .. } if at.line == 1), "{e:?}");
        assert_eq!(e.to_string(), "line 1: the model takes 2 features, the file has 3");
        let e = csv("y,a\n1,2\n").regression::<U1, f32>().map(|d| d.len());
        assert_eq!(e.unwrap(), 1);
        let e = csv("y,a\n1,2\n").regression::<U2, f32>().unwrap_err();
        assert_eq!(e.to_string(), "line 1: the model takes 2 features, the file has 1");
        let e = csv("y,a,b\n1,2,3\n1,2,3,4\n").regression::<U2, f32>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: the model takes 2 features, the file has 3 on this line (4 fields where line 1 has 3)"
        );
    }

    /// A file without a header keeps its first row when told; a header
    /// that looks like data is refused rather than lost.
    #[test]
    fn a_file_without_a_header_keeps_its_first_row() {
        let text = "0,1.5,2\n1,3,4\n";
        let data = csv(text).header(Header::Absent).classification::<U2, f32>(2).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!((data[0].0.as_slice(), data[0].1), (&[1.5, 2.0][..], 0));
        assert_eq!(data.header, None);
        let e = csv(text).classification::<U2, f32>(2).unwrap_err();
        assert!(matches!(e, CsvError::HeaderLooksLikeData { path: None }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "line 1: the header is all numbers, so it looks like a sample; read a file without a header with \
             `.header(Header::Absent)`, or a header of numbers with `.header(Header::Present)`"
        );
        assert_eq!(read_csv::<U2, f32>(text.as_bytes(), 2).unwrap_err().to_string(), e.to_string());
        // A header of numbers, said to be one.
        let data = csv(text).header(Header::Present).classification::<U2, f32>(2).unwrap();
        assert_eq!((data.len(), data.header.as_deref()), (1, Some(&["0".into(), "1.5".into(), "2".into()][..])));
        // Only the columns read as numbers count: a skipped text column does not make a sample a header.
        let text = "5,name,1\n6,other,2\n";
        let e = csv(text).skip(1).regression::<U1, f32>().unwrap_err();
        assert!(matches!(e, CsvError::HeaderLooksLikeData { .. }), "{e:?}");
        let e = csv(text).header(Header::Absent).target("y").regression::<U1, f32>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "column `y` is chosen by name, but the file is read without a header (`Header::Absent`): choose it by index"
        );
        let data = csv(text).header(Header::Absent).skip(1).regression::<U1, f32>().unwrap();
        assert_eq!((data[1].0[0], data[1].1[0]), (2.0, 6.0));
    }

    /// Labels as pandas writes them load; fractions and 0 classes are refused.
    #[test]
    fn labels_written_as_floats_are_classes() {
        let data = csv("label,a\n0.0,1\n2.,2\n1e0,3\n 1 ,4\n").classification::<U1, f32>(3).unwrap();
        assert_eq!(data.iter().map(|s| s.1).collect::<Vec<_>>(), [0, 2, 1, 1]);
        let e = csv("label,a\n0.0,1\n2.5,2\n").classification::<U1, f32>(3).unwrap_err();
        assert!(matches!(&e, CsvError::BadLabel { fractional: true, classes: 3, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "line 3, column 1 (`label`): label `2.5` is not a whole number, so not a class (0 to 2)"
        );
        let e = csv("label,a\n3.0,1\n").classification::<U1, f32>(3).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column 1 (`label`): label `3.0` is not a class from 0 to 2");
        let e = csv("label,a\n0,1\n").classification::<U1, f32>(0).unwrap_err();
        assert!(matches!(e, CsvError::NoClasses), "{e:?}");
        assert_eq!(
            e.to_string(),
            "0 classes asked for: a class label must be below the number of classes, so it must be at least 1"
        );
        assert!(matches!(read_csv::<U1, f32>(&b"label,a\n0,1\n"[..], 0), Err(CsvError::NoClasses)));
    }

    /// Each missing-value policy, for features and targets apart, and every spelling.
    #[test]
    fn missing_values_follow_the_policy() {
        let text = "y,a,b\n1,,2\n,3,4\nNA,5,6\n7,?,8\n9,10,11\n";
        let e = csv(text).regression::<U2, f32>().unwrap_err();
        assert!(
            matches!(&e, CsvError::Missing { at, field } if at.line == 2 && at.column == Some(2) && field.byte_len() == 0)
        );
        assert_eq!(
            e.to_string(),
            "line 2, column 2 (`a`): missing value (empty field); `Csv::missing` and `Csv::missing_target` can drop the row or keep NaN"
        );
        let e = csv(text).missing(Missing::Nan).regression::<U2, f32>().unwrap_err();
        assert!(e.to_string().starts_with("line 3, column 1 (`y`): missing value (empty field)"), "{e}");
        let e = csv(text).missing(Missing::Nan).missing_target(Missing::Error).regression::<U2, f32>().unwrap_err();
        assert!(matches!(&e, CsvError::Missing { at, .. } if at.line == 3));

        let data = csv(text).missing(Missing::Nan).missing_target(Missing::Drop).regression::<U2, f32>().unwrap();
        assert_eq!(data.dropped, 2);
        let xs: Vec<[f32; 2]> = data.iter().map(|s| [s.0[0], s.0[1]]).collect();
        assert!(xs[0][0].is_nan() && xs[1][0].is_nan() && xs[2] == [10.0, 11.0], "{xs:?}");
        let data = csv(text).missing(Missing::Drop).missing_target(Missing::Drop).regression::<U2, f32>().unwrap();
        assert_eq!((data.len(), data.dropped), (1, 4));
        let data = csv(text).missing(Missing::Drop).missing_target(Missing::Nan).regression::<U2, f32>().unwrap();
        assert_eq!((data.len(), data.dropped), (3, 2));
        assert!(data[0].1[0].is_nan() && data[1].1[0].is_nan());

        for spelling in MISSING.iter().chain(&["", " ", "na", "n/a", "NAN", "none", "null"]) {
            let text = std::format!("y,a\n1,{spelling}\n2,3\n");
            let data = csv(&text).missing(Missing::Drop).regression::<U1, f64>().unwrap();
            assert_eq!((data.len(), data.dropped), (1, 1), "{spelling:?}");
        }
        // A missing label: dropped with `Drop`, refused otherwise (a class has no NaN).
        let text = "label,a\n1,2\n,3\n";
        assert_eq!(csv(text).missing_target(Missing::Drop).classification::<U1, f32>(2).unwrap().len(), 1);
        let e = csv(text).missing_target(Missing::Nan).classification::<U1, f32>(2).unwrap_err();
        assert!(matches!(&e, CsvError::Missing { at, .. } if at.line == 3), "{e:?}");
        // Everything dropped.
        let e = csv("y,a\n1,\n2,NA\n").missing(Missing::Drop).regression::<U1, f32>().unwrap_err();
        assert!(matches!(e, CsvError::Empty { path: None, dropped: 2 }), "{e:?}");
        assert_eq!(e.to_string(), "no samples left: all 2 rows were dropped for missing values");
    }

    /// Lines are counted as an editor counts them whatever the line ends
    /// (the `csv` crate's positions are one short after a CRLF).
    #[test]
    fn lines_count_the_same_with_crlf() {
        for end in ["\n", "\r\n", "\r"] {
            let text = ["y,a", "1,2", "", "3,4", ",5", ""].join(end);
            let e = csv(&text).regression::<U1, f32>().unwrap_err();
            assert!(matches!(&e, CsvError::Missing { at, .. } if at.line == 5), "{end:?}: {e:?}");
        }
    }

    /// Errors of a file name it, with the column's name.
    #[test]
    fn errors_of_a_file_name_it() {
        let path = std::env::temp_dir().join(std::format!("typenet-missing-{}.csv", std::process::id()));
        std::fs::write(&path, "y,a\n1,2\n3,NA\n").unwrap();
        let e = Csv::open(&path).regression::<U1, f32>().unwrap_err();
        let e2 = Csv::open(&path).missing(Missing::Drop).regression::<U2, f32>().unwrap_err();
        let e3 = Csv::open(&path).missing(Missing::Drop).target(1).regression::<U1, f32>().unwrap_err();
        std::fs::remove_file(&path).unwrap();
        let shown = path.display();
        assert_eq!(
            e.to_string(),
            std::format!(
                "{shown}, line 3, column 2 (`a`): missing value (`NA`); `Csv::missing` and `Csv::missing_target` can drop the row or keep NaN"
            )
        );
        assert_eq!(e2.to_string(), std::format!("{shown}, line 1: the model takes 2 features, the file has 1"));
        assert!(matches!(&e3, CsvError::Missing { at, .. } if at.path.as_deref() == Some(path.as_path())), "{e3:?}");
        let e = Csv::open("/nonexistent/x.csv").regression::<U1, f32>().unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/x.csv: "), "{e}");
    }
}
