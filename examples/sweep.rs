//! A hyperparameter experiment on digits: learning rate × batch size ×
//! depth, with plain SGD, reporting validation accuracy and training time
//! of each run in a table and a plot.
//!
//! Depth is a type (1, 2 or 3 hidden layers of 64 ReLU units); learning
//! rate and batch size are run-time values. Writes `out/sweep/table.md`,
//! `out/sweep/runs.csv` and `out/sweep/sweep.svg`, and ends with one line:
//! `sweep: best_lr=... best_batch=... best_depth=... val_accuracy=...`.
//!
//! ```text
//! cargo run --release --example sweep
//! ```

mod common;

use std::fmt::Write as _;
use std::fs;
use std::time::Instant;

use plotters::prelude::*;
use typenet::prelude::*;

type Depth1 = net![Dense<U64, U64>, Relu, Dense<U64, U10>];
type Depth2 = net![Dense<U64, U64>, Relu, Dense<U64, U64>, Relu, Dense<U64, U10>];
type Depth3 = net![Dense<U64, U64>, Relu, Dense<U64, U64>, Relu, Dense<U64, U64>, Relu, Dense<U64, U10>];

const LEARNING_RATES: [f32; 4] = [0.01, 0.03, 0.1, 0.3];
const BATCH_SIZES: [usize; 3] = [1, 16, 64];
const DEPTHS: [usize; 3] = [1, 2, 3];
const EPOCHS: usize = 20;
const SEED: u64 = 2026;

struct Run {
    lr: f32,
    batch: usize,
    depth: usize,
    val_accuracy: f32,
    train_loss: f32,
    seconds: f64,
}

/// Trains a fresh `M` (same seed for every run) and measures the training
/// time alone.
fn run<M>(lr: f32, batch: usize, digits: &common::Digits) -> (f32, f32, f64)
where
    M: Train<Vector<f32, U64>, Output = Vector<f32, U10>> + Initialize + Default,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let mut model = M::default();
    model.init_with(HeUniform, &mut rng);
    let train = digits.train.clone();
    let mut trainer = Trainer::new(Sgd::new(lr), Config { batch_size: batch, ..Config::default() });
    let start = Instant::now();
    let outcome =
        trainer.fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).validate_on(&digits.val).epochs(EPOCHS).run();
    let seconds = start.elapsed().as_secs_f64();
    match outcome {
        Ok(fit) => (fit.last.val.and_then(|m| m.accuracy).unwrap_or(0.0), fit.last.train.loss, seconds),
        // A diverged run is a result too: it scores zero.
        Err(e) => {
            eprintln!("lr {lr}, batch {batch}: {e}");
            (0.0, f32::NAN, seconds)
        }
    }
}

fn main() {
    let digits = common::digits(SEED);
    let total = LEARNING_RATES.len() * BATCH_SIZES.len() * DEPTHS.len();
    println!("sweep: {total} runs of {EPOCHS} epochs on {} digits, plain SGD", digits.train.len());
    let mut runs = Vec::new();
    for depth in DEPTHS {
        for batch in BATCH_SIZES {
            for lr in LEARNING_RATES {
                let (val_accuracy, train_loss, seconds) = match depth {
                    1 => run::<Depth1>(lr, batch, &digits),
                    2 => run::<Depth2>(lr, batch, &digits),
                    _ => run::<Depth3>(lr, batch, &digits),
                };
                println!(
                    "[{:>2}/{total}] depth {depth} batch {batch:>3} lr {lr:<5} val_accuracy {val_accuracy:.4} ({seconds:.2} s)",
                    runs.len() + 1
                );
                runs.push(Run { lr, batch, depth, val_accuracy, train_loss, seconds });
            }
        }
    }

    let dir = common::out_dir("sweep");
    let table = markdown_table(&runs);
    fs::write(dir.join("table.md"), &table).expect("writing the table");
    let mut csv = String::from("depth,batch,lr,val_accuracy,train_loss,seconds\n");
    for r in &runs {
        let _ = writeln!(csv, "{},{},{},{},{},{}", r.depth, r.batch, r.lr, r.val_accuracy, r.train_loss, r.seconds);
    }
    fs::write(dir.join("runs.csv"), csv).expect("writing the CSV");
    plot(&dir.join("sweep.svg"), &runs);
    println!("\n{table}");
    println!("wrote {}", dir.display());

    // Best by validation accuracy; on a tie, the faster run.
    let best = runs
        .iter()
        .max_by(|a, b| a.val_accuracy.total_cmp(&b.val_accuracy).then(b.seconds.total_cmp(&a.seconds)))
        .expect("at least one run");
    println!(
        "sweep: best_lr={} best_batch={} best_depth={} val_accuracy={:.4}",
        best.lr, best.batch, best.depth, best.val_accuracy
    );
}

/// One row per depth and batch size, one column per learning rate:
/// validation accuracy and seconds of training.
fn markdown_table(runs: &[Run]) -> String {
    let mut out = String::from("| depth | batch |");
    for lr in LEARNING_RATES {
        let _ = write!(out, " lr {lr} |");
    }
    out.push_str("\n| --- | --- |");
    out.push_str(&" --- |".repeat(LEARNING_RATES.len()));
    out.push('\n');
    for depth in DEPTHS {
        for batch in BATCH_SIZES {
            let _ = write!(out, "| {depth} | {batch} |");
            for lr in LEARNING_RATES {
                let r =
                    runs.iter().find(|r| r.depth == depth && r.batch == batch && r.lr == lr).expect("every cell ran");
                let _ = write!(out, " {:.4} ({:.0} ms) |", r.val_accuracy, r.seconds * 1e3);
            }
            out.push('\n');
        }
    }
    out
}

/// Validation accuracy against the learning rate (evenly spaced, as the
/// rates are), one panel per depth, one line per batch size.
fn plot(path: &std::path::Path, runs: &[Run]) {
    let root = SVGBackend::new(path, (1200, 400)).into_drawing_area();
    root.fill(&WHITE).expect("drawing");
    let root = root.titled("digits: validation accuracy after 20 epochs of SGD", ("sans-serif", 20)).expect("drawing");
    let colors = [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44)];
    for (area, depth) in root.split_evenly((1, DEPTHS.len())).iter().zip(DEPTHS) {
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{depth} hidden layer{}", if depth > 1 { "s" } else { "" }), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.3f64..LEARNING_RATES.len() as f64 - 0.7, 0.0f64..1.0)
            .expect("drawing");
        chart
            .configure_mesh()
            .x_desc("learning rate")
            .y_desc("validation accuracy")
            .x_labels(LEARNING_RATES.len())
            .x_label_formatter(&|x| LEARNING_RATES.get(x.round() as usize).map_or(String::new(), |lr| lr.to_string()))
            .light_line_style(WHITE)
            .draw()
            .expect("drawing");
        for (batch, color) in BATCH_SIZES.iter().zip(colors) {
            let points: Vec<(f64, f64)> = runs
                .iter()
                .filter(|r| r.depth == depth && r.batch == *batch)
                .map(|r| (lr_index(r.lr), f64::from(r.val_accuracy)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .expect("drawing")
                .label(format!("batch {batch}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).expect("drawing");
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .expect("drawing");
    }
    root.present().unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The position of a learning rate on the plot's axis.
fn lr_index(lr: f32) -> f64 {
    LEARNING_RATES.iter().position(|&l| l == lr).expect("a swept rate") as f64
}
