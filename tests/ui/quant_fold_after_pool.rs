use typenet::prelude::*;
use typenet::quant;

fn main() {
    // A batch norm after pooling has no weights to fold into.
    let net = <net![Conv2d<U1, U4, U3>, MaxPool2d<U2>, BatchNorm2d<U4>, Flatten, Dense<U16, U2>]>::default();
    let x = Tensor3::<f32, U1, U6, U6>::default();
    let _ = quant::quantize(&net, &quant::calibrate(&net, [&x]));
}
