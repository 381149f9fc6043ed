//! What an int8 layer with weights does after its multiply-accumulate, per
//! output channel: add the int32 bias, requantise to the output scale, add
//! the output zero point, clamp to the fused activation.
//!
//! Shared by [`Dense`](super::Dense), [`Conv2d`](super::Conv2d) and
//! [`DepthwiseConv2d`](super::DepthwiseConv2d), with the quantisation of
//! their weights from `f32` ([`quantize_weights`]).

use generic_array::{ArrayLength, GenericArray};

use crate::kernel::int8;
use crate::quant::convert::{OutputStage, QuantError};
use crate::quant::fixed::Requantize;
use crate::quant::scale::{Clamp, QParams};
use crate::quant::{Values, ValuesMut};
use crate::shape::Vector;

/// The per-channel output stage of an int8 layer with `O` output channels,
/// and the quantisation of its input and output.
pub struct Channels<O: ArrayLength> {
    /// The int32 bias of each channel, at scale `s_in · s_w[o]`.
    pub bias: Vector<i32, O>,
    /// Each channel's requantisation multiplier (see [`Requantize`]).
    pub multiplier: Vector<i32, O>,
    /// Each channel's requantisation shift.
    pub shift: Vector<i32, O>,
    /// The quantisation of the layer's input.
    pub input: QParams,
    /// The quantisation of the layer's output.
    pub output: QParams,
    /// The fused activation's bounds.
    pub clamp: Clamp,
}

crate::zeroable!(impl[O: ArrayLength] for Channels<O> {
    bias: Vector<i32, O>,
    multiplier: Vector<i32, O>,
    shift: Vector<i32, O>,
    input: QParams,
    output: QParams,
    clamp: Clamp,
});

// Written out: derives would ask `O: Clone + Debug + PartialEq + Default`,
// which a computed size such as `TimesOf<C, M>` does not promise.
impl<O: ArrayLength> Clone for Channels<O> {
    fn clone(&self) -> Self {
        Channels { bias: self.bias.clone(), multiplier: self.multiplier.clone(), shift: self.shift.clone(), ..*self }
    }
}

impl<O: ArrayLength> core::fmt::Debug for Channels<O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Channels")
            .field("bias", &self.bias)
            .field("multiplier", &self.multiplier)
            .field("shift", &self.shift)
            .field("input", &self.input)
            .field("output", &self.output)
            .field("clamp", &self.clamp)
            .finish()
    }
}

impl<O: ArrayLength> PartialEq for Channels<O> {
    fn eq(&self, other: &Self) -> bool {
        (self.bias == other.bias && self.multiplier == other.multiplier && self.shift == other.shift)
            && (self.input, self.output, self.clamp) == (other.input, other.output, other.clamp)
    }
}

impl<O: ArrayLength> Default for Channels<O> {
    fn default() -> Self {
        Channels {
            bias: Default::default(),
            multiplier: Default::default(),
            shift: Default::default(),
            input: QParams::default(),
            output: QParams::default(),
            clamp: Clamp::default(),
        }
    }
}

impl<O: ArrayLength> Channels<O> {
    /// The bytes this stage takes in a parameter file (`quant::file`).
    pub const BYTES: usize = (4 + 4 + 1) * O::USIZE + 4 * 4 + 2;

    /// Channel `o`'s requantisation.
    #[inline(always)]
    pub fn requantize(&self, o: usize) -> Requantize {
        Requantize { multiplier: self.multiplier[o], shift: self.shift[o] }
    }

    /// The int8 output of channel `o` for an accumulator `acc` that already
    /// holds the bias: requantised, offset, clamped.
    #[inline(always)]
    pub fn finish(&self, o: usize, acc: i32) -> i8 {
        self.requantize(o).output(acc, self.output.zero_point, self.clamp)
    }

    /// The kernel biases of a layer whose output channels' weights are the
    /// rows of `weights`: `bias[o] − z_in · Σ weights[o]`, the input zero
    /// point folded in so that the kernels multiply raw int8 values.
    pub(crate) fn fold_zero_point(&self, weights: &[i8], kernel_bias: &mut [i32]) {
        let zero_point = self.input.zero_point;
        let row = weights.len() / O::USIZE.max(1);
        for (o, (folded, &bias)) in kernel_bias.iter_mut().zip(&self.bias).enumerate() {
            *folded = bias.wrapping_sub(zero_point.wrapping_mul(int8::sum(&weights[o * row..][..row])));
        }
    }

    /// The output stage as the kernels take it, the sums starting from
    /// `bias` (the kernel bias, or the layer's own).
    #[inline(always)]
    pub(crate) fn stage<'a>(&'a self, bias: &'a [i32]) -> int8::Stage<'a> {
        int8::Stage {
            bias,
            multiplier: &self.multiplier,
            shift: &self.shift,
            zero_point: self.output.zero_point,
            min: self.clamp.min,
            max: self.clamp.max,
        }
    }

    /// Walks the tensors for a parameter file: bias, multipliers, shifts,
    /// input scale and zero point, output scale and zero point, clamp.
    pub(crate) fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        f(Values::Bias(&self.bias));
        f(Values::Multiplier(&self.multiplier));
        f(Values::Shift(&self.shift));
        self.input.visit(f);
        self.output.visit(f);
        self.clamp.visit(f);
    }

    /// [`visit`](Self::visit), mutably.
    pub(crate) fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        f(ValuesMut::Bias(&mut self.bias));
        f(ValuesMut::Multiplier(&mut self.multiplier));
        f(ValuesMut::Shift(&mut self.shift));
        self.input.visit_mut(f);
        self.output.visit_mut(f);
        self.clamp.visit_mut(f);
    }

    /// The stage of a layer whose quantisation is given outright (TFLite's
    /// parameters): weight scales per channel, int32 biases, input and
    /// output quantisation, fused activation clamp.
    ///
    /// # Panics
    ///
    /// If `weight_scales` or `bias` holds fewer values than the layer has
    /// output channels (a programming error: the sizes are the type's).
    pub fn from_scales(weight_scales: &[f32], bias: &[i32], input: QParams, output: QParams, clamp: Clamp) -> Self {
        let mut channels = Channels { input, output, clamp, ..Channels::default() };
        for o in 0..O::USIZE {
            let r = Requantize::from_real(input.scale as f64 * weight_scales[o] as f64 / output.scale as f64);
            (channels.multiplier[o], channels.shift[o]) = (r.multiplier, r.shift);
            channels.bias[o] = bias[o];
        }
        channels
    }
}

/// The weight rows of each output channel of a layer, as quantisation reads
/// and writes them: `channel(o)` is the `f32` weights into channel `o`.
pub(crate) struct WeightRows<'a, O: ArrayLength> {
    /// The `f32` weights, `O` rows of equal length.
    pub weights: &'a [f32],
    /// The `f32` biases.
    pub bias: &'a [f32],
    /// The batch norm and activation folded in.
    pub stage: &'a OutputStage<O>,
}

/// Quantises a layer's weights per output channel as TFLite's converter
/// does, to the bit:
/// symmetric int8 in `[−127, 127]` with scale `max |w| / 127`, the bias as
/// int32 at scale `s_in · s_w[o]`, and the requantisation multipliers.
/// Writes the weights into `out` (`O` rows, as `rows.weights`).
pub(crate) fn quantize_weights<O: ArrayLength>(
    rows: WeightRows<'_, O>,
    input: QParams,
    output: QParams,
    at: usize,
    name: &'static str,
    out: &mut [i8],
    channels: &mut Channels<O>,
) -> Result<(), QuantError> {
    let row = rows.weights.len() / O::USIZE;
    if !rows.weights.iter().chain(rows.bias).all(|w| w.is_finite()) {
        return Err(QuantError::NonFiniteWeights { layer: at, name });
    }
    let mut scales = GenericArray::<f32, O>::default();
    let mut biases = GenericArray::<i32, O>::default();
    for o in 0..O::USIZE {
        let folded = |w: f32| rows.stage.weight(o, w);
        let bias = rows.stage.bias(o, rows.bias[o]);
        let weights = &rows.weights[o * row..][..row];
        let max = weights.iter().fold(0.0f32, |m, &w| m.max(folded(w).abs()));
        if !max.is_finite() || !bias.is_finite() {
            return Err(QuantError::NonFiniteWeights { layer: at, name });
        }
        // TFLite's converter: the scale in f64 rounded to f32, then each
        // weight times the f32 reciprocal of the scale, rounded halves away
        // from zero. An all-zero channel quantises to zeros at any scale.
        let scale = if max > 0.0 { (max as f64 / 127.0) as f32 } else { 1.0 };
        scales[o] = scale;
        let reciprocal = (1.0 / scale as f64) as f32;
        for (q, &w) in out[o * row..][..row].iter_mut().zip(weights) {
            *q = (libm::roundf(folded(w) * reciprocal) as i32).clamp(-127, 127) as i8;
        }
        // The bias at scale s_in·s_w (rounded to f32), the same way.
        let bias_scale = (input.scale as f64 * scale as f64) as f32;
        let b = libm::roundf(bias * (1.0 / bias_scale as f64) as f32);
        if b.is_nan() || b.abs() > i32::MAX as f32 {
            return Err(QuantError::BiasOverflow { layer: at, name, channel: o });
        }
        biases[o] = b as i32;
    }
    let clamp = Clamp::of(rows.stage.activation, output);
    *channels = Channels::from_scales(&scales, &biases, input, output, clamp);
    Ok(())
}
