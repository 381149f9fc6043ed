use typenet::prelude::*;

fn main() {
    let net = <net![Pointwise<U3, U8>, Relu, DepthwiseConv2d<U8, U3, U1, U1>]>::default();
    let y = Layer::forward(&net, &Tensor3::<f32, U3, U14, U14>::default());
    assert_eq!((y.len(), y[0].len(), y[0][0].len()), (8, 14, 14));
}
