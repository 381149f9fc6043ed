//! TFLite's fixed-point arithmetic: a real multiplier as a 32-bit integer
//! and a shift, and the two roundings that apply it.
//!
//! An int8 layer accumulates in `i32` at the scale `s_in · s_w` and must
//! produce a value at the scale `s_out`: it multiplies the accumulator by the
//! real number `s_in · s_w / s_out`. Integer-only code holds that number as
//! `multiplier · 2^(shift − 31)`, with `multiplier` in `[2³⁰, 2³¹)`, and
//! applies it with a rounding doubling high multiply and a rounding right
//! shift, exactly as TFLite's reference kernels do
//! (`tensorflow/lite/kernels/internal/common.h`,
//! `quantization_util.cc`), so the results agree bit for bit.
//!
//! ```
//! use typenet::quant::Requantize;
//!
//! // 0.3 as a fixed-point multiplier: 0.6 · 2^-1.
//! let r = Requantize::from_real(0.3);
//! assert_eq!((r.multiplier, r.shift), (1_288_490_189, -1));
//! assert_eq!(r.apply(1000), 300);
//! assert_eq!((r.apply(5), r.apply(-5)), (2, -2)); // ±1.5 rounds away from zero
//! ```

/// A real multiplier `m > 0` as TFLite stores it: `multiplier · 2^(shift − 31)`.
///
/// Built on the host from the scales ([`Requantize::from_real`], which
/// computes in `f64` as TFLite does) and applied on the device with integers
/// alone ([`Requantize::apply`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requantize {
    /// The mantissa in Q0.31, in `[2³⁰, 2³¹)` (0 for a multiplier of 0).
    pub multiplier: i32,
    /// The power of two: positive shifts left, negative right.
    pub shift: i32,
}

crate::zeroable!(impl[] for Requantize { multiplier: i32, shift: i32 });

impl Requantize {
    /// TFLite's `QuantizeMultiplier`: splits `real` into a Q0.31 mantissa
    /// (rounded half away from zero) and a power of two. A multiplier that
    /// would need a shift below −31 is flushed to zero, as TFLite does.
    ///
    /// `real` must be finite and not negative; scales are.
    ///
    /// ```
    /// use typenet::quant::Requantize;
    /// assert_eq!(Requantize::from_real(1.0), Requantize { multiplier: 1 << 30, shift: 1 });
    /// assert_eq!(Requantize::from_real(0.0), Requantize { multiplier: 0, shift: 0 });
    /// ```
    pub fn from_real(real: f64) -> Requantize {
        if real == 0.0 || !real.is_finite() {
            return Requantize::default();
        }
        let (mantissa, mut shift) = frexp(real);
        // `mantissa · 2³¹` lies in [2³⁰, 2³¹]: adding a half and truncating
        // rounds half away from zero, as `std::round` does, exactly (the sum
        // needs 33 bits of the 53 an f64 has).
        let mut fixed = (mantissa * (1u64 << 31) as f64 + 0.5) as i64;
        if fixed == 1 << 31 {
            fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            return Requantize::default();
        }
        Requantize { multiplier: fixed as i32, shift }
    }

    /// TFLite's `MultiplyByQuantizedMultiplier`: `acc · multiplier ·
    /// 2^(shift − 31)`, rounded as the reference kernels round: the doubling
    /// high multiply rounds ties up, the right shift rounds ties away from
    /// zero.
    ///
    /// ```
    /// use typenet::quant::Requantize;
    /// let half = Requantize::from_real(0.5);
    /// // ±1.5: the doubling high multiply rounds ties up, as TFLite's does.
    /// assert_eq!([half.apply(3), half.apply(-3), half.apply(4)], [2, -1, 2]);
    /// ```
    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        let left = if self.shift > 0 { self.shift } else { 0 };
        let right = if self.shift > 0 { 0 } else { -self.shift };
        rounding_divide_by_pot(
            saturating_rounding_doubling_high_mul(acc.wrapping_shl(left as u32), self.multiplier),
            right,
        )
    }

    /// TFLite's int8 output stage: the accumulator requantised, plus the
    /// output zero point, clamped to the fused activation's bounds. What
    /// every int8 layer does last, and the kernels repeat to the bit.
    ///
    /// ```
    /// use typenet::quant::{Clamp, Requantize};
    /// let half = Requantize::from_real(0.5);
    /// assert_eq!(half.output(300, -10, Clamp::default()), 127); // 150 − 10 saturates
    /// assert_eq!(half.output(-20, -10, Clamp { min: -10, max: 127 }), -10); // a fused ReLU's floor
    /// ```
    #[inline(always)]
    pub fn output(self, acc: i32, zero_point: i32, clamp: crate::quant::Clamp) -> i8 {
        clamp.apply(self.apply(acc).saturating_add(zero_point))
    }
}

/// `x = mantissa · 2^exponent` with `mantissa` in `[0.5, 1)`, for finite
/// `x > 0` (C's `frexp`), from the bits so that no `libm` is needed.
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    if exponent == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * f64::from_bits(0x4350_0000_0000_0000)); // 2^54
        return (m, e - 54);
    }
    let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (mantissa, exponent - 1022)
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of
/// `2 · a · b`, rounded to nearest with ties up (−1.5 gives −1); the one
/// overflowing case (`i32::MIN · i32::MIN`) saturates.
///
/// ```
/// use typenet::quant::fixed::saturating_rounding_doubling_high_mul as srdhm;
/// assert_eq!(srdhm(1 << 30, 1 << 30), 1 << 29);
/// assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
/// ```
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    // gemmlowp adds 2³⁰ (1 − 2³⁰ below zero) and divides by 2³¹ truncating
    // toward zero. For every product but the one saturated above, that is
    // the floor of (ab + 2³⁰) / 2³¹: an arithmetic shift, with no branch and
    // no division (on a Cortex-M0 a 64-bit division is a library call).
    ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent`, rounded half away
/// from zero, for `exponent` in `0..=31`.
///
/// ```
/// use typenet::quant::fixed::rounding_divide_by_pot;
/// assert_eq!([rounding_divide_by_pot(5, 1), rounding_divide_by_pot(-5, 1), rounding_divide_by_pot(-6, 2)], [3, -3, -2]);
/// ```
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let mask = (1u32 << exponent).wrapping_sub(1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The multiplier the reference computes in `f64`, from the definition.
    fn exact(r: Requantize, acc: i32) -> f64 {
        acc as f64 * r.multiplier as f64 * libm::exp2(r.shift as f64 - 31.0)
    }

    #[test]
    fn from_real_round_trips_within_half_an_ulp_of_q31() {
        for real in [1e-9, 3.2e-5, 0.001_953_125, 0.3, 0.999_999_999_9, 1.0, 1.5, 7.25, 1000.0] {
            let r = Requantize::from_real(real);
            assert!((1 << 30..=i32::MAX).contains(&r.multiplier), "{real}: {r:?}");
            let back = r.multiplier as f64 * libm::exp2(r.shift as f64 - 31.0);
            assert!((back - real).abs() <= real * 2f64.powi(-31), "{real}: {back}");
        }
    }

    #[test]
    fn mantissa_rounding_up_to_one_carries_into_the_shift() {
        // Just below 1: the mantissa rounds to 2^31 and becomes 2^30 with one more shift.
        let r = Requantize::from_real(1.0 - 1e-12);
        assert_eq!(r, Requantize { multiplier: 1 << 30, shift: 1 });
    }

    #[test]
    fn tiny_multipliers_flush_to_zero() {
        assert_eq!(Requantize::from_real(1e-12), Requantize::default());
        assert_eq!(Requantize::from_real(1e-12).apply(i32::MAX), 0);
    }

    #[test]
    fn apply_is_within_one_of_the_exact_product() {
        for real in [0.000_37, 0.012, 0.25, 0.7, 1.9] {
            let r = Requantize::from_real(real);
            for acc in [-1_000_003, -77_777, -129, -1, 0, 1, 2, 255, 65_537, 9_999_999] {
                let got = r.apply(acc) as f64;
                assert!((got - exact(r, acc)).abs() <= 1.0, "{real} × {acc}: {got} vs {}", exact(r, acc));
            }
        }
    }

    #[test]
    fn rounding_divide_rounds_halves_away_from_zero() {
        let cases =
            [(7, 1, 4), (-7, 1, -4), (6, 2, 2), (-6, 2, -2), (5, 2, 1), (-5, 2, -1), (i32::MIN, 31, -1), (123, 0, 123)];
        for (x, e, want) in cases {
            assert_eq!(rounding_divide_by_pot(x, e), want, "{x} / 2^{e}");
        }
    }

    /// The shift equals gemmlowp's nudge-and-truncate on every sign and
    /// at the boundaries.
    #[test]
    fn doubling_high_mul_equals_the_nudged_division() {
        let gemmlowp = |a: i32, b: i32| {
            let ab = a as i64 * b as i64;
            let nudge = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
            ((ab + nudge) / (1i64 << 31)) as i32
        };
        let edges = [i32::MIN + 1, -1 << 30, -3, -2, -1, 0, 1, 2, 3, 1 << 30, i32::MAX];
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (rng >> 32) as i32
        };
        for &a in &edges {
            for &b in &edges {
                assert_eq!(saturating_rounding_doubling_high_mul(a, b), gemmlowp(a, b), "{a} × {b}");
            }
        }
        for _ in 0..100_000 {
            let (a, b) = (next(), next() >> (next() & 31));
            if a != i32::MIN {
                assert_eq!(saturating_rounding_doubling_high_mul(a, b), gemmlowp(a, b), "{a} × {b}");
            }
        }
    }

    #[test]
    fn doubling_high_mul_rounds_and_saturates() {
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2); // 1.5 → 2
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1); // -1.5 → -1: ties go up
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MAX, i32::MAX), i32::MAX - 1);
    }

    #[test]
    fn frexp_matches_the_definition() {
        for x in [1.0, 0.75, 3.0, 1e-300, 5e-324, 1e300] {
            let (m, e) = frexp(x);
            assert!((0.5..1.0).contains(&m), "{x}");
            assert_eq!(m * libm::exp2(e as f64), x);
        }
    }
}
