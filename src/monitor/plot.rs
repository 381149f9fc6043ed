//! Loss and accuracy curves, training and validation, as an SVG image.

use core::ops::ControlFlow;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{History, MonitorError, accuracy};
use crate::scalar::Scalar;
use crate::train::{EpochReport, Metrics, Monitor};

/// How [`Curves`] draws: a title over two panels side by side, the loss
/// (its axis from 0) and the accuracy (its axis up to 1), each with the
/// training line and, when there is a validation set, the validation line,
/// against the epoch. Without any accuracy (a regression cost) only the
/// loss panel is drawn. Non-finite values (a diverged run) are left out.
///
/// The image is SVG: the viewer draws the text, so no font or system
/// library is needed here.
///
/// ```
/// use typenet::monitor::Curves;
/// use typenet::train::{EpochReport, Metrics};
///
/// let reports: Vec<EpochReport> = (1..=5)
///     .map(|epoch| {
///         let train = Metrics { loss: 1.0 / epoch as f32, accuracy: Some(1.0 - 0.5 / epoch as f32) };
///         EpochReport { epoch, train, val: Some(train), lr: 0.01 }
///     })
///     .collect();
/// let svg = Curves::new("a run").to_svg(&reports)?;
/// assert!(svg.starts_with("<svg") && svg.contains("validation"));
/// // Curves::new("a run").save(&reports, "out/curves.svg")?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    title: String,
    size: Option<(u32, u32)>,
}

/// The image's size with both panels, and with the loss panel alone.
const SIZE: (u32, u32) = (1000, 420);
const SIZE_LOSS_ONLY: (u32, u32) = (560, 420);

/// The first two colours of matplotlib's `tab10`: training, validation.
const COLORS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(255, 127, 14)];

impl Curves {
    /// Curves under `title`, 1000 × 420 pixels (560 × 420 with the loss
    /// alone).
    pub fn new(title: impl Into<String>) -> Self {
        Curves { title: title.into(), size: None }
    }

    /// The same curves on an image of `width` × `height` pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    /// The image of `reports` as SVG text.
    ///
    /// # Errors
    ///
    /// What the plotting library reports, as an [`io::Error`]: an image too
    /// small for its axes and labels.
    pub fn to_svg<T: Scalar>(&self, reports: &[EpochReport<T>]) -> io::Result<String> {
        let panels = [Panel::new(Pick::Loss, reports), Panel::new(Pick::Accuracy, reports)];
        let drawn = if panels[1].is_empty() { &panels[..1] } else { &panels[..] };
        let size = self.size.unwrap_or(if drawn.len() == 2 { SIZE } else { SIZE_LOSS_ONLY });
        let mut svg = String::new();
        draw(&mut svg, size, &self.title, drawn).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(svg)
    }

    /// Writes the image of `reports` to `path` (creating its folder if need
    /// be).
    ///
    /// # Errors
    ///
    /// [`MonitorError::Plot`] naming the file, with the I/O error.
    pub fn save<T: Scalar>(&self, reports: &[EpochReport<T>], path: impl AsRef<Path>) -> Result<(), MonitorError> {
        let path = path.as_ref();
        let epoch = reports.last().map_or(0, |r| r.epoch);
        let fail = |source| MonitorError::Plot { path: path.to_path_buf(), epoch, source };
        let svg = self.to_svg(reports).map_err(fail)?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(fail)?;
        }
        fs::write(path, svg).map_err(fail)
    }
}

/// A [`Monitor`] that keeps every epoch's report (a [`History`]) and draws
/// their [`Curves`] to an SVG file when [`finish`](Self::finish)ed, and
/// every few epochs if asked ([`every`](Self::every)), so a long run can be
/// watched in a browser.
///
/// A failed write stops training at the end of that epoch and is returned
/// by `finish` (and seen by [`error`](Self::error) before); nothing panics.
///
/// ```
/// use typenet::monitor::SvgPlot;
/// use typenet::train::{EpochReport, Metrics, Monitor};
///
/// let path = std::env::temp_dir().join("typenet-doc-svgplot/curves.svg");
/// let mut plot = SvgPlot::new(&path, "a run");
/// for epoch in 1..=3 {
///     let train = Metrics { loss: 1.0 / epoch as f32, accuracy: Some(0.5) };
///     assert!(plot.on_epoch(&EpochReport { epoch, train, val: None, lr: 0.01 }).is_continue());
/// }
/// let history = plot.finish()?;
/// assert_eq!(history.reports().len(), 3);
/// assert!(std::fs::read_to_string(&path)?.contains("training"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SvgPlot<T = f32> {
    path: PathBuf,
    curves: Curves,
    history: History<T>,
    every: usize,
    error: Option<MonitorError>,
}

impl<T: Scalar> SvgPlot<T> {
    /// A plot titled `title` to be written to `path`; nothing is written
    /// before [`finish`](Self::finish) unless [`every`](Self::every) says so.
    pub fn new(path: impl Into<PathBuf>, title: impl Into<String>) -> Self {
        SvgPlot { path: path.into(), curves: Curves::new(title), history: History::new(), every: 0, error: None }
    }

    /// Also draws after every `epochs`-th epoch (0: only when finished).
    pub fn every(mut self, epochs: usize) -> Self {
        self.every = epochs;
        self
    }

    /// Draws with `curves` (a size, a title) instead.
    pub fn curves(mut self, curves: Curves) -> Self {
        self.curves = curves;
        self
    }

    /// The file drawn to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The reports so far.
    pub fn history(&self) -> &History<T> {
        &self.history
    }

    /// The first write that failed, if any; training was asked to stop then.
    pub fn error(&self) -> Option<&MonitorError> {
        self.error.as_ref()
    }

    /// Draws the curves so far to the file now.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Plot`] naming the file.
    pub fn draw(&self) -> Result<(), MonitorError> {
        self.curves.save(self.history.reports(), &self.path)
    }

    /// Draws the curves of the whole run and gives back its history.
    ///
    /// # Errors
    ///
    /// The first write that failed during training, else this one's.
    pub fn finish(self) -> Result<History<T>, MonitorError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.draw()?;
        Ok(self.history)
    }
}

impl<T: Scalar> Monitor<T> for SvgPlot<T> {
    /// Keeps the report, and draws if this epoch is one of
    /// [`every`](Self::every)'s; a failed write is kept and stops training.
    fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()> {
        let _ = self.history.on_epoch(report);
        if self.error.is_none()
            && self.every > 0
            && report.epoch.is_multiple_of(self.every)
            && let Err(error) = self.draw()
        {
            self.error = Some(error);
        }
        if self.error.is_some() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
}

/// Which metric a panel shows.
#[derive(Clone, Copy, PartialEq)]
enum Pick {
    Loss,
    Accuracy,
}

/// One panel: its metric, and its lines (name, finite points).
struct Panel {
    pick: Pick,
    lines: Vec<(&'static str, Vec<(f64, f64)>)>,
}

impl Panel {
    fn new<T: Scalar>(pick: Pick, reports: &[EpochReport<T>]) -> Self {
        let value = |m: &Metrics<T>| match pick {
            Pick::Loss => Some(m.loss.to_f64()),
            Pick::Accuracy => accuracy(m),
        };
        let line = |of: &dyn Fn(&EpochReport<T>) -> Option<Metrics<T>>| -> Vec<(f64, f64)> {
            let points = reports.iter().filter_map(|r| Some((r.epoch as f64, value(&of(r)?)?)));
            points.filter(|p| p.1.is_finite()).collect()
        };
        let mut lines = vec![("training", line(&|r| Some(r.train)))];
        let val = line(&|r| r.val);
        // A validation line if there is a validation set, even if its
        // values are all non-finite (then the legend still names it).
        if reports.iter().any(|r| r.val.is_some()) {
            lines.push(("validation", val));
        }
        Panel { pick, lines }
    }

    fn is_empty(&self) -> bool {
        self.lines.iter().all(|(_, points)| points.is_empty())
    }
}

type DrawResult<E> = Result<(), DrawingAreaErrorKind<E>>;

/// Draws `panels` side by side on an SVG image of `size`, under `title`.
fn draw(svg: &mut String, size: (u32, u32), title: &str, panels: &[Panel]) -> DrawResult<io::Error> {
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    root.present()
}

/// One panel as `examples/common` drew it: the loss from 0 to a little
/// above its largest value, the accuracy from a little below its smallest
/// to 1, a legend in the corner the lines leave free.
fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult<DB::ErrorType> {
    let bounds = |pick: fn(&(f64, f64)) -> f64| {
        let all = panel.lines.iter().flat_map(|(_, points)| points).map(pick);
        all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let ((x_lo, x_hi), (lo, hi)) = (bounds(|p| p.0), bounds(|p| p.1));
    let (x_lo, x_hi) = if x_lo < x_hi { (x_lo, x_hi) } else { (0.0, 1.0) };
    let (name, (lo, hi), legend) = match panel.pick {
        Pick::Loss => ("loss", (0.0, if hi > 0.0 { hi * 1.05 } else { 1.0 }), SeriesLabelPosition::UpperRight),
        Pick::Accuracy => ("accuracy", (lo.min(1.0) - 0.02, 1.0), SeriesLabelPosition::LowerRight),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x_lo..x_hi, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(name)
        .y_labels(10)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()?;
    for ((label, points), color) in panel.lines.iter().zip(COLORS) {
        chart
            .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
            .label(*label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().position(legend).background_style(WHITE.mix(0.8)).border_style(BLACK).draw()
}
