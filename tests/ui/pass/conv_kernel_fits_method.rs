use typenet::prelude::*;

fn main() {
    let conv = Conv2d::<U1, U4, U4>::default();
    let y = conv.forward(&Tensor3::<f32, U1, U4, U4>::default());
    assert_eq!(y[0].len(), 1);
}
