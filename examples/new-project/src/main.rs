//! A new project's first model: a 64-64-10 network on the handwritten
//! digits, trained for 10 epochs (or as many as the first argument says);
//! prints the test accuracy and the seconds training took.
//!
//! ```text
//! cargo run            # debug build, optimised a little (see Cargo.toml)
//! cargo run --release
//! ```

use std::time::Instant;

use typenet::data::{Csv, stratified_split};
use typenet::prelude::*;

type Mlp = net![Dense<U64, U64>, Relu, Dense<U64, U10>];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epochs = std::env::args().nth(1).map_or(Ok(10), |n| n.parse())?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/digits.csv");
    let mut digits = Csv::open(path).target("label").classification::<U64, f32>(10)?;
    digits.iter_mut().for_each(|(x, _)| x.iter_mut().for_each(|v| *v /= 16.0));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    let split = stratified_split::<_, U10, _>(&mut digits, 0.6, 0.2, &mut rng)?;

    let mut model = Mlp::default();
    model.init_with(HeUniform, &mut rng);
    let mut trainer = Trainer::new(Adam::new(2e-3), Config { batch_size: 16, ..Config::default() });
    let start = Instant::now();
    trainer.fit(&mut model, &SoftmaxCrossEntropy, split.train, &mut rng).validate_on(split.val).epochs(epochs).run()?;
    let seconds = start.elapsed().as_secs_f64();
    let test = Classifier::new(&model, &SoftmaxCrossEntropy).confusion(split.test)?;
    println!("new-project: test_accuracy={:.4} seconds={seconds:.3}", test.accuracy());
    Ok(())
}
