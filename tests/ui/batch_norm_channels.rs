use typenet::prelude::*;

fn main() {
    // The convolution gives 4 channels; the batch norm normalises 3.
    let net = <net![Conv2d<U1, U4, U3>, BatchNorm2d<U3>, Relu]>::default();
    let _ = Layer::forward(&net, &Tensor3::<f32, U1, U8, U8>::default());
}
