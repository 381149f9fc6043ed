use typenet::prelude::*;

fn main() {
    type Body = net![Conv2d<U4, U8, U3, U2, U1>, Relu, Conv2d<U8, U8, U3, U1, U1>];
    let block = <Projected<Body, Conv2d<U4, U8, U1, U2>>>::default();
    let y = Layer::forward(&block, &Tensor3::<f32, U4, U8, U8>::default());
    assert_eq!(y.len(), 8);
}
