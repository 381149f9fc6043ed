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
//! Initialisation: [`Init::PyTorch`](crate::init::Init::PyTorch) (the
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
//! [`Train::backward_params`](crate::Train::backward_params), which the
//! trainer calls, skips `W_ihᵀ·d` at every step.

use core::fmt::Debug;

use generic_array::{ArrayLength, GenericArray};

use crate::Scalar;
use crate::shape::{Matrix, Vector};

mod gates;
pub mod gru;
pub mod last_step;
pub mod lstm;
pub mod rnn;

pub use gru::Gru;
pub use last_step::LastStep;
pub use lstm::{Lstm, LstmState};
pub use rnn::Rnn;

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
/// [`Recurrent::backward_from`] and [`Train::backward_params`](crate::Train::backward_params):
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

// SAFETY: the cache holds states and gates, which are `Zeroable`.
unsafe impl<C: Recurrent, L: ArrayLength> crate::memory::Zeroable for SequenceCache<C, L> {}

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

#[cfg(test)]
pub(crate) mod testing {
    //! Checks every recurrent layer passes: gradients through the sequence
    //! (inputs, parameters and initial state), streaming against the
    //! whole-sequence forward, initialisation bounds.

    use super::{LstmState, Recurrent, SequenceCache};
    use crate::check::{check_gradients, randomize};
    use crate::prelude::*;
    use generic_array::ArrayLength;
    use rand::Rng;
    use typenum::Unsigned;

    type Seq<C, L> = Matrix<<C as Recurrent>::Scalar, L, <C as Recurrent>::InputSize>;
    type Out<C, L> = Matrix<<C as Recurrent>::Scalar, L, <C as Recurrent>::HiddenSize>;

    /// A state's tensors as flat slices.
    pub trait FlatState<T> {
        const LEN: usize;
        fn parts(&self) -> [&[T]; 2];
        fn parts_mut(&mut self) -> [&mut [T]; 2];
    }

    impl<T, H: ArrayLength> FlatState<T> for Vector<T, H> {
        const LEN: usize = H::USIZE;
        fn parts(&self) -> [&[T]; 2] {
            [self, &[]]
        }
        fn parts_mut(&mut self) -> [&mut [T]; 2] {
            [self, &mut []]
        }
    }

    impl<T, H: ArrayLength> FlatState<T> for LstmState<T, H> {
        const LEN: usize = 2 * H::USIZE;
        fn parts(&self) -> [&[T]; 2] {
            [&self.h, &self.c]
        }
        fn parts_mut(&mut self) -> [&mut [T]; 2] {
            [&mut self.h, &mut self.c]
        }
    }

    /// A recurrent layer run from its own initial state, which it counts
    /// among its parameters, so that the gradient check nudges the state too
    /// and compares `backward_from`'s dL/d(state) with finite differences.
    pub struct FromState<C: Recurrent> {
        cell: C,
        state: C::State,
    }

    // SAFETY: a cell and its state, both `Zeroable`.
    unsafe impl<C: Recurrent + crate::memory::Zeroable> crate::memory::Zeroable for FromState<C> {}

    impl<C: Recurrent + Default> Default for FromState<C> {
        fn default() -> Self {
            FromState { cell: C::default(), state: C::State::default() }
        }
    }

    impl<C: Recurrent, L: ArrayLength> Layer<Seq<C, L>> for FromState<C> {
        type Output = Out<C, L>;
        fn forward(&self, xs: &Seq<C, L>) -> Out<C, L> {
            self.cell.forward_from(xs, &mut self.state.clone())
        }
    }

    impl<C> Params<C::Scalar> for FromState<C>
    where
        C: Recurrent + Params<C::Scalar, Grads = C> + Default + crate::memory::Zeroable,
        C::State: FlatState<C::Scalar>,
    {
        const COUNT: usize = C::COUNT + <C::State as FlatState<C::Scalar>>::LEN;
        type Grads = Self;
        fn visit(&self, f: &mut impl FnMut(&[C::Scalar])) {
            self.cell.visit(f);
            self.state.parts().into_iter().for_each(f);
        }
        fn visit_mut(&mut self, f: &mut impl FnMut(&mut [C::Scalar])) {
            self.cell.visit_mut(f);
            self.state.parts_mut().into_iter().for_each(f);
        }
        fn zip_mut<const K: usize>(
            &mut self,
            _: [&mut Self; K],
            _: &mut impl FnMut(&mut [C::Scalar], [&mut [C::Scalar]; K]),
        ) {
            unreachable!("the gradient check does not step an optimiser")
        }
    }

    impl<C, L: ArrayLength> Train<Seq<C, L>> for FromState<C>
    where
        C: Recurrent + Params<C::Scalar, Grads = C> + Default + crate::memory::Zeroable,
        C::State: FlatState<C::Scalar>,
    {
        type Cache = SequenceCache<C, L>;
        fn forward_train<R: Rng + ?Sized>(&self, xs: &Seq<C, L>, cache: &mut Self::Cache, _: &mut R) -> Out<C, L> {
            self.cell.forward_train_from(xs, &mut self.state.clone(), cache)
        }
        fn backward(&self, xs: &Seq<C, L>, cache: &Self::Cache, d_ys: &Out<C, L>, grads: &mut Self) -> Seq<C, L> {
            let (d_xs, d_state) = self.cell.backward_from(xs, cache, d_ys, &mut grads.cell);
            for (g, d) in grads.state.parts_mut().into_iter().zip(d_state.parts()) {
                g.iter_mut().zip(d).for_each(|(g, &d)| *g = *g + d);
            }
            d_xs
        }
    }

    fn random_sequence<T: Scalar, I: ArrayLength>(rng: &mut impl Rng) -> Matrix<T, U5, I> {
        let mut xs = Matrix::<T, U5, I>::default();
        randomize_flat(xs.as_flat_mut(), rng);
        xs
    }

    fn randomize_flat<T: Scalar>(values: &mut [T], rng: &mut impl Rng) {
        values.iter_mut().for_each(|v| *v = T::from_f64(rng.random::<f64>() * 2.0 - 1.0));
    }

    /// Finite differences through five steps: inputs and parameters from
    /// the zero state, then inputs, parameters and the initial state from a
    /// random state.
    pub fn assert_gradients<C>(seed: u64)
    where
        C: Recurrent<Scalar = f64>
            + Params<f64, Grads = C>
            + Default
            + Train<Matrix<f64, U5, C::InputSize>>
            + crate::memory::Zeroable,
        C::State: FlatState<f64>,
    {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let xs = random_sequence(&mut rng);
        let inputs = 5 * C::InputSize::USIZE;

        let mut cell = C::default();
        randomize(&mut cell, &mut rng);
        let report = check_gradients(&mut cell, &xs, &mut rng);
        assert!(report.max_rel_error < 1e-6, "from zero: {report:?}");
        assert_eq!((report.inputs_checked, report.params_checked), (inputs, C::COUNT));

        let mut from = FromState::<C>::default();
        randomize(&mut from, &mut rng);
        let report = check_gradients(&mut from, &xs, &mut rng);
        assert!(report.max_rel_error < 1e-6, "from a state: {report:?}");
        let state_len = <C::State as FlatState<f64>>::LEN;
        assert_eq!((report.inputs_checked, report.params_checked), (inputs, C::COUNT + state_len));
    }

    /// `step` after `step` gives the rows of the whole-sequence forward and
    /// the same last state, from zero and from a random state; the training
    /// forward agrees and keeps the states.
    pub fn assert_streaming_matches_sequence<C, T>(seed: u64)
    where
        T: Scalar,
        C: Recurrent<Scalar = T> + Params<T> + Default,
        C: Train<Matrix<T, U5, C::InputSize>, Output = Matrix<T, U5, C::HiddenSize>, Cache = SequenceCache<C, U5>>,
        C::State: FlatState<T>,
    {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut cell = C::default();
        randomize(&mut cell, &mut rng);
        let xs = random_sequence(&mut rng);

        let ys = cell.forward(&xs);
        let mut state = C::State::default();
        for (x, y) in xs.iter().zip(ys.iter()) {
            assert_eq!(&cell.step(x, &mut state), y);
        }
        let mut cache = SequenceCache::<C, U5>::default();
        assert_eq!(cell.forward_train(&xs, &mut cache, &mut NoRng), ys);
        assert_eq!(cache.states().last(), Some(&state));

        let mut start = C::State::default();
        start.parts_mut().into_iter().for_each(|p| randomize_flat(p, &mut rng));
        let (mut streamed, mut whole, mut trained) = (start.clone(), start.clone(), start.clone());
        let ys = cell.forward_from(&xs, &mut whole);
        for (x, y) in xs.iter().zip(ys.iter()) {
            assert_eq!(&cell.step(x, &mut streamed), y);
        }
        assert_eq!(streamed, whole);
        assert_eq!(cell.forward_train_from(&xs, &mut trained, &mut cache), ys);
        assert_eq!((cache.initial(), cache.states().last()), (&start, Some(&whole)));
        assert_eq!(trained, whole);
        assert_ne!(start, whole);
    }

    /// `backward_params`, which skips dL/dxs, adds the same parameter
    /// gradients as `backward`, bit for bit, into gradients that already
    /// hold some (they accumulate).
    pub fn assert_backward_params_matches_backward<C>(seed: u64)
    where
        C: Recurrent<Scalar = f64> + Params<f64, Grads = C> + Default + Clone + PartialEq + core::fmt::Debug,
        C: Train<Matrix<f64, U5, C::InputSize>, Output = Out<C, U5>, Cache = SequenceCache<C, U5>>,
    {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (mut cell, mut start) = (C::default(), C::default());
        randomize(&mut cell, &mut rng);
        randomize(&mut start, &mut rng);
        let xs = random_sequence(&mut rng);
        let d_ys: Out<C, U5> = random_sequence(&mut rng);
        let mut cache = SequenceCache::default();
        cell.forward_train(&xs, &mut cache, &mut NoRng);
        let (mut with_dx, mut without) = (start.clone(), start.clone());
        let dx = cell.backward(&xs, &cache, &d_ys, &mut with_dx);
        cell.backward_params(&xs, &cache, &d_ys, &mut without);
        assert_eq!(with_dx, without);
        assert_ne!(with_dx, start);
        assert!(dx.as_flat().iter().all(|d| *d != 0.0));
    }

    /// PyTorch's default bounds every parameter by 1/√H; other schemes use
    /// fan-in `I` for `weight_ih`, `H` for `weight_hh`, fan-out `G·H`, and
    /// zero the biases.
    pub fn assert_initialisation<C>(seed: u64)
    where
        C: Recurrent<Scalar = f32> + Params<f32> + Initialize + Default,
    {
        let (i, h) = (C::InputSize::USIZE, C::HiddenSize::USIZE);
        let gated = C::COUNT / (i + h + 2);
        let largest = |cell: &C| {
            let mut max = [0.0f64; 4];
            let mut k = 0;
            cell.visit(&mut |t| {
                max[k] = t.iter().fold(0.0, |m, v| m.max(v.abs() as f64));
                k += 1;
            });
            max
        };
        let close_below = |max: f64, bound: f64| max <= bound && max > 0.8 * bound;

        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut cell = C::default();
        cell.init(&mut rng);
        let bound = 1.0 / (h as f64).sqrt();
        assert!(largest(&cell).iter().all(|&m| close_below(m, bound)), "{:?}", largest(&cell));

        cell.init_with(Init::XavierUniform, &mut rng);
        let [w_ih, w_hh, b_ih, b_hh] = largest(&cell);
        assert!(close_below(w_ih, (6.0 / (i + gated) as f64).sqrt()), "{w_ih}");
        assert!(close_below(w_hh, (6.0 / (h + gated) as f64).sqrt()), "{w_hh}");
        assert_eq!((b_ih, b_hh), (0.0, 0.0));

        cell.init_with(Init::HeUniform, &mut rng);
        let [w_ih, w_hh, ..] = largest(&cell);
        assert!(close_below(w_ih, (6.0 / i as f64).sqrt()), "{w_ih}");
        assert!(close_below(w_hh, (6.0 / h as f64).sqrt()), "{w_hh}");
    }
}
