//! Learning-rate schedules.

/// How the learning rate changes from epoch to epoch (epochs count from 0).
///
/// ```
/// use typenet::optim::Schedule;
/// let step = Schedule::Step { every: 10, gamma: 0.5 };
/// assert_eq!(step.lr(0.1, 9), 0.1);
/// assert_eq!(step.lr(0.1, 10), 0.05);
/// let cosine = Schedule::Cosine { epochs: 100, min_lr: 0.0 };
/// assert!((cosine.lr(0.1, 50) - 0.05).abs() < 1e-7);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Multiply by `gamma` every `every` epochs (PyTorch's `StepLR`).
    Step {
        /// Epochs between decays.
        every: usize,
        /// The factor.
        gamma: f64,
    },
    /// Multiply by `gamma` every epoch (PyTorch's `ExponentialLR`).
    Exponential {
        /// The factor.
        gamma: f64,
    },
    /// Cosine annealing from the base rate to `min_lr` over `epochs`
    /// (PyTorch's `CosineAnnealingLR` with `T_max = epochs`), then `min_lr`.
    Cosine {
        /// The length of the decay.
        epochs: usize,
        /// The final rate.
        min_lr: f64,
    },
}

impl Schedule {
    /// Checks the schedule's numbers: each `gamma` and `min_lr` finite and
    /// at least 0 (a negative factor would make every other rate negative).
    ///
    /// ```
    /// use typenet::optim::Schedule;
    /// assert!(Schedule::Exponential { gamma: 0.95 }.validate().is_ok());
    /// assert!(Schedule::Exponential { gamma: -0.95 }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), super::OptimError> {
        use super::Range::NonNegative;
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step { gamma, .. } | Schedule::Exponential { gamma } => {
                NonNegative.check("Schedule", "gamma", gamma)
            }
            Schedule::Cosine { min_lr, .. } => NonNegative.check("Schedule", "min_lr", min_lr),
        }
    }

    /// The learning rate at `epoch` for base rate `base`.
    pub fn lr(&self, base: f64, epoch: usize) -> f64 {
        let rate = match *self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => base * super::powi(gamma, (epoch / every.max(1)) as u64),
            Schedule::Exponential { gamma } => base * super::powi(gamma, epoch as u64),
            Schedule::Cosine { epochs, min_lr } => {
                let progress = epoch.min(epochs) as f64 / epochs.max(1) as f64;
                let min = min_lr;
                min + (base - min) * (1.0 + libm::cos(core::f64::consts::PI * progress)) / 2.0
            }
        };
        rate as f64
    }
}
