//! What training reports, and to whom: the metrics of a set, what a step,
//! a batch, an epoch and a whole fit did, the [`Monitor`] that hears of
//! each batch and epoch, and [`evaluate`], which measures a model on a set.

use core::fmt;
use core::marker::PhantomData;
use core::ops::ControlFlow;

#[cfg(doc)]
use super::Trainer;
use crate::loss::Loss;
use crate::scalar::Scalar;
use crate::shape::{ScalarOf, Tensor};
use num_traits::Zero;

/// Loss and, for a cost that classifies, accuracy over a set of samples,
/// in the model's scalar.
///
/// ```
/// use typenet::prelude::*;
/// let mut model = <net![Dense<U1, U1>]>::default();
/// model.0.weight[0][0] = 2.0;
/// let data = [(vector([1.0f32]), vector([1.0f32]))];
/// // A regression cost: a loss, no accuracy.
/// assert_eq!(evaluate(&model, &Mse, &data), Some(Metrics { loss: 1.0, accuracy: None }));
/// // A cost that classifies: both (2.0 is on 1.0's side of the threshold).
/// assert_eq!(evaluate(&model, &BceWithLogits, &data).unwrap().accuracy, Some(1.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Metrics<T = f32> {
    /// The mean loss per sample (plus the penalties, in training).
    pub loss: T,
    /// The fraction of samples predicted correctly, in [0, 1], when the
    /// cost classifies ([`Loss::CLASSIFIES`]); `None` for a regression
    /// cost ([`Mse`](crate::loss::Mse), [`Huber`](crate::loss::Huber)),
    /// where it would mean nothing.
    pub accuracy: Option<T>,
}

impl<T: Scalar> Metrics<T> {
    /// The mean of `loss_sum` over `samples` and the fraction `correct`.
    #[inline]
    fn of(loss_sum: T, correct: Option<usize>, samples: usize) -> Self {
        let n = T::from_usize(samples);
        Metrics { loss: loss_sum / n, accuracy: correct.map(|c| T::from_usize(c) / n) }
    }
}

/// Loss and (for a cost that [classifies](Loss::CLASSIFIES)) accuracy of
/// `model` over `data` (inference forward, no cache);
/// `None` if `data` is empty. Samples whose loss is not finite count in the
/// mean as they are, so a diverged model shows `NaN` rather than hiding it.
pub fn evaluate<M, X, Y, L>(model: &M, loss: &L, data: &[(X, Y)]) -> Option<Metrics<ScalarOf<M::Output>>>
where
    M: crate::layer::Layer<X, Output: Tensor>,
    L: Loss<M::Output, Y>,
{
    let () = <M as crate::layer::Layer<X>>::FITS; // a model that does not fit the data: the message points here
    if data.is_empty() {
        return None;
    }
    let (mut total, mut correct) = (ScalarOf::<M::Output>::zero(), 0usize);
    for (x, y) in data {
        let out = model.forward(x);
        total = total + loss.loss(&out, y);
        correct += (L::CLASSIFIES && loss.is_correct(&out, y)) as usize;
    }
    Some(Metrics::of(total, L::CLASSIFIES.then_some(correct), data.len()))
}

/// Sums of an epoch's batches, for its [`Metrics`].
pub(super) struct Tally<T> {
    loss: T,
    /// `None` for a cost that does not classify.
    correct: Option<usize>,
    samples: usize,
}

impl<T: Scalar> Tally<T> {
    /// An empty tally, counting correct samples when the cost `classifies`.
    pub(super) fn new(classifies: bool) -> Self {
        Tally { loss: T::zero(), correct: classifies.then_some(0), samples: 0 }
    }

    /// Counts a step's `samples` with its mean loss and correct count.
    pub(super) fn add(&mut self, step: &StepResult<T>, samples: usize) {
        self.loss = self.loss + step.loss * T::from_usize(samples);
        self.correct = self.correct.zip(step.correct).map(|(a, b)| a + b);
        self.samples += samples;
    }

    pub(super) fn metrics(&self) -> Metrics<T> {
        Metrics::of(self.loss, self.correct, self.samples)
    }
}

/// What one [`Trainer::step`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StepResult<T = f32> {
    /// The batch's mean loss, penalties included.
    pub loss: T,
    /// How many of the batch's samples were predicted correctly; `None`
    /// when the cost does not classify ([`Loss::CLASSIFIES`]).
    pub correct: Option<usize>,
    /// The global L2 norm of the gradients, before clipping.
    pub grad_norm: T,
}

/// What one batch of an epoch did, handed to [`Monitor::on_batch`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BatchReport<T = f32> {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The batch within the epoch, from 0.
    pub batch: usize,
    /// The number of batches in the epoch.
    pub batches: usize,
    /// The number of samples in this batch.
    pub samples: usize,
    /// The step's loss, correct count and gradient norm.
    pub step: StepResult<T>,
}

/// What one epoch did, handed to the callback of [`Trainer::fit`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EpochReport<T = f32> {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// The training set's loss and accuracy, averaged over the epoch's
    /// batches as they were trained (as Keras reports them).
    pub train: Metrics<T>,
    /// The validation set's, evaluated after the epoch; `None` without a
    /// validation set ([`Fit::validate_on`](super::Fit::validate_on)).
    pub val: Option<Metrics<T>>,
    /// The learning rate used in this epoch.
    pub lr: T,
}

impl EpochReport {
    /// The header of [`csv_row`](Self::csv_row), the same for every scalar.
    pub const CSV_HEADER: &'static str = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr";
}

impl<T: Scalar> EpochReport<T> {
    /// The report as a CSV row (empty validation fields when there is no
    /// validation set, empty accuracy fields when the cost does not
    /// classify), written to any `core::fmt::Write` without allocating.
    ///
    /// ```
    /// use typenet::train::{EpochReport, Metrics};
    /// let train = Metrics { loss: 0.5, accuracy: Some(0.75) };
    /// let report = EpochReport { epoch: 3, train, val: None, lr: 0.01 };
    /// let mut row = String::new();
    /// report.csv_row(&mut row).unwrap();
    /// assert_eq!(row, "3,0.5,0.75,,,0.01");
    ///
    /// // A regression: no accuracy.
    /// let metrics = Metrics { loss: 0.5, accuracy: None };
    /// let report = EpochReport { epoch: 3, train: metrics, val: Some(metrics), lr: 0.01 };
    /// let mut row = String::new();
    /// report.csv_row(&mut row).unwrap();
    /// assert_eq!(row, "3,0.5,,0.5,,0.01");
    /// ```
    pub fn csv_row(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{},", self.epoch)?;
        write_metrics(out, Some(self.train))?;
        write_metrics(out, self.val)?;
        write!(out, "{}", self.lr)
    }
}

/// `loss,accuracy,` with an empty field for each missing value.
fn write_metrics<T: Scalar>(out: &mut impl fmt::Write, metrics: Option<Metrics<T>>) -> fmt::Result {
    match metrics {
        Some(Metrics { loss, accuracy: Some(accuracy) }) => write!(out, "{loss},{accuracy},"),
        Some(Metrics { loss, accuracy: None }) => write!(out, "{loss},,"),
        None => out.write_str(",,"),
    }
}

/// How a [`Trainer::fit`] run ended: what [`Fit::run`](super::Fit::run)
/// returns.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FitReport<T = f32> {
    /// Epochs run.
    pub epochs: usize,
    /// The monitor or the [`EarlyStopping`](super::EarlyStopping) stopped
    /// training before the last epoch.
    pub stopped_early: bool,
    /// The last epoch's report.
    pub last: EpochReport<T>,
    /// With [`early_stopping`](super::Fit::early_stopping): the report of
    /// the best epoch, whose parameters and buffers the model was given
    /// back at the end; `None` without early stopping, or when no epoch's
    /// metric was a number (then the model is the last epoch's).
    pub best: Option<EpochReport<T>>,
}

/// Watches training: told of every batch, asked after every epoch whether
/// to go on.
///
/// `()` watches nothing and never stops; [`on_epoch`] turns a closure
/// `FnMut(&EpochReport<T>) -> ControlFlow<()>` into a monitor that ignores
/// batches; implement the trait for progress bars and logs, and pass
/// `&mut monitor` to keep it. `T` is the model's scalar, that of the
/// reports' figures.
pub trait Monitor<T = f32> {
    /// Called after each batch's step.
    fn on_batch(&mut self, report: &BatchReport<T>) {
        let _ = report;
    }

    /// Called after each epoch; `ControlFlow::Break(())` stops training.
    fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()>;
}

impl<T> Monitor<T> for () {
    fn on_epoch(&mut self, _: &EpochReport<T>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A [`Monitor`] that calls `f` after each epoch (see [`on_epoch`]).
pub struct OnEpoch<F, T = f32>(pub F, PhantomData<fn(&EpochReport<T>)>);

impl<T, F: FnMut(&EpochReport<T>) -> ControlFlow<()>> Monitor<T> for OnEpoch<F, T> {
    fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()> {
        (self.0)(report)
    }
}

/// A monitor from a closure called after each epoch: return
/// `ControlFlow::Break(())` to stop.
pub fn on_epoch<T, F: FnMut(&EpochReport<T>) -> ControlFlow<()>>(f: F) -> OnEpoch<F, T> {
    OnEpoch(f, PhantomData)
}

impl<T, M: Monitor<T> + ?Sized> Monitor<T> for &mut M {
    fn on_batch(&mut self, report: &BatchReport<T>) {
        (**self).on_batch(report);
    }
    fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()> {
        (**self).on_epoch(report)
    }
}
