//! Nothing large goes through the stack: a 784-128-10 MLP (400 KB of
//! parameters, 1.2 MB more of gradients and Adam state) trains on a 2 MiB
//! thread stack with the model and the trainer on the heap.
#![cfg(feature = "std")]

use typenet::memory::default_box;
use typenet::prelude::*;

type Mlp = net![Dense<U784, U128>, Relu, Dense<U128, U10>];

/// One epoch on 1,000 synthetic samples, on a thread with `stack` bytes.
fn train_on_a_stack_of(stack: usize) -> (Metrics, typenet::train::Fit, Metrics) {
    let run = || {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut model: Box<Mlp> = default_box();
        model.init_with(HeUniform, &mut rng);
        let mut trainer = Trainer::<Mlp, _, _>::boxed(Adam::new(1e-3), Config { batch_size: 32, ..Config::default() });

        // 1,000 synthetic samples: the class is the index of the largest of
        // the first ten features, so there is something to learn.
        let data: Vec<(Vector<f32, U784>, usize)> = (0..1000)
            .map(|_| {
                let mut x = Vector::<f32, U784>::default();
                x.iter_mut().for_each(|v| *v = rng.random::<f32>());
                let class = typenet::loss::argmax(&x[..10]);
                (x, class)
            })
            .collect();
        let before = evaluate(&*model, &SoftmaxCrossEntropy, &data).unwrap();
        let fit = trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &[], 1, &mut rng, ()).unwrap();
        let after = evaluate(&*model, &SoftmaxCrossEntropy, &data).unwrap();
        (before, fit, after)
    };
    std::thread::Builder::new().stack_size(stack).spawn(run).unwrap().join().unwrap()
}

#[test]
fn a_784_128_10_mlp_trains_on_a_2_mib_stack() {
    let (before, fit, after) = train_on_a_stack_of(2 << 20);
    assert_eq!(fit.epochs, 1);
    assert!(after.loss < before.loss, "one epoch should lower the loss: {before:?} -> {after:?}");
    let padded = |bytes: usize| bytes.next_multiple_of(typenet::memory::LAYER_ALIGN);
    assert_eq!(size_of::<Mlp>(), padded((784 * 128 + 128) * 4) + padded((128 * 10 + 10) * 4));
}

/// Stricter: a 256 KiB stack is smaller than the model's first weight
/// matrix (392 KiB), so a single copy of the parameters, the gradients or
/// the optimiser state through the stack would overflow it.
#[test]
fn the_same_run_fits_a_stack_smaller_than_one_weight_matrix() {
    let (before, _, after) = train_on_a_stack_of(256 << 10);
    assert!(after.loss < before.loss);
}
