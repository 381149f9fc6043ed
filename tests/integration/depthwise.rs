//! Depthwise and pointwise convolutions against PyTorch (outputs, input
//! gradients and parameter gradients on fixed weights and inputs, in `f32`
//! to 1e-5 and `f64` to 1e-12, relative to `max(1, |value|)`; the values
//! come from `tools/fixtures/gen_depthwise.py`), the pointwise fast path
//! against the general convolution, blocks against single samples, and a
//! depthwise-separable network that trains.

#[path = "../fixtures/depthwise.rs"]
mod fixtures;

use typenet::check::{check_gradients, randomize};
use typenet::prelude::*;

use crate::parity::{both, flat_params};

#[test]
fn depthwise_matches_pytorch() {
    both!(DW_S1_P1, T => DepthwiseConv2d<U3, U3, U1, U1, U1, T>, Tensor3<T, U3, U5, U6>);
    both!(DW_S1_P0, T => DepthwiseConv2d<U3, U3, U1, U0, U1, T>, Tensor3<T, U3, U5, U6>);
    both!(DW_S2_P1, T => DepthwiseConv2d<U3, U3, U2, U1, U1, T>, Tensor3<T, U3, U7, U6>);
    both!(DW_S2_P0, T => DepthwiseConv2d<U2, U3, U2, U0, U1, T>, Tensor3<T, U2, U7, U8>);
    both!(DW_K5_S2_P2, T => DepthwiseConv2d<U2, U5, U2, U2, U1, T>, Tensor3<T, U2, U9, U8>);
}

#[test]
fn depthwise_with_a_channel_multiplier_matches_pytorch() {
    both!(DW_S1_P1_M2, T => DepthwiseConv2d<U2, U3, U1, U1, U2, T>, Tensor3<T, U2, U5, U6>);
    both!(DW_S2_P1_M2, T => DepthwiseConv2d<U2, U3, U2, U1, U2, T>, Tensor3<T, U2, U6, U7>);
    both!(DW_K2_S3_P1_M3, T => DepthwiseConv2d<U1, U2, U3, U1, U3, T>, Tensor3<T, U1, U7, U8>);
}

#[test]
fn pointwise_matches_pytorch() {
    both!(PW_S1, T => Pointwise<U3, U4, U1, T>, Tensor3<T, U3, U5, U6>);
    both!(PW_S2, T => Pointwise<U3, U5, U2, T>, Tensor3<T, U3, U7, U6>);
}

#[test]
fn a_depthwise_separable_network_matches_pytorch_in_state_dict_order() {
    both!(
        SEPARABLE,
        T => net![
            DepthwiseConv2d<U2, U3, U1, U1, U1, T>,
            Relu,
            Pointwise<U2, U4, U1, T>,
            Relu,
            DepthwiseConv2d<U4, U3, U2, U1, U1, T>,
            Relu,
            Pointwise<U4, U3, U1, T>
        ],
        Tensor3<T, U2, U6, U6>
    );
}

/// The pointwise fast path (`Pointwise`, padding 0) against the general
/// convolution (`Conv2d` with a 1×1 kernel and padding 1, which takes the
/// wide-row kernel): in `f32`, over a block of 7 samples, the padded
/// output's interior is the pointwise output, and with the output
/// gradient zero on the border every gradient is the same.
#[test]
fn the_pointwise_fast_path_equals_the_general_convolution() {
    type Fast = Pointwise<U6, U10>;
    type General = Conv2d<U6, U10, U1, U1, U1>;
    type In = Tensor3<f32, U6, U9, U11>;
    type Out = Tensor3<f32, U10, U9, U11>;
    type Padded = Tensor3<f32, U10, U11, U13>;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let mut fast = Fast::default();
    fast.init(&mut rng);
    let general = General::new(fast.weight, fast.bias);
    let xs: Vec<In> = (0..7).map(|_| random(&mut rng)).collect();
    let dys: Vec<Out> = (0..7).map(|_| random(&mut rng)).collect();
    let padded_dys: Vec<Padded> = dys
        .iter()
        .map(|dy| {
            let mut p = Padded::default();
            for (o, plane) in dy.iter().enumerate() {
                for (i, row) in plane.iter().enumerate() {
                    p[o][i + 1][1..12].copy_from_slice(row);
                }
            }
            p
        })
        .collect();
    let (mut ys, mut ps) = (vec![Out::default(); 7], vec![Padded::default(); 7]);
    let (mut dxs, mut pdxs) = (vec![In::default(); 7], vec![In::default(); 7]);
    let (mut g_fast, mut g_general) = (Fast::default(), General::default());
    let xr: [&In; 7] = std::array::from_fn(|i| &xs[i]);
    fast.forward_train_block(7, xr, [(); 7].each_mut(), as_mut(&mut ys), &mut NoRng);
    general.forward_train_block(7, xr, [(); 7].each_mut(), as_mut(&mut ps), &mut NoRng);
    let dyr: [&Out; 7] = std::array::from_fn(|i| &dys[i]);
    let pdyr: [&Padded; 7] = std::array::from_fn(|i| &padded_dys[i]);
    fast.backward_block(7, xr, [(); 7].each_mut(), dyr, &mut g_fast, Some(as_mut(&mut dxs)));
    general.backward_block(7, xr, [(); 7].each_mut(), pdyr, &mut g_general, Some(as_mut(&mut pdxs)));
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * (1.0 + a.abs());
    for (y, p) in ys.iter().zip(&ps) {
        for (o, plane) in y.iter().enumerate() {
            for (i, row) in plane.iter().enumerate() {
                assert!(row.iter().zip(&p[o][i + 1][1..12]).all(|(&a, &b)| close(a, b)), "output [{o}][{i}]");
            }
        }
    }
    for (a, b) in dxs.iter().zip(&pdxs) {
        assert!(a.as_flat().iter().zip(b.as_flat()).all(|(&a, &b)| close(a, b)), "input gradient");
    }
    let (a, b) = (flat_params(&g_fast), flat_params(&g_general));
    assert!(a.iter().zip(&b).all(|(&a, &b)| (a - b).abs() <= 1e-4 * (1.0 + a.abs())), "parameter gradients");
}

fn random<X: Tensor<Scalar = f32>>(rng: &mut Xoshiro256PlusPlus) -> X {
    let mut x = X::default();
    x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
    x
}

fn as_mut<X, const N: usize>(v: &mut [X]) -> [&mut X; N] {
    let mut it = v.iter_mut();
    std::array::from_fn(|_| it.next().expect("enough values"))
}

type Separable<T> = net![
    DepthwiseConv2d<U2, U3, U1, U1, U2, T>,
    Relu,
    Pointwise<U4, U6, U1, T>,
    Relu,
    DepthwiseConv2d<U6, U3, U2, U1, U1, T>,
    Pointwise<U6, U3, U2, T>
];

/// The whole network's gradients in `f64` against finite differences,
/// over a block of 3 samples.
#[test]
fn a_separable_network_passes_the_gradient_check() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    let mut net = Separable::<f64>::default();
    randomize(&mut net, &mut rng);
    let mut x = Tensor3::<f64, U2, U7, U8>::default();
    x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
    let report = check_gradients(&mut net, &x, &mut rng);
    assert!(report.max_rel_error < 1e-6, "{report:?}");
    assert_eq!(report.params_checked, <Separable<f64> as Params<f64>>::COUNT);
}

/// A block through the network (the Trainer's path) gives each sample's
/// output and input gradient as a block of one does, in `f32`.
#[test]
fn blocks_of_a_separable_network_agree_with_samples() {
    type In = Tensor3<f32, U2, U7, U8>;
    type Out = Tensor3<f32, U3, U2, U2>;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let mut net = Separable::<f32>::default();
    net.init(&mut rng);
    let xs: Vec<In> = (0..6).map(|_| random(&mut rng)).collect();
    let dys: Vec<Out> = (0..6).map(|_| random(&mut rng)).collect();
    let mut caches: Vec<_> = (0..6).map(|_| Default::default()).collect();
    let (mut ys, mut dxs) = (vec![Out::default(); 6], vec![In::default(); 6]);
    let xr: [&In; 6] = std::array::from_fn(|i| &xs[i]);
    net.forward_train_block(6, xr, as_mut(&mut caches), as_mut(&mut ys), &mut NoRng);
    let mut block = <Separable<f32> as Params<f32>>::Grads::default();
    let dyr: [&Out; 6] = std::array::from_fn(|i| &dys[i]);
    net.backward_block(6, xr, as_mut(&mut caches), dyr, &mut block, Some(as_mut(&mut dxs)));
    let mut each = <Separable<f32> as Params<f32>>::Grads::default();
    let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| (a - b).abs() <= 1e-5 * (1.0 + a.abs()));
    for b in 0..6 {
        let mut cache = Default::default();
        let y = net.forward_train(&xs[b], &mut cache, &mut NoRng);
        assert!(close(y.as_flat(), ys[b].as_flat()), "output {b}");
        let dx = net.backward(&xs[b], &mut cache, &dys[b], &mut each);
        assert!(close(dx.as_flat(), dxs[b].as_flat()), "input gradient {b}");
    }
    assert!(close(
        &flat_params(&each).iter().map(|&v| v as f32).collect::<Vec<_>>(),
        &flat_params(&block).iter().map(|&v| v as f32).collect::<Vec<_>>()
    ));
}

/// A small depthwise-separable classifier learns to tell a bright top half
/// from a bright bottom half through the Trainer.
#[test]
fn a_separable_network_trains() {
    type Net = net![
        Conv2d<U1, U4, U3, U1, U1>,
        Relu,
        DepthwiseConv2d<U4, U3, U2, U1>,
        Relu,
        Pointwise<U4, U8>,
        Relu,
        GlobalAvgPool,
        Dense<U8, U2>
    ];
    type Image = Tensor3<f32, U1, U8, U8>;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let data: Vec<(Image, usize)> = (0..64)
        .map(|i| {
            let class = i % 2;
            let mut x: Image = random(&mut rng);
            x[0].iter_mut().skip(4 * class).take(4).for_each(|row| row.iter_mut().for_each(|v| *v += 2.0));
            (x, class)
        })
        .collect();
    let mut net = Net::default();
    net.init(&mut rng);
    let mut trainer = Trainer::new(Adam::new(0.01), Config { batch_size: 16, ..Config::default() });
    let before = evaluate(&net, &SoftmaxCrossEntropy, &data).unwrap();
    trainer.fit(&mut net, &SoftmaxCrossEntropy, &data, &mut rng).epochs(30).run().unwrap();
    let after = evaluate(&net, &SoftmaxCrossEntropy, &data).unwrap();
    assert!(after.loss < 0.5 * before.loss && after.accuracy > Some(0.95), "{before:?} → {after:?}");
}
