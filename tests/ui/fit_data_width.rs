use typenet::prelude::*;

// Data of 13 features given to `fit` for a model that takes 12: the message
// says so in those words, and points at the `fit` call.
type Net = net![Dense<U12, U16>, Relu, Dense<U16, U3>];

fn main() {
    let mut model = Net::default();
    let mut trainer = Trainer::new(Adam::new(1e-3), Config::default());
    let train: Vec<(Vector<f32, U13>, usize)> = vec![(Default::default(), 0)];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    trainer.fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).epochs(1).run().unwrap();
}
