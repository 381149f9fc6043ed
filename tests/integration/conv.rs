//! Convolutions, pooling and flattening against PyTorch: outputs, input
//! gradients and parameter gradients on fixed weights and inputs, in `f32`
//! (to 1e-5) and `f64` (to 1e-12), relative to `max(1, |value|)`. The values
//! come from `tools/fixtures/gen_conv.py`.

#[path = "../fixtures/conv.rs"]
mod fixtures;

use fixtures::Case;
use typenet::prelude::*;

const F32_TOLERANCE: f64 = 1e-5;
const F64_TOLERANCE: f64 = 1e-12;

fn load<X: Tensor>(values: &[f64]) -> X {
    assert_eq!(values.len(), X::LEN, "fixture length");
    let mut x = X::default();
    x.as_flat_mut().iter_mut().zip(values).for_each(|(x, &v)| *x = Scalar::from_f64(v));
    x
}

fn flat_params<P: Params<T>, T: Scalar>(params: &P) -> std::vec::Vec<f64> {
    let mut flat = std::vec::Vec::new();
    params.visit(&mut |t| flat.extend(t.iter().map(|&v| Scalar::to_f64(v))));
    flat
}

/// The largest deviation of `got` from `want`, relative to `max(1, |want|)`.
fn deviation<T: Scalar>(got: &[T], want: &[f64], what: &str, tolerance: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let worst =
        got.iter().zip(want).map(|(&g, w)| (Scalar::to_f64(g) - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max);
    assert!(worst <= tolerance, "{what}: deviation {worst:e} from PyTorch above {tolerance:e}");
    worst
}

/// Loads `case` into a network `L` on input `X` (its parameters in visiting
/// order, which must be PyTorch's), runs the training forward and the
/// backward pass with `dy`, and compares everything with PyTorch.
fn compare<L, X>(name: &str, case: &Case) -> f64
where
    X: Tensor,
    L: Train<X> + Default,
{
    let tolerance = if <X::Scalar as Scalar>::BYTES == 4 { F32_TOLERANCE } else { F64_TOLERANCE };
    let mut layer = L::default();
    let mut k = 0;
    layer.visit_mut(&mut |t| {
        t.iter_mut().zip(&case.params[k..]).for_each(|(p, &v)| *p = Scalar::from_f64(v));
        k += t.len();
    });
    assert_eq!(k, case.params.len(), "parameter count");

    let x: X = load(case.x);
    let mut cache = Default::default();
    let y = layer.forward_train(&x, &mut cache, &mut NoRng);
    assert_eq!(y.as_flat(), layer.forward(&x).as_flat(), "training and inference forward differ");
    let mut grads = L::Grads::default();
    let dx = layer.backward(&x, &mut cache, &load(case.dy), &mut grads);

    let worst = [
        deviation(y.as_flat(), case.y, "output", tolerance),
        deviation(dx.as_flat(), case.dx, "input gradient", tolerance),
        deviation(&flat_params(&grads), case.grads, "parameter gradients", tolerance),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    std::println!("{name} in {}: max deviation {worst:.2e}", <X::Scalar as Scalar>::NAME);
    worst
}

/// Runs one case in `f32` and in `f64`: `both!(CASE, T => Layer, Input)`,
/// with `T` the scalar in the types.
macro_rules! both {
    ($case:ident, $layer:ident => $l:ty, $input:ty) => {{
        {
            type $layer = f32;
            compare::<$l, $input>(stringify!($case), &fixtures::$case);
        }
        {
            type $layer = f64;
            compare::<$l, $input>(stringify!($case), &fixtures::$case);
        }
    }};
}

#[test]
fn conv2d_matches_pytorch() {
    both!(CONV2D_S1_P1, T => Conv2d<U2, U3, U3, U1, U1, T>, Tensor3<T, U2, U5, U6>);
    both!(CONV2D_S2_P0, T => Conv2d<U2, U2, U3, U2, U0, T>, Tensor3<T, U2, U7, U6>);
    both!(CONV2D_S2_P1, T => Conv2d<U1, U2, U2, U2, U1, T>, Tensor3<T, U1, U5, U5>);
}

#[test]
fn conv1d_matches_pytorch() {
    both!(CONV1D_S1_P1, T => Conv1d<U2, U3, U3, U1, U1, T>, Matrix<T, U2, U7>);
    both!(CONV1D_S2_P1, T => Conv1d<U2, U2, U3, U2, U1, T>, Matrix<T, U2, U8>);
}

#[test]
fn max_pooling_matches_pytorch_ties_included() {
    both!(MAXPOOL_K2, T => MaxPool2d<U2>, Tensor3<T, U2, U5, U6>);
    both!(MAXPOOL_K3_S2, T => MaxPool2d<U3, U2>, Tensor3<T, U1, U7, U7>);
    both!(MAXPOOL_K2_S1, T => MaxPool2d<U2, U1>, Tensor3<T, U1, U4, U5>);
}

#[test]
fn average_pooling_matches_pytorch() {
    both!(AVGPOOL_K2, T => AvgPool2d<U2>, Tensor3<T, U2, U5, U6>);
    both!(AVGPOOL_K3_S2, T => AvgPool2d<U3, U2>, Tensor3<T, U1, U7, U7>);
    both!(GLOBAL_AVG, T => GlobalAvgPool, Tensor3<T, U3, U4, U5>);
}

#[test]
fn a_small_cnn_matches_pytorch_in_state_dict_order() {
    both!(
        SMALL_CNN,
        T => net![Conv2d<U1, U2, U3, U1, U1, T>, Relu, MaxPool2d<U2>, Flatten, Dense<U18, U3, T>],
        Tensor3<T, U1, U6, U6>
    );
}
