use typenet::prelude::*;

fn main() {
    // The convolution gives 2×4×4 = 32 values; the Dense layer wants 36.
    let net = <net![Conv2d<U1, U2, U3>, Flatten, Dense<U36, U10>]>::default();
    let _ = Layer::forward(&net, &Tensor3::<f32, U1, U6, U6>::default());
}
