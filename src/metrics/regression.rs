//! R², MSE, RMSE and MAE of a regressor, in one pass without an allocator.

use core::fmt;

use num_traits::{Float, One, Zero};

use crate::layer::Layer;
use crate::scalar::Scalar;
use crate::shape::{ScalarOf, Tensor};

/// How well a regressor fits a set: scikit-learn's `r2_score`,
/// `mean_squared_error`, `root_mean_squared_error` and
/// `mean_absolute_error`, each averaged uniformly over the outputs when the
/// output has several (`multioutput="uniform_average"`).
///
/// `Display` writes `r2=… mse=… rmse=… mae=…` with 4 decimals, or the
/// precision asked (`{:.2}`).
///
/// ```
/// use typenet::metrics::Regression;
/// let fit = Regression { r2: 0.75, mse: 0.25, rmse: 0.5, mae: 0.4 };
/// assert_eq!(format!("{fit}"), "r2=0.7500 mse=0.2500 rmse=0.5000 mae=0.4000");
/// assert_eq!(format!("{fit:.1}"), "r2=0.8 mse=0.2 rmse=0.5 mae=0.4");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Regression<T = f32> {
    /// The coefficient of determination, `1 − Σ(y − t)² / Σ(t − t̄)²`: 1 for
    /// a perfect fit, 0 for predicting the mean, negative for worse. For an
    /// output whose targets are all equal (`Σ(t − t̄)² = 0`) it is 1 if every
    /// prediction is exact and 0 otherwise, as scikit-learn's
    /// `force_finite=True` (its default) defines it; with a single sample it
    /// is `NaN`, as scikit-learn returns (R² needs two).
    pub r2: T,
    /// The mean squared error.
    pub mse: T,
    /// The root of each output's mean squared error, averaged over the
    /// outputs (in the target's units).
    pub rmse: T,
    /// The mean absolute error (in the target's units).
    pub mae: T,
}

impl<T: Scalar> fmt::Display for Regression<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(4);
        write!(f, "r2={:.p$} mse={:.p$} rmse={:.p$} mae={:.p$}", self.r2, self.mse, self.rmse, self.mae)
    }
}

/// Adds `x` to the compensated sum `(sum, carry)` (Neumaier's variant of
/// Kahan summation): the total's error stays near one rounding, whatever
/// the number of terms.
#[inline]
fn add_compensated<T: Scalar>(sum: &mut T, carry: &mut T, x: T) {
    let t = *sum + x;
    *carry = *carry + if sum.abs() >= x.abs() { (*sum - t) + x } else { (x - t) + *sum };
    *sum = t;
}

/// The sums behind [`Regression`], one `(prediction, target)` pair at a
/// time, in the model's scalar: for a caller who changes the predictions
/// first (back to the target's units with a scaler's inverse, say) or whose
/// samples do not sit in one slice.
///
/// Numerics: the targets' mean and spread `Σ(t − t̄)²` accumulate by
/// Welford's update, which never subtracts two large sums (so targets of
/// 10⁴ ± 1 keep their R² in `f32`), and the squared and absolute errors in
/// compensated (Kahan–Neumaier) sums, whose error does not grow with the
/// number of samples. Against scikit-learn's `float64` (the tests, on
/// 20 to 60 samples): an `f64` model's metrics agree to 1e-13 of
/// `max(1, |value|)`, an `f32` model's to 1e-6 (targets of 10⁴ ± 1, which
/// `f32` itself rounds to 1e-3, to 1e-4). Non-finite
/// predictions show as `NaN` or infinite metrics rather than being skipped.
///
/// It holds six tensors of the output's shape; each output keeps its own
/// sums, so the R² of a multi-output model is the mean of the outputs' R².
///
/// ```
/// use typenet::prelude::*;
/// use typenet::metrics::RegressionTally;
///
/// // Predictions made on standardised targets, brought back to the targets' units.
/// let (mean, std) = (20.0f32, 5.0f32);
/// let unscale = |y: Vector<f32, U1>| vector([y[0] * std + mean]);
/// let pairs = [(vector([0.2f32]), vector([0.0])), (vector([-1.0]), vector([-1.2])), (vector([1.0]), vector([1.2]))];
/// let mut tally = RegressionTally::new();
/// for (prediction, target) in pairs {
///     tally.push(&unscale(prediction), &unscale(target));
/// }
/// let fit = tally.metrics().unwrap();
/// assert!((fit.mae - 1.0).abs() < 1e-6); // 1 mpg off each
/// assert!(fit.r2 > 0.9);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegressionTally<Y> {
    samples: usize,
    mean: Y,
    spread: Y,
    squared: Y,
    squared_carry: Y,
    absolute: Y,
    absolute_carry: Y,
}

impl<Y: Tensor> RegressionTally<Y> {
    /// An empty tally.
    pub fn new() -> Self {
        RegressionTally {
            samples: 0,
            mean: Y::default(),
            spread: Y::default(),
            squared: Y::default(),
            squared_carry: Y::default(),
            absolute: Y::default(),
            absolute_carry: Y::default(),
        }
    }

    /// Counts one sample: the model's `prediction` and its `target`.
    pub fn push(&mut self, prediction: &Y, target: &Y) {
        self.samples += 1;
        let n = Y::Scalar::from_usize(self.samples);
        let outputs = prediction.as_flat().iter().zip(target.as_flat());
        let mean = self.mean.as_flat_mut().iter_mut().zip(self.spread.as_flat_mut());
        let squared = self.squared.as_flat_mut().iter_mut().zip(self.squared_carry.as_flat_mut());
        let absolute = self.absolute.as_flat_mut().iter_mut().zip(self.absolute_carry.as_flat_mut());
        for ((((&y, &t), (mean, spread)), (sq, sq_carry)), (abs, abs_carry)) in
            outputs.zip(mean).zip(squared).zip(absolute)
        {
            let delta = t - *mean;
            *mean = *mean + delta / n;
            *spread = *spread + delta * (t - *mean);
            let e = y - t;
            add_compensated(sq, sq_carry, e * e);
            add_compensated(abs, abs_carry, e.abs());
        }
    }

    /// The number of samples counted.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The metrics of output `j` alone (scikit-learn's
    /// `multioutput="raw_values"`); `None` before the first sample or for
    /// `j` past the output's length.
    pub fn output(&self, j: usize) -> Option<Regression<Y::Scalar>> {
        if self.samples == 0 || j >= Y::LEN {
            return None;
        }
        let n = Y::Scalar::from_usize(self.samples);
        let sse = self.squared.as_flat()[j] + self.squared_carry.as_flat()[j];
        let sae = self.absolute.as_flat()[j] + self.absolute_carry.as_flat()[j];
        let spread = self.spread.as_flat()[j];
        let r2 = if self.samples < 2 {
            Y::Scalar::nan()
        } else if spread == Y::Scalar::zero() {
            // scikit-learn's force_finite: a constant target is fitted
            // perfectly (1) or not at all (0).
            if sse == Y::Scalar::zero() { Y::Scalar::one() } else { Y::Scalar::zero() }
        } else {
            Y::Scalar::one() - sse / spread
        };
        let mse = sse / n;
        Some(Regression { r2, mse, rmse: mse.sqrt(), mae: sae / n })
    }

    /// The metrics over every output, averaged uniformly; `None` before the
    /// first sample.
    pub fn metrics(&self) -> Option<Regression<Y::Scalar>> {
        let zero = Y::Scalar::zero();
        let mut sum = Regression { r2: zero, mse: zero, rmse: zero, mae: zero };
        for j in 0..Y::LEN {
            let m = self.output(j)?;
            sum = Regression { r2: sum.r2 + m.r2, mse: sum.mse + m.mse, rmse: sum.rmse + m.rmse, mae: sum.mae + m.mae };
        }
        if self.samples == 0 || Y::LEN == 0 {
            return None;
        }
        let outputs = Y::Scalar::from_usize(Y::LEN);
        Some(Regression {
            r2: sum.r2 / outputs,
            mse: sum.mse / outputs,
            rmse: sum.rmse / outputs,
            mae: sum.mae / outputs,
        })
    }
}

/// R², MSE, RMSE and MAE of `model` over `data` (inference forward, no
/// cache); `None` if `data` is empty. See [`Regression`] for the
/// definitions and [`RegressionTally`] for the numerics.
///
/// ```
/// use typenet::prelude::*;
/// let data = [(vector([1.0f64, 0.0]), vector([1.0])), (vector([0.0, 1.0]), vector([3.0]))];
/// let model = Dense::<U2, U1, f64>::new(matrix([[1.0, 2.0]]), vector([0.0]));
/// let fit = typenet::metrics::regression(&model, &data).unwrap();
/// assert_eq!((fit.mse, fit.mae), (0.5, 0.5)); // errors 0 and −1
/// assert_eq!(fit.r2, 0.5); // 1 − 1 / 2
/// ```
pub fn regression<M, X>(model: &M, data: &[(X, M::Output)]) -> Option<Regression<ScalarOf<M::Output>>>
where
    M: Layer<X, Output: Tensor>,
{
    regression_with(model, data, |y| y.clone())
}

/// [`regression`] with `map` applied to every prediction and every target
/// first: the inverse of a target scaler, so the errors come in the
/// target's own units.
///
/// ```
/// use typenet::prelude::*;
/// // A model trained on targets scaled by 1/10.
/// let data = [(vector([0.5f32]), vector([0.4f32])), (vector([0.2]), vector([0.2]))];
/// let fit = typenet::metrics::regression_with(&Identity, &data, |y| vector([y[0] * 10.0])).unwrap();
/// assert!((fit.mae - 0.5).abs() < 1e-6);
/// ```
pub fn regression_with<M, X>(
    model: &M,
    data: &[(X, M::Output)],
    mut map: impl FnMut(&M::Output) -> M::Output,
) -> Option<Regression<ScalarOf<M::Output>>>
where
    M: Layer<X, Output: Tensor>,
{
    let mut tally = RegressionTally::new();
    for (x, t) in data {
        tally.push(&map(&model.forward(x)), &map(t));
    }
    tally.metrics()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn empty_is_none_and_one_sample_has_no_r2() {
        let mut tally = RegressionTally::<Vector<f32, U2>>::new();
        assert_eq!(tally.metrics(), None);
        tally.push(&vector([1.0, 2.0]), &vector([1.5, 2.0]));
        let m = tally.metrics().unwrap();
        assert!(m.r2.is_nan());
        assert_eq!((m.mse, m.mae, m.rmse), (0.125, 0.25, 0.25));
        assert_eq!(tally.output(2), None);
    }

    #[test]
    fn constant_targets_score_as_scikit_learn() {
        let mut exact = RegressionTally::<Vector<f64, U1>>::new();
        let mut off = RegressionTally::<Vector<f64, U1>>::new();
        for _ in 0..3 {
            exact.push(&vector([2.0]), &vector([2.0]));
            off.push(&vector([2.5]), &vector([2.0]));
        }
        assert_eq!(exact.metrics().unwrap().r2, 1.0);
        assert_eq!(off.metrics().unwrap().r2, 0.0);
    }

    /// Targets 10⁴ ± a few in `f32`: a one-pass Σt² − n t̄² would lose the
    /// spread entirely (10⁸ has 4 significant digits left for it).
    #[test]
    fn r2_survives_a_large_offset_in_f32() {
        let (mut f32s, mut f64s) =
            (RegressionTally::<Vector<f32, U1>>::new(), RegressionTally::<Vector<f64, U1>>::new());
        for i in 0..1000 {
            let t = 1e4 + ((i * 37) % 11) as f64 - 5.0;
            let y = t + ((i * 13) % 7) as f64 * 0.25 - 0.75;
            f32s.push(&vector([y as f32]), &vector([t as f32]));
            f64s.push(&vector([y]), &vector([t]));
        }
        let (a, b) = (f32s.metrics().unwrap(), f64s.metrics().unwrap());
        assert!((a.r2 as f64 - b.r2).abs() < 1e-5, "{a} vs {b}");
        assert!((a.mse as f64 - b.mse).abs() < 1e-5 * b.mse, "{a} vs {b}");
    }
}
