//! The confusion matrix of a classifier and the per-class figures read
//! from it.

use core::fmt;
use core::marker::PhantomData;

use generic_array::ArrayLength;

use crate::layer::Layer;
use crate::loss::Probabilities;
use crate::metrics::MetricsError;
use crate::scalar::Scalar;
use crate::shape::{Matrix, ScalarOf, Tensor};

/// Precision, recall, F1 and support of one class, or their average over
/// the classes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClassMetrics<T = f32> {
    /// Of the samples predicted as the class, the fraction that are:
    /// `tp / (tp + fp)`, 0 if none is predicted as it.
    pub precision: T,
    /// Of the samples of the class, the fraction predicted as it:
    /// `tp / (tp + fn)`, 0 if the class has no sample.
    pub recall: T,
    /// The harmonic mean of the two, `2tp / (2tp + fp + fn)`, 0 if both
    /// are 0.
    pub f1: T,
    /// The number of samples of the class (for an average, of all).
    pub support: usize,
}

/// The counts of a classifier's decisions over `C` classes: row = true
/// class, column = predicted class, as scikit-learn's `confusion_matrix`.
///
/// Built from a model with [`confusion`], or pair by pair with
/// [`add`](Self::add); the figures read from it (precision, recall, F1,
/// accuracy) are in `T`, the model's scalar. It is `C × C` counts and
/// allocates nothing.
///
/// Zero division is scikit-learn's default: a precision, recall or F1 whose
/// denominator is 0 (a class never predicted, a class with no sample) is 0,
/// without scikit-learn's warning, and so is the accuracy of an empty
/// matrix. Every class counts in the averages, also one that neither occurs
/// nor is predicted (scikit-learn with `labels=range(C)`).
///
/// `Display` writes scikit-learn's `classification_report` (the same text,
/// 2 decimals or the precision asked: `{:.4}`) and then the matrix;
/// [`named`](Self::named) names the classes.
///
/// ```
/// use typenet::prelude::*;
///
/// let mut m = ConfusionMatrix::<U3>::new();
/// for (truth, predicted) in [(0, 0), (0, 0), (1, 1), (1, 2), (2, 2), (2, 2)] {
///     m.add(truth, predicted).unwrap();
/// }
/// assert_eq!(m.count(1, 2), 1);
/// assert_eq!(m.accuracy(), 5.0 / 6.0);
/// let two = m.class(2).unwrap();
/// assert_eq!((two.precision, two.recall, two.support), (2.0 / 3.0, 1.0, 2));
/// assert!(m.add(3, 0).is_err());
/// print!("{m}");
/// assert!(m.to_string().ends_with("1  0  1  1\n2  0  0  2\n"));
/// ```
///
/// prints
///
/// ```text
///               precision    recall  f1-score   support
///
///            0       1.00      1.00      1.00         2
///            1       1.00      0.50      0.67         2
///            2       0.67      1.00      0.80         2
///
///     accuracy                           0.83         6
///    macro avg       0.89      0.83      0.82         6
/// weighted avg       0.89      0.83      0.82         6
///
/// confusion matrix (rows: true class, columns: predicted)
///    0  1  2
/// 0  2  0  0
/// 1  0  1  1
/// 2  0  0  2
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionMatrix<C: ArrayLength, T = f32> {
    counts: Matrix<usize, C, C>,
    scalar: PhantomData<fn() -> T>,
}

impl<C: ArrayLength, T> Default for ConfusionMatrix<C, T> {
    fn default() -> Self {
        ConfusionMatrix { counts: Default::default(), scalar: PhantomData }
    }
}

impl<C: ArrayLength, T: Scalar> ConfusionMatrix<C, T> {
    /// A matrix of zeros.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a sample of class `truth` predicted as `predicted`; an error
    /// if either is `C` or more (`sample` in the error is the number of
    /// samples counted before).
    pub fn add(&mut self, truth: usize, predicted: usize) -> Result<(), MetricsError> {
        let (sample, classes) = (self.total(), C::USIZE);
        if truth >= classes {
            return Err(MetricsError::ClassOutOfRange { sample, class: truth, classes });
        }
        if predicted >= classes {
            return Err(MetricsError::PredictionOutOfRange { sample, class: predicted, classes });
        }
        self.counts[truth][predicted] += 1;
        Ok(())
    }

    /// The samples of class `truth` predicted as `predicted` (0 out of range).
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts.get(truth).and_then(|row| row.get(predicted)).copied().unwrap_or(0)
    }

    /// The counts, row = true class, column = predicted.
    pub fn counts(&self) -> &Matrix<usize, C, C> {
        &self.counts
    }

    /// The number of samples counted.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// The number predicted correctly: the trace.
    pub fn correct(&self) -> usize {
        (0..C::USIZE).map(|k| self.counts[k][k]).sum()
    }

    /// The fraction predicted correctly, `trace / total`; 0 if empty.
    pub fn accuracy(&self) -> T {
        ratio(self.correct(), self.total())
    }

    /// Precision, recall, F1 and support of class `k`; `None` for `k ≥ C`.
    pub fn class(&self, k: usize) -> Option<ClassMetrics<T>> {
        let row = self.counts.get(k)?;
        let tp = row[k];
        let support: usize = row.iter().sum();
        let predicted: usize = self.counts.iter().map(|r| r[k]).sum();
        Some(ClassMetrics {
            precision: ratio(tp, predicted),
            recall: ratio(tp, support),
            f1: ratio(2 * tp, support + predicted),
            support,
        })
    }

    /// Every class's figures, class 0 first.
    pub fn classes(&self) -> impl Iterator<Item = ClassMetrics<T>> + '_ {
        (0..C::USIZE).filter_map(|k| self.class(k))
    }

    /// The unweighted mean over the `C` classes (support: the total).
    pub fn macro_avg(&self) -> ClassMetrics<T> {
        let c = T::from_usize(C::USIZE);
        let sum = self.sum(|_| T::one());
        ClassMetrics { precision: sum.precision / c, recall: sum.recall / c, f1: sum.f1 / c, support: sum.support }
    }

    /// The mean over the classes weighted by their support (support: the
    /// total); its recall is the accuracy.
    pub fn weighted_avg(&self) -> ClassMetrics<T> {
        let sum = self.sum(|m| T::from_usize(m.support));
        let total = T::from_usize(sum.support);
        let div = |x: T| if sum.support == 0 { T::zero() } else { x / total };
        ClassMetrics { precision: div(sum.precision), recall: div(sum.recall), f1: div(sum.f1), support: sum.support }
    }

    /// `Σ weight·figure` over the classes, and the total support.
    fn sum(&self, weight: impl Fn(&ClassMetrics<T>) -> T) -> ClassMetrics<T> {
        self.classes().fold(
            ClassMetrics { precision: T::zero(), recall: T::zero(), f1: T::zero(), support: 0 },
            |s, m| {
                let w = weight(&m);
                ClassMetrics {
                    precision: s.precision + w * m.precision,
                    recall: s.recall + w * m.recall,
                    f1: s.f1 + w * m.f1,
                    support: s.support + m.support,
                }
            },
        )
    }
}

/// `a / b` in `T`, 0 when `b` is 0 (scikit-learn's `zero_division`).
fn ratio<T: Scalar>(a: usize, b: usize) -> T {
    if b == 0 { T::zero() } else { T::from_usize(a) / T::from_usize(b) }
}

/// The number of decimal digits of `n`.
fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

impl<C: ArrayLength, T: Scalar> fmt::Display for ConfusionMatrix<C, T> {
    /// scikit-learn's `classification_report` (its layout, character for
    /// character), then the matrix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report(f, &[])
    }
}

/// A confusion matrix whose report names the classes: see
/// [`ConfusionMatrix::named`].
#[derive(Clone, Copy, Debug)]
pub struct Named<'a, C: ArrayLength, T> {
    matrix: &'a ConfusionMatrix<C, T>,
    names: &'a [&'a str],
}

impl<C: ArrayLength, T: Scalar> fmt::Display for Named<'_, C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.matrix.report(f, self.names)
    }
}

impl<C: ArrayLength, T: Scalar> ConfusionMatrix<C, T> {
    /// The report with the classes named (scikit-learn's `target_names`):
    /// class `k` is `names[k]`, or its number past the end of `names`.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// let mut m = ConfusionMatrix::<U2>::new();
    /// m.add(0, 0).unwrap();
    /// m.add(1, 0).unwrap();
    /// let report = m.named(&["benign", "malignant"]).to_string();
    /// assert!(report.contains("   malignant       0.00      0.00      0.00         1\n"), "{report}");
    /// ```
    pub fn named<'a>(&'a self, names: &'a [&'a str]) -> Named<'a, C, T> {
        Named { matrix: self, names }
    }

    /// The report and the matrix, class `k` named `names[k]` if there is one.
    fn report(&self, f: &mut fmt::Formatter<'_>, names: &[&str]) -> fmt::Result {
        let d = f.precision().unwrap_or(2);
        let numbers = digits(C::USIZE.saturating_sub(1));
        let named = names.iter().take(C::USIZE).map(|n| n.chars().count()).max().unwrap_or(0);
        // scikit-learn: the widest of the class names, "weighted avg" and the digits.
        let w = numbers.max(named).max("weighted avg".len()).max(d);
        writeln!(f, "{:>w$}  {:>9} {:>9} {:>9} {:>9}", "", "precision", "recall", "f1-score", "support")?;
        writeln!(f)?;
        let row = |f: &mut fmt::Formatter<'_>, name: &dyn fmt::Display, m: &ClassMetrics<T>| {
            writeln!(f, "{:>w$}  {:>9.d$} {:>9.d$} {:>9.d$} {:>9}", name, m.precision, m.recall, m.f1, m.support)
        };
        for (k, m) in self.classes().enumerate() {
            // `{:>w$}` pads a number as scikit-learn pads the label's text.
            match names.get(k) {
                Some(name) => row(f, name, &m)?,
                None => row(f, &k, &m)?,
            }
        }
        writeln!(f)?;
        writeln!(f, "{:>w$}  {:>9} {:>9} {:>9.d$} {:>9}", "accuracy", "", "", self.accuracy(), self.total())?;
        row(f, &"macro avg", &self.macro_avg())?;
        row(f, &"weighted avg", &self.weighted_avg())?;
        writeln!(f)?;
        writeln!(f, "confusion matrix (rows: true class, columns: predicted)")?;
        let largest = self.counts.iter().flatten().copied().max().unwrap_or(0);
        let cell = digits(largest).max(numbers);
        write!(f, "{:>cell$}", "")?;
        for k in 0..C::USIZE {
            write!(f, "  {k:>cell$}")?;
        }
        writeln!(f)?;
        for (k, counts) in self.counts.iter().enumerate() {
            write!(f, "{k:>cell$}")?;
            for n in counts {
                write!(f, "  {n:>cell$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The confusion matrix of `model` over `data` (inference forward, no
/// cache): each sample's true class against the class `cost` reads from
/// the output ([`Probabilities::class`]: the largest logit, or the side of
/// the threshold for a single binary output). Its size, `C`, is the number
/// of classes the cost reads from the output: the output's length for
/// softmax, 2 for one sigmoid output. An error names the first sample whose
/// class is out of range.
///
/// ```
/// use typenet::prelude::*;
/// // A single logit, trained with BceWithLogits: a 2 × 2 matrix.
/// let data = [(vector([1.5f32]), 1), (vector([-0.5]), 0), (vector([0.5]), 0), (vector([-2.0]), 1)];
/// let m = typenet::metrics::confusion(&Identity, &BceWithLogits, &data).unwrap();
/// assert_eq!(m.counts(), &matrix([[1, 1], [1, 1]]));
/// assert_eq!(
///     typenet::metrics::confusion(&Identity, &BceWithLogits, &[(vector([0.0f32]), 2)]),
///     Err(typenet::metrics::MetricsError::ClassOutOfRange { sample: 0, class: 2, classes: 2 })
/// );
/// ```
#[allow(clippy::type_complexity)]
pub fn confusion<M, X, L>(
    model: &M,
    cost: &L,
    data: &[(X, usize)],
) -> Result<ConfusionMatrix<L::Classes, ScalarOf<M::Output>>, MetricsError>
where
    M: Layer<X, Output: Tensor>,
    L: Probabilities<M::Output>,
{
    let mut matrix = ConfusionMatrix::new();
    for (x, truth) in data {
        matrix.add(*truth, cost.class(&model.forward(x)))?;
    }
    Ok(matrix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn an_empty_matrix_scores_zero() {
        let m = ConfusionMatrix::<U2, f64>::new();
        assert_eq!(m.accuracy(), 0.0);
        assert_eq!(m.macro_avg(), ClassMetrics::default());
        assert_eq!(m.weighted_avg(), ClassMetrics::default());
    }

    #[test]
    fn a_class_never_predicted_has_zero_precision() {
        let mut m = ConfusionMatrix::<U3, f64>::new();
        for (t, p) in [(0, 0), (1, 0), (1, 0)] {
            m.add(t, p).unwrap();
        }
        let one = m.class(1).unwrap();
        assert_eq!((one.precision, one.recall, one.f1, one.support), (0.0, 0.0, 0.0, 2));
        assert_eq!(m.class(2).unwrap(), ClassMetrics::default());
        assert_eq!(m.class(3), None);
        assert_eq!(m.add(0, 5), Err(MetricsError::PredictionOutOfRange { sample: 3, class: 5, classes: 3 }));
    }
}
