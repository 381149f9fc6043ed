//! A depthwise-separable CNN with batch norm on MNIST, the DS-CNN pattern of
//! MLPerf Tiny's keyword spotter: a strided 3×3 convolution, then four
//! blocks of a depthwise 3×3 convolution + batch norm + ReLU and a pointwise
//! 1×1 convolution + batch norm + ReLU (32, 64, 64, 64 channels, the second
//! block's depthwise stride 2), global average pooling and a dense layer;
//! PyTorch's default initialisation, Adam (rate 3e-3, cosine-annealed to 0),
//! batches of 32.
//!
//! The same split as `mnist_cnn` (8,000 / 1,000 / 1,000 of `data/mnist10k/`),
//! and its twin is `tools/mnist/train.py --model dscnn`. Batch norm trains
//! on the statistics of each mini-batch (one block of the trainer) and
//! evaluates with its running statistics. Ends with one line:
//! `mnist_dscnn: test_accuracy=... val_accuracy=... epochs=... seed=... seconds=...`.
//!
//! ```text
//! cargo run --release --example mnist_dscnn        # seed 2026
//! cargo run --release --example mnist_dscnn -- 7   # or SEED=7
//! ```

mod common;

use std::time::Instant;

use typenet::monitor::{CsvLog, Progress, SvgPlot};
use typenet::prelude::*;
use typenet::quant;

/// Depthwise 3×3 (stride `S`) + batch norm + ReLU, pointwise `CI` → `CO` +
/// batch norm + ReLU.
type Separable<CI, CO, S> = net![
    DepthwiseConv2d<CI, U3, S, U1>,
    BatchNorm2d<CI>,
    Relu,
    Pointwise<CI, CO>,
    BatchNorm2d<CO>,
    Relu
];

type DsCnn = net![
    Conv2d<U1, U32, U3, U2, U1>, // 1×28×28 → 32×14×14
    BatchNorm2d<U32>,
    Relu,
    Separable<U32, U32, U1>,
    Separable<U32, U64, U2>, // → 64×7×7
    Separable<U64, U64, U1>,
    Separable<U64, U64, U1>,
    GlobalAvgPool, // → 64
    Dense<U64, U10>
];

const EPOCHS: usize = 12;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = common::seed(2026);
    let mnist = common::mnist();
    println!(
        "MNIST: {} training, {} validation, {} test digits; DS-CNN, {} parameters, {} bytes; seed {seed}",
        mnist.train.len(),
        mnist.val.len(),
        mnist.test.len(),
        <DsCnn as Params<f32>>::COUNT,
        size_of::<DsCnn>()
    );

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut model = typenet::memory::default_box::<DsCnn>();
    model.init_with(PyTorch, &mut rng);
    let adam = Adam::new(3e-3).scheduled(CosineAnnealing { epochs: EPOCHS, min_lr: 0.0 });
    let mut trainer = Trainer::boxed(adam, Config::default());
    let out = common::out_dir("mnist_dscnn");
    let (log_file, plot_file) = (out.join("log.csv"), out.join("curves.svg"));
    let mut progress = Progress::new(EPOCHS);
    let mut log = CsvLog::create(&log_file)?;
    let mut plot = SvgPlot::new(&plot_file, "MNIST, DS-CNN, Adam");
    let start = Instant::now();
    let fit = trainer
        .fit(&mut *model, &SoftmaxCrossEntropy, &mnist.train, &mut rng)
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

    // Deploy as int8: calibrate on the first 1,000 training digits (batch
    // norms fold into the convolutions, ReLUs into their clamps), evaluate.
    let calibration = quant::calibrate(&*model, mnist.train.iter().take(1000).map(|(x, _)| x));
    let int8 = quant::quantize(&*model, &calibration).unwrap_or_else(|e| panic!("quantisation failed: {e}"));
    let int8_accuracy = int8.accuracy(&mnist.test).expect("the test set is not empty");

    common::save_models("mnist_dscnn", &*model, &int8);
    println!(
        "mnist_dscnn: test_accuracy={:.4} val_accuracy={val_accuracy:.4} epochs={} seed={seed} seconds={seconds:.1} int8_test_accuracy={int8_accuracy:.4}",
        test.accuracy.expect("the cost classifies"),
        fit.epochs
    );
    Ok(())
}
