//! Chapter 1. The training loop: initialise, forward, cost, backward, update.
//!
//! A network is a function with parameters. Training looks for parameters
//! that make the function's outputs match the targets, by walking downhill
//! on the cost, one small step at a time. Every step has the same five
//! parts, and for a network with one hidden layer of tanh units and a
//! sigmoid output they read:
//!
//! ```text
//! initialise   W1, W2 small and random (not all equal: see chapter 6), b1 = b2 = 0
//! forward      Z1 = W1·X + b1        A1 = tanh(Z1)
//!              Z2 = W2·A1 + b2       A2 = σ(Z2)
//! cost         J = −(1/m) Σ [Y·log A2 + (1 − Y)·log(1 − A2)]
//! backward     dZ2 = A2 − Y          dW2 = dZ2·A1ᵀ / m     db2 = Σ dZ2 / m
//!              dZ1 = W2ᵀ·dZ2 ⊙ (1 − A1²)
//!              dW1 = dZ1·Xᵀ / m      db1 = Σ dZ1 / m
//! update       W1 := W1 − α·dW1      b1 := b1 − α·db1     (and the same for W2, b2)
//! ```
//!
//! In typenet the network is a type, a chain of layers written with
//! [`net!`](crate::net), and each part is one call:
//!
//! - initialise: [`Initialize::init_with`](crate::init::Initialize::init_with)
//!   draws every weight with a scheme ([`Init`](crate::init::Init)) from a
//!   seeded generator;
//! - forward: [`Train::forward_train`](crate::Train::forward_train) runs the
//!   layers and keeps what the backward pass needs (`Z1`, `A1`, …) in a
//!   *cache*, a fixed-size value whose type the network computes;
//!   [`Layer::forward`](crate::Layer::forward) runs it for inference, with no
//!   cache;
//! - cost: [`Loss::loss_grad`](crate::loss::Loss::loss_grad) gives one
//!   sample's cost and its gradient with respect to the output;
//! - backward: [`Train::backward`](crate::Train::backward)
//!   pushes that gradient back through every layer and *adds* each
//!   parameter's gradient into a value shaped like the network (its
//!   [`Params::Grads`](crate::Params::Grads)), so the samples of a batch
//!   accumulate there;
//! - update: an optimiser walks parameters and gradients together
//!   ([`Params::zip_mut`](crate::Params::zip_mut)); plain gradient descent
//!   is [`Sgd`](crate::optim::Sgd).
//!
//! The course computes `dW2 = dZ2·A1ᵀ / m` for the whole batch at once.
//! `dZ2·A1ᵀ` is a sum over the columns, `Σᵢ dz⁽ⁱ⁾·a1⁽ⁱ⁾ᵀ`, one term per
//! sample, so the gradients can be added up a sample (or a few samples) at
//! a time. And the backward pass is linear in the gradient it starts from:
//! scaling `dA2` by `1/m` scales every `dZ`, `dW` and `db` it produces by
//! `1/m`. So the `/m` can be done on the way in, `dW2 = Σᵢ (dz⁽ⁱ⁾/m)·a1⁽ⁱ⁾ᵀ`,
//! instead of on the sums at the end. The loop below, written as the
//! course writes it, divides at the end; the trainer scales by `1/m` on the
//! way in. Chapter 4 derives these gradients; this chapter runs them.
//!
//! [`Trainer`](crate::train::Trainer) is that loop, done once and properly:
//! mini-batches, shuffling, penalties, clipping, checks for non-finite
//! values, validation after every epoch. [`Trainer::step`](crate::train::Trainer::step)
//! is one round of forward, cost, backward and update on one mini-batch of
//! `m` samples (`m` is [`Config::batch_size`](crate::train::Config::batch_size),
//! a runtime value), and [`Trainer::fit`](crate::train::Trainer::fit) runs
//! epochs of them. A step reads:
//!
//! ```text
//! dW = 0, db = 0                                  (every parameter's gradient)
//! for each block of up to B samples of the mini-batch:
//!     forward   the block through the network together, keeping B caches
//!     cost      each sample's L and dA[L], then dA[L] := dA[L] · (1/m)
//!     backward  the block back through the network together, adding its dW, db
//! penalties (L1, L2) added to dW; ‖dW‖ the global norm, clipped if asked
//! update    the optimiser's step (plain gradient descent: W := W − α·dW)
//! ```
//!
//! A *block* is a few samples that go through the network together, the
//! course's `X` with `B` columns: a [`Dense`](crate::layers::Dense) layer
//! then computes `W·X` and `dZ·Xᵀ` for the block as matrix products rather
//! than one column at a time, which keeps a workstation's vector units busy. `B`
//! is the trainer's const parameter,
//! [`DEFAULT_BLOCK`](crate::train::DEFAULT_BLOCK) unless chosen with
//! [`Trainer::with_block`](crate::train::Trainer::with_block); the trainer
//! keeps `B` caches and outputs, so a microcontroller uses small blocks
//! (down to 1). A mini-batch of any size is cut into blocks (a batch of 16
//! with `B = 32` is one block of 16; a batch of 100 is blocks of 32, 32, 32
//! and 4), and the result does not depend on `B` beyond the rounding of the
//! sums. [`Train`](crate::Train) has block versions of the training forward
//! and backward for this; each layer's one-sample methods above are the
//! same arithmetic for a block of one.
//!
//! # Example: XOR by hand, then with the trainer
//!
//! XOR is the smallest problem that needs a hidden layer. The loop below is
//! the course's, sample by sample, with full-batch gradient descent:
//!
//! ```
//! use typenet::prelude::*;
//!
//! type Xor = net![Dense<U2, U4, f64>, Tanh, Dense<U4, U1, f64>, Sigmoid];
//! let data = [
//!     (vector([0.0, 0.0]), vector([0.0])),
//!     (vector([0.0, 1.0]), vector([1.0])),
//!     (vector([1.0, 0.0]), vector([1.0])),
//!     (vector([1.0, 1.0]), vector([0.0])),
//! ];
//! let m = data.len() as f64;
//! let alpha = 1.0;
//!
//! // Initialise.
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut net = Xor::default();
//! net.init_with(XavierUniform, &mut rng);
//!
//! let mut cache = Default::default();
//! let mut grads = <Xor as Params<f64>>::Grads::default();
//! let mut dy = Vector::<f64, U1>::default();
//! for _ in 0..1000 {
//!     grads = Default::default(); // dW = db = 0
//!     for (x, y) in &data {
//!         let a2 = net.forward_train(x, &mut cache, &mut NoRng); // forward
//!         Bce.loss_grad(&a2, y, &mut dy); // cost, and dJ/dA2 for this sample
//!         net.backward(x, &mut cache, &dy, &mut grads); // backward: adds this sample's dW, db
//!     }
//!     // Update: W := W − α·dW / m, for every parameter tensor at once.
//!     net.zip_mut([&mut grads], &mut |w, [dw]| {
//!         w.iter_mut().zip(dw.iter()).for_each(|(w, dw)| *w -= alpha * dw / m)
//!     });
//! }
//! for (x, y) in &data {
//!     assert_eq!(net.forward(x)[0] > 0.5, y[0] > 0.5);
//! }
//!
//! // The same, with the trainer: batches of 4, gradient descent at α = 1.
//! let mut model = Xor::default();
//! model.init_with(XavierUniform, &mut Xoshiro256PlusPlus::seed_from_u64(1));
//! let mut trainer = Trainer::new(Sgd::new(alpha), Config { batch_size: 4, shuffle: false, ..Config::default() });
//! let fit = trainer.fit(&mut model, &Bce, &data, &mut rng).epochs(1000).run().unwrap();
//! assert_eq!(fit.last.train.accuracy, Some(1.0));
//! assert!(model == net); // the same arithmetic, the same parameters
//! ```
//!
//! The last line holds bit for bit. The trainer runs the four samples as
//! one block and multiplies each `dA2` by `1/m` before the backward pass,
//! where the loop divides the summed gradients by `m` at the update; with
//! `m = 4` both are exact (a power of two only shifts the exponent), so
//! the two give the same parameters. For other batch sizes they agree to
//! within rounding.
