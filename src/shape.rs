//! Shapes as types: vectors, matrices and channel-first tensors over
//! [`GenericArray`], and the type-level arithmetic that relates them.
//!
//! ```
//! use typenet::prelude::*;
//!
//! let x: Vector<f32, U3> = vector([1.0, 2.0, 3.0]);
//! let m: Matrix<f32, U2, U3> = matrix([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
//! assert_eq!(m[1][1], 1.0);
//! assert_eq!(x.as_flat(), &[1.0, 2.0, 3.0]);
//! assert_eq!(<Matrix<f32, U2, U3> as Tensor>::LEN, 6);
//! ```
//!
//! # Shape rules
//!
//! Each piece of shape arithmetic is one trait with one blanket impl, so a
//! layer's `impl` carries one bound that names the rule, and a compile error
//! names the rule that failed rather than a page of `typenum` operators:
//! [`Times`] here, and the convolution and pooling rules beside their layers:
//! [`ConvDims`](crate::layers::conv::ConvDims) (window output sizes) and
//! [`Volume`](crate::layers::flatten::Volume) (the length of a flattened
//! tensor).

use core::fmt::Debug;
use core::ops::Mul;

use generic_array::{ArrayLength, GenericArray, IntoArrayLength};
use typenum::{Const, Prod};

use crate::scalar::Scalar;

/// A vector of `N` values: a layer's input or output, a bias.
pub type Vector<T, N> = GenericArray<T, N>;

/// `R` rows of `C` values, row-major: a `Dense` weight is `Matrix<T, O, I>`,
/// a sequence of `L` steps of `I` features is `Matrix<T, L, I>`.
pub type Matrix<T, R, C> = GenericArray<GenericArray<T, C>, R>;

/// A channel-first tensor `[C][H][W]`, PyTorch's layout for images.
pub type Tensor3<T, C, H, W> = GenericArray<Matrix<T, H, W>, C>;

/// A 4-D tensor `[O][C][H][W]`: the weight of a 2-D convolution.
pub type Tensor4<T, O, C, H, W> = GenericArray<Tensor3<T, C, H, W>, O>;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl<X: Sealed, N: generic_array::ArrayLength> Sealed for generic_array::GenericArray<X, N> {}
}

/// A value made of scalars laid out contiguously: a scalar, or a
/// [`GenericArray`] of tensors (so vectors, matrices and higher tensors).
///
/// Every tensor can be viewed as a flat slice of its scalars in row-major
/// order, which is how activations, costs, optimisers and the parameter format
/// walk it. The trait is sealed: its flat view relies on the layout of the
/// types it is implemented for.
pub trait Tensor: Clone + Default + Debug + crate::memory::Zeroable + sealed::Sealed {
    /// The scalar the tensor is made of.
    type Scalar: Scalar;
    /// The number of scalars.
    const LEN: usize;
    /// The sizes of its dimensions, outermost first: what a parameter file's
    /// architecture signature records ([`crate::io`]). A scalar has rank 0.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// use typenet::shape::Dims;
    /// assert_eq!(<Matrix<f32, U2, U3> as Tensor>::DIMS.sizes(), &[2, 3]);
    /// assert_eq!(<Tensor4<f64, U8, U1, U3, U3> as Tensor>::DIMS.sizes(), &[8, 1, 3, 3]);
    /// assert_eq!(<f32 as Tensor>::DIMS, Dims::SCALAR);
    /// ```
    const DIMS: Dims;
    /// The scalars in row-major order.
    fn as_flat(&self) -> &[Self::Scalar];
    /// The scalars in row-major order, mutably.
    fn as_flat_mut(&mut self) -> &mut [Self::Scalar];
}

impl Tensor for f32 {
    type Scalar = f32;
    const LEN: usize = 1;
    const DIMS: Dims = Dims::SCALAR;
    #[inline]
    fn as_flat(&self) -> &[f32] {
        core::slice::from_ref(self)
    }
    #[inline]
    fn as_flat_mut(&mut self) -> &mut [f32] {
        core::slice::from_mut(self)
    }
}

impl Tensor for f64 {
    type Scalar = f64;
    const LEN: usize = 1;
    const DIMS: Dims = Dims::SCALAR;
    #[inline]
    fn as_flat(&self) -> &[f64] {
        core::slice::from_ref(self)
    }
    #[inline]
    fn as_flat_mut(&mut self) -> &mut [f64] {
        core::slice::from_mut(self)
    }
}

impl<X: Tensor, N: ArrayLength> Tensor for GenericArray<X, N> {
    type Scalar = X::Scalar;
    const LEN: usize = N::USIZE * X::LEN;
    const DIMS: Dims = X::DIMS.prepend(N::USIZE);
    #[inline]
    fn as_flat(&self) -> &[X::Scalar] {
        crate::memory::flat(self)
    }
    #[inline]
    fn as_flat_mut(&mut self) -> &mut [X::Scalar] {
        crate::memory::flat_mut(self)
    }
}

/// The sizes of a tensor's dimensions, outermost first (PyTorch's
/// `tensor.shape`): [`Tensor::DIMS`]. Up to [`Dims::MAX_RANK`] dimensions;
/// a scalar has none.
///
/// ```
/// use typenet::shape::Dims;
/// let dims = Dims::SCALAR.prepend(3).prepend(2);
/// assert_eq!((dims.rank(), dims.sizes(), dims.count()), (2, &[2, 3][..], 6));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dims {
    /// The number of dimensions (may exceed [`Dims::MAX_RANK`] for a shape
    /// read from a file, whose sizes are then cut to the first ones).
    rank: u32,
    /// The sizes; those past `rank` are 0.
    sizes: [u32; Dims::MAX_RANK],
}

impl Dims {
    /// The most dimensions a tensor type may have.
    pub const MAX_RANK: usize = 6;

    /// The shape of a scalar: rank 0.
    pub const SCALAR: Dims = Dims { rank: 0, sizes: [0; Dims::MAX_RANK] };

    /// These dimensions with `n` in front: the shape of `n` tensors of this
    /// shape. A `const fn`; a rank beyond [`Dims::MAX_RANK`] or a size
    /// beyond `u32::MAX` fails the build where it is evaluated.
    pub const fn prepend(self, n: usize) -> Dims {
        assert!((self.rank as usize) < Dims::MAX_RANK, "a tensor type has more than Dims::MAX_RANK (6) dimensions");
        assert!(n <= u32::MAX as usize, "a tensor dimension exceeds u32::MAX");
        let mut sizes = [0; Dims::MAX_RANK];
        sizes[0] = n as u32;
        let mut i = 0;
        while i < self.rank as usize {
            sizes[i + 1] = self.sizes[i];
            i += 1;
        }
        Dims { rank: self.rank + 1, sizes }
    }

    /// Dimensions from their rank and the sizes given (a file's record):
    /// sizes past `rank`, or past [`Dims::MAX_RANK`], are dropped.
    pub(crate) fn new(rank: u32, sizes: impl IntoIterator<Item = u32>) -> Dims {
        let mut dims = Dims { rank, sizes: [0; Dims::MAX_RANK] };
        let mut sizes = sizes.into_iter();
        // A fixed number of slots, each filled while the rank lasts: a loop
        // the compiler unrolls (a copy of `rank` words it would make a
        // `memcpy` call, 730 bytes of flash on a Cortex-M4).
        for (i, slot) in dims.sizes.iter_mut().enumerate() {
            if i < rank as usize {
                *slot = sizes.next().unwrap_or(0);
            }
        }
        dims
    }

    /// The number of dimensions.
    pub const fn rank(&self) -> usize {
        self.rank as usize
    }

    /// The sizes, outermost first (the first [`Dims::MAX_RANK`] if the rank
    /// is larger).
    pub const fn sizes(&self) -> &[u32] {
        let rank = if self.rank() < Dims::MAX_RANK { self.rank() } else { Dims::MAX_RANK };
        self.sizes.split_at(rank).0
    }

    /// The number of scalars: the product of the sizes (1 for a scalar),
    /// saturating at `usize::MAX`.
    pub fn count(&self) -> usize {
        self.sizes().iter().fold(1usize, |n, &s| n.saturating_mul(s as usize))
    }
}

/// The scalar of a tensor type: `ScalarOf<Vector<f64, U3>>` is `f64`.
pub type ScalarOf<X> = <X as Tensor>::Scalar;

/// Builds a [`Vector`] from a plain array: `vector([1.0, 2.0])`.
pub fn vector<T, const N: usize>(values: [T; N]) -> Vector<T, <Const<N> as IntoArrayLength>::ArrayLength>
where
    Const<N>: IntoArrayLength,
{
    GenericArray::from_array(values)
}

/// Builds a [`Matrix`] from nested plain arrays, row by row.
pub fn matrix<T, const R: usize, const C: usize>(
    rows: [[T; C]; R],
) -> Matrix<T, <Const<R> as IntoArrayLength>::ArrayLength, <Const<C> as IntoArrayLength>::ArrayLength>
where
    Const<R>: IntoArrayLength,
    Const<C>: IntoArrayLength,
{
    GenericArray::from_array(rows.map(GenericArray::from_array))
}

/// Builds a [`Tensor3`] (`[C][H][W]`) from nested plain arrays.
#[allow(clippy::type_complexity)]
pub fn tensor3<T, const C: usize, const H: usize, const W: usize>(
    channels: [[[T; W]; H]; C],
) -> Tensor3<
    T,
    <Const<C> as IntoArrayLength>::ArrayLength,
    <Const<H> as IntoArrayLength>::ArrayLength,
    <Const<W> as IntoArrayLength>::ArrayLength,
>
where
    Const<C>: IntoArrayLength,
    Const<H>: IntoArrayLength,
    Const<W>: IntoArrayLength,
{
    GenericArray::from_array(channels.map(matrix))
}

/// Shape rule: the product of two sizes, `A × B` (used by `Flatten` and to
/// view a matrix as one vector).
///
/// ```
/// use typenet::prelude::*;
/// use typenet::shape::TimesOf;
/// typenum::assert_type_eq!(TimesOf<U3, U4>, U12);
/// ```
#[diagnostic::on_unimplemented(message = "the sizes `{Self}` and `{B}` cannot be multiplied into an array length")]
pub trait Times<B>: ArrayLength {
    /// `Self × B`.
    type Output: ArrayLength;
}

impl<A, B> Times<B> for A
where
    A: ArrayLength + Mul<B>,
    Prod<A, B>: ArrayLength,
{
    type Output = Prod<A, B>;
}

/// `A × B` as a size: `TimesOf<U3, U4>` is `U12`.
pub type TimesOf<A, B> = <A as Times<B>>::Output;
