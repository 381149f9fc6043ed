use typenet::prelude::*;

fn main() {
    let dense = Dense::<U2, U1, f64>::default();
    let y = Layer::forward(&dense, &vector([0.0f64, 1.0]));
    assert_eq!(y[0], 0.0);
}
