//! Fine-tuning a pretrained LeNet-5 on digits it has not seen: the body
//! frozen and borrowed, the head retrained, against retraining everything.
//!
//! Pretrains LeNet-5 (as `mnist_cnn`, 5 epochs) on the 8,000 training
//! digits, then moves every digit 3 pixels down and 3 right and trains, for
//! 10 epochs with Adam (1e-3), on the first 1,000 moved training digits (a
//! random draw: the split shuffles) in two ways, each tested on the 1,000
//! moved test digits:
//!
//! - the head alone, `(Frozen<Body>, Head)`: the convolutional body
//!   borrowed from the pretrained model, with no gradients, no optimiser
//!   state, no caches and no backward pass; the head is the three `Dense`
//!   layers after `Flatten` (the last `Dense` alone needs 38 KB instead of
//!   1.2 MB but recovers about 0.82 of the accuracy instead of all of it);
//! - the whole model, the pretrained one itself.
//!
//! Ends with one line: `mnist_finetune: before_accuracy=...
//! head_accuracy=... full_accuracy=... recovered=... head_ram_bytes=...
//! full_ram_bytes=... seconds=...`, where `recovered` is
//! (head − before) / (full − before) and the RAM is
//! [`Trainer::BUDGET`](typenet::train::Budget)`.ram()`: the model and the
//! trainer, from their types.
//!
//! ```text
//! cargo run --release --example mnist_finetune        # seed 2026
//! cargo run --release --example mnist_finetune -- 7   # or SEED=7
//! ```

mod common;

use std::time::Instant;

use typenet::prelude::*;
use typenet::train::Budget;

/// The convolutional feature extractor: 1×28×28 → 400.
type Body = net![
    Conv2d<U1, U6, U5, U1, U2>, // → 6×28×28
    Relu,
    MaxPool2d<U2>, // → 6×14×14
    Conv2d<U6, U16, U5>, // → 16×10×10
    Relu,
    MaxPool2d<U2>, // → 16×5×5
    Flatten // → 400
];
/// The classifier: 400 → 10.
type Head = net![Dense<U400, U120>, Relu, Dense<U120, U84>, Relu, Dense<U84, U10>];
type LeNet5 = (Body, Head);
/// The body borrowed and frozen, the head trained.
type HeadOnly<'a> = (Frozen<'a, Body>, Head);

type Image = Tensor3<f32, U1, U28, U28>;
type FullTrainer = Trainer<LeNet5, Image, Adam>;
type HeadTrainer<'a> = Trainer<HeadOnly<'a>, Image, Adam>;

const PRETRAIN_EPOCHS: usize = 5;
const TUNE_EPOCHS: usize = 10;
const TUNE_SAMPLES: usize = 1_000;
const SHIFT: (isize, isize) = (3, 3);

fn main() {
    let seed = common::seed(2026);
    let start = Instant::now();
    let mnist = common::mnist();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);

    // Pretrain on the digits as they are.
    let mut model = typenet::memory::default_box::<LeNet5>();
    model.init_with(PyTorch, &mut rng);
    let adam = Adam::new(1e-3).scheduled(CosineAnnealing { epochs: PRETRAIN_EPOCHS, min_lr: 0.0 });
    let mut trainer = Trainer::<LeNet5, _, _>::boxed(adam, Config::default());
    trainer
        .fit(&mut model, &SoftmaxCrossEntropy, &mnist.train, &mut rng)
        .epochs(PRETRAIN_EPOCHS)
        .run()
        .unwrap_or_else(|e| panic!("pretraining failed: {e}"));
    drop(trainer);
    let tune_rng = rng; // both fine-tunings visit the samples in the same order
    let pretrained = accuracy(&*model, &mnist.test);

    // The digits moved: 1,000 to fine-tune on, the test digits to test on.
    let background = -common::MNIST_MEAN_STD.0 / common::MNIST_MEAN_STD.1;
    let (down, right) = SHIFT;
    let tune = common::shifted(&mnist.train[..TUNE_SAMPLES], down, right, background);
    let test = common::shifted(&mnist.test, down, right, background);
    let before = accuracy(&*model, &test);
    println!(
        "pretrained LeNet-5 ({PRETRAIN_EPOCHS} epochs): test accuracy {pretrained:.4}, {before:.4} on the digits moved {down} down and {right} right"
    );

    // The head alone: the body borrowed from the pretrained model, frozen.
    let mut head_only: Box<HeadOnly> = Box::new((Frozen(&model.0), model.1.clone()));
    let mut trainer = HeadTrainer::boxed(Adam::new(1e-3), Config::default());
    let (head, head_epoch) = fine_tune(&mut *trainer, &mut head_only, &tune, &test, &mut tune_rng.clone());
    drop((trainer, head_only));

    // Everything: the pretrained model itself, same epochs and optimiser.
    let mut trainer = FullTrainer::boxed(Adam::new(1e-3), Config::default());
    let (full, full_epoch) = fine_tune(&mut *trainer, &mut model, &tune, &test, &mut tune_rng.clone());

    let (head_ram, full_ram) = (HeadTrainer::BUDGET, FullTrainer::BUDGET);
    let report = |mode: &str, budget: Budget, accuracy: f64, epoch: f64| {
        println!(
            "{mode}: accuracy {accuracy:.4}, {:.0} ms an epoch; RAM {} bytes: model {}, gradients {}, optimiser state {}, caches {}",
            epoch * 1e3,
            budget.ram(),
            budget.model,
            budget.gradients,
            budget.optimizer_state,
            budget.caches
        )
    };
    report("head", head_ram, head, head_epoch);
    report("full", full_ram, full, full_epoch);
    let recovered = (head - before) / (full - before);
    println!(
        "mnist_finetune: before_accuracy={before:.4} head_accuracy={head:.4} full_accuracy={full:.4} recovered={recovered:.2} head_ram_bytes={} full_ram_bytes={} seconds={:.1}",
        head_ram.ram(),
        full_ram.ram(),
        start.elapsed().as_secs_f64()
    );
}

/// Trains `model` for [`TUNE_EPOCHS`] on `tune` and returns its accuracy on
/// `test` and the seconds an epoch took.
fn fine_tune<M: Train<Image, Output = Vector<f32, U10>>>(
    trainer: &mut Trainer<M, Image, Adam>,
    model: &mut M,
    tune: &[common::MnistImage],
    test: &[common::MnistImage],
    rng: &mut Xoshiro256PlusPlus,
) -> (f64, f64) {
    let start = Instant::now();
    trainer
        .fit(model, &SoftmaxCrossEntropy, tune, rng)
        .epochs(TUNE_EPOCHS)
        .run()
        .unwrap_or_else(|e| panic!("fine-tuning failed: {e}"));
    let epoch = start.elapsed().as_secs_f64() / TUNE_EPOCHS as f64;
    (accuracy(model, test), epoch)
}

fn accuracy<M: Layer<Image, Output = Vector<f32, U10>>>(model: &M, data: &[common::MnistImage]) -> f64 {
    f64::from(
        evaluate(model, &SoftmaxCrossEntropy, data)
            .expect("the data set is not empty")
            .accuracy
            .expect("the cost classifies"),
    )
}
