//! Recurrent layers against PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU`
//! (fixtures from `tools/fixtures/gen_recurrent.py`), and gradient checks
//! through stacks of them.

use typenet::check::{check_gradients, randomize};
use typenet::prelude::*;

#[path = "../fixtures/recurrent.rs"]
mod fixtures;
use fixtures::*;

/// One module's fixtures: parameters and inputs, then PyTorch's outputs and
/// gradients from the zero state and from a given state.
struct Fixture {
    params: &'static [f64],
    x: &'static [f64],
    dy: &'static [f64],
    y_zero: &'static [f64],
    dx_zero: &'static [f64],
    grads_zero: &'static [f64],
    state: &'static [&'static [f64]],
    y: &'static [f64],
    dx: &'static [f64],
    grads: &'static [f64],
    d_state: &'static [&'static [f64]],
}

const RNN: Fixture = Fixture {
    params: &RNN_PARAMS,
    x: &RNN_X,
    dy: &RNN_DY,
    y_zero: &RNN_Y_ZERO,
    dx_zero: &RNN_DX_ZERO,
    grads_zero: &RNN_GRADS_ZERO,
    state: &[&RNN_H0],
    y: &RNN_Y,
    dx: &RNN_DX,
    grads: &RNN_GRADS,
    d_state: &[&RNN_DH0],
};

const LSTM: Fixture = Fixture {
    params: &LSTM_PARAMS,
    x: &LSTM_X,
    dy: &LSTM_DY,
    y_zero: &LSTM_Y_ZERO,
    dx_zero: &LSTM_DX_ZERO,
    grads_zero: &LSTM_GRADS_ZERO,
    state: &[&LSTM_H0, &LSTM_C0],
    y: &LSTM_Y,
    dx: &LSTM_DX,
    grads: &LSTM_GRADS,
    d_state: &[&LSTM_DH0, &LSTM_DC0],
};

const GRU: Fixture = Fixture {
    params: &GRU_PARAMS,
    x: &GRU_X,
    dy: &GRU_DY,
    y_zero: &GRU_Y_ZERO,
    dx_zero: &GRU_DX_ZERO,
    grads_zero: &GRU_GRADS_ZERO,
    state: &[&GRU_H0],
    y: &GRU_Y,
    dx: &GRU_DX,
    grads: &GRU_GRADS,
    d_state: &[&GRU_DH0],
};

/// A state built from and read as the fixtures' flat arrays.
trait FixtureState<T> {
    fn from_parts(parts: &[&[f64]]) -> Self;
    fn parts(&self) -> Vec<T>;
}

impl<T: Scalar> FixtureState<T> for Vector<T, U4> {
    fn from_parts(parts: &[&[f64]]) -> Self {
        load(parts[0])
    }
    fn parts(&self) -> Vec<T> {
        self.to_vec()
    }
}

impl<T: Scalar> FixtureState<T> for LstmState<T, U4> {
    fn from_parts(parts: &[&[f64]]) -> Self {
        LstmState { h: load(parts[0]), c: load(parts[1]) }
    }
    fn parts(&self) -> Vec<T> {
        self.h.iter().chain(self.c.iter()).copied().collect()
    }
}

fn load<X: Tensor>(values: &[f64]) -> X {
    let mut x = X::default();
    assert_eq!(values.len(), X::LEN);
    for (v, &f) in x.as_flat_mut().iter_mut().zip(values) {
        *v = <X::Scalar as Scalar>::from_f64(f);
    }
    x
}

fn flat_params<T: Scalar, P: Params<T>>(params: &P) -> Vec<T> {
    let mut all = Vec::new();
    params.visit(&mut |t| all.extend_from_slice(t));
    all
}

/// The largest deviation from PyTorch's values, `|ours − theirs| /
/// max(1, |theirs|)`, asserting it stays below `tolerance`.
fn deviation<T: Scalar>(what: &str, ours: &[T], theirs: &[f64], tolerance: f64) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let worst =
        ours.iter().zip(theirs).map(|(&a, b)| (Scalar::to_f64(a) - b).abs() / b.abs().max(1.0)).fold(0.0f64, f64::max);
    assert!(worst < tolerance, "{what}: deviates from PyTorch by {worst:e} (tolerance {tolerance:e})");
    worst
}

/// Runs a layer loaded with the fixture's parameters (visited in PyTorch's
/// `state_dict` order) and compares every output and gradient; returns the
/// largest deviation.
fn compare<C, T>(fixture: &Fixture, tolerance: f64) -> f64
where
    T: Scalar,
    C: Recurrent<Scalar = T, InputSize = U3, HiddenSize = U4> + Params<T, Grads = C> + Default,
    C: Train<Matrix<T, U5, U3>, Output = Matrix<T, U5, U4>, Cache = SequenceCache<C, U5>>,
    C::State: FixtureState<T>,
{
    let mut layer = C::default();
    let mut k = 0;
    layer.visit_mut(&mut |t| {
        for p in t {
            *p = T::from_f64(fixture.params[k]);
            k += 1;
        }
    });
    assert_eq!(k, fixture.params.len());
    let xs: Matrix<T, U5, U3> = load(fixture.x);
    let dy: Matrix<T, U5, U4> = load(fixture.dy);
    let mut worst = 0.0f64;

    // From the zero state: the plain `Layer` and `Train` passes.
    worst = worst.max(deviation("y (zero state)", layer.forward(&xs).as_flat(), fixture.y_zero, tolerance));
    let mut cache = SequenceCache::default();
    let mut grads = C::default();
    layer.forward_train(&xs, &mut cache, &mut NoRng);
    let dx = layer.backward(&xs, &mut cache, &dy, &mut grads);
    worst = worst.max(deviation("dx (zero state)", dx.as_flat(), fixture.dx_zero, tolerance));
    worst = worst.max(deviation("dθ (zero state)", &flat_params(&grads), fixture.grads_zero, tolerance));

    // From a given state, which also gets its gradient.
    let initial = C::State::from_parts(fixture.state);
    let mut state = initial.clone();
    let y = layer.forward_train_from(&xs, &mut state, &mut cache);
    worst = worst.max(deviation("y", y.as_flat(), fixture.y, tolerance));
    let mut grads = C::default();
    let (dx, d_state) = layer.backward_from(&xs, &cache, &dy, &mut grads);
    worst = worst.max(deviation("dx", dx.as_flat(), fixture.dx, tolerance));
    worst = worst.max(deviation("dθ", &flat_params(&grads), fixture.grads, tolerance));
    worst = worst.max(deviation("d(state)", &d_state.parts(), &fixture.d_state.concat(), tolerance));
    let mut streamed = initial;
    for (x, y) in xs.iter().zip(y.iter()) {
        assert_eq!(&layer.step(x, &mut streamed), y);
    }
    worst
}

#[test]
fn rnn_matches_pytorch() {
    let f64_worst = compare::<Rnn<U3, U4, f64>, f64>(&RNN, 1e-12);
    let f32_worst = compare::<Rnn<U3, U4>, f32>(&RNN, 1e-5);
    eprintln!("nn.RNN: max deviation {f64_worst:.1e} (f64), {f32_worst:.1e} (f32)");
}

#[test]
fn lstm_matches_pytorch() {
    let f64_worst = compare::<Lstm<U3, U4, f64>, f64>(&LSTM, 1e-12);
    let f32_worst = compare::<Lstm<U3, U4>, f32>(&LSTM, 1e-5);
    eprintln!("nn.LSTM: max deviation {f64_worst:.1e} (f64), {f32_worst:.1e} (f32)");
}

#[test]
fn gru_matches_pytorch() {
    let f64_worst = compare::<Gru<U3, U4, f64>, f64>(&GRU, 1e-12);
    let f32_worst = compare::<Gru<U3, U4>, f32>(&GRU, 1e-5);
    eprintln!("nn.GRU: max deviation {f64_worst:.1e} (f64), {f32_worst:.1e} (f32)");
}

/// The three cells stacked into a classifier.
type Stack = net![Gru<U3, U4, f64>, Lstm<U4, U3, f64>, Rnn<U3, U2, f64>, LastStep, Dense<U2, U2, f64>];

/// A randomized [`Stack`], a sequence of four steps for it, and the rng.
fn random_stack(seed: u64) -> (Stack, Matrix<f64, U4, U3>, Xoshiro256PlusPlus) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut net = Stack::default();
    randomize(&mut net, &mut rng);
    let xs = matrix([[0.5, -0.3, 0.8], [-1.0, 0.2, 0.1], [0.4, 0.9, -0.6], [0.0, -0.7, 0.3]]);
    (net, xs, rng)
}

#[test]
fn stacked_recurrent_layers_pass_the_gradient_check() {
    let (mut net, xs, mut rng) = random_stack(21);
    let report = check_gradients(&mut net, &xs, &mut rng);
    assert!(report.max_rel_error < 1e-6, "{report:?}");
    assert_eq!(report.inputs_checked, 12);
    let count = 3 * 4 * (3 + 4 + 2) + 4 * 3 * (4 + 3 + 2) + 2 * (3 + 2 + 2) + (2 * 2 + 2);
    assert_eq!(report.params_checked, count);
}

#[test]
fn a_classifier_reads_naturally() {
    type Classifier = net![Lstm<U8, U32>, LastStep, Dense<U32, U10>];
    let mut net = Classifier::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(4));
    let mut xs = Matrix::<f32, U16, U8>::default();
    xs[3][2] = 1.0;
    let scores = net.forward(&xs);
    let lstm: &Lstm<U8, U32> = net.layer::<U0>();
    let mut state = LstmState::default();
    let h = xs.iter().map(|x| lstm.step(x, &mut state)).last().unwrap();
    assert_eq!(net.layer::<U2>().forward(&h), scores);
    assert_eq!(<Classifier as Params<f32>>::COUNT, 4 * 32 * (8 + 32 + 2) + 32 * 10 + 10);
}

#[test]
fn skipping_dx_through_a_stack_keeps_the_gradients() {
    let (net, xs, mut rng) = random_stack(22);
    let mut cache = Default::default();
    net.forward_train(&xs, &mut cache, &mut NoRng);
    let dy = vector([0.7, -1.1]);
    let mut with_dx = <Stack as Params<f64>>::Grads::default();
    randomize(&mut with_dx, &mut rng); // gradients accumulate
    let mut without = with_dx.clone();
    net.backward(&xs, &mut cache, &dy, &mut with_dx);
    net.backward_block(1, [&xs], [&mut cache], [&dy], &mut without, None);
    assert_eq!(flat_params(&with_dx), flat_params(&without));
}

/// Which of three features was on at the first step, read after five steps
/// of noise: the class is only in the recurrent state's memory.
type Remember = Matrix<f32, U6, U3>;

fn remember_samples(n: usize, rng: &mut impl rand::Rng) -> Vec<(Remember, usize)> {
    use rand::RngExt;
    (0..n)
        .map(|i| {
            let class = i % 3;
            let mut xs = Remember::default();
            xs[0][class] = 1.0;
            xs.iter_mut().skip(1).flatten().for_each(|v| *v = rng.random_range(-0.5..0.5));
            (xs, class)
        })
        .collect()
}

/// Trains `M` through the [`Trainer`] on [`remember_samples`] and returns
/// its held-out metrics before and after.
fn learn_to_remember<M>(seed: u64) -> (Metrics, Metrics)
where
    M: Train<Remember, Output = Vector<f32, U3>> + Initialize + Default,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (train, test) = (remember_samples(120, &mut rng), remember_samples(60, &mut rng));
    let mut model = M::default();
    model.init(&mut rng);
    let before = evaluate(&model, &SoftmaxCrossEntropy, &test).unwrap();
    let mut trainer = Trainer::new(Adam::new(0.02), Config { batch_size: 8, ..Config::default() });
    let fit =
        trainer.fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).validate_on(&test).epochs(30).run().unwrap();
    (before, fit.last.val.unwrap())
}

#[test]
fn recurrent_classifiers_learn_to_remember_through_the_trainer() {
    let runs = [
        ("gru", learn_to_remember::<net![Gru<U3, U8>, LastStep, Dense<U8, U3>]>(23)),
        ("lstm", learn_to_remember::<net![Lstm<U3, U8>, LastStep, Dense<U8, U3>]>(23)),
        ("rnn", learn_to_remember::<net![Rnn<U3, U8>, LastStep, Dense<U8, U3>]>(23)),
    ];
    for (name, (before, after)) in runs {
        // Chance is 1/3 and a loss of ln 3 ≈ 1.1.
        assert!(after.accuracy >= Some(0.95) && after.loss < 0.1, "{name}: before {before:?}, after {after:?}");
    }
}
