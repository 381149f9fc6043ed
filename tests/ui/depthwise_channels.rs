use typenet::prelude::*;

fn main() {
    // The pointwise convolution gives 8 channels; the depthwise one filters 6.
    let net = <net![Pointwise<U3, U8>, Relu, DepthwiseConv2d<U6, U3, U1, U1>]>::default();
    let _ = Layer::forward(&net, &Tensor3::<f32, U3, U14, U14>::default());
}
