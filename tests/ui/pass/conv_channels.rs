use typenet::prelude::*;

fn main() {
    let net = <net![Conv2d<U1, U4, U3>, Relu, Conv2d<U4, U8, U3>]>::default();
    let y = Layer::forward(&net, &Tensor3::<f32, U1, U8, U8>::default());
    assert_eq!(y.len(), 8);
}
