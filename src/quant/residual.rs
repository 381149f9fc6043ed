//! The int8 residual blocks: the body (and shortcut) as int8 chains, and
//! TFLite's int8 `ADD` joining the two branches, each with its own scale.

use crate::layer::Layer;
use crate::layers::residual::{SameAsBody, SameAsInput};
use crate::layers::{Projected as ProjectedF32, Residual as ResidualF32};
use crate::quant::convert::{AddStage, Calibrate, Int8Form, OwnLayer, QuantError, QuantizeChain, ToInt8};
use crate::quant::fixed::Requantize;
use crate::quant::scale::{Clamp, QParams, Range};
use crate::quant::{Int8Params, Int8Tensor, SIGNATURE_SEED, Values, ValuesMut, signature};
use crate::shape::Tensor;

/// TFLite's int8 `ADD`: two int8 tensors with their own scales and zero
/// points summed into a third.
///
/// Both inputs are brought to a common scale (twice the larger input scale,
/// with 20 bits of headroom) by fixed-point multipliers, summed, and
/// requantised to the output, as `reference_integer_ops::Add` does.
///
/// ```
/// use typenet::quant::{Add, Clamp, QParams};
///
/// let a = QParams { scale: 0.1, zero_point: 0 };
/// let b = QParams { scale: 0.05, zero_point: 10 };
/// let out = QParams { scale: 0.2, zero_point: -5 };
/// let add = Add::new(a, b, out, Clamp::default());
/// // 2.0 (a: 20) + 1.0 (b: 30) = 3.0, which is 15 − 5 = 10 in the output.
/// assert_eq!(add.apply(20, 30), 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Add {
    /// The first input's quantisation (a block's body).
    pub input1: QParams,
    /// The second input's quantisation (a block's shortcut or input).
    pub input2: QParams,
    /// The output's quantisation.
    pub output: QParams,
    /// The fused activation's bounds.
    pub clamp: Clamp,
    multiplier1: Requantize,
    multiplier2: Requantize,
    output_multiplier: Requantize,
}

crate::zeroable!(impl[] for Add {
    input1: QParams,
    input2: QParams,
    output: QParams,
    clamp: Clamp,
    multiplier1: Requantize,
    multiplier2: Requantize,
    output_multiplier: Requantize,
});

/// The headroom TFLite gives int8 inputs before rescaling them.
const LEFT_SHIFT: i32 = 20;

impl Add {
    /// The add of inputs quantised as `input1` and `input2` into `output`,
    /// clamped to `clamp`, with the multipliers TFLite derives (in `f64`).
    pub fn new(input1: QParams, input2: QParams, output: QParams, clamp: Clamp) -> Add {
        // TFLite doubles the larger scale in `f32` (exact), then divides in `f64`.
        let twice_max = (2.0 * input1.scale.max(input2.scale)) as f64;
        Add {
            input1,
            input2,
            output,
            clamp,
            multiplier1: Requantize::from_real(input1.scale as f64 / twice_max),
            multiplier2: Requantize::from_real(input2.scale as f64 / twice_max),
            output_multiplier: Requantize::from_real(twice_max / ((1 << LEFT_SHIFT) as f64 * output.scale as f64)),
        }
    }

    /// The sum of one pair of values.
    #[inline(always)]
    pub fn apply(&self, a: i8, b: i8) -> i8 {
        let a = self.multiplier1.apply((a as i32 - self.input1.zero_point) << LEFT_SHIFT);
        let b = self.multiplier2.apply((b as i32 - self.input2.zero_point) << LEFT_SHIFT);
        self.output_multiplier.output(a + b, self.output.zero_point, self.clamp)
    }

    /// `y[i] = apply(y[i], x[i])`: the body's output in `y`, the other
    /// branch in `x`.
    #[inline]
    pub fn apply_into(&self, y: &mut [i8], x: &[i8]) {
        y.iter_mut().zip(x).for_each(|(y, &x)| *y = self.apply(*y, x));
    }

    const BYTES: usize = 3 * 8 + 2 + 3 * (4 + 1);

    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        for q in [&self.input1, &self.input2, &self.output] {
            q.visit(f);
        }
        self.clamp.visit(f);
        for r in [&self.multiplier1, &self.multiplier2, &self.output_multiplier] {
            r.visit(f);
        }
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        for q in [&mut self.input1, &mut self.input2, &mut self.output] {
            q.visit_mut(f);
        }
        self.clamp.visit_mut(f);
        for r in [&mut self.multiplier1, &mut self.multiplier2, &mut self.output_multiplier] {
            r.visit_mut(f);
        }
    }
}

/// The int8 twin of [`Residual<Body>`](crate::layers::Residual):
/// `y = add(body(x), x)`, the add with its own rescaling and fused
/// activation.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Residual<Body> {
    /// The int8 body.
    pub body: Body,
    /// The join: body output first, block input second.
    pub add: Add,
}

crate::zeroable!(impl[Body: crate::memory::Zeroable] for Residual<Body> { body: Body, add: Add });

impl<Body: crate::memory::DefaultInPlace> crate::memory::DefaultInPlace for Residual<Body> {
    fn zeroed_to_default(&mut self) {
        self.body.zeroed_to_default();
        self.add = Add::default();
    }
}

impl<X: Int8Tensor, Body: Layer<X, Output = X>> Layer<X> for Residual<Body> {
    type Output = X;

    #[inline]
    fn forward(&self, x: &X) -> X {
        let mut y = self.body.forward(x);
        self.add.apply_into(y.as_flat_mut(), x.as_flat());
        y
    }
}

/// The int8 twin of [`Projected<Body, Shortcut>`](crate::layers::Projected):
/// `y = add(body(x), shortcut(x))`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Projected<Body, Shortcut> {
    /// The int8 body.
    pub body: Body,
    /// The int8 shortcut.
    pub shortcut: Shortcut,
    /// The join: body output first, shortcut output second.
    pub add: Add,
}

crate::zeroable!(impl[Body: crate::memory::Zeroable, Shortcut: crate::memory::Zeroable] for Projected<Body, Shortcut> {
    body: Body,
    shortcut: Shortcut,
    add: Add,
});

impl<Body: crate::memory::DefaultInPlace, Shortcut: crate::memory::DefaultInPlace> crate::memory::DefaultInPlace
    for Projected<Body, Shortcut>
{
    fn zeroed_to_default(&mut self) {
        self.body.zeroed_to_default();
        self.shortcut.zeroed_to_default();
        self.add = Add::default();
    }
}

impl<X, Body, Shortcut> Layer<X> for Projected<Body, Shortcut>
where
    Body: Layer<X, Output: Int8Tensor>,
    Shortcut: Layer<X, Output = Body::Output>,
{
    type Output = Body::Output;

    #[inline]
    fn forward(&self, x: &X) -> Body::Output {
        let mut y = self.body.forward(x);
        self.add.apply_into(y.as_flat_mut(), self.shortcut.forward(x).as_flat());
        y
    }
}

impl<Body: Int8Params> Int8Params for Residual<Body> {
    const BYTES: usize = Body::BYTES + Add::BYTES;
    const SIGNATURE: u32 = signature(SIGNATURE_SEED, &[7, Body::SIGNATURE]);

    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        self.body.visit(f);
        self.add.visit(f);
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        self.body.visit_mut(f);
        self.add.visit_mut(f);
    }

    fn refresh(&mut self) {
        self.body.refresh();
    }
}

impl<Body: Int8Params, Shortcut: Int8Params> Int8Params for Projected<Body, Shortcut> {
    const BYTES: usize = Body::BYTES + Shortcut::BYTES + Add::BYTES;
    const SIGNATURE: u32 = signature(SIGNATURE_SEED, &[8, Body::SIGNATURE, Shortcut::SIGNATURE]);

    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        self.body.visit(f);
        self.shortcut.visit(f);
        self.add.visit(f);
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        self.body.visit_mut(f);
        self.shortcut.visit_mut(f);
        self.add.visit_mut(f);
    }

    fn refresh(&mut self) {
        self.body.refresh();
        self.shortcut.refresh();
    }
}

// The f32 blocks: calibration observes the body's layers (and the
// shortcut's), then the sum.

impl<X, Body> Calibrate<X> for ResidualF32<Body>
where
    X: Tensor<Scalar = f32>,
    Body: Calibrate<X, Output: SameAsInput<X>>,
{
    type Ranges = (Body::Ranges, Range);

    fn calibrate(&self, x: &X, ranges: &mut Self::Ranges) -> X {
        let y = self.body.calibrate(x, &mut ranges.0).into_input();
        let mut sum = X::default();
        for ((s, a), b) in sum.as_flat_mut().iter_mut().zip(y.as_flat()).zip(x.as_flat()) {
            *s = a + b;
        }
        ranges.1.observe(sum.as_flat());
        sum
    }

    fn output_range(ranges: &Self::Ranges) -> Range {
        ranges.1
    }
}

impl<X, Body, Shortcut> Calibrate<X> for ProjectedF32<Body, Shortcut>
where
    X: Tensor<Scalar = f32>,
    Body: Calibrate<X, Output: Tensor<Scalar = f32>>,
    Shortcut: Calibrate<X, Output: SameAsBody<Body::Output>>,
{
    type Ranges = (Body::Ranges, Shortcut::Ranges, Range);

    fn calibrate(&self, x: &X, ranges: &mut Self::Ranges) -> Body::Output {
        let mut y = self.body.calibrate(x, &mut ranges.0);
        let s = self.shortcut.calibrate(x, &mut ranges.1).into_body();
        y.as_flat_mut().iter_mut().zip(s.as_flat()).for_each(|(y, s)| *y += s);
        ranges.2.observe(y.as_flat());
        y
    }

    fn output_range(ranges: &Self::Ranges) -> Range {
        ranges.2
    }
}

impl<Body> Int8Form for ResidualF32<Body> {
    type Role = OwnLayer;
}

impl<Body, Shortcut> Int8Form for ProjectedF32<Body, Shortcut> {
    type Role = OwnLayer;
}

impl<X, Body> ToInt8<X> for ResidualF32<Body>
where
    X: Tensor<Scalar = f32>,
    Body: QuantizeChain<X, Output: SameAsInput<X>>,
{
    type Int8 = Residual<Body::Int8>;
    type Stage = AddStage;
    const NAME: &'static str = "Residual";

    fn stage(&self) -> AddStage {
        AddStage::default()
    }

    fn to_int8(
        &self,
        ranges: &Self::Ranges,
        stage: &AddStage,
        input: QParams,
        output: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let body = self.body.quantize_into(&ranges.0, input, at + 1, &mut out.body)?;
        out.add = Add::new(body, input, output, Clamp::of(stage.activation, output));
        Ok(output)
    }

    fn positions() -> usize {
        1 + Body::positions()
    }
}

impl<X, Body, Shortcut> ToInt8<X> for ProjectedF32<Body, Shortcut>
where
    X: Tensor<Scalar = f32>,
    Body: QuantizeChain<X, Output: Tensor<Scalar = f32>>,
    Shortcut: QuantizeChain<X, Output: SameAsBody<Body::Output>>,
{
    type Int8 = Projected<Body::Int8, Shortcut::Int8>;
    type Stage = AddStage;
    const NAME: &'static str = "Projected";

    fn stage(&self) -> AddStage {
        AddStage::default()
    }

    fn to_int8(
        &self,
        ranges: &Self::Ranges,
        stage: &AddStage,
        input: QParams,
        output: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let body = self.body.quantize_into(&ranges.0, input, at + 1, &mut out.body)?;
        let shortcut = self.shortcut.quantize_into(&ranges.1, input, at + 1 + Body::positions(), &mut out.shortcut)?;
        out.add = Add::new(body, shortcut, output, Clamp::of(stage.activation, output));
        Ok(output)
    }

    fn positions() -> usize {
        1 + Body::positions() + Shortcut::positions()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sum in real numbers, rounded to the output's levels.
    fn real(add: &Add, a: i8, b: i8) -> f64 {
        let x = add.input1.dequantize(a) as f64 + add.input2.dequantize(b) as f64;
        (x / add.output.scale as f64).round() + add.output.zero_point as f64
    }

    #[test]
    fn add_is_within_one_level_of_the_real_sum() {
        let add = Add::new(
            QParams { scale: 0.07, zero_point: -3 },
            QParams { scale: 0.021, zero_point: 40 },
            QParams { scale: 0.09, zero_point: 12 },
            Clamp::default(),
        );
        for a in (-128..=127).step_by(7) {
            for b in (-128..=127).step_by(5) {
                let want = real(&add, a as i8, b as i8).clamp(-128.0, 127.0);
                let got = add.apply(a as i8, b as i8) as f64;
                assert!((got - want).abs() <= 1.0, "{a} + {b}: {got} vs {want}");
            }
        }
    }
}
