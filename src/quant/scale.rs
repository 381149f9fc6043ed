//! Scales and zero points: how real numbers map to int8 and back, chosen
//! from the range a tensor takes over the calibration samples.
//!
//! ```
//! use typenet::quant::{QParams, Range};
//!
//! let mut range = Range::default();
//! range.observe(&[-0.5, 0.25, 1.5]);
//! let q = QParams::from_range(range).unwrap();
//! assert_eq!((q.scale, q.zero_point), (2.0 / 255.0, -64));
//! assert_eq!(q.quantize(1.5), 127);
//! assert_eq!(q.quantize(0.0), -64); // zero is exact
//! assert!((q.dequantize(q.quantize(0.25)) - 0.25).abs() <= q.scale / 2.0);
//! ```

/// The asymmetric int8 mapping of a tensor: `real = scale · (q − zero_point)`,
/// TFLite's activation quantisation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QParams {
    /// The real value of one step of `q`.
    pub scale: f32,
    /// The `q` that stands for real zero, in `-128..=127`.
    pub zero_point: i32,
}

crate::zeroable!(impl[] for QParams { scale: f32, zero_point: i32 });

impl Default for QParams {
    /// Scale 1, zero point 0: int8 values standing for themselves.
    fn default() -> Self {
        QParams { scale: 1.0, zero_point: 0 }
    }
}

/// Why a range gives no quantisation.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RangeError {
    /// Nothing was observed.
    Empty,
    /// A NaN or an infinity was observed.
    NonFinite,
    /// Every value observed was exactly zero: the tensor carries no
    /// information, and any scale would do (TFLite picks 1).
    Constant,
}

impl QParams {
    /// The scale and zero point TFLite's converter picks for a tensor
    /// observed over `range`, to the bit: the range is widened to include
    /// zero, the scale spreads it over the 256 int8 steps (in `f32`, the
    /// converter's legacy float scale), and the zero point is rounded to an
    /// integer so that real zero is exact.
    ///
    /// ```
    /// use typenet::quant::{QParams, Range, RangeError};
    /// let relu_output = Range { min: 0.0, max: 6.0, count: 100, non_finite: false };
    /// assert_eq!(QParams::from_range(relu_output), Ok(QParams { scale: 6.0 / 255.0, zero_point: -128 }));
    /// assert_eq!(QParams::from_range(Range::default()), Err(RangeError::Empty));
    /// ```
    pub fn from_range(range: Range) -> Result<QParams, RangeError> {
        if range.non_finite {
            return Err(RangeError::NonFinite);
        }
        if range.count == 0 {
            return Err(RangeError::Empty);
        }
        let (rmin, rmax) = (range.min.min(0.0), range.max.max(0.0));
        if rmax - rmin == 0.0 {
            return Err(RangeError::Constant);
        }
        // The converter's legacy float scale: the width in f32 over 255
        // levels, then the zero point solved from the minimum in f64 and
        // rounded in f32, halves away from zero.
        let scale = (rmax - rmin) / 255.0;
        let zero_point = libm::roundf((-128.0 - rmin as f64 / scale as f64) as f32).clamp(-128.0, 127.0);
        Ok(QParams { scale, zero_point: zero_point as i32 })
    }

    /// TFLite's `QUANTIZE`: `round(x / scale) + zero_point` (division in
    /// `f32`, halves rounded away from zero), saturated to int8.
    #[inline]
    pub fn quantize(self, x: f32) -> i8 {
        let q = libm::roundf(x / self.scale);
        // NaN casts to 0 and out-of-range values saturate: no input panics.
        let q = (q as i32).saturating_add(self.zero_point);
        q.clamp(-128, 127) as i8
    }

    /// TFLite's `DEQUANTIZE`: `scale · (q − zero_point)`.
    #[inline]
    pub fn dequantize(self, q: i8) -> f32 {
        self.scale * (q as i32 - self.zero_point) as f32
    }

    /// Quantises every value of `xs` into `out` (the shorter length wins).
    pub fn quantize_slice(self, xs: &[f32], out: &mut [i8]) {
        out.iter_mut().zip(xs).for_each(|(q, &x)| *q = self.quantize(x));
    }

    /// Dequantises every value of `qs` into `out` (the shorter length wins).
    pub fn dequantize_slice(self, qs: &[i8], out: &mut [f32]) {
        out.iter_mut().zip(qs).for_each(|(x, &q)| *x = self.dequantize(q));
    }

    /// The int8 value that stands for the real `x`, before saturation: the
    /// bound a fused activation clamps to (TFLite's
    /// `CalculateActivationRangeQuantized`).
    fn level(self, x: f32) -> i32 {
        (libm::roundf(x / self.scale) as i32).saturating_add(self.zero_point)
    }
}

/// The smallest and largest value a tensor took over the calibration
/// samples, and whether any value was not finite.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Range {
    /// The smallest value observed.
    pub min: f32,
    /// The largest value observed.
    pub max: f32,
    /// How many values were observed.
    pub count: u64,
    /// Whether a NaN or an infinity was observed.
    pub non_finite: bool,
}

crate::zeroable!(impl[] for Range { min: f32, max: f32, count: u64, non_finite: bool });

impl Default for Range {
    /// Nothing observed yet.
    fn default() -> Self {
        Range { min: f32::INFINITY, max: f32::NEG_INFINITY, count: 0, non_finite: false }
    }
}

impl Range {
    /// Widens the range to cover `values`.
    #[inline]
    pub fn observe(&mut self, values: &[f32]) {
        for &v in values {
            if v.is_finite() {
                self.min = self.min.min(v);
                self.max = self.max.max(v);
            } else {
                self.non_finite = true;
            }
        }
        self.count += values.len() as u64;
    }
}

/// The activation fused into a layer's output: the int8 bounds its output
/// is clamped to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Activation {
    /// No activation: the whole int8 range.
    #[default]
    None,
    /// ReLU: nothing below real zero.
    Relu,
    /// ReLU6: real values in `[0, 6]`.
    Relu6,
}

impl Activation {
    /// The activation `next` applied after this one: the tighter of the two.
    ///
    /// ```
    /// use typenet::quant::Activation;
    /// assert_eq!(Activation::Relu.then(Activation::Relu6), Activation::Relu6);
    /// assert_eq!(Activation::Relu6.then(Activation::Relu), Activation::Relu6);
    /// assert_eq!(Activation::None.then(Activation::Relu), Activation::Relu);
    /// ```
    pub fn then(self, next: Activation) -> Activation {
        match (self, next) {
            (Activation::Relu6, _) | (_, Activation::Relu6) => Activation::Relu6,
            (Activation::Relu, _) | (_, Activation::Relu) => Activation::Relu,
            (Activation::None, Activation::None) => Activation::None,
        }
    }
}

/// The int8 bounds an output is clamped to, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clamp {
    /// The smallest output.
    pub min: i8,
    /// The largest output.
    pub max: i8,
}

crate::zeroable!(impl[] for Clamp { min: i8, max: i8 });

impl Default for Clamp {
    /// The whole int8 range.
    fn default() -> Self {
        Clamp { min: -128, max: 127 }
    }
}

impl Clamp {
    /// TFLite's `CalculateActivationRangeQuantized`: the bounds of
    /// `activation` in the int8 levels of `output`.
    ///
    /// ```
    /// use typenet::quant::{Activation, Clamp, QParams};
    /// let q = QParams { scale: 0.05, zero_point: -10 };
    /// assert_eq!(Clamp::of(Activation::Relu, q), Clamp { min: -10, max: 127 });
    /// assert_eq!(Clamp::of(Activation::Relu6, q), Clamp { min: -10, max: 110 });
    /// ```
    pub fn of(activation: Activation, output: QParams) -> Clamp {
        let bound = |x: f32| output.level(x).clamp(-128, 127) as i8;
        match activation {
            Activation::None => Clamp::default(),
            Activation::Relu => Clamp { min: bound(0.0), max: 127 },
            Activation::Relu6 => Clamp { min: bound(0.0), max: bound(6.0) },
        }
    }

    /// `v` clamped into the bounds, as int8. Bounds the wrong way round
    /// (from a crafted file) give `max`, never a panic.
    #[inline(always)]
    pub fn apply(self, v: i32) -> i8 {
        v.max(self.min as i32).min(self.max as i32) as i8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(min: f32, max: f32) -> Range {
        Range { min, max, count: 1, non_finite: false }
    }

    #[test]
    fn zero_is_exact_for_every_range() {
        for (lo, hi) in [(-1.0, 1.0), (-0.3, 2.7), (0.1, 5.0), (-8.0, -0.5), (-1e-3, 1e3)] {
            let q = QParams::from_range(range(lo, hi)).unwrap();
            assert_eq!(q.dequantize(q.quantize(0.0)), 0.0, "{lo}..{hi}");
            assert!((-128..=127).contains(&q.zero_point));
        }
    }

    #[test]
    fn ranges_away_from_zero_are_widened_to_it() {
        let q = QParams::from_range(range(2.0, 4.0)).unwrap();
        assert_eq!((q.scale, q.zero_point), (4.0 / 255.0, -128));
        let q = QParams::from_range(range(-4.0, -2.0)).unwrap();
        assert_eq!((q.scale, q.zero_point), (4.0 / 255.0, 127));
    }

    #[test]
    fn bad_ranges_are_refused_with_their_reason() {
        assert_eq!(QParams::from_range(Range::default()), Err(RangeError::Empty));
        assert_eq!(QParams::from_range(range(0.0, 0.0)), Err(RangeError::Constant));
        let mut r = range(-1.0, 1.0);
        r.observe(&[f32::NAN]);
        assert_eq!(QParams::from_range(r), Err(RangeError::NonFinite));
    }

    #[test]
    fn quantize_saturates_and_rounds_halves_away_from_zero() {
        let q = QParams { scale: 0.5, zero_point: 3 };
        assert_eq!([q.quantize(0.25), q.quantize(-0.25), q.quantize(1e9), q.quantize(-1e9)], [4, 2, 127, -128]);
        assert_eq!(q.quantize(f32::NAN), 3);
        assert_eq!(q.quantize(0.499_999_97 * 0.5), 3); // just below a half: down
    }

    #[test]
    fn clamps_follow_the_activation() {
        let q = QParams { scale: 0.1, zero_point: 20 };
        assert_eq!(Clamp::of(Activation::None, q), Clamp { min: -128, max: 127 });
        assert_eq!(Clamp::of(Activation::Relu, q), Clamp { min: 20, max: 127 });
        assert_eq!(Clamp::of(Activation::Relu6, q), Clamp { min: 20, max: 80 });
        assert_eq!(Clamp { min: -3, max: 9 }.apply(1000), 9);
    }
}
