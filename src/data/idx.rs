//! Loading labelled images from IDX files, the format of MNIST (`std`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::vec::Vec;

use generic_array::ArrayLength;
use typenum::U1;

use crate::data::ShownPath;
use crate::scalar::Scalar;
use crate::shape::{Tensor, Tensor3};

/// A labelled grey-scale image: `1 × H × W` pixels, channels first as the
/// convolutional layers take them, and a class index.
pub type LabelledImage<T, H, W> = (Tensor3<T, U1, H, W>, usize);

/// The magic number of an IDX file of unsigned bytes in 3 dimensions
/// (images: count, rows, columns).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of unsigned bytes in 1 dimension (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Why a pair of IDX files could not be loaded. Every variant names the
/// file at fault.
#[derive(Debug)]
pub enum IdxError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        file: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// The file does not start with the magic number of its kind: `0x803`
    /// (unsigned bytes, 3 dimensions) for images, `0x801` for labels.
    BadMagic {
        /// The file.
        file: PathBuf,
        /// The magic number its kind needs.
        expected: u32,
        /// The first four bytes, big-endian (fewer bytes read as zeros).
        found: u32,
    },
    /// The images are not the size of the image type asked for.
    ImageSize {
        /// The images file.
        file: PathBuf,
        /// Rows and columns of the type (`H`, `W`).
        expected: (usize, usize),
        /// Rows and columns in the header.
        found: (u64, u64),
    },
    /// The file is shorter than its header says.
    Truncated {
        /// The file.
        file: PathBuf,
        /// Bytes the header implies (the header's own bytes included).
        expected: u64,
        /// Bytes in the file.
        found: u64,
    },
    /// The file is longer than its header says.
    TrailingBytes {
        /// The file.
        file: PathBuf,
        /// Bytes the header implies.
        expected: u64,
        /// Bytes in the file.
        found: u64,
    },
    /// The two files hold different numbers of items.
    CountMismatch {
        /// The images file.
        images_file: PathBuf,
        /// Images in it.
        images: u64,
        /// The labels file.
        labels_file: PathBuf,
        /// Labels in it.
        labels: u64,
    },
    /// A label is not a class below the number of classes.
    BadLabel {
        /// The labels file.
        file: PathBuf,
        /// Which label, counting from 0.
        index: usize,
        /// Its value.
        label: u8,
        /// The number of classes.
        classes: usize,
    },
    /// The files hold no images.
    Empty {
        /// The images file.
        file: PathBuf,
    },
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdxError::Io { file, error } => write!(f, "{}: {error}", ShownPath(file)),
            IdxError::BadMagic { file, expected, found } => {
                write!(
                    f,
                    "{}: not an IDX file of this kind: magic number {found:#x}, expected {expected:#x}",
                    ShownPath(file)
                )
            }
            IdxError::ImageSize { file, expected, found } => write!(
                f,
                "{}: images are {}×{}, the image type is {}×{}",
                ShownPath(file),
                found.0,
                found.1,
                expected.0,
                expected.1
            ),
            IdxError::Truncated { file, expected, found } => {
                write!(f, "{}: truncated: the header implies {expected} bytes, the file has {found}", ShownPath(file))
            }
            IdxError::TrailingBytes { file, expected, found } => {
                write!(f, "{}: the header implies {expected} bytes, the file has {found}", ShownPath(file))
            }
            IdxError::CountMismatch { images_file, images, labels_file, labels } => write!(
                f,
                "{} holds {labels} labels but {} holds {images} images",
                ShownPath(labels_file),
                ShownPath(images_file)
            ),
            IdxError::BadLabel { file, index, label, classes } => write!(
                f,
                "{}: label {index} is {label}, not a class from 0 to {}",
                ShownPath(file),
                classes.saturating_sub(1)
            ),
            IdxError::Empty { file } => write!(f, "{}: no images", ShownPath(file)),
        }
    }
}

impl std::error::Error for IdxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IdxError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Loads labelled `1 × H × W` images from a pair of IDX files (the format
/// of MNIST: a big-endian header, magic number `0x803` then the count, the
/// rows and the columns for the images, `0x801` then the count for the
/// labels, then one unsigned byte per pixel, row-major, and per label).
///
/// Pixels are scaled to [0, 1] (`byte / 255`, divided in `T` as PyTorch's
/// `ToTensor` does) and not normalised further: subtract MNIST's mean
/// (0.1307) and divide by its standard deviation (0.3081) yourself if a
/// model wants that. Labels must be below `classes`. The image size is the
/// type's, and a file of another size is an error, as is any inconsistency
/// between the headers and the data; nothing in a file can make it panic.
///
/// ```
/// use typenet::prelude::*;
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k");
/// let mnist = typenet::data::load_idx::<U28, U28, f32>(
///     format!("{dir}/mnist10k-images.idx3-ubyte"),
///     format!("{dir}/mnist10k-labels.idx1-ubyte"),
///     10,
/// )
/// .unwrap();
/// assert_eq!(mnist.len(), 10_000);
/// let (image, class) = &mnist[0];
/// assert!(class < &10 && image[0][14].iter().all(|&p| (0.0..=1.0).contains(&p)));
///
/// // Another image size does not load.
/// let err = typenet::data::load_idx::<U8, U8, f32>(
///     format!("{dir}/mnist10k-images.idx3-ubyte"),
///     format!("{dir}/mnist10k-labels.idx1-ubyte"),
///     10,
/// )
/// .unwrap_err();
/// assert!(err.to_string().ends_with("images are 28×28, the image type is 8×8"));
/// ```
pub fn load_idx<H: ArrayLength, W: ArrayLength, T: Scalar>(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    classes: usize,
) -> Result<Vec<LabelledImage<T, H, W>>, IdxError> {
    let read = |file: &Path| std::fs::read(file).map_err(|error| IdxError::Io { file: file.to_path_buf(), error });
    let (images, labels) = (images.as_ref(), labels.as_ref());
    decode((images, &read(images)?), (labels, &read(labels)?), classes)
}

/// Decodes the bytes of an images file and a labels file (each named by its
/// path, for the errors).
fn decode<H: ArrayLength, W: ArrayLength, T: Scalar>(
    (images_file, images): (&Path, &[u8]),
    (labels_file, labels): (&Path, &[u8]),
    classes: usize,
) -> Result<Vec<LabelledImage<T, H, W>>, IdxError> {
    let [count, rows, cols] = header(images_file, images, IMAGES_MAGIC)?;
    if (rows, cols) != (H::U64, W::U64) {
        return Err(IdxError::ImageSize {
            file: images_file.into(),
            expected: (H::USIZE, W::USIZE),
            found: (rows, cols),
        });
    }
    let pixels = check_length(images_file, images, 16, count.saturating_mul(rows * cols))?;
    let [label_count] = header(labels_file, labels, LABELS_MAGIC)?;
    let labels = check_length(labels_file, labels, 8, label_count)?;
    if label_count != count {
        return Err(IdxError::CountMismatch {
            images_file: images_file.into(),
            images: count,
            labels_file: labels_file.into(),
            labels: label_count,
        });
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|&(_, &l)| usize::from(l) >= classes) {
        return Err(IdxError::BadLabel { file: labels_file.into(), index, label, classes });
    }
    if count == 0 {
        return Err(IdxError::Empty { file: images_file.into() });
    }
    let scale = T::from_f64(255.0);
    let samples = pixels
        .chunks_exact(H::USIZE * W::USIZE)
        .zip(labels)
        .map(|(bytes, &label)| {
            let mut image = Tensor3::<T, U1, H, W>::default();
            for (p, &b) in image.as_flat_mut().iter_mut().zip(bytes) {
                *p = T::from_f64(f64::from(b)) / scale;
            }
            (image, usize::from(label))
        })
        .collect();
    Ok(samples)
}

/// Checks the magic number and reads the `D` dimensions of an IDX header.
fn header<const D: usize>(file: &Path, bytes: &[u8], magic: u32) -> Result<[u64; D], IdxError> {
    let word = |i: usize| {
        let mut be = [0u8; 4];
        for (k, b) in be.iter_mut().enumerate() {
            *b = bytes.get(4 * i + k).copied().unwrap_or(0);
        }
        u32::from_be_bytes(be)
    };
    if word(0) != magic {
        return Err(IdxError::BadMagic { file: file.into(), expected: magic, found: word(0) });
    }
    let length = 4 + 4 * D as u64;
    if (bytes.len() as u64) < length {
        return Err(IdxError::Truncated { file: file.into(), expected: length, found: bytes.len() as u64 });
    }
    Ok(core::array::from_fn(|i| u64::from(word(i + 1))))
}

/// Checks that the file is its header's `header` bytes and `body` more;
/// returns the body.
fn check_length<'a>(file: &Path, bytes: &'a [u8], header: u64, body: u64) -> Result<&'a [u8], IdxError> {
    let (expected, found) = (header + body, bytes.len() as u64);
    if found < expected {
        return Err(IdxError::Truncated { file: file.into(), expected, found });
    }
    if found > expected {
        return Err(IdxError::TrailingBytes { file: file.into(), expected, found });
    }
    Ok(&bytes[header as usize..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use std::string::ToString;

    /// An IDX images file of `count` images of `rows × cols` pixels, pixel
    /// `k` of image `i` being `(i + k) mod 256`, and a labels file.
    fn files(count: u32, rows: u32, cols: u32, labels: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut images = Vec::new();
        for word in [IMAGES_MAGIC, count, rows, cols] {
            images.extend_from_slice(&word.to_be_bytes());
        }
        for i in 0..count as usize {
            images.extend((0..(rows * cols) as usize).map(|k| ((i + k) % 256) as u8));
        }
        let mut label_bytes = Vec::new();
        for word in [LABELS_MAGIC, labels.len() as u32] {
            label_bytes.extend_from_slice(&word.to_be_bytes());
        }
        label_bytes.extend_from_slice(labels);
        (images, label_bytes)
    }

    fn decode_2x3(images: &[u8], labels: &[u8]) -> Result<Vec<LabelledImage<f32, U2, U3>>, IdxError> {
        decode((Path::new("img"), images), (Path::new("lab"), labels), 3)
    }

    #[test]
    fn decodes_pixels_row_major_scaled_to_unit_range() {
        let (images, labels) = files(2, 2, 3, &[2, 0]);
        let data = decode_2x3(&images, &labels).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data[1].1, 0);
        assert_eq!(data[1].0[0][1].as_slice(), &[4.0 / 255.0, 5.0 / 255.0, 6.0 / 255.0]);
        let mut full = files(1, 2, 3, &[1]);
        full.0[16..].copy_from_slice(&[0, 255, 0, 0, 0, 128]);
        let data = decode((Path::new("i"), &full.0), (Path::new("l"), &full.1), 2).unwrap();
        let image: &Tensor3<f64, U1, U2, U3> = &data[0].0;
        assert_eq!(image.as_flat(), &[0.0, 1.0, 0.0, 0.0, 0.0, 128.0 / 255.0]);
    }

    #[test]
    fn hostile_files_give_errors_that_name_them() {
        let (images, labels) = files(2, 2, 3, &[2, 0]);

        // An empty path is named as such, not printed as nothing.
        let e = load_idx::<U2, U3, f32>("", "lab", 3).unwrap_err();
        assert!(e.to_string().starts_with("(empty path): "), "{e}");

        // Each file checked for the other's magic number, and garbage.
        let e = decode_2x3(&labels, &labels).unwrap_err();
        assert!(matches!(&e, IdxError::BadMagic { file, expected: 0x803, found: 0x801 } if file == Path::new("img")));
        assert_eq!(e.to_string(), "img: not an IDX file of this kind: magic number 0x801, expected 0x803");
        let e = decode_2x3(&images, &images).unwrap_err();
        assert!(matches!(&e, IdxError::BadMagic { file, found: 0x803, .. } if file == Path::new("lab")), "{e}");
        for short in [&[][..], &[0, 0], &[0, 0, 8, 3, 0]] {
            let e = decode_2x3(short, &labels).unwrap_err();
            assert!(matches!(e, IdxError::BadMagic { .. } | IdxError::Truncated { expected: 16, .. }), "{e:?}");
        }

        // A header that promises more than the file holds, and one that
        // promises 4 billion images.
        let e = decode_2x3(&images[..images.len() - 1], &labels).unwrap_err();
        assert!(matches!(e, IdxError::Truncated { expected: 28, found: 27, .. }), "{e:?}");
        assert_eq!(e.to_string(), "img: truncated: the header implies 28 bytes, the file has 27");
        let mut huge = images.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = decode_2x3(&huge, &labels).unwrap_err();
        assert!(matches!(e, IdxError::Truncated { expected: 25_769_803_786, .. }), "{e:?}");
        let e = decode_2x3(&images, &labels[..9]).unwrap_err();
        assert!(matches!(&e, IdxError::Truncated { file, expected: 10, found: 9 } if file == Path::new("lab")));
        let e = decode_2x3(&images, &labels[..7]).unwrap_err();
        assert!(matches!(&e, IdxError::Truncated { expected: 8, found: 7, .. }), "{e:?}");

        // More bytes than the header says.
        let mut long = images.clone();
        long.push(0);
        let e = decode_2x3(&long, &labels).unwrap_err();
        assert!(matches!(e, IdxError::TrailingBytes { expected: 28, found: 29, .. }), "{e:?}");

        // Images of another size than the type's.
        let (other, _) = files(2, 3, 2, &[]);
        let e = decode_2x3(&other, &labels).unwrap_err();
        assert!(matches!(e, IdxError::ImageSize { expected: (2, 3), found: (3, 2), .. }), "{e:?}");
        assert_eq!(e.to_string(), "img: images are 3×2, the image type is 2×3");

        // Counts that differ.
        let (_, three) = files(0, 2, 3, &[0, 1, 2]);
        let e = decode_2x3(&images, &three).unwrap_err();
        assert!(matches!(e, IdxError::CountMismatch { images: 2, labels: 3, .. }), "{e:?}");
        assert_eq!(e.to_string(), "lab holds 3 labels but img holds 2 images");

        // A label past the classes.
        let (_, bad) = files(0, 2, 3, &[0, 3]);
        let e = decode_2x3(&images, &bad).unwrap_err();
        assert!(matches!(e, IdxError::BadLabel { index: 1, label: 3, classes: 3, .. }), "{e:?}");
        assert_eq!(e.to_string(), "lab: label 1 is 3, not a class from 0 to 2");

        // No images at all.
        let (none, no_labels) = files(0, 2, 3, &[]);
        assert!(matches!(decode_2x3(&none, &no_labels).unwrap_err(), IdxError::Empty { .. }));

        // A file that cannot be read.
        let e = load_idx::<U2, U3, f32>("/nonexistent/images", "/nonexistent/labels", 3).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/images: "), "{e}");
    }

    #[test]
    fn never_panics_on_any_truncation_or_corruption() {
        let (images, labels) = files(3, 2, 3, &[0, 1, 2]);
        for cut in 0..images.len() {
            assert!(decode_2x3(&images[..cut], &labels).is_err(), "images cut at {cut}");
        }
        for cut in 0..labels.len() {
            assert!(decode_2x3(&images, &labels[..cut]).is_err(), "labels cut at {cut}");
        }
        // Every single header byte set to every value: an error or the
        // same data, never a panic.
        for at in 0..16 {
            for value in [0u8, 1, 2, 3, 8, 0x7f, 0x80, 0xff] {
                let mut corrupt = images.clone();
                corrupt[at] = value;
                if let Ok(data) = decode_2x3(&corrupt, &labels) {
                    assert_eq!(data.len(), 3);
                }
            }
        }
    }
}
