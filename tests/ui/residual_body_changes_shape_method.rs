use typenet::prelude::*;

fn main() {
    // Method-call syntax, in a network: a body from 4 to 8 channels has no
    // identity shortcut.
    let net = <net![Conv2d<U1, U4, U3, U1, U1>, Residual<net![Conv2d<U4, U8, U3, U1, U1>, Relu]>, Relu]>::default();
    let _ = net.forward(&Tensor3::<f32, U1, U8, U8>::default());
}
