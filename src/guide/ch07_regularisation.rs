//! Chapter 7. Regularisation: overfitting, L1, L2, dropout.
//!
//! A network with more parameters than it has samples can learn its
//! training set by heart: training accuracy reaches 100% while accuracy on
//! new data stops improving, and the validation loss starts to rise. The
//! difference between training and validation accuracy is the
//! *generalisation gap*; a large gap is high *variance* (overfitting), a
//! poor training score is high *bias* (underfitting). More data narrows the
//! gap; so, to a degree, does making the network's life harder:
//!
//! **L2** adds `(λ/2)·Σ w²` to the cost, so every gradient gets `+λ·w` and
//! every step shrinks the weights a little, `w := (1 − αλ)·w − α·dW`: "weight
//! decay". Large weights, which a network needs to fit noise sharply, cost
//! more. The course writes the penalty as `(λ/2m)·Σ‖W‖²` added to the mean
//! cost; typenet's [`Config::l2`](crate::train::Config::l2) is the
//! coefficient per sample, `λ/m` in the course's terms (and PyTorch's
//! `weight_decay`).
//!
//! **L1** adds `λ·Σ |w|`, so every gradient gets `+λ·sign(w)`: a constant
//! pull towards 0 that sets weights the data does not need to 0 (or, with a
//! fixed step, within `α·λ` of it), giving sparse networks.
//! [`Config::l1`](crate::train::Config::l1).
//!
//! Both penalties apply to every parameter, biases included, and appear in
//! the training loss that [`Trainer::fit`](crate::train::Trainer::fit)
//! reports ([`train::penalty`](crate::train::penalty) computes them). With
//! Adam, an L2 penalty is divided by Adam's own scaling and decays large
//! weights less; [`Adam::adamw`](crate::optim::Adam::adamw) decouples the
//! decay (AdamW). So there are two knobs, one per form: `Config::l2` for
//! the coupled penalty with any optimiser (PyTorch's `weight_decay` of
//! `SGD`, `Adam`, `RMSprop`), `Adam::adamw`'s `weight_decay` for the
//! decoupled one (PyTorch's `AdamW`); the optimisers have no coupled
//! decay of their own ([`optim`](crate::optim) has the table).
//!
//! **Dropout** zeroes each activation with probability `p` during training
//! and scales the survivors by `1/(1 − p)` ("inverted dropout", the course's
//! `D = rand < keep_prob; A = A ⊙ D / keep_prob`), so no unit can rely on
//! any other being there, and the network trains as an average of many
//! thinned networks. At inference it does nothing, and because of the
//! scaling nothing needs rescaling. [`Dropout`](crate::layers::Dropout) is a
//! layer: put it after the activations it should thin. Its mask comes from
//! the generator passed to training, so a seeded run is reproducible.
//!
//! # What the experiment found
//!
//! `cargo run --release --example overfit_study` trains a network far
//! larger than its data, 64 → 128 → 128 → 10 (26,122 parameters, ReLU, He
//! init), on 100 digits (10 per class) for 200 epochs of SGD with momentum
//! (lr 0.02, batch 16), and evaluates the training and validation sets after
//! every epoch with the inference forward (no dropout, no penalty), so the
//! two compare like with like. Each setting runs from three seeds; the
//! numbers are their means. Last, for scale, the same network without
//! regularisation on all 1,078 training digits (one seed, 60 epochs):
//!
//! | regularisation | train accuracy | val accuracy (seeds' range) | gap | val loss, end | lowest val loss (epoch) | test accuracy | weights within 1e-3 of 0 |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | none | 1.0000 | 0.9136 (0.9053–0.9220) | 0.0864 | 0.3132 | 0.2878 (40) | 0.9278 | 0% |
//! | L2 0.001 | 1.0000 | 0.9183 (0.9081–0.9248) | 0.0817 | 0.2707 | 0.2685 (184) | 0.9269 | 1% |
//! | L2 0.01 | 1.0000 | 0.9257 (0.9248–0.9276) | 0.0743 | 0.2838 | 0.2776 (158) | 0.9269 | 4% |
//! | L1 0.0001 | 1.0000 | 0.9164 (0.9136–0.9192) | 0.0836 | 0.2812 | 0.2795 (185) | 0.9213 | 11% |
//! | L1 0.001 | 1.0000 | 0.9266 (0.9164–0.9331) | 0.0734 | 0.2631 | 0.2583 (196) | 0.9148 | 86% |
//! | dropout 0.2 | 1.0000 | 0.9201 (0.9053–0.9359) | 0.0799 | 0.3149 | 0.2620 (61) | 0.9259 | 0% |
//! | dropout 0.5 | 1.0000 | 0.9146 (0.9109–0.9164) | 0.0854 | 0.3764 | 0.2868 (74) | 0.9231 | 0% |
//! | none, all 1,078 digits | 1.0000 | 0.9777 | 0.0223 | 0.0775 | 0.0694 (21) | 0.9833 | 0% |
//!
//! `overfit_study: train_samples=100 none_gap=0.0864 l2_gap=0.0817 l1_gap=0.0734 dropout_gap=0.0854 none_val_accuracy=0.9136 best_val_accuracy=0.9266 all_data_gap=0.0223`
//! (the curves: `docs/overfit_study.svg`).
//!
//! What agrees with the textbook:
//!
//! - Without regularisation the network overfits: 100% on its 100 digits,
//!   91% on new ones, and the validation loss bottoms out at epoch 40 and
//!   rises from there while the training loss keeps falling to 0.001.
//! - L2 and L1 narrow the gap and lower the validation loss: L2 0.01 and
//!   L1 0.001 gain 1.2 and 1.3 points of validation accuracy and shrink the
//!   gap from 8.6 to 7.4 and 7.3 points, and after its lowest point the
//!   validation loss rises by 0.005 to 0.006 instead of 0.025.
//! - L1 makes the network sparse: at 0.001, 86% of the weights end within
//!   1e-3 of zero (L2 at 0.01: 4%), and accuracy is as good.
//! - More data beats every regulariser by far: with all 1,078 training
//!   digits the gap is 2.2 points and validation accuracy 97.8%.
//!
//! Where it differs from what one might expect:
//!
//! - The gains are small, about the spread between seeds, and they do not
//!   carry over to the test set (92.8% without regularisation, 91.5–92.7%
//!   with a penalty). On this data the network overfits gently: digits are
//!   easy, and a 26,000-parameter network reaches 91% from 100 examples.
//! - Dropout does not narrow the final gap much here (8.0 and 8.5 points
//!   against 8.6). Its validation loss reaches a low early (0.262 at epoch
//!   61 at rate 0.2, 0.287 at epoch 74 at rate 0.5), but trained on for 200
//!   epochs it climbs back the most of all (to 0.315 and 0.376), because the network still fits its 100 samples
//!   perfectly and grows more confident on the validation digits it gets
//!   wrong. Dropout and early stopping (chapter 8) go together.
//!
//! # Example: the penalties' gradients, and dropout in training and inference
//!
//! ```
//! use typenet::prelude::*;
//!
//! // L2 adds λ·w to each gradient, L1 adds λ·sign(w).
//! let layer = Dense::<U2, U1, f64>::new(matrix([[0.5, -2.0]]), vector([0.25]));
//! let batch = [(vector([1.0, 1.0]), vector([0.0])), (vector([0.0, 2.0]), vector([1.0]))];
//! let grads = |l1: f64, l2: f64| {
//!     let mut trainer = Trainer::new(Sgd::new(0.0), Config { batch_size: 2, l1, l2, ..Config::default() });
//!     let step = trainer.step(&mut layer.clone(), &Mse, &batch, &mut NoRng).unwrap();
//!     (trainer.grads().clone(), step.loss)
//! };
//! let (plain, loss) = grads(0.0, 0.0);
//! let (with_l2, loss_l2) = grads(0.0, 0.1);
//! let (with_l1, _) = grads(0.1, 0.0);
//! assert!((with_l2.weight[0][1] - (plain.weight[0][1] + 0.1 * -2.0)).abs() < 1e-12); // + λ·w
//! assert!((with_l1.weight[0][1] - (plain.weight[0][1] - 0.1)).abs() < 1e-12); // + λ·sign(w)
//! assert!((loss_l2 - (loss + 0.1 / 2.0 * (0.25 + 4.0 + 0.0625))).abs() < 1e-12); // + (λ/2)·Σw²
//!
//! // Dropout: in training, a scaled mask; at inference, nothing.
//! let dropout = Dropout::new(0.5);
//! let a = vector([1.0f64; 8]);
//! assert_eq!(dropout.forward(&a), a);
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut mask = Default::default();
//! let thinned = dropout.forward_train(&a, &mut mask, &mut rng);
//! assert!(thinned.iter().all(|&v| v == 0.0 || v == 2.0)); // dropped, or scaled by 1/(1 − p)
//! // Gradients flow only through the units that were kept, with the same scale.
//! let da = dropout.backward(&a, &mut mask, &vector([1.0; 8]), &mut ());
//! assert_eq!(da, thinned);
//!
//! // In a network it sits after the activation it thins; the rate is a value.
//! type Mlp = net![Dense<U64, U128>, Relu, Dropout, Dense<U128, U10>];
//! let model: Mlp = layers![Dense::default(), Relu, Dropout::new(0.2), Dense::default()];
//! assert_eq!(model.layer::<U2>().rate, 0.2);
//! ```
