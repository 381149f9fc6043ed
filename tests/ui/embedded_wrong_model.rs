//! A parameter file saved from another architecture with as many values
//! does not build into a `static`: the message names the tensor that
//! differs.
use typenet::prelude::*;

// The file holds `net![Dense<U4, U8>, Tanh, Dense<U8, U3>]`: 67 values.
type Other = net![Dense<U4, U11>, Tanh, Dense<U11, U1>];

static NET: Other = typenet::embedded!(Other, "../fixtures/torch_mlp_f32.tnet");

fn main() {
    let _ = NET.forward(&vector([0.0; 4]));
}
