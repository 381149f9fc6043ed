use typenet::prelude::*;
use typenet::quant;

fn main() {
    // `Tanh` has no int8 form: TFLite's int8 kernels have no tanh to fuse.
    let net = <net![Dense<U4, U8>, Tanh, Dense<U8, U2>]>::default();
    let x = Vector::<f32, U4>::default();
    let _ = quant::quantize(&net, &quant::calibrate(&net, [&x]));
}
