//! Models and trainers built in place hold every hyperparameter and buffer
//! at its default. Zero-filling alone (as `zeroed_in` once did for
//! `net![Dense, LeakyRelu, Dropout]`) gives a leaky ReLU slope, a dropout
//! rate and an ELU α of 0, batch norm an `eps`, a momentum and a running
//! variance of 0 and layer norm an `eps` of 0, silently; `params!`'s
//! `DefaultInPlace` writes them back. Checked through every public way to
//! build in place: `memory::default_in`, `memory::default_box`,
//! `memory::reset`, and the trainers of `Trainer::new_in`, `Trainer::boxed`
//! and `Trainer::boxed_with_block`, which must train as `Trainer::new` does.

use core::mem::MaybeUninit;

use typenet::layers::batch_norm::RunningAverage;
#[cfg(feature = "std")]
use typenet::memory::default_box;
use typenet::memory::{default_in, reset};
use typenet::prelude::*;

/// Every layer with a hyperparameter or a buffer whose default is not 0.
type Net<T> = net![
    Dense<U3, U4, T>,
    LeakyRelu<T>,
    Dropout<T>,
    Elu<T>,
    BatchNorm1d<U4, T>,
    Dense<U4, U4, T>,
    LayerNorm<U4, T>,
    Dense<U4, U2, T>,
];

/// The slope, the rate, α, batch norm's eps, momentum and first running
/// variance, and layer norm's eps.
fn hyperparameters<T: Scalar>(net: &Net<T>) -> [f64; 7] {
    let bn = net.layer::<U4>();
    [
        net.layer::<U1>().slope.to_f64(),
        net.layer::<U2>().rate.to_f64(),
        net.layer::<U3>().alpha.to_f64(),
        bn.eps,
        bn.momentum.momentum().unwrap_or(f64::NAN),
        bn.running_var[0].to_f64(),
        net.layer::<U6>().eps,
    ]
}

fn assert_defaults<T: Scalar>(net: &Net<T>, how: &str) {
    let slope = T::from_f64(0.01).to_f64();
    assert_eq!(hyperparameters(net), [slope, 0.5, 1.0, 1e-5, 0.1, 1.0, 1e-5], "{how} in {}", T::NAME);
    assert!(*net == Net::<T>::default(), "{how} in {}", T::NAME);
}

fn models_built_in_place_keep_their_defaults<T: Scalar>() {
    let mut slot = MaybeUninit::<Net<T>>::uninit();
    let net = default_in(&mut slot);
    assert_defaults(net, "default_in");

    #[cfg(feature = "std")]
    assert_defaults(&default_box::<Net<T>>(), "default_box");

    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
    net.layer_mut::<U1>().slope = T::from_f64(0.3);
    net.layer_mut::<U2>().rate = T::from_f64(0.9);
    net.layer_mut::<U3>().alpha = T::from_f64(2.0);
    net.layer_mut::<U4>().eps = 0.5;
    net.layer_mut::<U4>().momentum = RunningAverage::CUMULATIVE;
    net.layer_mut::<U4>().running_var[0] = T::from_f64(7.0);
    net.layer_mut::<U6>().eps = 0.25;
    reset(net);
    assert_defaults(net, "reset");
}

#[test]
fn default_in_default_box_and_reset_restore_every_hyperparameter() {
    models_built_in_place_keep_their_defaults::<f32>();
    models_built_in_place_keep_their_defaults::<f64>();
}

/// Trains `model` for two epochs of batches of 4 with `trainer`, seeded.
fn train<T: Scalar, const B: usize>(trainer: &mut Trainer<Net<T>, Vector<T, U3>, Sgd<T>, B>, model: &mut Net<T>) {
    let data: Vec<_> = (0..8)
        .map(|i| {
            let i = T::from_f64(i as f64 / 8.0);
            (vector([i, T::one() - i, i * i]), vector([i, -i]))
        })
        .collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    trainer.fit(model, &Mse, &data, &mut rng).validate_on(&data).epochs(2).run().unwrap();
}

fn trainers_built_in_place_train_as_new_does<T: Scalar>() {
    let config = || Config { batch_size: 4, ..Config::default() };
    let sgd = || Sgd::new(T::from_f64(0.1));
    let mut start = Net::<T>::default();
    start.init(&mut Xoshiro256PlusPlus::seed_from_u64(2));
    let trained = |train_with: &dyn Fn(&mut Net<T>)| {
        let mut model = start.clone();
        train_with(&mut model);
        assert!(model != start, "training moved nothing");
        model
    };
    let by_new = trained(&|m| train(&mut Trainer::new(sgd(), config()), m));
    let by_new_in = trained(&|m| {
        let mut slot = MaybeUninit::<Trainer<_, _, _>>::uninit();
        train(Trainer::new_in(&mut slot, sgd(), config()), m)
    });
    assert!(by_new_in == by_new, "new_in in {}", T::NAME);
    #[cfg(feature = "std")]
    {
        let by_boxed = trained(&|m| train(&mut *Trainer::boxed(sgd(), config()), m));
        let by_block = trained(&|m| train(&mut *Trainer::<_, _, _, 4>::boxed_with_block(sgd(), config()), m));
        assert!(by_boxed == by_new && by_block == by_new, "boxed in {}", T::NAME);
    }
}

#[test]
fn trainers_built_in_place_train_bit_for_bit_as_new_ones() {
    trainers_built_in_place_train_as_new_does::<f32>();
    trainers_built_in_place_train_as_new_does::<f64>();
}
