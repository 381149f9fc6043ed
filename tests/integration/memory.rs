//! The `unsafe` outside the SIMD leaf, through the public API: values built
//! in place (`memory::default_in`, `default_box`, `reset`, a trainer's
//! `new_in` and `boxed`), and the flat views of tensors (`Tensor::as_flat`,
//! the kernels' views of blocks, int8 tensors). Small, so that `.ci/run`
//! runs them under Miri (with `TYPENET_KERNELS=portable`: no intrinsics),
//! which checks every access they make. (That the values built are the
//! defaults, every hyperparameter included, is `in_place.rs`'s subject.)

use core::mem::MaybeUninit;

use typenet::memory;
use typenet::prelude::*;
use typenet::quant::{self, Int8Tensor};

/// Every kind of hyperparameter and buffer with a default that is not zero.
type Net = net![
    Conv2d<U1, U2, U3, U1, U1>,
    BatchNorm2d<U2>,
    LeakyRelu,
    MaxPool2d<U2>,
    Flatten,
    Dense<U8, U3>,
    Elu,
    Dropout,
    Dense<U3, U2>
];

type Image = Tensor3<f32, U1, U4, U4>;

fn image(seed: f32) -> Image {
    let mut x = Image::default();
    x.as_flat_mut().iter_mut().enumerate().for_each(|(i, v)| *v = (i as f32 * 0.37 + seed).sin());
    x
}

#[test]
fn built_in_place_a_model_is_its_default() {
    let mut slot = MaybeUninit::<Net>::uninit();
    let net = memory::default_in(&mut slot);
    assert!(*net == Net::default());

    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
    net.layer_mut::<U1>().running_var[0] = 4.0;
    memory::reset(net);
    assert!(*net == Net::default());

    #[cfg(feature = "std")]
    {
        let boxed: Box<Net> = memory::default_box();
        assert!(*boxed == Net::default());
    }
}

#[test]
fn flat_views_are_row_major_and_write_through() {
    let mut t = Tensor3::<f64, U2, U2, U3>::default();
    t.as_flat_mut().iter_mut().enumerate().for_each(|(i, v)| *v = i as f64);
    assert_eq!(t[1][0][2], 8.0);
    assert_eq!(t.as_flat().len(), 12);
    t[1][1][0] = -1.0;
    assert_eq!(t.as_flat()[9], -1.0);

    let m: Matrix<f32, U2, U3> = matrix([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(m.as_flat(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let v = vector([7.0f32, 8.0]);
    assert_eq!(v.as_flat(), &[7.0, 8.0]);
}

#[test]
fn a_trainer_built_in_place_trains_through_the_flat_kernels() {
    let mut net = Net::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(2));
    let data = [(image(0.0), 1usize), (image(1.0), 0), (image(2.0), 1)];
    let config = Config { batch_size: 3, ..Config::default() };

    let mut slot = MaybeUninit::uninit();
    let trainer = Trainer::<Net, Image, Sgd>::new_in(&mut slot, Sgd::new(0.1), config);
    let before = net.clone();
    trainer.step(&mut net, &SoftmaxCrossEntropy, &data, &mut Xoshiro256PlusPlus::seed_from_u64(3)).unwrap();
    assert!(net != before, "a step changes the parameters");
    trainer.reset();

    #[cfg(feature = "std")]
    {
        let mut boxed = Trainer::<Net, Image, Momentum>::boxed(Momentum::new(0.1, 0.9), config);
        boxed.step(&mut net, &SoftmaxCrossEntropy, &data, &mut Xoshiro256PlusPlus::seed_from_u64(4)).unwrap();
        assert!(net.layer::<U8>().weight.as_flat().iter().all(|w| w.is_finite()));
    }
}

#[test]
fn int8_inference_reads_its_tensors_flat() {
    type Small = net![Conv2d<U1, U2, U3, U1, U1>, Relu, Flatten, Dense<U32, U3>];
    let mut net = Small::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(5));
    let images = [image(0.0), image(0.5), image(3.0)];
    let int8 = quant::quantize(&net, &quant::calibrate(&net, &images)).unwrap();
    let q = int8.quantize_input(&images[1]);
    assert_eq!(q.as_flat().len(), 16);
    let y = int8.forward(&q);
    let float = net.forward(&images[1]);
    for (a, b) in y.iter().zip(float.iter()) {
        assert!((int8.output.dequantize(*a) - b).abs() <= 4.0 * int8.output.scale);
    }
}
