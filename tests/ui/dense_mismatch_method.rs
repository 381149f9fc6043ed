use typenet::prelude::*;

fn main() {
    // Method-call syntax: the same mismatch, `Dense<U4, U8>` then `Dense<U7, U2>`.
    let net = <net![Dense<U4, U8>, Relu, Dense<U7, U2>]>::default();
    let _ = net.forward(&vector([0.0f32; 4]));
}
