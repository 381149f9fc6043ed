//! `Gru`: the gated recurrent unit, with PyTorch's gates r, z, n and its
//! placement of the reset gate.

use generic_array::ArrayLength;
use typenum::{U3, U4};

use super::gates::{Cell, RecurrentLayer, add_affine, add_affine_backward};
use super::sealed::Sealed;
use super::{GateBiases, Recurrent};
use crate::layers::activation::logistic;
use crate::scalar::Scalar;
use crate::shape::Vector;

/// Rows of the gates, in PyTorch's order, and the row [`Gru`] keeps for the
/// reset gate's gradient.
const RESET: usize = 0;
const UPDATE: usize = 1;
const NEW: usize = 2;
const HIDDEN_NEW: usize = 3;

/// A gated recurrent unit layer, PyTorch's `nn.GRU(I, H)` (one layer):
///
/// ```text
/// rₜ = σ(W_ir·xₜ + b_ir + W_hr·hₜ₋₁ + b_hr)             reset gate
/// zₜ = σ(W_iz·xₜ + b_iz + W_hz·hₜ₋₁ + b_hz)             update gate
/// nₜ = tanh(W_in·xₜ + b_in + rₜ ⊙ (W_hn·hₜ₋₁ + b_hn))   candidate
/// hₜ = (1 − zₜ) ⊙ nₜ + zₜ ⊙ hₜ₋₁
/// ```
///
/// The reset gate multiplies `W_hn·hₜ₋₁ + b_hn`, bias included, as in
/// PyTorch (and cuDNN), not `hₜ₋₁` before the product as in the original
/// paper.
///
/// - `I`, `H`: input and hidden sizes, `typenum` constants; `T`: the
///   scalar, `f32` unless stated.
/// - Input `Matrix<T, L, I>` (`L` steps of `I` features, `L` read from
///   the input), output `Matrix<T, L, H>`: every step's `hₜ`, from
///   `h₀ = 0`. [`Recurrent`] runs from a given `h₀` (its state is a
///   `Vector<T, H>`) and one step at a time.
/// - Parameters, in PyTorch's order, the three gates stacked r, z, n
///   (`G = 3`): `weight_ih` `[3][H][I]`, `weight_hh` `[3][H][H]`,
///   `bias_ih` `[3][H]`, `bias_hh` `[3][H]`; `size_of` is
///   `3H·(I + H + 2)` scalars.
/// - `Default` is all zeros; [`Initialize`](crate::init::Initialize)
///   draws PyTorch's U(−1/√H, 1/√H) for every parameter, or any
///   [`Init`](crate::init::Init) scheme (see the [module docs](super)).
/// - The training cache keeps per step the state, the three gates and
///   `W_hn·hₜ₋₁ + b_hn`, `5H` scalars.
///
/// Backward through time, with `dh` the gradient reaching `hₜ`: the
/// candidate's pre-activation gets `dâ = dh ⊙ (1 − zₜ) ⊙ (1 − nₜ²)`,
/// which reaches `W_in`, `b_in` as is and `W_hn`, `b_hn` times `rₜ`;
/// the reset gate gets `dâ ⊙ (W_hn·hₜ₋₁ + b_hn) ⊙ rₜ(1 − rₜ)`, the update
/// gate `dh ⊙ (hₜ₋₁ − nₜ) ⊙ zₜ(1 − zₜ)`, and
/// `dhₜ₋₁ = dh ⊙ zₜ + W_hhᵀ·(the hidden side's gradients)`.
///
/// ```
/// use typenet::prelude::*;
///
/// // A stack: the GRU reads the LSTM's hidden states, step by step.
/// type Stack = net![Lstm<U4, U16>, Gru<U16, U8>, LastStep];
/// let mut stack = Stack::default();
/// stack.init(&mut Xoshiro256PlusPlus::seed_from_u64(9));
/// let h: Vector<f32, U8> = stack.forward(&Matrix::<f32, U6, U4>::default());
/// assert!(h.iter().all(|v| v.abs() < 1.0));
/// assert_eq!(size_of::<Gru<U16, U8>>(), 3 * 8 * (16 + 8 + 2) * 4);
/// ```
pub type Gru<I, H, T = f32> = RecurrentLayer<GruCell, I, H, T>;

/// The cell of [`Gru`]: 3 gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GruCell;

impl Sealed for GruCell {}

impl Cell for GruCell {
    type Gates = U3;
}

impl<I: ArrayLength, H: ArrayLength, T: Scalar> Recurrent for Gru<I, H, T> {
    type Scalar = T;
    type InputSize = I;
    type HiddenSize = H;
    type State = Vector<T, H>;
    /// The gates after activation, rows r, z, n, then `W_hn·hₜ₋₁ + b_hn`.
    type Gates = GateBiases<T, U4, H>;

    #[inline]
    fn hidden(h: &Vector<T, H>) -> &Vector<T, H> {
        h
    }

    #[inline]
    fn hidden_mut(h: &mut Vector<T, H>) -> &mut Vector<T, H> {
        h
    }

    fn step_train(&self, x: &Vector<T, I>, h: &mut Vector<T, H>, gates: &mut GateBiases<T, U4, H>) {
        let (mut input_side, mut hidden_side) = (GateBiases::<T, U3, H>::default(), GateBiases::<T, U3, H>::default());
        add_affine(&self.weight_ih, &self.bias_ih, x, &mut input_side);
        add_affine(&self.weight_hh, &self.bias_hh, h, &mut hidden_side);
        for k in 0..H::USIZE {
            let r = logistic(input_side[RESET][k] + hidden_side[RESET][k]);
            let z = logistic(input_side[UPDATE][k] + hidden_side[UPDATE][k]);
            let hn = hidden_side[NEW][k];
            let n = (input_side[NEW][k] + r * hn).tanh();
            (gates[RESET][k], gates[UPDATE][k], gates[NEW][k], gates[HIDDEN_NEW][k]) = (r, z, n, hn);
            h[k] = (T::one() - z) * n + z * h[k];
        }
    }

    fn step_backward(
        &self,
        x: &Vector<T, I>,
        previous: &Vector<T, H>,
        _: &Vector<T, H>,
        gates: &GateBiases<T, U4, H>,
        dh: &mut Vector<T, H>,
        dx: Option<&mut Vector<T, I>>,
        grads: &mut Self,
    ) {
        let one = T::one();
        let (mut d_input_side, mut d_hidden_side) =
            (GateBiases::<T, U3, H>::default(), GateBiases::<T, U3, H>::default());
        for k in 0..H::USIZE {
            let (r, z, n, hn) = (gates[RESET][k], gates[UPDATE][k], gates[NEW][k], gates[HIDDEN_NEW][k]);
            let d_new = dh[k] * (one - z) * (one - n * n);
            let d_reset = d_new * hn * r * (one - r);
            let d_update = dh[k] * (previous[k] - n) * z * (one - z);
            (d_input_side[RESET][k], d_input_side[UPDATE][k], d_input_side[NEW][k]) = (d_reset, d_update, d_new);
            (d_hidden_side[RESET][k], d_hidden_side[UPDATE][k], d_hidden_side[NEW][k]) = (d_reset, d_update, d_new * r);
            dh[k] = dh[k] * z;
        }
        add_affine_backward(&self.weight_ih, &d_input_side, x, &mut grads.weight_ih, &mut grads.bias_ih, dx);
        add_affine_backward(
            &self.weight_hh,
            &d_hidden_side,
            previous,
            &mut grads.weight_hh,
            &mut grads.bias_hh,
            Some(dh),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn holds_nothing_but_parameters() {
        assert_eq!(size_of::<Gru<U8, U16>>(), 3 * 16 * (8 + 16 + 2) * 4);
        assert_eq!(<Gru<U8, U16> as Params<f32>>::COUNT, 3 * 16 * (8 + 16 + 2));
    }
}
