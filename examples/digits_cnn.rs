//! A small convolutional network on the digits, as 1×8×8 images:
//! Conv2d 1→8 3×3 (padding 1), ReLU, MaxPool 2, Conv2d 8→16 3×3, ReLU,
//! Flatten, Dense 64→10, trained with Adam.
//!
//! Writes `out/digits_cnn/log.csv` and `out/digits_cnn/curves.svg` (the
//! library's monitors, with a progress bar), and
//! ends with one line: `digits_cnn: test_accuracy=... val_accuracy=... epochs=...`.
//!
//! ```text
//! cargo run --release --example digits_cnn
//! ```

mod common;

use std::time::Instant;

use typenet::monitor::{CsvLog, Progress, SvgPlot};
use typenet::prelude::*;
use typenet::quant;

type Cnn = net![
    Conv2d<U1, U8, U3, U1, U1>, // 1×8×8 → 8×8×8
    Relu,
    MaxPool2d<U2>, // → 8×4×4
    Conv2d<U8, U16, U3>, // → 16×2×2
    Relu,
    Flatten, // → 64
    Dense<U64, U10>
];

const EPOCHS: usize = 40;
const SEED: u64 = 2026;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let digits = common::digits(SEED);
    let (train, val, test) =
        (common::as_images(&digits.train), common::as_images(&digits.val), common::as_images(&digits.test));
    println!(
        "digits as 1x8x8 images: {} training, {} validation, {} test; model {} parameters, {} bytes",
        train.len(),
        val.len(),
        test.len(),
        <Cnn as Params<f32>>::COUNT,
        size_of::<Cnn>()
    );

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let mut model = Cnn::default();
    model.init_with(HeUniform, &mut rng);
    let mut trainer = Trainer::new(Adam::new(3e-3), Config { batch_size: 16, ..Config::default() });
    let out = common::out_dir("digits_cnn");
    let (log_file, plot_file) = (out.join("log.csv"), out.join("curves.svg"));
    let mut progress = Progress::new(EPOCHS);
    let mut log = CsvLog::create(&log_file)?;
    let mut plot = SvgPlot::new(&plot_file, "digits, CNN conv8-pool-conv16-dense, Adam");
    let start = Instant::now();
    let fit = trainer
        .fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng)
        .validate_on(&val)
        .epochs(EPOCHS)
        .monitor((&mut progress, &mut log, &mut plot))
        .run()?;
    let seconds = start.elapsed().as_secs_f64();
    progress.finish();
    log.finish()?;
    plot.finish()?;
    println!("trained in {seconds:.1} s; wrote {} and {}", log_file.display(), plot_file.display());

    let val_accuracy = fit.last.val.and_then(|m| m.accuracy).unwrap_or(0.0);
    let metrics = evaluate(&model, &SoftmaxCrossEntropy, &test).expect("the test set is not empty");
    println!("test: loss {:.4}, accuracy {:.4}", metrics.loss, metrics.accuracy.expect("the cost classifies"));

    // Deploy as int8: calibrate on the training digits, convert, evaluate.
    let int8 = quant::quantize(&model, &quant::calibrate(&model, train.iter().map(|(x, _)| x)))
        .unwrap_or_else(|e| panic!("quantisation failed: {e}"));
    let int8_accuracy = int8.accuracy(&test).expect("the test set is not empty");
    common::save_models("digits_cnn", &model, &int8);
    println!(
        "digits_cnn: test_accuracy={:.4} val_accuracy={val_accuracy:.4} epochs={} int8_test_accuracy={int8_accuracy:.4}",
        metrics.accuracy.expect("the cost classifies"),
        fit.epochs
    );
    Ok(())
}
