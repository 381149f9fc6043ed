//! What the PyTorch comparisons share: loading fixture values into tensors
//! and parameters, the relative deviation with its tolerance (1e-5 in `f32`,
//! 1e-12 in `f64`, of `max(1, |value|)`), and the one-sample comparison of a
//! layer's outputs and gradients with a fixture case.

use typenet::prelude::*;

pub const F32_TOLERANCE: f64 = 1e-5;
pub const F64_TOLERANCE: f64 = 1e-12;

/// The tolerance for scalar `T`.
pub fn tolerance<T: Scalar>() -> f64 {
    if T::BYTES == 4 { F32_TOLERANCE } else { F64_TOLERANCE }
}

/// A tensor holding `values` (exactly its length).
pub fn load<X: Tensor>(values: &[f64]) -> X {
    assert_eq!(values.len(), X::LEN, "fixture length");
    let mut x = X::default();
    x.as_flat_mut().iter_mut().zip(values).for_each(|(x, &v)| *x = Scalar::from_f64(v));
    x
}

/// Writes `values` into the parameters in visiting order (PyTorch's).
pub fn set_params<P: Params<T>, T: Scalar>(params: &mut P, values: &[f64]) {
    let mut k = 0;
    params.visit_mut(&mut |t| {
        t.iter_mut().zip(&values[k..]).for_each(|(p, &v)| *p = Scalar::from_f64(v));
        k += t.len();
    });
    assert_eq!(k, values.len(), "parameter count");
}

/// The parameters (or gradients) in visiting order, as `f64`.
pub fn flat_params<P: Params<T>, T: Scalar>(params: &P) -> Vec<f64> {
    let mut flat = Vec::new();
    params.visit(&mut |t| flat.extend(t.iter().map(|&v| Scalar::to_f64(v))));
    flat
}

/// The largest deviation of `got` from `want`, relative to `max(1, |want|)`.
pub fn deviation<T: Scalar>(got: &[T], want: &[f64], what: &str, tolerance: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let worst =
        got.iter().zip(want).map(|(&g, w)| (Scalar::to_f64(g) - w).abs() / w.abs().max(1.0)).fold(0.0, f64::max);
    assert!(worst <= tolerance, "{what}: deviation {worst:e} from PyTorch above {tolerance:e}");
    worst
}

/// One sample as PyTorch ran it: the input, dL/dy, the parameters in
/// `state_dict` order, and the output and gradients it found. Each fixture
/// file has its own `Case` with these fields; `reference!` reads one.
pub struct Reference<'a> {
    pub x: &'a [f64],
    pub dy: &'a [f64],
    pub params: &'a [f64],
    pub y: &'a [f64],
    pub dx: &'a [f64],
    pub grads: &'a [f64],
}

/// The [`Reference`] in a fixture's `Case`.
macro_rules! reference {
    ($case:expr) => {{
        let case = &$case;
        $crate::parity::Reference {
            x: case.x,
            dy: case.dy,
            params: case.params,
            y: case.y,
            dx: case.dx,
            grads: case.grads,
        }
    }};
}
pub(crate) use reference;

/// Loads `case` into `L` on input `X`, runs the training forward and the
/// backward pass with `dy` (into input-gradient slots holding stale values,
/// which must be overwritten), and compares everything with PyTorch.
pub fn compare<L, X>(name: &str, case: Reference) -> f64
where
    X: Tensor,
    L: Train<X> + Default,
{
    let tolerance = tolerance::<X::Scalar>();
    let mut layer = L::default();
    set_params(&mut layer, case.params);
    let x: X = load(case.x);
    let mut cache = Default::default();
    let y = layer.forward_train(&x, &mut cache, &mut NoRng);
    assert_eq!(y.as_flat(), layer.forward(&x).as_flat(), "{name}: training and inference forward differ");
    let mut grads = L::Grads::default();
    let mut dx = X::default();
    dx.as_flat_mut().fill(Scalar::from_f64(7.5));
    layer.backward_block(1, [&x], [&mut cache], [&load(case.dy)], &mut grads, Some([&mut dx]));
    let worst = [
        deviation(y.as_flat(), case.y, "output", tolerance),
        deviation(dx.as_flat(), case.dx, "input gradient", tolerance),
        deviation(&flat_params(&grads), case.grads, "parameter gradients", tolerance),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    println!("{name} in {}: max deviation {worst:.2e}", <X::Scalar as Scalar>::NAME);
    worst
}

/// Runs fixture case `CASE` (from the calling file's `fixtures` module) in
/// `f32` and in `f64`: `both!(CASE, T => Layer, Input)`, with `T` the scalar
/// in the types.
macro_rules! both {
    ($case:ident, $t:ident => $l:ty, $input:ty) => {{
        {
            type $t = f32;
            $crate::parity::compare::<$l, $input>(stringify!($case), $crate::parity::reference!(fixtures::$case));
        }
        {
            type $t = f64;
            $crate::parity::compare::<$l, $input>(stringify!($case), $crate::parity::reference!(fixtures::$case));
        }
    }};
}
pub(crate) use both;
