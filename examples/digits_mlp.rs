//! The main job: train a 64-64-10 MLP on handwritten digits with Adam,
//! watching loss and accuracy on a validation set, and report accuracy on
//! the held-out test set.
//!
//! Shows a progress bar, writes `out/digits_mlp/log.csv` (every epoch) and
//! `out/digits_mlp/curves.svg` (the curves) with the library's monitors,
//! prints the test set's per-class precision, recall and F1 with its
//! confusion matrix, and ends with one line:
//! `digits_mlp: test_accuracy=... val_accuracy=... epochs=... int8_test_accuracy=...`
//! (the same model deployed as int8: calibrated on the training digits,
//! converted by [`typenet::quant`]).
//!
//! ```text
//! cargo run --release --example digits_mlp
//! ```
//!
//! The model and its training are here; `common` only loads the data and
//! saves the model files. `export_digits_model` compiles this
//! file in to train the same model, bit for bit, for the firmware example.

// `pub` for `export_digits_model`, which reaches the data through this file.
pub mod common;

use typenet::monitor::{CsvLog, Progress, SvgPlot};
use typenet::prelude::*;
use typenet::quant;
use typenet::train::FitReport;

use common::Digit;

/// The model: 64 pixels → 64 hidden units with ReLU → 10 logits, one per
/// class (the cost applies the softmax).
pub type Mlp = net![Dense<U64, U64>, Relu, Dense<U64, U10>];

/// The seed of the digits split and of training (initialisation, order).
pub const SEED: u64 = common::SEED;

/// Epochs to train for.
pub const EPOCHS: usize = 40;

/// Trains the model: He-uniform initialisation, then Adam at 2e-3 on
/// mini-batches of 16 for [`EPOCHS`] epochs, a new order every epoch, all
/// drawn from [`SEED`], so every run gives the same model bit for bit.
/// `monitor` watches every batch and epoch (`()` for none).
pub fn train(train: &[Digit], val: &[Digit], monitor: impl Monitor) -> (Mlp, FitReport) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let mut model = Mlp::default();
    model.init_with(HeUniform, &mut rng);
    let config = Config { batch_size: 16, ..Config::default() };
    let mut trainer = Trainer::new(Adam::new(2e-3), config);
    let fit = trainer
        .fit(&mut model, &SoftmaxCrossEntropy, train, &mut rng)
        .validate_on(val)
        .epochs(EPOCHS)
        .monitor(monitor)
        .run()
        .unwrap_or_else(|e| panic!("training failed: {e}"));
    (model, fit)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let common::Digits { train: samples, val, test } = common::digits(SEED);
    println!(
        "digits: {} training, {} validation, {} test samples; model {} parameters, {} bytes",
        samples.len(),
        val.len(),
        test.len(),
        <Mlp as Params<f32>>::COUNT,
        size_of::<Mlp>()
    );

    let out = common::out_dir("digits_mlp");
    let (log_file, plot_file) = (out.join("log.csv"), out.join("curves.svg"));
    let mut progress = Progress::new(EPOCHS);
    let mut log = CsvLog::create(&log_file)?;
    let mut plot = SvgPlot::new(&plot_file, "digits, MLP 64-64-10, Adam");
    let (model, fit) = train(&samples, &val, (&mut progress, &mut log, &mut plot));
    progress.finish();
    log.finish()?;
    plot.finish()?;
    println!("wrote {} and {}", log_file.display(), plot_file.display());

    let val_accuracy = fit.last.val.and_then(|m| m.accuracy).unwrap_or(0.0);
    let metrics = evaluate(&model, &SoftmaxCrossEntropy, &test).expect("the test set is not empty");
    println!("test: loss {:.4}, accuracy {:.4}", metrics.loss, metrics.accuracy.expect("the cost classifies"));
    // Per class: precision, recall, F1, then which digits it takes for which.
    let confusion = Classifier::new(&model, &SoftmaxCrossEntropy).confusion(&test)?;
    println!("{confusion:.4}");

    // Deploy as int8: calibrate on the training digits, convert, evaluate.
    let calibration = quant::calibrate(&model, samples.iter().map(|(x, _)| x));
    let int8 = quant::quantize(&model, &calibration).unwrap_or_else(|e| panic!("quantisation failed: {e}"));
    let int8_accuracy = int8.accuracy(&test).expect("the test set is not empty");
    println!(
        "int8: test accuracy {int8_accuracy:.4}, {} bytes of parameters",
        quant::file::encoded_len::<quant::QuantizedOf<Mlp, Vector<f32, U64>>>()
    );
    common::save_models("digits_mlp", &model, &int8);
    println!(
        "digits_mlp: test_accuracy={:.4} val_accuracy={val_accuracy:.4} epochs={} int8_test_accuracy={int8_accuracy:.4}",
        metrics.accuracy.expect("the cost classifies"),
        fit.epochs
    );
    Ok(())
}
