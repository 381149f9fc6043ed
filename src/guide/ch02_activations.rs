//! Chapter 2. Activations, and why a network needs them.
//!
//! Without an activation between them, two layers are one:
//! `W2·(W1·x + b1) + b2 = (W2·W1)·x + (W2·b1 + b2)`, a single linear map,
//! however many layers are stacked. A linear classifier draws straight
//! boundaries, and XOR (or two interleaved spirals) needs a bent one. An
//! activation `g` applied element by element after each layer,
//! `A[l] = g(Z[l])`, is what lets depth buy shape.
//!
//! The backward pass multiplies by its derivative, `dZ[l] = dA[l] ⊙ g′(Z[l])`,
//! so the derivative decides how gradients travel back through the layers:
//!
//! | activation | `g(z)` | `g′(z)` | type |
//! | --- | --- | --- | --- |
//! | sigmoid | `σ(z) = 1 / (1 + e⁻ᶻ)` | `σ(1 − σ)`, at most 1/4 | [`Sigmoid`](crate::layers::Sigmoid) |
//! | tanh | `tanh z` | `1 − tanh² z`, at most 1 | [`Tanh`](crate::layers::Tanh) |
//! | ReLU | `max(0, z)` | 1 for `z > 0`, else 0 | [`Relu`](crate::layers::Relu) |
//! | leaky ReLU | `z`, or `0.01·z` for `z ≤ 0` | 1 or 0.01 | [`LeakyRelu`](crate::layers::LeakyRelu) |
//! | ELU | `z`, or `eᶻ − 1` for `z ≤ 0` | 1 or `eᶻ` | [`Elu`](crate::layers::Elu) |
//! | GELU | `z·Φ(z)` | `Φ(z) + z·φ(z)` | [`Gelu`](crate::layers::Gelu), [`GeluTanh`](crate::layers::GeluTanh) |
//! | SiLU (swish) | `z·σ(z)` | `σ(z)(1 + z(1 − σ(z)))` | [`Silu`](crate::layers::Silu) |
//! | softplus | `ln(1 + eᶻ)` | `σ(z)` | [`Softplus`](crate::layers::Softplus) |
//! | none | `z` | 1 | [`Identity`](crate::layers::Identity) |
//! | softmax (output) | `eᶻⁱ / Σⱼ eᶻʲ` | see chapter 3 | [`Softmax`](crate::layers::Softmax), [`LogSoftmax`](crate::layers::LogSoftmax) |
//!
//! The course's rules of thumb follow from the second column. Sigmoid's
//! derivative is at most 1/4, so every sigmoid layer shrinks the gradient by
//! at least four, and its outputs are all positive (not centred on 0);
//! keep it for a binary output. tanh is centred and its derivative reaches
//! 1, but it saturates: for large `|z|` the derivative is near 0. ReLU
//! passes gradients unchanged where it is active and costs one comparison;
//! a unit whose inputs are always negative is "dead" (gradient 0), which
//! leaky ReLU and ELU avoid. GELU and SiLU are smooth versions of ReLU.
//!
//! Each activation is a layer with no parameters that takes any tensor
//! shape; its training cache is its output, which is all the derivative
//! needs (`σ′ = σ(1 − σ)`, `tanh′ = 1 − tanh²`). The two with a
//! hyperparameter keep it in the network's scalar, `f32` unless named: an
//! `f64` network writes `LeakyRelu<f64>` and `Elu<f64>` (and
//! `Dropout<f64>`, `Huber<f64>`), so its 0.01 is the `f64` 0.01 and it
//! matches PyTorch's `float64` to the last bits.
//!
//! # What the experiment found
//!
//! `cargo run --release --example activation_study` trains the same network
//! with each activation, with Xavier uniform initialisation and three
//! seeds, and reports the mean validation accuracy and the epoch at which
//! validation accuracy first reaches 95% ("converged"). On digits, an MLP
//! 64-64-64-10 with plain SGD (lr 0.05, batch 32, 40 epochs); on two
//! interleaved spirals (2-D points, standardised), an MLP 2-32-32-2 with
//! momentum 0.9 (lr 0.05, batch 16, 300 epochs):
//!
//! | activation | digits: val accuracy | digits: epochs to 95% (mean) | spirals: val accuracy | spirals: epochs to 95% (mean) |
//! | --- | --- | --- | --- | --- |
//! | sigmoid | 0.7122 | never | 0.6350 | never |
//! | tanh | 0.9694 | 11.3 | 0.6183 | never |
//! | ReLU | 0.9666 | 12.0 | 1.0000 | 35.3 |
//! | leaky ReLU | 0.9666 | 13.3 | 1.0000 | 36.0 |
//! | ELU | 0.9675 | 10.0 | 0.6467 | never |
//! | GELU | 0.9675 | 13.3 | 1.0000 | 46.7 |
//! | SiLU | 0.9656 | 17.0 | 0.9983 | 82.3 |
//! | softplus | 0.9582 | 23.7 | 0.7783 | never |
//! | identity (no activation) | 0.9647 | 9.3 | 0.6417 | never |
//!
//! `activation_study: digits_identity_epochs=9.3 digits_relu_epochs=12.0 digits_tanh_epochs=11.3 digits_sigmoid_val_accuracy=0.7122 spirals_relu_epochs=35.3 spirals_gelu_epochs=46.7 spirals_tanh_val_accuracy=0.6183 spirals_identity_val_accuracy=0.6417`
//! (the plot: `docs/activation_study.svg`).
//!
//! What agrees with the textbook: sigmoid hidden layers learn slowest by
//! far (71% on digits after 40 epochs, where every other activation passes
//! 95%): the gradient shrinks by at least four at each sigmoid layer. The
//! ReLU family learns the spirals fastest, and without an activation the
//! network stays a linear model, stuck at 64% on the spirals.
//!
//! What a reader may not expect, and is true of this data:
//!
//! - On digits the linear model is as good as any: 8×8 digits are almost
//!   linearly separable, so the no-activation network converges first
//!   (9.3 epochs) and ties on test accuracy. Run a linear baseline before
//!   concluding that depth or an activation helps.
//! - On the spirals, tanh, ELU and sigmoid sit at the linear model's
//!   accuracy for most of 300 epochs. With inputs near 0 and Xavier's small
//!   weights, each of them is nearly linear around 0 (tanh z ≈ z, ELU is
//!   z for z > 0 and smooth through 0), so the network starts as an almost
//!   linear model and the gradient towards a bent boundary is weak: a long
//!   plateau, not a limit (softplus, the smoothest of the rectifiers, is
//!   part of the way off it at 78% after 300 epochs, one seed of three
//!   reaching 95% at epoch 275). ReLU's kink at 0 bends the
//!   boundary from the first step;
//!   GELU and SiLU, curved at 0, escape sooner than tanh but later than ReLU.
//!
//! # Example: no activation cannot learn XOR; tanh can
//!
//! ```
//! use typenet::prelude::*;
//!
//! let xor = [
//!     (vector([0.0f64, 0.0]), vector([0.0])),
//!     (vector([0.0, 1.0]), vector([1.0])),
//!     (vector([1.0, 0.0]), vector([1.0])),
//!     (vector([1.0, 1.0]), vector([0.0])),
//! ];
//!
//! /// Trains `M` on XOR for 500 epochs of Adam and returns its accuracy.
//! fn accuracy<M: Train<Vector<f64, U2>, Output = Vector<f64, U1>> + Initialize + Default>(
//!     data: &[(Vector<f64, U2>, Vector<f64, U1>)],
//! ) -> f64 {
//!     let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
//!     let mut model = M::default();
//!     model.init_with(XavierUniform, &mut rng);
//!     let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
//!     trainer.fit(&mut model, &BceWithLogits, data, &mut rng).epochs(500).run().unwrap();
//!     evaluate(&model, &BceWithLogits, data).unwrap().accuracy.expect("BceWithLogits classifies")
//! }
//!
//! // The same two layers, with and without an activation between them.
//! type Linear = net![Dense<U2, U8, f64>, Identity, Dense<U8, U1, f64>];
//! type Bent = net![Dense<U2, U8, f64>, Tanh, Dense<U8, U1, f64>];
//! assert!(accuracy::<Linear>(&xor) <= 0.75); // no straight line gets all four
//! assert_eq!(accuracy::<Bent>(&xor), 1.0);
//!
//! // The derivatives, read through the backward pass at z = 0 (dA = 1):
//! let z = vector([0.0f64]);
//! let slope = |dz: Vector<f64, U1>| dz[0];
//! let mut cache = Default::default();
//! Sigmoid.forward_train(&z, &mut cache, &mut NoRng);
//! assert_eq!(slope(Sigmoid.backward(&z, &mut cache, &vector([1.0]), &mut ())), 0.25); // its largest
//! Tanh.forward_train(&z, &mut cache, &mut NoRng);
//! assert_eq!(slope(Tanh.backward(&z, &mut cache, &vector([1.0]), &mut ())), 1.0);
//! ```
