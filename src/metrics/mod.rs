//! Metrics that fit the task, and prediction: R², RMSE and MAE for a
//! regressor; a confusion matrix with per-class precision, recall, F1 and
//! scikit-learn's `classification_report` for a classifier; its predicted
//! classes and class probabilities.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::metrics;
//!
//! // A regressor: here the identity, its "predictions" the inputs.
//! let data = [(vector([1.0f64]), vector([1.5])), (vector([2.0]), vector([2.0])), (vector([4.0]), vector([3.5]))];
//! let fit = metrics::regression(&Identity, &data).unwrap();
//! assert!((fit.r2 - 0.7692).abs() < 1e-4 && (fit.mae - 1.0 / 3.0).abs() < 1e-15);
//!
//! // A classifier on logits, trained with softmax cross-entropy.
//! let data = [(vector([2.0f32, 0.0, -1.0]), 0), (vector([0.0, 1.0, 0.5]), 2), (vector([0.0, 0.2, 3.0]), 2)];
//! let confusion = metrics::confusion(&Identity, &SoftmaxCrossEntropy, &data).unwrap();
//! assert_eq!(confusion.count(2, 1), 1); // true class 2 predicted as 1
//! assert_eq!(confusion.accuracy(), 2.0 / 3.0);
//! let classifier = Classifier::new(&Identity, &SoftmaxCrossEntropy);
//! assert_eq!(classifier.predict(&data[1].0), 1);
//! ```
//!
//! Everything here works without an allocator and computes in the model's
//! scalar (an `f32` model links no `f64` arithmetic, as training does), with
//! formulas that stay accurate over many samples: see [`RegressionTally`].
//! `Display` writes through `core::fmt`, so a report prints on a serial
//! port as on a terminal.
//!
//! | what | here | scikit-learn |
//! | --- | --- | --- |
//! | R², MSE, RMSE, MAE | [`regression`], [`regression_with`], [`RegressionTally`] | `r2_score`, `mean_squared_error`, `root_mean_squared_error`, `mean_absolute_error` (`multioutput="uniform_average"`) |
//! | confusion matrix | [`confusion`], [`ConfusionMatrix`] | `confusion_matrix(labels=range(C))` |
//! | precision, recall, F1, support | [`ConfusionMatrix::class`], [`macro_avg`](ConfusionMatrix::macro_avg), [`weighted_avg`](ConfusionMatrix::weighted_avg) | `precision_recall_fscore_support(labels=range(C))` |
//! | the report | `Display` of [`ConfusionMatrix`] | `classification_report(labels=range(C))`, then the matrix |
//! | prediction | [`Classifier::predict`], [`Classifier::predict_proba`] | `predict`, `predict_proba` |

mod confusion;
mod predict;
mod regression;

pub use confusion::{ClassMetrics, ConfusionMatrix, Named, confusion};
pub use predict::Classifier;
pub use regression::{Regression, RegressionTally, regression, regression_with};

use core::fmt;

/// What is wrong with the data a metric was asked to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MetricsError {
    /// A true class at or past the number of classes the model tells apart.
    ClassOutOfRange {
        /// The sample's index (in the data, or among the pairs added).
        sample: usize,
        /// The class it gave.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A predicted class at or past the number of classes: a
    /// [`Probabilities`](crate::loss::Probabilities) impl that broke its
    /// contract, or pairs added by hand.
    PredictionOutOfRange {
        /// The sample's index (in the data, or among the pairs added).
        sample: usize,
        /// The class predicted.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A batch prediction given an output slice of another length than
    /// its inputs.
    LengthMismatch {
        /// The number of inputs.
        inputs: usize,
        /// The number of output slots.
        outputs: usize,
    },
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MetricsError::ClassOutOfRange { sample, class, classes } => {
                write!(f, "sample {sample}: true class {class} is out of range for {classes} classes")
            }
            MetricsError::PredictionOutOfRange { sample, class, classes } => {
                write!(f, "sample {sample}: predicted class {class} is out of range for {classes} classes")
            }
            MetricsError::LengthMismatch { inputs, outputs } => {
                write!(f, "{inputs} inputs but {outputs} output slots")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MetricsError {}
