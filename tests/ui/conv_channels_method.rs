use typenet::prelude::*;

fn main() {
    // Method-call syntax: the first convolution gives 4 channels; the second takes 3.
    let net = <net![Conv2d<U1, U4, U3>, Relu, Conv2d<U3, U8, U3>]>::default();
    let _ = net.forward(&Tensor3::<f32, U1, U8, U8>::default());
}
