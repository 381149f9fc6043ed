//! The training loop on real and synthetic data.
#![cfg(feature = "std")]

use core::ops::ControlFlow;

use typenet::data::{Scaler, load_csv, stratified_split};
use typenet::prelude::*;
use typenet::train::{Position, StepResult, on_epoch, penalty};

type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];

fn xor_samples() -> [(Vector<f32, U2>, Vector<f32, U1>); 4] {
    [
        (vector([0.0, 0.0]), vector([0.0])),
        (vector([0.0, 1.0]), vector([1.0])),
        (vector([1.0, 0.0]), vector([1.0])),
        (vector([1.0, 1.0]), vector([0.0])),
    ]
}

#[test]
fn xor_is_learned_for_ten_seeds() {
    for seed in 0..10 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut model = Xor::default();
        model.init(&mut rng);
        let data = xor_samples();
        let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
        trainer.fit(&mut model, &Bce, &data, &mut rng).epochs(2000).run().unwrap();
        let metrics = evaluate(&model, &Bce, &data).unwrap();
        assert_eq!(metrics.accuracy, Some(1.0), "seed {seed}: {metrics:?}");
        assert!(metrics.loss < 0.05, "seed {seed}: {metrics:?}");
    }
}

type Iris = net![Dense<U4, U16>, Relu, Dense<U16, U3>];
type IrisSample = (Vector<f32, U4>, usize);

fn iris() -> Vec<IrisSample> {
    load_csv::<U4, f32>(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"), 3).unwrap()
}

/// Trains on iris (60/20/20 stratified, standardised on the training part);
/// returns the model and its test accuracy.
fn train_iris<M>(seed: u64, mut model: M, epochs: usize) -> (M, f32)
where
    M: Train<Vector<f32, U4>, Output = Vector<f32, U3>> + Initialize,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut data = iris();
    let split = stratified_split::<_, U3, _>(&mut data, 0.6, 0.2, &mut rng).unwrap();
    let scaler = Scaler::standardize(split.train);
    for part in [&mut *split.train, &mut *split.val, &mut *split.test] {
        scaler.apply(part);
    }
    model.init(&mut rng);
    let mut trainer = Trainer::new(Adam::new(0.01), Config { batch_size: 8, ..Config::default() });
    let fit = trainer
        .fit(&mut model, &SoftmaxCrossEntropy, split.train, &mut rng)
        .validate_on(split.val)
        .epochs(epochs)
        .run()
        .unwrap();
    assert_eq!(fit.epochs, epochs);
    assert!(fit.last.val.unwrap().accuracy > Some(0.85), "{fit:?}");
    let test = evaluate(&model, &SoftmaxCrossEntropy, split.test).unwrap();
    (model, test.accuracy.expect("SoftmaxCrossEntropy classifies"))
}

#[test]
fn iris_reaches_93_percent_on_the_test_part() {
    let (_, accuracy) = train_iris(7, Iris::default(), 150);
    assert!(accuracy >= 0.93, "test accuracy {accuracy}");
}

#[test]
fn iris_trains_with_dropout() {
    type WithDropout = net![Dense<U4, U32>, Relu, Dropout, Dense<U32, U3>];
    let model: WithDropout = layers![Dense::default(), Relu, Dropout::new(0.2), Dense::default()];
    let (_, accuracy) = train_iris(7, model, 150);
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");
}

fn bits<P: Params<f32>>(model: &P) -> Vec<u32> {
    let mut out = Vec::new();
    model.visit(&mut |t| out.extend(t.iter().map(|v| v.to_bits())));
    out
}

#[test]
fn the_same_seed_gives_the_same_bits() {
    let (a, _) = train_iris(3, Iris::default(), 20);
    let (b, _) = train_iris(3, Iris::default(), 20);
    let (c, _) = train_iris(4, Iris::default(), 20);
    assert_eq!(bits(&a), bits(&b));
    assert_ne!(bits(&a), bits(&c));
}

#[test]
fn early_stopping_ends_the_run() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut model = Xor::default();
    model.init(&mut rng);
    let data = xor_samples();
    let mut trainer = Trainer::new(Sgd::new(0.5), Config { batch_size: 1, ..Config::default() });
    let mut seen = Vec::new();
    let fit = trainer
        .fit(&mut model, &Mse, &data, &mut rng)
        .validate_on(&xor_samples())
        .epochs(100)
        .monitor(on_epoch(|report| {
            seen.push(report.epoch);
            if report.epoch == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        }))
        .run()
        .unwrap();
    assert_eq!(seen, [1, 2, 3]);
    assert_eq!((fit.epochs, fit.stopped_early), (3, true));
    assert!(fit.last.val.is_some() && fit.last.lr == 0.5);
}

#[test]
fn bad_input_gives_typed_errors() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut model = Iris::default();
    model.init(&mut rng);
    let before = bits(&model);
    let go = |trainer: &mut Trainer<Iris, Vector<f32, U4>, Sgd>, model: &mut Iris, data: &mut [IrisSample]| {
        trainer.fit(model, &SoftmaxCrossEntropy, data, &mut Xoshiro256PlusPlus::seed_from_u64(0)).epochs(1).run()
    };

    let mut zero_batch = Trainer::new(Sgd::new(0.1), Config { batch_size: 0, ..Config::default() });
    assert_eq!(go(&mut zero_batch, &mut model, &mut iris()).unwrap_err(), TrainError::ZeroBatchSize);

    let mut trainer = Trainer::new(Sgd::new(0.1), Config::default());
    assert_eq!(go(&mut trainer, &mut model, &mut []).unwrap_err(), TrainError::EmptyData);

    let mut bad = iris();
    bad[17].1 = 5;
    let err = go(&mut trainer, &mut model, &mut bad).unwrap_err();
    assert_eq!(
        err,
        TrainError::BadTarget {
            validation: false,
            sample: 17,
            error: typenet::loss::TargetError::ClassOutOfRange { class: 5, classes: 3 }
        }
    );
    assert_eq!(err.to_string(), "training sample 17: class 5 is out of range for 3 classes");
    assert_eq!(bits(&model), before, "refused runs leave the model untouched");
}

#[test]
fn a_non_finite_step_is_refused_and_the_parameters_stay_finite() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut model = Iris::default();
    model.init(&mut rng);
    let mut data = iris();
    data[40].0[2] = f32::INFINITY; // makes the forward pass non-finite
    let mut trainer = Trainer::new(Sgd::new(0.01), Config { batch_size: 10, shuffle: false, ..Config::default() });
    let err = trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut rng).epochs(5).run().unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFiniteLoss { at: Position::Batch { epoch: 1, batch: 4 }, sample: 40 }
                | TrainError::NonFiniteGradient { at: Position::Batch { epoch: 1, batch: 4 } }
        ),
        "{err:?}"
    );
    assert!(bits(&model).iter().all(|&b| f32::from_bits(b).is_finite()));

    // A step that would blow up is refused whole: the model is as before it.
    let mut diverging = Trainer::new(Sgd::new(1e38), Config { batch_size: 150, shuffle: false, ..Config::default() });
    let mut clean = iris();
    let mut steps = 0;
    let err = loop {
        let before = bits(&model);
        match diverging.step(&mut model, &SoftmaxCrossEntropy, &clean, &mut rng) {
            Ok(StepResult { .. }) => steps += 1,
            Err(e) => {
                assert_eq!(bits(&model), before);
                break e;
            }
        }
        assert!(steps < 20, "the run never diverged");
    };
    assert!(matches!(
        err,
        TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteGradient { .. } | TrainError::NonFiniteUpdate { .. }
    ));
    assert!(bits(&model).iter().all(|&b| f32::from_bits(b).is_finite()));
    clean.clear();
}

/// The trainer's gradients, penalties included, against finite differences
/// of the reported loss.
#[test]
fn penalties_are_in_the_loss_and_its_gradient() {
    type Small = net![Dense<U3, U2, f64>, Tanh];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let mut model = Small::default();
    typenet::check::randomize(&mut model, &mut rng);
    let sample = [(vector([0.5, -1.5, 2.0]), vector([0.2, -0.7]))];
    let (l1, l2) = (0.03, 0.2);
    let config = Config { batch_size: 1, l1, l2, ..Config::default() };
    let mut trainer: Trainer<Small, _, Sgd<f64>> = Trainer::new(Sgd::new(0.0), config);
    let step = trainer.step(&mut model, &Mse, &sample, &mut rng).unwrap();

    let total = |m: &Small| Mse.loss(&m.forward(&sample[0].0), &sample[0].1) + penalty(m, l1, l2);
    assert!((step.loss - total(&model)).abs() < 1e-15);

    let mut analytic = Vec::new();
    trainer.grads().visit(&mut |t| analytic.extend_from_slice(t));
    for (k, &a) in analytic.iter().enumerate() {
        let nudge = |h: f64| {
            let mut m = model.clone();
            let mut i = 0;
            m.visit_mut(&mut |t| {
                for v in t {
                    if i == k {
                        *v += h;
                    }
                    i += 1;
                }
            });
            total(&m)
        };
        let numeric = (nudge(1e-6) - nudge(-1e-6)) / 2e-6;
        let error = (a - numeric).abs() / a.abs().max(numeric.abs()).max(1e-2);
        assert!(error < 1e-6, "param {k}: {a} vs {numeric}");
    }
}

/// MSE on a sample's first input as the target, recording the order in
/// which samples reach the cost (each target is the sample's index).
struct Recording(std::cell::RefCell<Vec<usize>>);

impl Loss<Vector<f32, U1>, usize> for Recording {
    fn loss(&self, output: &Vector<f32, U1>, _: &usize) -> f32 {
        output[0] * output[0]
    }
    fn loss_grad(&self, output: &Vector<f32, U1>, target: &usize, grad: &mut Vector<f32, U1>) -> f32 {
        self.0.borrow_mut().push(*target);
        grad[0] = 2.0 * output[0];
        output[0] * output[0]
    }
    const CLASSIFIES: bool = false;

    fn is_correct(&self, _: &Vector<f32, U1>, _: &usize) -> bool {
        true
    }
}

#[test]
fn each_epoch_visits_every_sample_once_in_a_new_order() {
    let data: Vec<(Vector<f32, U1>, usize)> = (0..103).map(|i| (vector([i as f32 / 103.0]), i)).collect();
    let before = data.clone();
    let mut model = <net![Dense<U1, U1>]>::default();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let orders = |shuffle: bool, rng: &mut Xoshiro256PlusPlus, model: &mut net![Dense<U1, U1>]| {
        let cost = Recording(Default::default());
        let mut trainer = Trainer::new(Sgd::new(0.01), Config { batch_size: 10, shuffle, ..Config::default() });
        let fit = trainer.fit(model, &cost, &data, rng).epochs(3).run().unwrap();
        assert_eq!(fit.epochs, 3);
        let seen = cost.0.into_inner();
        assert_eq!(seen.len(), 3 * data.len());
        seen.chunks(data.len()).map(<[usize]>::to_vec).collect::<Vec<_>>()
    };
    let shuffled = orders(true, &mut rng, &mut model);
    for epoch in &shuffled {
        let mut sorted = epoch.clone();
        sorted.sort_unstable();
        assert!(sorted.iter().copied().eq(0..data.len()), "each sample once per epoch");
        assert_ne!(*epoch, sorted, "the order is shuffled");
    }
    assert_ne!(shuffled[0], shuffled[1], "a new order every epoch");
    assert_eq!(data, before, "the data is not moved");
    for epoch in orders(false, &mut rng, &mut model) {
        assert!(epoch.iter().copied().eq(0..data.len()), "without shuffle, the order given");
    }
}
