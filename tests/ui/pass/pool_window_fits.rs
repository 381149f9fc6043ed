use typenet::prelude::*;

fn main() {
    let pool = MaxPool2d::<U3>::new();
    let y = Layer::forward(&pool, &Tensor3::<f32, U2, U3, U3>::default());
    assert_eq!(y[0][0].len(), 1);
}
