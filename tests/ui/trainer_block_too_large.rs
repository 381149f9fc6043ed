use typenet::prelude::*;

// A CNN on 16×16 images: with blocks of 32 its trainer is over
// MAX_BY_VALUE, and the message names the largest block that fits.
type Cnn = net![Conv2d<U1, U8, U3, U1, U1>, Relu, MaxPool2d<U2>, Flatten, Dense<U512, U10>];

fn main() {
    let trainer = Trainer::<Cnn, Tensor3<f32, U1, U16, U16>, _>::new(Sgd::new(0.1), Config::default());
    assert!(size_of_val(&trainer) > 0);
}
