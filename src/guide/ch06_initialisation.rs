//! Chapter 6. Initialisation: vanishing and exploding gradients.
//!
//! Two things go wrong when a network starts from the wrong weights.
//!
//! **Symmetry.** If every weight starts equal (say 0), every hidden unit of a
//! layer computes the same value, gets the same gradient and takes the same
//! step, forever: a layer of 32 units behaves as one. Random weights break
//! the tie. With all weights 0 it is worse: `dW[l] = dZ[l]·A[l−1]ᵀ` and
//! `dA[l−1] = W[l]ᵀ·dZ[l]` are both 0 behind a zero layer, and only the last
//! bias learns.
//!
//! **Scale.** A unit adds up `n` inputs, so `Var(z) = n·Var(w)·E[a²]`
//! (independent, zero-mean weights). Going forward, each layer multiplies
//! the spread of the signal by about `√(n·Var(w))` (and by the activation's
//! effect); going backward, `dA[l−1] = W[l]ᵀ·dZ[l]` multiplies the gradient
//! by about the same factor. Over `L` layers the factors compound: below 1
//! the signal and the gradients *vanish*, above 1 they *explode*. The
//! course's `np.random.randn(n, m) * 0.01` gives `n·Var(w) = 32 · 10⁻⁴` in a
//! layer of 32 inputs, a factor of 0.057 per layer: after nine layers the
//! signal is 10⁻¹¹ of what it was. The schemes choose `Var(w)` to make the
//! factor 1:
//!
//! | scheme | `Var(w)` | keeps steady | [`Init`](crate::init::Init) |
//! | --- | --- | --- | --- |
//! | LeCun | `1/n_in` | the forward signal through a linear or tanh unit | [`LecunNormal`](crate::init::LecunNormal) |
//! | Xavier / Glorot | `2/(n_in + n_out)` | the forward signal and the backward gradient, a compromise | [`XavierUniform`](crate::init::XavierUniform), [`XavierNormal`](crate::init::XavierNormal) |
//! | He / Kaiming | `2/n_in` | the forward signal through ReLU, which zeroes half of it | [`HeUniform`](crate::init::HeUniform), [`HeNormal`](crate::init::HeNormal) |
//! | PyTorch's `nn.Linear` default | `1/(3·n_in)`, uniform, biases too | — | [`PyTorch`](crate::init::PyTorch) |
//! | the course's first try | `10⁻⁴` | — | [`SmallRandom`](crate::init::SmallRandom) |
//!
//! A uniform draw on `(−a, a)` has variance `a²/3`, hence Xavier uniform's
//! `a = √(6/(n_in + n_out))` and He uniform's `a = √(6/n_in)`.
//! [`Initialize::init_with`](crate::init::Initialize::init_with) draws every
//! layer of a network with one scheme from one seeded generator (biases 0,
//! except PyTorch's); each layer's fan-in and fan-out come from its type.
//!
//! # What the experiment found
//!
//! `cargo run --release --example init_study` builds a 10-layer network on
//! digits, 64 → 32 × 9 → 10, with sigmoid, tanh or ReLU, under each scheme
//! (and N(0, 1), the course's `randn` without its × 0.01). At
//! initialisation it measures, over the 1,078 training digits, the spread
//! (standard deviation) of the activations of hidden layers 1, 5 and 9 and
//! the norm of the first and last layers' weight gradients; then it trains
//! 30 epochs of SGD (lr 0.03, batch 32) from three seeds. A selection (the
//! full table and a plot per layer are in `out/init_study/`, the plot also
//! in `docs/init_study.svg`):
//!
//! | activation | init | std A1 | std A5 | std A9 | ‖dW1‖ | ‖dW10‖ | val loss | val accuracy |
//! | --- | --- | --- | --- | --- | --- | --- | --- | --- |
//! | tanh | small random | 3.6e-2 | 2.8e-7 | 2.3e-12 | 2.2e-12 | 1.7e-12 | 2.303 | 0.1031 |
//! | tanh | N(0, 1) | 0.89 | 0.93 | 0.92 | 24 | 0.89 | 2.100 | 0.2108 |
//! | tanh | Xavier uniform | 0.47 | 0.26 | 0.19 | 0.30 | 0.12 | 0.218 | 0.9378 |
//! | tanh | He normal | 0.50 | 0.56 | 0.54 | 1.0 | 0.60 | 0.124 | 0.9656 |
//! | tanh | PyTorch default | 0.27 | 0.12 | 0.11 | 2.4e-3 | 2.6e-2 | 2.300 | 0.2024 |
//! | ReLU | small random | 2.1e-2 | 4.1e-8 | 1.2e-13 | 6.1e-14 | 5.1e-14 | 2.303 | 0.1031 |
//! | ReLU | N(0, 1) | 2.1 | 408 | 1.2e5 | 3.4e5 | 4.4e5 | diverged (all 3) | — |
//! | ReLU | Xavier uniform | 0.37 | 8.5e-2 | 1.8e-2 | 1.8e-2 | 8.9e-3 | 0.383 | 0.8812 |
//! | ReLU | He uniform | 0.45 | 0.42 | 0.36 | 0.72 | 0.46 | 0.219 | 0.9443 |
//! | ReLU | He normal | 0.37 | 0.28 | 0.33 | 0.35 | 0.28 | 0.153 | 0.9480 |
//! | ReLU | PyTorch default | 0.18 | 6.7e-2 | 7.6e-2 | 1.2e-4 | 2.1e-2 | 2.303 | 0.1031 |
//! | sigmoid | small random | 9.1e-3 | 7.4e-3 | 7.6e-3 | 8.3e-18 | 2.5e-2 | 2.303 | 0.1012 |
//! | sigmoid | Xavier uniform | 0.14 | 0.11 | 0.11 | 2.2e-6 | 0.60 | 2.303 | 0.1012 |
//!
//! (Validation loss and accuracy after training are means over the three
//! seeds; a loss of 2.303 = ln 10 is a network that says "any of the ten" to
//! every digit.)
//!
//! `init_study: tanh_small_random_log10_dw1=-11.7 tanh_xavier_log10_dw1=-0.5 relu_he_log10_dw1=-0.1 sigmoid_xavier_log10_dw1_over_dw10=-5.4 relu_randn_log10_std_a9=5.1 tanh_small_random_val_accuracy=0.1031 tanh_xavier_val_accuracy=0.9378 relu_he_val_accuracy=0.9443`
//!
//! What agrees with the textbook:
//!
//! - Small random weights make the signal vanish: the spread of tanh
//!   activations falls from 3.6e-2 to 2.3e-12 over nine layers (ReLU's to
//!   1.2e-13), close to the predicted factor of 0.057 per layer, and the
//!   network does not learn at all (10% is chance). Every layer's gradient
//!   is tiny, the first and the last alike: `dW[l] = dZ[l]·A[l−1]ᵀ`, and
//!   going back `dZ` shrinks while `A` grows, so the product is the same
//!   10⁻¹² everywhere.
//! - N(0, 1) weights make ReLU's signal explode, by about `√(32/2) = 4` per
//!   layer (2.1 → 1.2e5), and the first step of training overflows; tanh
//!   cannot explode but saturates at ±1 (spread 0.9), and its gradient grows
//!   backwards instead (‖dW1‖ = 24 against ‖dW10‖ = 0.89); it barely
//!   learns (21% on average, 10% to 31% by seed).
//! - Xavier (for tanh) and He (for ReLU) keep the spread and the gradients
//!   within a factor of a few from the first layer to the last, and those
//!   networks train (94–97% after 30 epochs). Xavier with ReLU loses half the
//!   signal's variance per layer (0.37 → 1.8e-2) and trains less well
//!   (88%).
//! - No scheme makes the 10-layer sigmoid network train in 30 epochs (seven
//!   stay at chance, N(0, 1) reaches 53%): sigmoid's derivative is at most
//!   1/4, and under every scaled scheme the first layer's gradient is 10⁻⁴
//!   to 10⁻⁷ of the last's (‖dW1‖/‖dW10‖ = 10^−5.4 under Xavier). This is
//!   the vanishing gradient in its textbook form, and why deep networks
//!   moved to tanh and then ReLU.
//!
//! Where the numbers differ from what one might expect:
//!
//! - He initialisation also suits tanh here, slightly better than Xavier
//!   (97% against 94%): with 32 units per layer, Xavier's tanh signal still
//!   shrinks (0.47 → 0.19), He's stays at 0.5.
//! - PyTorch's default, U(−1/√n, 1/√n), has a third of LeCun's variance, a
//!   factor `√(1/3) ≈ 0.58` per layer; its random biases keep the forward
//!   signal alive, but the gradient still shrinks backwards (by about 10×
//!   for tanh and 200× for ReLU over ten layers), and neither network learns
//!   in 30 epochs. It is a reasonable default for shallow networks; for deep ones
//!   choose the scheme.
//!
//! # Example: symmetry, and the spread after ten layers
//!
//! ```
//! use typenet::prelude::*;
//!
//! // Symmetry: every weight 0.5, and XOR for 200 epochs. The hidden units
//! // start equal, get equal gradients, and stay equal: four units act as one.
//! type Xor = net![Dense<U2, U4, f64>, Tanh, Dense<U4, U1, f64>];
//! let data = [
//!     (vector([0.0, 0.0]), vector([0.0])),
//!     (vector([0.0, 1.0]), vector([1.0])),
//!     (vector([1.0, 0.0]), vector([1.0])),
//!     (vector([1.0, 1.0]), vector([0.0])),
//! ];
//! let mut net = Xor::default();
//! net.visit_mut(&mut |t| t.fill(0.5));
//! let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! trainer.fit(&mut net, &BceWithLogits, &data, &mut rng).epochs(200).run().unwrap();
//! let w1 = &net.layer::<U0>().weight;
//! assert!(w1.iter().all(|row| row == &w1[0]));
//! assert!(evaluate(&net, &BceWithLogits, &data).unwrap().accuracy < Some(1.0));
//!
//! // Scale: ten tanh layers of 32 units; the spread of the last layer's output.
//! fn spread_after_ten_layers(scheme: Init) -> f64 {
//!     let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
//!     let mut layers: [Dense<U32, U32, f64>; 10] = Default::default();
//!     layers.iter_mut().for_each(|layer| layer.init_with(scheme, &mut rng));
//!     let mut a = Vector::<f64, U32>::default();
//!     a.iter_mut().for_each(|v| *v = rng.random::<f64>() * 2.0 - 1.0);
//!     for layer in &layers {
//!         a = Tanh.forward(&layer.forward(&a)); // A[l] = tanh(W[l]·A[l−1] + b[l])
//!     }
//!     (a.iter().map(|v| v * v).sum::<f64>() / 32.0).sqrt()
//! }
//! assert!(spread_after_ten_layers(Init::SmallRandom) < 1e-10); // vanished
//! assert!(spread_after_ten_layers(Init::XavierUniform) > 0.1); // alive
//! ```
