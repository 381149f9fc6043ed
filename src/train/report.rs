//! What training reports, and to whom: the metrics of a set, what a step,
//! a batch, an epoch and a whole fit did, the [`Monitor`] that hears of
//! each batch and epoch, and [`evaluate`], which measures a model on a set.

use core::fmt;
use core::ops::ControlFlow;

#[cfg(doc)]
use super::Trainer;
use crate::loss::Loss;
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Loss and accuracy over a set of samples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Metrics {
    /// The mean loss per sample (plus the penalties, in training).
    pub loss: f64,
    /// The fraction of samples predicted correctly, in [0, 1].
    pub accuracy: f64,
}

/// Loss and accuracy of `model` over `data` (inference forward, no cache);
/// `None` if `data` is empty. Samples whose loss is not finite count in the
/// mean as they are, so a diverged model shows `NaN` rather than hiding it.
pub fn evaluate<M, X, Y, L>(model: &M, loss: &L, data: &[(X, Y)]) -> Option<Metrics>
where
    M: crate::layer::Layer<X, Output: Tensor>,
    L: Loss<M::Output, Y>,
{
    if data.is_empty() {
        return None;
    }
    let (mut total, mut correct) = (0.0, 0usize);
    for (x, y) in data {
        let out = model.forward(x);
        total += loss.loss(&out, y).to_f64();
        correct += loss.is_correct(&out, y) as usize;
    }
    Some(Metrics { loss: total / data.len() as f64, accuracy: correct as f64 / data.len() as f64 })
}

/// What one [`Trainer::step`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StepResult {
    /// The batch's mean loss, penalties included.
    pub loss: f64,
    /// How many of the batch's samples were predicted correctly.
    pub correct: usize,
    /// The global L2 norm of the gradients, before clipping.
    pub grad_norm: f64,
}

/// What one batch of an epoch did, handed to [`Monitor::on_batch`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BatchReport {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The batch within the epoch, from 0.
    pub batch: usize,
    /// The number of batches in the epoch.
    pub batches: usize,
    /// The number of samples in this batch.
    pub samples: usize,
    /// The step's loss, correct count and gradient norm.
    pub step: StepResult,
}

/// What one epoch did, handed to the callback of [`Trainer::fit`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EpochReport {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// The training set's loss and accuracy, averaged over the epoch's
    /// batches as they were trained (as Keras reports them).
    pub train: Metrics,
    /// The validation set's, evaluated after the epoch; `None` if the
    /// validation set is empty.
    pub val: Option<Metrics>,
    /// The learning rate used in this epoch.
    pub lr: f64,
}

impl EpochReport {
    /// The header of [`csv_row`](Self::csv_row).
    pub const CSV_HEADER: &'static str = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr";

    /// The report as a CSV row (empty validation fields when there is no
    /// validation set), written to any `core::fmt::Write` without allocating.
    ///
    /// ```
    /// use typenet::train::{EpochReport, Metrics};
    /// let report = EpochReport { epoch: 3, train: Metrics { loss: 0.5, accuracy: 0.75 }, val: None, lr: 0.01 };
    /// let mut row = String::new();
    /// report.csv_row(&mut row).unwrap();
    /// assert_eq!(row, "3,0.5,0.75,,,0.01");
    /// ```
    pub fn csv_row(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{},{},{},", self.epoch, self.train.loss, self.train.accuracy)?;
        match self.val {
            Some(val) => write!(out, "{},{},", val.loss, val.accuracy)?,
            None => out.write_str(",,")?,
        }
        write!(out, "{}", self.lr)
    }
}

/// How a call to [`Trainer::fit`] ended.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fit {
    /// Epochs run.
    pub epochs: usize,
    /// The callback asked to stop before the last epoch.
    pub stopped_early: bool,
    /// The last epoch's report.
    pub last: EpochReport,
}

/// Watches training: told of every batch, asked after every epoch whether
/// to go on.
///
/// `()` watches nothing and never stops; [`on_epoch`] turns a closure
/// `FnMut(&EpochReport) -> ControlFlow<()>` into a monitor that ignores
/// batches; implement the trait for progress bars and logs, and pass
/// `&mut monitor` to keep it.
pub trait Monitor {
    /// Called after each batch's step.
    fn on_batch(&mut self, report: &BatchReport) {
        let _ = report;
    }

    /// Called after each epoch; `ControlFlow::Break(())` stops training.
    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()>;
}

impl Monitor for () {
    fn on_epoch(&mut self, _: &EpochReport) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A [`Monitor`] that calls `f` after each epoch (see [`on_epoch`]).
#[derive(Clone, Copy, Debug)]
pub struct OnEpoch<F>(pub F);

impl<F: FnMut(&EpochReport) -> ControlFlow<()>> Monitor for OnEpoch<F> {
    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        (self.0)(report)
    }
}

/// A monitor from a closure called after each epoch: return
/// `ControlFlow::Break(())` to stop.
pub fn on_epoch<F: FnMut(&EpochReport) -> ControlFlow<()>>(f: F) -> OnEpoch<F> {
    OnEpoch(f)
}

impl<M: Monitor + ?Sized> Monitor for &mut M {
    fn on_batch(&mut self, report: &BatchReport) {
        (**self).on_batch(report);
    }
    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        (**self).on_epoch(report)
    }
}
