//! The layers and losses with a hyperparameter (`LeakyRelu`'s slope,
//! `Elu`'s α, `Huber`'s δ, `Dropout`'s rate) against PyTorch
//! (tools/fixtures/gen_hyper.py). The hyperparameter is kept in the
//! network's scalar, so `f64` matches PyTorch's `float64` to 1e-12 of
//! `max(1, |value|)` (with an `f32` slope, 0.01 was 0.009999999776 and the
//! outputs were off by 2e-8), and `f32` still matches to 1e-5.

#[path = "../fixtures/hyper.rs"]
mod fixtures;

use typenet::prelude::*;

use crate::parity::{deviation, load, tolerance};

/// An activation's inference and training forward and its backward pass
/// on a fixture's 16 inputs, against PyTorch's output and input gradient.
fn activation<T, L>(name: &str, layer: L, x: &[f64], dy: &[f64], y: &[f64], dx: &[f64])
where
    T: Scalar,
    L: Train<Vector<T, U16>, Output = Vector<T, U16>, Grads = ()>,
{
    let tolerance = tolerance::<T>();
    let x: Vector<T, U16> = load(x);
    let mut cache = Default::default();
    let got = layer.forward_train(&x, &mut cache, &mut NoRng);
    assert_eq!(got, layer.forward(&x), "{name}: training and inference forward differ");
    let got_dx = layer.backward(&x, &mut cache, &load(dy), &mut ());
    let worst = deviation(&got, y, name, tolerance).max(deviation(&got_dx, dx, name, tolerance));
    println!("{name} in {}: max deviation {worst:.2e}", T::NAME);
}

#[test]
fn leaky_relu_matches_pytorch_float64_on_negatives() {
    use fixtures::*;
    activation::<f64, _>("LeakyReLU()", LeakyRelu::default(), &LEAKY_X, &LEAKY_DY, &LEAKY_Y, &LEAKY_DX);
    activation::<f64, _>("LeakyReLU(0.2)", LeakyRelu::new(0.2), &LEAKY_02_X, &LEAKY_02_DY, &LEAKY_02_Y, &LEAKY_02_DX);
    activation::<f32, _>("LeakyReLU()", LeakyRelu::default(), &LEAKY_X, &LEAKY_DY, &LEAKY_Y, &LEAKY_DX);
    activation::<f32, _>("LeakyReLU(0.2)", LeakyRelu::new(0.2), &LEAKY_02_X, &LEAKY_02_DY, &LEAKY_02_Y, &LEAKY_02_DX);
}

#[test]
fn elu_matches_pytorch_float64() {
    use fixtures::*;
    activation::<f64, _>("ELU(0.7)", Elu::new(0.7), &ELU_X, &ELU_DY, &ELU_Y, &ELU_DX);
    activation::<f32, _>("ELU(0.7)", Elu::new(0.7), &ELU_X, &ELU_DY, &ELU_Y, &ELU_DX);
}

/// The cases, to the last bit: the slope is the `f64` 0.01,
/// Huber's loss the `f64` 0.3·(1 − 0.15) and dropout's scale the `f64` 1/0.7.
#[test]
fn f64_hyperparameters_are_the_f64_values() {
    assert_eq!(LeakyRelu::default().forward(&vector([-1.0f64]))[0], -0.01);
    assert_eq!(Elu::new(0.7).forward(&vector([-1.0f64]))[0], 0.7 * (-1.0f64).exp_m1());
    assert_eq!(Huber::new(0.3).loss(&vector([1.0f64]), &vector([0.0])), 0.3 * (1.0 - 0.5 * 0.3));
    let (x, mut mask, mut rng) = (vector([1.0f64; 16]), Default::default(), Xoshiro256PlusPlus::seed_from_u64(1));
    let y = Dropout::new(0.3).forward_train(&x, &mut mask, &mut rng);
    assert!(y.iter().any(|&v| v != 0.0) && y.iter().all(|&v| v == 0.0 || v == 1.0 / 0.7), "{y:?}");
}

#[test]
fn huber_loss_and_gradient_match_pytorch_float64() {
    use fixtures::*;
    fn run<T: Scalar>(huber: Huber<T>) {
        let (y, t): (Vector<T, U12>, Vector<T, U12>) = (load(&HUBER_Y), load(&HUBER_T));
        let mut grad = Vector::<T, U12>::default();
        let loss = huber.loss_grad(&y, &t, &mut grad);
        let worst = deviation(&[loss], &[HUBER_LOSS], "Huber loss", tolerance::<T>()).max(deviation(
            &grad,
            &HUBER_GRAD,
            "Huber gradient",
            tolerance::<T>(),
        ));
        assert_eq!(loss, huber.loss(&y, &t));
        println!("Huber(0.3) in {}: max deviation {worst:.2e}", T::NAME);
    }
    run(Huber::new(0.3f64));
    run(Huber::new(0.3f32));
}

/// Dropout keeps `1/(1 − p)` in the layer's scalar (PyTorch's `float64`
/// 1.4285714285714286 for p = 0.3, not the `f32` 1.4285714528998554), and
/// the elements both masks keep match PyTorch's output and gradient.
#[test]
fn dropout_keeps_pytorchs_float64_scale() {
    use fixtures::*;
    fn run<T: Scalar>(dropout: Dropout<T>) {
        let tolerance = tolerance::<T>();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(20);
        let x: Vector<T, U64> = load(&DROPOUT_X);
        let mut mask = Vector::<T, U64>::default();
        let y = dropout.forward_train(&x, &mut mask, &mut rng);
        let dx = dropout.backward(&x, &mut mask, &load(&DROPOUT_DY), &mut ());
        let kept: Vec<usize> = (0..64).filter(|&i| mask[i] != T::zero()).collect();
        assert!(kept.len() > 30 && kept.len() < 60, "{} kept of 64", kept.len());
        deviation(
            &kept.iter().map(|&i| mask[i]).collect::<Vec<_>>(),
            &[DROPOUT_SCALE; 64][..kept.len()],
            "scale",
            tolerance,
        );
        let both: Vec<usize> = kept.into_iter().filter(|&i| DROPOUT_Y[i] != 0.0).collect();
        assert!(both.len() > 20, "{} kept by both masks", both.len());
        let pick = |values: &Vector<T, U64>| both.iter().map(|&i| values[i]).collect::<Vec<_>>();
        let want = |values: &[f64; 64]| both.iter().map(|&i| values[i]).collect::<Vec<_>>();
        deviation(&pick(&y), &want(&DROPOUT_Y), "output", tolerance);
        deviation(&pick(&dx), &want(&DROPOUT_DX), "input gradient", tolerance);
    }
    run(Dropout::new(DROPOUT_P));
    run(Dropout::new(DROPOUT_P as f32));
    assert_eq!(DROPOUT_SCALE, 1.0 / 0.7);
}
