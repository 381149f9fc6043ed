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
    /// The network couples the samples of a mini-batch (batch norm), so a
    /// mini-batch runs as one block of the trainer, and this one is larger.
    BatchLargerThanBlock {
        /// The mini-batch's size.
        batch_size: usize,
        /// The trainer's block, its `B`.
        block: usize,
    },
    /// The network normalises over the mini-batch (batch norm) and a
    /// mini-batch had a single sample, whose variance says nothing: PyTorch
    /// refuses it too ("Expected more than 1 value per channel when
    /// training"). Choose a batch size that leaves no last batch of one, or
    /// set `Config::drop_last`.
    SingleSampleBatch {
        /// The epoch (from 1; 0 for a lone [`step`](super::Trainer::step)).
        epoch: usize,
        /// The batch within the epoch (from 0).
        batch: usize,
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
            TrainError::BatchLargerThanBlock { batch_size, block } => write!(
                f,
                "the network normalises over each mini-batch (batch norm), which must fit one block of the \
                 trainer: the batch size {batch_size} is larger than the block of {block}; use a smaller batch \
                 size or a trainer with a larger block B"
            ),
            TrainError::SingleSampleBatch { epoch, batch } => write!(
                f,
                "the network normalises over each mini-batch (batch norm), and batch {batch} of epoch {epoch} \
                 has a single sample; choose a batch size that leaves no batch of one, or set `drop_last`"
            ),
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
            TrainError::SingleSampleBatch { .. } => TrainError::SingleSampleBatch { epoch, batch },
            other => other,
        }
    }
}
