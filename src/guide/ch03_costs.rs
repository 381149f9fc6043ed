//! Chapter 3. Costs, and which output goes with which.
//!
//! The cost `J` measures how far the outputs `A` are from the targets `Y`,
//! averaged over the `m` samples: `J = (1/m) Σᵢ L(a⁽ⁱ⁾, y⁽ⁱ⁾)`. Training
//! needs its gradient with respect to the output, `dA = ∂L/∂a`, which
//! starts the backward pass. Each cost in [`loss`](crate::loss) computes
//! one sample's `L` and `dA` together
//! ([`Loss::loss_grad`](crate::loss::Loss::loss_grad)); the trainer averages
//! over the batch. With `n` outputs per sample:
//!
//! | cost | `L(a, y)` | `∂L/∂a` | output layer | type |
//! | --- | --- | --- | --- | --- |
//! | mean squared error | `(1/n) Σ (a − y)²` | `2(a − y)/n` | none (regression) | [`Mse`](crate::loss::Mse) |
//! | Huber | `½d²` for `\|d\| ≤ δ`, else `δ(\|d\| − δ/2)`, `d = a − y`, averaged over the `n` outputs | `d/n`, clipped to `±δ/n` | none (regression with outliers) | [`Huber`](crate::loss::Huber) |
//! | binary cross-entropy | `−(1/n) Σ [y ln a + (1 − y) ln(1 − a)]` | `(a − y) / (a(1 − a)) / n` | [`Sigmoid`](crate::layers::Sigmoid) | [`Bce`](crate::loss::Bce) |
//! | binary cross-entropy on logits | the same, with `a = σ(z)` inside | `(σ(z) − y)/n` | none: takes `z` | [`BceWithLogits`](crate::loss::BceWithLogits) |
//! | softmax cross-entropy | `−ln softmax(z)_c` for class `c` | `softmax(z) − onehot(c)` | none: takes `z` | [`SoftmaxCrossEntropy`](crate::loss::SoftmaxCrossEntropy) |
//!
//! # Why the output layer and the cost go together
//!
//! For a sigmoid output and binary cross-entropy, the chain rule through
//! the sigmoid multiplies `∂L/∂a = (a − y)/(a(1 − a))` by `σ′(z) = a(1 − a)`,
//! and everything cancels: `dZ = A − Y`. The same happens for softmax and
//! cross-entropy: `dZ = softmax(Z) − Y`. That is the course's
//! `dZ[L] = A[L] − Y`, and it has a property worth the pairing: the
//! gradient is large exactly when the prediction is confidently wrong.
//!
//! Squared error on a sigmoid does not cancel: `dZ = 2(a − y)·a(1 − a)`. When
//! the sigmoid saturates on the wrong side (`a ≈ 0`, `y = 1`), `a(1 − a) ≈ 0`
//! and the gradient vanishes just when it is needed. Use cross-entropy for
//! classification.
//!
//! Computing the sigmoid or softmax inside the cost, on the logits `z`, is
//! also more accurate: [`BceWithLogits`](crate::loss::BceWithLogits) and
//! [`SoftmaxCrossEntropy`](crate::loss::SoftmaxCrossEntropy) use
//! `ln(1 + e⁻ᶻ)` and log-sum-exp forms that stay finite for any logit,
//! where `ln a` of a sigmoid that rounded to 0 is `−∞`
//! ([`Bce`](crate::loss::Bce) clamps the logarithm at −100, as PyTorch
//! does). So the last layer of a classifier is usually a
//! [`Dense`](crate::layers::Dense) with no activation, and the cost takes
//! its logits; at inference the largest logit is the class
//! ([`loss::argmax`](crate::loss::argmax)).
//!
//! Accuracy is part of each cost too
//! ([`Loss::is_correct`](crate::loss::Loss::is_correct)): the target's side
//! of 0.5 for one probability, of 0 for one logit, the largest output for
//! several.
//!
//! # Example: `dZ = A − Y`, and what squared error does instead
//!
//! ```
//! use typenet::prelude::*;
//!
//! // A sigmoid output, confidently wrong: z = −6, so a ≈ 0.0025, but y = 1.
//! let z = vector([-6.0f64]);
//! let y = vector([1.0]);
//! let mut cache = Default::default();
//! let a = Sigmoid.forward_train(&z, &mut cache, &mut NoRng);
//!
//! // Cross-entropy: dA from the cost, through the sigmoid's derivative, gives dZ = A − Y.
//! let mut da = Vector::<f64, U1>::default();
//! Bce.loss_grad(&a, &y, &mut da);
//! let dz = Sigmoid.backward(&z, &mut cache, &da, &mut ());
//! assert!((dz[0] - (a[0] - y[0])).abs() < 1e-12);
//! assert!(dz[0] < -0.99); // a strong push in the right direction
//!
//! // The same, fused on the logit.
//! let mut dz_fused = Vector::<f64, U1>::default();
//! BceWithLogits.loss_grad(&z, &y, &mut dz_fused);
//! assert!((dz_fused[0] - dz[0]).abs() < 1e-12);
//!
//! // Squared error through the same sigmoid: the saturated derivative kills the gradient.
//! Mse.loss_grad(&a, &y, &mut da);
//! let dz_mse = Sigmoid.backward(&z, &mut cache, &da, &mut ());
//! assert!(dz_mse[0].abs() < 0.005); // 200 times weaker
//!
//! // Softmax cross-entropy on three logits, class 2: dZ = softmax(Z) − onehot.
//! let logits = vector([1.0f64, -0.5, 2.0]);
//! let mut dz = Vector::<f64, U3>::default();
//! SoftmaxCrossEntropy.loss_grad(&logits, &2, &mut dz);
//! let p = Softmax.forward(&logits);
//! for (k, (&d, &p)) in dz.iter().zip(p.iter()).enumerate() {
//!     let onehot = if k == 2 { 1.0 } else { 0.0 };
//!     assert!((d - (p - onehot)).abs() < 1e-15);
//! }
//! ```
