//! Optimisers and learning-rate schedules.
//!
//! An optimiser holds its hyperparameters; its state (momentum, Adam's
//! moments) has the shape of the gradients, a fixed-size value the trainer
//! keeps beside them. Every update follows PyTorch's `torch.optim` formulas,
//! and the tests check them against values computed by PyTorch.
//!
//! | optimiser | state | PyTorch |
//! | --- | --- | --- |
//! | [`Sgd`] | none | `SGD(lr)` |
//! | [`Momentum`] | velocity | `SGD(lr, momentum, nesterov)` |
//! | [`Adam`] | two moments and a step count | `Adam(lr, betas, eps)` and `AdamW(…, weight_decay)` |
//! | [`RmsProp`] | squared-gradient average | `RMSprop(lr, alpha, eps)` |
//!
//! # The learning rate and weight decay: one place each
//!
//! The learning rate is the optimiser's (its `lr` and, with
//! [`scheduled`](Optimizer::scheduled), its schedule): the
//! [`Trainer`](crate::train::Trainer) asks [`Optimizer::rate_at`] for each
//! epoch's rate, and nothing else sets it.
//!
//! Weight decay has two forms, one knob each:
//!
//! | form | knob | PyTorch |
//! | --- | --- | --- |
//! | coupled: `l2·θ` added to the gradient (an L2 penalty `l2/2·Σθ²` in the reported loss) | [`Config::l2`](crate::train::Config::l2), any optimiser | `weight_decay` of `SGD`, `Adam`, `RMSprop` |
//! | decoupled: `θ ← θ(1 − lr·wd)` beside Adam's step | [`Adam::weight_decay`] ([`Adam::adamw`]) | `AdamW(weight_decay)` |
//!
//! Use the coupled one with SGD, momentum and RMSprop (there the two forms
//! coincide up to the rate's scale), the decoupled one with Adam.
//!
//! ```
//! use typenet::prelude::*;
//!
//! let mut dense = Dense::<U1, U1, f64>::new(matrix([[1.0]]), vector([0.0]));
//! let mut grads = Dense::new(matrix([[0.5]]), vector([-1.0]));
//! let adam = Adam::new(0.1);
//! let mut state = Default::default();
//! adam.step(&mut dense, &mut grads, &mut state, adam.learning_rate())?;
//! // Adam's first step moves each parameter by lr against its gradient's sign.
//! assert!((dense.weight[0][0] - 0.9).abs() < 1e-7); // up to ε = 1e-8
//! assert!((dense.bias[0] - 0.1).abs() < 1e-7);
//! # Ok::<(), typenet::optim::OptimError>(())
//! ```
//!
//! # An update is all or nothing
//!
//! [`Optimizer::step`] first checks its hyperparameters and the learning
//! rate against the ranges PyTorch accepts, then computes every new value
//! (parameters and state) without writing it, and writes them only when
//! all are finite. Otherwise it returns an [`OptimError`] and the
//! parameters and the state are exactly as they were:
//!
//! ```
//! use typenet::optim::OptimError;
//! use typenet::prelude::*;
//!
//! let mut dense = Dense::<U1, U1>::new(matrix([[1.0]]), vector([0.0]));
//! let mut grads = Dense::new(matrix([[1e30]]), vector([0.0]));
//! let mut state = Default::default();
//! let sgd = Sgd::new(1e10); // 1e10 · 1e30 overflows f32
//! assert_eq!(sgd.step(&mut dense, &mut grads, &mut state, sgd.lr), Err(OptimError::NonFiniteUpdate));
//! assert_eq!(dense.weight[0][0], 1.0);
//!
//! let adam = Adam { beta1: 1.0, ..Adam::new(0.1) }; // PyTorch: "Invalid beta parameter at index 0"
//! let err = adam.step(&mut dense, &mut grads, &mut Default::default(), adam.lr).unwrap_err();
//! assert_eq!(err.to_string(), "Adam's beta1 is 1, it must be at least 0 and below 1");
//! ```

mod adam;
mod rmsprop;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamState};
pub use rmsprop::{RmsProp, RmsPropState};
pub use schedule::{Constant, CosineAnnealing, ExponentialDecay, Schedule, Scheduled, StepDecay};
pub use sgd::{Momentum, MomentumState, Sgd};

use core::fmt;

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::scalar::{Scalar, Value};

/// Updates parameters of scalar `T` from their gradients.
///
/// The hyperparameters are in `T` too, so an `f32` model trains in single
/// precision throughout (on a Cortex-M4F, no software `f64` is linked).
pub trait Optimizer<T: Scalar> {
    /// The state kept between steps for gradients of type `G`.
    type State<G: Zeroable + Default>: Zeroable + Default;

    /// The optimiser's name in messages (`"Adam"`).
    const NAME: &'static str;

    /// The base learning rate.
    fn learning_rate(&self) -> T;

    /// The learning rate of `epoch` (from 0): the base rate, unless a
    /// [`Schedule`] is attached ([`Scheduled`]).
    #[inline]
    fn rate_at(&self, epoch: usize) -> T {
        let _ = epoch;
        self.learning_rate()
    }

    /// Checks the hyperparameters against the ranges PyTorch accepts (and
    /// that each is finite).
    fn validate(&self) -> Result<(), OptimError>;

    /// One update of `params` with `grads` at learning rate `lr`, all or
    /// nothing: after an `Err`, `params` and `state` are as they were.
    ///
    /// Errors: [`OptimError::Invalid`] for a hyperparameter or a rate out
    /// of range ([`validate`](Self::validate), then `lr`: finite and at
    /// least 0, see [`checked_rate`]), then whatever
    /// [`update`](Self::update) refuses. `grads` is only read. The
    /// [`Trainer`](crate::train::Trainer) checks the settings once as it
    /// starts and the rate once per epoch, then calls `update` per step.
    #[inline]
    fn step<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut Self::State<P::Grads>,
        lr: T,
    ) -> Result<(), OptimError> {
        self.validate()?;
        checked_rate(Self::NAME, lr)?;
        self.update(params, grads, state, lr)
    }

    /// The update of [`step`](Self::step) on hyperparameters and a rate
    /// already checked: [`OptimError::NonFiniteUpdate`] when a new parameter
    /// or state value would be NaN or infinite, and then nothing is
    /// written. An optimiser of one's own gets this from
    /// [`apply_all_or_nothing`] (see [`Update`]).
    fn update<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut Self::State<P::Grads>,
        lr: T,
    ) -> Result<(), OptimError>;

    /// This optimiser with its rate following `schedule` from epoch to
    /// epoch.
    ///
    /// ```
    /// use typenet::optim::{Optimizer, StepDecay};
    /// use typenet::prelude::*;
    /// let sgd = Sgd::new(0.1f32).scheduled(StepDecay { every: 10, gamma: 0.5 });
    /// assert_eq!((sgd.rate_at(9), sgd.rate_at(10)), (0.1, 0.05));
    /// ```
    fn scheduled<S: Schedule<T>>(self, schedule: S) -> Scheduled<Self, S>
    where
        Self: Sized,
    {
        Scheduled { optimizer: self, schedule }
    }
}

/// Why an optimiser refused to update.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OptimError {
    /// A hyperparameter (or the learning rate) is outside its range.
    Invalid {
        /// Whose: `"Adam"`, `"Sgd"`, `"Config"`, ….
        owner: &'static str,
        /// Which: `"beta1"`, `"lr"`, ….
        name: &'static str,
        /// Its value, in the type it had.
        value: Value,
        /// The range it must be in, in words.
        range: Range,
    },
    /// The update would make a parameter or a value of the optimiser's
    /// state NaN or infinite (a learning rate too large for the gradients,
    /// `eps = 0` where a gradient is 0, an overflow); nothing was written.
    NonFiniteUpdate,
}

/// The range a hyperparameter must be in (and finite).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Range {
    /// `x ≥ 0`.
    NonNegative,
    /// `x > 0`.
    Positive,
    /// `0 ≤ x < 1`.
    UnitOpen,
}

impl Range {
    /// Whether `x` is in the range (and finite).
    #[inline]
    pub fn contains<T: Scalar>(self, x: T) -> bool {
        x.is_finite()
            && match self {
                Range::NonNegative => x >= T::zero(),
                Range::Positive => x > T::zero(),
                Range::UnitOpen => x >= T::zero() && x < T::one(),
            }
    }

    /// `Ok` if `value` is in the range, else [`OptimError::Invalid`] naming
    /// `owner` and `name`.
    #[inline]
    pub fn check<T: Scalar>(self, owner: &'static str, name: &'static str, value: T) -> Result<(), OptimError> {
        if self.contains(value) {
            Ok(())
        } else {
            Err(OptimError::Invalid { owner, name, value: value.value(), range: self })
        }
    }
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OptimError::Invalid { owner, name, value, range } => {
                let rule = match range {
                    Range::NonNegative => "it must be finite and at least 0",
                    Range::Positive => "it must be finite and above 0",
                    Range::UnitOpen => "it must be at least 0 and below 1",
                };
                write!(f, "{owner}'s {name} is {value}, {rule}")
            }
            OptimError::NonFiniteUpdate => write!(
                f,
                "the update would make a parameter or the optimiser's state NaN or infinite \
                 (is the learning rate too large?); nothing was written"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OptimError {}

/// The learning rate `lr` checked (finite and at least 0), for `owner`'s
/// messages: what every optimiser's [`step`](Optimizer::step) does first.
///
/// ```
/// use typenet::optim::{OptimError, Range, checked_rate};
/// assert_eq!(checked_rate("Sgd", 0.5f32), Ok(0.5));
/// assert!(matches!(checked_rate("Sgd", f32::INFINITY), Err(OptimError::Invalid { range: Range::NonNegative, .. })));
/// ```
#[inline]
pub fn checked_rate<T: Scalar>(owner: &'static str, lr: T) -> Result<T, OptimError> {
    Range::NonNegative.check(owner, "lr", lr)?;
    Ok(lr)
}

/// Where an update's new values go. [`apply_all_or_nothing`] walks an
/// [`Update`] once with a commit that only looks at the new values, and
/// once more with one that writes them when they are all finite: the walk
/// is written once and monomorphised twice.
pub trait Commit<T> {
    /// Takes `value` as the new content of `slot`.
    fn put(&mut self, slot: &mut T, value: T);
}

/// Checks that every new value is finite, writing nothing.
struct AllFinite(bool);

impl<T: Scalar> Commit<T> for AllFinite {
    #[inline(always)]
    fn put(&mut self, _: &mut T, value: T) {
        // `&=`, not `&&`: branch-free, so the walk still vectorises.
        self.0 &= value.is_finite();
    }
}

/// Writes every new value.
struct Write;

impl<T> Commit<T> for Write {
    #[inline(always)]
    fn put(&mut self, slot: &mut T, value: T) {
        *slot = value;
    }
}

/// An optimiser's update of every element, with its constants in `T`
/// (one struct per optimiser, built once per step). The update is written
/// once, as [`walk`](Update::walk), and runs twice through
/// [`apply_all_or_nothing`]: the built-in optimisers are written this way,
/// and so can a user's.
///
/// ```
/// use typenet::memory::Zeroable;
/// use typenet::optim::{Commit, OptimError, Range, Update, apply_all_or_nothing};
/// use typenet::prelude::*;
/// use typenet::Scalar;
///
/// /// signSGD: `p ← p − lr·sign(g)`.
/// struct SignSgd<T> {
///     lr: T,
/// }
///
/// /// Its constants for one step.
/// struct SignStep<T> {
///     lr: T,
/// }
///
/// impl<T: Scalar, P: Params<T>> Update<T, P> for SignStep<T> {
///     type State = ();
///     fn walk(&self, params: &mut P, grads: &mut P::Grads, _: &mut (), commit: &mut impl Commit<T>) {
///         params.zip_mut([grads], &mut |p, [g]| {
///             for (p, &g) in p.iter_mut().zip(g.iter()) {
///                 commit.put(p, *p - self.lr * g.signum());
///             }
///         });
///     }
/// }
///
/// impl<T: Scalar> Optimizer<T> for SignSgd<T> {
///     const NAME: &'static str = "SignSgd";
///     type State<G: Zeroable + Default> = ();
///     fn learning_rate(&self) -> T {
///         self.lr
///     }
///     fn validate(&self) -> Result<(), OptimError> {
///         Range::NonNegative.check(Self::NAME, "lr", self.lr)
///     }
///     fn update<P: Params<T>>(
///         &self,
///         params: &mut P,
///         grads: &mut P::Grads,
///         state: &mut (),
///         lr: T,
///     ) -> Result<(), OptimError> {
///         apply_all_or_nothing(&SignStep { lr }, params, grads, state)
///     }
/// }
///
/// let mut dense = Dense::<U2, U1>::new(matrix([[1.0, 1.0]]), vector([0.0]));
/// let mut grads = Dense::new(matrix([[3.0, -0.5]]), vector([0.0]));
/// SignSgd { lr: 0.25 }.step(&mut dense, &mut grads, &mut (), 0.25)?;
/// assert_eq!(dense.weight[0], vector([0.75, 1.25]));
///
/// // A NaN gradient for the bias: no value is written, the weights' neither.
/// grads.bias[0] = f32::NAN;
/// assert_eq!(SignSgd { lr: 0.25 }.step(&mut dense, &mut grads, &mut (), 0.25), Err(OptimError::NonFiniteUpdate));
/// assert_eq!(dense.weight[0], vector([0.75, 1.25]));
/// # Ok::<(), OptimError>(())
/// ```
pub trait Update<T: Scalar, P: Params<T>> {
    /// The optimiser's state for `P` (`()` for plain SGD).
    type State;

    /// Computes each new parameter and state value and hands it to
    /// `commit`, which checks it or writes it.
    fn walk(&self, params: &mut P, grads: &mut P::Grads, state: &mut Self::State, commit: &mut impl Commit<T>);
}

/// Checks every new value of `update`, then writes them all if they are
/// all finite; else nothing is written and the error is
/// [`OptimError::NonFiniteUpdate`]. See [`Update`] for an optimiser built on
/// it.
#[inline(always)]
pub fn apply_all_or_nothing<T: Scalar, P: Params<T>, U: Update<T, P>>(
    update: &U,
    params: &mut P,
    grads: &mut P::Grads,
    state: &mut U::State,
) -> Result<(), OptimError> {
    let mut finite = AllFinite(true);
    update.walk(params, grads, state, &mut finite);
    if !finite.0 {
        return Err(OptimError::NonFiniteUpdate);
    }
    update.walk(params, grads, state, &mut Write);
    Ok(())
}

/// `base` to the power `n`, by repeated squaring: at most two
/// multiplications per bit of `n`.
///
/// Adam's bias corrections (`β₁ᵗ`, `β₂ᵗ`, every step) and the step and
/// exponential schedules raise to integer powers. `pow` does that in
/// thousands of instructions on a core without an FPU for the type, and
/// brings kilobytes of code; this takes a few dozen. Each squaring doubles
/// the relative error so far, so it is at most about `n·ε`, and for
/// `0 ≤ base < 1` the absolute error stays below `ε/(1 − base)` for
/// every `n`: at most 10⁻¹³ in `f64` and 1.2·10⁻⁴ in `f32` for β₂ = 0.999
/// (largest near `t = 1/(1 − β)`, where Adam's bias correction `1 − βᵗ`
/// is about 0.63: under 2·10⁻⁴ of it).
fn powi<T: Scalar>(mut base: T, mut n: u64) -> T {
    let mut result = T::one();
    while n > 0 {
        if n & 1 == 1 {
            result = result * base;
        }
        n >>= 1;
        if n > 0 {
            base = base * base;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::powi;

    #[test]
    fn powi_in_f32_agrees_with_pow_within_its_bound() {
        for beta in [0.9f32, 0.99, 0.999] {
            for t in (0..5000).chain([1 << 20, u64::MAX]) {
                let (ours, pow) = (f64::from(powi(beta, t)), libm::pow(f64::from(beta), t as f64));
                let bound = f64::from(f32::EPSILON) / (1.0 - f64::from(beta));
                assert!((ours - pow).abs() <= bound, "{beta}^{t}: {ours} vs {pow}");
            }
        }
    }

    #[test]
    fn powi_agrees_with_pow_within_its_bound() {
        assert_eq!(powi(0.9f64, 0), 1.0);
        assert_eq!(powi(0.9, 1), 0.9);
        assert_eq!(powi(0.9, 2), 0.9 * 0.9);
        assert_eq!(powi(2.0, 10), 1024.0);
        assert_eq!(powi(0.5, 1100), 0.0);
        assert_eq!(powi(-1.5, 3), -3.375);
        for beta in [0.5, 0.9, 0.95, 0.99, 0.999, 0.9999] {
            let exponents = (0..3000).chain([10_000, 123_457, 1 << 20, u32::MAX as u64, u64::MAX]);
            for t in exponents {
                let (ours, pow) = (powi(beta, t), libm::pow(beta, t as f64));
                let bound = f64::EPSILON / (1.0 - beta);
                assert!((ours - pow).abs() <= bound, "{beta}^{t}: {ours} vs {pow}");
                if t <= 64 {
                    assert!((ours - pow).abs() <= 64.0 * f64::EPSILON * pow, "{beta}^{t}: {ours} vs {pow}");
                }
            }
        }
    }
}
