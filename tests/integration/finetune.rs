//! Fine-tuning with a frozen body: a network pretrained on the digits, its
//! body borrowed through `Frozen` and its head retrained on digits moved by
//! a pixel, recovers accuracy the move cost, and trains in less RAM than the
//! whole network by at least the body's gradients and optimiser state.
#![cfg(feature = "std")]

use typenet::data::{Labelled, load_csv, stratified_split};
use typenet::prelude::*;

type Body = net![Dense<U64, U32>, Relu];
type Head = net![Dense<U32, U10>];
type Digit = Labelled<f32, U64>;

type Full = Trainer<(Body, Head), Vector<f32, U64>, Adam>;
type HeadOnly<'a> = Trainer<(Frozen<'a, Body>, Head), Vector<f32, U64>, Adam>;

/// The digits split 60/20/20 with seed 2026, pixels in [0, 1]: (train, test).
fn digits() -> (Vec<Digit>, Vec<Digit>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");
    let mut all = load_csv::<U64, f32>(path, 10).unwrap();
    all.iter_mut().for_each(|(x, _)| x.iter_mut().for_each(|v| *v /= 16.0));
    let split =
        stratified_split::<_, U10, _>(&mut all, 0.6, 0.2, &mut Xoshiro256PlusPlus::seed_from_u64(2026)).unwrap();
    (split.train.to_vec(), split.test.to_vec())
}

/// Every 8×8 digit moved one pixel down and one right, the background
/// coming in.
fn moved(digits: &[Digit]) -> Vec<Digit> {
    let shift = |x: &Vector<f32, U64>| {
        let mut y = Vector::<f32, U64>::default();
        for (k, v) in y.iter_mut().enumerate() {
            let (i, j) = (k / 8, k % 8);
            if i > 0 && j > 0 {
                *v = x[k - 9];
            }
        }
        y
    };
    digits.iter().map(|(x, class)| (shift(x), *class)).collect()
}

fn accuracy<M: Layer<Vector<f32, U64>, Output = Vector<f32, U10>>>(model: &M, data: &[Digit]) -> f32 {
    evaluate(model, &SoftmaxCrossEntropy, data).unwrap().accuracy.expect("SoftmaxCrossEntropy classifies")
}

#[test]
fn a_head_fine_tuned_on_a_frozen_body_recovers_moved_digits() {
    let (train, test) = digits();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(18);
    let mut model = <(Body, Head)>::default();
    model.init_with(HeUniform, &mut rng);
    let config = Config { batch_size: 16, ..Config::default() };
    Full::new(Adam::new(3e-3), config).fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).epochs(5).run().unwrap();
    let pretrained = accuracy(&model, &test);

    // 300 moved digits to fine-tune on: a device has little data.
    let (tune, test) = (moved(&train[..300]), moved(&test));
    let before = accuracy(&model, &test);
    let mut tuned = (Frozen(&model.0), model.1.clone());
    HeadOnly::new(Adam::new(3e-3), config)
        .fit(&mut tuned, &SoftmaxCrossEntropy, &tune, &mut rng)
        .epochs(10)
        .run()
        .unwrap();
    let after = accuracy(&tuned, &test);

    assert!(pretrained > 0.9, "pretrained {pretrained}");
    assert!(after > before + 0.2, "before {before}, after {after} (pretrained {pretrained})");
}

#[test]
fn a_frozen_body_takes_no_gradients_and_no_optimizer_state() {
    let body = Trainer::<Body, Vector<f32, U64>, Adam>::BUDGET;
    let (full, head) = (Full::BUDGET, HeadOnly::BUDGET);
    assert!(body.gradients > 0 && body.optimizer_state > 0, "{body:?}");
    assert!(full.ram() >= head.ram() + body.gradients + body.optimizer_state, "full {full:?}\nhead {head:?}");
    assert_eq!(head.gradients, size_of::<((), <Head as Params<f32>>::Grads)>());
    // The head and a pointer to the body, padded to the layers' alignment
    // (at least the pointer's own, where layers need none: off x86-64).
    let padding = typenet::memory::LAYER_ALIGN.max(align_of::<usize>());
    assert!(head.model <= size_of::<Head>() + padding, "{head:?}");
}
