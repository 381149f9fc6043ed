//! XOR, the smallest network that needs a hidden layer: 2 → 4 → 1 with
//! sigmoids, trained with Adam on binary cross-entropy.
//!
//! Ends with one line: `xor: correct=4/4 loss=... epochs=...`.

use typenet::prelude::*;

type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];

const EPOCHS: usize = 2000;

fn main() {
    let data = [
        (vector([0.0f32, 0.0]), vector([0.0])),
        (vector([0.0, 1.0]), vector([1.0])),
        (vector([1.0, 0.0]), vector([1.0])),
        (vector([1.0, 1.0]), vector([0.0])),
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut model = Xor::default();
    model.init(&mut rng);
    let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
    let fit = trainer.fit(&mut model, &Bce, &data, &mut rng).epochs(EPOCHS).run().expect("XOR trains");

    for (x, t) in &data {
        println!("{:?} -> {:.4} (target {})", x.as_slice(), model.forward(x)[0], t[0]);
    }
    let metrics = evaluate(&model, &Bce, &data).expect("four samples");
    let correct = (metrics.accuracy.expect("the cost classifies") * data.len() as f32).round();
    println!("model: {} parameters, {} bytes", <Xor as Params<f32>>::COUNT, size_of::<Xor>());
    println!("xor: correct={correct}/{} loss={:.4} epochs={}", data.len(), metrics.loss, fit.epochs);
}
