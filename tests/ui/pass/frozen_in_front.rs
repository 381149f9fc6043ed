//! The twin of `frozen_after_trained.rs`: the frozen part in front.
use typenet::prelude::*;

type Body = net![Dense<U4, U8>, Relu];

fn main() {
    let body = Body::default();
    let mut model = layers![Frozen(&body), Dense::<U8, U8>::default(), Dense::<U8, U2>::default()];
    let data = [(vector([1.0, 0.0, 0.0, 0.0]), 0)];
    let mut trainer = Trainer::new(Sgd::new(0.5), Config { shuffle: false, ..Config::default() });
    let _ = trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut NoRng).epochs(1).run();
}
