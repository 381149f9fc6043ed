use typenet::prelude::*;

fn main() {
    // The body halves 8×8 to 4×4 (stride 2); the shortcut has stride 1 and
    // keeps 8×8.
    type Body = net![Conv2d<U4, U8, U3, U2, U1>, Relu, Conv2d<U8, U8, U3, U1, U1>];
    let block = <Projected<Body, Conv2d<U4, U8, U1>>>::default();
    let _ = Layer::forward(&block, &Tensor3::<f32, U4, U8, U8>::default());
}
