use typenet::prelude::*;

// The README's pattern (model and trainer by value, blocks of 32) with a CNN
// on 28×28 images: its trainer is 11 MB, too large to return through the
// stack, so `Trainer::new` does not build and says what to use instead.
type Cnn = net![
    Conv2d<U1, U8, U3, U1, U1>,
    Relu,
    Conv2d<U8, U8, U3, U1, U1>,
    Relu,
    MaxPool2d<U2>,
    Conv2d<U8, U16, U3, U1, U1>,
    Relu,
    Conv2d<U16, U16, U3, U1, U1>,
    Relu,
    MaxPool2d<U2>,
    Flatten,
    Dense<U784, U64>,
    Relu,
    Dense<U64, U10>
];

fn main() {
    let mut model = Cnn::default();
    let mut trainer = Trainer::new(Adam::new(1e-3), Config::default());
    let data = [(Tensor3::<f32, U1, U28, U28>::default(), 3usize)];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut rng).epochs(1).run().unwrap();
}
