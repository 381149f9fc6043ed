//! `Rnn`: the Elman recurrent layer with tanh,
//! `hₜ = tanh(W_ih·xₜ + b_ih + W_hh·hₜ₋₁ + b_hh)`.

use generic_array::ArrayLength;
use typenum::U1;

use super::gates::{Cell, RecurrentLayer, add_affine, add_affine_backward};
use super::sealed::Sealed;
use super::{GateBiases, Recurrent};
use crate::scalar::Scalar;
use crate::shape::Vector;

/// An Elman recurrent layer with tanh, PyTorch's `nn.RNN(I, H)` (one
/// layer, `nonlinearity='tanh'`):
/// `hₜ = tanh(W_ih·xₜ + b_ih + W_hh·hₜ₋₁ + b_hh)`.
///
/// - `I`, `H`: input and hidden sizes, `typenum` constants; `T`: the
///   scalar, `f32` unless stated.
/// - Input `Matrix<T, L, I>` (`L` steps of `I` features, `L` read from
///   the input), output `Matrix<T, L, H>`: every step's `hₜ`, from
///   `h₀ = 0`. [`Recurrent`] runs from a given `h₀` (its state is a
///   `Vector<T, H>`) and one step at a time.
/// - Parameters, in PyTorch's order (one gate, `G = 1`): `weight_ih`
///   `[1][H][I]`, `weight_hh` `[1][H][H]`, `bias_ih` `[1][H]`, `bias_hh`
///   `[1][H]`; `size_of` is `H·(I + H + 2)` scalars.
/// - `Default` is all zeros; [`Initialize`](crate::init::Initialize)
///   draws PyTorch's U(−1/√H, 1/√H) for every parameter, or any
///   [`Init`](crate::init::Init) scheme (see the [module docs](super)).
///
/// Backward through time: `aₜ` the pre-activation,
/// `daₜ = (dyₜ + dhₜ)(1 − hₜ²)`, `dxₜ = W_ihᵀ·daₜ`,
/// `dhₜ₋₁ = W_hhᵀ·daₜ`, `dW_ih += daₜ·xₜᵀ`, `dW_hh += daₜ·hₜ₋₁ᵀ`,
/// `db_ih = db_hh += daₜ`.
///
/// ```
/// use typenet::prelude::*;
///
/// // h = tanh(x₁ − h): one unit that remembers with a negative weight.
/// let rnn = Rnn::<U2, U1, f64>::new(
///     [matrix([[1.0, 0.0]])].into(),
///     [matrix([[-1.0]])].into(),
///     Default::default(),
///     Default::default(),
/// );
/// let hs = rnn.forward(&matrix([[0.5, 9.0], [0.5, 9.0]]));
/// let h1 = 0.5f64.tanh();
/// assert_eq!(hs.as_flat(), &[h1, (0.5 - h1).tanh()]);
/// ```
pub type Rnn<I, H, T = f32> = RecurrentLayer<RnnCell, I, H, T>;

/// The cell of [`Rnn`]: 1 gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RnnCell;

impl Sealed for RnnCell {}

impl Cell for RnnCell {
    type Gates = U1;
}

impl<I: ArrayLength, H: ArrayLength, T: Scalar> Recurrent for Rnn<I, H, T> {
    type Scalar = T;
    type InputSize = I;
    type HiddenSize = H;
    type State = Vector<T, H>;
    type Gates = ();

    #[inline]
    fn hidden(h: &Vector<T, H>) -> &Vector<T, H> {
        h
    }

    #[inline]
    fn hidden_mut(h: &mut Vector<T, H>) -> &mut Vector<T, H> {
        h
    }

    fn step_train(&self, x: &Vector<T, I>, h: &mut Vector<T, H>, _: &mut ()) {
        let mut a = GateBiases::<T, U1, H>::default();
        add_affine(&self.weight_ih, &self.bias_ih, x, &mut a);
        add_affine(&self.weight_hh, &self.bias_hh, h, &mut a);
        for (h, &a) in h.iter_mut().zip(a[0].iter()) {
            *h = a.tanh();
        }
    }

    fn step_backward(
        &self,
        x: &Vector<T, I>,
        previous: &Vector<T, H>,
        next: &Vector<T, H>,
        _: &(),
        dh: &mut Vector<T, H>,
        dx: Option<&mut Vector<T, I>>,
        grads: &mut Self,
    ) {
        let mut da = GateBiases::<T, U1, H>::default();
        for ((da, dh), &h) in da[0].iter_mut().zip(dh.iter_mut()).zip(next.iter()) {
            *da = *dh * (T::one() - h * h);
            *dh = T::zero();
        }
        add_affine_backward(&self.weight_ih, &da, x, &mut grads.weight_ih, &mut grads.bias_ih, dx);
        add_affine_backward(&self.weight_hh, &da, previous, &mut grads.weight_hh, &mut grads.bias_hh, Some(dh));
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn holds_nothing_but_parameters() {
        assert_eq!(size_of::<Rnn<U8, U16>>(), 16 * (8 + 16 + 2) * 4);
        assert_eq!(<Rnn<U8, U16> as Params<f32>>::COUNT, 16 * (8 + 16 + 2));
    }
}
