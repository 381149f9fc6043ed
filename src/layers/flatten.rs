//! `Flatten`: a `[C][H][W]` tensor (or a `[R][C]` matrix) as one vector, in
//! PyTorch's order, with its length computed at compile time.

use core::ops::Mul;

use generic_array::ArrayLength;
use rand::Rng;
use typenum::Prod;

use crate::layer::{Layer, Train};
use crate::scalar::Scalar;
use crate::shape::{Matrix, Tensor, Tensor3, TimesOf, Vector};

/// Shape rule: the number of values in a `Self`×`H`×`W` tensor,
/// `Self · H · W`.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::layers::flatten::VolumeOf;
/// typenum::assert_type_eq!(VolumeOf<U8, U4, U4>, U128);
/// ```
#[diagnostic::on_unimplemented(
    message = "a `{Self}`×`{H}`×`{W}` tensor has no length that fits an array",
    note = "`Flatten` needs channels, height and width that are `typenum` sizes"
)]
pub trait Volume<H, W>: ArrayLength {
    /// `Self · H · W`.
    type Output: ArrayLength;
}

impl<C, H, W> Volume<H, W> for C
where
    C: ArrayLength + Mul<H>,
    Prod<C, H>: Mul<W>,
    Prod<Prod<C, H>, W>: ArrayLength,
{
    type Output = Prod<Prod<C, H>, W>;
}

/// `C · H · W` as a size: `VolumeOf<U8, U4, U4>` is `U128`.
pub type VolumeOf<C, H, W> = <C as Volume<H, W>>::Output;

/// Flattens a `Tensor3<T, C, H, W>` into a `Vector<T, C·H·W>` (index
/// `(c·H + h)·W + w`), or a `Matrix<T, R, C>` into a `Vector<T, R·C>`, the
/// order of PyTorch's `nn.Flatten()` on one sample. It joins convolutions
/// and pooling to `Dense` layers, whose input width must then be `C·H·W`:
/// a `Dense` of any other width after it does not compile.
///
/// No parameters; backward reshapes `dy` back to the input's shape. The
/// values are copied, as the output is a new tensor.
///
/// ```
/// use typenet::prelude::*;
///
/// let x = tensor3([[[1.0f32, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
/// let y: Vector<f32, U8> = Flatten.forward(&x);
/// assert_eq!(y.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
///
/// // After a 4-channel 3×3 convolution on 8×8 (so 4×6×6), a Dense takes 144 inputs.
/// type Head = net![Conv2d<U1, U4, U3>, Relu, Flatten, Dense<U144, U10>];
/// let y = Head::default().forward(&Tensor3::<f32, U1, U8, U8>::default());
/// assert_eq!(y.len(), 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flatten;

crate::params!(impl[] Params for Flatten {});

/// The same scalars under another shape of the same length.
#[inline]
fn reshape<X: Tensor, Y: Tensor<Scalar = X::Scalar>>(x: &X) -> Y {
    let mut y = Y::default();
    reshape_block(1, [x], [&mut y]);
    y
}

/// The first `n` of `xs` copied into `ys`, each under `Y`'s shape.
#[inline]
fn reshape_block<X: Tensor, Y: Tensor<Scalar = X::Scalar>, const B: usize>(n: usize, xs: [&X; B], ys: [&mut Y; B]) {
    const { assert!(X::LEN == Y::LEN) };
    for (x, y) in xs.into_iter().zip(ys).take(n) {
        y.as_flat_mut().copy_from_slice(x.as_flat());
    }
}

impl<T: Scalar, C: Volume<H, W>, H: ArrayLength, W: ArrayLength> Layer<Tensor3<T, C, H, W>> for Flatten {
    type Output = Vector<T, VolumeOf<C, H, W>>;

    #[inline]
    fn forward(&self, x: &Tensor3<T, C, H, W>) -> Self::Output {
        reshape(x)
    }
}

impl<T: Scalar, C: Volume<H, W>, H: ArrayLength, W: ArrayLength> Train<Tensor3<T, C, H, W>> for Flatten {
    type Cache = ();

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        outputs: [&mut Self::Output; B],
        _: &mut R,
    ) {
        reshape_block(n, inputs, outputs);
    }

    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        _: &mut (),
        grad_inputs: Option<[&mut Tensor3<T, C, H, W>; B]>,
    ) {
        if let Some(grad_inputs) = grad_inputs {
            reshape_block(n, grad_outputs, grad_inputs);
        }
    }
}

impl<T: Scalar, R: ArrayLength, C: ArrayLength> Layer<Matrix<T, R, C>> for Flatten
where
    R: crate::shape::Times<C>,
{
    type Output = Vector<T, TimesOf<R, C>>;

    #[inline]
    fn forward(&self, x: &Matrix<T, R, C>) -> Self::Output {
        reshape(x)
    }
}

impl<T: Scalar, R: ArrayLength, C: ArrayLength> Train<Matrix<T, R, C>> for Flatten
where
    R: crate::shape::Times<C>,
{
    type Cache = ();

    #[inline]
    fn forward_train_block<Rn: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, R, C>; B],
        _: [&mut (); B],
        outputs: [&mut Self::Output; B],
        _: &mut Rn,
    ) {
        reshape_block(n, inputs, outputs);
    }

    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Matrix<T, R, C>; B],
        _: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        _: &mut (),
        grad_inputs: Option<[&mut Matrix<T, R, C>; B]>,
    ) {
        if let Some(grad_inputs) = grad_inputs {
            reshape_block(n, grad_outputs, grad_inputs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::testing::gradient_check;
    use crate::prelude::*;

    #[test]
    fn flatten_passes_the_gradient_check() {
        gradient_check::<Flatten, Tensor3<f64, U2, U3, U4>>(1);
        gradient_check::<Flatten, Matrix<f64, U3, U5>>(2);
    }

    #[test]
    fn the_order_is_channel_row_column() {
        let mut x = Tensor3::<f64, U2, U3, U4>::default();
        for c in 0..2 {
            for h in 0..3 {
                for w in 0..4 {
                    x[c][h][w] = (100 * c + 10 * h + w) as f64;
                }
            }
        }
        let y = Flatten.forward(&x);
        assert_eq!(y[23], 123.0); // (c·3 + h)·4 + w with c = 1, h = 2, w = 3
        assert_eq!(y[4], 10.0);
        assert_eq!(Flatten.backward(&x, &mut (), &y, &mut ()), x);
        typenum::assert_type_eq!(<Flatten as Layer<Tensor3<f64, U2, U3, U4>>>::Output, Vector<f64, U24>);
        typenum::assert_type_eq!(<Flatten as Layer<Matrix<f32, U3, U5>>>::Output, Vector<f32, U15>);
    }
}
