use typenet::prelude::*;

fn main() {
    // Method-call syntax: a 5×5 kernel on a 4×4 image.
    let conv = Conv2d::<U1, U4, U5>::default();
    let _ = conv.forward(&Tensor3::<f32, U1, U4, U4>::default());
}
