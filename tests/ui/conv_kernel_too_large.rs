use typenet::prelude::*;

fn main() {
    // The first convolution leaves 4×4 images; a 5×5 kernel does not fit them.
    let net = <net![Conv2d<U1, U4, U3>, Relu, Conv2d<U4, U4, U5>]>::default();
    let _ = Layer::forward(&net, &Tensor3::<f32, U1, U6, U6>::default());
}
