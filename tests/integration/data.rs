//! Data preparation on real data: Auto MPG loaded with `data::Csv` (a
//! target by name, a text column skipped, missing values dropped or
//! imputed), the random split against its Python twin
//! (tools/fixtures/gen_random_split.py writes the fixture), imputation and
//! target scaling fitted on the training part, and the `Standardize` layer
//! saved and loaded with a model.
#![cfg(feature = "std")] // it loads files and collects samples in Vecs

#[path = "../fixtures/random_split.rs"]
mod fixtures;

use typenet::data::{
    Csv, CsvError, Header, ImputeError, Imputer, Missing, Scaler, SplitError, load_csv, random_split,
    random_split_exact,
};
use typenet::io;
use typenet::prelude::*;

const AUTO_MPG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/auto_mpg.csv");

type Car = (Vector<f32, U9>, Vector<f32, U1>);

fn cars() -> typenet::data::Loaded<Car> {
    Csv::open(AUTO_MPG)
        .target("mpg")
        .skip("name")
        .missing(Missing::Nan)
        .missing_target(Missing::Drop)
        .regression::<U9, f32>()
        .unwrap()
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("typenet-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// 406 cars: 8 without `mpg` (dropped), 6 without `horsepower` (NaN); the
/// counts checked against the file by Python.
#[test]
fn auto_mpg_loads_with_its_missing_values() {
    let data = cars();
    assert_eq!((data.len() + data.dropped, data.len(), data.dropped), (406, 398, 8));
    let names = data.feature_names().unwrap();
    assert_eq!(
        names,
        [
            "cylinders",
            "displacement",
            "horsepower",
            "weight",
            "acceleration",
            "model_year",
            "origin_usa",
            "origin_europe",
            "origin_japan"
        ]
    );
    assert_eq!((data.target_columns.as_slice(), data.feature_columns.len()), (&[0][..], 9));
    let missing: Vec<usize> = (0..9).map(|k| data.iter().filter(|(x, _)| x[k].is_nan()).count()).collect();
    assert_eq!(missing, [0, 0, 6, 0, 0, 0, 0, 0, 0], "only horsepower is missing");
    // 18,8,307,130,3504,12,1970,1,0,0,chevrolet chevelle malibu
    assert_eq!(data[0].0.as_slice(), &[8.0, 307.0, 130.0, 3504.0, 12.0, 1970.0, 1.0, 0.0, 0.0]);
    assert_eq!(data[0].1[0], 18.0);
    assert!(data.iter().all(|(_, y)| y[0].is_finite()));

    // Dropping every incomplete row instead: 406 − 8 − 6.
    let complete = Csv::open(AUTO_MPG)
        .target("mpg")
        .skip("name")
        .missing(Missing::Drop)
        .missing_target(Missing::Drop)
        .regression::<U9, f64>()
        .unwrap();
    assert_eq!((complete.len(), complete.dropped), (392, 14));
}

/// Each mistake a user makes on Auto MPG, with its exact message.
#[test]
fn auto_mpg_errors_name_file_line_and_column() {
    let message = |e: CsvError| e.to_string().replace(AUTO_MPG, "auto_mpg.csv");
    let base = || Csv::open(AUTO_MPG).target("mpg").skip("name");

    // Missing values refused by default: the first is `mpg` on line 12.
    let e = base().regression::<U9, f32>().unwrap_err();
    assert_eq!(
        message(e),
        "auto_mpg.csv, line 12, column 1 (`mpg`): missing value (empty field); \
         `Csv::missing` and `Csv::missing_target` can drop the row or keep NaN"
    );
    // Rows without mpg dropped: then horsepower on line 40.
    let e = base().missing_target(Missing::Drop).regression::<U9, f32>().unwrap_err();
    assert!(
        matches!(&e, CsvError::Missing { at, .. } if at.line == 40 && at.column == Some(4) && at.name.as_deref() == Some("horsepower")),
        "{e:?}"
    );
    assert!(message(e).starts_with("auto_mpg.csv, line 40, column 4 (`horsepower`): missing value (empty field)"));

    // The wrong width, both ways.
    let e = base().missing(Missing::Nan).missing_target(Missing::Drop).regression::<U7, f32>().unwrap_err();
    assert_eq!(message(e), "auto_mpg.csv, line 1: the model takes 7 features, the file has 9");
    let e = base().missing(Missing::Nan).missing_target(Missing::Drop).regression::<U12, f32>().unwrap_err();
    assert_eq!(message(e), "auto_mpg.csv, line 1: the model takes 12 features, the file has 9");
    // The text column not skipped.
    let e = Csv::open(AUTO_MPG).target("mpg").missing(Missing::Nan).missing_target(Missing::Drop);
    assert_eq!(
        message(e.regression::<U10, f32>().unwrap_err()),
        "auto_mpg.csv, line 2, column 11 (`name`): `chevrolet chevelle malibu` is not a number"
    );
    // A misspelt target.
    let e = Csv::open(AUTO_MPG).target("MPG").skip("name").regression::<U9, f32>().unwrap_err();
    assert_eq!(message(e), "auto_mpg.csv: no column `MPG` in the header");
    // A regression file read as classes: mpg 18 is not one of 3 classes.
    let e = base().missing(Missing::Nan).missing_target(Missing::Drop).classification::<U9, f32>(3).unwrap_err();
    assert_eq!(message(e), "auto_mpg.csv, line 2, column 1 (`mpg`): label `18` is not a class from 0 to 2");
    // The old short form reads every column but the first as a feature.
    let e = load_csv::<U10, f32>(AUTO_MPG, 50).unwrap_err();
    assert_eq!(message(e), "auto_mpg.csv, line 2, column 11 (`name`): `chevrolet chevelle malibu` is not a number");
}

/// A file without a header, labels written as pandas writes them, and the
/// errors of the classification loader, from files on disk.
#[test]
fn classification_files_without_a_header_and_with_float_labels() {
    let file = TempFile::new("no-header.csv", "1.0,5.1,3.5\n0.0,4.9,3.0\n2.0,6.2,2.9\n");
    let e = load_csv::<U2, f32>(&file.0, 3).unwrap_err();
    assert!(matches!(e, CsvError::HeaderLooksLikeData { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: line 1: the header is all numbers, so it looks like a sample; read a file without a header with \
             `.header(Header::Absent)`, or a header of numbers with `.header(Header::Present)`",
            file.0.display()
        )
    );
    let data = Csv::open(&file.0).header(Header::Absent).classification::<U2, f32>(3).unwrap();
    assert_eq!(data.iter().map(|s| s.1).collect::<Vec<_>>(), [1, 0, 2], "the first row is kept");
    assert_eq!(data[0].0.as_slice(), &[5.1, 3.5]);

    let file = TempFile::new("labels.csv", "species,a,b\n1.0,5.1,3.5\n2.5,4.9,3.0\n");
    let e = load_csv::<U2, f32>(&file.0, 3).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}, line 3, column 1 (`species`): label `2.5` is not a whole number, so not a class (0 to 2)",
            file.0.display()
        )
    );
    let e = load_csv::<U2, f32>(&file.0, 0).unwrap_err();
    assert!(matches!(e, CsvError::NoClasses), "{e:?}");

    let file = TempFile::new("empty.csv", "species,a,b\n");
    let e = load_csv::<U2, f32>(&file.0, 3).unwrap_err();
    assert_eq!(e.to_string(), format!("{}: the file has no samples", file.0.display()));
}

/// `random_split_exact` draws the parts the Python function draws.
#[test]
fn random_split_exact_matches_python() {
    type Case = (usize, usize, usize, u64);
    let cases: [(Case, &[usize]); 3] = [
        (fixtures::SMALL, &fixtures::SMALL_ORDER),
        (fixtures::AUTO_MPG, &fixtures::AUTO_MPG_ORDER),
        (fixtures::ODD, &fixtures::ODD_ORDER),
    ];
    for ((n, train, val, seed), order) in cases {
        let mut rows: Vec<usize> = (0..n).collect();
        let split = random_split_exact(&mut rows, train, val, seed).unwrap();
        assert_eq!((split.train.len(), split.val.len(), split.test.len()), (train, val, n - train - val));
        assert_eq!(split.train, &order[..train]);
        assert_eq!(split.val, &order[train..train + val]);
        assert_eq!(rows, order, "n = {n}, seed {seed}");
    }
    let e = random_split_exact(&mut [0; 5], 4, 2, 1).unwrap_err();
    assert_eq!(e, SplitError::TooFewSamples { requested: 6, available: 5 });
    assert_eq!(e.to_string(), "the training and validation parts need 6 samples, the data set has 5");
}

/// The seeded random split: sizes by rounding, every sample once, the same
/// seed the same parts.
#[test]
fn random_split_is_seeded_and_partitions() {
    let make = || (0..101).map(|i| (vector([i as f64]), vector([0.0]))).collect::<Vec<_>>();
    let mut data = make();
    let split = random_split(&mut data, 0.7, 0.15, &mut Xoshiro256PlusPlus::seed_from_u64(1)).unwrap();
    assert_eq!((split.train.len(), split.val.len(), split.test.len()), (71, 15, 15));
    let mut seen: Vec<f64> = data.iter().map(|s| s.0[0]).collect();
    let shuffled = seen.clone();
    seen.sort_by(f64::total_cmp);
    assert_eq!(seen, (0..101).map(f64::from).collect::<Vec<_>>());
    let mut again = make();
    random_split(&mut again, 0.7, 0.15, &mut Xoshiro256PlusPlus::seed_from_u64(1)).unwrap();
    assert_eq!(again.iter().map(|s| s.0[0]).collect::<Vec<_>>(), shuffled);
    let e = random_split(&mut data, 0.9, 0.2, &mut Xoshiro256PlusPlus::seed_from_u64(1)).unwrap_err();
    assert_eq!(e, SplitError::BadFractions);
    // Everything to training.
    let split = random_split(&mut data, 1.0, 0.0, &mut Xoshiro256PlusPlus::seed_from_u64(1)).unwrap();
    assert_eq!((split.train.len(), split.test.len()), (101, 0));
}

/// The whole preparation on Auto MPG: split, impute, scale features and
/// targets, all fitted on the training part; the means checked against
/// numpy on the same rows (tools/fixtures/gen_random_split.py's split).
#[test]
fn auto_mpg_prepares_on_the_training_part() {
    let mut data = cars();
    let (n, train, val, seed) = fixtures::AUTO_MPG;
    assert_eq!(data.len(), n);
    let split = random_split_exact(&mut data, train, val, seed).unwrap();
    let imputer = Imputer::mean(split.train).unwrap();
    // numpy: horsepower's mean over the 313 training rows that have one.
    assert_eq!(imputer.fill[2], 105.17252);
    let filled = [imputer.apply(split.train), imputer.apply(split.val), imputer.apply(split.test)];
    assert_eq!(filled, [5, 1, 0]);
    let features = Scaler::standardize(split.train);
    let targets = Scaler::standardize_targets(split.train);
    // numpy: mpg's mean and (population) standard deviation over the training rows.
    assert!((targets.offset[0] - 23.42327).abs() < 1e-4, "{:?}", targets.offset);
    assert!((1.0 / targets.factor[0] - 7.842267).abs() < 1e-4, "{:?}", targets.factor);
    let raw_mpg = split.test[0].1;
    for part in [&mut *split.train, &mut *split.val, &mut *split.test] {
        features.apply(part);
        targets.apply_targets(part);
    }
    assert!(split.train.iter().all(|(x, y)| x.iter().all(|v| v.is_finite()) && y[0].is_finite()));
    let mean_of = |k: usize| split.train.iter().map(|s| s.0[k] as f64).sum::<f64>() / train as f64;
    let worst = (0..9).map(|k| mean_of(k).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-4, "standardised training features have mean 0: {worst:e}");
    let back = targets.inverse(&split.test[0].1);
    assert!((back[0] - raw_mpg[0]).abs() < 1e-5, "{back:?} {raw_mpg:?}");

    // A column with no value at all cannot be imputed.
    let empty = [(vector([1.0f32, f32::NAN]), 0), (vector([2.0, f32::NAN]), 1)];
    assert_eq!(Imputer::mean(&empty).unwrap_err(), ImputeError::NoValues { feature: 1 });
}

type Model = net![Standardize<Vector<f32, U9>>, Dense<U9, U8>, Relu, Dense<U8, U1>, Unstandardize<Vector<f32, U1>>];

/// A model with its scalers as layers takes raw features, predicts in the
/// target's units, and saves and loads its statistics with its parameters.
#[test]
fn standardize_layers_save_and_load_with_the_model() {
    let mut data = cars();
    let (_, train, val, seed) = fixtures::AUTO_MPG;
    let split = random_split_exact(&mut data, train, val, seed).unwrap();
    let imputer = Imputer::mean(split.train).unwrap();
    imputer.apply(split.train);
    imputer.apply(split.test);
    let (features, targets) = (Scaler::standardize(split.train), Scaler::standardize_targets(split.train));

    let mut model = Model::default();
    model.init(&mut Xoshiro256PlusPlus::seed_from_u64(9));
    model.0 = features.layer();
    model.1.1.1.1.0 = targets.inverse_layer();
    assert_eq!(<Model as Params<f32>>::COUNT, 9 * 8 + 8 + 8 + 1);
    assert_eq!(<Model as Params<f32>>::BUFFER_COUNT, 2 * 9 + 2);

    // The same as scaling by hand around the bare network.
    let bare = (model.1.0.clone(), (Relu, (model.1.1.1.0.clone(),)));
    for (x, _) in split.test.iter().take(10) {
        let mut scaled = *x;
        features.scale(&mut scaled);
        let by_hand = targets.inverse(&bare.forward(&scaled));
        assert_eq!(model.forward(x), by_hand);
    }

    // Saved and loaded: the statistics are in the file, named.
    let mut bytes = vec![0; io::encoded_len::<Model, f32>()];
    io::save(&model, &mut bytes).unwrap();
    let mut loaded = Model::default();
    io::load(&mut loaded, &bytes).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.0.mean, features.offset);
    let x = split.test[3].0;
    assert_eq!(loaded.forward(&x), model.forward(&x));
    let mut names = Vec::new();
    Model::visit_signature(&mut |name, _| names.push(name));
    assert_eq!(names, ["mean", "scale", "weight", "bias", "weight", "bias", "mean", "scale"]);

    // A file of a model without the scalers does not load into it.
    type Bare = net![Dense<U9, U8>, Relu, Dense<U8, U1>];
    let mut bare_bytes = vec![0; io::encoded_len::<Bare, f32>()];
    io::save(&Bare::default(), &mut bare_bytes).unwrap();
    assert!(io::load(&mut loaded, &bare_bytes).is_err());
}

/// In front of a network, `Standardize` leaves the trained layers'
/// gradients those of the network on scaled inputs, and gives none of its
/// own.
#[test]
fn a_standardize_front_trains_as_scaled_data() {
    let mut data = cars();
    let complete: Vec<Car> = data.drain(..).filter(|(x, _)| x.iter().all(|v| v.is_finite())).collect();
    let features = Scaler::standardize(&complete[..50]);
    type Front = net![Standardize<Vector<f32, U9>>, Dense<U9, U4>, Tanh, Dense<U4, U1>];
    let mut model = Front::default();
    model.init(&mut Xoshiro256PlusPlus::seed_from_u64(2));
    model.0 = features.layer();
    let rest = model.1.clone();
    let (x, y) = &complete[7];
    let mut scaled = *x;
    features.scale(&mut scaled);

    let (mut cache, mut grads) = (Default::default(), <Front as Params<f32>>::Grads::default());
    let out = model.forward_train(x, &mut cache, &mut NoRng);
    model.backward_block(1, [x], [&mut cache], [&vector([out[0] - y[0]])], &mut grads, None);
    let (mut rest_cache, mut rest_grads) = (Default::default(), Default::default());
    let rest_out = rest.forward_train(&scaled, &mut rest_cache, &mut NoRng);
    let dx = rest.backward(&scaled, &mut rest_cache, &vector([rest_out[0] - y[0]]), &mut rest_grads);
    assert_eq!(out, rest_out);
    assert_eq!(grads.1, rest_grads);
    // The input gradient through the scaling: dx ⊙ scale.
    let mut cache = Default::default();
    model.forward_train(x, &mut cache, &mut NoRng);
    let full_dx = model.backward(x, &mut cache, &vector([out[0] - y[0]]), &mut grads);
    for k in 0..9 {
        assert_eq!(full_dx[k], dx[k] * features.factor[k]);
    }
}

/// The trainer takes a model with the scalers as layers: on raw Auto MPG
/// features and raw mpg, a few epochs lower the validation loss, and the
/// statistics are not trained.
#[test]
fn a_model_with_its_scalers_trains_on_raw_data() {
    let mut data = cars();
    let (_, train, val, seed) = fixtures::AUTO_MPG;
    let split = random_split_exact(&mut data, train, val, seed).unwrap();
    let imputer = Imputer::mean(split.train).unwrap();
    imputer.apply(split.train);
    imputer.apply(split.val);
    let (features, targets) = (Scaler::standardize(split.train), Scaler::standardize_targets(split.train));
    let mut model = Model::default();
    model.init(&mut Xoshiro256PlusPlus::seed_from_u64(3));
    (model.0, model.1.1.1.1.0) = (features.layer(), targets.inverse_layer());
    let before = evaluate(&model, &Mse, split.val).unwrap().loss;
    let mut trainer = Trainer::new(Adam::new(0.01), Config { batch_size: 16, ..Config::default() });
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    trainer.fit(&mut model, &Mse, split.train, &mut rng).validate_on(split.val).epochs(20).run().unwrap();
    let after = evaluate(&model, &Mse, split.val).unwrap().loss;
    assert!(after < 0.5 * before, "validation loss {before} → {after}");
    assert_eq!((model.0.clone(), model.1.1.1.1.0.clone()), (features.layer(), targets.inverse_layer()));
}
