//! The element-wise kernels, portable: `eˣ` in `f32` and in place,
//! `Σ v²`, and the dot product of the recurrent gates. (The x86
//! leaf has wide variants of `Σ v²` and of softmax cross-entropy.)

use crate::scalar::Scalar;

/// `eˣ` for `x ≤ 88` in `f32` within 2 ulp (Cephes' `expf` polynomial),
/// with no branch or call, so loops of it vectorise. `NaN` stays `NaN`;
/// below −87 (where `eˣ` is under 1.7·10⁻³⁸) it returns 0.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let low = x < -87.0;
    let xc = if low { -87.0 } else { x };
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1)
        * r
        + 0.5;
    let y = p * z + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if low { 0.0 } else { y * scale }
}

/// `Σ v²` in `T`, in eight lanes.
#[inline]
pub(crate) fn sum_squares_portable<T: Scalar>(values: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (s, &v) in lanes.iter_mut().zip(chunk) {
            *s = *s + v * v;
        }
    }
    for (s, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *s = *s + v * v;
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    ((a + e) + (c + g)) + ((b + f) + (d + h))
}

/// `eˣ` in place in `f32`, sixteen at a time through a padded buffer, so
/// the compiler sees a full register's worth whatever the length.
#[inline(always)]
pub(crate) fn exp_in_place_f32(values: &mut [f32]) {
    for chunk in values.chunks_mut(16) {
        let mut lanes = [0.0f32; 16];
        lanes[..chunk.len()].copy_from_slice(chunk);
        for v in &mut lanes {
            *v = exp_f32(*v);
        }
        chunk.copy_from_slice(&lanes[..chunk.len()]);
    }
}

/// `eˣ` in place in `f64`, by the platform's `exp`.
#[inline]
pub(crate) fn exp_in_place_f64(values: &mut [f64]) {
    values.iter_mut().for_each(|v| *v = num_traits::Float::exp(*v));
}

/// `Σ a[i]·b[i]` over the shorter of the two, one term at a time.
#[inline]
pub(crate) fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |acc, (&x, &y)| acc + x * y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernels;
    use std::vec::Vec;

    #[test]
    fn sum_squares_matches_a_plain_sum() {
        for len in [5, 37, 100, 1000] {
            let v: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 3.0).collect();
            let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
            assert!((f64::from(f32::sum_squares(&v)) - plain).abs() < 1e-6 * plain, "{len}");
            assert!((f64::from(sum_squares_portable(&v)) - plain).abs() < 1e-6 * plain, "{len}");
        }
        // Long enough for the AVX-512 variant's blocks, and tiny values
        // whose squares are subnormal in f32.
        for scale in [1.0f32, 1e-17] {
            let v: Vec<f32> = (0..5000).map(|i| ((i % 97) as f32 * 0.37 - 15.0) * scale).collect();
            let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
            assert!((f64::from(f32::sum_squares(&v)) - plain).abs() < 1e-5 * plain, "scale {scale}");
        }
        // Squares past f32's range: infinite (grad_norm rescales).
        assert_eq!(f32::sum_squares(&[1e20f32; 100]), f32::INFINITY);
    }

    #[test]
    fn exp_f32_is_within_two_ulp() {
        let mut worst = 0.0f64;
        for k in 0..=200_000 {
            let x = -87.0 + 175.0 * k as f32 / 200_000.0;
            let exact = libm::exp(x as f64);
            let error = (exp_f32(x) as f64 - exact).abs() / exact;
            worst = worst.max(error);
        }
        assert!(worst < 2.0 * f32::EPSILON as f64 / 2.0 * 2.0, "max relative error {worst:e}");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
    }
}
