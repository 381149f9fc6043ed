//! Overfitting, and what L2, L1 and dropout do about it: a network far
//! larger than its data (64 → 128 → 128 → 10, 26,122 parameters) trained on
//! 100 digits, 10 per class, and watched on the 360 validation digits.
//!
//! After every epoch both sets are evaluated with the inference forward
//! (dropout off, no penalty in the loss), so training and validation
//! numbers compare like with like; the generalisation gap is training
//! accuracy minus validation accuracy. Each regularisation is tried at two
//! strengths, each setting from three seeds (run in parallel) whose curves
//! are averaged. A last row trains the same network on all the training
//! digits, for scale: more data is the strongest regulariser.
//!
//! Writes `out/overfit_study/table.md`, `out/overfit_study/curves.csv` and
//! `out/overfit_study/overfit_study.svg`, and ends with one line:
//! `overfit_study: ...` with the gaps of no regularisation, L2 0.001, L1
//! 0.001, dropout 0.5 and all the data, and the best validation accuracy of
//! the settings on 100 digits.
//!
//! ```text
//! cargo run --release --example overfit_study
//! ```

mod common;

use std::fmt::Write as _;
use std::time::Instant;

use common::{Axis, Digit, LegendAt, Panel, Series};
use typenet::prelude::*;

/// Dropout after each hidden layer; a rate of 0 makes it the identity.
type Wide = net![Dense<U64, U128>, Relu, Dropout, Dense<U128, U128>, Relu, Dropout, Dense<U128, U10>];

const PER_CLASS: usize = 10;
const EPOCHS: usize = 200;
const BATCH: usize = 16;
const SEED: u64 = 2026;
const SEEDS: [u64; 3] = [SEED, 1, 2];
/// Epochs for the reference run on all the training digits.
const FULL_EPOCHS: usize = 60;

/// A way to train: penalties and dropout rate.
#[derive(Clone, Copy)]
struct Setting {
    name: &'static str,
    l1: f32,
    l2: f32,
    dropout: f32,
}

const SETTINGS: [Setting; 7] = [
    Setting { name: "none", l1: 0.0, l2: 0.0, dropout: 0.0 },
    Setting { name: "L2 0.001", l1: 0.0, l2: 1e-3, dropout: 0.0 },
    Setting { name: "L2 0.01", l1: 0.0, l2: 1e-2, dropout: 0.0 },
    Setting { name: "L1 0.0001", l1: 1e-4, l2: 0.0, dropout: 0.0 },
    Setting { name: "L1 0.001", l1: 1e-3, l2: 0.0, dropout: 0.0 },
    Setting { name: "dropout 0.2", l1: 0.0, l2: 0.0, dropout: 0.2 },
    Setting { name: "dropout 0.5", l1: 0.0, l2: 0.0, dropout: 0.5 },
];

/// A set's loss and accuracy (the cost classifies, so there is one).
#[derive(Clone, Copy)]
struct Scores {
    loss: f32,
    accuracy: f32,
}

impl From<Metrics> for Scores {
    fn from(m: Metrics) -> Self {
        Scores { loss: m.loss, accuracy: m.accuracy.expect("the cost classifies") }
    }
}

/// One epoch's loss and accuracy on both sets, after the epoch.
#[derive(Clone, Copy)]
struct Point {
    train: Scores,
    val: Scores,
}

/// What one seed's training gave.
struct SeedRun {
    curve: Vec<Point>,
    test: Scores,
    /// The fraction of weights within 1e-3 of zero at the end.
    near_zero: f64,
}

/// A setting's results, averaged over the seeds.
struct Run {
    setting: Setting,
    train_samples: usize,
    epochs: usize,
    /// Every epoch's metrics, the mean over the seeds.
    curve: Vec<Point>,
    /// The lowest and highest final validation accuracy over the seeds.
    val_range: (f64, f64),
    test: Scores,
    near_zero: f64,
}

impl Run {
    fn last(&self) -> Point {
        *self.curve.last().expect("at least one epoch")
    }

    /// The epoch (from 1) and value of the best validation accuracy.
    fn best_val_accuracy(&self) -> (usize, f32) {
        let best = self.curve.iter().enumerate().max_by(|a, b| a.1.val.accuracy.total_cmp(&b.1.val.accuracy));
        best.map_or((0, 0.0), |(k, p)| (k + 1, p.val.accuracy))
    }

    /// The epoch (from 1) and value of the lowest validation loss.
    fn lowest_val_loss(&self) -> (usize, f32) {
        let best = self.curve.iter().enumerate().min_by(|a, b| a.1.val.loss.total_cmp(&b.1.val.loss));
        best.map_or((0, 0.0), |(k, p)| (k + 1, p.val.loss))
    }

    fn gap(&self) -> f32 {
        self.last().train.accuracy - self.last().val.accuracy
    }
}

/// The first `PER_CLASS` samples of each class, in order.
fn small_subset(data: &[Digit]) -> Vec<Digit> {
    let mut taken = [0; 10];
    let mut subset = Vec::new();
    for sample in data {
        if taken[sample.1] < PER_CLASS {
            taken[sample.1] += 1;
            subset.push(*sample);
        }
    }
    subset
}

fn train(setting: Setting, seed: u64, epochs: usize, train: &[Digit], digits: &common::Digits) -> SeedRun {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut model = Wide::default();
    model.init_with(HeUniform, &mut rng);
    model.layer_mut::<U2>().rate = setting.dropout;
    model.layer_mut::<U5>().rate = setting.dropout;
    let config = Config { batch_size: BATCH, l1: setting.l1, l2: setting.l2, ..Config::default() };
    let mut trainer = Trainer::new(Momentum::new(0.02, 0.9), config);
    let train = train.to_vec();
    let mut curve = Vec::new();
    for _ in 0..epochs {
        trainer
            .train_epoch(&mut model, &SoftmaxCrossEntropy, &train, &mut rng, &mut ())
            .unwrap_or_else(|e| panic!("{}: {e}", setting.name));
        let on = |data: &[Digit]| Scores::from(evaluate(&model, &SoftmaxCrossEntropy, data).expect("not empty"));
        curve.push(Point { train: on(&train), val: on(&digits.val) });
    }
    let test = evaluate(&model, &SoftmaxCrossEntropy, &digits.test).expect("not empty").into();
    let (mut small, mut weights, mut tensor) = (0usize, 0usize, 0);
    model.visit(&mut |t| {
        if tensor % 2 == 0 {
            small += t.iter().filter(|w| w.abs() < 1e-3).count();
            weights += t.len();
        }
        tensor += 1;
    });
    SeedRun { curve, test, near_zero: small as f64 / weights as f64 }
}

/// Trains `setting` from every seed in `seeds`, each on its own thread, and
/// averages.
fn run(setting: Setting, seeds: &[u64], epochs: usize, data: &[Digit], digits: &common::Digits) -> Run {
    let runs = common::per_seed(seeds, |seed| train(setting, seed, epochs, data, digits));
    let n = runs.len() as f64;
    let mean = |f: &dyn Fn(&SeedRun) -> f64| runs.iter().map(f).sum::<f64>() / n;
    let metrics = |f: &dyn Fn(&SeedRun) -> Scores| Scores {
        loss: mean(&|r| f(r).loss.into()) as f32,
        accuracy: mean(&|r| f(r).accuracy.into()) as f32,
    };
    let curve = (0..epochs)
        .map(|k| Point { train: metrics(&|r| r.curve[k].train), val: metrics(&|r| r.curve[k].val) })
        .collect();
    let finals = runs.iter().map(|r| f64::from(r.curve[epochs - 1].val.accuracy));
    let val_range = (finals.clone().fold(1.0, f64::min), finals.fold(0.0, f64::max));
    Run {
        setting,
        train_samples: data.len(),
        epochs,
        curve,
        val_range,
        test: metrics(&|r| r.test),
        near_zero: mean(&|r| r.near_zero),
    }
}

fn main() {
    let start = Instant::now();
    let digits = common::digits(SEED);
    let train = small_subset(&digits.train);
    println!(
        "overfit_study: {} training digits ({PER_CLASS} per class), {} validation, {} test; model {} parameters; \
         {EPOCHS} epochs of SGD with momentum 0.9 at lr 0.02, batch {BATCH}",
        train.len(),
        digits.val.len(),
        digits.test.len(),
        <Wide as Params<f32>>::COUNT
    );
    let mut runs: Vec<Run> = SETTINGS
        .iter()
        .map(|&setting| {
            let run = run(setting, &SEEDS, EPOCHS, &train, &digits);
            println!("  {:<12} done at {:.1} s", setting.name, start.elapsed().as_secs_f64());
            run
        })
        .collect();
    let dir = common::out_dir("overfit_study");
    plot(&dir.join("overfit_study.svg"), &runs);
    let mut full = run(SETTINGS[0], &[SEED], FULL_EPOCHS, &digits.train, &digits);
    full.setting.name = "none, all training digits";
    println!("  {} done at {:.1} s", full.setting.name, start.elapsed().as_secs_f64());
    runs.push(full);

    let table = table(&runs);
    println!("\n{table}");
    common::write_file(&dir.join("table.md"), &table);
    common::write_file(&dir.join("curves.csv"), &curves_csv(&runs));
    println!("wrote {}", dir.display());

    let find = |name: &str| runs.iter().find(|r| r.setting.name == name).expect("every setting ran");
    let small = &runs[..SETTINGS.len()];
    let best = small.iter().map(|r| r.last().val.accuracy).fold(0.0, f32::max);
    let (none, full) = (find("none"), find("none, all training digits"));
    println!(
        "overfit_study: train_samples={} none_gap={:.4} l2_gap={:.4} l1_gap={:.4} dropout_gap={:.4} \
         none_val_accuracy={:.4} best_val_accuracy={best:.4} all_data_gap={:.4} seconds={:.1}",
        train.len(),
        none.gap(),
        find("L2 0.001").gap(),
        find("L1 0.001").gap(),
        find("dropout 0.5").gap(),
        none.last().val.accuracy,
        full.gap(),
        start.elapsed().as_secs_f64()
    );
}

fn table(runs: &[Run]) -> String {
    let header = [
        "regularisation",
        "samples, epochs",
        "train loss",
        "val loss",
        "lowest val loss (epoch)",
        "train accuracy",
        "val accuracy (seeds' range)",
        "gap",
        "best val accuracy (epoch)",
        "test accuracy",
        "weights ≈ 0",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let (last, (low_epoch, low), (best_epoch, best)) = (r.last(), r.lowest_val_loss(), r.best_val_accuracy());
            vec![
                r.setting.name.into(),
                format!("{}, {}", r.train_samples, r.epochs),
                format!("{:.4}", last.train.loss),
                format!("{:.4}", last.val.loss),
                format!("{low:.4} ({low_epoch})"),
                format!("{:.4}", last.train.accuracy),
                format!("{:.4} ({:.4}–{:.4})", last.val.accuracy, r.val_range.0, r.val_range.1),
                format!("{:.4}", r.gap()),
                format!("{best:.4} ({best_epoch})"),
                format!("{:.4}", r.test.accuracy),
                format!("{:.0}%", 100.0 * r.near_zero),
            ]
        })
        .collect();
    common::markdown_table(&header, &rows)
}

fn curves_csv(runs: &[Run]) -> String {
    let mut csv = String::from("regularisation,epoch,train_loss,train_accuracy,val_loss,val_accuracy\n");
    for r in runs {
        for (k, p) in r.curve.iter().enumerate() {
            let (t, v) = (p.train, p.val);
            let _ = writeln!(csv, "{},{},{},{},{},{}", r.setting.name, k + 1, t.loss, t.accuracy, v.loss, v.accuracy);
        }
    }
    csv
}

/// Top: training and validation loss without regularisation and with the
/// strongest dropout. Bottom: every setting's validation loss and gap.
fn plot(path: &std::path::Path, runs: &[Run]) {
    let line = |r: &Run, name: &str, f: fn(&Point) -> f64| Series {
        name: name.into(),
        points: r.curve.iter().enumerate().map(|(k, p)| ((k + 1) as f64, f(p))).collect(),
    };
    let pair = |name: &str| {
        let r = runs.iter().find(|r| r.setting.name == name).expect("every setting ran");
        Panel {
            caption: format!("{name}: loss"),
            x_desc: "epoch".into(),
            y_desc: "loss".into(),
            y_axis: Axis::Log,
            legend: Some(LegendAt::UpperRight),
            series: vec![line(r, "training", |p| p.train.loss.into()), line(r, "validation", |p| p.val.loss.into())],
        }
    };
    let every = |caption: &str, y_desc: &str, y_axis, legend, f: fn(&Point) -> f64| Panel {
        caption: caption.into(),
        x_desc: "epoch".into(),
        y_desc: y_desc.into(),
        y_axis,
        legend,
        series: runs.iter().map(|r| line(r, r.setting.name, f)).collect(),
    };
    let panels = [
        pair("none"),
        pair("dropout 0.5"),
        every("validation loss", "loss", Axis::Fixed(0.2, 0.6), Some(LegendAt::UpperRight), |p| p.val.loss.into()),
        every("gap: training − validation accuracy", "gap", Axis::Fixed(0.0, 0.15), None, |p| {
            f64::from(p.train.accuracy - p.val.accuracy)
        }),
    ];
    let title = format!("100 training digits, 64-128-128-10: overfitting and regularisation ({EPOCHS} epochs)");
    common::plot_panels(path, &title, (2, 2), (1200, 900), &panels);
}
