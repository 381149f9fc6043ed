//! Parameters built at compile time from an embedded parameter file: a
//! model that is a `static` in flash, with no copy into RAM.
//!
//! [`embedded!`](crate::embedded) reads a parameter file with
//! `include_bytes!` and builds the model from it by `const` evaluation. The
//! file is checked as [`load`](super::load) checks it (magic, version,
//! scalar, every tensor's role and shape, count, length, checksum, finite
//! values), but by the compiler: a file that does not fit the model is a
//! build error that says what differs, and a `static` so built lives in
//! flash.
//!
//! ```
//! use typenet::prelude::*;
//!
//! type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];
//! static NET: Net =
//!     typenet::embedded!(Net, concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_mlp_f32.tnet"));
//!
//! let y = NET.forward(&vector([0.5, -1.0, 0.25, 2.0]));
//! let torch = [0.304_625_5, -0.558_406_5, 0.270_136_4]; // PyTorch's output
//! assert!(y.iter().zip(torch).all(|(y, t)| (y - t).abs() < 1e-5));
//! ```
//!
//! A file saved from another architecture does not compile:
//!
//! ```compile_fail,E0080
//! use typenet::prelude::*;
//! type Other = net![Dense<U4, U8>, Tanh, Dense<U8, U2>];
//! static NET: Other =
//!     typenet::embedded!(Other, concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_mlp_f32.tnet"));
//! # let _ = &NET;
//! ```
//!
//! The types involved: [`EmbeddedFile`] names the bytes, [`Cursor`] is a
//! position in them known at compile time, and [`FromEmbedded`] builds a
//! value from the state tensors at a cursor. [`params!`](crate::params)
//! writes `FromEmbedded` for a layer (so a layer's fixed fields need
//! defaults that are constant expressions), and chains and residual blocks
//! have it when their parts do.

use core::marker::PhantomData;

use super::{HEADER_LEN, Header, ParamsError, VERSION};
use crate::layer::Params;
use crate::scalar::Scalar;
use crate::shape::Dims;
use crate::text::Message;

/// A parameter file's bytes, fixed at compile time (by `include_bytes!`).
pub trait EmbeddedFile {
    /// The file.
    const BYTES: &'static [u8];
}

/// A position in an embedded file known at compile time: the signature
/// records and the values not yet read.
pub trait Cursor {
    /// The architecture signature from here on, as stored (`u32` words,
    /// little-endian).
    const SIGNATURE: &'static [u8];
    /// The values from here on, as stored (little-endian scalars).
    const VALUES: &'static [u8];
}

/// A value built at compile time from the state tensors at cursor `C`,
/// in scalar `T`.
pub trait FromEmbedded<T, C: Cursor>: Sized {
    /// The value, its tensors read from the file and checked against its
    /// architecture; its fixed fields (hyperparameters) their defaults.
    const VALUE: Self;
}

/// The start of file `F`'s signature and values, once the file has been
/// checked against model `M` in scalar `T`.
pub struct Start<F, M, T>(PhantomData<(F, M, T)>);

impl<F: EmbeddedFile, M: Params<T>, T: Scalar> Cursor for Start<F, M, T> {
    const SIGNATURE: &'static [u8] = checked_file::<M, T>(F::BYTES).split_at(HEADER_LEN).1;
    const VALUES: &'static [u8] = Self::SIGNATURE.split_at(4 * M::SIGNATURE_LEN).1;
}

/// The cursor `C` moved past the state tensors of `P` (in scalar `T`).
pub struct After<C, P, T>(PhantomData<(C, P, T)>);

impl<C: Cursor, P: Params<T>, T: Scalar> Cursor for After<C, P, T> {
    const SIGNATURE: &'static [u8] = C::SIGNATURE.split_at(4 * P::SIGNATURE_LEN).1;
    const VALUES: &'static [u8] = C::VALUES.split_at((P::COUNT + P::BUFFER_COUNT) * T::BYTES).1;
}

/// Model `M`, built at compile time from file `F`: what
/// [`embedded!`](crate::embedded) expands to.
pub const fn model<M: FromEmbedded<T, Start<F, M, T>> + Params<T>, T: Scalar, F: EmbeddedFile>() -> M {
    M::VALUE
}

/// Checks the header, length, checksum and finite values of `bytes` as a
/// file of `M` in `T`, at compile time; returns `bytes`.
const fn checked_file<M: Params<T>, T: Scalar>(bytes: &'static [u8]) -> &'static [u8] {
    let header = match Header::read(bytes) {
        Ok(header) => header,
        Err(ParamsError::WrongMagic { .. }) => {
            panic!("the embedded file is not a typenet parameter file (its first bytes are not `TNET`)")
        }
        Err(_) => panic!("the embedded parameter file is shorter than a header"),
    };
    assert!(header.version == VERSION, "the embedded parameter file is not of format version 2: save it again");
    assert!(
        header.scalar == T::TAG as u16,
        "the embedded parameter file holds another scalar than the model (f32 and f64 differ)"
    );
    let count = header.count as usize;
    if count != M::COUNT + M::BUFFER_COUNT {
        let mut m = Message::new();
        m.push("the embedded parameter file holds ").number(count);
        m.push(" values, the model ").number(M::COUNT + M::BUFFER_COUNT);
        m.push(": it was saved from another architecture");
        m.fail();
    }
    assert!(
        header.signature_len as usize == M::SIGNATURE_LEN,
        "the embedded parameter file's architecture has another length than the model's"
    );
    assert!(bytes.len() == super::encoded_len::<M, T>(), "the embedded parameter file has the wrong length");
    assert!(
        super::crc::crc32(bytes.split_at(16).1) == header.checksum,
        "the embedded parameter file is damaged: its checksum does not match"
    );
    let values = bytes.split_at(HEADER_LEN + 4 * M::SIGNATURE_LEN).1;
    let mut at = 0;
    while at < values.len() {
        let finite = if T::BYTES == 4 {
            u32_at(values, at) & 0x7F80_0000 != 0x7F80_0000
        } else {
            u32_at(values, at + 4) & 0x7FF0_0000 != 0x7FF0_0000
        };
        assert!(finite, "the embedded parameter file holds a value that is NaN or infinite");
        at += T::BYTES;
    }
    bytes
}

/// Checks the signature record at the front of `signature` against the
/// tensor `name` of shape `dims` of a `layer` (failing with the shapes if
/// it differs) and returns the records after it. For
/// [`params!`](crate::params).
#[doc(hidden)]
pub const fn check_tensor(signature: &'static [u8], layer: &str, name: &str, dims: Dims) -> &'static [u8] {
    let (rank, sizes) = (dims.rank(), dims.sizes());
    let words = 2 + rank;
    let mut same = signature.len() >= 4 * words
        && u32_at(signature, 0) == super::role_of(name)
        && u32_at(signature, 4) as usize == rank;
    let mut i = 0;
    while same && i < rank {
        same = u32_at(signature, 8 + 4 * i) == sizes[i];
        i += 1;
    }
    if !same {
        let mut m = Message::new();
        m.push("the embedded parameter file was saved from another architecture: the model's `").push(layer);
        m.push("` has a `").push(name).push("` tensor of ").shape(sizes).push(", the file ");
        if signature.len() >= 8 && u32_at(signature, 0) == super::role_of(name) {
            let file_rank = u32_at(signature, 4) as usize;
            let mut file_sizes = [0u32; Dims::MAX_RANK];
            let mut i = 0;
            while i < file_rank && i < Dims::MAX_RANK && signature.len() >= 12 + 4 * i {
                file_sizes[i] = u32_at(signature, 8 + 4 * i);
                i += 1;
            }
            m.push("one of ").shape(file_sizes.split_at(i).0);
        } else {
            m.push("another tensor there");
        }
        m.fail();
    }
    signature.split_at(4 * words).1
}

const fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl<T, C: Cursor, A: FromEmbedded<T, C>> FromEmbedded<T, C> for (A,) {
    const VALUE: Self = (A::VALUE,);
}

impl<T: Scalar, C: Cursor, A, Rest> FromEmbedded<T, C> for (A, Rest)
where
    A: FromEmbedded<T, C> + Params<T>,
    Rest: FromEmbedded<T, After<C, A, T>>,
{
    const VALUE: Self = (A::VALUE, Rest::VALUE);
}

impl<T, C: Cursor, Body: FromEmbedded<T, C>> FromEmbedded<T, C> for crate::layers::Residual<Body> {
    const VALUE: Self = crate::layers::Residual { body: Body::VALUE };
}

impl<T: Scalar, C: Cursor, Body, Shortcut> FromEmbedded<T, C> for crate::layers::Projected<Body, Shortcut>
where
    Body: FromEmbedded<T, C> + Params<T>,
    Shortcut: FromEmbedded<T, After<C, Body, T>>,
{
    const VALUE: Self = crate::layers::Projected { body: Body::VALUE, shortcut: Shortcut::VALUE };
}

/// A model built at compile time from a parameter file: `embedded!(Net,
/// "path/to/net.tnet")` is a constant expression of type `Net` (in `f32`;
/// `embedded!(Net, f64, "…")` for an `f64` model), so `static NET: Net =
/// embedded!(…)` puts the parameters in flash. The path is
/// `include_bytes!`'s: relative to the source file. See
/// [`io::embed`](crate::io::embed).
#[macro_export]
macro_rules! embedded {
    ($model:ty, $path:expr $(,)?) => {
        $crate::embedded!($model, f32, $path)
    };
    ($model:ty, $scalar:ty, $path:expr $(,)?) => {{
        struct File;
        impl $crate::io::embed::EmbeddedFile for File {
            const BYTES: &'static [u8] = include_bytes!($path);
        }
        $crate::io::embed::model::<$model, $scalar, File>()
    }};
}
