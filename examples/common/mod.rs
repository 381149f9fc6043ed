//! What the examples share on a workstation: the digits and MNIST data,
//! their output folder and model files, and the studies' tables and
//! many-panel plots. (A run's progress bar, CSV log and curves are the
//! library's monitors, `typenet::monitor`.)
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use typenet::data::{Labelled, LabelledImage, load_csv, load_idx, stratified_split, stratified_split_exact};
use typenet::prelude::*;

/// The seed of the digits examples' split (and of their training runs), so
/// that they all report on the same test part.
pub const SEED: u64 = 2026;

/// A digit: 8×8 pixels scaled to [0, 1], and its class.
pub type Digit = Labelled<f32, U64>;

/// A digit read row by row, for the recurrent models: 8 time steps of the
/// 8 pixels of a row, and its class.
pub type DigitRows = (Matrix<f32, U8, U8>, usize);

/// The digits data set (`data/digits.csv`), pixels scaled to [0, 1]
/// (pixel / 16), split 60/20/20 stratified with `seed`; each sample a
/// [`Digit`] or, through [`Digits::rows`], a [`DigitRows`].
pub struct Digits<S = Digit> {
    pub train: Vec<S>,
    pub val: Vec<S>,
    pub test: Vec<S>,
}

impl Digits {
    /// The same split with every digit read row by row, top to bottom.
    pub fn rows(&self) -> Digits<DigitRows> {
        let rows = |part: &[Digit]| -> Vec<DigitRows> {
            part.iter()
                .map(|(pixels, class)| {
                    let mut rows = Matrix::<f32, U8, U8>::default();
                    rows.as_flat_mut().copy_from_slice(pixels.as_flat());
                    (rows, *class)
                })
                .collect()
        };
        Digits { train: rows(&self.train), val: rows(&self.val), test: rows(&self.test) }
    }
}

pub fn digits(seed: u64) -> Digits {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");
    let mut all = load_csv::<U64, f32>(path, 10).unwrap_or_else(|e| panic!("loading {path}: {e}"));
    for (x, _) in &mut all {
        x.iter_mut().for_each(|v| *v /= 16.0);
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let split = stratified_split::<_, U10, _>(&mut all, 0.6, 0.2, &mut rng).expect("labels are checked on loading");
    Digits { train: split.train.to_vec(), val: split.val.to_vec(), test: split.test.to_vec() }
}

/// The folder an example writes to: `out/<name>/` in the crate.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("out").join(name);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// Writes a trained model's parameter files into `out/<name>/`:
/// `model_f32.tnet` (`typenet::io`) and `model_int8.tnet`, its int8 twin
/// (`typenet::quant::file`), what firmware embeds and
/// `tools/quant/compare_tflite.py` reads.
pub fn save_models<Net, Int8>(name: &str, model: &Net, int8: &Int8)
where
    Net: Params<f32>,
    Int8: typenet::quant::Int8Params,
{
    let dir = out_dir(name);
    let mut bytes = vec![0; typenet::io::encoded_len::<Net, f32>()];
    typenet::io::save(model, &mut bytes).expect("the parameters are finite");
    let write = |path: PathBuf, bytes: &[u8]| {
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()))
    };
    write(dir.join("model_f32.tnet"), &bytes);
    let mut bytes = vec![0; typenet::quant::file::encoded_len::<Int8>()];
    typenet::quant::file::save(int8, &mut bytes).expect("the int8 network is valid");
    write(dir.join("model_int8.tnet"), &bytes);
}

/// One line on a panel.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// How a panel's y axis runs.
#[derive(Clone, Copy, PartialEq)]
pub enum Axis {
    /// From 0 to a little above the largest value.
    FromZero,
    /// From a little below the smallest value to 1.
    Accuracy,
    /// Powers of ten, from the smallest to the largest positive value
    /// (values at or below 0 are left out).
    Log,
    /// From the first value to the second, cutting off what lies outside.
    Fixed(f64, f64),
}

pub use plotters::prelude::SeriesLabelPosition as LegendAt;

/// A chart: a caption, axis names, how the y axis runs, where the legend
/// goes (`None` for no legend), and its lines.
pub struct Panel {
    pub caption: String,
    pub x_desc: String,
    pub y_desc: String,
    pub y_axis: Axis,
    pub legend: Option<LegendAt>,
    pub series: Vec<Series>,
}

/// A panel of one metric on the training and validation sets, against the
/// epoch (`pick` is `"loss"` or `"accuracy"`).
pub fn train_val_panel(caption: &str, x_desc: &str, pick: &str, reports: &[EpochReport]) -> Panel {
    // A regression cost has no accuracy: NaN.
    let metric = |m: &Metrics| f64::from(if pick == "loss" { m.loss } else { m.accuracy.unwrap_or(f32::NAN) });
    let train = reports.iter().map(|r| (r.epoch as f64, metric(&r.train))).collect();
    let val: Vec<_> = reports.iter().filter_map(|r| r.val.as_ref().map(|v| (r.epoch as f64, metric(v)))).collect();
    let mut series = vec![Series { name: "training".into(), points: train }];
    if !val.is_empty() {
        series.push(Series { name: "validation".into(), points: val });
    }
    let (y_axis, legend) = if pick == "loss" {
        (Axis::FromZero, Some(LegendAt::UpperRight))
    } else {
        (Axis::Accuracy, Some(LegendAt::LowerRight))
    };
    Panel { caption: caption.into(), x_desc: x_desc.into(), y_desc: pick.into(), y_axis, legend, series }
}

/// The ten colours of matplotlib's `tab10`, for the lines of a panel.
pub const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draws `panels` row by row on a `grid` of (rows, columns) as an SVG image
/// of `size` pixels, under `title`.
pub fn plot_panels(path: &Path, title: &str, grid: (usize, usize), size: (u32, u32), panels: &[Panel]) {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).expect("drawing");
    let root = root.titled(title, ("sans-serif", 22)).expect("drawing");
    for (area, panel) in root.split_evenly(grid).iter().zip(panels) {
        draw_panel(area, panel);
    }
    root.present().unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, panel: &Panel) {
    let log = panel.y_axis == Axis::Log;
    let y = |v: f64| match panel.y_axis {
        Axis::Log => v.log10(),
        Axis::Fixed(lo, hi) => v.clamp(lo, hi),
        _ => v,
    };
    let points = |s: &Series| -> Vec<(f64, f64)> {
        s.points.iter().filter(|p| p.1.is_finite() && (!log || p.1 > 0.0)).map(|&(x, v)| (x, y(v))).collect()
    };
    let lines: Vec<Vec<(f64, f64)>> = panel.series.iter().map(points).collect();
    let bounds = |pick: fn(&(f64, f64)) -> f64| {
        let all = lines.iter().flatten().map(pick);
        all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let ((x_lo, x_hi), (lo, hi)) = (bounds(|p| p.0), bounds(|p| p.1));
    let (x_lo, x_hi) = if x_lo < x_hi { (x_lo, x_hi) } else { (0.0, 1.0) };
    let (lo, hi) = match panel.y_axis {
        Axis::Accuracy => (lo.min(1.0) - 0.02, 1.0),
        Axis::FromZero => (0.0, if hi > 0.0 { hi * 1.05 } else { 1.0 }),
        Axis::Log if lo <= hi => (lo.floor(), hi.ceil().max(lo.floor() + 1.0)),
        Axis::Log => (0.0, 1.0),
        Axis::Fixed(lo, hi) => (lo, hi),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x_lo..x_hi, lo..hi)
        .expect("drawing");
    // On a log axis, a label at each power of ten that fits, and only there.
    let decades = (hi - lo).round() as usize;
    let y_labels = if log { (decades + 1).min(10) } else { 10 };
    let power_label = |v: &f64| if (v - v.round()).abs() < 1e-6 { format!("1e{}", v.round()) } else { String::new() };
    chart
        .configure_mesh()
        .x_desc(&panel.x_desc)
        .y_desc(&panel.y_desc)
        .y_labels(y_labels)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|v| if log { power_label(v) } else { format!("{v:.2}") })
        .draw()
        .expect("drawing");
    for ((series, line), color) in panel.series.iter().zip(lines).zip(COLORS.iter().cycle()) {
        let color = *color;
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)))
            .expect("drawing")
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    if let Some(position) = &panel.legend {
        chart
            .configure_series_labels()
            .position(position.clone())
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .expect("drawing");
    }
}

/// A Markdown table with `header` and `rows` (cells already formatted).
pub fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::from("|");
        cells.for_each(|c| {
            let _ = write!(out, " {c} |");
        });
        out.push('\n');
        out
    };
    let mut out = line(&mut header.iter().copied());
    out.push_str(&line(&mut header.iter().map(|_| "---")));
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Writes `text` to `path`, or stops with a message naming the file.
pub fn write_file(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Runs `f` once per seed, each on its own thread, and returns the results
/// in the order of `seeds`. Each run is seeded, so the results do not
/// depend on how the threads are scheduled.
pub fn per_seed<T: Send>(seeds: &[u64], f: impl Fn(u64) -> T + Sync) -> Vec<T> {
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = seeds.iter().map(|&seed| scope.spawn(move || f(seed))).collect();
        handles.into_iter().map(|h| h.join().expect("a training thread panicked")).collect()
    })
}

/// A digit as a 1×8×8 image, channels first, for convolutional networks.
pub type DigitImage = (Tensor3<f32, U1, U8, U8>, usize);

/// The same samples as 1×8×8 images (row-major pixels, as the CSV has them).
pub fn as_images(digits: &[Digit]) -> Vec<DigitImage> {
    digits
        .iter()
        .map(|(x, class)| {
            let mut image = Tensor3::<f32, U1, U8, U8>::default();
            image.as_flat_mut().copy_from_slice(x.as_slice());
            (image, *class)
        })
        .collect()
}

/// An MNIST digit: 1×28×28 pixels scaled to [0, 1], and its class.
pub type MnistImage = LabelledImage<f32, U28, U28>;

/// The seed of the MNIST examples' split, whatever their training seed, so
/// that every run is tested on the same digits (`tools/mnist/mnist_data.py`
/// draws the same split for the PyTorch twins).
pub const MNIST_SPLIT_SEED: u64 = 2026;

/// MNIST's mean pixel and its standard deviation (over the 60,000 training
/// digits, as PyTorch's MNIST example normalises).
pub const MNIST_MEAN_STD: (f32, f32) = (0.1307, 0.3081);

/// The 10,000 MNIST digits of `data/mnist10k/`, pixels scaled to [0, 1]
/// then normalised, `(p − 0.1307) / 0.3081`, and split 8,000 / 1,000 /
/// 1,000 stratified with [`MNIST_SPLIT_SEED`].
pub fn mnist() -> Digits<MnistImage> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k");
    let images = format!("{dir}/mnist10k-images.idx3-ubyte");
    let labels = format!("{dir}/mnist10k-labels.idx1-ubyte");
    let mut all = load_idx::<U28, U28, f32>(&images, &labels, 10).unwrap_or_else(|e| panic!("loading MNIST: {e}"));
    let (mean, std) = MNIST_MEAN_STD;
    for (image, _) in &mut all {
        image.as_flat_mut().iter_mut().for_each(|p| *p = (*p - mean) / std);
    }
    let split = stratified_split_exact::<_, U10>(&mut all, 8_000, 1_000, MNIST_SPLIT_SEED)
        .expect("10,000 digits with labels checked on loading");
    Digits { train: split.train.to_vec(), val: split.val.to_vec(), test: split.test.to_vec() }
}

/// The training seed: the example's first argument, else the `SEED`
/// environment variable, else `default`.
pub fn seed(default: u64) -> u64 {
    let given = std::env::args().nth(1).or_else(|| std::env::var("SEED").ok());
    given.map_or(default, |s| s.parse().unwrap_or_else(|_| panic!("the seed must be a whole number, not `{s}`")))
}

/// The same one-channel images moved `down` rows and `right` columns
/// (negative: up and left): what leaves the frame is lost, what comes in
/// is `fill` (the background: `-mean / std` for normalised MNIST).
pub fn shifted<H: ArrayLength, W: ArrayLength>(
    images: &[LabelledImage<f32, H, W>],
    down: isize,
    right: isize,
    fill: f32,
) -> Vec<LabelledImage<f32, H, W>> {
    let (h, w) = (H::USIZE as isize, W::USIZE as isize);
    images
        .iter()
        .map(|(image, class)| {
            let mut moved = image.clone();
            let (from, to) = (image.as_flat(), moved.as_flat_mut());
            for (k, pixel) in to.iter_mut().enumerate() {
                let (i, j) = (k as isize / w - down, k as isize % w - right);
                let inside = (0..h).contains(&i) && (0..w).contains(&j);
                *pixel = if inside { from[(i * w + j) as usize] } else { fill };
            }
            (moved, *class)
        })
        .collect()
}
