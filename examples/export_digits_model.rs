//! Writes what the firmware example embeds: the digits MLP trained here on
//! the host, its int8 twin, the held-out test digits with the host's
//! predictions, and the validation digits (the device's fine-tuning set).
//!
//! The model is `digits_mlp`'s, trained by that example's own code (its
//! file is compiled in here) on the same split (`data/digits.csv`,
//! stratified 60/20/20, seed 2026, pixels / 16), so it is the same model
//! bit for bit. The int8 model is its conversion by [`quant::quantize`]
//! (the ReLU fused), calibrated on the training digits. Five files go to
//! `examples/firmware-cortex-m/data/`:
//!
//! - `digits_mlp.tnet`: the parameters in typenet's format ([`typenet::io`]),
//!   loaded on the device with `typenet::io::load`;
//! - `digits_test.bin`: the whole test split, one 66-byte record per digit:
//!   the 64 pixels as bytes 0..=16 (the device divides by 16, as the host
//!   did, giving the same `f32` inputs), the label, and the class this
//!   model predicts on the host, so the device can check that it computes
//!   the same predictions;
//! - `digits_mlp_int8.tnet`: the int8 model's parameter file
//!   ([`quant::file`]), loaded on the device with `quant::file::load`;
//! - `digits_test_int8.bin`: the class the int8 model gives each test
//!   digit on the host, one byte per digit in the order of
//!   `digits_test.bin`: the device must give the same;
//! - `digits_val.bin`: the validation split (359 digits the model never
//!   trained on; `digits_mlp` only watched its loss), in `digits_test.bin`'s
//!   records: the `finetune` firmware shifts them by a pixel on the device
//!   and retrains the model's head on them, then scores it on the test
//!   digits shifted alike.
//!
//! ```text
//! cargo run --release --example export_digits_model
//! ```
//!
//! Ends with one line: `export_digits_model: test_accuracy=... int8_test_accuracy=... test_samples=... bytes=... int8_bytes=...`.

// The model, its training and the data: `digits_mlp`'s (its `main` goes unused).
#[allow(dead_code)]
#[path = "digits_mlp.rs"]
mod digits_mlp;

use std::fs;
use std::path::Path;

use typenet::io;
use typenet::loss::argmax;
use typenet::prelude::*;
use typenet::quant::{self, file};

use digits_mlp::{Mlp, common};

/// Bytes per test or validation record: 64 pixels, the label, the host's
/// prediction.
const RECORD: usize = 66;

/// The records of `digits` (the format of `digits_test.bin`) and how many
/// `model` classifies correctly.
fn encode(model: &Mlp, digits: &[common::Digit]) -> (Vec<u8>, usize) {
    let mut records = Vec::with_capacity(digits.len() * RECORD);
    let mut correct = 0;
    for (x, label) in digits {
        let pixels = x.iter().map(|&v| {
            let byte = (v * 16.0).round() as u8;
            assert_eq!(f32::from(byte) / 16.0, v, "a pixel is not a sixteenth");
            byte
        });
        let predicted = argmax(&model.forward(x));
        correct += usize::from(predicted == *label);
        records.extend(pixels);
        records.extend([*label as u8, predicted as u8]);
    }
    (records, correct)
}

/// The int8 twin of [`Mlp`]: two int8 `Dense`, the ReLU fused into the
/// first one's clamp.
type Int8Mlp = quant::QuantizedOf<Mlp, Vector<f32, U64>>;

/// The least share of test digits the int8 model must classify correctly,
/// in percent: the firmware's floor for the `f32` model.
const INT8_FLOOR_PERCENT: usize = 95;

fn main() {
    let common::Digits { train, val, test } = common::digits(digits_mlp::SEED);
    let (model, fit) = digits_mlp::train(&train, &val, ());

    let mut params = [0u8; io::encoded_len::<Mlp, f32>()];
    io::save(&model, &mut params).expect("a trained model is finite");

    let (records, correct) = encode(&model, &test);
    let (val_records, val_correct) = encode(&model, &val);
    let accuracy = correct as f64 / test.len() as f64;
    assert!(accuracy >= 0.95, "test accuracy {accuracy:.4} is below the firmware's floor of 0.95");

    // The int8 twin, calibrated on the training digits, and its classes.
    let calibration = quant::calibrate(&model, train.iter().map(|(x, _)| x));
    let int8: Int8Mlp = quant::quantize(&model, &calibration).unwrap_or_else(|e| panic!("quantising: {e}"));
    let mut int8_params = [0u8; file::encoded_len::<Int8Mlp>()];
    file::save(&int8, &mut int8_params).expect("a converted model saves");
    let int8_classes: Vec<u8> = test.iter().map(|(x, _)| int8.classify(x) as u8).collect();
    let int8_correct = test.iter().zip(&int8_classes).filter(|(digit, class)| usize::from(**class) == digit.1).count();
    let int8_accuracy = int8_correct as f64 / test.len() as f64;
    assert!(
        int8_correct * 100 >= INT8_FLOOR_PERCENT * test.len(),
        "int8 test accuracy {int8_accuracy:.4} is below the firmware's floor of 0.95"
    );

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/firmware-cortex-m/data");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    for (name, bytes) in [
        ("digits_mlp.tnet", &params[..]),
        ("digits_test.bin", &records[..]),
        ("digits_mlp_int8.tnet", &int8_params[..]),
        ("digits_test_int8.bin", &int8_classes[..]),
        ("digits_val.bin", &val_records[..]),
    ] {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    println!("host: {correct}/{} test digits correct after {} epochs", test.len(), fit.epochs);
    println!("host: {val_correct}/{} validation digits correct", val.len());
    println!(
        "host: int8 (calibrated on {} training digits, input scale {} zero point {}): {int8_correct}/{} correct",
        calibration.samples,
        int8.input.scale,
        int8.input.zero_point,
        test.len()
    );
    println!(
        "export_digits_model: test_accuracy={accuracy:.4} int8_test_accuracy={int8_accuracy:.4} test_samples={} bytes={} int8_bytes={}",
        test.len(),
        params.len() + records.len(),
        int8_params.len()
    );
}
