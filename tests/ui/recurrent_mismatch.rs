use typenet::prelude::*;

fn main() {
    // Stacking a GRU that expects 12 features on an LSTM with 16 hidden units.
    let net = <net![Lstm<U8, U16>, Gru<U12, U4>, LastStep]>::default();
    let _ = Layer::forward(&net, &Matrix::<f32, U5, U8>::default());
}
