//! Why training stops with an error.

use core::fmt;

use crate::loss::TargetError;

/// Why training stopped with an error. Where a step was refused, the
/// parameters are as they were before it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// The training set has no samples.
    EmptyData,
    /// `Config::batch_size` is 0.
    ZeroBatchSize,
    /// A sample's target does not fit the cost.
    BadTarget {
        /// In the validation set (else the training set).
        validation: bool,
        /// Its index in that set.
        sample: usize,
        /// What is wrong.
        error: TargetError,
    },
    /// The loss became `NaN` or infinite; the step was not applied.
    NonFiniteLoss {
        /// The epoch (from 1).
        epoch: usize,
        /// The batch within the epoch (from 0).
        batch: usize,
    },
    /// A gradient became `NaN` or infinite; the step was not applied.
    NonFiniteGradient {
        /// The epoch (from 1).
        epoch: usize,
        /// The batch within the epoch (from 0).
        batch: usize,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrainError::EmptyData => write!(f, "the training set is empty"),
            TrainError::ZeroBatchSize => write!(f, "the batch size is 0; it must be at least 1"),
            TrainError::BadTarget { validation, sample, error } => {
                let set = if validation { "validation" } else { "training" };
                write!(f, "{set} sample {sample}: {error}")
            }
            TrainError::NonFiniteLoss { epoch, batch } => {
                write!(f, "the loss is not finite at epoch {epoch}, batch {batch}; the step was not applied")
            }
            TrainError::NonFiniteGradient { epoch, batch } => {
                write!(f, "a gradient is not finite at epoch {epoch}, batch {batch}; the step was not applied")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TrainError {}

impl TrainError {
    /// The same error placed at `epoch` and `batch`.
    pub(super) fn at(self, epoch: usize, batch: usize) -> Self {
        match self {
            TrainError::NonFiniteLoss { .. } => TrainError::NonFiniteLoss { epoch, batch },
            TrainError::NonFiniteGradient { .. } => TrainError::NonFiniteGradient { epoch, batch },
            other => other,
        }
    }
}
