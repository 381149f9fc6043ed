//! Writes what the firmware example embeds: the digits MLP trained here on
//! the host, and the held-out test digits with the host's predictions.
//!
//! The model is `digits_mlp`'s, trained by that example's own code (its
//! file is compiled in here) on the same split (`data/digits.csv`,
//! stratified 60/20/20, seed 2026, pixels / 16), so it is the same model
//! bit for bit. Two files go to
//! `examples/firmware-cortex-m/data/`:
//!
//! - `digits_mlp.tnet`: the parameters in typenet's format ([`typenet::io`]),
//!   loaded on the device with `typenet::io::load`;
//! - `digits_test.bin`: the whole test split, one 66-byte record per digit:
//!   the 64 pixels as bytes 0..=16 (the device divides by 16, as the host
//!   did, giving the same `f32` inputs), the label, and the class this
//!   model predicts on the host, so the device can check that it computes
//!   the same predictions.
//!
//! ```text
//! cargo run --release --example export_digits_model
//! ```
//!
//! Ends with one line: `export_digits_model: test_accuracy=... test_samples=... bytes=...`.

// The model, its training and the data: `digits_mlp`'s (its `main` goes unused).
#[allow(dead_code)]
#[path = "digits_mlp.rs"]
mod digits_mlp;

use std::fs;
use std::path::Path;

use typenet::io;
use typenet::loss::argmax;
use typenet::prelude::*;

use digits_mlp::{Mlp, common};

/// Bytes per test record: 64 pixels, the label, the host's prediction.
const RECORD: usize = 66;

fn main() {
    let common::Digits { train, val, test } = common::digits(digits_mlp::SEED);
    let (model, fit) = digits_mlp::train(&train, &val, ());

    let mut params = [0u8; io::encoded_len::<Mlp, f32>()];
    io::save(&model, &mut params).expect("a trained model is finite");

    let mut records = Vec::with_capacity(test.len() * RECORD);
    let mut correct = 0;
    for (x, label) in &test {
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
    let accuracy = correct as f64 / test.len() as f64;
    assert!(accuracy >= 0.95, "test accuracy {accuracy:.4} is below the firmware's floor of 0.95");

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/firmware-cortex-m/data");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    for (name, bytes) in [("digits_mlp.tnet", &params[..]), ("digits_test.bin", &records[..])] {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    println!("host: {correct}/{} test digits correct after {} epochs", test.len(), fit.epochs);
    println!(
        "export_digits_model: test_accuracy={accuracy:.4} test_samples={} bytes={}",
        test.len(),
        params.len() + records.len()
    );
}
