use typenet::prelude::*;

// The twin of `trainer_too_large_by_value.rs`: the same CNN, with the
// trainer built in place on the heap (`Trainer::new_in` in a `Box`'s slot,
// which typenet's `std` feature's `Trainer::boxed` does), builds and trains.
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
    let mut slot = Box::new_uninit();
    let trainer: &mut Trainer<Cnn, _, _> = Trainer::new_in(&mut *slot, Adam::new(1e-3), Config::default());
    let data = [(Tensor3::<f32, U1, U28, U28>::default(), 3usize)];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut rng).epochs(1).run().unwrap();
}
