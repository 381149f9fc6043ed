//! The peer workloads (see BENCHMARKS.md): W1 XOR training step, W2 digits
//! MLP training at batch 1 and 32, W3 784-128-10 MLP training at batch 32
//! and 64, W4 the small digits CNN at batch 32, W5 single-sample inference,
//! W6 the DS-CNN on MNIST at batch 32 (SGD and Adam). Single thread, f32,
//! plain SGD unless stated. Q1: int8 inference at batch 1 (digits CNN,
//! DS-CNN).
//! And L1, layers alone: the depthwise-separable convolutions at DS-CNN's
//! sizes, forward and backward over a block of 32 samples.
//!
//! `cargo bench --bench workloads` (pin with `taskset -c 1`); one group:
//! `cargo bench --bench workloads -- W3`. With `TYPENET_BENCH_CPU_TIME=1`
//! the clock is the thread's CPU time instead of the wall clock, which
//! leaves out the time other processes take from a shared core.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkGroup, Criterion, Throughput};
use typenet::data::{Labelled, load_csv, stratified_split};
use typenet::init::fill_normal;
use typenet::memory::default_box;
use typenet::prelude::*;

/// A digit: 8×8 pixels / 16 and its class.
type Digit = Labelled<f32, U64>;

type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];
type Mlp64 = net![Dense<U64, U32>, Relu, Dense<U32, U10>];
type Mlp784 = net![Dense<U784, U128>, Relu, Dense<U128, U10>];
/// W4's network: Conv2d(1→8, 3×3, valid), ReLU, MaxPool 2×2, Flatten, Dense(72→10).
type Cnn = net![Conv2d<U1, U8, U3>, Relu, MaxPool2d<U2>, Flatten, Dense<U72, U10>];

/// W3's data set size per measured epoch (the peers use 60,000; the rate per
/// sample is what is measured, and 8,192 samples already exceed the caches).
const W3_SAMPLES: usize = 8192;

/// W1: XOR 2-4-1, sigmoid, MSE, SGD lr 0.5, one sample per step. One
/// iteration is an epoch of the four samples in order, so four steps.
fn w1_xor<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let mut model = Xor::default();
    model.init_with(XavierUniform, &mut rng);
    let data = [
        (vector([0.0f32, 0.0]), vector([0.0f32])),
        (vector([0.0, 1.0]), vector([1.0])),
        (vector([1.0, 0.0]), vector([1.0])),
        (vector([1.0, 1.0]), vector([0.0])),
    ];
    let config = Config { batch_size: 1, shuffle: false, ..Config::default() };
    let mut trainer = Trainer::new(Sgd::new(0.5), config);
    let mut group = c.benchmark_group("W1_xor");
    group.throughput(Throughput::Elements(4));
    group.bench_function("step_x4", |b| {
        b.iter(|| trainer.train_epoch(&mut model, &Mse, black_box(&data), &mut NoRng, &mut ()).unwrap())
    });
    group.finish();
}

/// The digits, pixels / 16, an 80/20 stratified split (1,437 / 360 samples
/// as the peers' 1,437 / 360).
fn digits() -> (Vec<Digit>, Vec<Digit>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");
    let mut all = load_csv::<U64, f32>(path, 10).expect("data/digits.csv");
    all.iter_mut().for_each(|(x, _)| x.iter_mut().for_each(|v| *v /= 16.0));
    let split = stratified_split::<_, U10, _>(&mut all, 0.8, 0.2, &mut Xoshiro256PlusPlus::seed_from_u64(0)).unwrap();
    (split.train.to_vec(), split.val.to_vec())
}

/// W2: the 64-32-10 ReLU MLP on digits, softmax cross-entropy, SGD, He
/// uniform weights and zero biases, shuffled every epoch. One iteration is
/// one epoch; throughput is in samples.
fn w2_digits<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let (train, test) = digits();
    let mut group = c.benchmark_group("W2_digits");
    group.throughput(Throughput::Elements(train.len() as u64));
    for (batch, lr) in [(1usize, 0.01), (32, 0.1)] {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut model = Mlp64::default();
        model.init_with(HeUniform, &mut rng);
        let config = Config { batch_size: batch, ..Config::default() };
        let mut trainer = Trainer::new(Sgd::new(lr), config);
        // The peers' check: 30 epochs, then the test accuracy.
        trainer.fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).epochs(30).run().unwrap();
        let accuracy = evaluate(&model, &SoftmaxCrossEntropy, &test).unwrap().accuracy.expect("the cost classifies");
        println!("W2 batch {batch}: test accuracy after 30 epochs {accuracy:.3}");
        let mut epoch = 31;
        group.bench_function(format!("batch{batch}"), |b| {
            b.iter(|| {
                epoch += 1;
                trainer.train_epoch(&mut model, &SoftmaxCrossEntropy, &train, &mut rng, &mut ()).unwrap()
            })
        });
    }
    group.finish();
}

/// W3: the 784-128-10 ReLU MLP on N(0, 1) inputs with random labels, SGD lr
/// 0.01, batch 32 and 64, shuffled every epoch. One iteration is one epoch
/// of `W3_SAMPLES` samples.
fn w3_mlp784<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let data: Vec<(Vector<f32, U784>, usize)> = (0..W3_SAMPLES)
        .map(|_| {
            let mut x = Vector::<f32, U784>::default();
            fill_normal(&mut x, 1.0, &mut rng);
            (x, rng.random_range(0..10))
        })
        .collect();
    let mut group = c.benchmark_group("W3_mlp784");
    group.throughput(Throughput::Elements(W3_SAMPLES as u64)).sample_size(10);
    for batch in [32usize, 64] {
        let mut model: Box<Mlp784> = default_box();
        model.init_with(HeUniform, &mut rng);
        let config = Config { batch_size: batch, ..Config::default() };
        let mut trainer = Trainer::<Mlp784, _, _>::boxed(Sgd::new(0.01), config);
        group.bench_function(format!("batch{batch}"), |b| {
            b.iter(|| trainer.train_epoch(&mut model, &SoftmaxCrossEntropy, &data, &mut rng, &mut ()).unwrap())
        });
    }
    group.finish();
}

/// W4: the small CNN on the digits as 1×8×8 images, softmax cross-entropy,
/// SGD lr 0.1, batch 32, shuffled every epoch. One iteration is one epoch;
/// throughput is in samples.
fn w4_cnn<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let (train, test) = digits();
    let image = |(x, class): &Digit| {
        let mut t = Tensor3::<f32, U1, U8, U8>::default();
        t.as_flat_mut().copy_from_slice(x.as_slice());
        (t, *class)
    };
    let (train, test): (Vec<_>, Vec<_>) = (train.iter().map(image).collect(), test.iter().map(image).collect());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut model = Cnn::default();
    model.init(&mut rng);
    let mut trainer = Trainer::new(Sgd::new(0.1), Config { batch_size: 32, ..Config::default() });
    // The peers' check: 10 epochs, then the test accuracy.
    trainer.fit(&mut model, &SoftmaxCrossEntropy, &train, &mut rng).epochs(10).run().unwrap();
    let accuracy = evaluate(&model, &SoftmaxCrossEntropy, &test).unwrap().accuracy.expect("the cost classifies");
    println!("W4 batch 32: test accuracy after 10 epochs {accuracy:.3}");
    let mut group = c.benchmark_group("W4_cnn");
    group.throughput(Throughput::Elements(train.len() as u64));
    let mut epoch = 11;
    group.bench_function("batch32", |b| {
        b.iter(|| {
            epoch += 1;
            trainer.train_epoch(&mut model, &SoftmaxCrossEntropy, &train, &mut rng, &mut ()).unwrap()
        })
    });
    group.finish();
}

/// W5: one forward pass of the W2 MLP on one digit.
fn w5_infer<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let (_, test) = digits();
    let mut model = Mlp64::default();
    model.init_with(HeUniform, &mut Xoshiro256PlusPlus::seed_from_u64(0));
    let x = test[0].0;
    c.bench_function("W5_infer", |b| b.iter(|| model.forward(black_box(&x))));
}

/// L1: the depthwise-separable convolutions alone at DS-CNN's sizes, a
/// block of 32 samples through one training forward and one backward pass
/// (input, weight and bias gradients): depthwise 3×3 (padding 1) on
/// 32×14×14 and 64×14×14 at stride 1 and on 32×14×14 at stride 2, and
/// pointwise 32 → 64 on 14×14 at strides 1 and 2. Throughput is in FLOPs
/// (2 per multiply-add of the forward pass, the weight gradient and the
/// input gradient; the bias gradient is not counted), so criterion's
/// "elem/s" reads as FLOP/s. PyTorch's side: `tools/bench/separable_torch.py`.
fn l1_separable<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let mut group = c.benchmark_group("L1_separable");
    // 3 passes × 2 FLOPs × products per sample × 32 samples.
    let depthwise = |c: u64, out: u64| 3 * 2 * c * 9 * out * out * 32;
    let pointwise = |out: u64| 3 * 2 * 32 * 64 * out * out * 32;
    type Image<C> = Tensor3<f32, C, U14, U14>;
    layer_block::<DepthwiseConv2d<U32, U3, U1, U1>, Image<U32>, M>(
        &mut group,
        "depthwise_s1_32x14x14",
        depthwise(32, 14),
    );
    layer_block::<DepthwiseConv2d<U64, U3, U1, U1>, Image<U64>, M>(
        &mut group,
        "depthwise_s1_64x14x14",
        depthwise(64, 14),
    );
    layer_block::<DepthwiseConv2d<U32, U3, U2, U1>, Image<U32>, M>(
        &mut group,
        "depthwise_s2_32x14x14",
        depthwise(32, 7),
    );
    layer_block::<Pointwise<U32, U64>, Image<U32>, M>(&mut group, "pointwise_s1_32to64_14x14", pointwise(14));
    layer_block::<Pointwise<U32, U64, U2>, Image<U32>, M>(&mut group, "pointwise_s2_32to64_14x14", pointwise(7));
    group.finish();
}

/// One [`l1_separable`] measurement: layer `L` on 32 random inputs `X`.
fn layer_block<L, X, M>(group: &mut BenchmarkGroup<'_, M>, name: &str, flops: u64)
where
    X: Tensor<Scalar = f32>,
    L: Train<X, Cache = ()> + Params<f32, Grads = L> + Default + Initialize,
    M: Measurement,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let mut layer = L::default();
    layer.init(&mut rng);
    let random = |rng: &mut Xoshiro256PlusPlus| {
        let mut t = X::default();
        t.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
        t
    };
    let xs: Vec<X> = (0..32).map(|_| random(&mut rng)).collect();
    let mut dys: Vec<L::Output> = (0..32).map(|_| L::Output::default()).collect();
    dys.iter_mut().for_each(|dy| dy.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0)));
    let mut ys: Vec<L::Output> = (0..32).map(|_| L::Output::default()).collect();
    let mut dxs: Vec<X> = (0..32).map(|_| X::default()).collect();
    let mut grads = L::default();
    group.throughput(Throughput::Elements(flops));
    group.bench_function(name, |b| {
        b.iter(|| {
            let xr: [&X; 32] = std::array::from_fn(|i| &xs[i]);
            let mut outs = ys.iter_mut();
            let yr: [&mut L::Output; 32] = std::array::from_fn(|_| outs.next().unwrap());
            layer.forward_train_block(32, xr, [(); 32].each_mut(), yr, &mut NoRng);
            let dyr: [&L::Output; 32] = std::array::from_fn(|i| &dys[i]);
            let mut ins = dxs.iter_mut();
            let dxr: [&mut X; 32] = std::array::from_fn(|_| ins.next().unwrap());
            layer.backward_block(32, xr, [(); 32].each_mut(), dyr, &mut grads, Some(dxr));
            black_box(&grads);
        })
    });
}

/// The thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), formatted as wall
/// time is.
struct ThreadCpuTime;

fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid `timespec` to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = Duration;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(thread_cpu_ns() - start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WallTime.formatter()
    }
}

/// W6's network, the DS-CNN of `examples/mnist_dscnn.rs` and of
/// `tools/mnist/README.md`: a strided 3×3 convolution, four
/// depthwise-separable blocks with batch norm, global average pooling.
type Separable<CI, CO, S> =
    net![DepthwiseConv2d<CI, U3, S, U1>, BatchNorm2d<CI>, Relu, Pointwise<CI, CO>, BatchNorm2d<CO>, Relu];
type DsCnn = net![
    Conv2d<U1, U32, U3, U2, U1>,
    BatchNorm2d<U32>,
    Relu,
    Separable<U32, U32, U1>,
    Separable<U32, U64, U2>,
    Separable<U64, U64, U1>,
    Separable<U64, U64, U1>,
    GlobalAvgPool,
    Dense<U64, U10>
];

/// The FLOPs of one W6 step of 32 samples, as `tools/bench/flops.py`
/// counts them: the multiply-adds (2 FLOPs each) of the convolutions and
/// the dense layer, forward, weight gradients and input gradients (none
/// for the first layer's input).
const W6_FLOPS_PER_STEP: u64 = 166_606_848;

/// W6: DS-CNN training on MNIST, one step being a batch of 32 digits of
/// 28×28 through the forward pass, the backward pass and the optimiser's
/// update, with SGD (lr 0.01) and with Adam (lr 1e-3). Throughput is in
/// FLOPs, so criterion's "elem/s" reads as FLOP/s. The peers:
/// `tools/bench/dscnn_torch.py` and `tools/bench/dscnn_jax.py`.
fn w6_dscnn<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k");
    let (images, labels) = (format!("{dir}/mnist10k-images.idx3-ubyte"), format!("{dir}/mnist10k-labels.idx1-ubyte"));
    let digits = typenet::data::load_idx::<U28, U28, f32>(&images, &labels, 10).expect("data/mnist10k");
    // 250 batches in turn, as the peers' epochs of 250 steps.
    let batches: Vec<_> = digits.chunks_exact(32).take(250).collect();
    let mut group = c.benchmark_group("W6_dscnn");
    group.throughput(Throughput::Elements(W6_FLOPS_PER_STEP));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
    let mut model = default_box::<DsCnn>();
    model.init_with(PyTorch, &mut rng);
    let mut sgd = Trainer::boxed(Sgd::new(0.01), Config::default());
    let mut turn = 0;
    group.bench_function("sgd_batch32", |b| {
        b.iter(|| {
            turn = (turn + 1) % batches.len();
            sgd.step(&mut *model, &SoftmaxCrossEntropy, black_box(batches[turn]), &mut rng).unwrap()
        })
    });
    let mut adam = Trainer::boxed(Adam::new(1e-3), Config::default());
    group.bench_function("adam_batch32", |b| {
        b.iter(|| {
            turn = (turn + 1) % batches.len();
            adam.step(&mut *model, &SoftmaxCrossEntropy, black_box(batches[turn]), &mut rng).unwrap()
        })
    });
    group.finish();
}

/// The digits CNN of `examples/digits_cnn.rs`, for Q1.
type DigitsCnn =
    net![Conv2d<U1, U8, U3, U1, U1>, Relu, MaxPool2d<U2>, Conv2d<U8, U16, U3>, Relu, Flatten, Dense<U64, U10>];

/// The multiply-adds of one inference: digits CNN (72·64 + 1,152·4 + 640)
/// and DS-CNN (conv 56,448, the
/// four separable blocks 257,152 + 114,464 + 228,928 + 228,928, dense 640).
const Q1_DIGITS_CNN_MACS: u64 = 9_856;
const Q1_DSCNN_MACS: u64 = 886_560;

/// Q1: int8 inference at batch 1 (one sample), the digits CNN and the
/// DS-CNN, converted by `typenet::quant` from randomly initialised
/// networks calibrated on 64 samples; beside them the `f32` forward pass of
/// the same networks. Throughput in multiply-adds, so "elem/s" reads as
/// MAC/s. The peer: `tools/bench/int8_litert.py` (LiteRT with XNNPACK, one
/// thread, the same architectures).
fn q1_int8<M: Measurement + 'static>(c: &mut Criterion<M>) {
    use typenet::quant;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut group = c.benchmark_group("Q1_int8");

    let mut cnn = DigitsCnn::default();
    cnn.init_with(HeUniform, &mut rng);
    let images: Vec<Tensor3<f32, U1, U8, U8>> = (0..64)
        .map(|_| {
            let mut x = Tensor3::<f32, U1, U8, U8>::default();
            x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(0.0..1.0));
            x
        })
        .collect();
    let int8 = quant::quantize(&cnn, &quant::calibrate(&cnn, &images)).expect("the digits CNN quantises");
    let x = int8.quantize_input(&images[0]);
    group.throughput(Throughput::Elements(Q1_DIGITS_CNN_MACS));
    group.bench_function("digits_cnn_int8", |b| b.iter(|| int8.forward(black_box(&x))));
    group.bench_function("digits_cnn_f32", |b| b.iter(|| cnn.forward(black_box(&images[0]))));

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k");
    let (images, labels) = (format!("{dir}/mnist10k-images.idx3-ubyte"), format!("{dir}/mnist10k-labels.idx1-ubyte"));
    let digits = typenet::data::load_idx::<U28, U28, f32>(&images, &labels, 10).expect("data/mnist10k");
    let mut dscnn = default_box::<DsCnn>();
    dscnn.init_with(PyTorch, &mut rng);
    let calibration = quant::calibrate(&*dscnn, digits.iter().take(64).map(|(x, _)| x));
    let mut int8 = default_box::<quant::QuantizedOf<DsCnn, Tensor3<f32, U1, U28, U28>>>();
    quant::quantize_into(&*dscnn, &calibration, &mut int8).expect("the DS-CNN quantises");
    let x = int8.quantize_input(&digits[0].0);
    group.throughput(Throughput::Elements(Q1_DSCNN_MACS));
    group.bench_function("dscnn_int8", |b| b.iter(|| int8.forward(black_box(&x))));
    group.bench_function("dscnn_f32", |b| b.iter(|| dscnn.forward(black_box(&digits[0].0))));
    group.finish();
}

fn run<M: Measurement + 'static>(mut c: Criterion<M>) {
    w1_xor(&mut c);
    w2_digits(&mut c);
    w3_mlp784(&mut c);
    w4_cnn(&mut c);
    w5_infer(&mut c);
    l1_separable(&mut c);
    w6_dscnn(&mut c);
    q1_int8(&mut c);
}

fn main() {
    let config = |c: Criterion| c.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    if std::env::var_os("TYPENET_BENCH_CPU_TIME").is_some() {
        run(config(Criterion::default()).with_measurement(ThreadCpuTime).configure_from_args());
    } else {
        run(config(Criterion::default()).configure_from_args());
    }
    Criterion::default().configure_from_args().final_summary();
}
