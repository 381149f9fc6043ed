//! Steps that must be refused whole: a rate or a hyperparameter out of
//! range, an update that would leave a parameter, a buffer or the
//! optimiser's state non-finite, a target that does not fit the cost. After
//! every refusal the model and the optimiser's state are those of the last
//! accepted step, which the twin-trainer tests show: a trainer that saw the
//! refusal goes on exactly as one that never did.

use typenet::Value;
use typenet::optim::{ExponentialDecay, OptimError, Range};
use typenet::prelude::*;
use typenet::train::{Position, TrainError};

type Linear = net![Dense<U2, U1>];

fn linear(weight: [f32; 2], bias: f32) -> Linear {
    (Dense::new(matrix([weight]), vector([bias])),)
}

fn one_sample(x: [f32; 2], y: f32) -> [(Vector<f32, U2>, Vector<f32, U1>); 1] {
    [(vector(x), vector([y]))]
}

fn single() -> Config {
    Config { batch_size: 1, shuffle: false, ..Config::default() }
}

/// The audit's case: a NaN rate trained the weight to NaN and returned `Ok`.
#[test]
fn a_nan_learning_rate_is_refused() {
    let mut model = linear([0.5, -0.25], 0.1);
    let before = model.clone();
    let data = one_sample([1.0, 2.0], 0.5);
    let mut trainer = Trainer::new(Sgd::new(f32::NAN), single());
    let err = trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap_err();
    let TrainError::Hyperparameter { at: Position::Step, error: OptimError::Invalid { owner, name, value, range } } =
        err
    else {
        panic!("{err:?}")
    };
    assert_eq!((owner, name, range), ("Sgd", "lr", Range::NonNegative));
    assert!(matches!(value, Value::F32(v) if v.is_nan()), "{value:?}");
    assert_eq!(err.to_string(), "in this step: Sgd's lr is NaN, it must be finite and at least 0");
    assert!(model == before);

    // A good base rate whose schedule gives an infinite rate at the
    // trainer's epoch (0.1·(1e30)² overflows f32): refused by the step.
    let mut trainer = Trainer::new(Sgd::new(0.1).scheduled(ExponentialDecay { gamma: 1e30 }), single());
    trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap();
    let after_one = model.clone();
    trainer.set_epoch(2);
    let err = trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap_err();
    let expected =
        OptimError::Invalid { owner: "Sgd", name: "lr", value: Value::F32(f32::INFINITY), range: Range::NonNegative };
    assert_eq!(err, TrainError::Hyperparameter { at: Position::Step, error: expected });
    assert!(model == after_one);
}

/// PyTorch refuses a negative rate ("Invalid learning rate"); so do `fit`
/// (before the first step, even for zero epochs) and `step`.
#[test]
fn a_negative_learning_rate_is_refused() {
    let mut model = linear([0.5, -0.25], 0.1);
    let before = model.clone();
    let data = one_sample([1.0, 2.0], 0.5);
    let mut trainer = Trainer::new(Sgd::new(-0.1), single());
    for epochs in [0, 3] {
        let err = trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(epochs).run().unwrap_err();
        assert!(matches!(err, TrainError::Hyperparameter { at: Position::Start, .. }), "{err:?}");
        assert_eq!(err.to_string(), "Sgd's lr is -0.1, it must be finite and at least 0");
    }
    let err = trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap_err();
    assert!(matches!(err, TrainError::Hyperparameter { at: Position::Step, .. }), "{err:?}");
    assert!(model == before);
}

/// The rate is in the model's scalar: an infinite one is refused, with
/// its value as it was given; a rate past `f32`'s range is an `f64` model's.
#[test]
fn an_infinite_rate_is_refused() {
    let mut model = linear([0.5, -0.25], 0.1);
    let before = model.clone();
    let data = one_sample([1.0, 2.0], 0.5);
    let mut trainer = Trainer::new(Sgd::new(f32::INFINITY), single());
    let err = trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap_err();
    let expected =
        OptimError::Invalid { owner: "Sgd", name: "lr", value: Value::F32(f32::INFINITY), range: Range::NonNegative };
    assert_eq!(err, TrainError::Hyperparameter { at: Position::Step, error: expected });
    assert!(model == before);
    // 1e39 is fine for an f64 model.
    let mut wide = <net![Dense<U2, U1, f64>]>::default();
    let wide_data = [(vector([1e-30, 0.0]), vector([0.0]))];
    let mut wide_trainer = Trainer::new(Sgd::new(1e39), Config { batch_size: 1, ..Config::default() });
    wide_trainer.step(&mut wide, &Mse, &wide_data, &mut NoRng).unwrap();
}

/// PyTorch: "Invalid beta parameter at index 0" for β₁ = 1, and the rest of
/// each optimiser's ranges.
#[test]
fn hyperparameters_pytorch_refuses_are_refused() {
    let cases = [
        (Adam { beta1: 1.0, ..Adam::new(0.1) }.validate(), "Adam's beta1 is 1, it must be at least 0 and below 1"),
        (Adam { beta2: -0.1, ..Adam::new(0.1) }.validate(), "Adam's beta2 is -0.1, it must be at least 0 and below 1"),
        (
            Adam { eps: -1e-8, ..Adam::new(0.1) }.validate(),
            "Adam's eps is -0.00000001, it must be finite and at least 0",
        ),
        (Adam::adamw(0.1, -0.01).validate(), "Adam's weight_decay is -0.01, it must be finite and at least 0"),
        (Momentum::nesterov(0.1, 0.0).validate(), "Momentum's momentum is 0, it must be finite and above 0"),
        (Momentum::new(0.1, -0.9).validate(), "Momentum's momentum is -0.9, it must be finite and at least 0"),
        (
            RmsProp { alpha: -0.99, ..RmsProp::new(0.1) }.validate(),
            "RmsProp's alpha is -0.99, it must be finite and at least 0",
        ),
        (Sgd::new(f32::INFINITY).validate(), "Sgd's lr is inf, it must be finite and at least 0"),
    ];
    for (validated, message) in cases {
        assert_eq!(validated.unwrap_err().to_string(), message);
    }
    for ok in [Adam::new(0.1).validate(), Momentum::nesterov(0.1, 0.9).validate(), RmsProp::new(0.0).validate()] {
        assert_eq!(ok, Ok(()));
    }

    // Through the trainer: refused before the first step, the model untouched.
    let mut model = linear([0.5, -0.25], 0.1);
    let before = model.clone();
    let data = one_sample([1.0, 2.0], 0.5);
    let mut trainer = Trainer::new(Adam { beta1: 1.0, ..Adam::new(0.1) }, single());
    let err = trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(5).run().unwrap_err();
    assert!(matches!(err, TrainError::Hyperparameter { at: Position::Start, .. }), "{err:?}");
    assert!(model == before);
}

/// The config's numbers have ranges too.
#[test]
fn config_values_out_of_range_are_refused() {
    let mut model = linear([0.5, -0.25], 0.1);
    let data = one_sample([1.0, 2.0], 0.5);
    let configs = [
        (Config { l1: -0.1, ..single() }, "Config's l1 is -0.1, it must be finite and at least 0"),
        (Config { l2: f32::NAN, ..single() }, "Config's l2 is NaN, it must be finite and at least 0"),
        (Config { clip_norm: Some(0.0), ..single() }, "Config's clip_norm is 0, it must be finite and above 0"),
    ];
    for (config, message) in configs {
        let mut trainer = Trainer::new(Sgd::new(0.1), config);
        let err = trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(1).run().unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    // A schedule's, checked with its optimiser's.
    let mut trainer = Trainer::new(Sgd::new(0.1).scheduled(ExponentialDecay { gamma: -0.5 }), single());
    let err = trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(1).run().unwrap_err();
    assert_eq!(err.to_string(), "ExponentialDecay's gamma is -0.5, it must be finite and at least 0");
    let mut trainer = Trainer::new(Sgd::new(0.1), Config { batch_size: 0, ..single() });
    // Zero epochs: the batch size is still checked.
    assert_eq!(trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(0).run(), Err(TrainError::ZeroBatchSize));
}

/// The audit's case: a linear model, a feature of 1e19, SGD at rate 100.
/// The loss (1e38) and the gradient (2e38) are finite in `f32`; the update
/// (2e40) is not, and is not written.
#[test]
fn an_update_that_overflows_is_not_applied() {
    let mut model = linear([1.0, 0.0], 0.0);
    let before = model.clone();
    let data = one_sample([1e19, 0.0], 0.0);
    let mut trainer = Trainer::new(Sgd::new(100.0), single());
    let err = trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap_err();
    assert_eq!(err, TrainError::NonFiniteUpdate { at: Position::Step });
    assert!(model == before);

    // In an epoch, the error names the batch.
    let err = trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(3).run().unwrap_err();
    assert_eq!(err, TrainError::NonFiniteUpdate { at: Position::Batch { epoch: 1, batch: 0 } });
    assert!(err.to_string().contains("at epoch 1, batch 0"), "{err}");
    assert!(model == before);
}

/// Adam with `eps = 0` where a gradient is exactly 0 divides 0 by 0. The
/// step is refused, the step count and moments do not move: a trainer that
/// saw the refusal continues exactly as one that did not.
#[test]
fn adam_with_eps_zero_on_a_zero_gradient_is_refused_and_its_state_kept() {
    // The first feature is 0 in every sample: its weight's gradient is 0.
    let data = [(vector([0.0f32, 1.0]), vector([0.5f32])), (vector([0.0, -2.0]), vector([-1.0]))];
    let config = Config { batch_size: 2, ..single() };
    let (mut seen, mut fresh) = (linear([0.5, -0.25], 0.1), linear([0.5, -0.25], 0.1));
    let mut saw_refusal = Trainer::new(Adam::new(0.01), config);
    let mut never = Trainer::new(Adam::new(0.01), config);

    saw_refusal.step(&mut seen, &Mse, &data, &mut NoRng).unwrap();
    never.step(&mut fresh, &Mse, &data, &mut NoRng).unwrap();
    let before = seen.clone();
    saw_refusal.optimizer.eps = 0.0;
    // m and v of the first weight are exactly 0 after a step of zero gradients: 0/0.
    let err = saw_refusal.step(&mut seen, &Mse, &data, &mut NoRng).unwrap_err();
    assert_eq!(err, TrainError::NonFiniteUpdate { at: Position::Step });
    assert!(seen == before);

    saw_refusal.optimizer.eps = 1e-8;
    for _ in 0..3 {
        saw_refusal.step(&mut seen, &Mse, &data, &mut NoRng).unwrap();
        never.step(&mut fresh, &Mse, &data, &mut NoRng).unwrap();
    }
    assert!(seen == fresh, "the refused step moved Adam's state: {seen:?} vs {fresh:?}");
}

/// The optimiser alone: all or nothing, the state included.
#[test]
fn an_optimizer_step_is_all_or_nothing() {
    let mut params = Dense::<U2, U1>::new(matrix([[1.0, 2.0]]), vector([3.0]));
    let mut grads = Dense::new(matrix([[0.5, f32::MAX]]), vector([0.0]));
    let adam = Adam::new(0.1);
    let mut state = Default::default();
    // v = (1 − β₂)·g² overflows for g = f32::MAX, though p would move by lr only.
    assert_eq!(adam.step(&mut params, &mut grads, &mut state, 0.1), Err(OptimError::NonFiniteUpdate));
    assert_eq!(state, typenet::optim::AdamState::default(), "moments and step count kept");
    assert_eq!((params.weight[0], params.bias[0]), (vector([1.0, 2.0]), 3.0));

    let momentum = Momentum::new(1.0, 0.9);
    let mut state = Default::default();
    let mut grads = Dense::new(matrix([[f32::MAX, f32::MAX]]), vector([f32::MAX]));
    momentum.step(&mut params, &mut grads, &mut state, 1.0).unwrap();
    let after_one = (params.clone(), state.clone());
    // The velocity 1.9·MAX overflows: nothing moves.
    assert_eq!(momentum.step(&mut params, &mut grads, &mut state, 1.0), Err(OptimError::NonFiniteUpdate));
    assert_eq!((params, state), after_one);
}

/// Batch norm's running variance of inputs ±1e30 overflows `f32`, though
/// the normalised outputs, the loss and the gradients are finite: the step
/// is refused before the running statistics (or anything else) change.
#[test]
fn a_step_whose_running_statistics_overflow_is_refused() {
    type Normed = net![BatchNorm1d<U1>, Dense<U1, U1>];
    let mut model = Normed::default();
    model.0 = BatchNorm1d::new();
    model.1.0.weight[0][0] = 1.0;
    let before = model.clone();
    let data = [(vector([1e30f32]), vector([1.0f32])), (vector([-1e30]), vector([0.0]))];
    let mut trainer = Trainer::new(Sgd::new(0.1), Config { batch_size: 2, ..single() });
    let err = trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap_err();
    assert_eq!(err, TrainError::NonFiniteUpdate { at: Position::Step });
    assert!(model == before, "{model:?}");
    let moderate = [(vector([3.0f32]), vector([1.0f32])), (vector([-1.0]), vector([0.0]))];
    trainer.step(&mut model, &Mse, &moderate, &mut NoRng).unwrap();
    assert_eq!(model.0.num_batches_tracked, 1.0);
}

/// `step` checks its batch's targets as `fit` checks the data set's: an out
/// of range class used to surface as a non-finite loss, a BCE target of 1.5
/// trained silently.
#[test]
fn step_checks_its_targets() {
    let mut model = <net![Dense<U2, U3>]>::default();
    let before = model.clone();
    let classes = [(vector([1.0f32, 0.0]), 1usize), (vector([0.0, 1.0]), 5)];
    let mut trainer = Trainer::new(Sgd::new(0.1), Config { batch_size: 2, ..single() });
    let err = trainer.step(&mut model, &SoftmaxCrossEntropy, &classes, &mut NoRng).unwrap_err();
    assert_eq!(err.to_string(), "training sample 1: class 5 is out of range for 3 classes");
    assert!(model == before);

    let mut binary = <net![Dense<U2, U1>, Sigmoid]>::default();
    let before = binary.clone();
    let targets = [(vector([1.0f32, 0.0]), vector([1.5f32]))];
    let mut trainer = Trainer::new(Sgd::new(0.1), single());
    let err = trainer.step(&mut binary, &Bce, &targets, &mut NoRng).unwrap_err();
    assert_eq!(err.to_string(), "training sample 0: target value 1.5 at index 0 is not a probability in [0, 1]");
    assert!(binary == before);
}

/// A lone step names its sample by its index in the batch; an epoch by
/// its index in the training set, with the epoch and the batch.
#[test]
fn a_non_finite_loss_names_its_sample_and_step() {
    let mut model = linear([0.5, -0.25], 0.1);
    let mut data: Vec<_> = (0..12).map(|i| (vector([i as f32, 1.0]), vector([0.5f32]))).collect();
    data[9].0[1] = f32::NAN;
    let mut trainer = Trainer::new(Sgd::new(0.01), Config { batch_size: 4, ..single() });
    let err = trainer.step(&mut model, &Mse, &data[8..], &mut NoRng).unwrap_err();
    assert_eq!(err, TrainError::NonFiniteLoss { at: Position::Step, sample: 1 });
    assert_eq!(err.to_string(), "the loss of sample 1 is not finite in this step; the step was not applied");

    let err = trainer.fit(&mut model, &Mse, &data, &mut NoRng).epochs(2).run().unwrap_err();
    assert_eq!(err, TrainError::NonFiniteLoss { at: Position::Batch { epoch: 1, batch: 2 }, sample: 9 });
    assert_eq!(err.to_string(), "the loss of sample 9 is not finite at epoch 1, batch 2; the step was not applied");

    // Shuffled, the sample is still named by its index in the data.
    trainer.config.shuffle = true;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let err = trainer.fit(&mut model, &Mse, &data, &mut rng).epochs(2).run().unwrap_err();
    assert!(matches!(err, TrainError::NonFiniteLoss { at: Position::Batch { epoch: 1, .. }, sample: 9 }), "{err:?}");
}
