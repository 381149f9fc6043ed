use typenet::prelude::*;

fn main() {
    let norm = LayerNorm::<U6>::new();
    let y = Layer::forward(&norm, &Matrix::<f32, U3, U6>::default());
    assert_eq!(y.len(), 3);
}
