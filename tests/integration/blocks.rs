//! Residual blocks, hard activations and layer norm: against PyTorch
//! (tools/fixtures/gen_blocks.py: outputs, input and parameter gradients in
//! `f32` to 1e-5 and `f64` to 1e-12 of `max(1, |value|)`, and six SGD steps
//! of a residual CNN through the `Trainer`), against finite differences in
//! `f64`, and the contract a block keeps for the layers inside it (buffers,
//! coupled samples, stale input-gradient slots).

#[path = "../fixtures/blocks.rs"]
mod fixtures;

use typenet::check::{check_gradients, check_gradients_block, randomize};
use typenet::io;
use typenet::memory::Zeroable;
use typenet::prelude::*;
use typenet::train::TrainError;

use crate::parity::{F64_TOLERANCE, both, deviation, flat_params, load, set_params, tolerance};

#[test]
fn hard_activations_match_pytorch_at_and_between_their_kinks() {
    both!(RELU6, T => Relu6, Matrix<T, U2, U8>);
    both!(HARDSIGMOID, T => HardSigmoid, Matrix<T, U2, U8>);
    both!(HARDSWISH, T => HardSwish, Matrix<T, U2, U8>);
    // The kinks are the fixtures' first four inputs, exactly.
    assert_eq!(fixtures::RELU6_X[..4], [-3.0, 0.0, 3.0, 6.0]);
    assert_eq!(fixtures::HARDSWISH_X[..4], [-3.0, 0.0, 3.0, 6.0]);
}

#[test]
fn layer_norm_matches_pytorch_over_every_shape() {
    both!(LN_VECTOR, T => LayerNorm<U6, T>, Vector<T, U6>);
    both!(LN_ROWS, T => LayerNorm<U5, T>, Matrix<T, U3, U5>);
    both!(LN_LAST_OF_3D, T => LayerNorm<U4, T>, Tensor3<T, U2, U3, U4>);
    both!(LN_PLANES, T => LayerNorm<(U3, U4), T>, Tensor3<T, U2, U3, U4>);
    both!(LN_SAMPLE, T => LayerNorm<(U2, U3, U4), T>, Tensor3<T, U2, U3, U4>);
}

type Body<T> = net![Conv2d<U2, U2, U3, U1, U1, T>, Relu, Conv2d<U2, U2, U3, U1, U1, T>];
type DownBody<T> = net![Conv2d<U2, U3, U3, U2, U1, T>, Relu, Conv2d<U3, U3, U3, U1, U1, T>];
type DownShortcut<T> = Conv2d<U2, U3, U1, U2, U0, T>;

#[test]
fn residual_blocks_match_pytorch_in_state_dict_order() {
    both!(RESIDUAL, T => Residual<Body<T>>, Tensor3<T, U2, U5, U5>);
    both!(PROJECTED, T => Projected<DownBody<T>, DownShortcut<T>>, Tensor3<T, U2, U6, U6>);
}

/// The residual CNN of the training fixture.
type TrainNet<T> = net![
    Conv2d<U1, U4, U3, U1, U1, T>,
    Relu,
    Residual<net![Conv2d<U4, U4, U3, U1, U1, T>, Relu, Conv2d<U4, U4, U3, U1, U1, T>]>,
    Relu,
    Projected<net![Conv2d<U4, U8, U3, U2, U1, T>, HardSwish, Conv2d<U8, U8, U3, U1, U1, T>], Conv2d<U4, U8, U1, U2, U0, T>>,
    Relu6,
    GlobalAvgPool,
    LayerNorm<U8, T>,
    Dense<U8, U3, T>,
];
type Image<T> = Tensor3<T, U1, U6, U6>;

fn train_data<T: Scalar>() -> Vec<(Image<T>, usize)> {
    fixtures::TRAIN_X.chunks(36).zip(fixtures::TRAIN_LABELS).map(|(x, y)| (load(x), y)).collect()
}

/// Six SGD steps through `Trainer::step` on the fixture's mini-batches, in
/// blocks of `B`: the loss of each step and the parameters after the first
/// and the last are PyTorch's.
fn train_like_pytorch<T: Scalar, const B: usize>() -> f64 {
    let tolerance = tolerance::<T>();
    let mut net = TrainNet::<T>::default();
    set_params(&mut net, &fixtures::TRAIN_P0);
    let data = train_data::<T>();
    let config = Config { batch_size: 4, shuffle: false, ..Config::default() };
    let mut slot = Box::new_uninit();
    let lr = T::from_f64(0.1);
    let trainer = Trainer::<TrainNet<T>, Image<T>, Sgd<T>, B>::new_in(&mut slot, Sgd::new(lr), config);
    let mut worst: f64 = 0.0;
    for (step, &loss) in fixtures::TRAIN_LOSSES.iter().enumerate() {
        let batch = &data[4 * (step % 2)..4 * (step % 2) + 4];
        let result = trainer.step(&mut net, &SoftmaxCrossEntropy, batch, &mut NoRng).unwrap();
        let got: f64 = result.loss.to_f64();
        let error = (got - loss).abs() / loss.abs().max(1.0);
        assert!(error <= tolerance, "step {step}: loss {} vs PyTorch's {loss}", result.loss);
        worst = worst.max(error);
        if step == 0 {
            worst = worst.max(deviation(&flat_params(&net), &fixtures::TRAIN_P1, "parameters after step 1", tolerance));
        }
    }
    worst = worst.max(deviation(&flat_params(&net), &fixtures::TRAIN_P6, "parameters after step 6", tolerance));
    println!("residual CNN, 6 SGD steps in {} (blocks of {B}): max deviation {worst:.2e}", T::NAME);
    worst
}

#[test]
fn sgd_through_the_trainer_matches_pytorch_on_a_residual_cnn() {
    train_like_pytorch::<f32, 32>();
    train_like_pytorch::<f64, 32>();
    // A mini-batch of 4 cut into blocks of 3 and 1.
    train_like_pytorch::<f64, 3>();
    train_like_pytorch::<f32, 1>();
}

/// `fit` over three unshuffled epochs takes the same six steps.
#[test]
fn fit_takes_the_same_steps() {
    let mut net = TrainNet::<f64>::default();
    set_params(&mut net, &fixtures::TRAIN_P0);
    let data = train_data::<f64>();
    let config = Config { batch_size: 4, shuffle: false, ..Config::default() };
    let mut slot = Box::new_uninit();
    let trainer = Trainer::<_, _, _, 8>::new_in(&mut slot, Sgd::new(0.1), config);
    trainer.fit(&mut net, &SoftmaxCrossEntropy, &data, &mut NoRng).epochs(3).run().unwrap();
    deviation(&flat_params(&net), &fixtures::TRAIN_P6, "parameters after 3 epochs", F64_TOLERANCE);
}

/// Gradient-checks `L` on one sample and on a block of 3, parameters and
/// inputs drawn from [-1, 1).
fn gradient_check<L: Train<X> + Default, X: Tensor<Scalar = f64>>(seed: u64) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut layer = L::default();
    randomize(&mut layer, &mut rng);
    let xs: [X; 3] = core::array::from_fn(|_| {
        let mut x = X::default();
        x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
        x
    });
    let name = core::any::type_name::<L>();
    let one = check_gradients(&mut layer, &xs[0], &mut rng);
    assert!(one.max_rel_error < 1e-6, "{name}: {one:?}");
    assert_eq!((one.inputs_checked, one.params_checked), (X::LEN, L::COUNT));
    let block = check_gradients_block(&mut layer, &xs, &mut rng);
    assert!(block.max_rel_error < 1e-6, "{name} in a block: {block:?}");
    assert_eq!((block.inputs_checked, block.params_checked), (3 * X::LEN, L::COUNT));
    one.max_rel_error.max(block.max_rel_error)
}

#[test]
fn residual_blocks_pass_the_gradient_check() {
    let worst = [
        // Conv2d → Relu → Conv2d, plus the input.
        gradient_check::<Residual<Body<f64>>, Tensor3<f64, U2, U5, U5>>(1),
        // The strided body beside a stride-2 1×1 convolution.
        gradient_check::<Projected<DownBody<f64>, DownShortcut<f64>>, Tensor3<f64, U2, U6, U6>>(2),
        // In a chain, after a layer that needs the block's input gradient.
        gradient_check::<net![Conv2d<U1, U2, U3, U1, U1, f64>, Residual<Body<f64>>, Tanh], Tensor3<f64, U1, U5, U5>>(3),
        // A pre-norm MLP block (layer norm, hard swish) between dense layers.
        gradient_check::<
            net![
                Dense<U4, U6, f64>,
                Residual<net![LayerNorm<U6, f64>, Dense<U6, U6, f64>, HardSwish, Dense<U6, U6, f64>]>,
                Dense<U6, U2, f64>,
            ],
            Vector<f64, U4>,
        >(4),
        // Blocks within blocks, and a chain as the shortcut.
        gradient_check::<
            Projected<
                net![Residual<Dense<U3, U3, f64>>, Tanh, Dense<U3, U5, f64>],
                net![Dense<U3, U5, f64>, HardSigmoid],
            >,
            Vector<f64, U3>,
        >(5),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    println!("residual blocks: worst gradient-check error {worst:.2e}");
}

/// A test layer with a parameter and a buffer that couples the samples of
/// a block, like batch norm: in training `y = x − mean over the block + shift`,
/// in inference `y = x − running_mean + shift`, and an accepted step stores
/// the block's mean as the running mean.
#[derive(Clone, Debug, PartialEq)]
pub struct Centre<N: ArrayLength, T = f64> {
    pub shift: Vector<T, N>,
    pub running_mean: Vector<T, N>,
}

typenet::params! {
    impl[N: ArrayLength, T: Scalar] Params<T> for Centre<N, T> {
        shift: Vector<T, N>;
        buffers running_mean: Vector<T, N> = Default::default(),
    }
}

impl<N: ArrayLength, T: Scalar> Initialize for Centre<N, T> {
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {}
}

impl<N: ArrayLength, T: Scalar> Layer<Vector<T, N>> for Centre<N, T> {
    type Output = Vector<T, N>;
    fn forward(&self, x: &Vector<T, N>) -> Vector<T, N> {
        let mut y = x.clone();
        y.iter_mut().zip(self.running_mean.iter().zip(self.shift.iter())).for_each(|(y, (&m, &s))| *y = *y - m + s);
        y
    }
}

impl<N: ArrayLength, T: Scalar> Train<Vector<T, N>> for Centre<N, T> {
    /// The block's mean, in every sample's cache.
    type Cache = Vector<T, N>;
    const COUPLES_SAMPLES: bool = true;

    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        caches: [&mut Vector<T, N>; B],
        outputs: [&mut Vector<T, N>; B],
        _: &mut R,
    ) {
        let mut mean = Vector::<T, N>::default();
        for x in inputs.iter().take(n) {
            mean.iter_mut().zip(x.iter()).for_each(|(m, &v)| *m = *m + v / T::from_f64(n as f64));
        }
        for ((x, cache), y) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
            cache.clone_from(&mean);
            for (i, y) in y.iter_mut().enumerate() {
                *y = x[i] - mean[i] + self.shift[i];
            }
        }
    }

    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Vector<T, N>; B],
        _: [&mut Vector<T, N>; B],
        grad_outputs: [&Vector<T, N>; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Vector<T, N>; B]>,
    ) {
        let mut mean_dy = Vector::<T, N>::default();
        for dy in grad_outputs.iter().take(n) {
            grads.shift.iter_mut().zip(dy.iter()).for_each(|(g, &d)| *g = *g + d);
            mean_dy.iter_mut().zip(dy.iter()).for_each(|(m, &d)| *m = *m + d / T::from_f64(n as f64));
        }
        let Some(grad_inputs) = grad_inputs else { return };
        for (dx, dy) in grad_inputs.into_iter().zip(grad_outputs).take(n) {
            for (i, dx) in dx.iter_mut().enumerate() {
                *dx = dy[i] - mean_dy[i];
            }
        }
    }

    fn update_buffers<const B: usize>(&mut self, _: usize, caches: [&Vector<T, N>; B]) {
        self.running_mean.clone_from(caches[0]);
    }
}

type Coupled = net![
    Dense<U2, U3, f64>,
    Residual<net![Centre<U3>, Tanh]>,
    Projected<Dense<U3, U3, f64>, net![Centre<U3>, Relu6]>,
];

#[test]
fn blocks_pass_on_coupled_samples_buffers_and_their_updates() {
    const { assert!(<Coupled as Train<Vector<f64, U2>>>::COUPLES_SAMPLES) };
    const { assert!(<Residual<net![Centre<U3>, Tanh]> as Train<Vector<f64, U3>>>::COUPLES_SAMPLES) };
    const { assert!(<Projected<Dense<U3, U3, f64>, Centre<U3>> as Train<Vector<f64, U3>>>::COUPLES_SAMPLES, "shortcut") };
    const { assert!(!<Residual<net![Dense<U3, U3, f64>, Tanh]> as Train<Vector<f64, U3>>>::COUPLES_SAMPLES) };
    assert_eq!((<Coupled as Params<f64>>::COUNT, <Coupled as Params<f64>>::BUFFER_COUNT), (9 + 3 + 12 + 3, 6));

    // The state walks each layer's parameters then its buffers, the body
    // before the shortcut: PyTorch's `state_dict` of the same modules.
    let mut net = Coupled::default();
    let mut k = 0.0;
    net.visit_state_mut(&mut |t| {
        k += 1.0;
        t.fill(k);
    });
    assert_eq!(
        (net.layer::<U1>().body.layer::<U0>().shift[0], net.layer::<U1>().body.layer::<U0>().running_mean[0]),
        (3.0, 4.0)
    );
    assert_eq!((net.layer::<U2>().body.bias[0], net.layer::<U2>().shortcut.layer::<U0>().running_mean[2]), (6.0, 8.0));

    // The buffers go into a parameter file and come back.
    let mut bytes = [0u8; io::encoded_len::<Coupled, f64>()];
    io::save(&net, &mut bytes).unwrap();
    let mut copy = Coupled::default();
    io::load(&mut copy, &bytes).unwrap();
    assert!(copy == net);

    // Coupled samples: the gradients of a whole block against finite differences.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
    randomize(&mut net, &mut rng);
    let xs = [vector([0.3, -0.8]), vector([1.1, 0.4]), vector([-0.5, 0.9]), vector([0.2, 0.1])];
    let report = check_gradients_block(&mut net, &xs, &mut rng);
    assert!(report.max_rel_error < 1e-6, "{report:?}");

    // The trainer refuses a batch of one, and after an accepted step the
    // buffers inside both blocks hold the batch means of their inputs.
    let data: Vec<_> = xs.iter().map(|x| (*x, vector([0.5, -0.5, 0.25]))).collect();
    let mut trainer = Trainer::new(Sgd::new(0.05), Config { batch_size: 4, ..Config::default() });
    assert!(matches!(trainer.step(&mut net, &Mse, &data[..1], &mut rng), Err(TrainError::SingleSampleBatch { .. })));
    let before = net.clone();
    trainer.step(&mut net, &Mse, &data, &mut rng).unwrap();
    let hidden: Vec<_> = xs.iter().map(|x| before.layer::<U0>().forward(x)).collect();
    let mean =
        |vs: &[Vector<f64, U3>]| -> Vec<f64> { (0..3).map(|i| vs.iter().map(|v| v[i]).sum::<f64>() / 4.0).collect() };
    let residual_mean = net.layer::<U1>().body.layer::<U0>().running_mean.to_vec();
    assert!(residual_mean.iter().zip(mean(&hidden)).all(|(a, b)| (a - b).abs() < 1e-14), "{residual_mean:?}");
    // The shortcut's centring layer saw the outputs of the residual block, run
    // in training on the whole batch.
    let mut caches: [_; 4] = Default::default();
    let mut outs = [Vector::<f64, U3>::default(); 4];
    let hidden: [&Vector<f64, U3>; 4] = core::array::from_fn(|i| &hidden[i]);
    before.layer::<U1>().forward_train_block(4, hidden, caches.each_mut(), outs.each_mut(), &mut NoRng);
    let shortcut_mean = net.layer::<U2>().shortcut.layer::<U0>().running_mean.to_vec();
    assert!(shortcut_mean.iter().zip(mean(&outs)).all(|(a, b)| (a - b).abs() < 1e-14), "{shortcut_mean:?}");
}

/// A projected block in blocks: every sample's output and input gradient
/// as alone, the slots past `n` left alone, stale slots overwritten, and
/// the parameter gradients the sum of the samples'.
#[test]
fn projected_blocks_agree_with_samples_and_overwrite_stale_slots() {
    type Block = Projected<DownBody<f64>, DownShortcut<f64>>;
    type X = Tensor3<f64, U2, U6, U6>;
    type Y = Tensor3<f64, U3, U3, U3>;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    let mut block = Block::default();
    block.init(&mut rng);
    let draw =
        |rng: &mut Xoshiro256PlusPlus, v: &mut [f64]| v.iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
    let mut xs = [X::default(); 4];
    let mut dys = [Y::default(); 4];
    xs.iter_mut().for_each(|x| draw(&mut rng, x.as_flat_mut()));
    dys.iter_mut().for_each(|y| draw(&mut rng, y.as_flat_mut()));
    let mut caches: Box<[<Block as Train<X>>::Cache; 4]> = Box::default();
    let mut ys = [Y::default(); 4];
    block.forward_train_block(3, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
    let mut dxs = [X::default(); 4];
    dxs.iter_mut().for_each(|dx| dx.as_flat_mut().fill(-3.25)); // stale values
    let mut grads = <Block as Params<f64>>::Grads::default();
    block.backward_block(3, xs.each_ref(), caches.each_mut(), dys.each_ref(), &mut grads, Some(dxs.each_mut()));
    let mut each = <Block as Params<f64>>::Grads::default();
    for b in 0..3 {
        let mut cache = Default::default();
        assert_eq!(ys[b], block.forward_train(&xs[b], &mut cache, &mut NoRng), "output {b}");
        assert_eq!(ys[b], block.forward(&xs[b]));
        let dx = block.backward(&xs[b], &mut cache, &dys[b], &mut each);
        let close = dx.as_flat().iter().zip(dxs[b].as_flat()).all(|(a, b)| (a - b).abs() < 1e-14);
        assert!(close, "input gradient {b}");
    }
    assert_eq!(ys[3], Y::default());
    assert!(dxs[3].as_flat().iter().all(|&v| v == -3.25), "slot past n");
    let close = flat_params(&grads).iter().zip(flat_params(&each)).all(|(a, b)| (a - b).abs() < 1e-13);
    assert!(close);
    // Without input gradients (a network's first layer), the same parameter gradients.
    let mut params_only = <Block as Params<f64>>::Grads::default();
    block.backward_block(3, xs.each_ref(), caches.each_mut(), dys.each_ref(), &mut params_only, None);
    assert!(flat_params(&params_only) == flat_params(&grads));
}

/// The identity block's cache is its body's: the addition costs no memory.
#[test]
fn an_identity_block_keeps_nothing_of_its_own() {
    type X = Tensor3<f32, U2, U5, U5>;
    assert_eq!(size_of::<<Residual<Body<f32>> as Train<X>>::Cache>(), size_of::<<Body<f32> as Train<X>>::Cache>());
    assert_eq!(size_of::<Residual<Body<f32>>>(), size_of::<Body<f32>>());
    fn zeroable<Z: Zeroable>() {}
    zeroable::<<Projected<DownBody<f32>, DownShortcut<f32>> as Train<Tensor3<f32, U2, U6, U6>>>::Cache>();
}
