//! The course, executable: neural networks from scratch, with typenet.
//!
//! The classic "neural network from scratch" course builds a network in a
//! few dozen lines of numpy: initialise the parameters, run the forward
//! pass, compute the cost, run the backward pass, update the parameters,
//! repeat. Then it adds what makes networks work in practice: activations,
//! depth, initialisation against vanishing and exploding gradients, L1, L2
//! and dropout against overfitting, a validation set to watch, the
//! learning rate, batch size and depth to tune, and convolutional and
//! recurrent architectures.
//!
//! This guide takes the same steps, one chapter each. A chapter explains
//! the idea in a few paragraphs, with the equations in the course's
//! notation (below), points to the types that implement it, and ends with
//! an example that runs: `cargo test --doc` runs every one of them, so the
//! guide cannot drift from the code. Three experiments, run as examples,
//! show why each technique exists, and the chapters quote their numbers.
//!
//! | chapter | the course's topic | where it lives |
//! | --- | --- | --- |
//! | [1](ch01_training_loop) | the training loop: initialise, forward, cost, backward, update | [`Train`](crate::Train), [`Trainer`](crate::train::Trainer) |
//! | [2](ch02_activations) | activations, and why a network needs them | [`layers::activation`](crate::layers::activation) |
//! | [3](ch03_costs) | costs, and which output goes with which | [`loss`](crate::loss) |
//! | [4](ch04_backward_pass) | the backward pass, derived and checked | [`Dense`](crate::layers::Dense), [`check`](crate::check) |
//! | [5](ch05_optimisers) | gradient descent, momentum, Adam; the learning rate | [`optim`](crate::optim) |
//! | [6](ch06_initialisation) | initialisation; vanishing and exploding gradients | [`init`](crate::init) |
//! | [7](ch07_regularisation) | overfitting; L1, L2, dropout | [`Config`](crate::train::Config), [`Dropout`](crate::layers::Dropout) |
//! | [8](ch08_monitoring) | loss and accuracy on a validation set; early stopping | [`EpochReport`](crate::train::EpochReport), [`Monitor`](crate::train::Monitor) |
//! | [9](ch09_hyperparameters) | learning rate, batch size, depth | [`Config`](crate::train::Config), types |
//! | [10](ch10_convolutional) | convolutional networks | [`Conv2d`](crate::layers::Conv2d), [`MaxPool2d`](crate::layers::MaxPool2d) |
//! | [11](ch11_recurrent) | recurrent networks; backpropagation through time | [`Rnn`](crate::layers::Rnn), [`Lstm`](crate::layers::Lstm), [`Gru`](crate::layers::Gru) |
//! | [12](ch12_firmware) | running on a microcontroller; parameters in and out | [`memory`](crate::memory), [`io`](mod@crate::io) |
//! | [13](ch13_normalisation_residual) | batch and layer normalisation, residual blocks, depthwise-separable convolutions | [`BatchNorm2d`](crate::layers::BatchNorm2d), [`Residual`](crate::layers::Residual) |
//! | [14](ch14_quantisation) | int8 quantisation: scales, zero points, integer-only inference | [`quant`](crate::quant) |
//!
//! # Notation
//!
//! The course stacks `m` samples as the columns of a matrix and writes a
//! layer `l` as `Z[l] = W[l]·A[l−1] + b[l]`, `A[l] = g(Z[l])`. typenet keeps
//! the same matrices. The layer methods in this guide take one sample (one
//! column); the [`Trainer`](crate::train::Trainer) cuts a mini-batch of `m`
//! samples into blocks of up to `B` columns that go through the network
//! together (chapter 1):
//!
//! | the course | typenet |
//! | --- | --- |
//! | `X`, `(n_x, m)`: `m` samples as columns | `&[(x, y)]`: `m` samples, each `x` a [`Vector<T, I>`](crate::shape::Vector), one column of `X` |
//! | `W[l]`, `(n[l], n[l−1])` | [`Dense<I, O>`](crate::layers::Dense)`::weight`, a `Matrix<T, O, I>`: row `o` holds the weights into unit `o`, the same layout |
//! | `b[l]`, `(n[l], 1)` | `Dense::bias`, a `Vector<T, O>` |
//! | `Z[l] = W[l]·A[l−1] + b[l]` | [`Dense::forward`](crate::Layer::forward) |
//! | `A[l] = g(Z[l])` | an activation layer: [`Relu`](crate::layers::Relu), [`Tanh`](crate::layers::Tanh), … |
//! | `J`, the cost, the mean over the samples | a [`Loss`](crate::loss::Loss) per sample, averaged over the batch by [`Trainer::step`](crate::train::Trainer::step) |
//! | `dZ`, `dW`, `db`, `dA[l−1]` | [`Train::backward`](crate::Train::backward) returns `dA[l−1]` and *adds* one sample's `dW`, `db`; the trainer scales each sample's `dA[L]` by `1/m` before the backward pass, so the sums are the course's means |
//! | `α`, the learning rate | [`Sgd::new(α)`](crate::optim::Sgd::new) and the other optimisers |
//! | one pass over the data | an epoch: [`Trainer::train_epoch`](crate::train::Trainer::train_epoch) |
//! | `n[l]`, the width of layer `l` | a type: `U64`, `U32`, … (a mismatch does not compile) |
//!
//! `d` means the derivative of the cost: `dW` is `∂J/∂W`. `⊙` multiplies
//! element by element, `·` is the matrix product, `ᵀ` transposes.
//!
//! # The experiments
//!
//! Each experiment is an example: it prints a table, writes its numbers
//! and an SVG plot under `out/<name>/`, and ends with one `key=value` line.
//! The plots as of this writing are in the repository's `docs/`.
//!
//! | command | what it shows | chapter |
//! | --- | --- | --- |
//! | `cargo run --release --example init_study` | a 10-layer network under every initialisation: signals and gradients per layer | [6](ch06_initialisation) |
//! | `cargo run --release --example overfit_study` | 100 training digits: the gap, and what L2, L1 and dropout do to it | [7](ch07_regularisation) |
//! | `cargo run --release --example activation_study` | every activation on digits and on two spirals: accuracy, epochs to converge | [2](ch02_activations) |
//! | `cargo run --release --example sweep` | learning rate × batch size × depth | [9](ch09_hyperparameters) |
//!
//! Every number quoted is from a seeded run, so the same command prints
//! the same losses and accuracies (the seconds depend on the machine; the
//! summary lines quoted in the chapters leave out their last key,
//! `seconds`). Each experiment runs in well under a minute in release on
//! two cores.

pub mod ch01_training_loop;
pub mod ch02_activations;
pub mod ch03_costs;
pub mod ch04_backward_pass;
pub mod ch05_optimisers;
pub mod ch06_initialisation;
pub mod ch07_regularisation;
pub mod ch08_monitoring;
pub mod ch09_hyperparameters;
pub mod ch10_convolutional;
pub mod ch11_recurrent;
pub mod ch12_firmware;
pub mod ch13_normalisation_residual;
pub mod ch14_quantisation;
