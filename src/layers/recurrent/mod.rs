//! Recurrent layers: [`Rnn`] (tanh), [`Lstm`] and [`Gru`], PyTorch's
//! `nn.RNN`, `nn.LSTM` and `nn.GRU` with one layer, and [`LastStep`] to
//! keep the last hidden state of a sequence.
//!
//! A sequence of `L` steps of `I` features is a `Matrix<T, L, I>`, one row a
//! step. A recurrent layer with input size `I` and hidden size `H` maps it to
//! the sequence of its hidden states, a `Matrix<T, L, H>`, which the next
//! recurrent layer takes as its input; [`LastStep`] keeps the last row for a
//! classifier. `L` is read from the input type, so one layer runs on
//! sequences of any length.
//!
//! ```
//! use typenet::prelude::*;
//!
//! // Classify sequences of 8 features: stack a GRU on an LSTM, keep the
//! // last hidden state, and map it to 10 scores.
//! type Classifier = net![Lstm<U8, U32>, Gru<U32, U16>, LastStep, Dense<U16, U10>];
//! let mut net = Classifier::default();
//! net.init(&mut Xoshiro256PlusPlus::seed_from_u64(3));
//!
//! let sequence = Matrix::<f32, U20, U8>::default(); // 20 steps
//! let scores: Vector<f32, U10> = net.forward(&sequence);
//! assert_eq!(scores.len(), 10);
//! ```
//!
//! # Initial state, streaming
//!
//! [`Layer::forward`](crate::Layer::forward) and the [`Train`](crate::Train)
//! passes start from the zero state, as PyTorch does without `h0`. The
//! [`Recurrent`] trait adds the same passes from a given state
//! ([`forward_from`](Recurrent::forward_from),
//! [`forward_train_from`](Recurrent::forward_train_from), and
//! [`backward_from`](Recurrent::backward_from), which also returns the
//! gradient with respect to that state), and [`step`](Recurrent::step),
//! which feeds one time step and keeps the state, for firmware that reads a
//! sensor a sample at a time and has no room for the whole sequence:
//!
//! ```
//! use typenet::prelude::*;
//!
//! let mut lstm = Lstm::<U3, U4>::default();
//! lstm.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
//! let xs = matrix([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]]);
//!
//! let mut state = LstmState::default(); // h = c = 0
//! let h0 = lstm.step(&xs[0], &mut state);
//! let h1 = lstm.step(&xs[1], &mut state);
//! assert_eq!(lstm.forward(&xs), [h0, h1].into());
//! ```
//!
//! # Parameters
//!
//! Each layer holds four tensors, visited in this order (PyTorch's
//! `state_dict` of a one-layer module, without the `_l0` suffix):
//! `weight_ih` `[G·H][I]`, `weight_hh` `[G·H][H]`, `bias_ih` `[G·H]`,
//! `bias_hh` `[G·H]`, where `G` is the number of gates (1 for [`Rnn`], 4 for
//! [`Lstm`], 3 for [`Gru`]) stacked in PyTorch's order. In memory a weight is
//! a [`GateWeights`], `[G][H][I]`: `weight_ih[g]` is gate `g`'s block, and the
//! flat layout is PyTorch's.
//!
//! Initialisation: [`PyTorch`](crate::init::PyTorch) (the
//! default) draws every parameter from U(−1/√H, 1/√H), as PyTorch does; any
//! other scheme draws `weight_ih` with fan-in `I`, `weight_hh` with fan-in
//! `H`, both with fan-out `G·H`, and zeroes the biases.
//!
//! # Backward
//!
//! Backpropagation through time over the whole sequence: the training
//! forward keeps each step's state and gates in a [`SequenceCache`] of fixed
//! size, and the backward pass walks the steps from last to first. A
//! recurrent layer first in a network needs no gradient for its input:
//! [`Train::backward_block`](crate::Train::backward_block) with no input
//! gradient, which the trainer asks of a network's first layer, skips
//! `W_ihᵀ·d` at every step.

use core::fmt::Debug;

use generic_array::{ArrayLength, GenericArray};

use crate::scalar::Scalar;
use crate::shape::{Matrix, Vector};

pub mod gates;
pub mod gru;
pub mod last_step;
pub mod lstm;
pub mod rnn;

pub use gates::{Cell, RecurrentLayer};
pub use gru::{Gru, GruCell};
pub use last_step::LastStep;
pub use lstm::{Lstm, LstmCell, LstmState};
pub use rnn::{Rnn, RnnCell};

/// A recurrent layer's stacked weights, `[G][H][C]`: one `[H][C]` block per
/// gate, in PyTorch's gate order, so that the flat layout is PyTorch's
/// `[G·H][C]`.
pub type GateWeights<T, G, H, C> = GenericArray<Matrix<T, H, C>, G>;

/// A recurrent layer's stacked biases, `[G][H]`: flat, PyTorch's `[G·H]`.
pub type GateBiases<T, G, H> = Matrix<T, G, H>;

mod sealed {
    pub trait Sealed {}
}

/// A recurrent cell run over a sequence: [`Rnn`], [`Lstm`], [`Gru`].
///
/// Besides [`Layer`](crate::Layer) and [`Train`](crate::Train) over whole
/// sequences from the zero state, a recurrent layer runs from a given state
/// and one step at a time. The per-step methods
/// ([`step_train`](Recurrent::step_train),
/// [`step_backward`](Recurrent::step_backward)) are what the sequence passes
/// are built from; the trait is sealed.
///
/// ```
/// use typenet::prelude::*;
///
/// let mut gru = Gru::<U2, U3, f64>::default();
/// gru.init(&mut Xoshiro256PlusPlus::seed_from_u64(5));
/// let xs = matrix([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [-1.0, 0.0]]);
///
/// // Two halves from a carried state give the whole sequence's outputs.
/// let whole = gru.forward(&xs);
/// let mut state = Vector::default();
/// let first = gru.forward_from(&matrix([[1.0, 0.0], [0.0, 1.0]]), &mut state);
/// let second = gru.forward_from(&matrix([[0.5, 0.5], [-1.0, 0.0]]), &mut state);
/// assert_eq!((first[1], second[1]), (whole[1], whole[3]));
///
/// // Training from a given state: the backward pass also gives dL/d(state).
/// let h0 = vector([0.1, -0.2, 0.3]);
/// let mut cache = Default::default();
/// let ys = gru.forward_train_from(&xs, &mut h0.clone(), &mut cache);
/// let mut grads = Gru::default();
/// let (dxs, dh0) = gru.backward_from(&xs, &cache, &ys, &mut grads); // L = ½‖ys‖²
/// assert_eq!((dxs.len(), dh0.len()), (4, 3));
/// ```
pub trait Recurrent: sealed::Sealed + Sized {
    /// The scalar.
    type Scalar: Scalar;
    /// `I`, the number of input features per step.
    type InputSize: ArrayLength;
    /// `H`, the number of hidden units.
    type HiddenSize: ArrayLength;
    /// What is carried from one step to the next: the hidden state `h` (a
    /// `Vector<T, H>`) for [`Rnn`] and [`Gru`], `h` and the cell state `c`
    /// ([`LstmState`]) for [`Lstm`]. `Default` is the zero state.
    type State: Clone + Default + Debug + PartialEq + crate::memory::Zeroable;
    /// What one training step keeps for its backward pass besides the
    /// state: the gates after activation (nothing for [`Rnn`]).
    type Gates: Clone + Default + Debug + crate::memory::Zeroable;

    /// The hidden state `h` inside a state: a step's output.
    fn hidden(state: &Self::State) -> &Vector<Self::Scalar, Self::HiddenSize>;

    /// The hidden state `h` inside a state, mutably.
    fn hidden_mut(state: &mut Self::State) -> &mut Vector<Self::Scalar, Self::HiddenSize>;

    /// One training step: advances `state` by the input `x` and writes the
    /// gates the backward step needs into `gates`.
    fn step_train(&self, x: &Vector<Self::Scalar, Self::InputSize>, state: &mut Self::State, gates: &mut Self::Gates);

    /// Back-propagates through one step that went from `previous` to
    /// `next` by input `x` with `gates`: on entry `d_state` holds dL/d`next`,
    /// on return dL/d`previous`; dL/dθ is *added* into `grads` and, when
    /// `dx` is given, dL/d`x` into it (`None` skips `W_ihᵀ·d`, for a layer
    /// whose input needs no gradient).
    #[allow(clippy::too_many_arguments)]
    fn step_backward(
        &self,
        x: &Vector<Self::Scalar, Self::InputSize>,
        previous: &Self::State,
        next: &Self::State,
        gates: &Self::Gates,
        d_state: &mut Self::State,
        dx: Option<&mut Vector<Self::Scalar, Self::InputSize>>,
        grads: &mut Self,
    );

    /// Streaming inference: feeds one time step, advances `state`, and
    /// returns the new hidden state `h`. Keeps no sequence: a run of steps
    /// from the zero state gives the rows of [`Layer::forward`](crate::Layer::forward).
    fn step(
        &self,
        x: &Vector<Self::Scalar, Self::InputSize>,
        state: &mut Self::State,
    ) -> Vector<Self::Scalar, Self::HiddenSize> {
        self.step_train(x, state, &mut Self::Gates::default());
        Self::hidden(state).clone()
    }

    /// Inference over a sequence from `state`: returns the hidden state of
    /// every step and leaves the last state in `state`, so a long sequence
    /// can be fed in parts.
    fn forward_from<L: ArrayLength>(
        &self,
        xs: &Matrix<Self::Scalar, L, Self::InputSize>,
        state: &mut Self::State,
    ) -> Matrix<Self::Scalar, L, Self::HiddenSize> {
        let mut gates = Self::Gates::default();
        let mut ys = Matrix::<Self::Scalar, L, Self::HiddenSize>::default();
        for (x, y) in xs.iter().zip(ys.iter_mut()) {
            self.step_train(x, state, &mut gates);
            y.clone_from(Self::hidden(state));
        }
        ys
    }

    /// The training forward from `state`: like
    /// [`forward_from`](Recurrent::forward_from), and keeps in `cache` the
    /// initial state and every step's state and gates.
    fn forward_train_from<L: ArrayLength>(
        &self,
        xs: &Matrix<Self::Scalar, L, Self::InputSize>,
        state: &mut Self::State,
        cache: &mut SequenceCache<Self, L>,
    ) -> Matrix<Self::Scalar, L, Self::HiddenSize> {
        cache.initial.clone_from(state);
        let mut ys = Matrix::<Self::Scalar, L, Self::HiddenSize>::default();
        let steps = cache.states.iter_mut().zip(cache.gates.iter_mut());
        for ((x, y), (kept, gates)) in xs.iter().zip(ys.iter_mut()).zip(steps) {
            self.step_train(x, state, gates);
            kept.clone_from(state);
            y.clone_from(Self::hidden(state));
        }
        ys
    }

    /// Backpropagation through time for a sequence run by
    /// [`forward_train_from`](Recurrent::forward_train_from) (or
    /// [`Train::forward_train`](crate::Train::forward_train), from the zero
    /// state): adds dL/dθ into `grads` and returns dL/d`xs` and dL/d(initial
    /// state). `d_ys` is dL/d(every step's hidden state).
    fn backward_from<L: ArrayLength>(
        &self,
        xs: &Matrix<Self::Scalar, L, Self::InputSize>,
        cache: &SequenceCache<Self, L>,
        d_ys: &Matrix<Self::Scalar, L, Self::HiddenSize>,
        grads: &mut Self,
    ) -> (Matrix<Self::Scalar, L, Self::InputSize>, Self::State) {
        let mut d_xs = Matrix::<Self::Scalar, L, Self::InputSize>::default();
        let d_state = through_time(self, xs, cache, d_ys, grads, Some(&mut d_xs));
        (d_xs, d_state)
    }
}

/// Backpropagation through time, the loop behind
/// [`Recurrent::backward_from`] and the layers' [`Train::backward_block`](crate::Train::backward_block):
/// adds dL/dθ into `grads`, dL/d`xs` into `d_xs` when given, and returns
/// dL/d(initial state).
pub(crate) fn through_time<C: Recurrent, L: ArrayLength>(
    cell: &C,
    xs: &Matrix<C::Scalar, L, C::InputSize>,
    cache: &SequenceCache<C, L>,
    d_ys: &Matrix<C::Scalar, L, C::HiddenSize>,
    grads: &mut C,
    mut d_xs: Option<&mut Matrix<C::Scalar, L, C::InputSize>>,
) -> C::State {
    let mut d_state = C::State::default();
    for t in (0..L::USIZE).rev() {
        let previous = if t == 0 { &cache.initial } else { &cache.states[t - 1] };
        for (d, &dy) in C::hidden_mut(&mut d_state).iter_mut().zip(d_ys[t].iter()) {
            *d = *d + dy;
        }
        let dx = d_xs.as_deref_mut().map(|d_xs| &mut d_xs[t]);
        cell.step_backward(&xs[t], previous, &cache.states[t], &cache.gates[t], &mut d_state, dx, grads);
    }
    d_state
}

/// What a recurrent layer's training forward keeps for backpropagation
/// through time over `L` steps: the initial state, and each step's state and
/// gates. Its size is fixed by the types: for an [`Lstm`], `(2 + 6·L)·H`
/// scalars.
pub struct SequenceCache<C: Recurrent, L: ArrayLength> {
    initial: C::State,
    states: GenericArray<C::State, L>,
    gates: GenericArray<C::Gates, L>,
}

impl<C: Recurrent, L: ArrayLength> SequenceCache<C, L> {
    /// The state the sequence started from.
    pub fn initial(&self) -> &C::State {
        &self.initial
    }

    /// The state after each step.
    pub fn states(&self) -> &[C::State] {
        &self.states
    }
}

crate::zeroable!(impl[C: Recurrent, L: ArrayLength] for SequenceCache<C, L> {
    initial: C::State,
    states: GenericArray<C::State, L>,
    gates: GenericArray<C::Gates, L>,
});

impl<C: Recurrent, L: ArrayLength> Default for SequenceCache<C, L> {
    fn default() -> Self {
        SequenceCache { initial: Default::default(), states: Default::default(), gates: Default::default() }
    }
}

impl<C: Recurrent, L: ArrayLength> Clone for SequenceCache<C, L> {
    fn clone(&self) -> Self {
        SequenceCache { initial: self.initial.clone(), states: self.states.clone(), gates: self.gates.clone() }
    }
}

impl<C: Recurrent, L: ArrayLength> Debug for SequenceCache<C, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SequenceCache")
            .field("initial", &self.initial)
            .field("states", &self.states)
            .field("gates", &self.gates)
            .finish()
    }
}
