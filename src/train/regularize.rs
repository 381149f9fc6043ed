//! Penalties and gradient clipping.

use crate::layer::Params;
use crate::scalar::Scalar;

/// The L1 and L2 penalty of `params`: `l1·Σ|θ| + l2/2·Σθ²`.
///
/// ```
/// use typenet::prelude::*;
/// let d = Dense::<U1, U1, f64>::new(matrix([[2.0]]), vector([-1.0]));
/// assert_eq!(typenet::train::penalty(&d, 0.5, 0.0), 0.5 * 3.0);
/// assert_eq!(typenet::train::penalty(&d, 0.0, 0.5), 0.25 * 5.0);
/// ```
pub fn penalty<P: Params<T>, T: Scalar>(params: &P, l1: f64, l2: f64) -> f64 {
    let (mut abs, mut squares) = (0.0, 0.0);
    params.visit(&mut |t| {
        for &p in t {
            let p = p.to_f64();
            abs += p.abs();
            squares += p * p;
        }
    });
    l1 * abs + l2 / 2.0 * squares
}

/// Adds the penalties' gradients `l1·sign(θ) + l2·θ` into `grads` and
/// returns the penalty (0, touching nothing, when both are 0).
#[inline]
pub(super) fn add_penalty<P: Params<T>, T: Scalar>(params: &mut P, grads: &mut P::Grads, l1: f64, l2: f64) -> f64 {
    if l1 == 0.0 && l2 == 0.0 {
        return 0.0;
    }
    let value = penalty(params, l1, l2);
    let (l1, l2) = (T::from_f64(l1), T::from_f64(l2));
    params.zip_mut([grads], &mut |p, [g]| {
        for (&p, g) in p.iter().zip(g.iter_mut()) {
            let sign = if p > T::zero() {
                T::one()
            } else if p < T::zero() {
                -T::one()
            } else {
                T::zero()
            };
            *g = *g + l1 * sign + l2 * p;
        }
    });
    value
}

/// The global L2 norm of all gradients, `√Σg²` (in `f64`).
#[inline]
pub fn grad_norm<G: Params<T>, T: Scalar>(grads: &G) -> f64 {
    let mut squares = 0.0;
    grads.visit(&mut |t| squares += T::sum_squares(t));
    libm::sqrt(squares)
}

/// Rescales `grads` so their global L2 norm is at most `max_norm`
/// (PyTorch's `clip_grad_norm_`); returns the norm before clipping.
///
/// ```
/// use typenet::prelude::*;
/// let mut g = Dense::<U1, U1, f64>::new(matrix([[3.0]]), vector([4.0]));
/// assert_eq!(typenet::train::clip_grad_norm(&mut g, 1.0), 5.0);
/// assert!((g.weight[0][0] - 0.6).abs() < 1e-6 && (g.bias[0] - 0.8).abs() < 1e-6);
/// ```
#[inline]
pub fn clip_grad_norm<G: Params<T>, T: Scalar>(grads: &mut G, max_norm: f64) -> f64 {
    let norm = grad_norm(grads);
    if norm.is_finite() && norm > max_norm {
        // PyTorch adds 1e-6 to the norm in the same place.
        let scale = T::from_f64(max_norm / (norm + 1e-6));
        grads.visit_mut(&mut |t| t.iter_mut().for_each(|g| *g = *g * scale));
    }
    norm
}
