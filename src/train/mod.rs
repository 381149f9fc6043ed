//! The training loop: mini-batches, regularisation, validation, reports.
//!
//! A [`Trainer`] holds everything training needs besides the model: the
//! gradients, the cache of the training forward, the optimiser and its
//! state, and the [`Config`]. All of it has a size known at compile time,
//! so it can live on the stack, in a `static` or in a `Box`
//! ([`Trainer::boxed`], [`Trainer::new_in`]), and nothing allocates.
//!
//! ```
//! use core::ops::ControlFlow;
//! use typenet::prelude::*;
//! use typenet::train::on_epoch;
//!
//! type Xor = net![Dense<U2, U8>, Tanh, Dense<U8, U1>, Sigmoid];
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
//! let mut model = Xor::default();
//! model.init(&mut rng);
//!
//! let data = [
//!     (vector([0.0f32, 0.0]), vector([0.0])),
//!     (vector([0.0, 1.0]), vector([1.0])),
//!     (vector([1.0, 0.0]), vector([1.0])),
//!     (vector([1.0, 1.0]), vector([0.0])),
//! ];
//! let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
//! let fit = trainer
//!     .fit(&mut model, &Bce, &data, &[], 300, &mut rng, on_epoch(|report| {
//!         if report.train.accuracy == 1.0 && report.train.loss < 0.05 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
//!     }))
//!     .unwrap();
//! assert!(fit.stopped_early);
//! assert_eq!(evaluate(&model, &Bce, &data).unwrap().accuracy, 1.0);
//! ```

mod error;
mod order;
mod regularize;
mod report;
mod trainer;

pub use error::TrainError;
pub use order::Permutation;
pub use regularize::{clip_grad_norm, grad_norm, penalty};
pub use report::{BatchReport, EpochReport, Fit, Metrics, Monitor, OnEpoch, StepResult, evaluate, on_epoch};
pub use trainer::{Config, DEFAULT_BLOCK, Trainer};
