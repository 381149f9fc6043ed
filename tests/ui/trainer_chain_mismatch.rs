use typenet::prelude::*;

// A 14-layer network trained with a `Trainer`: layer 9 takes 30 features
// where layer 8 gives 32. The message names layer 9 and both sizes in
// decimal, and points at the `fit` call.
type Net = net![
    Dense<U12, U64>, Relu,
    Dense<U64, U64>, Relu,
    Dense<U64, U32>, Relu,
    Dense<U32, U32>, Relu,
    Dense<U30, U16>, Relu,
    Dense<U16, U8>, Relu,
    Dense<U8, U1>, Sigmoid
];

fn main() {
    let mut model = Net::default();
    let mut trainer = Trainer::new(Adam::new(1e-3), Config::default());
    let data = [(Vector::<f32, U12>::default(), vector([1.0f32]))];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    trainer.fit(&mut model, &Bce, &data, &mut rng).epochs(1).run().unwrap();
}
