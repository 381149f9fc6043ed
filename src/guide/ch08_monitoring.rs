//! Chapter 8. Monitoring: loss and accuracy on a validation set, early stopping.
//!
//! The training loss says how well the network fits the data it learns
//! from; it cannot say how well it will do on data it has not seen. So the
//! data is split three ways: a *training* set to learn from, a *validation*
//! set to watch and to choose hyperparameters and the stopping epoch with,
//! and a *test* set touched once, at the end, for the number to report.
//! Choosing anything by the test set makes that number optimistic.
//!
//! [`data::stratified_split`](crate::data::stratified_split) splits a data
//! set in place with the same class proportions in each part;
//! [`data::Scaler`](crate::data::Scaler) standardises features with
//! statistics taken from the training part only (taking them from all the
//! data leaks the validation set into training). Neither allocates.
//!
//! After every epoch [`Trainer::fit`](crate::train::Trainer::fit) evaluates
//! the validation set with the inference forward
//! ([`evaluate`](crate::train::evaluate)) and hands an
//! [`EpochReport`](crate::train::EpochReport) to a
//! [`Monitor`](crate::train::Monitor): the epoch, the training loss and
//! accuracy (averaged over the epoch's batches as they were trained, as
//! Keras reports them), the validation loss and accuracy, and the learning
//! rate. A monitor can draw a progress bar, write a CSV row
//! ([`EpochReport::csv_row`](crate::train::EpochReport::csv_row), no
//! allocation) or stop training by returning `ControlFlow::Break`;
//! [`on_epoch`](crate::train::on_epoch) makes one from a closure.
//!
//! Reading the two curves:
//!
//! | training | validation | diagnosis | what to try |
//! | --- | --- | --- | --- |
//! | high loss | high loss | high bias: underfitting | a larger network, longer training, a better learning rate |
//! | low loss | much higher loss, or rising | high variance: overfitting | more data, L2, L1, dropout (chapter 7), stopping earlier |
//! | low loss | close to it | done | report the test set once |
//! | rising, or `NaN` | — | the step is too large | a smaller learning rate (chapter 5) |
//!
//! **Early stopping** keeps the parameters from the epoch with the best
//! validation loss and stops once it has not improved for a number of
//! epochs (the *patience*). It is the cheapest regulariser: in the
//! `overfit_study` experiment (chapter 7) the unregularised network's
//! validation loss is lowest at epoch 40 (0.288) and 0.313 at epoch 200;
//! with dropout 0.2 the lowest, 0.262, comes at epoch 61, where validation
//! accuracy is 92.3% against 92.0% at epoch 200. The two curves need not
//! agree: without regularisation validation accuracy still creeps up after
//! epoch 40 (91.1% to 91.4%) while the loss rises, and with dropout 0.5 it
//! is 91.1% at the lowest loss (epoch 74) and 91.5% at epoch 200, because
//! the network grows ever more confident, including on the digits it gets
//! wrong. Watch both.
//!
//! [`EarlyStopping`](crate::train::EarlyStopping), given to
//! [`Fit::early_stopping`](crate::train::Fit::early_stopping), does this
//! with Keras' rules: it watches a [`Metric`](crate::train::Metric) (the
//! validation loss unless told otherwise), counts an epoch as an
//! improvement when it beats the best so far by more than `min_delta`,
//! stops after `patience` epochs without one, and gives the model the
//! parameters and buffers of its best epoch back at the end. The best copy
//! lives in a model-sized slot the caller gives (`&mut M`): on the stack
//! here, in a `static` on firmware, in a `Box` for a large model; the
//! trainer itself still holds no second model and nothing allocates.
//!
//! # Example: iris, watched, stopped early
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use typenet::data::{Scaler, load_csv, stratified_split};
//! use typenet::prelude::*;
//! use typenet::train::{EarlyStopping, Metric};
//!
//! type Iris = net![Dense<U4, U16>, Relu, Dense<U16, U3>];
//! let mut data = load_csv::<U4, f32>(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"), 3).unwrap();
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
//! let split = stratified_split::<_, U3, _>(&mut data, 0.6, 0.2, &mut rng).unwrap(); // 90, 30, 30
//! let scaler = Scaler::standardize(split.train); // statistics of the training part only
//! for part in [&mut *split.train, &mut *split.val, &mut *split.test] {
//!     scaler.apply(part);
//! }
//!
//! // Keep the best parameters, stop after 20 epochs without improvement, log each epoch as CSV.
//! let mut model = Iris::default();
//! model.init_with(HeUniform, &mut rng);
//! let mut trainer = Trainer::new(Adam::new(0.01), Config { batch_size: 8, ..Config::default() });
//! let mut best = Iris::default(); // the slot for the best epoch's copy
//! let mut log = String::from(EpochReport::CSV_HEADER);
//! let csv = typenet::train::on_epoch(|report: &EpochReport| {
//!     log.push('\n');
//!     report.csv_row(&mut log).unwrap();
//!     core::ops::ControlFlow::Continue(())
//! });
//! let report = trainer
//!     .fit(&mut model, &SoftmaxCrossEntropy, split.train, &mut rng)
//!     .validate_on(split.val)
//!     .epochs(500)
//!     .monitor(csv)
//!     .early_stopping(EarlyStopping::new(&mut best).on(Metric::ValLoss).patience(20))
//!     .run()
//!     .unwrap();
//! let best_epoch = report.best.expect("the validation loss was a number");
//! assert!(report.stopped_early);
//! assert_eq!(report.epochs, best_epoch.epoch + 20); // patience: 20 epochs after the best
//! assert_eq!(log.lines().count(), report.epochs + 1);
//! // The model is the best epoch's: its validation metrics are that epoch's, bit for bit.
//! assert_eq!(evaluate(&model, &SoftmaxCrossEntropy, split.val), best_epoch.val);
//! let test = evaluate(&model, &SoftmaxCrossEntropy, split.test).unwrap(); // once, at the end
//! assert!(test.accuracy >= Some(0.9), "{test:?}");
//! # }
//! ```
//!
//! A hand-written loop does the same with
//! [`train_epoch`](crate::train::Trainer::train_epoch) and
//! [`evaluate`](crate::train::evaluate); the learning rate is the
//! optimiser's alone (its schedule's rate for the trainer's
//! [`epoch`](crate::train::Trainer::epoch), which each `train_epoch`
//! advances), so such a loop passes none.
