//! The progress bar: epochs and the current epoch's batches, with live loss
//! and accuracy.

use core::fmt::Write as _;
use core::ops::ControlFlow;
use std::format;
use std::string::String;
use std::thread;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::accuracy;
use crate::scalar::Scalar;
use crate::train::{BatchReport, EpochReport, Metrics, Monitor};

/// A [`Monitor`] that draws two bars on the terminal: the epochs, with the
/// last epoch's training and validation loss and accuracy, and the current
/// epoch's batches, with the loss and accuracy of its batches so far.
///
/// ```text
/// epoch  12/40 [=======>                      ] 00:00:02 loss 0.0712 acc 0.9814 | val loss 0.1127 acc 0.9666
///   batch   41/68 [==================>           ] loss 0.0655 acc 0.9832
/// ```
///
/// It draws on stderr, so what the program prints on stdout stays clean,
/// and it stays quiet (counts, draws nothing) when
/// - stderr is not a terminal (a pipe, a file, CI) or `TERM` is `dumb`;
/// - it is made on a thread with a name other than `main`: `cargo test`
///   runs each test on a thread named after it, so tests that train with a
///   `Progress` print nothing;
/// - it is made by [`hidden`](Self::hidden).
///
/// [`finish`](Self::finish) (or dropping it) clears the batches bar and
/// leaves the epochs line, with where training stopped and its last
/// figures.
///
/// ```
/// use typenet::monitor::Progress;
/// use typenet::train::{BatchReport, EpochReport, Metrics, Monitor, StepResult};
///
/// let mut progress = Progress::new(2);
/// for epoch in 1..=2 {
///     for batch in 0..3 {
///         let step = StepResult { loss: 0.5f32, correct: Some(6), grad_norm: 1.0 };
///         progress.on_batch(&BatchReport { epoch, batch, batches: 3, samples: 8, step });
///     }
///     let train = Metrics { loss: 0.5, accuracy: Some(0.75) };
///     let _ = progress.on_epoch(&EpochReport { epoch, train, val: None, lr: 0.01 });
/// }
/// assert_eq!(progress.epochs_done(), 2);
/// progress.finish();
/// ```
pub struct Progress {
    bars: MultiProgress,
    epochs: ProgressBar,
    batches: ProgressBar,
    /// The current epoch's loss sum, correct count and samples.
    running: (f64, usize, usize),
    /// Whether the last epoch had an accuracy, so the batches show one.
    shows_accuracy: bool,
}

impl Progress {
    /// Bars for a run of `epochs` epochs, drawn on stderr when it is a
    /// terminal and this is not a test (see above).
    pub fn new(epochs: usize) -> Self {
        let on_test_thread = thread::current().name().is_some_and(|name| name != "main");
        let target = if on_test_thread { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        Progress::with_target(epochs, target)
    }

    /// Bars that count but never draw.
    pub fn hidden(epochs: usize) -> Self {
        Progress::with_target(epochs, ProgressDrawTarget::hidden())
    }

    fn with_target(epochs: usize, target: ProgressDrawTarget) -> Self {
        let bars = MultiProgress::with_draw_target(target);
        let epochs_bar = bars.add(ProgressBar::new(epochs as u64));
        epochs_bar.set_style(
            ProgressStyle::with_template("epoch {pos:>3}/{len} [{bar:30.cyan/blue}] {elapsed_precise} {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        let batches = bars.add(ProgressBar::new(0));
        batches.set_style(
            ProgressStyle::with_template("  batch {pos:>4}/{len} [{bar:30}] {msg}").expect("a valid template"),
        );
        Progress { bars, epochs: epochs_bar, batches, running: (0.0, 0, 0), shows_accuracy: true }
    }

    /// Whether nothing is drawn (see [`Progress`]).
    pub fn is_hidden(&self) -> bool {
        self.bars.is_hidden()
    }

    /// The epochs reported so far.
    pub fn epochs_done(&self) -> usize {
        self.epochs.position() as usize
    }

    /// Clears the batches bar and leaves the epochs line as it stands (also
    /// done on drop). Idempotent.
    pub fn finish(&self) {
        if !self.batches.is_finished() {
            self.batches.finish_and_clear();
        }
        if !self.epochs.is_finished() {
            self.epochs.abandon();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<T: Scalar> Monitor<T> for Progress {
    /// Advances the batches bar (restarting it at an epoch's first batch)
    /// and shows the epoch's mean loss and accuracy so far.
    fn on_batch(&mut self, report: &BatchReport<T>) {
        if report.batch == 0 {
            self.batches.set_length(report.batches as u64);
            self.batches.set_position(0);
            self.running = (0.0, 0, 0);
            self.shows_accuracy = report.step.correct.is_some();
        }
        let (loss, correct, seen) = &mut self.running;
        *loss += report.step.loss.to_f64() * report.samples as f64;
        *correct += report.step.correct.unwrap_or(0);
        *seen += report.samples;
        if !self.bars.is_hidden() {
            let n = *seen as f64;
            let mut msg = format!("loss {:.4}", *loss / n);
            if self.shows_accuracy {
                let _ = write!(msg, " acc {:.4}", *correct as f64 / n);
            }
            self.batches.set_message(msg);
        }
        self.batches.inc(1);
    }

    /// Advances the epochs bar and shows the epoch's training and
    /// validation figures; never asks to stop.
    fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()> {
        self.shows_accuracy = accuracy(&report.train).is_some();
        if !self.bars.is_hidden() {
            let mut msg = String::new();
            let mut metrics = |label: &str, m: &Metrics<T>| {
                let _ = write!(msg, "{label}loss {:.4}", m.loss.to_f64());
                if let Some(acc) = accuracy(m) {
                    let _ = write!(msg, " acc {acc:.4}");
                }
            };
            metrics("", &report.train);
            if let Some(val) = &report.val {
                metrics(" | val ", val);
            }
            self.epochs.set_message(msg);
        }
        self.epochs.inc(1);
        ControlFlow::Continue(())
    }
}
