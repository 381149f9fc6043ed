use typenet::prelude::*;

fn main() {
    let net = <net![Conv2d<U1, U4, U3>, BatchNorm2d<U4>, Relu]>::default();
    let y = Layer::forward(&net, &Tensor3::<f32, U1, U8, U8>::default());
    assert_eq!(y.len(), 4);
}
