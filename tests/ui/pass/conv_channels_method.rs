use typenet::prelude::*;

fn main() {
    let net = <net![Conv2d<U1, U4, U3>, Relu, Conv2d<U4, U8, U3>]>::default();
    let y = net.forward(&Tensor3::<f32, U1, U8, U8>::default());
    assert_eq!((y.len(), y[0].len()), (8, 4));
}
