//! Penalties and gradient clipping, in the model's scalar.

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
pub fn penalty<P: Params<T>, T: Scalar>(params: &P, l1: T, l2: T) -> T {
    let (mut abs, mut squares) = (T::zero(), T::zero());
    params.visit(&mut |t| {
        for &p in t {
            abs = abs + p.abs();
        }
        squares = squares + T::sum_squares(t);
    });
    l1 * abs + l2 / T::from_usize(2) * squares
}

/// Adds the penalties' gradients `l1·sign(θ) + l2·θ` into `grads` and
/// returns the penalty (0, touching nothing, when both are 0).
#[inline]
pub(super) fn add_penalty<P: Params<T>, T: Scalar>(params: &mut P, grads: &mut P::Grads, l1: T, l2: T) -> T {
    if l1 == T::zero() && l2 == T::zero() {
        return T::zero();
    }
    let value = penalty(params, l1, l2);
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

/// The global L2 norm of all gradients, `√Σg²`, in their scalar.
///
/// The squares are summed as they are; when that sum leaves the range
/// where it is accurate (it overflows, in `f32` once a gradient passes
/// about 1.8·10¹⁹, or falls among the subnormal numbers), the norm is
/// taken again with every gradient divided by the largest magnitude
/// first, as LAPACK's `nrm2` does. So the norm is infinite only when a
/// gradient is, or when the norm itself is past the type's range.
///
/// ```
/// use typenet::prelude::*;
/// let g = Dense::<U1, U1>::new(matrix([[3e30]]), vector([4e30]));
/// assert_eq!(typenet::train::grad_norm(&g), 5e30);
/// ```
#[inline]
pub fn grad_norm<G: Params<T>, T: Scalar>(grads: &G) -> T {
    let mut squares = T::zero();
    grads.visit(&mut |t| squares = squares + T::sum_squares(t));
    // Below this the sum has lost precision to subnormal squares.
    let accurate_from = T::min_positive_value() / T::epsilon();
    if squares.is_finite() && squares >= accurate_from {
        return T::square_root(squares);
    }
    rescaled_norm(grads)
}

/// `grad_norm` for sums out of range: `m·√Σ(g/m)²`, `m = max |g|`.
#[cold]
#[inline(never)]
fn rescaled_norm<G: Params<T>, T: Scalar>(grads: &G) -> T {
    let mut largest = T::zero();
    grads.visit(&mut |t| {
        for &g in t {
            // `NaN` wins: `max` would drop it.
            largest = if g.abs() > largest || g.is_nan() { g.abs() } else { largest };
        }
    });
    if !largest.is_finite() || largest == T::zero() {
        return largest;
    }
    let mut squares = T::zero();
    grads.visit(&mut |t| {
        for &g in t {
            let g = g / largest;
            squares = squares + g * g;
        }
    });
    largest * T::square_root(squares)
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
pub fn clip_grad_norm<G: Params<T>, T: Scalar>(grads: &mut G, max_norm: T) -> T {
    let norm = grad_norm(grads);
    if norm.is_finite() && norm > max_norm {
        // PyTorch adds 1e-6 to the norm in the same place.
        let scale = max_norm / (norm + T::from_f64(1e-6));
        grads.visit_mut(&mut |t| t.iter_mut().for_each(|g| *g = *g * scale));
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn norms_out_of_the_sums_range_are_rescaled() {
        // Squares overflow f32; the norm does not.
        let g = Dense::<U2, U1>::new(matrix([[3e20, 0.0]]), vector([4e20]));
        assert_eq!(grad_norm(&g), 5e20);
        // Squares are subnormal (or zero) in f32; the norm is not.
        let g = Dense::<U2, U1>::new(matrix([[3e-25, 0.0]]), vector([4e-25]));
        assert!((grad_norm(&g) / 5e-25 - 1.0).abs() < 1e-6);
        // A norm past f32's range is infinite; NaN stays NaN.
        let g = Dense::<U2, U1>::new(matrix([[3e38, 3e38]]), vector([0.0]));
        assert_eq!(grad_norm(&g), f32::INFINITY);
        let g = Dense::<U2, U1>::new(matrix([[1e30, f32::NAN]]), vector([0.0]));
        assert!(grad_norm(&g).is_nan());
        let g = Dense::<U2, U1>::new(matrix([[f32::INFINITY, 1.0]]), vector([0.0]));
        assert_eq!(grad_norm(&g), f32::INFINITY);
        assert_eq!(grad_norm(&Dense::<U2, U1>::default()), 0.0);
    }
}
