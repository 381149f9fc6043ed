use typenet::prelude::*;

fn main() {
    // The second convolution has no padding: the body maps 4×8×8 to 4×6×6,
    // which cannot be added to its input. rustc reports the size first (the
    // last convolution's output, 6, where the block needs 8), then the rule.
    let block = <Residual<net![Conv2d<U4, U4, U3, U1, U1>, Relu, Conv2d<U4, U4, U3>]>>::default();
    let _ = Layer::forward(&block, &Tensor3::<f32, U4, U8, U8>::default());
}
