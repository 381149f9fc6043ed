//! Data sets: stratified splits, shuffling, feature scaling, and (with
//! `std`) CSV loading.
//!
//! A data set is a slice of `(input, target)` samples. Splitting,
//! shuffling and scaling work in place on that slice, with no allocator,
//! so they run on a microcontroller too; loading a file needs `std`.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::data::{stratified_split, Scaler};
//!
//! let mut data: Vec<(Vector<f32, U1>, usize)> = (0..100).map(|i| (vector([i as f32]), i % 2)).collect();
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
//! let split = stratified_split::<_, U2, _>(&mut data, 0.6, 0.2, &mut rng).unwrap();
//! assert_eq!((split.train.len(), split.val.len(), split.test.len()), (60, 20, 20));
//!
//! // Fit the scaling on the training part only, apply it everywhere.
//! let scaler = Scaler::standardize(split.train);
//! scaler.apply(split.train);
//! scaler.apply(split.val);
//! scaler.apply(split.test);
//! ```

#[cfg(feature = "std")]
mod csv;

#[cfg(feature = "std")]
pub use self::csv::{CsvError, load_csv, read_csv};

use core::fmt;

use generic_array::functional::FunctionalSequence;
use generic_array::{ArrayLength, GenericArray};
use num_traits::Float;
use rand::{Rng, RngExt};

use crate::scalar::Scalar;
use crate::shape::Tensor;

/// A sample of a classification data set: features and a class index.
pub type Labelled<T, N> = (crate::shape::Vector<T, N>, usize);

/// The three parts of a split data set, each a sub-slice of the original.
#[derive(Debug)]
pub struct Split<'a, S> {
    /// The training part.
    pub train: &'a mut [S],
    /// The validation part.
    pub val: &'a mut [S],
    /// The test part.
    pub test: &'a mut [S],
}

/// Why a data set could not be split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SplitError {
    /// A sample's class is at or past the number of classes.
    ClassOutOfRange {
        /// The sample's index in the slice given.
        sample: usize,
        /// Its class.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// The fractions are negative, not finite, or add up to more than 1.
    BadFractions,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SplitError::ClassOutOfRange { sample, class, classes } => {
                write!(f, "sample {sample} has class {class}, out of range for {classes} classes")
            }
            SplitError::BadFractions => {
                write!(f, "the split fractions must be finite, non-negative and add up to at most 1")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SplitError {}

/// Splits `data` in place into training, validation and test parts with
/// the same class proportions, drawn with `rng` (so a seed fixes the split).
///
/// Each class `c` of `n_c` samples gives `round(n_c·train)` samples to the
/// training part, `round(n_c·val)` to the validation part and the rest to
/// the test part. `C` is the number of classes; no allocation is needed.
pub fn stratified_split<'a, X, C: ArrayLength, R: Rng + ?Sized>(
    data: &'a mut [(X, usize)],
    train: f64,
    val: f64,
    rng: &mut R,
) -> Result<Split<'a, (X, usize)>, SplitError> {
    if !(train.is_finite() && val.is_finite() && train >= 0.0 && val >= 0.0 && train + val <= 1.0 + 1e-12) {
        return Err(SplitError::BadFractions);
    }
    let mut counts = GenericArray::<usize, C>::default();
    for (sample, (_, class)) in data.iter().enumerate() {
        let slot =
            counts.get_mut(*class).ok_or(SplitError::ClassOutOfRange { sample, class: *class, classes: C::USIZE })?;
        *slot += 1;
    }
    shuffle(data, rng);
    let quota = |fraction: f64| counts.clone().map(|n| libm::round(n as f64 * fraction) as usize);
    let (train_quota, val_quota) = (quota(train), quota(val));
    let train_end = take_quota(data, train_quota);
    let (train_part, rest) = data.split_at_mut(train_end);
    let val_end = take_quota(rest, val_quota);
    let (val_part, test_part) = rest.split_at_mut(val_end);
    Ok(Split { train: train_part, val: val_part, test: test_part })
}

/// Moves to the front the first `quota[c]` samples of each class `c` (the
/// others keep no particular order); returns how many were moved.
fn take_quota<X, C: ArrayLength>(data: &mut [(X, usize)], mut quota: GenericArray<usize, C>) -> usize {
    let mut end = 0;
    for i in 0..data.len() {
        let class = data[i].1;
        if quota[class] > 0 {
            quota[class] -= 1;
            data.swap(end, i);
            end += 1;
        }
    }
    end
}

/// Fisher–Yates shuffle in place, driven by `rng`.
///
/// [`stratified_split`] draws its split with it. Training does not move
/// the data: each epoch visits it in the order of a
/// [`Permutation`](crate::train::Permutation) instead.
///
/// ```
/// use typenet::prelude::*;
/// let mut items = [0, 1, 2, 3, 4, 5, 6, 7];
/// typenet::data::shuffle(&mut items, &mut Xoshiro256PlusPlus::seed_from_u64(1));
/// items.sort();
/// assert_eq!(items, [0, 1, 2, 3, 4, 5, 6, 7]);
/// ```
pub fn shuffle<S, R: Rng + ?Sized>(items: &mut [S], rng: &mut R) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        // `mem::swap` of two distinct elements swaps in registers;
        // `slice::swap` goes through a temporary (three copies).
        let (front, back) = items.split_at_mut(i);
        if let Some(other) = front.get_mut(j) {
            core::mem::swap(other, &mut back[0]);
        }
    }
}

/// Per-feature affine scaling `x ← (x − offset) · factor`, fitted on one
/// set of samples (the training part) and applied to any.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaler<X> {
    /// Subtracted from each feature.
    pub offset: X,
    /// Then multiplied into each feature.
    pub factor: X,
}

impl<X: Tensor> Scaler<X> {
    /// Standardisation: zero mean and unit variance per feature over
    /// `samples` (features with no variance are only centred).
    pub fn standardize<Y>(samples: &[(X, Y)]) -> Self {
        let n = samples.len().max(1) as f64;
        let mut offset = X::default();
        let mut factor = X::default();
        for (k, (o, f)) in offset.as_flat_mut().iter_mut().zip(factor.as_flat_mut()).enumerate() {
            let mean = samples.iter().map(|(x, _)| x.as_flat()[k].to_f64()).sum::<f64>() / n;
            let var = samples.iter().map(|(x, _)| (x.as_flat()[k].to_f64() - mean).powi(2)).sum::<f64>() / n;
            *o = X::Scalar::from_f64(mean);
            *f = X::Scalar::from_f64(if var > 0.0 { 1.0 / Float::sqrt(var) } else { 1.0 });
        }
        Scaler { offset, factor }
    }

    /// Min-max scaling of each feature to [0, 1] over `samples` (constant
    /// features map to 0).
    pub fn min_max<Y>(samples: &[(X, Y)]) -> Self {
        let mut offset = X::default();
        let mut factor = X::default();
        for (k, (o, f)) in offset.as_flat_mut().iter_mut().zip(factor.as_flat_mut()).enumerate() {
            let values = samples.iter().map(|(x, _)| x.as_flat()[k].to_f64());
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let (lo, range) = if lo.is_finite() { (lo, hi - lo) } else { (0.0, 0.0) };
            *o = X::Scalar::from_f64(lo);
            *f = X::Scalar::from_f64(if range > 0.0 { 1.0 / range } else { 1.0 });
        }
        Scaler { offset, factor }
    }

    /// Scales one input in place.
    pub fn scale(&self, x: &mut X) {
        for ((v, &o), &f) in x.as_flat_mut().iter_mut().zip(self.offset.as_flat()).zip(self.factor.as_flat()) {
            *v = (*v - o) * f;
        }
    }

    /// Scales every sample's input in place.
    pub fn apply<Y>(&self, samples: &mut [(X, Y)]) {
        for (x, _) in samples {
            self.scale(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn labelled(n: usize, classes: usize) -> [(Vector<f64, U1>, usize); 90] {
        core::array::from_fn(|i| (vector([i as f64]), (i % n.max(1)) % classes))
    }

    #[test]
    fn split_is_stratified_disjoint_and_deterministic() {
        let mut data = labelled(90, 3);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let split = stratified_split::<_, U3, _>(&mut data, 0.6, 0.2, &mut rng).unwrap();
        assert_eq!((split.train.len(), split.val.len(), split.test.len()), (54, 18, 18));
        for part in [&split.train, &split.val, &split.test] {
            let per_class = |c| part.iter().filter(|s| s.1 == c).count();
            assert_eq!(per_class(0) * 3, part.len());
            assert_eq!(per_class(1), per_class(2));
        }
        let mut ids: [f64; 90] = core::array::from_fn(|i| data[i].0[0]);
        ids.sort_by(f64::total_cmp);
        assert!(ids.iter().enumerate().all(|(i, &v)| v == i as f64), "every sample exactly once");

        let mut again = labelled(90, 3);
        stratified_split::<_, U3, _>(&mut again, 0.6, 0.2, &mut Xoshiro256PlusPlus::seed_from_u64(4)).unwrap();
        assert_eq!(data, again);
        let mut other = labelled(90, 3);
        stratified_split::<_, U3, _>(&mut other, 0.6, 0.2, &mut Xoshiro256PlusPlus::seed_from_u64(5)).unwrap();
        assert_ne!(data, other);
    }

    #[test]
    fn split_errors_are_typed() {
        let mut data = labelled(90, 3);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let err = stratified_split::<_, U2, _>(&mut data, 0.6, 0.2, &mut rng).unwrap_err();
        assert_eq!(err, SplitError::ClassOutOfRange { sample: 2, class: 2, classes: 2 });
        assert_eq!(stratified_split::<_, U3, _>(&mut data, 0.9, 0.2, &mut rng).unwrap_err(), SplitError::BadFractions);
    }

    #[test]
    fn scalers_fit_on_one_set() {
        let mut data = [(vector([1.0f64, 5.0]), 0), (vector([3.0, 5.0]), 0), (vector([5.0, 5.0]), 0)];
        let standard = Scaler::standardize(&data);
        let min_max = Scaler::min_max(&data);
        let mut x = vector([3.0, 7.0]);
        min_max.scale(&mut x);
        assert_eq!(x.as_slice(), &[0.5, 2.0]);
        standard.apply(&mut data);
        let mean: f64 = data.iter().map(|s| s.0[0]).sum::<f64>() / 3.0;
        let var: f64 = data.iter().map(|s| s.0[0] * s.0[0]).sum::<f64>() / 3.0;
        assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-12);
        assert!(data.iter().all(|s| s.0[1] == 0.0), "a constant feature is only centred");
    }
}
