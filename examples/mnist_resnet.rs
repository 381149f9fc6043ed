//! A ResNet-8 on MNIST, MLPerf Tiny's image model: a 3×3 convolution +
//! batch norm + ReLU, three residual stages of 16, 32 and 64 channels (each
//! two 3×3 convolutions with batch norm; the last two stride 2 with a
//! strided 1×1 convolution + batch norm as the projection shortcut), global
//! average pooling and a dense layer; PyTorch's default initialisation,
//! Adam (rate 3e-3, cosine-annealed to 0), batches of 32.
//!
//! The same split as `mnist_cnn` (8,000 / 1,000 / 1,000 of `data/mnist10k/`),
//! and its twin is `tools/mnist/train.py --model resnet`, whose blocks
//! register `body` before `shortcut` as [`Residual`] and [`Projected`] lay
//! out their parameters. Ends with one line:
//! `mnist_resnet: test_accuracy=... val_accuracy=... epochs=... seed=... seconds=...`.
//!
//! ```text
//! cargo run --release --example mnist_resnet        # seed 2026
//! cargo run --release --example mnist_resnet -- 7   # or SEED=7
//! ```

mod common;

use std::time::Instant;

use typenet::monitor::{CsvLog, Progress, SvgPlot};
use typenet::prelude::*;
use typenet::quant;

/// Two 3×3 convolutions with batch norm, the first with stride `S`.
type Body<CI, CO, S> = net![
    Conv2d<CI, CO, U3, S, U1>,
    BatchNorm2d<CO>,
    Relu,
    Conv2d<CO, CO, U3, U1, U1>,
    BatchNorm2d<CO>
];

/// A strided 1×1 convolution with batch norm: the shortcut of a stage that
/// changes the shape.
type Shortcut<CI, CO> = net![Pointwise<CI, CO, U2>, BatchNorm2d<CO>];

type ResNet8 = net![
    Conv2d<U1, U16, U3, U1, U1>, // 1×28×28 → 16×28×28
    BatchNorm2d<U16>,
    Relu,
    Residual<Body<U16, U16, U1>>,
    Relu,
    Projected<Body<U16, U32, U2>, Shortcut<U16, U32>>, // → 32×14×14
    Relu,
    Projected<Body<U32, U64, U2>, Shortcut<U32, U64>>, // → 64×7×7
    Relu,
    GlobalAvgPool, // → 64
    Dense<U64, U10>
];

const EPOCHS: usize = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = common::seed(2026);
    let mnist = common::mnist();
    println!(
        "MNIST: {} training, {} validation, {} test digits; ResNet-8, {} parameters, {} bytes; seed {seed}",
        mnist.train.len(),
        mnist.val.len(),
        mnist.test.len(),
        <ResNet8 as Params<f32>>::COUNT,
        size_of::<ResNet8>()
    );

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut model = typenet::memory::default_box::<ResNet8>();
    model.init_with(PyTorch, &mut rng);
    let adam = Adam::new(3e-3).scheduled(CosineAnnealing { epochs: EPOCHS, min_lr: 0.0 });
    let mut trainer = Trainer::boxed(adam, Config::default());
    let out = common::out_dir("mnist_resnet");
    let (log_file, plot_file) = (out.join("log.csv"), out.join("curves.svg"));
    let mut progress = Progress::new(EPOCHS);
    let mut log = CsvLog::create(&log_file)?;
    let mut plot = SvgPlot::new(&plot_file, "MNIST, ResNet-8, Adam");
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

    common::save_models("mnist_resnet", &*model, &int8);
    println!(
        "mnist_resnet: test_accuracy={:.4} val_accuracy={val_accuracy:.4} epochs={} seed={seed} seconds={seconds:.1} int8_test_accuracy={int8_accuracy:.4}",
        test.accuracy.expect("the cost classifies"),
        fit.epochs
    );
    Ok(())
}
