//! `Lstm`: long short-term memory, with PyTorch's gates i, f, g, o.

use generic_array::ArrayLength;
use typenum::U4;

use super::gates::{Cell, RecurrentLayer, add_affine, add_affine_backward};
use super::sealed::Sealed;
use super::{GateBiases, Recurrent};
use crate::layers::activation::logistic;
use crate::scalar::Scalar;
use crate::shape::{Tensor, Vector};

/// Rows of the gates, in PyTorch's order.
const INPUT: usize = 0;
const FORGET: usize = 1;
const CELL: usize = 2;
const OUTPUT: usize = 3;

/// A long short-term memory layer, PyTorch's `nn.LSTM(I, H)` (one layer):
///
/// ```text
/// iₜ = σ(W_ii·xₜ + b_ii + W_hi·hₜ₋₁ + b_hi)      input gate
/// fₜ = σ(W_if·xₜ + b_if + W_hf·hₜ₋₁ + b_hf)      forget gate
/// gₜ = tanh(W_ig·xₜ + b_ig + W_hg·hₜ₋₁ + b_hg)   cell candidate
/// oₜ = σ(W_io·xₜ + b_io + W_ho·hₜ₋₁ + b_ho)      output gate
/// cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ
/// hₜ = oₜ ⊙ tanh(cₜ)
/// ```
///
/// - `I`, `H`: input and hidden sizes, `typenum` constants; `T`: the
///   scalar, `f32` unless stated.
/// - Input `Matrix<T, L, I>` (`L` steps of `I` features, `L` read from
///   the input), output `Matrix<T, L, H>`: every step's `hₜ`, from
///   `h₀ = c₀ = 0`. [`Recurrent`] runs from a given [`LstmState`] and
///   one step at a time.
/// - Parameters, in PyTorch's order, the four gates stacked i, f, g, o
///   (`G = 4`): `weight_ih` `[4][H][I]`, `weight_hh` `[4][H][H]`,
///   `bias_ih` `[4][H]`, `bias_hh` `[4][H]`; `size_of` is
///   `4H·(I + H + 2)` scalars.
/// - `Default` is all zeros; [`Initialize`](crate::init::Initialize)
///   draws PyTorch's U(−1/√H, 1/√H) for every parameter, or any
///   [`Init`](crate::init::Init) scheme (see the [module docs](super)).
/// - The training cache keeps per step the state and the four gates,
///   `6H` scalars.
///
/// Backward through time, with `dh` the gradient reaching `hₜ` (from the
/// output and from step `t + 1`) and `dc` the one reaching `cₜ` from step
/// `t + 1`: `dc' = dc + dh ⊙ oₜ ⊙ (1 − tanh²cₜ)`, then
/// `dcₜ₋₁ = dc' ⊙ fₜ` and the gates' pre-activations get
/// `dc' ⊙ gₜ ⊙ iₜ(1 − iₜ)`, `dc' ⊙ cₜ₋₁ ⊙ fₜ(1 − fₜ)`,
/// `dc' ⊙ iₜ ⊙ (1 − gₜ²)`, `dh ⊙ tanh cₜ ⊙ oₜ(1 − oₜ)`, which flow to
/// `xₜ`, `hₜ₋₁` and the parameters through the two affine maps.
///
/// ```
/// use typenet::prelude::*;
///
/// // Classify sequences of 8 features into 10 classes.
/// type Model = net![Lstm<U8, U32>, LastStep, Dense<U32, U10>];
/// let mut model = Model::default();
/// model.init(&mut Xoshiro256PlusPlus::seed_from_u64(0));
/// let scores = model.forward(&Matrix::<f32, U12, U8>::default());
/// assert_eq!(scores.len(), 10);
/// assert_eq!(size_of::<Lstm<U8, U32>>(), 4 * 32 * (8 + 32 + 2) * 4);
///
/// // The state after two steps, by hand: with zero weights every gate is
/// // σ(0) = ½ or tanh(0) = 0, so the cell keeps half its content.
/// let lstm = Lstm::<U1, U1, f64>::default();
/// let mut state = LstmState { h: vector([0.0]), c: vector([1.0]) };
/// lstm.step(&vector([3.0]), &mut state);
/// let h = lstm.step(&vector([3.0]), &mut state);
/// assert_eq!(state.c[0], 0.25);
/// assert_eq!(h[0], 0.5 * 0.25f64.tanh());
/// ```
pub type Lstm<I, H, T = f32> = RecurrentLayer<LstmCell, I, H, T>;

/// The cell of [`Lstm`]: 4 gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LstmCell;

impl Sealed for LstmCell {}

impl Cell for LstmCell {
    type Gates = U4;
}

/// The state an [`Lstm`] carries from step to step: the hidden state `h`
/// (the step's output) and the cell state `c`. `Default` is zero, PyTorch's
/// state when no `(h0, c0)` is given.
#[derive(Clone, Default)]
pub struct LstmState<T, H: ArrayLength> {
    /// The hidden state, `hₜ`.
    pub h: Vector<T, H>,
    /// The cell state, `cₜ`.
    pub c: Vector<T, H>,
}

crate::zeroable!(impl[T: crate::memory::Zeroable, H: ArrayLength] for LstmState<T, H> { h: Vector<T, H>, c: Vector<T, H> });

impl<T: PartialEq, H: ArrayLength> PartialEq for LstmState<T, H> {
    fn eq(&self, other: &Self) -> bool {
        self.h == other.h && self.c == other.c
    }
}

impl<T: core::fmt::Debug, H: ArrayLength> core::fmt::Debug for LstmState<T, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LstmState").field("h", &self.h).field("c", &self.c).finish()
    }
}

impl<I: ArrayLength, H: ArrayLength, T: Scalar> Recurrent for Lstm<I, H, T> {
    type Scalar = T;
    type InputSize = I;
    type HiddenSize = H;
    type State = LstmState<T, H>;
    /// The gates after activation, rows i, f, g, o.
    type Gates = GateBiases<T, U4, H>;

    #[inline]
    fn hidden(state: &LstmState<T, H>) -> &Vector<T, H> {
        &state.h
    }

    #[inline]
    fn hidden_mut(state: &mut LstmState<T, H>) -> &mut Vector<T, H> {
        &mut state.h
    }

    fn step_train(&self, x: &Vector<T, I>, state: &mut LstmState<T, H>, gates: &mut GateBiases<T, U4, H>) {
        gates.as_flat_mut().fill(T::zero());
        add_affine(&self.weight_ih, &self.bias_ih, x, gates);
        add_affine(&self.weight_hh, &self.bias_hh, &state.h, gates);
        for k in 0..H::USIZE {
            let i = logistic(gates[INPUT][k]);
            let f = logistic(gates[FORGET][k]);
            let g = gates[CELL][k].tanh();
            let o = logistic(gates[OUTPUT][k]);
            (gates[INPUT][k], gates[FORGET][k], gates[CELL][k], gates[OUTPUT][k]) = (i, f, g, o);
            state.c[k] = f * state.c[k] + i * g;
            state.h[k] = o * state.c[k].tanh();
        }
    }

    fn step_backward(
        &self,
        x: &Vector<T, I>,
        previous: &LstmState<T, H>,
        next: &LstmState<T, H>,
        gates: &GateBiases<T, U4, H>,
        d: &mut LstmState<T, H>,
        dx: Option<&mut Vector<T, I>>,
        grads: &mut Self,
    ) {
        let one = T::one();
        let mut da = GateBiases::<T, U4, H>::default();
        for k in 0..H::USIZE {
            let (i, f, g, o) = (gates[INPUT][k], gates[FORGET][k], gates[CELL][k], gates[OUTPUT][k]);
            let tanh_c = next.c[k].tanh();
            let dc = d.c[k] + d.h[k] * o * (one - tanh_c * tanh_c);
            da[INPUT][k] = dc * g * i * (one - i);
            da[FORGET][k] = dc * previous.c[k] * f * (one - f);
            da[CELL][k] = dc * i * (one - g * g);
            da[OUTPUT][k] = d.h[k] * tanh_c * o * (one - o);
            d.c[k] = dc * f;
            d.h[k] = T::zero();
        }
        add_affine_backward(&self.weight_ih, &da, x, &mut grads.weight_ih, &mut grads.bias_ih, dx);
        add_affine_backward(
            &self.weight_hh,
            &da,
            &previous.h,
            &mut grads.weight_hh,
            &mut grads.bias_hh,
            Some(&mut d.h),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn holds_nothing_but_parameters() {
        assert_eq!(size_of::<Lstm<U8, U16>>(), 4 * 16 * (8 + 16 + 2) * 4);
        assert_eq!(<Lstm<U8, U16> as Params<f32>>::COUNT, 4 * 16 * (8 + 16 + 2));
    }
}
