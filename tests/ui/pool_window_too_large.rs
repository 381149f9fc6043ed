use typenet::prelude::*;

fn main() {
    // A 4×4 window on a 3×3 image.
    let pool = MaxPool2d::<U4>::new();
    let _ = Layer::forward(&pool, &Tensor3::<f32, U2, U3, U3>::default());
}
