//! Nothing large goes through the stack: a 784-128-10 MLP (400 KB of
//! parameters, 1.2 MB more of gradients and Adam state) trains on a 2 MiB
//! thread stack with the model and the trainer on the heap.
#![cfg(feature = "std")]

use typenet::memory::default_box;
use typenet::prelude::*;

type Mlp = net![Dense<U784, U128>, Relu, Dense<U128, U10>];

/// One epoch on 1,000 synthetic samples, on a thread with `stack` bytes.
fn train_on_a_stack_of(stack: usize) -> (Metrics, typenet::train::FitReport, Metrics) {
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
        let fit = trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut rng).epochs(1).run().unwrap();
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

type Image = Tensor3<f32, U1, U28, U28>;

/// `n` random 28×28 images with classes `0..n`.
fn images(n: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<(Image, usize)> {
    let image = |rng: &mut Xoshiro256PlusPlus| {
        let mut x = Image::default();
        x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random::<f32>());
        x
    };
    (0..n).map(|class| (image(rng), class % 10)).collect()
}

/// DESIGN's rule 3 for the largest example model: `mnist_resnet`'s
/// ResNet-8 with the example's settings (Adam, `Config::default()`: batches
/// and blocks of 32) trains on a 2 MiB thread stack with the model and the
/// trainer (50 MB) in a `Box`, evaluation included. One epoch of four
/// samples: the stack the passes need does not depend on how many samples
/// a block holds, only on its type.
#[test]
fn the_largest_example_model_trains_boxed_on_a_2_mib_stack() {
    use crate::models::ResNet8;
    let trained = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
            let (train, val) = (images(4, &mut rng), images(2, &mut rng));
            let mut model: Box<ResNet8> = default_box();
            model.init_with(PyTorch, &mut rng);
            let adam = Adam::new(3e-3).scheduled(CosineAnnealing { epochs: 1, min_lr: 0.0 });
            let mut trainer = Trainer::boxed(adam, Config::default());
            let fit = trainer
                .fit(&mut *model, &SoftmaxCrossEntropy, &train, &mut rng)
                .validate_on(&val)
                .epochs(1)
                .run()
                .unwrap();
            (fit, size_of_val(&*trainer))
        })
        .unwrap()
        .join();
    // A stack overflow aborts the whole test binary, which fails too.
    let (fit, trainer_bytes) = trained.expect("training failed");
    assert_eq!(fit.epochs, 1);
    assert!(fit.last.train.loss.is_finite() && fit.last.val.is_some_and(|m| m.loss.is_finite()));
    // The largest example trainer: 24 times the 2 MiB stack it trained on.
    assert!(trainer_bytes > 20 * (2 << 20), "{trainer_bytes} bytes");
}

/// An MLP whose trainer (Adam, blocks of 32) is just under
/// [`MAX_BY_VALUE`](typenet::train::MAX_BY_VALUE), the largest
/// `Trainer::new` returns by value.
type NearTheLimit = net![Dense<U784, U48>, Relu, Dense<U48, U10>];

/// What `MAX_BY_VALUE` promises: the README's pattern (model and trainer by
/// value, `Trainer::new`, `Config::default()`) with the largest trainer
/// `new` builds trains on a 2 MiB thread, the stack `std::thread::spawn`
/// and `cargo test` give, also unoptimised. Larger trainers do not build
/// (`tests/ui/trainer_too_large_by_value.rs`: the README's pattern with a
/// 28×28 CNN).
#[test]
fn the_largest_trainer_new_builds_trains_by_value_on_a_2_mib_stack() {
    type T = Trainer<NearTheLimit, Vector<f32, U784>, Adam>;
    const { assert!(size_of::<T>() <= typenet::train::MAX_BY_VALUE) };
    const { assert!(size_of::<T>() > typenet::train::MAX_BY_VALUE / 10 * 9, "no longer near the limit") };
    let fit = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
            let data: Vec<(Vector<f32, U784>, usize)> = (0..40)
                .map(|i| {
                    let mut x = Vector::<f32, U784>::default();
                    x.iter_mut().for_each(|v| *v = rng.random::<f32>());
                    (x, i % 10)
                })
                .collect();
            let mut model = NearTheLimit::default();
            model.init_with(HeUniform, &mut rng);
            let mut trainer = Trainer::new(Adam::new(1e-3), Config::default());
            trainer
                .fit(&mut model, &SoftmaxCrossEntropy, &data, &mut rng)
                .validate_on(&data[..4])
                .epochs(1)
                .run()
                .unwrap()
        })
        .unwrap()
        .join()
        .expect("training failed"); // a stack overflow aborts the test binary
    assert_eq!(fit.epochs, 1);
    assert!(fit.last.train.loss.is_finite());
}
