//! Which activation trains fastest, on two problems: the same network with
//! each activation in turn, the same initialisation (Xavier uniform), the
//! same optimiser, the same seeds.
//!
//! - digits: an MLP 64 → 64 → 64 → 10, plain SGD at lr 0.05, batch 32,
//!   40 epochs.
//! - two spirals: 2-D points on two interleaved spirals of 1.5 turns
//!   (200 training points, 200 validation, 200 test, standardised), an MLP
//!   2 → 32 → 32 → 2, SGD with momentum 0.9 at lr 0.05, batch 16,
//!   300 epochs. No straight line separates the classes.
//!
//! "Converged" means the first epoch whose validation accuracy reaches 95%.
//! Each activation is trained from three seeds (in parallel); the tables
//! give the means of the final accuracies and each seed's epoch of
//! convergence. `identity` (no activation) is the linear baseline.
//!
//! Writes `out/activation_study/table.md`, `out/activation_study/curves.csv`
//! and `out/activation_study/activation_study.svg`, and ends with one line:
//! `activation_study: ...` with the mean epochs to converge of a few
//! activations (the whole budget if a seed never converged) and the final
//! validation accuracy of those that do not converge.
//!
//! ```text
//! cargo run --release --example activation_study
//! ```

mod common;

use std::f64::consts::PI;
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::time::Instant;

use common::{Axis, LegendAt, Panel, Series};
use typenet::data::{Labelled, Scaler};
use typenet::prelude::*;
use typenet::train::on_epoch;

type DigitsMlp<A> = net![Dense<U64, U64>, A, Dense<U64, U64>, A, Dense<U64, U10>];
type SpiralMlp<A> = net![Dense<U2, U32>, A, Dense<U32, U32>, A, Dense<U32, U2>];

const TARGET: f32 = 0.95;
const SEED: u64 = 2026;
const SEEDS: [u64; 3] = [SEED, 1, 2];

/// A problem: its data and how to train on it.
struct Problem<X> {
    name: &'static str,
    train: Vec<(X, usize)>,
    val: Vec<(X, usize)>,
    test: Vec<(X, usize)>,
    epochs: usize,
    lr: f32,
    momentum: f32,
    batch: usize,
}

/// One seed's run: every epoch's report, and the test metrics at the end.
struct SeedRun {
    reports: Vec<EpochReport>,
    test: Metrics,
}

impl SeedRun {
    /// The first epoch whose validation accuracy reaches `TARGET`.
    fn converged(&self) -> Option<usize> {
        self.reports.iter().find(|r| r.val.is_some_and(|v| v.accuracy >= Some(TARGET))).map(|r| r.epoch)
    }
}

/// One activation on one problem, from every seed.
struct Run {
    activation: &'static str,
    seeds: Vec<SeedRun>,
    seconds: f64,
}

impl Run {
    /// The mean over the seeds of `f` of each seed's run.
    fn mean(&self, f: impl Fn(&SeedRun) -> f64) -> f64 {
        self.seeds.iter().map(f).sum::<f64>() / self.seeds.len() as f64
    }

    /// The mean over the seeds of the metric `f` at every epoch.
    fn curve(&self, f: impl Fn(&EpochReport) -> f64) -> Vec<(f64, f64)> {
        let epochs = self.seeds[0].reports.len();
        (0..epochs).map(|k| ((k + 1) as f64, self.mean(|s| f(&s.reports[k])))).collect()
    }

    fn final_val_accuracy(&self) -> f64 {
        self.mean(|s| s.reports.last().and_then(|r| r.val).and_then(|v| v.accuracy).map_or(0.0, f64::from))
    }

    /// The mean epoch of convergence, if every seed converged.
    fn mean_converged(&self) -> Option<f64> {
        let epochs: Option<Vec<usize>> = self.seeds.iter().map(SeedRun::converged).collect();
        epochs.map(|e| e.iter().sum::<usize>() as f64 / e.len() as f64)
    }

    fn converged_text(&self) -> String {
        self.mean_converged().map_or("never".into(), |e| format!("{e:.1}"))
    }
}

fn train_from<M, X>(seed: u64, problem: &Problem<X>) -> SeedRun
where
    X: Tensor<Scalar = f32>,
    M: Train<X, Output: Tensor<Scalar = f32>> + Initialize + Default,
    SoftmaxCrossEntropy: Loss<M::Output, usize>,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut model = M::default();
    model.init_with(XavierUniform, &mut rng);
    let train = problem.train.clone();
    let config = Config { batch_size: problem.batch, ..Config::default() };
    let mut trainer = Trainer::new(Momentum::new(problem.lr, problem.momentum), config);
    let mut reports = Vec::new();
    let keep = on_epoch(|r: &EpochReport| {
        reports.push(*r);
        ControlFlow::Continue(())
    });
    trainer
        .fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng)
        .validate_on(&problem.val)
        .epochs(problem.epochs)
        .monitor(keep)
        .run()
        .unwrap_or_else(|e| panic!("{}, seed {seed}: {e}", problem.name));
    let test = evaluate(&model, &SoftmaxCrossEntropy, &problem.test).expect("not empty");
    SeedRun { reports, test }
}

/// Trains `M` on `problem` from every seed, each on its own thread.
fn study<M, X>(activation: &'static str, problem: &Problem<X>) -> Run
where
    X: Tensor<Scalar = f32> + Sync,
    M: Train<X, Output: Tensor<Scalar = f32>> + Initialize + Default,
    SoftmaxCrossEntropy: Loss<M::Output, usize>,
{
    let start = Instant::now();
    let seeds = common::per_seed(&SEEDS, |seed| train_from::<M, X>(seed, problem));
    let run = Run { activation, seeds, seconds: start.elapsed().as_secs_f64() };
    println!("  {:<8} {activation:<10} {:.1} s", problem.name, run.seconds);
    run
}

/// Both problems with the activation `A`.
fn both<A>(activation: &'static str, digits: &Problem<Vector<f32, U64>>, spirals: &Problem<Vector<f32, U2>>) -> [Run; 2]
where
    DigitsMlp<A>: Train<Vector<f32, U64>, Output = Vector<f32, U10>> + Initialize + Default,
    SpiralMlp<A>: Train<Vector<f32, U2>, Output = Vector<f32, U2>> + Initialize + Default,
{
    [study::<DigitsMlp<A>, _>(activation, digits), study::<SpiralMlp<A>, _>(activation, spirals)]
}

/// `2n` points on two interleaved spirals of 1.5 turns, radius 0.1 to 1,
/// at positions `(i + offset) / n` along them, class 0 and 1 alternating.
fn spiral_points(n: usize, offset: f64) -> Vec<Labelled<f32, U2>> {
    let mut points = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = (i as f64 + offset) / n as f64;
        for class in 0..2 {
            let angle = 3.0 * PI * t + PI * class as f64;
            let radius = 0.1 + 0.9 * t;
            points.push((vector([(radius * angle.cos()) as f32, (radius * angle.sin()) as f32]), class));
        }
    }
    points
}

fn main() {
    let start = Instant::now();
    let split = common::digits(SEED);
    let digits = Problem {
        name: "digits",
        train: split.train,
        val: split.val,
        test: split.test,
        epochs: 40,
        lr: 0.05,
        momentum: 0.0,
        batch: 32,
    };
    let (mut train, mut val, mut test) = (spiral_points(100, 0.0), spiral_points(100, 0.5), spiral_points(100, 0.25));
    let scaler = Scaler::standardize(&train);
    [&mut train, &mut val, &mut test].into_iter().for_each(|part| scaler.apply(part));
    let spirals = Problem { name: "spirals", train, val, test, epochs: 300, lr: 0.05, momentum: 0.9, batch: 16 };
    println!(
        "activation_study: digits (MLP 64-64-64-10, SGD lr 0.05, 40 epochs) and two spirals (MLP 2-32-32-2, \
         momentum 0.9 lr 0.05, 300 epochs); Xavier uniform; {} seeds; converged = validation accuracy ≥ {TARGET}",
        SEEDS.len()
    );
    let results = [
        both::<Sigmoid>("sigmoid", &digits, &spirals),
        both::<Tanh>("tanh", &digits, &spirals),
        both::<Relu>("ReLU", &digits, &spirals),
        both::<LeakyRelu>("leaky ReLU", &digits, &spirals),
        both::<Elu>("ELU", &digits, &spirals),
        both::<Gelu>("GELU", &digits, &spirals),
        both::<Silu>("SiLU", &digits, &spirals),
        both::<Softplus>("softplus", &digits, &spirals),
        both::<Identity>("identity", &digits, &spirals),
    ];
    let [on_digits, on_spirals]: [Vec<Run>; 2] = {
        let (mut d, mut s) = (Vec::new(), Vec::new());
        for [a, b] in results {
            d.push(a);
            s.push(b);
        }
        [d, s]
    };

    let text = format!(
        "digits, MLP 64-64-64-10, SGD lr 0.05, batch 32, {} epochs:\n\n{}\ntwo spirals, MLP 2-32-32-2, momentum 0.9 lr 0.05, batch 16, {} epochs:\n\n{}",
        digits.epochs,
        table(&on_digits),
        spirals.epochs,
        table(&on_spirals)
    );
    println!("\n{text}");
    let dir = common::out_dir("activation_study");
    common::write_file(&dir.join("table.md"), &text);
    common::write_file(&dir.join("curves.csv"), &curves_csv(&[("digits", &on_digits), ("spirals", &on_spirals)]));
    plot(&dir.join("activation_study.svg"), &on_digits, &on_spirals);
    println!("wrote {}", dir.display());

    let find = |spirals: bool, name: &str| {
        let runs = if spirals { &on_spirals } else { &on_digits };
        runs.iter().find(|r| r.activation == name).expect("every activation ran")
    };
    // Epochs to converge; a run that never converged counts as the whole budget.
    let epochs = |run: &Run| run.mean_converged().unwrap_or(run.seeds[0].reports.len() as f64);
    println!(
        "activation_study: digits_identity_epochs={:.1} digits_relu_epochs={:.1} digits_tanh_epochs={:.1} \
         digits_sigmoid_val_accuracy={:.4} spirals_relu_epochs={:.1} spirals_gelu_epochs={:.1} \
         spirals_tanh_val_accuracy={:.4} spirals_identity_val_accuracy={:.4} seconds={:.1}",
        epochs(find(false, "identity")),
        epochs(find(false, "ReLU")),
        epochs(find(false, "tanh")),
        find(false, "sigmoid").final_val_accuracy(),
        epochs(find(true, "ReLU")),
        epochs(find(true, "GELU")),
        find(true, "tanh").final_val_accuracy(),
        find(true, "identity").final_val_accuracy(),
        start.elapsed().as_secs_f64()
    );
}

fn table(runs: &[Run]) -> String {
    let header = [
        "activation",
        "train loss, epoch 1",
        "train loss, last",
        "val accuracy",
        "test accuracy",
        "epochs to 95% (each seed)",
        "mean",
        "seconds (3 seeds)",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let each: Vec<String> =
                r.seeds.iter().map(|s| s.converged().map_or("—".into(), |e| e.to_string())).collect();
            vec![
                r.activation.into(),
                format!("{:.4}", r.mean(|s| s.reports[0].train.loss.into())),
                format!("{:.4}", r.mean(|s| s.reports.last().map_or(f64::NAN, |r| r.train.loss.into()))),
                format!("{:.4}", r.final_val_accuracy()),
                format!("{:.4}", r.mean(|s| s.test.accuracy.expect("the cost classifies").into())),
                each.join(", "),
                r.converged_text(),
                format!("{:.1}", r.seconds),
            ]
        })
        .collect();
    common::markdown_table(&header, &rows)
}

fn curves_csv(problems: &[(&str, &[Run])]) -> String {
    let mut csv = String::from("problem,activation,seed,");
    csv.push_str(EpochReport::CSV_HEADER);
    csv.push('\n');
    for (problem, runs) in problems {
        for r in *runs {
            for (seed, s) in SEEDS.iter().zip(&r.seeds) {
                for report in &s.reports {
                    let _ = write!(csv, "{problem},{},{seed},", r.activation);
                    report.csv_row(&mut csv).expect("writing to a String");
                    csv.push('\n');
                }
            }
        }
    }
    csv
}

/// Per problem, validation accuracy and training loss against the epoch,
/// one line per activation (the mean over the seeds).
fn plot(path: &std::path::Path, on_digits: &[Run], on_spirals: &[Run]) {
    let panel = |runs: &[Run], caption: &str, y_desc: &str, y_axis, legend, f: fn(&EpochReport) -> f64| Panel {
        caption: caption.into(),
        x_desc: "epoch".into(),
        y_desc: y_desc.into(),
        y_axis,
        legend,
        series: runs.iter().map(|r| Series { name: r.activation.into(), points: r.curve(f) }).collect(),
    };
    let accuracy: fn(&EpochReport) -> f64 = |r| r.val.and_then(|v| v.accuracy).map_or(0.0, f64::from);
    let loss: fn(&EpochReport) -> f64 = |r| r.train.loss.into();
    const LEGEND: Option<LegendAt> = Some(LegendAt::LowerRight);
    let panels = [
        panel(on_digits, "digits: validation accuracy", "accuracy", Axis::Fixed(0.1, 1.0), None, accuracy),
        panel(on_digits, "digits: training loss", "loss", Axis::Log, None, loss),
        panel(on_spirals, "spirals: validation accuracy", "accuracy", Axis::Fixed(0.4, 1.0), LEGEND, accuracy),
        panel(on_spirals, "spirals: training loss", "loss", Axis::Log, None, loss),
    ];
    let title = "one activation at a time (Xavier uniform, mean of 3 seeds)";
    common::plot_panels(path, title, (2, 2), (1200, 900), &panels);
}
