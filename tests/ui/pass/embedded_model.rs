//! The twin of `embedded_wrong_model.rs`: the file's own architecture.
use typenet::prelude::*;

type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];

static NET: Net = typenet::embedded!(Net, "../../fixtures/torch_mlp_f32.tnet");

fn main() {
    let _ = NET.forward(&vector([0.0; 4]));
}
