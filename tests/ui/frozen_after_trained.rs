//! A trained layer in front of a `Frozen` part, which cannot pass a
//! gradient back, does not build.
use typenet::prelude::*;

type Body = net![Dense<U8, U8>, Relu];

fn main() {
    let body = Body::default();
    let mut model = layers![Dense::<U4, U8>::default(), Frozen(&body), Dense::<U8, U2>::default()];
    let data = [(vector([1.0, 0.0, 0.0, 0.0]), 0)];
    let mut trainer = Trainer::new(Sgd::new(0.5), Config::default());
    let _ = trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut NoRng).epochs(1).run();
}
