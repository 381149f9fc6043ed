use typenet::prelude::*;

fn main() {
    // A layer norm over 8 features on a sequence of 6 features per step.
    let norm = LayerNorm::<U8>::new();
    let _ = Layer::forward(&norm, &Matrix::<f32, U3, U6>::default());
}
