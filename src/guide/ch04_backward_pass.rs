//! Chapter 4. The backward pass, derived and checked.
//!
//! Backpropagation is the chain rule applied layer by layer, from the cost
//! back to the input. Each layer needs only its own derivative: given
//! `dA[l] = ∂J/∂A[l]`, the gradient of the cost at its output, it returns
//! `dA[l−1]`, the gradient at its input, and the gradients of its own
//! parameters. Here are the three kinds of step the course derives, with
//! the types that compute them.
//!
//! # A dense layer
//!
//! For one sample, `zₒ = Σᵢ Wₒᵢ aᵢ + bₒ`. Each weight `Wₒᵢ` touches only
//! `zₒ`, with slope `aᵢ`; each input `aᵢ` touches every `zₒ`, with slope
//! `Wₒᵢ`. So, with `dz = ∂J/∂z`:
//!
//! ```text
//! ∂J/∂Wₒᵢ = dzₒ·aᵢ        dW = dz·aᵀ        (an outer product)
//! ∂J/∂bₒ  = dzₒ           db = dz
//! ∂J/∂aᵢ  = Σₒ Wₒᵢ·dzₒ    da = Wᵀ·dz
//! ```
//!
//! The cost is a mean over the batch, `J = (1/m) Σ L⁽ⁱ⁾`, so the parameter
//! gradients are means too: stacking the samples as columns, the course's
//! `dW[l] = dZ[l]·A[l−1]ᵀ / m` and `db[l] = Σ dZ[l] / m` (the sum running
//! over the columns), and `dA[l−1] = W[l]ᵀ·dZ[l]`, one column per sample.
//!
//! [`Dense`](crate::layers::Dense)'s [`backward`](crate::Train::backward)
//! is exactly the three lines above for one sample, `dx = Wᵀ·dy`,
//! `dW += dy·xᵀ`, `db += dy`: it *adds* into the gradients, so the samples
//! of a batch accumulate. The `/m` comes first:
//! [`Trainer::step`](crate::train::Trainer::step) scales each sample's
//! output gradient by `1/m` before the backward pass, and since every step
//! of the pass is linear in that gradient, the sums come out as the means
//! (chapter 1; the trainer also runs the samples in blocks, the same
//! arithmetic on several columns at once). The first layer of a network
//! needs no `dA[0]` (nobody trains the data), so the trainer calls
//! [`backward_block`](crate::Train::backward_block) with no input gradient
//! to fill (`None`), and the first layer skips it.
//!
//! # An activation
//!
//! `A = g(Z)` element by element, so `dZ = dA ⊙ g′(Z)`. An activation layer
//! keeps its output in its cache and computes `g′` from it where that is
//! cheaper: `σ′ = A(1 − A)`, `tanh′ = 1 − A²`.
//!
//! # The cost
//!
//! The backward pass starts at the cost. For a sigmoid output with binary
//! cross-entropy, `L = −[y ln a + (1 − y) ln(1 − a)]`:
//!
//! ```text
//! ∂L/∂a = −y/a + (1 − y)/(1 − a) = (a − y) / (a(1 − a))
//! ∂L/∂z = ∂L/∂a · σ′(z) = (a − y)/(a(1 − a)) · a(1 − a) = a − y
//! ```
//!
//! For softmax with cross-entropy, `L = ln Σⱼ e^zⱼ − z_c` for class `c`, and
//! `∂L/∂zₖ = e^zₖ / Σⱼ e^zⱼ − [k = c] = softmax(z)ₖ − onehot(c)ₖ`. Both give
//! the course's `dZ[L] = A[L] − Y`. [`Bce`](crate::loss::Bce) returns the
//! first line and [`Sigmoid`](crate::layers::Sigmoid) multiplies by
//! `σ′`; [`BceWithLogits`](crate::loss::BceWithLogits) and
//! [`SoftmaxCrossEntropy`](crate::loss::SoftmaxCrossEntropy) return the
//! second directly. For squared error `L = (1/n) Σ (a − y)²`,
//! `∂L/∂a = 2(a − y)/n` ([`Mse`](crate::loss::Mse)).
//!
//! # A chain of layers
//!
//! A network `(A, Rest)` runs `A` and then `Rest` forward, keeping `A`'s
//! output; backward, it asks `Rest` for the gradient at that output and
//! hands it to `A` ([`chain`](crate::chain)). Every layer's backward has
//! been compared with finite differences of its forward in the crate's
//! tests, and [`check::check_gradients`](crate::check::check_gradients)
//! does the same for any layer or network you write.
//!
//! # Example: the course's equations by hand, the crate's, and finite differences
//!
//! A 3-4-1 network with tanh and a sigmoid output, on a batch of five
//! samples: the gradients written out as the course writes them, the
//! gradients of [`Trainer::step`](crate::train::Trainer::step), and central
//! differences of the cost `J` itself, for every one of the 21 parameters.
//!
//! ```
//! use typenet::prelude::*;
//!
//! type Net = net![Dense<U3, U4, f64>, Tanh, Dense<U4, U1, f64>, Sigmoid];
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
//! let mut net = Net::default();
//! typenet::check::randomize(&mut net, &mut rng); // every weight and bias from U(−1, 1)
//! let batch: Vec<(Vector<f64, U3>, Vector<f64, U1>)> = (0..5)
//!     .map(|i| (vector([0.5 - 0.3 * i as f64, 0.2 * i as f64, 1.0 - 0.1 * i as f64]), vector([(i % 2) as f64])))
//!     .collect();
//! let m = batch.len() as f64;
//!
//! // By hand, one column (sample) at a time, summing the means.
//! let (w1, b1) = (&net.layer::<U0>().weight, &net.layer::<U0>().bias);
//! let (w2, b2) = (&net.layer::<U2>().weight, &net.layer::<U2>().bias);
//! let (mut dw1, mut db1, mut dw2, mut db2) = ([[0.0; 3]; 4], [0.0; 4], [0.0; 4], 0.0);
//! for (x, y) in &batch {
//!     let a1: [f64; 4] = core::array::from_fn(|j| (b1[j] + (0..3).map(|k| w1[j][k] * x[k]).sum::<f64>()).tanh()); // A1 = tanh(W1·X + b1)
//!     let z2 = b2[0] + (0..4).map(|j| w2[0][j] * a1[j]).sum::<f64>(); // Z2 = W2·A1 + b2
//!     let a2 = 1.0 / (1.0 + (-z2).exp()); // A2 = σ(Z2)
//!     let dz2 = a2 - y[0]; // dZ2 = A2 − Y
//!     db2 += dz2 / m; // db2 = Σ dZ2 / m
//!     for j in 0..4 {
//!         dw2[j] += dz2 * a1[j] / m; // dW2 = dZ2·A1ᵀ / m
//!         let dz1 = w2[0][j] * dz2 * (1.0 - a1[j] * a1[j]); // dZ1 = W2ᵀ·dZ2 ⊙ (1 − A1²)
//!         db1[j] += dz1 / m; // db1 = Σ dZ1 / m
//!         for k in 0..3 {
//!             dw1[j][k] += dz1 * x[k] / m; // dW1 = dZ1·Xᵀ / m
//!         }
//!     }
//! }
//!
//! // The crate: one step on the batch (on a copy, at rate 0), then its gradients.
//! let mut trainer = Trainer::new(Sgd::new(0.0), Config { batch_size: 5, shuffle: false, ..Config::default() });
//! trainer.step(&mut net.clone(), &Bce, &batch, &mut NoRng).unwrap();
//! let grads = trainer.grads();
//! let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
//! let (g1, g2) = (grads.layer::<U0>(), grads.layer::<U2>());
//! assert!(close(g2.bias[0], db2));
//! for j in 0..4 {
//!     assert!(close(g2.weight[0][j], dw2[j]) && close(g1.bias[j], db1[j]));
//!     for k in 0..3 {
//!         assert!(close(g1.weight[j][k], dw1[j][k]));
//!     }
//! }
//!
//! // Finite differences of the cost J = (1/m) Σ L, parameter by parameter, in visiting order.
//! let cost = |net: &Net| batch.iter().map(|(x, y)| Bce.loss(&net.forward(x), y)).sum::<f64>() / m;
//! let mut analytic = Vec::new();
//! grads.visit(&mut |g| analytic.extend_from_slice(g));
//! assert_eq!(analytic.len(), 21); // 4·3 + 4 + 1·4 + 1
//! let nudged = |k: usize, h: f64| {
//!     let mut copy = net.clone();
//!     let mut index = 0;
//!     copy.visit_mut(&mut |t| {
//!         for p in t {
//!             if index == k {
//!                 *p += h;
//!             }
//!             index += 1;
//!         }
//!     });
//!     cost(&copy)
//! };
//! for (k, &g) in analytic.iter().enumerate() {
//!     let numeric = (nudged(k, 1e-6) - nudged(k, -1e-6)) / 2e-6;
//!     assert!((numeric - g).abs() < 1e-8, "parameter {k}: {g} by backprop, {numeric} by differences");
//! }
//! ```
