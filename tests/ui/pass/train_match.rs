use typenet::prelude::*;

fn main() {
    let net = <net![Dense<U2, U4>, Tanh, Dense<U4, U1>]>::default();
    let mut cache = Default::default();
    let y = Train::forward_train(&net, &vector([0.0f32; 2]), &mut cache, &mut NoRng);
    assert_eq!(y.len(), 1);
}
