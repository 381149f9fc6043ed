use typenet::prelude::*;

fn main() {
    let net = <net![Dense<U4, U8>, Relu, Dense<U8, U2>]>::default();
    let y = net.forward(&vector([0.0f32; 4]));
    assert_eq!(y.len(), 2);
}
