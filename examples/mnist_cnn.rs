//! LeNet-5 on MNIST: Conv2d 1→6 5×5 (padding 2), ReLU, MaxPool 2,
//! Conv2d 6→16 5×5, ReLU, MaxPool 2, Flatten, Dense 400→120, ReLU,
//! Dense 120→84, ReLU, Dense 84→10; PyTorch's default initialisation, Adam
//! (rate 1e-3, cosine-annealed to 0), batches of 32.
//!
//! Trains on 8,000 of the 10,000 digits in `data/mnist10k/`, validates on
//! 1,000 and tests on 1,000 (the split every MNIST example and the PyTorch
//! twin `tools/mnist/train.py --model cnn` use). The model (247 KB) and the
//! trainer (gradients, Adam's moments and the caches of a block of 32
//! images: 4.6 MB) are built on the heap, so the default main-thread stack
//! is plenty (the run needs less than 256 KiB of it). Writes
//! `out/mnist_cnn/log.csv` and `curves.svg`, and ends with one line:
//! `mnist_cnn: test_accuracy=... val_accuracy=... epochs=... seed=... seconds=...`.
//!
//! ```text
//! cargo run --release --example mnist_cnn        # seed 2026
//! cargo run --release --example mnist_cnn -- 7   # or SEED=7
//! ```

mod common;

use std::time::Instant;

use typenet::monitor::{CsvLog, Progress, SvgPlot};
use typenet::prelude::*;
use typenet::quant;

type LeNet5 = net![
    Conv2d<U1, U6, U5, U1, U2>, // 1×28×28 → 6×28×28
    Relu,
    MaxPool2d<U2>, // → 6×14×14
    Conv2d<U6, U16, U5>, // → 16×10×10
    Relu,
    MaxPool2d<U2>, // → 16×5×5
    Flatten, // → 400
    Dense<U400, U120>,
    Relu,
    Dense<U120, U84>,
    Relu,
    Dense<U84, U10>
];

const EPOCHS: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = common::seed(2026);
    let mnist = common::mnist();
    println!(
        "MNIST: {} training, {} validation, {} test digits; LeNet-5, {} parameters, {} bytes; seed {seed}",
        mnist.train.len(),
        mnist.val.len(),
        mnist.test.len(),
        <LeNet5 as Params<f32>>::COUNT,
        size_of::<LeNet5>()
    );

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut model = typenet::memory::default_box::<LeNet5>();
    model.init_with(PyTorch, &mut rng);
    let adam = Adam::new(1e-3).scheduled(CosineAnnealing { epochs: EPOCHS, min_lr: 0.0 });
    let mut trainer = Trainer::<LeNet5, _, _>::boxed(adam, Config::default());
    println!("on the heap: model {} bytes, trainer {} bytes", size_of_val(&*model), size_of_val(&*trainer));
    let out = common::out_dir("mnist_cnn");
    let (log_file, plot_file) = (out.join("log.csv"), out.join("curves.svg"));
    let mut progress = Progress::new(EPOCHS);
    let mut log = CsvLog::create(&log_file)?;
    let mut plot = SvgPlot::new(&plot_file, "MNIST, LeNet-5, Adam");
    let start = Instant::now();
    let fit = trainer
        .fit(&mut model, &SoftmaxCrossEntropy, &mnist.train, &mut rng)
        .validate_on(&mnist.val)
        .epochs(EPOCHS)
        .monitor((&mut progress, &mut log, &mut plot))
        .run()?;
    let seconds = start.elapsed().as_secs_f64();
    progress.finish();
    log.finish()?;
    plot.finish()?;
    println!("wrote {} and {}", log_file.display(), plot_file.display());

    let val_accuracy = fit.last.val.and_then(|m| m.accuracy).unwrap_or(0.0);
    let test = evaluate(&*model, &SoftmaxCrossEntropy, &mnist.test).expect("the test set is not empty");
    println!(
        "trained in {seconds:.1} s; test: loss {:.4}, accuracy {:.4}",
        test.loss,
        test.accuracy.expect("the cost classifies")
    );

    // Deploy as int8: calibrate on the first 1,000 training digits, convert, evaluate.
    let calibration = quant::calibrate(&*model, mnist.train.iter().take(1000).map(|(x, _)| x));
    let int8 = quant::quantize(&*model, &calibration).unwrap_or_else(|e| panic!("quantisation failed: {e}"));
    let int8_accuracy = int8.accuracy(&mnist.test).expect("the test set is not empty");
    common::save_models("mnist_cnn", &*model, &int8);
    println!(
        "mnist_cnn: test_accuracy={:.4} val_accuracy={val_accuracy:.4} epochs={} seed={seed} seconds={seconds:.1} int8_test_accuracy={int8_accuracy:.4}",
        test.accuracy.expect("the cost classifies"),
        fit.epochs
    );
    Ok(())
}
