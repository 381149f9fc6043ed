//! The main job: train a 64-64-10 MLP on handwritten digits with Adam,
//! watching loss and accuracy on a validation set, and report accuracy on
//! the held-out test set.
//!
//! Writes `out/digits_mlp/log.csv` (every epoch) and
//! `out/digits_mlp/curves.svg` (the curves), and ends with one line:
//! `digits_mlp: test_accuracy=... val_accuracy=... epochs=...`.
//!
//! ```text
//! cargo run --release --example digits_mlp
//! ```

mod common;

use typenet::prelude::*;

use common::{MLP_EPOCHS, MLP_SEED, Mlp};

fn main() {
    let common::Digits { mut train, val, test } = common::digits(MLP_SEED);
    println!(
        "digits: {} training, {} validation, {} test samples; model {} parameters, {} bytes",
        train.len(),
        val.len(),
        test.len(),
        <Mlp as Params<f32>>::COUNT,
        size_of::<Mlp>()
    );

    let mut progress = common::Progress::new(MLP_EPOCHS);
    let (model, fit) = common::train_mlp(&mut train, &val, &mut progress);
    progress.finish();

    common::save_curves("digits_mlp", "", "digits, MLP 64-64-10, Adam", &progress.reports);

    let val_accuracy = fit.last.val.map_or(0.0, |m| m.accuracy);
    let test = evaluate(&model, &SoftmaxCrossEntropy, &test).expect("the test set is not empty");
    println!("test: loss {:.4}, accuracy {:.4}", test.loss, test.accuracy);
    println!("digits_mlp: test_accuracy={:.4} val_accuracy={val_accuracy:.4} epochs={}", test.accuracy, fit.epochs);
}
