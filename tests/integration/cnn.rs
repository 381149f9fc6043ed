//! A 12-layer convolutional network on 1×16×16 images: its type builds,
//! forward and backward run, the whole chain passes the gradient check, and
//! a few steps of gradient descent fit one sample.

use typenet::check::{check_gradients, randomize};
use typenet::prelude::*;

/// 1×16×16 → 4×16×16 → 4×8×8 → 8×8×8 → 8×4×4 → 8×2×2 → 32 → 16 → 10.
type Cnn<T> = net![
    Conv2d<U1, U4, U3, U1, U1, T>, Relu, MaxPool2d<U2>,
    Conv2d<U4, U8, U3, U1, U1, T>, Relu, MaxPool2d<U2>,
    Conv2d<U8, U8, U3, U1, U0, T>, Relu, Flatten,
    Dense<U32, U16, T>, Relu, Dense<U16, U10, T>
];

type Image<T> = Tensor3<T, U1, U16, U16>;

const PARAMS: usize = (4 * 9 + 4) + (8 * 4 * 9 + 8) + (8 * 8 * 9 + 8) + (32 * 16 + 16) + (16 * 10 + 10);

/// A smooth test image with values in [-1, 1].
fn image<T: Scalar>() -> Image<T> {
    let mut x = Image::<T>::default();
    for (k, v) in x.as_flat_mut().iter_mut().enumerate() {
        let (i, j) = ((k / 16) as f64, (k % 16) as f64);
        *v = T::from_f64((0.7 * i).sin() * (0.45 * j + 0.3).cos());
    }
    x
}

#[test]
fn the_twelve_layer_cnn_runs_forward_and_backward() {
    assert_eq!(<Cnn<f32> as Chain>::LEN, 12);
    assert_eq!(<Cnn<f32> as Params<f32>>::COUNT, PARAMS);
    let layer_bytes = [4 * 9 + 4, 8 * 4 * 9 + 8, 8 * 8 * 9 + 8, 32 * 16 + 16, 16 * 10 + 10].map(|count| count * 4);
    let padded = |bytes: usize| bytes.next_multiple_of(typenet::memory::LAYER_ALIGN);
    assert_eq!(size_of::<Cnn<f32>>(), layer_bytes.into_iter().map(padded).sum::<usize>());
    typenum::assert_type_eq!(<Cnn<f32> as Layer<Image<f32>>>::Output, Vector<f32, U10>);

    let mut net = Cnn::<f32>::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
    let x = image::<f32>();
    let mut cache = Default::default();
    let y = net.forward_train(&x, &mut cache, &mut NoRng);
    assert_eq!(y, net.forward(&x));
    assert!(y.iter().all(|v| v.is_finite()) && y.iter().any(|&v| v != 0.0));

    let mut grads = <Cnn<f32> as Params<f32>>::Grads::default();
    let dx = net.backward(&x, &mut cache, &vector([1.0; 10]), &mut grads);
    assert!(dx.as_flat().iter().any(|&v| v != 0.0));
    // Every layer with parameters received a gradient.
    let mut nonzero = std::vec::Vec::new();
    grads.visit(&mut |g| nonzero.push(g.iter().any(|&v| v != 0.0)));
    assert_eq!(nonzero, [true; 10]);
}

#[test]
fn the_twelve_layer_cnn_passes_the_gradient_check() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let mut net = Cnn::<f64>::default();
    randomize(&mut net, &mut rng);
    let report = check_gradients(&mut net, &image::<f64>(), &mut rng);
    assert!(report.max_rel_error < 1e-6, "{report:?}");
    assert_eq!((report.inputs_checked, report.params_checked), (256, PARAMS));
}

#[test]
fn gradient_descent_fits_one_sample() {
    let mut net = Cnn::<f32>::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(3));
    let x = image::<f32>();
    let target = vector([1.0, -1.0, 0.5, 0.0, 0.0, 0.25, -0.5, 0.0, 1.0, 0.0]);
    let loss = |y: &Vector<f32, U10>| y.iter().zip(target.iter()).map(|(y, t)| (y - t) * (y - t)).sum::<f32>();
    let first = loss(&net.forward(&x));
    let mut cache = Default::default();
    for _ in 0..30 {
        let y = net.forward_train(&x, &mut cache, &mut NoRng);
        let mut dy = y;
        dy.iter_mut().zip(target.iter()).for_each(|(d, t)| *d = 2.0 * (*d - t));
        let mut grads = <Cnn<f32> as Params<f32>>::Grads::default();
        net.backward(&x, &mut cache, &dy, &mut grads);
        net.zip_mut([&mut grads], &mut |p, [g]| p.iter_mut().zip(g.iter()).for_each(|(p, g)| *p -= 0.05 * g));
    }
    let last = loss(&net.forward(&x));
    assert!(last < 0.1 * first, "loss {first} → {last}");
}
