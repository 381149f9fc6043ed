//! `fit`'s options: early stopping that restores the best epoch, the
//! errors for a metric the run does not measure, and the learning rate
//! taken from the optimiser alone.
#![cfg(feature = "std")]

use typenet::optim::{Optimizer, StepDecay};
use typenet::prelude::*;
use typenet::train::{EarlyStopping, FitReport, Metric, TrainError};

/// With batch norm, so the restored state includes buffers (running mean
/// and variance, the batch count).
type Net = net![Dense<U1, U8>, BatchNorm1d<U8>, Relu, Dense<U8, U1>];
type Sample = (Vector<f32, U1>, Vector<f32, U1>);

/// Trains towards `y = 2x` and validates against `y = x`: the validation
/// loss falls while the fit passes near `y = x`, then rises.
fn sets() -> (Vec<Sample>, Vec<Sample>) {
    let xs = (0..32).map(|i| i as f32 / 16.0 - 1.0);
    let train = xs.clone().map(|x| (vector([x]), vector([2.0 * x]))).collect();
    let val = xs.map(|x| (vector([x + 1.0 / 32.0]), vector([x + 1.0 / 32.0]))).collect();
    (train, val)
}

/// Every parameter and buffer, as bits.
fn state_bits(model: &Net) -> Vec<u32> {
    let mut out = Vec::new();
    model.visit_state(&mut |t| out.extend(t.iter().map(|v| v.to_bits())));
    out
}

fn trainer() -> Trainer<Net, Vector<f32, U1>, Sgd> {
    Trainer::new(Sgd::new(0.02), Config { batch_size: 8, ..Config::default() })
}

/// `epochs` epochs from seed 5, with `stop` if given.
fn run(epochs: usize, stop: Option<EarlyStopping<'_, Net>>) -> (Net, FitReport) {
    let (train, val) = sets();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let mut model = Net::default();
    model.init(&mut rng);
    let mut trainer = trainer();
    let fit = trainer.fit(&mut model, &Mse, &train, &mut rng).validate_on(&val).epochs(epochs);
    let report = match stop {
        Some(stop) => fit.early_stopping(stop).run(),
        None => fit.run(),
    };
    (model, report.unwrap())
}

#[test]
fn early_stopping_restores_the_best_epoch_bit_for_bit() {
    const PATIENCE: usize = 7;
    let mut best = Net::default();
    let (model, report) = run(500, Some(EarlyStopping::new(&mut best).patience(PATIENCE)));
    let best_epoch = report.best.expect("the validation loss is a number");

    // The validation loss fell for a while, then rose for PATIENCE epochs.
    assert!(best_epoch.epoch > 3, "{report:?}");
    assert!(report.stopped_early);
    assert_eq!(report.epochs, best_epoch.epoch + PATIENCE, "{report:?}");
    assert!(report.last.val.unwrap().loss > best_epoch.val.unwrap().loss);
    // A regression cost: no accuracy anywhere.
    assert_eq!(best_epoch.val.unwrap().accuracy, None);
    assert_eq!(best_epoch.train.accuracy, None);

    // The model is that of a run of exactly best-epoch epochs from the same
    // seed, parameters and buffers, and so is the slot.
    let (replay, replayed) = run(best_epoch.epoch, None);
    assert_eq!(replayed.last, best_epoch);
    assert_eq!(state_bits(&model), state_bits(&replay));
    assert_eq!(state_bits(&best), state_bits(&replay));
    assert_eq!(evaluate(&model, &Mse, &sets().1), best_epoch.val);

    // And not that of the last epoch run.
    let (last, _) = run(report.epochs, None);
    assert_ne!(state_bits(&model), state_bits(&last));
}

#[test]
fn min_delta_counts_only_large_improvements() {
    let (mut loose, mut strict) = (Net::default(), Net::default());
    let (_, plain) = run(500, Some(EarlyStopping::new(&mut loose).patience(3)));
    let (_, coarse) = run(500, Some(EarlyStopping::new(&mut strict).patience(3).min_delta(0.05)));
    // Small improvements late in the fall no longer count: an earlier best, an earlier stop.
    let (plain_best, coarse_best) = (plain.best.unwrap(), coarse.best.unwrap());
    assert!(coarse_best.epoch < plain_best.epoch, "{coarse_best:?} vs {plain_best:?}");
    assert_eq!(coarse.epochs, coarse_best.epoch + 3);
}

#[test]
fn a_metric_the_run_does_not_measure_is_an_error_before_training() {
    let (train, val) = sets();
    let mut model = Net::default();
    model.init(&mut Xoshiro256PlusPlus::seed_from_u64(5));
    let before = state_bits(&model);
    let mut best = Net::default();
    let (mut trainer, mut rng) = (trainer(), NoRng);
    let cases = [
        (Metric::ValLoss, false, TrainError::MetricUnavailable { metric: Metric::ValLoss, no_validation_set: true }),
        (
            Metric::ValAccuracy,
            true,
            TrainError::MetricUnavailable { metric: Metric::ValAccuracy, no_validation_set: false },
        ),
        (
            Metric::TrainAccuracy,
            true,
            TrainError::MetricUnavailable { metric: Metric::TrainAccuracy, no_validation_set: false },
        ),
    ];
    for (metric, validate, expected) in cases {
        let fit = trainer.fit(&mut model, &Mse, &train, &mut rng).epochs(3);
        let fit = if validate { fit.validate_on(&val) } else { fit };
        let err = fit.early_stopping(EarlyStopping::new(&mut best).on(metric)).run().unwrap_err();
        assert_eq!(err, expected);
    }
    assert_eq!(
        TrainError::MetricUnavailable { metric: Metric::ValLoss, no_validation_set: true }.to_string(),
        "early stopping watches val_loss, and there is no validation set: give one with `validate_on`, or watch a \
         training metric"
    );
    // A negative min_delta.
    let stop = EarlyStopping::new(&mut best).on(Metric::TrainLoss).min_delta(-1.0);
    let err = trainer.fit(&mut model, &Mse, &train, &mut NoRng).early_stopping(stop).run().unwrap_err();
    assert_eq!(err.to_string(), "EarlyStopping's min_delta is -1, it must be finite and at least 0");
    // An empty validation set, given explicitly.
    let err = trainer.fit(&mut model, &Mse, &train, &mut NoRng).validate_on(&[]).run().unwrap_err();
    assert_eq!(err, TrainError::EmptyValidationSet);
    assert_eq!(state_bits(&model), before, "nothing was trained");

    // The training loss needs no validation set.
    let stop = EarlyStopping::new(&mut best).on(Metric::TrainLoss).patience(2);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let report = trainer.fit(&mut model, &Mse, &train, &mut rng).epochs(5).early_stopping(stop).run().unwrap();
    assert_eq!(report.last.val, None);
    assert!(report.best.is_some());
}

#[test]
fn the_learning_rate_is_the_optimisers_alone() {
    // A schedule halving the rate every epoch: fit's reports and a loop of
    // train_epoch both follow it, with no rate passed anywhere.
    let sgd = Sgd::new(0.02f32).scheduled(StepDecay { every: 1, gamma: 0.5 });
    let (train, _) = sets();
    let mut model = Net::default();
    model.init(&mut Xoshiro256PlusPlus::seed_from_u64(5));
    let mut by_loop = model.clone();

    let mut trainer = Trainer::new(sgd, Config { batch_size: 8, shuffle: false, ..Config::default() });
    let mut rates = Vec::new();
    let monitor = typenet::train::on_epoch(|report: &EpochReport| {
        rates.push(report.lr);
        core::ops::ControlFlow::Continue(())
    });
    trainer.fit(&mut model, &Mse, &train, &mut NoRng).epochs(3).monitor(monitor).run().unwrap();
    assert_eq!(rates, [0.02, 0.01, 0.005]);
    assert_eq!(trainer.epoch(), 3);

    let mut by_hand = Trainer::new(sgd, Config { batch_size: 8, shuffle: false, ..Config::default() });
    for epoch in 0..3 {
        assert_eq!((by_hand.epoch(), by_hand.learning_rate()), (epoch, sgd.rate_at(epoch)));
        by_hand.train_epoch(&mut by_loop, &Mse, &train, &mut NoRng, &mut ()).unwrap();
    }
    assert_eq!(state_bits(&model), state_bits(&by_loop));
}

#[test]
fn a_diverged_regressor_reports_no_accuracy() {
    let mut model = <net![Dense<U1, U1>]>::default();
    model.0.weight[0][0] = f32::INFINITY;
    let data = [(vector([1.0f32]), vector([0.5f32]))];
    let metrics = evaluate(&model, &Mse, &data).unwrap();
    assert_eq!((metrics.loss, metrics.accuracy), (f32::INFINITY, None));
    let report = EpochReport { epoch: 1, train: metrics, val: Some(metrics), lr: 0.1 };
    let mut row = String::new();
    report.csv_row(&mut row).unwrap();
    assert_eq!(row, "1,inf,,inf,,0.1");
}
