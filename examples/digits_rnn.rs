//! Digits read row by row: each 8×8 digit is a sequence of 8 time steps of
//! 8 pixels, classified by an LSTM, a GRU and a plain (tanh) RNN from their
//! last hidden state, each trained with Adam (rate 0.01, cosine-annealed,
//! gradients clipped at norm 5) on the same split as `digits_mlp`.
//!
//! Writes `out/digits_rnn/<model>_log.csv` (every epoch) and
//! `out/digits_rnn/<model>_curves.svg` for `lstm`, `gru` and `rnn` (the
//! library's monitors, with a progress bar), and ends
//! with one line:
//! `digits_rnn: lstm_test_accuracy=... gru_test_accuracy=... rnn_test_accuracy=...`.
//!
//! ```text
//! cargo run --release --example digits_rnn
//! ```

mod common;

use common::{DigitRows, Digits};
use typenet::monitor::{CsvLog, Progress, SvgPlot};
use typenet::prelude::*;

/// Eight rows of eight pixels.
type Rows = Matrix<f32, U8, U8>;

type LstmNet = net![Lstm<U8, U32>, LastStep, Dense<U32, U10>];
type GruNet = net![Gru<U8, U32>, LastStep, Dense<U32, U10>];
type RnnNet = net![Rnn<U8, U32>, LastStep, Dense<U32, U10>];

const EPOCHS: usize = 30;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let digits = common::digits(common::SEED).rows();
    println!(
        "digits as 8 rows of 8 pixels: {} training, {} validation, {} test samples",
        digits.train.len(),
        digits.val.len(),
        digits.test.len()
    );
    let lstm = train_and_test::<LstmNet>("lstm", "LSTM 8→32, last step, dense 32→10", &digits)?;
    let gru = train_and_test::<GruNet>("gru", "GRU 8→32, last step, dense 32→10", &digits)?;
    let rnn = train_and_test::<RnnNet>("rnn", "RNN (tanh) 8→32, last step, dense 32→10", &digits)?;
    println!("digits_rnn: lstm_test_accuracy={lstm:.4} gru_test_accuracy={gru:.4} rnn_test_accuracy={rnn:.4}");
    Ok(())
}

/// Trains a fresh `M` on the training part (validating every epoch),
/// writes its log and curves, and returns its test accuracy.
fn train_and_test<M>(name: &str, title: &str, digits: &Digits<DigitRows>) -> Result<f32, Box<dyn std::error::Error>>
where
    M: Train<Rows, Output = Vector<f32, U10>> + Initialize + Default,
{
    println!("{name}: {title}, {} parameters, {} bytes", M::COUNT, size_of::<M>());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(common::SEED);
    let mut model = M::default();
    model.init(&mut rng);
    // Cosine annealing settles the noisy end of a constant rate; clipping
    // guards against the occasional exploding gradient through time.
    let adam = Adam::new(1e-2).scheduled(CosineAnnealing { epochs: EPOCHS, min_lr: 1e-4 });
    let config = Config { batch_size: 16, clip_norm: Some(5.0), ..Config::default() };
    let mut trainer = Trainer::new(adam, config);
    let out = common::out_dir("digits_rnn");
    let (log_file, plot_file) = (out.join(format!("{name}_log.csv")), out.join(format!("{name}_curves.svg")));
    let mut progress = Progress::new(EPOCHS);
    let mut log = CsvLog::create(&log_file)?;
    let mut plot = SvgPlot::new(&plot_file, format!("digits row by row, {title}, Adam"));
    let train = digits.train.clone();
    let fit = trainer
        .fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng)
        .validate_on(&digits.val)
        .epochs(EPOCHS)
        .monitor((&mut progress, &mut log, &mut plot))
        .run()?;
    progress.finish();
    log.finish()?;
    plot.finish()?;
    println!("wrote {} and {}", log_file.display(), plot_file.display());

    let val = fit.last.val.and_then(|m| m.accuracy).unwrap_or(0.0);
    let test = evaluate(&model, &SoftmaxCrossEntropy, &digits.test).expect("the test set is not empty");
    println!(
        "{name}: val accuracy {val:.4}, test loss {:.4}, test accuracy {:.4}",
        test.loss,
        test.accuracy.expect("the cost classifies")
    );
    Ok(test.accuracy.expect("the cost classifies"))
}
