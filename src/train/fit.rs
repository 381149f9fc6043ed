//! [`Trainer::fit`]'s builder, [`Fit`], and [`EarlyStopping`]: what to
//! train on is positional, every option is a named method with a default.

use rand::Rng;

use super::trainer::check_data;
use super::{EpochReport, FitReport, Monitor, Position, TrainError, Trainer, evaluate};
use crate::layer::{Params, Train};
use crate::loss::Loss;
use crate::optim::{Optimizer, Range};
use crate::scalar::Scalar;
use crate::shape::{ScalarOf, Tensor};

/// A training run being set up: [`Trainer::fit`] takes what every run needs
/// (the model, the cost, the training set, the `Rng`), the methods below
/// name the options, and [`run`](Fit::run) trains. Nothing allocates: the
/// builder holds references, and the one copy early stopping keeps lives in
/// a slot the caller gives.
///
/// | option | default |
/// | --- | --- |
/// | [`epochs(n)`](Fit::epochs) | 1 (as Keras' `fit`) |
/// | [`validate_on(&val)`](Fit::validate_on) | no validation set: [`EpochReport::val`] is `None` |
/// | [`monitor(m)`](Fit::monitor) | none (`()`): no output, never stops |
/// | [`early_stopping(stop)`](Fit::early_stopping) | none: every epoch runs, the model is the last epoch's |
///
/// ```
/// use core::ops::ControlFlow;
/// use typenet::prelude::*;
/// use typenet::train::{EarlyStopping, Metric, on_epoch};
///
/// type Net = net![Dense<U2, U8>, Tanh, Dense<U8, U1>, Sigmoid];
/// let data = [
///     (vector([0.0f32, 0.0]), vector([0.0])),
///     (vector([0.0, 1.0]), vector([1.0])),
///     (vector([1.0, 0.0]), vector([1.0])),
///     (vector([1.0, 1.0]), vector([0.0])),
/// ];
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
/// let mut model = Net::default();
/// model.init(&mut rng);
/// let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
/// let mut lines = 0;
/// let mut best = Net::default(); // the early stopping's copy: here on the stack
/// let report = trainer
///     .fit(&mut model, &Bce, &data, &mut rng)
///     .validate_on(&data)
///     .epochs(500)
///     .monitor(on_epoch(|_| {
///         lines += 1;
///         ControlFlow::Continue(())
///     }))
///     .early_stopping(EarlyStopping::new(&mut best).on(Metric::ValLoss).patience(20))
///     .run()?;
/// let best_epoch = report.best.unwrap();
/// assert_eq!(lines, report.epochs);
/// assert_eq!(evaluate(&model, &Bce, &data).unwrap(), best_epoch.val.unwrap()); // the best epoch's model
/// # Ok::<(), typenet::train::TrainError>(())
/// ```
#[must_use = "a `Fit` trains nothing until `.run()`"]
pub struct Fit<'a, M, X, O, Y, L, R, Mon, const B: usize>
where
    M: Train<X>,
    X: Tensor,
    O: Optimizer<ScalarOf<X>>,
    R: ?Sized,
{
    trainer: &'a mut Trainer<M, X, O, B>,
    model: &'a mut M,
    loss: &'a L,
    train: &'a [(X, Y)],
    rng: &'a mut R,
    val: Option<&'a [(X, Y)]>,
    epochs: usize,
    monitor: Mon,
    early_stopping: Option<EarlyStopping<'a, M, ScalarOf<X>>>,
}

impl<'a, M, X, O, Y, L, R, const B: usize> Fit<'a, M, X, O, Y, L, R, (), B>
where
    M: Train<X>,
    X: Tensor,
    O: Optimizer<ScalarOf<X>>,
    L: Loss<M::Output, Y>,
    R: Rng + ?Sized,
{
    pub(super) fn new(
        trainer: &'a mut Trainer<M, X, O, B>,
        model: &'a mut M,
        loss: &'a L,
        train: &'a [(X, Y)],
        rng: &'a mut R,
    ) -> Self {
        Fit { trainer, model, loss, train, rng, val: None, epochs: 1, monitor: (), early_stopping: None }
    }
}

impl<'a, M, X, O, Y, L, R, Mon, const B: usize> Fit<'a, M, X, O, Y, L, R, Mon, B>
where
    M: Train<X>,
    X: Tensor,
    O: Optimizer<ScalarOf<X>>,
    L: Loss<M::Output, Y>,
    R: Rng + ?Sized,
    Mon: Monitor<ScalarOf<X>>,
{
    /// Trains for up to `epochs` epochs (default 1, as Keras' `fit`); the
    /// monitor or the early stopping may end the run sooner. 0 trains
    /// nothing (the settings and data are still checked).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Evaluates the model on `val` after each epoch ([`evaluate`], the
    /// inference forward: no dropout, batch norm's running statistics), for
    /// [`EpochReport::val`] and early stopping. Its targets are checked
    /// before the first step; an empty `val` is an error,
    /// [`TrainError::EmptyValidationSet`] (leave this out for no validation
    /// set).
    pub fn validate_on(mut self, val: &'a [(X, Y)]) -> Self {
        self.val = Some(val);
        self
    }

    /// Hands each batch's and epoch's report to `monitor`, which can stop
    /// training by returning `ControlFlow::Break(())` from
    /// [`on_epoch`](Monitor::on_epoch). Pass `&mut monitor` to keep it
    /// (a log, a history) after the run; [`on_epoch`](super::on_epoch)
    /// makes one of a closure.
    pub fn monitor<N: Monitor<ScalarOf<X>>>(self, monitor: N) -> Fit<'a, M, X, O, Y, L, R, N, B> {
        let Fit { trainer, model, loss, train, rng, val, epochs, monitor: _, early_stopping } = self;
        Fit { trainer, model, loss, train, rng, val, epochs, monitor, early_stopping }
    }

    /// Stops when the watched metric has not improved for `patience`
    /// epochs and gives the model back the parameters and buffers of its
    /// best epoch ([`EarlyStopping`] says how).
    pub fn early_stopping(mut self, stop: EarlyStopping<'a, M, ScalarOf<X>>) -> Self {
        self.early_stopping = Some(stop);
        self
    }

    /// Trains: checks the settings ([`Config::validate`](super::Config::validate),
    /// the optimiser's), every target of the training and validation sets
    /// and the early stopping's metric, then runs the epochs, each at the
    /// optimiser's rate for it ([`Optimizer::rate_at`], counted from epoch 0
    /// at every `run`, as Keras' `initial_epoch = 0`; the optimiser's state
    /// carries over from earlier runs, [`Trainer::reset`] forgets it).
    ///
    /// Each epoch visits the training set in a new random order (when
    /// `config.shuffle`) drawn from the `Rng`, which also drives dropout:
    /// the same seed gives the same run, bit for bit. The data is only
    /// read, so it can be shared or live in flash.
    ///
    /// After a [`TrainError`] the model is that of the last accepted step
    /// (not the best epoch's: the early stopping's slot holds that one).
    pub fn run(self) -> Result<FitReport<ScalarOf<X>>, TrainError> {
        let Fit { trainer, model, loss, train, rng, val, epochs, mut monitor, mut early_stopping } = self;
        trainer.check_settings(Position::Start)?;
        check_data(loss, train, false)?;
        if let Some(val) = val {
            if val.is_empty() {
                return Err(TrainError::EmptyValidationSet);
            }
            check_data(loss, val, true)?;
        }
        let mut watch = match &early_stopping {
            Some(stop) => Some(stop.check::<L, M::Output, Y>(val.is_some())?),
            None => None,
        };
        trainer.set_epoch(0);
        let mut report = FitReport::default();
        for epoch in 1..=epochs {
            let lr = trainer.learning_rate();
            let train_metrics = trainer.next_epoch(model, loss, train, rng, &mut monitor)?;
            let val_metrics = val.and_then(|val| evaluate(&*model, loss, val));
            report.last = EpochReport { epoch, train: train_metrics, val: val_metrics, lr };
            report.epochs = epoch;
            let patience_ran_out = match (&mut early_stopping, &mut watch) {
                (Some(stop), Some(watch)) => stop.observe(watch, &*model, &report.last),
                _ => false,
            };
            if monitor.on_epoch(&report.last).is_break() || patience_ran_out {
                report.stopped_early = epoch < epochs;
                break;
            }
        }
        if let (Some(stop), Some(watch)) = (early_stopping, watch) {
            report.best = watch.best;
            if report.best.is_some() {
                copy_state(stop.best, model);
            }
        }
        Ok(report)
    }
}

/// What [`EarlyStopping`] watches: a loss (lower is better) or an accuracy
/// (higher is better), of the validation set or of the training epoch.
/// Named as Keras names them in its logs ([`name`](Metric::name)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Metric {
    /// The validation loss, `val_loss` (the default, Keras' too): needs a
    /// validation set ([`Fit::validate_on`]).
    #[default]
    ValLoss,
    /// The validation accuracy, `val_accuracy`: needs a validation set and
    /// a cost that classifies ([`Loss::CLASSIFIES`]).
    ValAccuracy,
    /// The training loss averaged over the epoch as it trained, `loss`
    /// (penalties included): for a run without a validation set.
    TrainLoss,
    /// The training accuracy over the epoch, `accuracy`: needs a cost that
    /// classifies.
    TrainAccuracy,
}

impl Metric {
    /// Keras' name for it: `"val_loss"`, `"val_accuracy"`, `"loss"`,
    /// `"accuracy"`.
    pub const fn name(self) -> &'static str {
        match self {
            Metric::ValLoss => "val_loss",
            Metric::ValAccuracy => "val_accuracy",
            Metric::TrainLoss => "loss",
            Metric::TrainAccuracy => "accuracy",
        }
    }

    /// Whether a larger value is better (an accuracy), else a smaller one
    /// (a loss).
    pub const fn higher_is_better(self) -> bool {
        matches!(self, Metric::ValAccuracy | Metric::TrainAccuracy)
    }

    /// Its value in `report`, if the run measured it.
    ///
    /// ```
    /// use typenet::train::{EpochReport, Metric, Metrics};
    /// let report = EpochReport { epoch: 1, train: Metrics { loss: 0.5, accuracy: None }, val: None, lr: 0.1 };
    /// assert_eq!(Metric::TrainLoss.of(&report), Some(0.5));
    /// assert_eq!(Metric::ValLoss.of(&report), None);
    /// ```
    pub fn of<T: Copy>(self, report: &EpochReport<T>) -> Option<T> {
        match self {
            Metric::ValLoss => report.val.map(|m| m.loss),
            Metric::ValAccuracy => report.val.and_then(|m| m.accuracy),
            Metric::TrainLoss => Some(report.train.loss),
            Metric::TrainAccuracy => report.train.accuracy,
        }
    }
}

/// Early stopping that gives back the best epoch's model, with Keras 3's
/// `EarlyStopping(monitor, min_delta, patience, restore_best_weights=True)`
/// semantics and without an allocator.
///
/// After each epoch the watched [`Metric`] is compared with the best value
/// so far: it *improves* when it is better by more than
/// [`min_delta`](Self::min_delta) (a loss below `best − min_delta`, an
/// accuracy above `best + min_delta`; a `NaN` never improves). On an
/// improvement the model's parameters and buffers (batch norm's running
/// statistics) are copied into the slot and the count of epochs without
/// improvement goes back to 0; otherwise it grows by one, and when it
/// reaches [`patience`](Self::patience) (at least 1; the first epoch
/// never stops) training stops. So with the best epoch `e`, the run
/// stops after epoch `e + patience`, unless the epochs run out first.
/// However the run ends (early, at its last epoch, or stopped by the
/// monitor), the model gets the slot's copy back, and
/// [`FitReport::best`] is the best epoch's report. After a
/// [`TrainError`], nothing is copied back.
///
/// The slot is a `&mut M` the caller gives, of the model's type and
/// size: on the stack (`let mut best = Net::default()`), in a `static`,
/// or in a `Box` ([`default_box`](crate::memory::default_box)) for a model
/// too large for the stack. Its content before the run does not matter;
/// after it, it holds the best epoch's parameters and buffers. The copy
/// is [`Params::visit_state`]'s tensors, in place: no allocation, and
/// nothing of the model passes through the stack.
///
/// Defaults, Keras' own: [`Metric::ValLoss`], `patience` 0 (which
/// behaves as 1), `min_delta` 0. The metric must be one the run measures,
/// else [`run`](Fit::run) fails before training with
/// [`TrainError::MetricUnavailable`]: without a validation set watch
/// [`Metric::TrainLoss`] (it keeps the model of the lowest training loss,
/// which guards against divergence, not overfitting), and with a
/// regression cost watch a loss.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::train::{EarlyStopping, Metric, TrainError};
///
/// type Line = net![Dense<U1, U1>];
/// let data = [(vector([1.0f32]), vector([2.0f32])), (vector([2.0]), vector([4.0]))];
/// let mut trainer = Trainer::new(Sgd::new(0.05), Config { shuffle: false, ..Config::default() });
/// let (mut model, mut best) = (Line::default(), Line::default());
///
/// // No validation set, so the default metric (the validation loss) is not there: an error.
/// let err = trainer
///     .fit(&mut model, &Mse, &data, &mut NoRng)
///     .epochs(10)
///     .early_stopping(EarlyStopping::new(&mut best))
///     .run()
///     .unwrap_err();
/// assert_eq!(err, TrainError::MetricUnavailable { metric: Metric::ValLoss, no_validation_set: true });
///
/// // Mse does not classify: no accuracy to watch.
/// let err = trainer
///     .fit(&mut model, &Mse, &data, &mut NoRng)
///     .validate_on(&data)
///     .early_stopping(EarlyStopping::new(&mut best).on(Metric::ValAccuracy))
///     .run()
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "early stopping watches val_accuracy, and the cost does not classify (a regression cost has no \
///      accuracy): watch a loss"
/// );
///
/// // The training loss.
/// let stop = EarlyStopping::new(&mut best).on(Metric::TrainLoss).patience(5).min_delta(1e-4);
/// let report = trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(200).early_stopping(stop).run()?;
/// assert!(report.best.unwrap().train.loss < 0.01);
/// # Ok::<(), TrainError>(())
/// ```
pub struct EarlyStopping<'a, M, T = f32> {
    /// The metric watched.
    pub metric: Metric,
    /// Epochs without improvement before training stops (0 behaves as 1).
    pub patience: usize,
    /// The least change that counts as an improvement, finite and at least 0.
    pub min_delta: T,
    best: &'a mut M,
}

impl<'a, M, T: Scalar> EarlyStopping<'a, M, T> {
    /// Early stopping on the validation loss with patience 0 and
    /// `min_delta` 0 (Keras' defaults), keeping the best model in `best`.
    pub fn new(best: &'a mut M) -> Self {
        EarlyStopping { metric: Metric::ValLoss, patience: 0, min_delta: T::zero(), best }
    }

    /// Watches `metric`.
    pub fn on(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }

    /// Stops after `patience` epochs without improvement.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Counts only an improvement by more than `min_delta`.
    pub fn min_delta(mut self, min_delta: T) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// The settings checked before the run: `min_delta`, and the metric
    /// measured by a run with a cost `L` and (or without) a validation set.
    fn check<L: Loss<Y, Target>, Y: Tensor, Target>(&self, validation: bool) -> Result<Watch<T>, TrainError> {
        Range::NonNegative
            .check("EarlyStopping", "min_delta", self.min_delta)
            .map_err(|error| TrainError::Hyperparameter { at: Position::Start, error })?;
        let metric = self.metric;
        if matches!(metric, Metric::ValLoss | Metric::ValAccuracy) && !validation {
            return Err(TrainError::MetricUnavailable { metric, no_validation_set: true });
        }
        if metric.higher_is_better() && !L::CLASSIFIES {
            return Err(TrainError::MetricUnavailable { metric, no_validation_set: false });
        }
        let value = if metric.higher_is_better() { T::neg_infinity() } else { T::infinity() };
        Ok(Watch { value, best: None, wait: 0 })
    }

    /// Takes in the epoch `report` of `model`: copies the model on an
    /// improvement; whether to stop.
    fn observe(&mut self, watch: &mut Watch<T>, model: &M, report: &EpochReport<T>) -> bool
    where
        M: Params<T>,
    {
        let Some(current) = self.metric.of(report) else { return false };
        watch.wait += 1;
        let improved = if self.metric.higher_is_better() {
            current - self.min_delta > watch.value
        } else {
            current + self.min_delta < watch.value
        };
        if improved {
            watch.value = current;
            watch.best = Some(*report);
            watch.wait = 0;
            copy_state(model, self.best);
            return false;
        }
        watch.wait >= self.patience && report.epoch > 1
    }
}

/// The early stopping's record during a run.
struct Watch<T> {
    /// The best value so far (±∞ before the first).
    value: T,
    /// The best epoch's report.
    best: Option<EpochReport<T>>,
    /// Epochs since the last improvement.
    wait: usize,
}

/// Copies `from`'s parameters and buffers into `to`, tensor by tensor
/// ([`Params::visit_state`]), in place.
fn copy_state<T: Copy, P: Params<T>>(from: &P, to: &mut P) {
    // The destination's tensors in order; for each, the source's tensor at
    // the same flat offset (the same type: the tensors match one to one).
    let mut start = 0;
    to.visit_state_mut(&mut |dst: &mut [T]| {
        let end = start + dst.len();
        let mut offset = 0;
        from.visit_state(&mut |src: &[T]| {
            let (lo, hi) = (offset.max(start), (offset + src.len()).min(end));
            if lo < hi {
                dst[lo - start..hi - start].copy_from_slice(&src[lo - offset..hi - offset]);
            }
            offset += src.len();
        });
        start = end;
    });
}
