//! Chapter 9. Hyperparameters: learning rate, batch size, depth.
//!
//! Parameters are learned; hyperparameters are chosen, by training with
//! each candidate and comparing the validation scores (never the test
//! score: chapter 8). The course ranks them by how much they matter: the
//! learning rate first; then momentum, the batch size and the width of the
//! layers; then the depth and the learning-rate schedule; Adam's `β₁`, `β₂`
//! and `ε` rarely. Search the learning rate on a log scale (0.001, 0.003,
//! 0.01, 0.03, …), coarse first and then finer around the best, and prefer
//! random combinations to a grid when there are many hyperparameters.
//!
//! In typenet they live in three places:
//!
//! - **The learning rate** and the optimiser's other constants are values:
//!   [`Sgd::new`](crate::optim::Sgd::new), [`Adam::new`](crate::optim::Adam::new),
//!   …, in the model's scalar, and a [`Schedule`](crate::optim::Schedule)
//!   attached with [`Optimizer::scheduled`](crate::optim::Optimizer::scheduled).
//! - **The batch size** is a value,
//!   [`Config::batch_size`](crate::train::Config::batch_size). Batch 1 is
//!   stochastic gradient descent: a step per sample, noisy but frequent.
//!   The whole training set is batch gradient descent: one exact step per
//!   epoch. Mini-batches (16, 32, 64) sit between. A larger batch gives a
//!   less noisy gradient but fewer steps per epoch, so it usually wants a
//!   larger learning rate. In typenet the batch size costs no memory: the
//!   samples of a batch run in blocks of the trainer's `B` (32 unless
//!   chosen) and their gradients accumulate (chapter 1), so a batch of
//!   1,000 needs the RAM of a batch of `B`.
//! - **Depth and width** are types: `net![Dense<U64, U64>, Relu, Dense<U64, U10>]`
//!   and a deeper or wider network are different types, checked by the
//!   compiler. A sweep over architectures is a generic function called once
//!   per type, as in the example below and in `examples/sweep.rs`.
//!
//! # What the sweep found
//!
//! `cargo run --release --example sweep` trains every combination of four
//! learning rates, three batch sizes and three depths (1, 2 or 3 hidden
//! layers of 64 ReLU units, He uniform) for 20 epochs of plain SGD on
//! digits, and reports validation accuracy (and seconds of training):
//!
//! | depth | batch | lr 0.01 | lr 0.03 | lr 0.1 | lr 0.3 |
//! | --- | --- | --- | --- | --- | --- |
//! | 1 | 1 | 0.9749 | 0.9833 | 0.9833 | 0.3788 |
//! | 1 | 16 | 0.9276 | 0.9526 | 0.9749 | 0.9861 |
//! | 1 | 64 | 0.7799 | 0.9192 | 0.9526 | 0.9666 |
//! | 2 | 1 | 0.9749 | 0.9749 | 0.9554 | 0.0975 |
//! | 2 | 16 | 0.9387 | 0.9666 | 0.9749 | 0.9777 |
//! | 2 | 64 | 0.8301 | 0.9331 | 0.9638 | 0.9721 |
//! | 3 | 1 | 0.9638 | 0.9721 | 0.3928 | 0.1003 |
//! | 3 | 16 | 0.9499 | 0.9136 | 0.9610 | 0.9833 |
//! | 3 | 64 | 0.8496 | 0.9387 | 0.9666 | 0.9666 |
//!
//! `sweep: best_lr=0.3 best_batch=16 best_depth=1 val_accuracy=0.9861`
//! (the plot: `docs/sweep.svg`).
//!
//! As the textbook says, the learning rate matters most: across a row,
//! accuracy moves from 10% to 98%; across a column of the best rates, by a
//! few points. Batch size and learning rate go together: per-sample steps
//! (batch 1) are best at small rates and break down at large ones, sooner
//! the deeper the network (at 0.1 for three hidden layers, where two lose
//! a few points, and at 0.3 for all),
//! while batch 64 needs the largest rate to make the same progress in 20
//! epochs, having taken 64 times fewer steps. Depth beyond one hidden layer
//! buys nothing on digits (the best of each depth: 0.9861, 0.9777, 0.9833),
//! which chapter 2 explains: digits are nearly linearly separable.
//!
//! # Example: a sweep over types and values
//!
//! ```
//! use typenet::prelude::*;
//!
//! // Points on a 20 × 20 grid in [−1, 1]², inside or outside a circle;
//! // every other point for training, the rest for validation.
//! let grid: Vec<(Vector<f32, U2>, usize)> = (0..400)
//!     .map(|i| {
//!         let (x, y) = ((i % 20) as f32 / 9.5 - 1.0, (i / 20) as f32 / 9.5 - 1.0);
//!         (vector([x, y]), (x * x + y * y < 0.5) as usize)
//!     })
//!     .collect();
//! let train: Vec<_> = grid.iter().step_by(2).copied().collect();
//! let val: Vec<_> = grid.iter().skip(1).step_by(2).copied().collect();
//!
//! /// Counts the optimiser's steps.
//! struct Steps(usize);
//! impl Monitor for Steps {
//!     fn on_batch(&mut self, _: &BatchReport) {
//!         self.0 += 1;
//!     }
//!     fn on_epoch(&mut self, _: &EpochReport) -> core::ops::ControlFlow<()> {
//!         core::ops::ControlFlow::Continue(())
//!     }
//! }
//!
//! /// Trains a fresh `M` for 10 epochs; returns validation accuracy and steps taken.
//! fn run<M>(lr: f32, batch_size: usize, train: &[(Vector<f32, U2>, usize)], val: &[(Vector<f32, U2>, usize)]) -> (f32, usize)
//! where
//!     M: Train<Vector<f32, U2>, Output = Vector<f32, U2>> + Initialize + Default,
//! {
//!     let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
//!     let mut model = M::default();
//!     model.init_with(HeUniform, &mut rng);
//!     let mut trainer = Trainer::new(Sgd::new(lr), Config { batch_size, ..Config::default() });
//!     let mut steps = Steps(0);
//!     let fit = trainer.fit(&mut model, &SoftmaxCrossEntropy, train, &mut rng);
//!     match fit.validate_on(val).epochs(10).monitor(&mut steps).run() {
//!         Ok(fit) => (fit.last.val.unwrap().accuracy.expect("the cost classifies"), steps.0),
//!         Err(_) => (0.0, steps.0), // diverged
//!     }
//! }
//!
//! // Depth is a type, the learning rate and batch size are values.
//! type Shallow = net![Dense<U2, U16>, Relu, Dense<U16, U2>];
//! type Deep = net![Dense<U2, U16>, Relu, Dense<U16, U16>, Relu, Dense<U16, U2>];
//! let (per_sample, steps_1) = run::<Deep>(0.05, 1, &train, &val);
//! let (mini_batch, steps_20) = run::<Deep>(0.05, 20, &train, &val);
//! assert_eq!((steps_1, steps_20), (10 * 200, 10 * 10)); // ⌈200 / batch⌉ steps per epoch
//! assert!(per_sample > 0.9 && per_sample > mini_batch, "{per_sample} vs {mini_batch}");
//! let (shallow, _) = run::<Shallow>(0.05, 1, &train, &val);
//! assert!(shallow > 0.8, "{shallow}");
//! ```
