use typenet::prelude::*;

fn main() {
    // Dense<U2, U4> produces 4 values; Dense<U3, U1> wants 3.
    let net = <net![Dense<U2, U4>, Sigmoid, Dense<U3, U1>]>::default();
    let _ = Layer::forward(&net, &vector([0.0f32, 1.0]));
}
