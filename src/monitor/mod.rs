//! Ready-made [`Monitor`]s for training on a workstation: a progress bar, a
//! CSV log, the history of every epoch and an SVG plot of the curves, and
//! tuples of monitors, which watch together.
//!
//! ```
//! # #[cfg(all(feature = "progress", feature = "plot"))] {
//! use typenet::monitor::{CsvLog, Progress, SvgPlot};
//! use typenet::prelude::*;
//!
//! type Xor = net![Dense<U2, U8>, Tanh, Dense<U8, U1>, Sigmoid];
//! let data = [([0.0f32, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
//!     .map(|(x, y)| (vector(x), vector([y])));
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut model = Xor::default();
//! model.init_with(XavierUniform, &mut rng);
//! let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
//!
//! let dir = std::env::temp_dir().join("typenet-doc-monitor");
//! let mut monitors = (
//!     Progress::new(100),
//!     CsvLog::create(dir.join("log.csv"))?,
//!     SvgPlot::new(dir.join("curves.svg"), "XOR, 2-8-1, Adam"),
//! );
//! trainer.fit(&mut model, &Bce, &data, &mut rng).validate_on(&data).epochs(100).monitor(&mut monitors).run()?;
//! let (progress, log, plot) = monitors;
//! progress.finish();
//! log.finish()?;
//! let history = plot.finish()?;
//! assert_eq!(history.reports().len(), 100);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | monitor | does | feature |
//! | --- | --- | --- |
//! | [`Progress`] | bars over epochs and batches, live loss and accuracy | `progress` |
//! | [`CsvLog`] | a CSV row per epoch to a file or any writer, flushed each epoch | `std` |
//! | [`History`] | keeps every epoch's report | `std` |
//! | [`SvgPlot`], [`Curves`] | loss and accuracy curves as an SVG image | `plot` |
//! | tuples `(A, B, …)` | every member watches; training stops if any asks | always |
//!
//! `progress` and `plot` are default features (with `std`); the tuples need
//! no feature and no allocator, so firmware composes its own monitors too.
//!
//! # Watching together
//!
//! A tuple of up to eight monitors is a monitor: each member hears of every
//! batch and every epoch, in order, and training stops if any asks to stop
//! (all members still hear of that last epoch). Pass the tuple by `&mut` to
//! keep its members, or a tuple of `&mut` to keep them apart.
//!
//! ```
//! use core::ops::ControlFlow;
//! use typenet::train::{EpochReport, Metrics, Monitor, on_epoch};
//!
//! let mut heard = 0;
//! let stop_at_2 = on_epoch(|r: &EpochReport| if r.epoch == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) });
//! let listen = on_epoch(|_: &EpochReport| {
//!     heard += 1;
//!     ControlFlow::Continue(())
//! });
//! let mut both = (stop_at_2, listen);
//! let report = |epoch| EpochReport { epoch, train: Metrics { loss: 0.5, accuracy: Some(0.5) }, val: None, lr: 0.1 };
//! assert!(both.on_epoch(&report(1)).is_continue());
//! // The first member asks to stop; the second still hears of the epoch.
//! assert!(both.on_epoch(&report(2)).is_break());
//! drop(both);
//! assert_eq!(heard, 2);
//! ```
//!
//! # Errors
//!
//! The monitors that write ([`CsvLog`], [`SvgPlot`]) never panic on I/O: the
//! first failure is kept as a [`MonitorError`] naming the file and the
//! epoch, training stops at the end of that epoch (the trait's
//! `ControlFlow::Break`: `Fit::stopped_early` is set unless that epoch was
//! the last), and the monitor's `finish()` returns the error.

#[cfg(doc)]
use crate::train::Monitor;
#[cfg(any(feature = "progress", feature = "plot"))]
use crate::{scalar::Scalar, train::Metrics};

mod compose;
#[cfg(feature = "std")]
mod csv_log;
#[cfg(feature = "std")]
mod error;
#[cfg(feature = "std")]
mod history;
#[cfg(feature = "plot")]
mod plot;
#[cfg(feature = "progress")]
mod progress;

#[cfg(feature = "std")]
pub use csv_log::CsvLog;
#[cfg(feature = "std")]
pub use error::MonitorError;
#[cfg(feature = "std")]
pub use history::History;
#[cfg(feature = "plot")]
pub use plot::{Curves, SvgPlot};
#[cfg(feature = "progress")]
pub use progress::Progress;

/// The accuracy of `metrics` as the monitors show it, `None` where the
/// cost has no accuracy: the one place the monitors read
/// [`Metrics::accuracy`].
#[cfg(any(feature = "progress", feature = "plot"))]
fn accuracy<T: Scalar>(metrics: &Metrics<T>) -> Option<f64> {
    metrics.accuracy.map(|a| a.to_f64())
}
