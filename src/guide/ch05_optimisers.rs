//! Chapter 5. Optimisers and the learning rate.
//!
//! Gradient descent moves every parameter against its gradient,
//! `W := W − α·dW`. The learning rate `α` is the step's length: too small
//! and training crawls, too large and each step overshoots the valley it
//! was meant to descend, so the cost grows and finally overflows. On a cost
//! that curves like `J(w) = (λ/2)·w²` along some direction, a step maps `w`
//! to `(1 − αλ)·w`: it converges for `α < 2/λ`, lands on the minimum in one
//! step at `α = 1/λ`, and diverges beyond `2/λ`. The steepest direction of
//! the cost sets the largest usable rate, and the flattest one then sets how
//! long training takes; the optimisers below differ in how they cope.
//!
//! | optimiser | update, with `g = dW` | type |
//! | --- | --- | --- |
//! | gradient descent | `w := w − α·g` | [`Sgd`](crate::optim::Sgd) |
//! | momentum | `v := μ·v + g`, `w := w − α·v` | [`Momentum::new`](crate::optim::Momentum::new) |
//! | Nesterov momentum | `v := μ·v + g`, `w := w − α·(g + μ·v)` | [`Momentum::nesterov`](crate::optim::Momentum::nesterov) |
//! | RMSprop | `s := ρ·s + (1 − ρ)·g²`, `w := w − α·g / (√s + ε)` | [`RmsProp`](crate::optim::RmsProp) |
//! | Adam | `m := β₁m + (1 − β₁)g`, `v := β₂v + (1 − β₂)g²`, `w := w − α·m̂ / (√v̂ + ε)` with `m̂ = m/(1 − β₁ᵗ)`, `v̂ = v/(1 − β₂ᵗ)` | [`Adam`](crate::optim::Adam) |
//! | AdamW | Adam, and `w := w·(1 − α·wd)` first | [`Adam::adamw`](crate::optim::Adam::adamw) |
//!
//! Momentum averages successive gradients, so steps add up along a
//! consistent direction and cancel across a ravine that plain descent would
//! zig-zag in. RMSprop divides each parameter's step by the recent size of
//! its gradient, so steep and flat directions move at similar speeds; Adam
//! does both, with the bias corrections `1 − βᵗ` that keep the first steps
//! from being too small. The updates are PyTorch's `torch.optim` formulas
//! (the crate's tests compare them with PyTorch), so hyperparameters carry
//! over.
//!
//! An optimiser's state (the velocity, Adam's two moments) has the shape of
//! the parameters: [`Optimizer::State`](crate::optim::Optimizer::State) is a
//! fixed-size value held by the [`Trainer`](crate::train::Trainer), so Adam
//! costs two more copies of the parameters' memory, plain descent none.
//!
//! The learning rate can change with the epoch: a
//! [`Schedule`](crate::optim::Schedule) ([`StepDecay`](crate::optim::StepDecay),
//! [`ExponentialDecay`](crate::optim::ExponentialDecay),
//! [`CosineAnnealing`](crate::optim::CosineAnnealing)) attached to the
//! optimiser with [`Optimizer::scheduled`](crate::optim::Optimizer::scheduled)
//! takes large steps early and small ones late. [`Config::clip_norm`](crate::train::Config::clip_norm)
//! caps the length of the gradient, a guard against the rare huge step
//! (chapter 11 needs it). A step is all or nothing: one whose cost, gradient
//! or update is not finite (a rate too large for the gradients, an
//! overflow) is refused with a [`TrainError`](crate::train::TrainError) that
//! names the epoch, the batch and, for a cost, the sample, and the
//! parameters, batch norm's running statistics and the optimiser's state
//! stay those of the last accepted step. Hyperparameters PyTorch refuses (a
//! negative rate, Adam's `beta1 = 1`) are refused before the first step.
//!
//! What rate to start with: 0.01 to 0.1 for plain descent on standardised
//! inputs, 1e-3 for Adam (its default in PyTorch). Chapter 9 measures it on
//! digits.
//!
//! # Example: one rate converges, one lands in a step, one diverges
//!
//! A line `a = w·x + b` fitted to `y = 2x` on `x = ±1` with squared error has
//! curvature `λ = 2` in both `w` and `b`, so the limit is `α < 2/λ = 1`:
//!
//! ```
//! use typenet::prelude::*;
//!
//! let data = [(vector([1.0f64]), vector([2.0])), (vector([-1.0]), vector([-2.0]))];
//! let after = |alpha: f64, steps: usize| {
//!     let mut line = Dense::<U1, U1, f64>::new(matrix([[0.0]]), vector([0.5]));
//!     let mut trainer = Trainer::new(Sgd::new(alpha), Config { batch_size: 2, ..Config::default() });
//!     for _ in 0..steps {
//!         trainer.step(&mut line, &Mse, &data, &mut NoRng).unwrap();
//!     }
//!     evaluate(&line, &Mse, &data).unwrap().loss
//! };
//! assert!(after(0.1, 50) < 1e-8); // small: converges, slowly
//! assert_eq!(after(0.5, 1), 0.0); // α = 1/λ: the minimum in one step
//! assert!(after(0.9, 50) < 1e-8); // oscillates around the minimum, converges
//! assert!(after(1.1, 50) > after(1.1, 10)); // too large: each step overshoots further
//!
//! // On XOR, how many epochs each optimiser needs to bring the cost below 0.05.
//! fn epochs_to_fit<O: Optimizer<f64>>(optimizer: O) -> usize {
//!     type Xor = net![Dense<U2, U8, f64>, Tanh, Dense<U8, U1, f64>];
//!     let data = [
//!         (vector([0.0, 0.0]), vector([0.0])),
//!         (vector([0.0, 1.0]), vector([1.0])),
//!         (vector([1.0, 0.0]), vector([1.0])),
//!         (vector([1.0, 1.0]), vector([0.0])),
//!     ];
//!     let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
//!     let mut model = Xor::default();
//!     model.init_with(XavierUniform, &mut rng);
//!     let mut trainer = Trainer::new(optimizer, Config { batch_size: 4, ..Config::default() });
//!     let stop = typenet::train::on_epoch(|r| if r.train.loss < 0.05 { core::ops::ControlFlow::Break(()) } else { core::ops::ControlFlow::Continue(()) });
//!     trainer.fit(&mut model, &BceWithLogits, &data, &mut rng).epochs(5000).monitor(stop).run().unwrap().epochs
//! }
//! let sgd = epochs_to_fit(Sgd::new(0.1));
//! let momentum = epochs_to_fit(Momentum::new(0.1, 0.9));
//! let adam = epochs_to_fit(Adam::new(0.05));
//! assert!(momentum < sgd && adam < sgd, "SGD {sgd}, momentum {momentum}, Adam {adam}");
//! ```
