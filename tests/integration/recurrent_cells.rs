//! What every recurrent layer must do, checked from outside the crate:
//! gradients through the sequence (inputs, parameters and the initial
//! state), streaming against the whole-sequence forward, the backward pass
//! without an input gradient, and initialisation bounds. The layer that
//! counts its initial state among its parameters (`FromState`) is written
//! with the public authoring API only.

use typenet::check::{check_gradients, randomize};
use typenet::layers::recurrent::{LstmState, Recurrent, SequenceCache};
use typenet::memory::{DefaultInPlace, Zeroable};
use typenet::prelude::*;
use typenet::typenum::Unsigned;

type Seq<C, L> = Matrix<<C as Recurrent>::Scalar, L, <C as Recurrent>::InputSize>;
type Out<C, L> = Matrix<<C as Recurrent>::Scalar, L, <C as Recurrent>::HiddenSize>;

/// A state's tensors as flat slices.
trait FlatState<T> {
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
struct FromState<C: Recurrent> {
    cell: C,
    state: C::State,
}

typenet::zeroable!(impl[C: Recurrent + Zeroable] for FromState<C> { cell: C, state: C::State });

impl<C: Recurrent + Default> Default for FromState<C> {
    fn default() -> Self {
        FromState { cell: C::default(), state: C::State::default() }
    }
}

impl<C: Recurrent + Default + Zeroable> DefaultInPlace for FromState<C> {
    fn zeroed_to_default(&mut self) {
        *self = Self::default();
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
    C: Recurrent + Params<C::Scalar, Grads = C> + Default + Zeroable,
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
    C: Recurrent + Params<C::Scalar, Grads = C> + Default + Zeroable,
    C::State: FlatState<C::Scalar>,
{
    type Cache = SequenceCache<C, L>;
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Seq<C, L>; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Out<C, L>; B],
        _: &mut R,
    ) {
        for ((xs, cache), ys) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
            *ys = self.cell.forward_train_from(xs, &mut self.state.clone(), cache);
        }
    }
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&Seq<C, L>; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Out<C, L>; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Seq<C, L>; B]>,
    ) {
        let mut grad_inputs = grad_inputs.map(|d| d.map(Some)).unwrap_or_else(|| core::array::from_fn(|_| None));
        let samples = inputs.into_iter().zip(caches).zip(grad_outputs).zip(grad_inputs.iter_mut());
        for (((xs, cache), d_ys), dx) in samples.take(n) {
            let (d_xs, d_state) = self.cell.backward_from(xs, cache, d_ys, &mut grads.cell);
            for (g, d) in grads.state.parts_mut().into_iter().zip(d_state.parts()) {
                g.iter_mut().zip(d).for_each(|(g, &d)| *g = *g + d);
            }
            if let Some(dx) = dx {
                **dx = d_xs;
            }
        }
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
fn assert_gradients<C>(seed: u64)
where
    C: Recurrent<Scalar = f64> + Params<f64, Grads = C> + Default + Train<Matrix<f64, U5, C::InputSize>> + Zeroable,
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
fn assert_streaming_matches_sequence<C, T>(seed: u64)
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

/// The backward pass without dL/dxs adds the same parameter gradients as
/// `backward`, bit for bit, into gradients that already hold some (they
/// accumulate).
fn assert_skipping_dx_keeps_the_gradients<C>(seed: u64)
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
    let dx = cell.backward(&xs, &mut cache, &d_ys, &mut with_dx);
    cell.backward_block(1, [&xs], [&mut cache], [&d_ys], &mut without, None);
    assert_eq!(with_dx, without);
    assert_ne!(with_dx, start);
    assert!(dx.as_flat().iter().all(|d| *d != 0.0));
}

/// PyTorch's default bounds every parameter by 1/√H; other schemes use
/// fan-in `I` for `weight_ih`, `H` for `weight_hh`, fan-out `G·H`, and
/// zero the biases.
fn assert_initialisation<C>(seed: u64)
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

    cell.init_with(XavierUniform, &mut rng);
    let [w_ih, w_hh, b_ih, b_hh] = largest(&cell);
    assert!(close_below(w_ih, (6.0 / (i + gated) as f64).sqrt()), "{w_ih}");
    assert!(close_below(w_hh, (6.0 / (h + gated) as f64).sqrt()), "{w_hh}");
    assert_eq!((b_ih, b_hh), (0.0, 0.0));

    cell.init_with(HeUniform, &mut rng);
    let [w_ih, w_hh, ..] = largest(&cell);
    assert!(close_below(w_ih, (6.0 / i as f64).sqrt()), "{w_ih}");
    assert!(close_below(w_hh, (6.0 / h as f64).sqrt()), "{w_hh}");
}

mod rnn {
    use super::*;

    #[test]
    fn gradients_match_finite_differences_through_the_sequence() {
        assert_gradients::<Rnn<U3, U4, f64>>(1);
    }

    #[test]
    fn steps_give_the_sequence_outputs() {
        assert_streaming_matches_sequence::<Rnn<U3, U4, f64>, f64>(2);
        assert_streaming_matches_sequence::<Rnn<U3, U4, f32>, f32>(3);
    }

    #[test]
    fn skipping_dx_keeps_the_gradients() {
        assert_skipping_dx_keeps_the_gradients::<Rnn<U3, U4, f64>>(10);
    }

    #[test]
    fn initialisation_follows_pytorch_and_the_schemes() {
        assert_initialisation::<Rnn<U6, U16>>(1);
    }
}

mod lstm {
    use super::*;

    #[test]
    fn gradients_match_finite_differences_through_the_sequence() {
        assert_gradients::<Lstm<U3, U4, f64>>(4);
    }

    #[test]
    fn steps_give_the_sequence_outputs() {
        assert_streaming_matches_sequence::<Lstm<U3, U4, f64>, f64>(5);
        assert_streaming_matches_sequence::<Lstm<U3, U4, f32>, f32>(6);
    }

    #[test]
    fn skipping_dx_keeps_the_gradients() {
        assert_skipping_dx_keeps_the_gradients::<Lstm<U3, U4, f64>>(11);
    }

    #[test]
    fn initialisation_follows_pytorch_and_the_schemes() {
        assert_initialisation::<Lstm<U6, U16>>(2);
    }
}

mod gru {
    use super::*;

    #[test]
    fn gradients_match_finite_differences_through_the_sequence() {
        assert_gradients::<Gru<U3, U4, f64>>(7);
    }

    #[test]
    fn steps_give_the_sequence_outputs() {
        assert_streaming_matches_sequence::<Gru<U3, U4, f64>, f64>(8);
        assert_streaming_matches_sequence::<Gru<U3, U4, f32>, f32>(9);
    }

    #[test]
    fn skipping_dx_keeps_the_gradients() {
        assert_skipping_dx_keeps_the_gradients::<Gru<U3, U4, f64>>(12);
    }

    #[test]
    fn initialisation_follows_pytorch_and_the_schemes() {
        assert_initialisation::<Gru<U6, U16>>(3);
    }
}
