//! A NaN input reaches the loss through ReLU networks, as in PyTorch
//! (`nn.ReLU` keeps NaN): `evaluate` then reports a non-finite loss instead
//! of a finite one computed from zeros. The dense and convolution kernels
//! run their wide variants here (AVX-512, or AVX2 with
//! `TYPENET_KERNELS=avx2`), max pooling keeps NaN, and so does softmax
//! cross-entropy.

use typenet::prelude::*;

#[test]
fn evaluate_reports_a_nan_input_to_a_relu_mlp() {
    type Net = net![Dense<U2, U4>, Relu, Dense<U4, U1>];
    let mut net = Net::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
    let data = [(vector([1.0f32, 2.0]), vector([0.5f32])), (vector([f32::NAN, 2.0]), vector([0.5]))];
    let metrics = evaluate(&net, &Mse, &data).unwrap();
    assert!(metrics.loss.is_nan(), "{metrics:?}");
    assert!(evaluate(&net, &Mse, &data[..1]).unwrap().loss.is_finite());
}

#[test]
fn evaluate_reports_a_nan_pixel_through_conv_relu_and_pooling() {
    type Cnn = net![Conv2d<U1, U8, U3>, Relu, MaxPool2d<U2>, Flatten, Dense<U72, U10>, Relu, Dense<U10, U3>];
    let mut cnn = Cnn::default();
    cnn.init(&mut Xoshiro256PlusPlus::seed_from_u64(2));
    let mut image = Tensor3::<f32, U1, U8, U8>::default();
    image.as_flat_mut().iter_mut().enumerate().for_each(|(i, v)| *v = (i % 7) as f32 / 7.0 - 0.4);
    let clean = [(image, 1usize)];
    assert!(evaluate(&cnn, &SoftmaxCrossEntropy, &clean).unwrap().loss.is_finite());
    image[0][3][4] = f32::NAN;
    let metrics = evaluate(&cnn, &SoftmaxCrossEntropy, &[(image, 1)]).unwrap();
    assert!(metrics.loss.is_nan(), "{metrics:?}");
}

/// In `f64` too, and in the training forward pass of a block.
#[test]
fn relu_keeps_nan_in_f64_and_in_training() {
    let x = vector([f64::NAN, -1.0, 0.5]);
    let mut cache = ();
    let y = Relu.forward_train(&x, &mut cache, &mut NoRng);
    assert!(y[0].is_nan() && y[1..] == [0.0, 0.5], "{y:?}");
    assert_eq!(Relu.backward(&x, &mut cache, &vector([1.0; 3]), &mut ()).as_slice(), &[1.0, 0.0, 1.0]);
}

/// Binary cross-entropy clamps its logarithms at −100 as PyTorch does, but a
/// NaN probability stays NaN rather than becoming the floor's finite 100.
#[test]
fn bce_keeps_a_nan_probability() {
    type Net = net![Dense<U2, U1>, Sigmoid];
    let mut net = Net::default();
    net.init(&mut Xoshiro256PlusPlus::seed_from_u64(3));
    let data = [(vector([f32::NAN, 1.0]), vector([1.0f32]))];
    assert!(evaluate(&net, &Bce, &data).unwrap().loss.is_nan());
    // The floor still holds for a probability of exactly 0.
    assert_eq!(Bce.loss(&vector([0.0f32]), &vector([1.0])), 100.0);
}
