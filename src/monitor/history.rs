//! The history of a run: every epoch's report, kept.

use core::ops::ControlFlow;
use std::vec::Vec;

use crate::train::{EpochReport, Monitor};

/// A [`Monitor`] that keeps every epoch's report, in order, for a plot, a
/// table or a choice made after training.
///
/// ```
/// use typenet::monitor::History;
/// use typenet::train::{EpochReport, Metrics, Monitor};
///
/// let mut history = History::new();
/// for (epoch, loss) in [(1, 0.9f32), (2, 0.4), (3, 0.6)] {
///     let val = Some(Metrics { loss, accuracy: Some(1.0 - loss) });
///     let _ = history.on_epoch(&EpochReport { epoch, train: Metrics::default(), val, lr: 0.1 });
/// }
/// assert_eq!(history.reports().len(), 3);
/// let best = history.reports().iter().min_by(|a, b| a.val.unwrap().loss.total_cmp(&b.val.unwrap().loss));
/// assert_eq!(best.map(|r| r.epoch), Some(2));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct History<T = f32> {
    reports: Vec<EpochReport<T>>,
}

impl<T> History<T> {
    /// An empty history.
    pub const fn new() -> Self {
        History { reports: Vec::new() }
    }

    /// The reports so far, the first epoch first.
    pub fn reports(&self) -> &[EpochReport<T>] {
        &self.reports
    }

    /// The last epoch's report, `None` before the first.
    pub fn last(&self) -> Option<&EpochReport<T>> {
        self.reports.last()
    }

    /// The reports, for keeping.
    pub fn into_reports(self) -> Vec<EpochReport<T>> {
        self.reports
    }
}

impl<T> Default for History<T> {
    fn default() -> Self {
        History::new()
    }
}

impl<T> From<Vec<EpochReport<T>>> for History<T> {
    fn from(reports: Vec<EpochReport<T>>) -> Self {
        History { reports }
    }
}

impl<T: Copy> Monitor<T> for History<T> {
    /// Keeps the report; never asks to stop.
    fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()> {
        self.reports.push(*report);
        ControlFlow::Continue(())
    }
}
