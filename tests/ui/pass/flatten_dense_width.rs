use typenet::prelude::*;

fn main() {
    let net = <net![Conv2d<U1, U2, U3>, Flatten, Dense<U32, U10>]>::default();
    let y = Layer::forward(&net, &Tensor3::<f32, U1, U6, U6>::default());
    assert_eq!(y.len(), 10);
}
