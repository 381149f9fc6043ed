use typenet::prelude::*;

fn main() {
    // Training a network whose input is the wrong width: 3 values into Dense<U2, U4>.
    let net = <net![Dense<U2, U4>, Tanh, Dense<U4, U1>]>::default();
    let mut cache = Default::default();
    let _ = Train::forward_train(&net, &vector([0.0f32; 3]), &mut cache, &mut NoRng);
}
