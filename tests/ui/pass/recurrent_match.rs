use typenet::prelude::*;

fn main() {
    let net = <net![Lstm<U8, U16>, Gru<U16, U4>, LastStep]>::default();
    let h = Layer::forward(&net, &Matrix::<f32, U5, U8>::default());
    assert_eq!(h.len(), 4);
}
