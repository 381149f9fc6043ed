//! Chapter 11. Recurrent networks and backpropagation through time.
//!
//! A sequence (a sentence, a sensor's readings) has an order and any
//! length. A recurrent layer reads it one step at a time and carries a
//! hidden state `h` from each step to the next, the same weights at every
//! step, as a convolution uses the same kernel at every position. The
//! simplest, [`Rnn`](crate::layers::Rnn) (PyTorch's `nn.RNN`), is
//!
//! ```text
//! aₜ = W_ih·xₜ + b_ih + W_hh·hₜ₋₁ + b_hh        hₜ = tanh(aₜ)        h₀ = 0
//! ```
//!
//! A sequence of `L` steps of `I` features is a `Matrix<T, L, I>`, one row
//! a step; the layer returns every step's `hₜ`, a `Matrix<T, L, H>`, which
//! another recurrent layer can take, and [`LastStep`](crate::layers::LastStep)
//! keeps the last row for a classifier. `L` is read from the input's type.
//!
//! **Backpropagation through time** unrolls the loop: the network is `L`
//! copies of the cell sharing weights, and the backward pass runs the steps
//! from last to first, adding each step's share into the shared gradients:
//!
//! ```text
//! daₜ = (dyₜ + dhₜ) ⊙ (1 − hₜ²)
//! dW_ih += daₜ·xₜᵀ     dW_hh += daₜ·hₜ₋₁ᵀ     db_ih = db_hh += daₜ
//! dxₜ = W_ihᵀ·daₜ      dhₜ₋₁ = W_hhᵀ·daₜ
//! ```
//!
//! The training forward keeps every step's state in a
//! [`SequenceCache`](crate::layers::SequenceCache) whose size the types fix.
//!
//! The last line is the trouble. The gradient reaching step `t` from step
//! `T` has gone through `T − t` factors of `W_hhᵀ·diag(1 − h²)`: if they
//! shrink vectors (small weights, saturated tanh) the gradient *vanishes*
//! exponentially with the distance, and the network cannot learn what an
//! early step should have told a late one; if they stretch them it
//! *explodes*. The same story as chapter 6, along time instead of depth,
//! and longer: a sequence of 100 steps is a network 100 layers deep.
//!
//! Exploding gradients are capped by clipping their norm,
//! [`Config::clip_norm`](crate::train::Config::clip_norm) (PyTorch's
//! `clip_grad_norm_`). Vanishing ones needed a new cell.
//! [`Lstm`](crate::layers::Lstm) keeps a second state, the cell `c`,
//! updated by addition, `cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ`, with gates `i`, `f`, `o`
//! (sigmoids) deciding what to write, keep and show, `hₜ = oₜ ⊙ tanh(cₜ)`:
//! along `c` the gradient is multiplied by the forget gate `fₜ` only, and a
//! gate near 1 passes it unchanged over many steps. [`Gru`](crate::layers::Gru)
//! does the same with one state and two gates. Their equations and backward
//! passes are in their docs; all three match PyTorch's gate order, so
//! weights move between the two.
//!
//! On a microcontroller that reads a sensor a sample at a time,
//! [`Recurrent::step`](crate::layers::Recurrent::step) feeds one step and
//! keeps the state, with no room needed for the sequence.
//!
//! The `digits_rnn` example reads each digit row by row, 8 steps of 8
//! pixels, into a 32-unit cell, `LastStep`, and a `Dense` to 10 classes.
//! Today's test accuracies: LSTM 0.9861, GRU 0.9833, plain RNN 0.9667; with
//! only 8 steps the plain RNN's fading gradient costs about two points.
//!
//! # Example: the gradient fades along the sequence; a GRU remembers anyway
//!
//! ```
//! use typenet::prelude::*;
//!
//! // An Rnn read to its last step: how much does each input step move the output?
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut rnn = <net![Rnn<U1, U8, f64>, LastStep]>::default();
//! rnn.init(&mut rng); // PyTorch's default, U(−1/√8, 1/√8)
//! let mut xs = Matrix::<f64, U30, U1>::default();
//! xs.iter_mut().for_each(|x| x[0] = rng.random::<f64>() * 2.0 - 1.0);
//! let mut cache = Default::default();
//! rnn.forward_train(&xs, &mut cache, &mut NoRng);
//! let mut grads = Default::default();
//! let dxs = rnn.backward(&xs, &mut cache, &vector([1.0; 8]), &mut grads); // L = Σ h₃₀
//! let (first, last) = (dxs[0][0].abs(), dxs[29][0].abs());
//! assert!(first < 1e-4 * last, "step 1: {first}, step 30: {last}"); // vanished
//!
//! // A task that needs memory: is the first of 6 steps positive? The rest is noise.
//! type Memory = net![Gru<U1, U8>, LastStep, Dense<U8, U2>];
//! let sequences: Vec<(Matrix<f32, U6, U1>, usize)> = (0..48)
//!     .map(|i| {
//!         let mut xs = Matrix::<f32, U6, U1>::default();
//!         xs.iter_mut().for_each(|x| x[0] = rng.random::<f32>() - 0.5);
//!         xs[0][0] = if i % 2 == 0 { 1.0 } else { -1.0 };
//!         (xs, i % 2)
//!     })
//!     .collect();
//! let (mut train, test) = (sequences[..32].to_vec(), &sequences[32..]);
//! let mut model = Memory::default();
//! model.init(&mut rng);
//! let mut trainer = Trainer::new(Adam::new(0.03), Config { batch_size: 8, clip_norm: Some(1.0), ..Config::default() });
//! trainer.fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).epochs(60).run().unwrap();
//! assert_eq!(evaluate(&model, &SoftmaxCrossEntropy, test).unwrap().accuracy, Some(1.0));
//! ```
