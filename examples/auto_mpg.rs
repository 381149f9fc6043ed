//! Regression end to end on a real, messy table: the fuel economy (`mpg`)
//! of 398 cars from 9 features, read from `data/auto_mpg.csv` (406 rows:
//! 8 with no `mpg` are dropped, 6 with no `horsepower` get the training
//! mean, the text column `name` is skipped).
//!
//! The model takes raw features and predicts miles per gallon: its first
//! layer standardises the features and its last undoes the targets'
//! standardisation, both fitted on the training part and saved in the
//! model's parameter file (`out/auto_mpg/model_f32.tnet`). Adam with early
//! stopping on the validation loss, which gives back the best epoch's model.
//! Ends with one line: `auto_mpg: test_r2=... test_rmse=... test_mae=...
//! best_epoch=... epochs=...`.
//!
//! ```text
//! cargo run --release --example auto_mpg [-- SEED]
//! ```
//!
//! `tools/sklearn/auto_mpg.py` trains scikit-learn's `MLPRegressor` on the
//! same split for comparison.

mod common;

use typenet::data::{Csv, Imputer, Missing, Scaler, random_split_exact};
use typenet::metrics;
use typenet::monitor::{CsvLog, Progress, SvgPlot};
use typenet::prelude::*;
use typenet::train::{EarlyStopping, Metric};

/// Raw features → standardised → 32 → 16 → 1 → miles per gallon.
type Model = net![
    Standardize<Vector<f32, U9>>,
    Dense<U9, U32>,
    Relu,
    Dense<U32, U16>,
    Relu,
    Dense<U16, U1>,
    Unstandardize<Vector<f32, U1>>,
];

/// The split's seed, shared with the scikit-learn script.
const SPLIT_SEED: u64 = 2026;
const EPOCHS: usize = 500;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = std::env::args().nth(1).map_or(Ok(1), |s| s.parse())?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/auto_mpg.csv");
    let mut cars = Csv::open(path)
        .target("mpg")
        .skip("name")
        .missing(Missing::Nan)
        .missing_target(Missing::Drop)
        .regression::<U9, f32>()?;
    println!("auto_mpg: {} cars kept, {} dropped for a missing mpg", cars.len(), cars.dropped);

    // 80/10/10, the same parts as the scikit-learn script's.
    let split = random_split_exact(&mut cars, 318, 40, SPLIT_SEED)?;
    let imputer = Imputer::mean(split.train)?;
    let filled = imputer.apply(split.train) + imputer.apply(split.val) + imputer.apply(split.test);
    println!("imputed {filled} missing horsepower values with the training mean");

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut model = Model::default();
    model.init_with(HeUniform, &mut rng);
    *model.layer_mut::<U0>() = Scaler::standardize(split.train).layer();
    *model.layer_mut::<U6>() = Scaler::standardize_targets(split.train).inverse_layer();

    let out = common::out_dir("auto_mpg");
    let mut progress = Progress::new(EPOCHS);
    let mut log = CsvLog::create(out.join("log.csv"))?;
    let mut plot = SvgPlot::new(out.join("curves.svg"), "Auto MPG, MLP 9-32-16-1, Adam");
    let mut best = Model::default();
    let mut trainer = Trainer::new(Adam::new(1e-3), Config { batch_size: 16, ..Config::default() });
    let fit = trainer
        .fit(&mut model, &Mse, split.train, &mut rng)
        .validate_on(split.val)
        .epochs(EPOCHS)
        .monitor((&mut progress, &mut log, &mut plot))
        .early_stopping(EarlyStopping::new(&mut best).on(Metric::ValLoss).patience(40))
        .run()?;
    progress.finish();
    log.finish()?;
    plot.finish()?;

    let test = metrics::regression(&model, split.test).ok_or("no test cars")?;
    // One file holds the network and both scalings: loaded back, it takes a
    // car's raw features and gives miles per gallon.
    typenet::io::save_file(&model, out.join("model_f32.tnet"))?;
    let mut loaded = Model::default();
    typenet::io::load_file(&mut loaded, out.join("model_f32.tnet"))?;
    let (car, mpg) = &split.test[0];
    println!("first test car: {:.1} mpg predicted by the saved model, {:.1} measured", loaded.forward(car)[0], mpg[0]);
    let best_epoch = fit.best.map_or(fit.epochs, |b| b.epoch);
    println!(
        "auto_mpg: test_r2={:.4} test_rmse={:.4} test_mae={:.4} best_epoch={best_epoch} epochs={}",
        test.r2, test.rmse, test.mae, fit.epochs
    );
    Ok(())
}
