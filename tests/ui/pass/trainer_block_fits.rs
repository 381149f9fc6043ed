use typenet::prelude::*;

// The twin of `trainer_block_too_large.rs`: the same CNN with the block the
// message names (11 samples) builds by value.
type Cnn = net![Conv2d<U1, U8, U3, U1, U1>, Relu, MaxPool2d<U2>, Flatten, Dense<U512, U10>];

fn main() {
    let trainer = Trainer::<Cnn, Tensor3<f32, U1, U16, U16>, _, 11>::with_block(Sgd::new(0.1), Config::default());
    assert!(size_of_val(&trainer) <= typenet::train::MAX_BY_VALUE);
}
