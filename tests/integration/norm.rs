//! Batch normalisation against PyTorch (fixtures made by
//! tools/fixtures/gen_norm.py): one block in training mode (outputs, input
//! and parameter gradients, running statistics and the step count), then
//! evaluation mode, for features, sequences and images, affine or not;
//! small networks trained by the `Trainer` with SGD; parameter files from
//! PyTorch with the buffers. Then what the trainer refuses, what a refused
//! step leaves, files with non-finite statistics, folding, and the
//! normalisation property. `f32` to 1e-5, `f64` to 1e-12, relative to
//! `max(1, |value|)`.

#[path = "../fixtures/norm.rs"]
mod fixtures;

use fixtures::{LayerCase, NetCase};
use proptest::prelude::*;
use typenet::check::randomize;
use typenet::io::{self, ParamsError};
use typenet::layers::batch_norm::{Affine, Affinity, FoldError, NotAffine, RunningAverage};
use typenet::prelude::*;
use typenet::train::{BatchReport, EpochReport, Position};

use crate::io::assert_is_loaded;
use crate::parity::{load, tolerance};

/// `N` samples of `X`, one after another in `values`.
fn load_block<X: Tensor, const N: usize>(values: &[f64]) -> [X; N] {
    assert_eq!(values.len(), N * X::LEN, "fixture length");
    core::array::from_fn(|b| load(&values[b * X::LEN..(b + 1) * X::LEN]))
}

fn flat<X: Tensor>(xs: &[X]) -> Vec<f64> {
    xs.iter().flat_map(|x| x.as_flat().iter().map(|&v| Scalar::to_f64(v))).collect()
}

/// Parameters then buffers, as a parameter file holds them.
fn state<P: Params<T>, T: Scalar>(params: &P) -> Vec<f64> {
    let mut out = Vec::new();
    params.visit_state(&mut |t| out.extend(t.iter().map(|&v| Scalar::to_f64(v))));
    out
}

fn set_state<P: Params<T>, T: Scalar>(params: &mut P, values: &[f64]) {
    let mut k = 0;
    params.visit_state_mut(&mut |t| {
        t.iter_mut().zip(&values[k..]).for_each(|(p, &v)| *p = T::from_f64(v));
        k += t.len();
    });
    assert_eq!(k, values.len(), "state_dict length");
}

/// The largest deviation of `got` from `want`, relative to `max(1, |want|)`.
fn deviation(got: &[f64], want: &[f64], what: &str, tolerance: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let worst = got.iter().zip(want).map(|(g, w)| (g - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max);
    assert!(worst <= tolerance, "{what}: deviation {worst:e} from PyTorch above {tolerance:e}\n{got:?}\n{want:?}");
    worst
}

/// Runs `case` through a batch norm `BatchNorm<C, T, A>` on a block of `N`
/// samples of `X`, and compares everything with PyTorch.
fn layer_case<C, T, A, X, const N: usize>(name: &str, case: &LayerCase) -> f64
where
    C: ArrayLength,
    T: Scalar,
    A: Affinity,
    X: Tensor<Scalar = T>,
    BatchNorm<C, T, A>: Train<X, Output = X> + Params<T, Grads = BatchNorm<C, T, A>> + Default,
{
    let tolerance = tolerance::<T>();
    let mut bn = BatchNorm::<C, T, A>::default().with_eps(case.eps).with_momentum(case.momentum);
    let mut k = 0;
    bn.visit_mut(&mut |t| {
        t.iter_mut().zip(&case.params[k..]).for_each(|(p, &v)| *p = T::from_f64(v));
        k += t.len();
    });
    assert_eq!(k, case.params.len(), "{name}: parameter count");
    bn.running_mean = load(case.running_mean);
    bn.running_var = load(case.running_var);
    bn.num_batches_tracked = T::from_f64(case.num_batches_tracked);

    let xs: [X; N] = load_block(case.x);
    let dys: [X; N] = load_block(case.dy);
    let mut caches: [_; N] = core::array::from_fn(|_| Default::default());
    let mut ys: [X; N] = core::array::from_fn(|_| X::default());
    bn.forward_train_block(N, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
    let (mut grads, mut dxs) = (BatchNorm::<C, T, A>::default(), core::array::from_fn(|_| X::default()));
    grads.visit_mut(&mut |t| t.fill(T::zero()));
    bn.backward_block(N, xs.each_ref(), caches.each_mut(), dys.each_ref(), &mut grads, Some(dxs.each_mut()));
    let mut flat_grads = Vec::new();
    grads.visit(&mut |t| flat_grads.extend(t.iter().map(|&v| v.to_f64())));
    bn.update_buffers(N, caches.each_ref());
    let eval: [X; 2] = load_block(case.x_eval);
    let y_eval = eval.each_ref().map(|x| bn.forward(x));

    let worst = [
        deviation(&flat(&ys), case.y, "output", tolerance),
        deviation(&flat(&dxs), case.dx, "input gradient", tolerance),
        deviation(&flat_grads, case.grads, "parameter gradients", tolerance),
        deviation(&flat(&[bn.running_mean.clone()]), case.new_running_mean, "running mean", tolerance),
        deviation(&flat(&[bn.running_var.clone()]), case.new_running_var, "running variance", tolerance),
        deviation(&[bn.num_batches_tracked.to_f64()], &[case.new_num_batches_tracked], "num_batches_tracked", 0.0),
        deviation(&flat(&y_eval), case.y_eval, "evaluation output", tolerance),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    println!("{name} in {}: max deviation {worst:.2e}", T::NAME);
    worst
}

/// `both!(CASE, T => C, A, X, N)`: the case in `f32` and in `f64`.
macro_rules! both {
    ($case:ident, $t:ident => $c:ty, $a:ty, $x:ty, $n:literal) => {{
        paste_case!($case, F32, $t = f32, $c, $a, $x, $n);
        paste_case!($case, F64, $t = f64, $c, $a, $x, $n);
    }};
}

macro_rules! paste_case {
    ($case:ident, $suffix:ident, $t:ident = $scalar:ty, $c:ty, $a:ty, $x:ty, $n:literal) => {{
        type $t = $scalar;
        let case: &LayerCase = &fixture!($case, $suffix);
        layer_case::<$c, $t, $a, $x, $n>(concat!(stringify!($case), "_", stringify!($suffix)), case);
    }};
}

macro_rules! fixture {
    (BN1D_FEATURES, F32) => {
        fixtures::BN1D_FEATURES_F32
    };
    (BN1D_FEATURES, F64) => {
        fixtures::BN1D_FEATURES_F64
    };
    (BN1D_FEATURES_PLAIN, F32) => {
        fixtures::BN1D_FEATURES_PLAIN_F32
    };
    (BN1D_FEATURES_PLAIN, F64) => {
        fixtures::BN1D_FEATURES_PLAIN_F64
    };
    (BN1D_SEQUENCE, F32) => {
        fixtures::BN1D_SEQUENCE_F32
    };
    (BN1D_SEQUENCE, F64) => {
        fixtures::BN1D_SEQUENCE_F64
    };
    (BN2D, F32) => {
        fixtures::BN2D_F32
    };
    (BN2D, F64) => {
        fixtures::BN2D_F64
    };
    (BN2D_PLAIN, F32) => {
        fixtures::BN2D_PLAIN_F32
    };
    (BN2D_PLAIN, F64) => {
        fixtures::BN2D_PLAIN_F64
    };
    (BN2D_CONSTANT, F32) => {
        fixtures::BN2D_CONSTANT_F32
    };
    (BN2D_CONSTANT, F64) => {
        fixtures::BN2D_CONSTANT_F64
    };
}

#[test]
fn batch_norm_1d_over_features_matches_pytorch() {
    both!(BN1D_FEATURES, T => U4, Affine, Vector<T, U4>, 5);
    both!(BN1D_FEATURES_PLAIN, T => U4, NotAffine, Vector<T, U4>, 3);
}

#[test]
fn batch_norm_1d_over_sequences_matches_pytorch() {
    both!(BN1D_SEQUENCE, T => U3, Affine, Matrix<T, U3, U5>, 4);
}

#[test]
fn batch_norm_2d_matches_pytorch() {
    both!(BN2D, T => U2, Affine, Tensor3<T, U2, U3, U4>, 3);
    both!(BN2D_PLAIN, T => U3, NotAffine, Tensor3<T, U3, U2, U3>, 2);
}

/// A channel of equal values (channel 0): within the tolerance of PyTorch,
/// whose mean is off by its rounding (by 2e-15 in `f64`, 1e-6 at the
/// output in `f32`), while typenet's output is the bias exactly.
#[test]
fn a_constant_channel_matches_pytorch_and_gives_the_bias() {
    both!(BN2D_CONSTANT, T => U2, Affine, Tensor3<T, U2, U2, U2>, 3);
    fn exactly_the_bias<T: Scalar>(case: &LayerCase) {
        let mut bn = BatchNorm2d::<U2, T>::new();
        bn.bias = load(&case.params[2..]);
        bn.weight = load(&case.params[..2]);
        let xs: [Tensor3<T, U2, U2, U2>; 3] = load_block(case.x);
        let (mut caches, mut ys) = (<[_; 3]>::default(), [Tensor3::default(); 3]);
        bn.forward_train_block(3, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        assert!(ys.iter().all(|y| y[0].as_flat().iter().all(|&v| v == bn.bias[0])), "{}", T::NAME);
    }
    exactly_the_bias::<f32>(&fixtures::BN2D_CONSTANT_F32);
    exactly_the_bias::<f64>(&fixtures::BN2D_CONSTANT_F64);
}

/// Records each step's loss.
struct Losses(Vec<f64>);

impl<T: Scalar> Monitor<T> for Losses {
    fn on_batch(&mut self, report: &BatchReport<T>) {
        self.0.push(report.step.loss.to_f64());
    }
    fn on_epoch(&mut self, _: &EpochReport<T>) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Continue(())
    }
}

/// Trains `M` as PyTorch did in `case` (SGD, in order, no shuffling), after
/// `setup` has set its hyperparameters, and compares each step's loss, the
/// state_dict after training (parameters, running statistics, step counts)
/// and the evaluation outputs.
fn net_case<M, X, Y, L>(
    name: &str,
    case: &NetCase,
    loss: &L,
    target: impl Fn(&[f64]) -> Y,
    setup: impl Fn(&mut M),
) -> f64
where
    X: Tensor,
    M: Train<X> + Default,
    L: Loss<M::Output, Y>,
{
    let tolerance = tolerance::<X::Scalar>();
    let mut model = M::default();
    setup(&mut model);
    set_state(&mut model, case.initial);
    let per_target = case.targets.len() / (case.xs.len() / X::LEN);
    let data: Vec<(X, Y)> =
        case.xs.chunks(X::LEN).zip(case.targets.chunks(per_target)).map(|(x, t)| (load(x), target(t))).collect();
    let config = Config { batch_size: case.batch_size, shuffle: false, ..Config::default() };
    let mut trainer = Trainer::new(Sgd::new(X::Scalar::from_f64(case.lr)), config);
    let mut losses = Losses(Vec::new());
    trainer.fit(&mut model, loss, &data, &mut NoRng).epochs(case.epochs).monitor(&mut losses).run().unwrap();
    let outputs: Vec<M::Output> = data.iter().map(|(x, _)| model.forward(x)).collect();

    let worst = [
        deviation(&losses.0, case.losses, "step losses", tolerance),
        deviation(&state(&model), case.trained, "state_dict after training", tolerance),
        deviation(&flat(&outputs), case.outputs, "evaluation outputs", tolerance),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    println!("{name} in {}: max deviation {worst:.2e}", <X::Scalar as Scalar>::NAME);
    worst
}

type Mlp<T> = net![Dense<U3, U4, T>, BatchNorm1d<U4, T>, Relu, Dense<U4, U2, T>];
type Cnn<T> = net![Conv2d<U1, U2, U3, U1, U1, T>, BatchNorm2d<U2, T>, Relu, Flatten, Dense<U32, U3, T>];

fn vector_target<T: Scalar>(t: &[f64]) -> Vector<T, U2> {
    load(t)
}

#[test]
fn a_dense_network_with_batch_norm_trains_as_in_pytorch() {
    net_case::<Mlp<f32>, Vector<f32, U3>, _, _>("MLP", &fixtures::MLP_F32, &Mse, vector_target::<f32>, |_| {});
    net_case::<Mlp<f64>, Vector<f64, U3>, _, _>("MLP", &fixtures::MLP_F64, &Mse, vector_target::<f64>, |_| {});
}

/// `momentum=None` and `eps=1e-3`: hyperparameters, which the layer holds
/// and the state_dict does not.
#[test]
fn a_cumulative_average_trains_as_in_pytorch() {
    fn run<T: Scalar>(case: &NetCase) {
        let cumulative = |net: &mut Mlp<T>| {
            let bn = net.layer_mut::<U1>();
            bn.eps = 1e-3;
            bn.momentum = RunningAverage::from(None);
        };
        net_case::<Mlp<T>, Vector<T, U3>, _, _>("MLP_CUMULATIVE", case, &Mse, vector_target::<T>, cumulative);
    }
    run::<f32>(&fixtures::MLP_CUMULATIVE_F32);
    run::<f64>(&fixtures::MLP_CUMULATIVE_F64);
}

#[test]
fn a_cnn_with_batch_norm_2d_trains_as_in_pytorch() {
    let class = |t: &[f64]| t[0] as usize;
    net_case::<Cnn<f32>, Tensor3<f32, U1, U4, U4>, _, _>(
        "CNN",
        &fixtures::CNN_F32,
        &SoftmaxCrossEntropy,
        class,
        |_| {},
    );
    net_case::<Cnn<f64>, Tensor3<f64, U1, U4, U4>, _, _>(
        "CNN",
        &fixtures::CNN_F64,
        &SoftmaxCrossEntropy,
        class,
        |_| {},
    );
}

/// Ten samples for a [`Mlp`]: inputs and two targets.
fn mlp_data<T: Scalar>(len: usize) -> Vec<(Vector<T, U3>, Vector<T, U2>)> {
    (0..len)
        .map(|i| {
            let x = [i as f64 / 4.0 - 1.0, (i % 3) as f64 - 1.0, ((i * 7) % 5) as f64 / 5.0];
            (load(&x), load(&[x[0] - x[1], x[2] * 2.0]))
        })
        .collect()
}

fn seeded_mlp<T: Scalar>(seed: u64) -> Mlp<T> {
    let mut net = Mlp::<T>::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    net
}

/// PyTorch refuses a batch of one in training mode; the trainer refuses it
/// before any step, whether it comes from `step`, or from `fit` as the last
/// batch of an epoch, which `drop_last` leaves out.
#[test]
fn the_trainer_refuses_a_batch_of_one() {
    let data = mlp_data::<f32>(9);
    let mut net = seeded_mlp::<f32>(1);
    let before = net.clone();
    let config = Config { batch_size: 4, shuffle: false, ..Config::default() };
    let mut trainer = Trainer::new(Sgd::new(0.1), config);

    let err = trainer.step(&mut net, &Mse, &data[..1], &mut NoRng).unwrap_err();
    assert_eq!(err, TrainError::SingleSampleBatch { at: Position::Step });
    assert!(net == before);

    // 9 samples in batches of 4: the third batch of the first epoch has one.
    let err = trainer.fit(&mut net, &Mse, &data, &mut NoRng).epochs(2).run().unwrap_err();
    assert_eq!(err, TrainError::SingleSampleBatch { at: Position::Batch { epoch: 1, batch: 2 } });
    assert!(net == before, "refused before the first step");
    assert!(err.to_string().contains("drop_last"), "{err}");

    trainer.config.drop_last = true;
    let fit = trainer.fit(&mut net, &Mse, &data, &mut NoRng).epochs(2).run().unwrap();
    assert_eq!(fit.epochs, 2);
    assert_eq!(net.layer::<U1>().num_batches_tracked, 4.0, "two batches of 4 per epoch");

    // A last batch of 2 is fine.
    trainer.config.drop_last = false;
    let mut net = before.clone();
    trainer.fit(&mut net, &Mse, &data[..6], &mut NoRng).epochs(1).run().unwrap();
    assert_eq!(net.layer::<U1>().num_batches_tracked, 2.0);
}

/// A mini-batch runs as one block: one larger than the trainer's block
/// is refused, by `step` and by `fit`.
#[test]
fn the_trainer_refuses_a_batch_larger_than_its_block() {
    let data = mlp_data::<f32>(8);
    let mut net = seeded_mlp::<f32>(2);
    let before = net.clone();
    let mut trainer = Trainer::<Mlp<f32>, _, _, 4>::with_block(
        Sgd::new(0.1),
        Config { batch_size: 8, shuffle: false, ..Config::default() },
    );
    let err = trainer.step(&mut net, &Mse, &data[..5], &mut NoRng).unwrap_err();
    assert_eq!(err, TrainError::BatchLargerThanBlock { batch_size: 5, block: 4 });
    let err = trainer.fit(&mut net, &Mse, &data, &mut NoRng).epochs(1).run().unwrap_err();
    assert_eq!(err, TrainError::BatchLargerThanBlock { batch_size: 8, block: 4 });
    assert!(net == before);
    trainer.config.batch_size = 4;
    trainer.fit(&mut net, &Mse, &data, &mut NoRng).epochs(1).run().unwrap();
    assert_eq!(net.layer::<U1>().num_batches_tracked, 2.0);
}

/// A step whose loss is not finite is refused: parameters and running
/// statistics stay as they were; the next good step moves both.
#[test]
fn a_refused_step_leaves_the_running_statistics_unchanged() {
    let mut data = mlp_data::<f64>(4);
    let mut net = seeded_mlp::<f64>(3);
    let mut trainer = Trainer::new(Sgd::new(0.1), Config::default());
    trainer.step(&mut net, &Mse, &data, &mut NoRng).unwrap();
    let before = net.clone();
    let good = data[2].0[0];
    data[2].0[0] = f64::INFINITY;
    let err = trainer.step(&mut net, &Mse, &data, &mut NoRng).unwrap_err();
    assert!(matches!(err, TrainError::NonFiniteLoss { at: Position::Step, .. }), "{err:?}");
    assert!(net == before, "the step changed the model");
    data[2].0[0] = good;
    trainer.step(&mut net, &Mse, &data, &mut NoRng).unwrap();
    let (bn, old) = (net.layer::<U1>(), before.layer::<U1>());
    assert_eq!(bn.num_batches_tracked, 2.0);
    assert!(bn.running_mean != old.running_mean && bn.running_var != old.running_var);
}

/// Saving and loading a network with batch norm carries the buffers (the
/// running statistics and the step count) with the parameters.
#[test]
fn a_parameter_file_carries_the_buffers() {
    type Net = net![Conv2d<U1, U2, U3>, BatchNorm2d<U2>, Relu, Flatten, Dense<U8, U2>, BatchNorm1d<U2, f32, NotAffine>];
    // The header, the signature (per tensor: role, rank, sizes), the parameters, the buffers.
    let signature = (6 + 3) + (3 + 3 + 3 + 3 + 2) + (4 + 3) + (3 + 3 + 2);
    assert_eq!(io::encoded_len::<Net, f32>(), 20 + 4 * signature + ((18 + 2) + (2 + 2) + (16 + 2)) * 4 + (5 + 5) * 4);
    let mut net = Net::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(4));
    randomize(&mut net, &mut Xoshiro256PlusPlus::seed_from_u64(5));
    let bn = net.layer_mut::<U1>();
    bn.running_mean = vector([0.25, -1.5]);
    bn.running_var = vector([2.0, 0.125]);
    bn.num_batches_tracked = 17.0;
    net.layer_mut::<U5>().running_var = vector([3.0, 4.0]);
    net.layer_mut::<U5>().num_batches_tracked = 9.0;
    let mut file = vec![0; io::encoded_len::<Net, f32>()];
    io::save(&net, &mut file).unwrap();
    let mut copy = Net::default();
    io::load(&mut copy, &file).unwrap();
    assert!(copy == net);
    assert_eq!(copy.layer::<U1>().num_batches_tracked, 17.0);
    assert_eq!(copy.layer::<U5>().running_var.as_slice(), &[3.0, 4.0]);
}

/// Bitwise CRC-32 (zlib's), to write a file the loader gets past its
/// checksum.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// A file whose running variance is NaN or infinite (with a good checksum)
/// is refused, naming the value, and the model is untouched.
#[test]
fn non_finite_running_statistics_in_a_file_are_refused() {
    type Net = net![Dense<U2, U3, f64>, BatchNorm1d<U3, f64>];
    let net = {
        let mut net = Net::default();
        net.init(&mut Xoshiro256PlusPlus::seed_from_u64(6));
        net
    };
    let mut file = vec![0; io::encoded_len::<Net, f64>()];
    io::save(&net, &mut file).unwrap();
    // Values: Dense 6 + 3, weight 3, bias 3, running_mean 3, running_var 3, count 1.
    for (index, bad) in [(9 + 9 + 1, f64::NAN), (9 + 6 + 2, f64::INFINITY), (9 + 12, f64::NEG_INFINITY)] {
        let mut damaged = file.clone();
        let values = 20 + 4 * <Net as Params<f64>>::SIGNATURE_LEN;
        damaged[values + index * 8..values + (index + 1) * 8].copy_from_slice(&bad.to_le_bytes());
        let crc = crc32(&damaged[16..]);
        damaged[12..16].copy_from_slice(&crc.to_le_bytes());
        let mut copy = Net::default();
        assert_eq!(io::load(&mut copy, &damaged), Err(ParamsError::NonFinite { index }));
        assert!(copy == Net::default());
    }
}

type InteropNet<T> = net![Dense<U4, U6, T>, BatchNorm1d<U6, T>, Relu, Dense<U6, U3, T>, BatchNorm1d<U3, T, NotAffine>];

/// A model with batch norms exported from PyTorch (num_batches_tracked,
/// int64 there, as a number) loads, gives PyTorch's evaluation outputs, and
/// saves back to the same bytes, which `import_torch.py` reads back into
/// PyTorch (gen_norm.py checks that side).
#[test]
fn pytorch_models_with_batch_norm_load_and_save_back() {
    fn check<T: Scalar>(file: &[u8], outputs: &[f64]) {
        let mut net = InteropNet::<T>::default();
        io::load(&mut net, file).unwrap();
        assert_eq!(net.layer::<U1>().num_batches_tracked.to_f64(), 3.0);
        assert_eq!(net.layer::<U4>().num_batches_tracked.to_f64(), 3.0);
        let xs: [Vector<T, U4>; 5] = load_block(fixtures::INTEROP_INPUTS);
        let ys = xs.each_ref().map(|x| net.forward(x));
        let worst = deviation(&flat(&ys), outputs, "evaluation outputs", tolerance::<T>());
        println!("interop in {}: max deviation {worst:.2e}", T::NAME);
        let mut saved = vec![0; io::encoded_len::<InteropNet<T>, T>()];
        io::save(&net, &mut saved).unwrap();
        assert!(saved == file, "typenet saves the file PyTorch wrote");
    }
    check::<f32>(include_bytes!("../fixtures/torch_bn_f32.tnet"), fixtures::INTEROP_OUTPUTS_F32);
    check::<f64>(include_bytes!("../fixtures/torch_bn_f64.tnet"), fixtures::INTEROP_OUTPUTS_F64);
}

/// The largest difference between two sets of outputs, relative to
/// `max(1, |b|)`.
fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f64::max)
}

/// After training, Dense → BatchNorm1d folds into one Dense, and
/// Conv2d → BatchNorm2d into one Conv2d, whose networks give the outputs of
/// the unfolded ones in evaluation mode.
#[test]
fn folding_after_training_keeps_the_outputs() {
    fn dense<T: Scalar>() -> f64 {
        let data = mlp_data::<T>(12);
        let mut net = seeded_mlp::<T>(7);
        let mut trainer = Trainer::new(Sgd::new(T::from_f64(0.1)), Config { batch_size: 4, ..Config::default() });
        trainer.fit(&mut net, &Mse, &data, &mut Xoshiro256PlusPlus::seed_from_u64(8)).epochs(5).run().unwrap();
        let (d0, (bn, (relu, (d1,)))) = net.clone();
        assert!(bn.running_var.iter().all(|&v| v != T::one()), "trained statistics");
        let folded: net![Dense<U3, U4, T>, Relu, Dense<U4, U2, T>] = layers![bn.fold(d0).unwrap(), relu, d1];
        let (a, b): (Vec<_>, Vec<_>) = data.iter().map(|(x, _)| (folded.forward(x), net.forward(x))).unzip();
        max_difference(&flat(&a), &flat(&b))
    }
    fn conv<T: Scalar>() -> f64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let data: Vec<(Tensor3<T, U1, U4, U4>, usize)> = (0..12)
            .map(|i| {
                let mut x = Tensor3::default();
                x.as_flat_mut().iter_mut().for_each(|v| *v = T::from_f64(rng.random_range(-1.0..1.0)));
                (x, i % 3)
            })
            .collect();
        let mut net = Cnn::<T>::default();
        net.init(&mut rng);
        let mut trainer = Trainer::new(Sgd::new(T::from_f64(0.05)), Config { batch_size: 3, ..Config::default() });
        trainer.fit(&mut net, &SoftmaxCrossEntropy, &data, &mut rng).epochs(4).run().unwrap();
        let (c, (bn, rest)) = net.clone();
        let folded: (Conv2d<U1, U2, U3, U1, U1, T>, _) = (bn.fold(c).unwrap(), rest);
        let (a, b): (Vec<_>, Vec<_>) = data.iter().map(|(x, _)| (folded.forward(x), net.forward(x))).unzip();
        max_difference(&flat(&a), &flat(&b))
    }
    let worst = [(dense::<f32>(), 1e-5), (dense::<f64>(), 1e-12), (conv::<f32>(), 1e-5), (conv::<f64>(), 1e-12)];
    for (difference, tolerance) in worst {
        assert!(difference < tolerance, "{difference:e} ≥ {tolerance:e}");
    }
    println!("fold: largest differences {worst:?}");
}

/// A batch norm with a non-finite running statistic (as a diverged run
/// can leave) is not folded, and the layer before it is left as it was.
#[test]
fn folding_non_finite_statistics_is_refused() {
    let net = seeded_mlp::<f32>(10);
    let (dense, (mut bn, _)) = net;
    bn.running_var[3] = f32::INFINITY;
    let mut layer = dense.clone();
    assert_eq!(bn.fold_into(&mut layer), Err(FoldError::NonFiniteStatistics { channel: 3 }));
    assert!(layer == dense);
    bn.running_var[3] = 1.0;
    bn.running_mean[0] = f32::NAN;
    assert_eq!(bn.fold(dense), Err(FoldError::NonFiniteStatistics { channel: 0 }));
}

/// `(mean, biased variance)` of channel `c` over the first `n` samples.
fn moments<X: Tensor<Scalar = f64>>(xs: &[X], c: usize, channels: usize) -> (f64, f64) {
    let plane = X::LEN / channels;
    let values: Vec<f64> = xs.iter().flat_map(|x| x.as_flat()[c * plane..(c + 1) * plane].to_vec()).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (mean, values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / values.len() as f64)
}

/// Checks the property on the first `n` of a block of 8 samples of `X`.
fn normalises<X: Tensor<Scalar = f64>, C: ArrayLength>(
    values: &[f64],
    n: usize,
    scale: f64,
    shift: f64,
) -> Result<(), TestCaseError>
where
    BatchNorm<C, f64>: Train<X, Output = X>,
{
    let xs: [X; 8] = core::array::from_fn(|b| {
        let mut x = X::default();
        x.as_flat_mut().iter_mut().zip(&values[b * X::LEN..]).for_each(|(x, v)| *x = v * scale + shift);
        x
    });
    let bn = BatchNorm::<C, f64>::new();
    let (mut caches, mut ys): ([_; 8], [X; 8]) = (core::array::from_fn(|_| Default::default()), Default::default());
    bn.forward_train_block(n, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
    for c in 0..C::USIZE {
        let (_, var) = moments(&xs[..n], c, C::USIZE);
        let (mean_y, var_y) = moments(&ys[..n], c, C::USIZE);
        prop_assert!(mean_y.abs() < 1e-12, "channel {c}: mean {mean_y:e}");
        // eps keeps the variance a little under 1: var / (var + eps) exactly.
        prop_assert!((var_y - var / (var + bn.eps)).abs() < 1e-12, "channel {c}: variance {var_y}");
        if var > 1e-2 {
            prop_assert!((var_y - 1.0).abs() < 1e-3, "channel {c}: variance {var_y}, input variance {var}");
        }
    }
    Ok(())
}

proptest! {
    /// In training mode, with weight 1 and bias 0, every channel of the
    /// output has mean 0 and biased variance 1 over the block (up to eps),
    /// for any block of 2 to 8 samples, any scale and offset.
    #[test]
    fn training_outputs_have_mean_0_and_variance_1_per_channel(
        values in proptest::collection::vec(-1.0f64..1.0, 8 * 24),
        n in 2usize..=8,
        scale in 0.05f64..100.0,
        shift in -50.0f64..50.0,
    ) {
        normalises::<Vector<f64, U3>, U3>(&values, n, scale, shift)?;
        normalises::<Matrix<f64, U3, U4>, U3>(&values, n, scale, shift)?;
        normalises::<Tensor3<f64, U2, U3, U4>, U2>(&values, n, scale, shift)?;
    }
}

/// The same PyTorch files built into `static`s by the compiler
/// (`embedded!`): batch norm's buffers, `num_batches_tracked` and a
/// non-affine batch norm read as `io::load` reads them, bit for bit.
#[test]
fn pytorch_models_with_batch_norm_embed_as_they_load() {
    static F32: InteropNet<f32> = typenet::embedded!(InteropNet<f32>, "../fixtures/torch_bn_f32.tnet");
    static F64: InteropNet<f64> = typenet::embedded!(InteropNet<f64>, f64, "../fixtures/torch_bn_f64.tnet");
    assert_is_loaded(&F32, include_bytes!("../fixtures/torch_bn_f32.tnet"));
    assert_is_loaded(&F64, include_bytes!("../fixtures/torch_bn_f64.tnet"));
    assert_eq!(F64.layer::<U4>().num_batches_tracked, 3.0);
}
