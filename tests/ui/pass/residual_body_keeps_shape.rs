use typenet::prelude::*;

fn main() {
    let block = <Residual<net![Conv2d<U4, U4, U3, U1, U1>, Relu, Conv2d<U4, U4, U3, U1, U1>]>>::default();
    let y = Layer::forward(&block, &Tensor3::<f32, U4, U8, U8>::default());
    assert_eq!(y.len(), 4);
}
