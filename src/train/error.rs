//! Why training stops with an error, and where.

use core::fmt;

use super::Metric;
use crate::loss::TargetError;
use crate::optim::OptimError;

/// Where in training an error happened.
///
/// ```
/// use typenet::train::Position;
/// assert_eq!(Position::Batch { epoch: 3, batch: 7 }.to_string(), "at epoch 3, batch 7");
/// assert_eq!(Position::Step.to_string(), "in this step");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Position {
    /// Before the first step: the settings were checked as training began.
    Start,
    /// A lone [`Trainer::step`](super::Trainer::step).
    Step,
    /// A mini-batch of [`Trainer::fit`](super::Trainer::fit) or
    /// [`Trainer::train_epoch`](super::Trainer::train_epoch).
    Batch {
        /// The epoch, from 1.
        epoch: usize,
        /// The batch within the epoch, from 0.
        batch: usize,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Position::Start => write!(f, "before the first step"),
            Position::Step => write!(f, "in this step"),
            Position::Batch { epoch, batch } => write!(f, "at epoch {epoch}, batch {batch}"),
        }
    }
}

/// Why training stopped with an error. Whatever the error, the model's
/// parameters and buffers and the optimiser's state are those of the last
/// accepted step: a refused step writes nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TrainError {
    /// The training set has no samples.
    EmptyData,
    /// The validation set given to [`Fit::validate_on`](super::Fit::validate_on)
    /// has no samples (leave `validate_on` out for no validation set).
    EmptyValidationSet,
    /// [`EarlyStopping`](super::EarlyStopping) watches a metric this run
    /// does not measure: a validation metric without a validation set, or
    /// an accuracy with a cost that does not classify
    /// ([`Loss::CLASSIFIES`](crate::loss::Loss::CLASSIFIES)). Nothing was
    /// trained.
    MetricUnavailable {
        /// The metric asked for.
        metric: Metric,
        /// Why it is not there: `true` for no validation set, `false` for
        /// a cost without accuracy.
        no_validation_set: bool,
    },
    /// `Config::batch_size` is 0.
    ZeroBatchSize,
    /// A sample's target does not fit the cost.
    BadTarget {
        /// In the validation set (else the training set, or the batch of a
        /// lone step).
        validation: bool,
        /// Its index in that set.
        sample: usize,
        /// What is wrong.
        error: TargetError,
    },
    /// A hyperparameter of the optimiser or the [`Config`](super::Config),
    /// or the learning rate a schedule gave, is out of its range
    /// ([`OptimError::Invalid`] says which); nothing was trained.
    Hyperparameter {
        /// Where: [`Position::Start`] for the settings, a batch for a
        /// scheduled rate.
        at: Position,
        /// Which value and its range.
        error: OptimError,
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
        /// Which batch.
        at: Position,
    },
    /// A sample's loss was `NaN` or infinite; the step was not applied.
    NonFiniteLoss {
        /// Which step.
        at: Position,
        /// The sample's index in the data given (the training set, or the
        /// batch of a lone step).
        sample: usize,
    },
    /// A gradient was `NaN` or infinite; the step was not applied.
    NonFiniteGradient {
        /// Which step.
        at: Position,
    },
    /// The update would have made a parameter, a buffer (batch norm's
    /// running statistics) or the optimiser's state `NaN` or infinite, so
    /// it was not applied: a learning rate too large for the gradients, or
    /// an overflow.
    NonFiniteUpdate {
        /// Which step.
        at: Position,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrainError::EmptyData => write!(f, "the training set is empty"),
            TrainError::EmptyValidationSet => {
                write!(f, "the validation set is empty; leave out `validate_on` to train without a validation set")
            }
            TrainError::MetricUnavailable { metric, no_validation_set: true } => write!(
                f,
                "early stopping watches {}, and there is no validation set: give one with `validate_on`, \
                 or watch a training metric",
                metric.name()
            ),
            TrainError::MetricUnavailable { metric, no_validation_set: false } => write!(
                f,
                "early stopping watches {}, and the cost does not classify (a regression cost has no \
                 accuracy): watch a loss",
                metric.name()
            ),
            TrainError::ZeroBatchSize => write!(f, "the batch size is 0; it must be at least 1"),
            TrainError::BadTarget { validation, sample, error } => {
                let set = if validation { "validation" } else { "training" };
                write!(f, "{set} sample {sample}: {error}")
            }
            TrainError::Hyperparameter { at: Position::Start, error } => write!(f, "{error}"),
            TrainError::Hyperparameter { at, error } => write!(f, "{at}: {error}"),
            TrainError::BatchLargerThanBlock { batch_size, block } => write!(
                f,
                "the network normalises over each mini-batch (batch norm), which must fit one block of the \
                 trainer: the batch size {batch_size} is larger than the block of {block}; use a smaller batch \
                 size or a trainer with a larger block B"
            ),
            TrainError::SingleSampleBatch { at } => write!(
                f,
                "the network normalises over each mini-batch (batch norm), and the batch {at} has a single \
                 sample; choose a batch size that leaves no batch of one, or set `drop_last`"
            ),
            TrainError::NonFiniteLoss { at, sample } => {
                write!(f, "the loss of sample {sample} is not finite {at}; the step was not applied")
            }
            TrainError::NonFiniteGradient { at } => {
                write!(f, "a gradient is not finite {at}; the step was not applied")
            }
            TrainError::NonFiniteUpdate { at } => write!(
                f,
                "the update {at} would make a parameter, a buffer or the optimiser's state NaN or infinite \
                 (is the learning rate too large?); the step was not applied"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TrainError {}

impl TrainError {
    /// The same error placed `at` a step (errors that name no step are
    /// unchanged).
    pub(super) fn at(self, at: Position) -> Self {
        match self {
            TrainError::NonFiniteLoss { sample, .. } => TrainError::NonFiniteLoss { at, sample },
            TrainError::NonFiniteGradient { .. } => TrainError::NonFiniteGradient { at },
            TrainError::NonFiniteUpdate { .. } => TrainError::NonFiniteUpdate { at },
            TrainError::SingleSampleBatch { .. } => TrainError::SingleSampleBatch { at },
            TrainError::Hyperparameter { error, .. } => TrainError::Hyperparameter { at, error },
            other => other,
        }
    }

    /// An optimiser's refusal as a training error `at` a step.
    pub(super) fn from_optimizer(error: OptimError, at: Position) -> Self {
        match error {
            OptimError::NonFiniteUpdate => TrainError::NonFiniteUpdate { at },
            error => TrainError::Hyperparameter { at, error },
        }
    }
}
