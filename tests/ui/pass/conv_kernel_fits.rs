use typenet::prelude::*;

fn main() {
    let net = <net![Conv2d<U1, U4, U3>, Relu, Conv2d<U4, U4, U4>]>::default();
    let y = Layer::forward(&net, &Tensor3::<f32, U1, U6, U6>::default());
    assert_eq!(y[0].len(), 1);
}
