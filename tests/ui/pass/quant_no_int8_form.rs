use typenet::prelude::*;
use typenet::quant;

fn main() {
    // With ReLU, which folds into the first Dense's output clamp, it converts.
    let net = <net![Dense<U4, U8>, Relu, Dense<U8, U2>]>::default();
    let x = Vector::<f32, U4>::default();
    let _ = quant::quantize(&net, &quant::calibrate(&net, [&x]));
}
