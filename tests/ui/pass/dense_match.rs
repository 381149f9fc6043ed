use typenet::prelude::*;

fn main() {
    let net = <net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>]>::default();
    let y = Layer::forward(&net, &vector([0.0f32, 1.0]));
    assert_eq!(y.len(), 1);
}
