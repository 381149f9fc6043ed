//! The int8 forms of the parameterless shape layers: `MaxPool2d` and
//! `AvgPool2d` (TFLite's `MAX_POOL_2D`, `AVERAGE_POOL_2D`) and `Flatten`
//! (`RESHAPE`). Each is its own int8 twin: the same type runs on int8
//! tensors, with the input's scale and zero point carried through
//! unchanged, as TFLite requires of these operators.
//!
//! ```
//! use typenet::prelude::*;
//!
//! let x = tensor3([[[1i8, -7], [3, 5]], [[-1, -2], [-3, -5]]]);
//! assert_eq!(MaxPool2d::<U2>::new().forward(&x), tensor3([[[5]], [[-1]]]));
//! // (1 − 7 + 3 + 5) / 4 = 0.5 rounds away from zero; −11 / 4 = −2.75 to −3.
//! assert_eq!(AvgPool2d::<U2>::new().forward(&x), tensor3([[[1]], [[-3]]]));
//! assert_eq!(Flatten.forward(&x), vector([1, -7, 3, 5, -1, -2, -3, -5]));
//! ```

use generic_array::ArrayLength;
use typenum::{U0, Unsigned};

use crate::layer::Layer;
use crate::layers::Flatten;
use crate::layers::conv::ConvDims;
use crate::layers::flatten::{Volume, VolumeOf};
use crate::layers::pool::{Avg, Max, Pool2d, Pooled, Windows};
use crate::quant::convert::{Int8Form, NoStage, ObservesOutput, OwnLayer, QuantError, ToInt8};
use crate::quant::fixed::Requantize;
use crate::quant::scale::{Clamp, QParams, Range};
use crate::quant::{Int8Params, Int8Tensor, SIGNATURE_SEED, Values, ValuesMut, signature};
use crate::shape::{Tensor3, Vector};

impl<C, H, W, K, S> Layer<Tensor3<i8, C, H, W>> for Pool2d<Max, K, S>
where
    C: ArrayLength,
    K: Unsigned,
    S: Unsigned,
    H: ConvDims<K, S, U0>,
    W: ConvDims<K, S, U0>,
{
    type Output = Pooled<i8, C, H, W, K, S>;

    /// Each window's maximum.
    #[inline]
    fn forward(&self, x: &Tensor3<i8, C, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        let (windows, input, out) = (Windows::of::<C, H, W, K, S>(), x.as_flat(), y.as_flat_mut());
        windows.for_each(|o, start| {
            let mut max = i8::MIN;
            windows.taps(start, |i| max = max.max(input[i]));
            out[o] = max;
        });
        y
    }
}

impl<C, H, W, K, S> Layer<Tensor3<i8, C, H, W>> for Pool2d<Avg, K, S>
where
    C: ArrayLength,
    K: Unsigned,
    S: Unsigned,
    H: ConvDims<K, S, U0>,
    W: ConvDims<K, S, U0>,
{
    type Output = Pooled<i8, C, H, W, K, S>;

    /// Each window's mean, rounded half away from zero as TFLite's
    /// `reference_integer_ops::AveragePool` rounds.
    #[inline]
    fn forward(&self, x: &Tensor3<i8, C, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        let (windows, input, out) = (Windows::of::<C, H, W, K, S>(), x.as_flat(), y.as_flat_mut());
        let count = windows.area() as i32;
        windows.for_each(|o, start| {
            let mut sum = 0i32;
            windows.taps(start, |i| sum += input[i] as i32);
            let mean = if sum > 0 { (sum + count / 2) / count } else { (sum - count / 2) / count };
            out[o] = mean.clamp(-128, 127) as i8;
        });
        y
    }
}

impl<C: ArrayLength, H: ArrayLength, W: ArrayLength> Layer<Tensor3<i8, C, H, W>> for Flatten
where
    C: Volume<H, W>,
{
    type Output = Vector<i8, VolumeOf<C, H, W>>;

    /// The same values, channel-major: `[C][H][W]` read row by row.
    #[inline]
    fn forward(&self, x: &Tensor3<i8, C, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        y.copy_from_slice(x.as_flat());
        y
    }
}

/// The int8 twin of [`GlobalAvgPool`](crate::layers::GlobalAvgPool):
/// TFLite's int8 `MEAN` over the height and width, whose output has a
/// scale and zero point of its own.
///
/// Each channel's sum (less the input zero point) is requantised by
/// `s_in / (s_out · H·W)`: the division by `H·W` is folded into the
/// fixed-point multiplier, as TFLite's reference kernel does.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::quant::{self, QParams};
///
/// let q = QParams { scale: 0.5, zero_point: 0 };
/// let gap = quant::GlobalAvgPool::from_tflite(q, q, 4);
/// let x = tensor3([[[1i8, 2], [3, 6]], [[-4, 0], [0, 0]]]);
/// assert_eq!(gap.forward(&x), vector([3, -1]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct GlobalAvgPool {
    /// The input's quantisation.
    pub input: QParams,
    /// The output's quantisation.
    pub output: QParams,
    /// The number of positions averaged, `H·W`.
    area: i32,
    mean: Requantize,
}

crate::zeroable!(impl[] for GlobalAvgPool { input: QParams, output: QParams, area: i32, mean: Requantize });

impl crate::memory::DefaultInPlace for GlobalAvgPool {
    fn zeroed_to_default(&mut self) {
        *self = GlobalAvgPool::default();
    }
}

impl GlobalAvgPool {
    /// The mean over `area` positions from `input` to `output` quantisation,
    /// with TFLite's multiplier: `s_in / s_out` as a fixed-point multiplier,
    /// then divided by `area` keeping as many bits as the shift allows.
    pub fn from_tflite(input: QParams, output: QParams, area: usize) -> Self {
        let r = Requantize::from_real(input.scale as f64 / output.scale as f64);
        let area = area.clamp(1, i32::MAX as usize) as i64;
        let k = (63 - area.leading_zeros() as i32).min(32).min(31 + r.shift).max(0);
        let multiplier = ((r.multiplier as i64) << k) / area;
        GlobalAvgPool {
            input,
            output,
            area: area as i32,
            mean: Requantize { multiplier: multiplier as i32, shift: r.shift - k },
        }
    }
}

impl<C: ArrayLength, H: ArrayLength, W: ArrayLength> Layer<Tensor3<i8, C, H, W>> for GlobalAvgPool {
    type Output = Vector<i8, C>;

    #[inline]
    fn forward(&self, x: &Tensor3<i8, C, H, W>) -> Vector<i8, C> {
        let offset = self.input.zero_point.wrapping_mul(self.area);
        let mut y = Vector::<i8, C>::default();
        for (y, plane) in y.iter_mut().zip(x.iter()) {
            let sum = plane.as_flat().iter().fold(0i32, |s, &v| s.wrapping_add(v as i32));
            *y = self.mean.output(sum.wrapping_sub(offset), self.output.zero_point, Clamp::default());
        }
        y
    }
}

impl Int8Params for GlobalAvgPool {
    const BYTES: usize = 2 * 8 + 4 + 5;
    const SIGNATURE: u32 = signature(SIGNATURE_SEED, &[9]);

    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        self.input.visit(f);
        self.output.visit(f);
        f(Values::Bias(core::slice::from_ref(&self.area)));
        self.mean.visit(f);
    }

    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        self.input.visit_mut(f);
        self.output.visit_mut(f);
        f(ValuesMut::Bias(core::slice::from_mut(&mut self.area)));
        self.mean.visit_mut(f);
    }
}

impl Int8Form for crate::layers::GlobalAvgPool {
    type Role = OwnLayer;
}

impl ObservesOutput for crate::layers::GlobalAvgPool {}

impl<C: ArrayLength, H: ArrayLength, W: ArrayLength> ToInt8<Tensor3<f32, C, H, W>> for crate::layers::GlobalAvgPool {
    type Int8 = GlobalAvgPool;
    type Stage = NoStage;
    const NAME: &'static str = "GlobalAvgPool";

    fn stage(&self) -> NoStage {
        NoStage
    }

    fn to_int8(
        &self,
        _: &Range,
        _: &NoStage,
        input: QParams,
        output: QParams,
        _: usize,
        out: &mut GlobalAvgPool,
    ) -> Result<QParams, QuantError> {
        *out = GlobalAvgPool::from_tflite(input, output, H::USIZE * W::USIZE);
        Ok(output)
    }
}

/// The shape layers' int8 side: no parameters, the input's quantisation
/// carried through, nothing folds into them.
macro_rules! passes_quantisation_through {
    ($([$($gen:tt)*] $layer:ty, $kind:expr, [$($dim:expr),*]);* $(;)?) => {$(
        impl<$($gen)*> Int8Params for $layer {
            const BYTES: usize = 0;
            const SIGNATURE: u32 = signature(SIGNATURE_SEED, &[$kind $(, $dim)*]);
            #[inline]
            fn visit(&self, _: &mut impl FnMut(Values<'_>)) {}
            #[inline]
            fn visit_mut(&mut self, _: &mut impl FnMut(ValuesMut<'_>)) {}
        }

        impl<$($gen)*> Int8Form for $layer {
            type Role = OwnLayer;
        }

        impl<$($gen)*> ObservesOutput for $layer {}
    )*};
}

passes_quantisation_through! {
    [K: Unsigned, S: Unsigned] Pool2d<Max, K, S>, 4, [K::U32, S::U32];
    [K: Unsigned, S: Unsigned] Pool2d<Avg, K, S>, 5, [K::U32, S::U32];
    [] Flatten, 6, [];
}

/// The int8 twin of a shape layer is the layer itself, and its output keeps
/// the input's quantisation (TFLite requires it of pooling and reshapes):
/// the calibration range of its output is not used.
macro_rules! own_twin {
    ($([$($gen:tt)*] $layer:ty, $input:ty, $name:expr);* $(;)?) => {$(
        impl<$($gen)*> ToInt8<$input> for $layer
        where
            Self: Layer<$input, Output: crate::shape::Tensor<Scalar = f32>> + Default,
        {
            type Int8 = Self;
            type Stage = NoStage;
            const NAME: &'static str = $name;

            fn stage(&self) -> NoStage {
                NoStage
            }

            fn to_int8(&self, _: &Range, _: &NoStage, _: QParams, output: QParams, _: usize, out: &mut Self) -> Result<QParams, QuantError> {
                *out = Self::default();
                Ok(output)
            }

            fn output_quantisation(input: QParams, _: Range, _: usize) -> Result<QParams, QuantError> {
                Ok(input)
            }
        }
    )*};
}

own_twin! {
    [C: ArrayLength, H: ArrayLength, W: ArrayLength, K: Unsigned, S: Unsigned] Pool2d<Max, K, S>, Tensor3<f32, C, H, W>, "MaxPool2d";
    [C: ArrayLength, H: ArrayLength, W: ArrayLength, K: Unsigned, S: Unsigned] Pool2d<Avg, K, S>, Tensor3<f32, C, H, W>, "AvgPool2d";
    [C: ArrayLength, H: ArrayLength, W: ArrayLength] Flatten, Tensor3<f32, C, H, W>, "Flatten";
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn average_rounds_half_away_from_zero() {
        // Windows of 2×2 summing to 2, −2, 6, −6: means 0.5, −0.5, 1.5, −1.5.
        let x = tensor3([[[1i8, 1, -1, -1, 3, 3, -3, -3], [0, 0, 0, 0, 0, 0, 0, 0]]]);
        let y = AvgPool2d::<U2>::new().forward(&x);
        assert_eq!(y, tensor3([[[1, -1, 2, -2]]]));
    }

    #[test]
    fn max_pool_strides_over_windows() {
        let x = tensor3([[[1i8, 2, 3], [4, 5, 6], [7, 8, 9]]]);
        assert_eq!(MaxPool2d::<U2, U1>::new().forward(&x), tensor3([[[5, 6], [8, 9]]]));
        assert_eq!(MaxPool2d::<U3, U1>::new().forward(&x), tensor3([[[9]]]));
    }
}
