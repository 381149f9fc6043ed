//! Why initialisation matters: a 10-layer network on digits
//! (64 → 32 × 9 → 10) with sigmoid, tanh and ReLU under every
//! initialisation scheme.
//!
//! For each pair it measures, at initialisation, the spread (standard
//! deviation) of every hidden layer's activations over the training set and
//! the norm of every layer's weight gradient, then trains a few epochs of
//! plain SGD and reports the validation loss and accuracy. Small random
//! weights make the signal and the gradients vanish layer after layer;
//! N(0, 1) weights make ReLU's explode; Xavier (for sigmoid and tanh) and He
//! (for ReLU) keep them the same size from the first layer to the last.
//!
//! Writes `out/init_study/table.md`, `out/init_study/layers.csv` and
//! `out/init_study/init_study.svg`, and ends with one line:
//! `init_study: ...`.
//!
//! ```text
//! cargo run --release --example init_study
//! ```

mod common;

use std::fmt::Write as _;
use std::time::Instant;

use common::{Axis, Digit, LegendAt, Panel, Series};
use typenet::init::fill_normal;
use typenet::prelude::*;

/// Ten `Dense` layers with the activation `A` after each but the last.
type Deep<A> = net![
    Dense<U64, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U32>, A,
    Dense<U32, U10>
];

const LAYERS: usize = 10;
const EPOCHS: usize = 30;
const LEARNING_RATE: f32 = 0.03;
const BATCH: usize = 32;
const SEED: u64 = 2026;
/// Training is repeated from these seeds (the first also gives the
/// measurements at initialisation), as one run of SGD can be lucky.
const TRAIN_SEEDS: [u64; 3] = [SEED, 1, 2];

/// An initialisation: one of the crate's schemes, or N(0, 1) weights (the
/// classic course's `np.random.randn` without its × 0.01), which the crate
/// does not offer because it is never a good idea.
#[derive(Clone, Copy)]
enum Scheme {
    Builtin(Init),
    StandardNormal,
}

const SCHEMES: [(&str, Scheme); 8] = [
    ("small random", Scheme::Builtin(Init::SmallRandom)),
    ("N(0, 1)", Scheme::StandardNormal),
    ("Xavier uniform", Scheme::Builtin(Init::XavierUniform)),
    ("Xavier normal", Scheme::Builtin(Init::XavierNormal)),
    ("He uniform", Scheme::Builtin(Init::HeUniform)),
    ("He normal", Scheme::Builtin(Init::HeNormal)),
    ("LeCun normal", Scheme::Builtin(Init::LecunNormal)),
    ("PyTorch default", Scheme::Builtin(Init::PyTorch)),
];

/// The mean and standard deviation of many values, accumulated.
#[derive(Clone, Copy, Default)]
struct Spread {
    n: f64,
    sum: f64,
    squares: f64,
}

impl Spread {
    fn add(&mut self, values: &[f32]) {
        for &v in values {
            let v = v as f64;
            (self.n, self.sum, self.squares) = (self.n + 1.0, self.sum + v, self.squares + v * v);
        }
    }

    fn std(&self) -> f64 {
        let mean = self.sum / self.n;
        (self.squares / self.n - mean * mean).max(0.0).sqrt()
    }
}

/// Runs a chain as `forward` does and adds each layer's output to that
/// layer's [`Spread`]: `spreads[k]` is the `k`-th layer's.
trait Probe<X> {
    fn probe(&self, x: &X, spreads: &mut [Spread]);
}

impl<X, A: Layer<X, Output: Tensor<Scalar = f32>>> Probe<X> for (A,) {
    fn probe(&self, x: &X, spreads: &mut [Spread]) {
        spreads[0].add(self.0.forward(x).as_flat());
    }
}

impl<X, A: Layer<X, Output: Tensor<Scalar = f32>>, Rest: Probe<A::Output>> Probe<X> for (A, Rest) {
    fn probe(&self, x: &X, spreads: &mut [Spread]) {
        let y = self.0.forward(x);
        spreads[0].add(y.as_flat());
        self.1.probe(&y, &mut spreads[1..]);
    }
}

/// What one activation under one scheme did.
struct Run {
    activation: &'static str,
    scheme: &'static str,
    /// The standard deviation of each hidden layer's activations (9).
    activation_std: Vec<f64>,
    /// The norm of each layer's weight gradient, `‖dW‖`, averaged over the
    /// training set (10).
    grad_norm: Vec<f64>,
    /// After `EPOCHS` of SGD from each of `TRAIN_SEEDS`: validation loss and
    /// accuracy, or `None` if training diverged.
    trained: Vec<Option<Metrics>>,
}

fn initialise<M: Initialize + Params<f32>>(model: &mut M, scheme: Scheme, rng: &mut Xoshiro256PlusPlus) {
    match scheme {
        Scheme::Builtin(init) => model.init_with(init, rng),
        Scheme::StandardNormal => {
            model.init_with(Zeros, rng);
            // Each `Dense` visits its weight, then its bias (left at zero).
            let mut tensor = 0;
            model.visit_mut(&mut |t| {
                if tensor % 2 == 0 {
                    fill_normal(t, 1.0, rng);
                }
                tensor += 1;
            });
        }
    }
}

/// `‖dW‖` of every `Dense` layer for the mean loss over `data`: the
/// gradient that the first step of full-batch gradient descent would take.
fn weight_grad_norms<M>(model: &M, data: &[Digit]) -> Vec<f64>
where
    M: Train<Vector<f32, U64>, Output = Vector<f32, U10>>,
{
    let (mut grads, mut cache, mut dy) = (<M as Params<f32>>::Grads::default(), M::Cache::default(), Vector::default());
    for (x, class) in data {
        let scores = model.forward_train(x, &mut cache, &mut NoRng);
        SoftmaxCrossEntropy.loss_grad(&scores, class, &mut dy);
        model.backward(x, &mut cache, &dy, &mut grads);
    }
    let (mut norms, mut tensor) = (Vec::new(), 0);
    grads.visit(&mut |g| {
        if tensor % 2 == 0 {
            let squares: f64 = g.iter().map(|&g| (g as f64 / data.len() as f64).powi(2)).sum();
            norms.push(squares.sqrt());
        }
        tensor += 1;
    });
    norms
}

fn study<A>(activation: &'static str, digits: &common::Digits, runs: &mut Vec<Run>)
where
    Deep<A>: Train<Vector<f32, U64>, Output = Vector<f32, U10>> + Initialize + Default + Probe<Vector<f32, U64>>,
{
    for (scheme_name, scheme) in SCHEMES {
        // Each seed on its own thread; the first also measures the network
        // at initialisation.
        let outcomes =
            common::per_seed(&TRAIN_SEEDS, |seed| train_from::<A>(activation, scheme_name, scheme, seed, digits));
        let mut outcomes = outcomes.into_iter();
        let (measured, first) = outcomes.next().expect("at least one seed");
        let (activation_std, grad_norm) = measured.expect("the first seed measures");
        let trained = std::iter::once(first).chain(outcomes.map(|(_, trained)| trained)).collect();
        runs.push(Run { activation, scheme: scheme_name, activation_std, grad_norm, trained });
    }
}

/// The spread of each hidden layer's activations and each layer's `‖dW‖`
/// at initialisation (for `SEED` only), and the validation metrics after
/// training from `seed` (`None` if it diverged).
type Outcome = (Option<(Vec<f64>, Vec<f64>)>, Option<Metrics>);

fn train_from<A>(activation: &str, scheme_name: &str, scheme: Scheme, seed: u64, digits: &common::Digits) -> Outcome
where
    Deep<A>: Train<Vector<f32, U64>, Output = Vector<f32, U10>> + Initialize + Default + Probe<Vector<f32, U64>>,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut model = Deep::<A>::default();
    initialise(&mut model, scheme, &mut rng);
    let measured = (seed == SEED).then(|| {
        let mut spreads = [Spread::default(); 2 * LAYERS - 1];
        digits.train.iter().for_each(|(x, _)| model.probe(x, &mut spreads));
        // Layers alternate Dense, activation: the activations are the odd ones.
        let activation_std = spreads.iter().skip(1).step_by(2).map(Spread::std).collect();
        (activation_std, weight_grad_norms(&model, &digits.train))
    });
    let train = digits.train.clone();
    let mut trainer = Trainer::new(Sgd::new(LEARNING_RATE), Config { batch_size: BATCH, ..Config::default() });
    match trainer.fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).validate_on(&digits.val).epochs(EPOCHS).run()
    {
        Ok(fit) => (measured, fit.last.val),
        Err(e) => {
            println!("{activation}, {scheme_name}, seed {seed}: {e}");
            (measured, None)
        }
    }
}

/// The mean, lowest and highest validation accuracy over the seeds, a
/// diverged run counting as 0.
fn accuracy(run: &Run) -> (f64, f64, f64) {
    let all = run.trained.iter().map(|m| m.and_then(|m| m.accuracy).map_or(0.0, f64::from));
    let mean = all.clone().sum::<f64>() / run.trained.len() as f64;
    (mean, all.clone().fold(1.0, f64::min), all.fold(0.0, f64::max))
}

/// The mean validation loss over the seeds that did not diverge (`None` if
/// all did).
fn val_loss(run: &Run) -> Option<f64> {
    let losses: Vec<f64> = run.trained.iter().flatten().map(|m| f64::from(m.loss)).collect();
    (!losses.is_empty()).then(|| losses.iter().sum::<f64>() / losses.len() as f64)
}

fn main() {
    let start = Instant::now();
    let digits = common::digits(SEED);
    println!(
        "init_study: a {LAYERS}-layer network (64 → 32 × 9 → 10), {} training digits; \
         {EPOCHS} epochs of SGD at lr {LEARNING_RATE}, batch {BATCH}, from {} seeds",
        digits.train.len(),
        TRAIN_SEEDS.len()
    );
    let mut runs = Vec::new();
    study::<Sigmoid>("sigmoid", &digits, &mut runs);
    study::<Tanh>("tanh", &digits, &mut runs);
    study::<Relu>("ReLU", &digits, &mut runs);

    let table = table(&runs);
    println!("\n{table}");
    let dir = common::out_dir("init_study");
    common::write_file(&dir.join("table.md"), &table);
    common::write_file(&dir.join("layers.csv"), &layers_csv(&runs));
    plot(&dir.join("init_study.svg"), &runs);
    println!("wrote {}", dir.display());

    let find = |activation: &str, scheme: &str| {
        runs.iter().find(|r| r.activation == activation && r.scheme == scheme).expect("every pair ran")
    };
    let (small, xavier, he) =
        (find("tanh", "small random"), find("tanh", "Xavier uniform"), find("ReLU", "He uniform"));
    let (sigmoid, randn) = (find("sigmoid", "Xavier uniform"), find("ReLU", "N(0, 1)"));
    println!(
        "init_study: tanh_small_random_log10_dw1={:.1} tanh_xavier_log10_dw1={:.1} relu_he_log10_dw1={:.1} \
         sigmoid_xavier_log10_dw1_over_dw10={:.1} relu_randn_log10_std_a9={:.1} tanh_small_random_val_accuracy={:.4} \
         tanh_xavier_val_accuracy={:.4} relu_he_val_accuracy={:.4} seconds={:.1}",
        small.grad_norm[0].log10(),
        xavier.grad_norm[0].log10(),
        he.grad_norm[0].log10(),
        log10_ratio(sigmoid),
        randn.activation_std[8].log10(),
        accuracy(small).0,
        accuracy(xavier).0,
        accuracy(he).0,
        start.elapsed().as_secs_f64()
    );
}

/// `log₁₀(‖dW₁‖ / ‖dW₁₀‖)`: how many orders of magnitude the gradient
/// shrinks (negative) or grows (positive) from the last layer back to the
/// first.
fn log10_ratio(run: &Run) -> f64 {
    (run.grad_norm[0] / run.grad_norm[LAYERS - 1]).log10()
}

fn table(runs: &[Run]) -> String {
    let header = [
        "activation",
        "init",
        "std A1",
        "std A5",
        "std A9",
        "‖dW1‖",
        "‖dW10‖",
        "log₁₀ ‖dW1‖/‖dW10‖",
        "val loss (mean)",
        "val accuracy (mean of 3)",
        "lowest–highest",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let (mean, lowest, highest) = accuracy(r);
            let diverged = r.trained.iter().filter(|m| m.is_none()).count();
            let note = if diverged > 0 { format!(" ({diverged} diverged)") } else { String::new() };
            vec![
                r.activation.into(),
                r.scheme.into(),
                format!("{:.2e}", r.activation_std[0]),
                format!("{:.2e}", r.activation_std[4]),
                format!("{:.2e}", r.activation_std[8]),
                format!("{:.2e}", r.grad_norm[0]),
                format!("{:.2e}", r.grad_norm[LAYERS - 1]),
                format!("{:.1}", log10_ratio(r)),
                val_loss(r).map_or("—".into(), |l| format!("{l:.3}")),
                format!("{mean:.4}{note}"),
                format!("{lowest:.4}–{highest:.4}"),
            ]
        })
        .collect();
    common::markdown_table(&header, &rows)
}

fn layers_csv(runs: &[Run]) -> String {
    let mut csv = String::from("activation,init,layer,activation_std,weight_grad_norm\n");
    for r in runs {
        for layer in 0..LAYERS {
            let std = r.activation_std.get(layer).map_or(String::new(), |s| s.to_string());
            let _ = writeln!(csv, "{},{},{},{std},{}", r.activation, r.scheme, layer + 1, r.grad_norm[layer]);
        }
    }
    csv
}

/// Per activation, a column of two panels against the layer: the spread of
/// the activations and the weight-gradient norm, both on a log scale.
fn plot(path: &std::path::Path, runs: &[Run]) {
    let mut top = Vec::new();
    let mut bottom = Vec::new();
    for (column, activation) in ["sigmoid", "tanh", "ReLU"].into_iter().enumerate() {
        let mine = || runs.iter().filter(move |r| r.activation == activation);
        let series = |values: fn(&Run) -> &Vec<f64>| {
            mine()
                .map(|r| Series {
                    name: r.scheme.into(),
                    points: values(r).iter().enumerate().map(|(k, &v)| ((k + 1) as f64, v)).collect(),
                })
                .collect()
        };
        top.push(Panel {
            caption: format!("{activation}: spread of activations"),
            x_desc: "hidden layer".into(),
            y_desc: "std of A".into(),
            y_axis: Axis::Log,
            legend: (column == 0).then_some(LegendAt::LowerLeft),
            series: series(|r| &r.activation_std),
        });
        bottom.push(Panel {
            caption: format!("{activation}: weight gradient"),
            x_desc: "layer".into(),
            y_desc: "‖dW‖".into(),
            y_axis: Axis::Log,
            legend: None,
            series: series(|r| &r.grad_norm),
        });
    }
    top.append(&mut bottom);
    let title = "10-layer network on digits at initialisation: activations and gradients per layer";
    common::plot_panels(path, title, (2, 3), (1500, 900), &top);
}
