use typenet::prelude::*;

fn main() {
    // An f64 input into an f32 layer.
    let dense = Dense::<U2, U1>::default();
    let _ = Layer::forward(&dense, &vector([0.0f64, 1.0]));
}
