//! The twin of `budget_over.rs`: blocks of 4 samples instead of 32 fit.
use typenet::prelude::*;
use typenet::train::Limits;

type Net = net![Dense<U64, U64>, Relu, Dense<U64, U10>];
type Training = Trainer<Net, Vector<f32, U64>, Adam, 4>;

const _: () = Training::BUDGET.assert_fits(Limits { ram: 96 * 1024, stack: 4 * 1024 });

fn main() {}
