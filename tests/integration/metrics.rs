//! Metrics and prediction against scikit-learn (tools/fixtures/gen_metrics.py):
//! R², MSE, RMSE and MAE, uniform and per output; the confusion matrix,
//! per-class precision, recall, F1 and support, their averages, accuracy and
//! `classification_report`'s text; softmax and sigmoid probabilities
//! against SciPy. Then properties, and a model trained on the digits whose
//! report must be consistent with itself and with the cost's `is_correct`.

#[path = "../fixtures/metrics.rs"]
mod fixtures;

use proptest::prelude::*;
use typenet::metrics::{self, MetricsError};
use typenet::prelude::*;

/// `|got − want| ≤ tolerance · max(1, |want|)`.
fn close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance * want.abs().max(1.0) || (got.is_nan() && want.is_nan()),
        "{what}: {got} vs scikit-learn's {want}"
    );
}

/// A regression case as `(prediction, target)` samples of `K` outputs.
fn samples<T: Scalar, K: ArrayLength>(pred: &[f64], truth: &[f64]) -> Vec<(Vector<T, K>, Vector<T, K>)> {
    let vector = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vector<T, K>>();
    pred.chunks(K::USIZE).zip(truth.chunks(K::USIZE)).map(|(p, t)| (vector(p), vector(t))).collect()
}

/// A case's uniform averages through `metrics::regression` (the identity
/// model's outputs are the predictions) and its per-output values through
/// the tally.
fn regression<T: Scalar, K: ArrayLength>(name: &str, [pred, truth, uniform, raw]: [&[f64]; 4], tolerance: f64) {
    let data = samples::<T, K>(pred, truth);
    let got = metrics::regression(&Identity, &data).unwrap();
    let got = [got.r2, got.mse, got.rmse, got.mae].map(|v| v.to_f64());
    for ((what, got), want) in ["r2", "mse", "rmse", "mae"].iter().zip(got).zip(uniform) {
        close(&format!("{name} {what} in {}", T::NAME), got, *want, tolerance);
    }
    let mut tally = RegressionTally::new();
    data.iter().for_each(|(p, t)| tally.push(p, t));
    for j in 0..K::USIZE {
        let m = tally.output(j).unwrap();
        for (i, v) in [m.r2, m.mse, m.rmse, m.mae].into_iter().enumerate() {
            close(
                &format!("{name} output {j} metric {i} in {}", T::NAME),
                v.to_f64(),
                raw[i * K::USIZE + j],
                tolerance,
            );
        }
    }
    assert_eq!(tally.output(K::USIZE), None);
}

#[test]
fn regression_matches_scikit_learn() {
    use fixtures::*;
    regression::<f64, U1>("ONE", [&ONE_PRED, &ONE_TRUE, &ONE_UNIFORM, &ONE_RAW], 1e-13);
    regression::<f64, U3>("THREE", [&THREE_PRED, &THREE_TRUE, &THREE_UNIFORM, &THREE_RAW], 1e-13);
    regression::<f64, U1>("OFFSET", [&OFFSET_PRED, &OFFSET_TRUE, &OFFSET_UNIFORM, &OFFSET_RAW], 1e-13);
    regression::<f64, U3>("CONSTANT", [&CONSTANT_PRED, &CONSTANT_TRUE, &CONSTANT_UNIFORM, &CONSTANT_RAW], 1e-13);
    regression::<f64, U1>("TWO", [&TWO_PRED, &TWO_TRUE, &TWO_UNIFORM, &TWO_RAW], 1e-15);
    regression::<f32, U1>("ONE", [&ONE_PRED, &ONE_TRUE, &ONE_UNIFORM, &ONE_RAW], 1e-6);
    regression::<f32, U3>("THREE", [&THREE_PRED, &THREE_TRUE, &THREE_UNIFORM, &THREE_RAW], 1e-6);
    regression::<f32, U3>("CONSTANT", [&CONSTANT_PRED, &CONSTANT_TRUE, &CONSTANT_UNIFORM, &CONSTANT_RAW], 1e-6);
    // 1e4 ± 1 in f32 rounds each value to 1e-3 before any metric: the data
    // itself moves the metrics by about 3e-5 (the unit test of the tally
    // checks the numerics on data f32 holds exactly).
    regression::<f32, U1>("OFFSET", [&OFFSET_PRED, &OFFSET_TRUE, &OFFSET_UNIFORM, &OFFSET_RAW], 1e-4);
}

#[test]
fn regression_of_nothing_is_none() {
    let none: &[(Vector<f32, U1>, _)] = &[];
    assert_eq!(metrics::regression(&Identity, none), None);
}

/// What scikit-learn said about one classification case.
struct Case<'a> {
    name: &'a str,
    truth: &'a [usize],
    pred: &'a [usize],
    matrix: &'a [usize],
    prf: &'a [f64],
    support: &'a [usize],
    macro_avg: &'a [f64],
    weighted_avg: &'a [f64],
    accuracy: f64,
    report_2: &'a str,
    report_4: &'a str,
}

fn classification<C: ArrayLength>(case: &Case) {
    let name = case.name;
    let mut m = ConfusionMatrix::<C, f64>::new();
    for (&t, &p) in case.truth.iter().zip(case.pred) {
        m.add(t, p).unwrap();
    }
    assert_eq!(m.counts().iter().flatten().copied().collect::<Vec<_>>(), case.matrix, "{name}: matrix");
    assert_eq!(m.total(), case.truth.len());
    let c = C::USIZE;
    for (k, got) in m.classes().enumerate() {
        let want = [case.prf[k], case.prf[c + k], case.prf[2 * c + k]];
        for ((what, got), want) in
            ["precision", "recall", "f1"].iter().zip([got.precision, got.recall, got.f1]).zip(want)
        {
            close(&format!("{name} class {k} {what}"), got, want, 1e-15);
        }
        assert_eq!(got.support, case.support[k], "{name}: support of class {k}");
    }
    for (what, got, want) in
        [("macro", m.macro_avg(), case.macro_avg), ("weighted", m.weighted_avg(), case.weighted_avg)]
    {
        close(&format!("{name} {what} precision"), got.precision, want[0], 1e-15);
        close(&format!("{name} {what} recall"), got.recall, want[1], 1e-15);
        close(&format!("{name} {what} f1"), got.f1, want[2], 1e-15);
        assert_eq!(got.support, case.truth.len());
    }
    close(&format!("{name} accuracy"), m.accuracy(), case.accuracy, 1e-15);

    // The report's text is scikit-learn's, character for character; the
    // matrix follows it.
    let report = format!("{m}");
    assert!(report.starts_with(case.report_2), "{name}: ours\n{report}\nscikit-learn's\n{}", case.report_2);
    let report = format!("{m:.4}");
    assert!(report.starts_with(case.report_4), "{name}: ours\n{report}\nscikit-learn's\n{}", case.report_4);
    let matrix = &report[case.report_4.len()..];
    assert_eq!(matrix.lines().count(), 2 + 1 + c, "{name}: a blank line, a title, the header and {c} rows\n{matrix}");

    // In f32, the same figures to f32's precision.
    let mut m32 = ConfusionMatrix::<C, f32>::new();
    case.truth.iter().zip(case.pred).for_each(|(&t, &p)| m32.add(t, p).unwrap());
    close(&format!("{name} f32 accuracy"), m32.accuracy() as f64, case.accuracy, 1e-7);
    close(&format!("{name} f32 macro f1"), m32.macro_avg().f1 as f64, case.macro_avg[2], 1e-6);

    // Through a model: logits whose largest is the prediction.
    let logits: Vec<(Vector<f32, C>, usize)> = case
        .truth
        .iter()
        .zip(case.pred)
        .map(|(&t, &p)| ((0..c).map(|k| if k == p { 1.0 } else { -(k as f32) }).collect(), t))
        .collect();
    let from_model = metrics::confusion(&Identity, &SoftmaxCrossEntropy, &logits).unwrap();
    assert_eq!(from_model.counts(), m32.counts(), "{name}: through the model");
}

#[test]
fn classification_matches_scikit_learn() {
    use fixtures::*;
    classification::<U3>(&Case {
        name: "THREE_CLASSES",
        truth: &THREE_CLASSES_TRUE,
        pred: &THREE_CLASSES_PRED,
        matrix: &THREE_CLASSES_MATRIX,
        prf: &THREE_CLASSES_PRF,
        support: &THREE_CLASSES_SUPPORT,
        macro_avg: &THREE_CLASSES_MACRO,
        weighted_avg: &THREE_CLASSES_WEIGHTED,
        accuracy: THREE_CLASSES_ACCURACY[0],
        report_2: THREE_CLASSES_REPORT_2,
        report_4: THREE_CLASSES_REPORT_4,
    });
    classification::<U4>(&Case {
        name: "ZERO_DIVISION",
        truth: &ZERO_DIVISION_TRUE,
        pred: &ZERO_DIVISION_PRED,
        matrix: &ZERO_DIVISION_MATRIX,
        prf: &ZERO_DIVISION_PRF,
        support: &ZERO_DIVISION_SUPPORT,
        macro_avg: &ZERO_DIVISION_MACRO,
        weighted_avg: &ZERO_DIVISION_WEIGHTED,
        accuracy: ZERO_DIVISION_ACCURACY[0],
        report_2: ZERO_DIVISION_REPORT_2,
        report_4: ZERO_DIVISION_REPORT_4,
    });
    classification::<U2>(&Case {
        name: "BINARY",
        truth: &BINARY_TRUE,
        pred: &BINARY_PRED,
        matrix: &BINARY_MATRIX,
        prf: &BINARY_PRF,
        support: &BINARY_SUPPORT,
        macro_avg: &BINARY_MACRO,
        weighted_avg: &BINARY_WEIGHTED,
        accuracy: BINARY_ACCURACY[0],
        report_2: BINARY_REPORT_2,
        report_4: BINARY_REPORT_4,
    });
    classification::<U12>(&Case {
        name: "TWELVE",
        truth: &TWELVE_TRUE,
        pred: &TWELVE_PRED,
        matrix: &TWELVE_MATRIX,
        prf: &TWELVE_PRF,
        support: &TWELVE_SUPPORT,
        macro_avg: &TWELVE_MACRO,
        weighted_avg: &TWELVE_WEIGHTED,
        accuracy: TWELVE_ACCURACY[0],
        report_2: TWELVE_REPORT_2,
        report_4: TWELVE_REPORT_4,
    });
}

/// Named classes widen the first column as scikit-learn's `target_names`
/// do; a name missing from the list falls back to the class number.
#[test]
fn named_classes_match_scikit_learn() {
    use fixtures::*;
    let mut m = ConfusionMatrix::<U3, f64>::new();
    THREE_CLASSES_TRUE.iter().zip(THREE_CLASSES_PRED).for_each(|(&t, p)| m.add(t, p).unwrap());
    let report = m.named(&THREE_CLASSES_NAMES).to_string();
    assert!(
        report.starts_with(THREE_CLASSES_REPORT_NAMED),
        "ours\n{report}\nscikit-learn's\n{THREE_CLASSES_REPORT_NAMED}"
    );
    let partial = m.named(&THREE_CLASSES_NAMES[..1]).to_string();
    assert_eq!(partial, m.to_string().replacen("           0", "      setosa", 1));
}

/// A binary classifier's single output, read by the two binary costs: the
/// same 2 × 2 matrix as scikit-learn's.
#[test]
fn a_single_binary_output_gives_a_two_by_two_matrix() {
    use fixtures::*;
    let logit = |p: usize| if p == 1 { 0.8f64 } else { -0.3 };
    let logits: Vec<_> = BINARY_TRUE.iter().zip(BINARY_PRED).map(|(&t, p)| (vector([logit(p)]), t)).collect();
    let probabilities: Vec<_> = logits.iter().map(|(x, t)| (BceWithLogits.probabilities(x), *t)).collect();
    let a = metrics::confusion(&Identity, &BceWithLogits, &logits).unwrap();
    let b = Classifier::new(&Identity, &Bce).confusion(&probabilities).unwrap();
    assert_eq!(a.counts().iter().flatten().copied().collect::<Vec<_>>(), BINARY_MATRIX);
    assert_eq!(a, b);
}

#[test]
fn probabilities_match_scipy() {
    use fixtures::*;
    for row in 0..4 {
        let logits: Vector<f64, U5> = PROBA_LOGITS[row * 5..][..5].iter().copied().collect();
        let softmax = Classifier::new(&Identity, &SoftmaxCrossEntropy).predict_proba(&logits);
        let sigmoid = Classifier::new(&Identity, &BceWithLogits).predict_proba(&logits);
        for k in 0..5 {
            close(&format!("softmax row {row} class {k}"), softmax[k], PROBA_SOFTMAX[row * 5 + k], 1e-15);
            close(&format!("sigmoid row {row} class {k}"), sigmoid[k], PROBA_SIGMOID[row * 5 + k], 1e-15);
        }
    }
}

#[test]
fn batch_prediction_checks_lengths() {
    let inputs = [vector([0.2f32, 0.1]), vector([-1.0, 3.0])];
    let clf = Classifier::new(&Identity, &SoftmaxCrossEntropy);
    let mut classes = [9; 2];
    clf.predict_into(&inputs, &mut classes).unwrap();
    assert_eq!(classes, [0, 1]);
    let mut probabilities = [Vector::<f32, U2>::default(); 3];
    assert_eq!(
        clf.predict_proba_into(&inputs, &mut probabilities),
        Err(MetricsError::LengthMismatch { inputs: 2, outputs: 3 })
    );
    clf.predict_proba_into(&inputs, &mut probabilities[..2]).unwrap();
    assert_eq!(probabilities[0], clf.predict_proba(&inputs[0]));
    let bad = [(vector([0.0f32, 1.0]), 0), (vector([1.0, 0.0]), 2)];
    assert_eq!(clf.confusion(&bad), Err(MetricsError::ClassOutOfRange { sample: 1, class: 2, classes: 2 }));
    assert_eq!(
        MetricsError::ClassOutOfRange { sample: 1, class: 2, classes: 2 }.to_string(),
        "sample 1: true class 2 is out of range for 2 classes"
    );
}

proptest! {
    /// Whatever the pairs: the matrix holds them all, its accuracy is its
    /// trace over its total, the rows sum to the supports, and the
    /// weighted recall is the accuracy.
    #[test]
    fn a_confusion_matrix_is_consistent(pairs in prop::collection::vec((0usize..5, 0usize..5), 0..80)) {
        let mut m = ConfusionMatrix::<U5, f64>::new();
        for &(t, p) in &pairs {
            m.add(t, p).unwrap();
        }
        prop_assert_eq!(m.total(), pairs.len());
        let correct = pairs.iter().filter(|(t, p)| t == p).count();
        prop_assert_eq!(m.correct(), correct);
        if !pairs.is_empty() {
            prop_assert!((m.accuracy() - correct as f64 / pairs.len() as f64).abs() < 1e-15);
            prop_assert!((m.weighted_avg().recall - m.accuracy()).abs() < 1e-12);
        }
        for (k, c) in m.classes().enumerate() {
            prop_assert_eq!(c.support, pairs.iter().filter(|(t, _)| *t == k).count());
            for v in [c.precision, c.recall, c.f1] {
                prop_assert!((0.0..=1.0).contains(&v));
            }
            prop_assert!(c.f1 <= c.precision.max(c.recall) + 1e-15 && c.f1 >= c.precision.min(c.recall) - 1e-15);
        }
    }

    /// Exact predictions score R² 1 and no error; shifting predictions
    /// and targets alike changes nothing; MAE ≤ RMSE.
    #[test]
    fn regression_metrics_behave(
        targets in prop::collection::vec(-100.0f64..100.0, 2..50),
        noise in prop::collection::vec(-3.0f64..3.0, 50),
        shift in -1e3f64..1e3,
    ) {
        let exact: Vec<_> = targets.iter().map(|&t| (vector([t]), vector([t]))).collect();
        let fit = metrics::regression(&Identity, &exact).unwrap();
        prop_assert_eq!((fit.r2, fit.mse, fit.mae), (1.0, 0.0, 0.0));
        let noisy: Vec<_> = targets.iter().zip(&noise).map(|(&t, &e)| (vector([t + e]), vector([t]))).collect();
        let moved: Vec<_> = noisy.iter().map(|(y, t)| (vector([y[0] + shift]), vector([t[0] + shift]))).collect();
        let (a, b) = (metrics::regression(&Identity, &noisy).unwrap(), metrics::regression(&Identity, &moved).unwrap());
        prop_assert!((a.r2 - b.r2).abs() < 1e-9 * a.r2.abs().max(1.0), "{} vs {}", a, b);
        prop_assert!((a.mae - b.mae).abs() < 1e-9 && a.mae <= a.rmse + 1e-12);
    }
}

type Digit = (Vector<f32, U64>, usize);

/// The digits, every fifth sample held out for the test, pixels / 16.
fn digits() -> (Vec<Digit>, Vec<Digit>) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv")).unwrap();
    let all = text.lines().skip(1).map(|line| {
        let mut fields = line.split(',').map(|v| v.parse::<f32>().unwrap());
        let label = fields.next().unwrap() as usize;
        (fields.map(|v| v / 16.0).collect::<Vector<f32, U64>>(), label)
    });
    let (test, train): (Vec<_>, Vec<_>) = all.enumerate().partition(|(i, _)| i % 5 == 0);
    (train.into_iter().map(|(_, s)| s).collect(), test.into_iter().map(|(_, s)| s).collect())
}

/// Softmax regression on the digits, trained by hand (plain per-sample
/// SGD), then its report: the matrix holds every test sample, its accuracy
/// is its trace over its total and the cost's own count of correct
/// outputs, and the report prints it.
#[test]
fn a_model_trained_on_the_digits_reports_consistently() {
    type Net = net![Dense<U64, U10>];
    let (train, test) = digits();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(19);
    let mut net = Net::default();
    net.init_with(XavierUniform, &mut rng);
    let (mut cache, mut dy) = (Default::default(), Vector::default());
    for _ in 0..3 {
        for (x, class) in &train {
            let y = net.forward_train(x, &mut cache, &mut NoRng);
            SoftmaxCrossEntropy.loss_grad(&y, class, &mut dy);
            let mut grads = <Net as Params<f32>>::Grads::default();
            net.backward(x, &mut cache, &dy, &mut grads);
            net.zip_mut([&mut grads], &mut |p, [g]| p.iter_mut().zip(g.iter()).for_each(|(p, g)| *p -= 0.1 * g));
        }
    }

    let classifier = Classifier::new(&net, &SoftmaxCrossEntropy);
    let m = classifier.confusion(&test).unwrap();
    let correct = test.iter().filter(|(x, c)| SoftmaxCrossEntropy.is_correct(&net.forward(x), c)).count();
    assert_eq!(m.total(), test.len());
    assert_eq!(m.correct(), correct);
    assert_eq!(m.accuracy(), correct as f32 / test.len() as f32);
    assert!(m.accuracy() > 0.9, "{m}");
    assert!((m.weighted_avg().recall - m.accuracy()).abs() < 1e-6);
    let supports: usize = m.classes().map(|c| c.support).sum();
    assert_eq!(supports, test.len());
    let predicted: Vec<usize> = test.iter().map(|(x, _)| classifier.predict(x)).collect();
    assert_eq!(predicted.iter().zip(&test).filter(|(p, (_, c))| *p == c).count(), correct);
    let p = classifier.predict_proba(&test[0].0);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && typenet::loss::argmax(&p) == predicted[0]);
    let report = m.to_string();
    let accuracy_row = format!("{:>12}  {:>9} {:>9} {:>9.2} {:>9}\n", "accuracy", "", "", m.accuracy(), test.len());
    assert!(report.contains(&accuracy_row), "{report}");
    println!("{report}");
}
