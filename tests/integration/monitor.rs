//! The library's monitors: tuples that watch together, the CSV log, the
//! history, the SVG plot and the progress bar, on synthetic reports and on
//! a short XOR run, with writers and files that fail.

use core::ops::ControlFlow;

use typenet::prelude::*;
use typenet::train::FitReport;

type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];

/// XOR with one sample per batch (four batches an epoch), validated on
/// itself: `epochs` epochs watched by `monitor`. The one place these tests
/// call `fit`.
fn train_xor(epochs: usize, monitor: impl Monitor) -> FitReport {
    let data = [([0.0f32, 0.0], 0.0f32), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
        .map(|(x, y)| (vector(x), vector([y])));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut model = Xor::default();
    model.init(&mut rng);
    let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 1, ..Config::default() });
    trainer
        .fit(&mut model, &Bce, &data, &mut rng)
        .validate_on(&data)
        .epochs(epochs)
        .monitor(monitor)
        .run()
        .expect("XOR trains")
}

/// Reports with exact figures: epoch `e` has training loss 1/e, accuracy
/// e/8, validation loss 2/e and accuracy e/16 (every other epoch without
/// validation), learning rate 0.5.
#[cfg(feature = "std")]
fn reports(epochs: usize) -> Vec<EpochReport> {
    (1..=epochs)
        .map(|epoch| {
            let e = epoch as f32;
            let train = Metrics { loss: 1.0 / e, accuracy: Some(e / 8.0) };
            let val = (epoch % 2 == 1).then_some(Metrics { loss: 2.0 / e, accuracy: Some(e / 16.0) });
            EpochReport { epoch, train, val, lr: 0.5 }
        })
        .collect()
}

/// Counts what it hears, and asks to stop after epoch `stop_after` (0:
/// never).
#[derive(Default)]
struct Recorder {
    batches: usize,
    epochs: Vec<usize>,
    stop_after: usize,
}

impl Monitor for Recorder {
    fn on_batch(&mut self, _: &BatchReport) {
        self.batches += 1;
    }
    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        self.epochs.push(report.epoch);
        if report.epoch == self.stop_after { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
}

fn stopping_after(epoch: usize) -> Recorder {
    Recorder { stop_after: epoch, ..Recorder::default() }
}

#[test]
fn a_tuple_tells_every_member_and_stops_when_one_asks() {
    let (mut first, mut stopper, mut last) = (Recorder::default(), stopping_after(3), Recorder::default());
    let fit = train_xor(10, (&mut first, &mut stopper, &mut last));
    assert_eq!((fit.epochs, fit.stopped_early), (3, true));
    // The members after the one that stopped still hear of its last epoch.
    for member in [&first, &stopper, &last] {
        assert_eq!(member.epochs, [1, 2, 3]);
        assert_eq!(member.batches, 3 * 4);
    }
}

#[test]
fn tuples_nest_and_run_to_the_end_when_no_member_asks() {
    let mut monitors = ((Recorder::default(), ()), Recorder::default(), stopping_after(0));
    let fit = train_xor(5, &mut monitors);
    assert_eq!((fit.epochs, fit.stopped_early), (5, false));
    assert_eq!(monitors.0.0.epochs, [1, 2, 3, 4, 5]);
    assert_eq!((monitors.1.batches, monitors.2.batches), (20, 20));
}

#[test]
fn a_tuple_of_eight_stops_if_its_last_member_asks() {
    let r = Recorder::default;
    let mut eight = (r(), r(), r(), r(), r(), r(), r(), stopping_after(2));
    let fit = train_xor(4, &mut eight);
    assert_eq!(fit.epochs, 2);
    assert_eq!(eight.0.epochs, [1, 2]);
}

#[cfg(feature = "std")]
mod host {
    use std::io::{self, Write};
    use std::path::PathBuf;

    use typenet::monitor::{CsvLog, History, MonitorError};

    use super::*;

    /// A folder of this test binary's own, for the files the monitors write.
    pub(super) fn scratch(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("monitor").join(name)
    }

    #[test]
    fn the_csv_log_of_known_reports_is_exact() {
        let mut log = CsvLog::new(Vec::new());
        for report in reports(3) {
            assert!(log.on_epoch(&report).is_continue());
        }
        let text = String::from_utf8(log.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr\n\
             1,1,0.125,2,0.0625,0.5\n\
             2,0.5,0.25,,,0.5\n\
             3,0.33333334,0.375,0.6666667,0.1875,0.5\n"
        );
    }

    #[test]
    fn a_log_with_no_epoch_is_its_header() {
        let text = CsvLog::new(Vec::new()).finish().unwrap();
        assert_eq!(text, b"epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr\n");
    }

    #[test]
    fn the_csv_log_of_a_run_has_a_row_per_epoch_as_the_history_saw_it() {
        let path = scratch("run/log.csv");
        let mut monitors = (CsvLog::create(&path).unwrap(), History::new());
        let fit = train_xor(4, &mut monitors);
        let (log, history) = monitors;
        assert_eq!(log.path(), Some(path.as_path()));
        log.finish().unwrap();

        assert_eq!(history.reports().len(), 4);
        assert_eq!(history.last(), Some(&fit.last));
        let mut expected = format!("{}\n", EpochReport::CSV_HEADER);
        for (k, report) in history.reports().iter().enumerate() {
            assert_eq!(report.epoch, k + 1);
            report.csv_row(&mut expected).unwrap();
            expected.push('\n');
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    }

    /// Takes `room` bytes, then fails every write with "no storage space".
    #[derive(Debug)]
    struct Full {
        room: usize,
        taken: Vec<u8>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::ErrorKind::StorageFull.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_writer_stops_training_and_the_log_returns_the_error() {
        // Room for the header and about two rows of XOR figures.
        let header = EpochReport::CSV_HEADER.len() + 1;
        let mut monitors = (CsvLog::new(Full { room: header + 70, taken: Vec::new() }), Recorder::default());
        let fit = train_xor(10, &mut monitors);
        let (log, recorder) = monitors;
        assert!(fit.stopped_early);
        assert_eq!(recorder.epochs.len(), fit.epochs, "the other member heard every epoch that ran");
        let failed_at = fit.epochs;
        assert!((2..=3).contains(&failed_at), "{fit:?}");
        match log.error() {
            Some(MonitorError::Log { path: None, epoch: Some(epoch), source }) => {
                assert_eq!((*epoch, source.kind()), (failed_at, io::ErrorKind::StorageFull));
            }
            other => panic!("{other:?}"),
        }
        let rows = String::from_utf8(log.get_ref().taken.clone()).unwrap();
        assert!(rows.starts_with(EpochReport::CSV_HEADER), "{rows}");
        let err = log.finish().unwrap_err();
        assert_eq!(err.to_string(), format!("writing the training log at epoch {failed_at}: no storage space"));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn a_log_that_cannot_be_created_says_which_file() {
        // A folder cannot be made inside a file.
        let file = scratch("a_file");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "").unwrap();
        let path = file.join("log.csv");
        let err = CsvLog::create(&path).err().expect("the folder cannot be created");
        assert!(matches!(&err, MonitorError::Log { epoch: None, .. }), "{err:?}");
        assert_eq!(err.path(), Some(path.as_path()));
        assert!(err.to_string().starts_with(&format!("writing the training log `{}`: ", path.display())), "{err}");
    }

    #[test]
    fn the_history_keeps_every_report_in_order() {
        let mut history = History::new();
        for report in reports(5) {
            assert!(history.on_epoch(&report).is_continue());
        }
        assert_eq!(history.reports(), &reports(5)[..]);
        assert_eq!(history.last().map(|r| r.epoch), Some(5));
        assert_eq!(History::from(reports(5)), history);
        assert_eq!(history.into_reports(), reports(5));
    }
}

#[cfg(feature = "plot")]
mod plot {
    use typenet::monitor::{Curves, MonitorError, SvgPlot};

    use super::host::scratch;
    use super::*;

    /// The `points` attribute of each `<polyline>` in `svg`, as (x, y) pairs.
    fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
        svg.split("<polyline")
            .skip(1)
            .map(|line| {
                let points = line.split("points=\"").nth(1).expect("a points attribute");
                let points = &points[..points.find('"').unwrap()];
                points
                    .split_whitespace()
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_curves_have_a_line_per_set_and_metric() {
        let svg = Curves::new("synthetic run").to_svg(&reports(6)).unwrap();
        for text in ["synthetic run", "loss", "accuracy", "training", "validation", "epoch"] {
            assert!(svg.contains(text), "{text} is missing");
        }
        // Loss and accuracy, training and validation, each a line; the
        // legend's samples are lines too (two per panel).
        let lines: Vec<_> = polylines(&svg).into_iter().filter(|l| l.len() > 2).collect();
        let lengths: Vec<usize> = lines.iter().map(Vec::len).collect();
        assert_eq!(lengths, [6, 3, 6, 3], "training every epoch, validation every other");
        // Loss falls: the line's y (down the image) grows from point to point.
        assert!(lines[0].windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{:?}", lines[0]);
        // Accuracy rises: y shrinks.
        assert!(lines[2].windows(2).all(|w| w[0].1 > w[1].1), "{:?}", lines[2]);
    }

    #[test]
    fn without_validation_there_is_no_validation_line() {
        let reports: Vec<_> = reports(4).into_iter().map(|r| EpochReport { val: None, ..r }).collect();
        let svg = Curves::new("training only").to_svg(&reports).unwrap();
        assert!(!svg.contains("validation"));
        let lines = polylines(&svg).into_iter().filter(|l| l.len() > 2).count();
        assert_eq!(lines, 2);
    }

    #[test]
    fn non_finite_figures_are_left_out_and_empty_runs_draw() {
        let mut reports = reports(8);
        reports[2].train.loss = f32::INFINITY;
        reports[3].train.loss = f32::NAN;
        let svg = Curves::new("diverged").to_svg(&reports).unwrap();
        let lengths: Vec<usize> = polylines(&svg).iter().map(Vec::len).filter(|&n| n > 2).collect();
        assert_eq!(lengths, [6, 4, 8, 4]);
        assert!(Curves::new("nothing yet").to_svg::<f32>(&[]).unwrap().starts_with("<svg"));
    }

    #[test]
    fn the_plot_monitor_writes_its_file_on_finish_and_every_few_epochs() {
        let path = scratch("plot/curves.svg");
        let _ = std::fs::remove_file(&path);
        let mut plot = SvgPlot::new(&path, "XOR, 2-4-1").every(3);
        let fit = train_xor(4, &mut plot);
        assert_eq!(fit.epochs, 4);
        // Drawn after epoch 3, not yet after 4.
        let lengths = || {
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(svg.contains("XOR, 2-4-1") && svg.contains("validation"));
            polylines(&svg).iter().map(Vec::len).filter(|&n| n > 2).collect::<Vec<_>>()
        };
        assert_eq!(lengths(), [3, 3, 3, 3]);
        let history = plot.finish().unwrap();
        assert_eq!(history.reports().len(), 4);
        assert_eq!(lengths(), [4, 4, 4, 4]);
    }

    #[test]
    fn a_plot_that_cannot_be_written_stops_training_and_says_which_file() {
        let file = scratch("plot_in_a_file");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "").unwrap();
        let path = file.join("curves.svg");
        let mut monitors = (SvgPlot::new(&path, "unwritable").every(1), Recorder::default());
        let fit = train_xor(5, &mut monitors);
        assert_eq!((fit.epochs, fit.stopped_early), (1, true));
        let (plot, recorder) = monitors;
        assert_eq!(recorder.epochs, [1]);
        let err = plot.finish().unwrap_err();
        assert!(matches!(&err, MonitorError::Plot { epoch: 1, .. }), "{err:?}");
        assert_eq!(err.path(), Some(path.as_path()));
        assert!(err.to_string().starts_with(&format!("writing the plot `{}` at epoch 1: ", path.display())));
    }
}

#[cfg(feature = "progress")]
mod progress {
    use typenet::monitor::Progress;
    use typenet::train::StepResult;

    use super::*;

    #[test]
    fn progress_is_quiet_under_cargo_test_and_counts_the_epochs() {
        let mut progress = Progress::new(10);
        assert!(progress.is_hidden(), "a test thread draws nothing");
        let fit = train_xor(3, (&mut progress, stopping_after(0)));
        assert_eq!(progress.epochs_done(), fit.epochs);
        progress.finish();
        progress.finish();
        assert!(Progress::hidden(1).is_hidden());
    }

    #[test]
    fn progress_in_a_tuple_with_a_monitor_that_stops() {
        let mut progress = Progress::new(10);
        let fit = train_xor(10, (&mut progress, stopping_after(2)));
        assert_eq!(progress.epochs_done(), 2);
        assert!(fit.stopped_early);
        // Batches of another epoch, then dropped unfinished: no panic.
        let step = StepResult { loss: 0.5f32, correct: Some(1), grad_norm: 1.0 };
        progress.on_batch(&BatchReport { epoch: 3, batch: 0, batches: 4, samples: 1, step });
        drop(progress);
    }
}
