//! Training that does not fit the target's RAM does not build: the message
//! gives every figure in decimal bytes and says by how much it is over.
use typenet::prelude::*;
use typenet::train::Limits;

type Net = net![Dense<U64, U64>, Relu, Dense<U64, U10>];
type Training = Trainer<Net, Vector<f32, U64>, Adam, 32>;

const _: () = Training::BUDGET.assert_fits(Limits { ram: 96 * 1024, stack: 4 * 1024 });

fn main() {}
