//! Data sets: random and stratified splits, shuffling, imputation of
//! missing values, feature and target scaling, and (with `std`) CSV and
//! IDX (MNIST) loading.
//!
//! A data set is a slice of `(input, target)` samples: [`Labelled`] for
//! classification, [`Regression`] for regression. Splitting, shuffling,
//! imputing and scaling work in place on that slice, with no allocator,
//! so they run on a microcontroller too; loading a file needs `std`.
//!
//! | step | classification | regression |
//! | --- | --- | --- |
//! | load (`std`) | [`Csv::classification`], [`load_csv`] | [`Csv::regression`] (target by name, skipped columns, missing values dropped or kept as NaN) |
//! | split | [`stratified_split`], [`stratified_split_exact`] | [`random_split`], [`random_split_exact`] |
//! | fill missing features | [`Imputer::mean`] | [`Imputer::mean`] |
//! | scale features | [`Scaler::standardize`], [`Scaler::min_max`] | the same |
//! | scale targets | | [`Scaler::standardize_targets`], [`Scaler::inverse`] |
//! | keep the scaling in the model | [`Standardize`](crate::layers::Standardize) | [`Standardize`](crate::layers::Standardize), [`Unstandardize`](crate::layers::Unstandardize) |
//!
//! Each is fitted on the training part and applied to every part.
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
//!
//! [`stratified_split_exact`] is the split to use when another program
//! (a PyTorch twin, say) must draw the very same parts: exact part sizes
//! and its own fully specified generator, [`SplitMix64`].

#[cfg(feature = "std")]
mod csv;

#[cfg(feature = "std")]
mod idx;

#[cfg(feature = "std")]
pub use self::csv::{Column, Csv, CsvError, Field, Header, Loaded, MISSING, Missing, Place, load_csv, read_csv};
#[cfg(feature = "std")]
pub use self::idx::{IdxError, LabelledImage, load_idx};

use core::fmt;

use generic_array::functional::FunctionalSequence;
use generic_array::{ArrayLength, GenericArray};
use num_traits::Float;
use rand::{Rng, RngExt};

use crate::scalar::Scalar;
use crate::shape::Tensor;

/// A path as a loading error names it: `(empty path)` for an empty one,
/// which `Path::display` prints as nothing.
#[cfg(feature = "std")]
struct ShownPath<'a>(&'a std::path::Path);

#[cfg(feature = "std")]
impl fmt::Display for ShownPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.as_os_str().is_empty() { write!(f, "(empty path)") } else { write!(f, "{}", self.0.display()) }
    }
}

/// A sample of a classification data set: features and a class index.
pub type Labelled<T, N> = (crate::shape::Vector<T, N>, usize);

/// A sample of a regression data set: features and `M` real targets (one
/// by default, as [`Mse`](crate::loss::Mse) takes it).
pub type Regression<T, N, M = typenum::U1> = (crate::shape::Vector<T, N>, crate::shape::Vector<T, M>);

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
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
    /// The training and validation parts asked for need more samples than
    /// there are.
    TooFewSamples {
        /// Training plus validation samples asked for.
        requested: usize,
        /// Samples in the data set.
        available: usize,
    },
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
            SplitError::TooFewSamples { requested, available } => {
                write!(f, "the training and validation parts need {requested} samples, the data set has {available}")
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

/// Splits `data` in place into a training part of exactly `train`
/// samples, a validation part of exactly `val` and a test part of the rest,
/// each with the class proportions of the whole as nearly as whole samples
/// allow, drawn from `seed` by a procedure simple enough to repeat exactly
/// in another language (`tools/mnist/mnist_data.py` does, in Python).
///
/// `C` is the number of classes; no allocation is needed. The procedure, for
/// `n` samples:
///
/// 1. Shuffle: a [`SplitMix64`] seeded with `seed`; for `i` from `n − 1`
///    down to 1, swap sample `i` with sample [`below(i + 1)`](SplitMix64::below)
///    (Fisher–Yates).
/// 2. Quotas, by largest remainders (Hamilton's method), in integers: class
///    `c` of `n_c` samples gets `⌊n_c·train / n⌋` training samples, and the
///    `train − Σ⌊…⌋` classes with the largest remainders `n_c·train mod n`
///    (ties to the lower class) one more. The validation quotas apportion
///    `val` the same way over what each class has left, `r_c = n_c − train_c`,
///    in proportion to `r_c`.
/// 3. Take, in order: walking the shuffled samples from the front, each
///    sample whose class still has training quota is swapped to the end of
///    the training part so far; then the same over the rest for validation.
///    The test part is what remains.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::stratified_split_exact;
///
/// let mut data: Vec<(usize, usize)> = (0..100).map(|i| (i, i % 3)).collect();
/// let split = stratified_split_exact::<_, U3>(&mut data, 80, 10, 2026).unwrap();
/// assert_eq!((split.train.len(), split.val.len(), split.test.len()), (80, 10, 10));
/// // 34, 33 and 33 samples of the three classes: 27 + 27 + 26 train.
/// assert_eq!(split.train.iter().filter(|s| s.1 == 0).count(), 27);
/// ```
pub fn stratified_split_exact<'a, X, C: ArrayLength>(
    data: &'a mut [(X, usize)],
    train: usize,
    val: usize,
    seed: u64,
) -> Result<Split<'a, (X, usize)>, SplitError> {
    let available = data.len();
    if train.checked_add(val).is_none_or(|requested| requested > available) {
        return Err(SplitError::TooFewSamples { requested: train.saturating_add(val), available });
    }
    let mut counts = GenericArray::<usize, C>::default();
    for (sample, (_, class)) in data.iter().enumerate() {
        let slot =
            counts.get_mut(*class).ok_or(SplitError::ClassOutOfRange { sample, class: *class, classes: C::USIZE })?;
        *slot += 1;
    }
    let mut rng = SplitMix64::new(seed);
    for i in (1..data.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        data.swap(i, j);
    }
    let train_quota = apportion(&counts, train);
    let left = counts.zip(train_quota.clone(), |n, t| n - t);
    let val_quota = apportion(&left, val);
    let train_end = take_quota(data, train_quota);
    let (train_part, rest) = data.split_at_mut(train_end);
    let val_end = take_quota(rest, val_quota);
    let (val_part, test_part) = rest.split_at_mut(val_end);
    Ok(Split { train: train_part, val: val_part, test: test_part })
}

/// Splits `data` in place into training, validation and test parts of
/// `round(n·train)`, `round(n·val)` and the rest of its `n` samples, after
/// shuffling it with `rng` (so a seed fixes the split): the split for
/// regression, or for any samples without classes. The parts keep no
/// class proportions; [`stratified_split`] does.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::random_split;
///
/// let mut data: Vec<(Vector<f32, U1>, Vector<f32, U1>)> =
///     (0..10).map(|i| (vector([i as f32]), vector([2.0 * i as f32]))).collect();
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
/// let split = random_split(&mut data, 0.6, 0.2, &mut rng).unwrap();
/// assert_eq!((split.train.len(), split.val.len(), split.test.len()), (6, 2, 2));
/// ```
pub fn random_split<'a, S, R: Rng + ?Sized>(
    data: &'a mut [S],
    train: f64,
    val: f64,
    rng: &mut R,
) -> Result<Split<'a, S>, SplitError> {
    if !(train.is_finite() && val.is_finite() && train >= 0.0 && val >= 0.0 && train + val <= 1.0 + 1e-12) {
        return Err(SplitError::BadFractions);
    }
    let n = data.len();
    let train = (libm::round(n as f64 * train) as usize).min(n);
    let val = (libm::round(n as f64 * val) as usize).min(n - train);
    shuffle(data, rng);
    Ok(parts(data, train, val))
}

/// Splits `data` in place into a training part of exactly `train`
/// samples, a validation part of exactly `val` and a test part of the rest,
/// drawn from `seed` by a procedure simple enough to repeat exactly in
/// another language: `tools/fixtures/random_split.py` does, in Python, for
/// a scikit-learn model trained on the same parts.
///
/// The procedure, for `n` samples:
///
/// 1. Shuffle, as [`stratified_split_exact`] does: a [`SplitMix64`] seeded
///    with `seed`; for `i` from `n − 1` down to 1, swap sample `i` with
///    sample [`below(i + 1)`](SplitMix64::below) (Fisher–Yates).
/// 2. Cut: the first `train` samples are the training part, the next `val`
///    the validation part, the rest the test part.
///
/// In Python, with `idx = list(range(n))` shuffled by step 1, the parts
/// are the rows `idx[:train]`, `idx[train:train + val]` and
/// `idx[train + val:]` of the samples as they were, in that order. (For a
/// file loaded with dropped rows, `n` counts the rows kept, in the file's
/// order.)
///
/// ```
/// use typenet::data::random_split_exact;
///
/// let mut data: Vec<usize> = (0..10).collect();
/// let split = random_split_exact(&mut data, 6, 2, 2026).unwrap();
/// assert_eq!((split.train.len(), split.val.len(), split.test.len()), (6, 2, 2));
/// // What tools/fixtures/random_split.py prints for n=10 train=6 val=2 seed=2026.
/// assert_eq!(data, [1, 0, 6, 7, 3, 9, 2, 5, 4, 8]);
/// ```
pub fn random_split_exact<S>(data: &mut [S], train: usize, val: usize, seed: u64) -> Result<Split<'_, S>, SplitError> {
    let available = data.len();
    if train.checked_add(val).is_none_or(|requested| requested > available) {
        return Err(SplitError::TooFewSamples { requested: train.saturating_add(val), available });
    }
    let mut rng = SplitMix64::new(seed);
    for i in (1..data.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        data.swap(i, j);
    }
    Ok(parts(data, train, val))
}

/// The first `train` samples, the next `val`, the rest.
fn parts<S>(data: &mut [S], train: usize, val: usize) -> Split<'_, S> {
    let (train_part, rest) = data.split_at_mut(train);
    let (val_part, test_part) = rest.split_at_mut(val);
    Split { train: train_part, val: val_part, test: test_part }
}

/// Shares `total` (at most `Σ counts`) among the classes in proportion to
/// `counts`, by largest remainders, ties to the lower class.
fn apportion<C: ArrayLength>(counts: &GenericArray<usize, C>, total: usize) -> GenericArray<usize, C> {
    let sum = counts.iter().sum::<usize>() as u128;
    if sum == 0 {
        return GenericArray::default();
    }
    let exact = |n: usize| n as u128 * total as u128;
    let mut quota = counts.clone().map(|n| (exact(n) / sum) as usize);
    let mut given = GenericArray::<bool, C>::default();
    let leftover = total - quota.iter().sum::<usize>();
    for _ in 0..leftover {
        let mut best: Option<usize> = None;
        for c in 0..C::USIZE {
            let better = best.is_none_or(|b| exact(counts[c]) % sum > exact(counts[b]) % sum);
            if !given[c] && better {
                best = Some(c);
            }
        }
        if let Some(c) = best {
            given[c] = true;
            quota[c] += 1;
        }
    }
    quota
}

/// SplitMix64 (Steele, Lea and Flood, 2014; Vigna's `splitmix64.c`): a
/// 64-bit generator of one addition and two multiply-xorshifts, simple
/// enough to write identically in any language, for draws that another
/// program must repeat bit for bit (see [`stratified_split_exact`]). Not
/// for anything else: the training [`Rng`]s are better generators.
///
/// ```
/// use typenet::data::SplitMix64;
/// let mut rng = SplitMix64::new(1234567);
/// assert_eq!(rng.next_u64(), 6457827717110365317);
/// assert_eq!(rng.next_u64(), 3203168211198807973);
/// assert!(rng.below(10) < 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The generator whose state starts at `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits: `state += 0x9E3779B97F4A7C15`, then
    /// `z = state`, `z = (z ^ z >> 30)·0xBF58476D1CE4E5B9`,
    /// `z = (z ^ z >> 27)·0x94D049BB133111EB`, `z ^ z >> 31` (wrapping).
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 for `n = 0`): the high 64 bits of the 128-bit
    /// product `next_u64()·n` (Lemire's multiply-shift, without rejection:
    /// each value's probability is off by less than `n / 2⁶⁴`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
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
        Self::standardizing(samples.len(), || samples.iter().map(|(x, _)| x))
    }

    /// Standardisation over the `len` tensors `tensors()` gives (the
    /// samples' inputs or their targets).
    fn standardizing<'a, I: Iterator<Item = &'a X>>(len: usize, tensors: impl Fn() -> I) -> Self
    where
        X: 'a,
    {
        let n = len.max(1) as f64;
        let mut offset = X::default();
        let mut factor = X::default();
        for (k, (o, f)) in offset.as_flat_mut().iter_mut().zip(factor.as_flat_mut()).enumerate() {
            let mean = tensors().map(|x| x.as_flat()[k].to_f64()).sum::<f64>() / n;
            let var = tensors().map(|x| (x.as_flat()[k].to_f64() - mean).powi(2)).sum::<f64>() / n;
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

    /// Undoes [`scale`](Scaler::scale) in place: `x ← x / factor + offset`.
    pub fn unscale(&self, x: &mut X) {
        for ((v, &o), &f) in x.as_flat_mut().iter_mut().zip(self.offset.as_flat()).zip(self.factor.as_flat()) {
            *v = *v / f + o;
        }
    }

    /// `x` back in the units it was fitted in: a copy of `x`,
    /// [unscaled](Scaler::unscale). For a target scaler, a prediction in
    /// the target's units.
    pub fn inverse(&self, x: &X) -> X {
        let mut x = x.clone();
        self.unscale(&mut x);
        x
    }

    /// Standardisation of the targets: zero mean and unit variance per
    /// target over `samples` (a target with no variance is only centred),
    /// for regression, where a network learns better on targets of unit
    /// scale. Scale the targets with [`apply_targets`](Scaler::apply_targets)
    /// and bring predictions back with [`inverse`](Scaler::inverse).
    ///
    /// ```
    /// use typenet::prelude::*;
    /// use typenet::data::Scaler;
    ///
    /// let mut data = [(vector([0.0f64]), vector([10.0])), (vector([1.0]), vector([30.0]))];
    /// let targets = Scaler::standardize_targets(&data);
    /// targets.apply_targets(&mut data);
    /// assert_eq!((data[0].1[0], data[1].1[0]), (-1.0, 1.0));
    /// // A prediction of 0.5 (scaled) is 25 in the target's units.
    /// assert_eq!(targets.inverse(&vector([0.5]))[0], 25.0);
    /// ```
    pub fn standardize_targets<F>(samples: &[(F, X)]) -> Self {
        Self::standardizing(samples.len(), || samples.iter().map(|(_, y)| y))
    }

    /// Scales every sample's target in place.
    pub fn apply_targets<F>(&self, samples: &mut [(F, X)]) {
        for (_, y) in samples {
            self.scale(y);
        }
    }

    /// The layer that scales a network's input as this scaler does, its
    /// statistics kept as buffers and saved with the parameters:
    /// [`Standardize`](crate::layers::Standardize).
    pub fn layer(&self) -> crate::layers::Standardize<X> {
        crate::layers::Standardize::from(self)
    }

    /// The layer that undoes this scaling on a network's output (a target
    /// scaler's inverse), its statistics kept as buffers and saved with the
    /// parameters: [`Unstandardize`](crate::layers::Unstandardize).
    pub fn inverse_layer(&self) -> crate::layers::Unstandardize<X> {
        crate::layers::Unstandardize::from(self)
    }
}

/// Fills missing features (NaN) with a value per feature fitted on one set
/// of samples (the training part), in place, with no allocator.
///
/// Fit it on the training part, before a [`Scaler`] (a NaN makes a mean
/// NaN), and apply it to every part:
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::Imputer;
///
/// let nan = f32::NAN;
/// let mut train = [(vector([1.0, nan]), 0), (vector([3.0, 4.0]), 1), (vector([nan, 8.0]), 0)];
/// let mut test = [(vector([nan, nan]), 1)];
/// let imputer = Imputer::mean(&train)?;
/// assert_eq!(imputer.fill.as_slice(), &[2.0, 6.0]); // the means of the values present
/// assert_eq!(imputer.apply(&mut train), 2);
/// assert_eq!(imputer.apply(&mut test), 2);
/// assert_eq!(test[0].0.as_slice(), &[2.0, 6.0]);
/// # Ok::<(), typenet::data::ImputeError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Imputer<X> {
    /// The value that replaces a missing value of each feature.
    pub fill: X,
}

/// Why an [`Imputer`] could not be fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ImputeError {
    /// A feature has no value in any sample (every one is NaN, or there
    /// are no samples), so nothing to fill it with.
    NoValues {
        /// The feature's index in a sample (from 0).
        feature: usize,
    },
}

impl fmt::Display for ImputeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ImputeError::NoValues { feature } => {
                write!(f, "feature {feature} (from 0) has no value in the samples the imputer is fitted on")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ImputeError {}

impl<X: Tensor> Imputer<X> {
    /// Per feature, the mean of the values that are not NaN in `samples`
    /// (scikit-learn's `SimpleImputer(strategy="mean")`), summed in `f64`.
    pub fn mean<Y>(samples: &[(X, Y)]) -> Result<Self, ImputeError> {
        let mut fill = X::default();
        for (feature, v) in fill.as_flat_mut().iter_mut().enumerate() {
            let present = samples.iter().map(|(x, _)| x.as_flat()[feature]).filter(|v| !v.is_nan());
            let (sum, count) = present.fold((0.0, 0usize), |(s, c), v| (s + v.to_f64(), c + 1));
            if count == 0 {
                return Err(ImputeError::NoValues { feature });
            }
            *v = X::Scalar::from_f64(sum / count as f64);
        }
        Ok(Imputer { fill })
    }

    /// Replaces each NaN of `x` by its feature's fill value; returns how
    /// many were replaced.
    pub fn impute(&self, x: &mut X) -> usize {
        let mut filled = 0;
        for (v, &fill) in x.as_flat_mut().iter_mut().zip(self.fill.as_flat()) {
            if v.is_nan() {
                *v = fill;
                filled += 1;
            }
        }
        filled
    }

    /// [`impute`](Imputer::impute)s every sample's input; returns how many
    /// values were replaced.
    pub fn apply<Y>(&self, samples: &mut [(X, Y)]) -> usize {
        samples.iter_mut().map(|(x, _)| self.impute(x)).sum()
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
    fn exact_split_has_the_sizes_asked_for_stratified_and_deterministic() {
        // 38, 23 and 29 samples of three classes.
        let make =
            || -> [(usize, usize); 90] { core::array::from_fn(|i| (i, usize::from(i >= 38) + usize::from(i >= 61))) };
        let mut data = make();
        let counts = |part: &[(usize, usize)]| [0, 1, 2].map(|c| part.iter().filter(|s| s.1 == c).count());
        assert_eq!(counts(&data), [38, 23, 29]);
        let split = stratified_split_exact::<_, U3>(&mut data, 72, 9, 7).unwrap();
        assert_eq!((split.train.len(), split.val.len(), split.test.len()), (72, 9, 9));
        // 38·0.8 = 30.4, 23·0.8 = 18.4, 29·0.8 = 23.2: floors 71, one more to
        // the largest remainder (a tie of classes 0 and 1: the lower).
        assert_eq!(counts(split.train), [31, 18, 23]);
        // Left 7, 5, 6 of 18: 3.5, 2.5, 3 of 9 → 3, 2, 3 and one more to class 0 (tie, lower class).
        assert_eq!(counts(split.val), [4, 2, 3]);
        let mut ids: [usize; 90] = core::array::from_fn(|i| data[i].0);
        ids.sort();
        assert!(ids.iter().enumerate().all(|(i, &v)| v == i), "every sample exactly once");

        let mut again = make();
        stratified_split_exact::<_, U3>(&mut again, 72, 9, 7).unwrap();
        assert_eq!(data, again);
        let mut other = make();
        stratified_split_exact::<_, U3>(&mut other, 72, 9, 8).unwrap();
        assert_ne!(data, other);

        // Everything to training, or nothing.
        let mut all = make();
        let split = stratified_split_exact::<_, U3>(&mut all, 90, 0, 1).unwrap();
        assert_eq!((split.train.len(), split.val.len(), split.test.len()), (90, 0, 0));
        let split = stratified_split_exact::<_, U3>(&mut all, 0, 0, 1).unwrap();
        assert_eq!(split.test.len(), 90);
        let split = stratified_split_exact::<(), U3>(&mut [], 0, 0, 1).unwrap();
        assert!(split.train.is_empty() && split.test.is_empty());
    }

    #[test]
    fn exact_split_errors_are_typed() {
        let mut data: [(usize, usize); 10] = core::array::from_fn(|i| (i, i % 3));
        let e = stratified_split_exact::<_, U3>(&mut data, 8, 3, 0).unwrap_err();
        assert_eq!(e, SplitError::TooFewSamples { requested: 11, available: 10 });
        let e = stratified_split_exact::<_, U3>(&mut data, usize::MAX, 3, 0).unwrap_err();
        assert_eq!(e, SplitError::TooFewSamples { requested: usize::MAX, available: 10 });
        let e = stratified_split_exact::<_, U2>(&mut data, 8, 1, 0).unwrap_err();
        assert_eq!(e, SplitError::ClassOutOfRange { sample: 2, class: 2, classes: 2 });
    }

    #[test]
    fn splitmix64_matches_the_reference_outputs() {
        // Vigna's splitmix64.c from seed 1234567.
        let mut rng = SplitMix64::new(1234567);
        let first = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431];
        assert_eq!(core::array::from_fn(|_| rng.next_u64()), first);
        assert_eq!(SplitMix64::new(0).below(0), 0);
        let mut rng = SplitMix64::new(3);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        // below(n) is the high half of the product.
        let (mut a, mut b) = (SplitMix64::new(9), SplitMix64::new(9));
        assert_eq!(a.below(1000), ((b.next_u64() as u128 * 1000) >> 64) as u64);
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
