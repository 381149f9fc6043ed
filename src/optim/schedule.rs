//! Learning-rate schedules: how the rate changes from epoch to epoch.
//!
//! A schedule is a type, attached to an optimiser with
//! [`Optimizer::scheduled`], so a firmware links only the schedule it
//! names (the cosine's `cos` comes with [`CosineAnnealing`] alone).
//!
//! ```
//! use typenet::optim::{CosineAnnealing, Optimizer, Schedule, StepDecay};
//! use typenet::prelude::*;
//!
//! let step = StepDecay { every: 10, gamma: 0.5f32 };
//! assert_eq!((step.lr(0.1, 9), step.lr(0.1, 10)), (0.1, 0.05));
//! let cosine = CosineAnnealing { epochs: 100, min_lr: 0.0 };
//! assert!((cosine.lr(0.1f32, 50) - 0.05).abs() < 1e-8);
//!
//! // The trainer asks the optimiser for each epoch's rate.
//! let adam = Adam::new(0.01f32).scheduled(cosine);
//! assert_eq!(adam.rate_at(100), 0.0);
//! ```

use super::{OptimError, Optimizer, Range};
use crate::layer::Params;
use crate::memory::Zeroable;
use crate::scalar::Scalar;

/// A learning rate per epoch, from a base rate.
pub trait Schedule<T: Scalar> {
    /// The rate of `epoch` (from 0) for base rate `base`.
    fn lr(&self, base: T, epoch: usize) -> T;

    /// Checks the schedule's numbers (each finite and at least 0: a
    /// negative factor would make every other rate negative).
    fn validate(&self) -> Result<(), OptimError>;
}

/// The base rate throughout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Constant;

impl<T: Scalar> Schedule<T> for Constant {
    #[inline]
    fn lr(&self, base: T, _: usize) -> T {
        base
    }
    fn validate(&self) -> Result<(), OptimError> {
        Ok(())
    }
}

/// Multiplies the rate by `gamma` every `every` epochs (PyTorch's `StepLR`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepDecay<T = f32> {
    /// Epochs between decays.
    pub every: usize,
    /// The factor.
    pub gamma: T,
}

impl<T: Scalar> Schedule<T> for StepDecay<T> {
    #[inline]
    fn lr(&self, base: T, epoch: usize) -> T {
        base * super::powi(self.gamma, (epoch / self.every.max(1)) as u64)
    }
    fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check("StepDecay", "gamma", self.gamma)
    }
}

/// Multiplies the rate by `gamma` every epoch (PyTorch's `ExponentialLR`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialDecay<T = f32> {
    /// The factor.
    pub gamma: T,
}

impl<T: Scalar> Schedule<T> for ExponentialDecay<T> {
    #[inline]
    fn lr(&self, base: T, epoch: usize) -> T {
        base * super::powi(self.gamma, epoch as u64)
    }
    fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check("ExponentialDecay", "gamma", self.gamma)
    }
}

/// Cosine annealing from the base rate to `min_lr` over `epochs`, then
/// `min_lr` (PyTorch's `CosineAnnealingLR` with `T_max = epochs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealing<T = f32> {
    /// The length of the decay.
    pub epochs: usize,
    /// The final rate.
    pub min_lr: T,
}

impl<T: Scalar> Schedule<T> for CosineAnnealing<T> {
    #[inline]
    fn lr(&self, base: T, epoch: usize) -> T {
        let progress = T::from_usize(epoch.min(self.epochs)) / T::from_usize(self.epochs.max(1));
        let pi = T::from_f64(core::f64::consts::PI);
        let two = T::one() + T::one();
        self.min_lr + (base - self.min_lr) * (T::one() + (pi * progress).cos()) / two
    }
    fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check("CosineAnnealing", "min_lr", self.min_lr)
    }
}

/// An optimiser whose rate follows a [`Schedule`]: what
/// [`Optimizer::scheduled`] makes. It updates as the optimiser does; the
/// [`Trainer`](crate::train::Trainer) asks it for each epoch's rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scheduled<O, S> {
    /// The optimiser.
    pub optimizer: O,
    /// Its schedule.
    pub schedule: S,
}

impl<T: Scalar, O: Optimizer<T>, S: Schedule<T>> Optimizer<T> for Scheduled<O, S> {
    type State<G: Zeroable + Default> = O::State<G>;

    const NAME: &'static str = O::NAME;

    #[inline]
    fn learning_rate(&self) -> T {
        self.optimizer.learning_rate()
    }

    #[inline]
    fn rate_at(&self, epoch: usize) -> T {
        self.schedule.lr(self.optimizer.learning_rate(), epoch)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.optimizer.validate()?;
        self.schedule.validate()
    }

    #[inline]
    fn update<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut Self::State<P::Grads>,
        lr: T,
    ) -> Result<(), OptimError> {
        self.optimizer.update(params, grads, state, lr)
    }
}
