//! Optimisers, schedules and clipping against PyTorch (tools/fixtures/gen_optim.py).

#[path = "../fixtures/optim.rs"]
mod fixtures;

use typenet::Scalar;
use typenet::optim::{Schedule, StepDecay};
use typenet::prelude::*;
use typenet::train::clip_grad_norm;

type D<T> = Dense<U2, U2, T>;

fn from_flat<T: Scalar>(values: &[f64; 6]) -> D<T> {
    let mut d = D::default();
    let mut k = 0;
    d.visit_mut(&mut |t| {
        for v in t {
            *v = T::from_f64(values[k]);
            k += 1;
        }
    });
    d
}

fn flat(d: &D<f64>) -> [f64; 6] {
    let mut out = [0.0; 6];
    let mut k = 0;
    d.visit(&mut |t| {
        for &v in t {
            out[k] = v;
            k += 1;
        }
    });
    out
}

/// Three steps of `optimizer` (in `T`) from the fixture's parameters and
/// gradients, each compared with PyTorch's (in `f64`), relative to the
/// largest parameter: within `tolerance`. PyTorch's coupled
/// `weight_decay = l2` is `Config::l2`, which adds `l2·p` to each gradient
/// before the optimiser's step (`tests/integration/train.rs` checks that
/// gradient against finite differences): done here by hand.
fn assert_matches_in<T: Scalar, O: Optimizer<T> + core::fmt::Debug>(
    optimizer: O,
    l2: f64,
    expected: &[[f64; 6]; 3],
    tolerance: f64,
) {
    let mut params = from_flat::<T>(&fixtures::P0);
    let mut state = Default::default();
    for (step, grads) in fixtures::GRADS.iter().enumerate() {
        let mut g = from_flat::<T>(grads);
        g.zip_mut([&mut params.clone()], &mut |g, [p]| {
            g.iter_mut().zip(p.iter()).for_each(|(g, &p)| *g = *g + T::from_f64(l2) * p)
        });
        optimizer.step(&mut params, &mut g, &mut state, optimizer.learning_rate()).unwrap();
        let mut ours = Vec::new();
        params.visit(&mut |t| ours.extend(t.iter().map(|&p| Scalar::to_f64(p))));
        for (k, (a, b)) in ours.iter().zip(expected[step]).enumerate() {
            assert!((a - b).abs() < tolerance, "{optimizer:?} in {} step {step} param {k}: {a} vs {b}", T::NAME);
        }
    }
}

/// The optimiser in `f64` within 1e-13 of PyTorch's, and in `f32` (its
/// hyperparameters rounded to `f32` too) within 1e-6 of it.
fn assert_matches<O: Optimizer<f64> + core::fmt::Debug, O32: Optimizer<f32> + core::fmt::Debug>(
    optimizer: O,
    in_f32: O32,
    l2: f64,
    expected: &[[f64; 6]; 3],
) {
    assert_matches_in(optimizer, l2, expected, 1e-13);
    assert_matches_in(in_f32, l2, expected, 1e-6);
}

#[test]
fn sgd_matches_pytorch() {
    // SGD(lr=0.1, weight_decay=0.01)
    assert_matches(Sgd::new(0.1), Sgd::new(0.1), 0.01, &fixtures::SGD);
}

#[test]
fn momentum_matches_pytorch() {
    assert_matches(Momentum::new(0.1, 0.9), Momentum::new(0.1, 0.9), 0.0, &fixtures::MOMENTUM);
    // SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    assert_matches(Momentum::nesterov(0.1, 0.9), Momentum::nesterov(0.1, 0.9), 0.01, &fixtures::NESTEROV);
}

#[test]
fn adam_and_adamw_match_pytorch() {
    assert_matches(Adam::new(0.01), Adam::new(0.01), 0.0, &fixtures::ADAM);
    // Adam(lr=0.01, weight_decay=0.1): coupled, Config::l2.
    assert_matches(Adam::new(0.01), Adam::new(0.01), 0.1, &fixtures::ADAM_L2);
    // AdamW(lr=0.01, weight_decay=0.1): decoupled, the optimiser's.
    assert_matches(Adam::adamw(0.01, 0.1), Adam::adamw(0.01, 0.1), 0.0, &fixtures::ADAMW);
}

#[test]
fn rmsprop_matches_pytorch() {
    // RMSprop(lr=0.01, weight_decay=0.01)
    assert_matches(RmsProp::new(0.01), RmsProp::new(0.01), 0.01, &fixtures::RMSPROP);
}

/// Each epoch's rate of `schedule` (in `T`, base rate 0.1) against
/// PyTorch's, up to epoch `last`, within `tolerance`.
fn assert_schedule<T: Scalar, S: Schedule<T> + core::fmt::Debug>(
    schedule: S,
    expected: &[f64],
    last: usize,
    tolerance: f64,
) {
    for (epoch, &lr) in expected.iter().enumerate().take(last.saturating_add(1)) {
        let ours = Scalar::to_f64(schedule.lr(T::from_f64(0.1), epoch));
        assert!((ours - lr).abs() < tolerance, "{schedule:?} in {} epoch {epoch}: {ours} vs {lr}", T::NAME);
    }
}

#[test]
fn schedules_match_pytorch() {
    let all = usize::MAX;
    assert_schedule(StepDecay { every: 4, gamma: 0.5f64 }, &fixtures::STEP_LR, all, 1e-12);
    assert_schedule(StepDecay { every: 4, gamma: 0.5f32 }, &fixtures::STEP_LR, all, 5e-8);
    assert_schedule(ExponentialDecay { gamma: 0.9f64 }, &fixtures::EXPONENTIAL_LR, all, 1e-12);
    assert_schedule(ExponentialDecay { gamma: 0.9f32 }, &fixtures::EXPONENTIAL_LR, all, 5e-8);
    // PyTorch's cosine annealing is recursive and drifts past T_max:
    // compare up to T_max for it.
    assert_schedule(CosineAnnealing { epochs: 10, min_lr: 0.001f64 }, &fixtures::COSINE_LR, 10, 1e-12);
    assert_schedule(CosineAnnealing { epochs: 10, min_lr: 0.001f32 }, &fixtures::COSINE_LR, 10, 5e-8);
}

#[test]
fn clipping_matches_pytorch() {
    let mut g = from_flat(&fixtures::GRADS[0]);
    let norm = clip_grad_norm(&mut g, 0.5);
    assert!((norm - fixtures::CLIP_NORM_BEFORE).abs() < 1e-12);
    for (a, b) in flat(&g).iter().zip(fixtures::CLIPPED) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
}
