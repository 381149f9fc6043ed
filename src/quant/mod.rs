//! Int8 deployment: calibrate a trained `f32` network, convert it to its
//! integer-only twin, and run that with TFLite's int8 arithmetic, bit for
//! bit.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::quant::{self, Int8Params};
//!
//! type Net = net![Dense<U4, U8>, Relu, Dense<U8, U3>];
//! let mut net = Net::default();
//! net.init(&mut Xoshiro256PlusPlus::seed_from_u64(7));
//!
//! // Calibration: the ranges every layer's output takes on typical inputs.
//! let samples: Vec<Vector<f32, U4>> = (0..64)
//!     .map(|i| vector([0.1 * (i % 7) as f32, -0.5, 0.03 * i as f32, 1.0]))
//!     .collect();
//! let calibration = quant::calibrate(&net, &samples);
//!
//! // Conversion: the int8 twin's type comes from the network's. ReLU fused.
//! let int8 = quant::quantize(&net, &calibration)?;
//! type Int8Net = quant::QuantizedOf<Net, Vector<f32, U4>>;
//! typenum::assert_type_eq!(Int8Net, quant::Quantized<(quant::Dense<U4, U8>, (quant::Dense<U8, U3>,))>);
//! // Its parameters: int8 weights, and per output channel an int32 bias,
//! // multiplier and an 8-bit shift; scales, zero points and a clamp per layer.
//! let per_layer = |i: usize, o: usize| i * o + (4 + 4 + 1) * o + 4 * 4 + 2;
//! assert_eq!(Int8Net::BYTES, 4 * 4 + per_layer(4, 8) + per_layer(8, 3));
//!
//! // Inference with integers alone, within a few output steps of f32.
//! let x = vector([0.3, -0.5, 1.2, 1.0]);
//! let y = int8.forward(&int8.quantize_input(&x));
//! for (q, f) in y.iter().zip(net.forward(&x)) {
//!     assert!((int8.output.dequantize(*q) - f).abs() < 3.0 * int8.output.scale);
//! }
//! let class = int8.classify(&x); // argmax of the int8 logits
//! # Ok::<(), quant::QuantError>(())
//! ```
//!
//! # What is where
//!
//! - [`fixed`]: TFLite's fixed-point multiplier ([`Requantize`]) and its
//!   roundings.
//! - [`scale`]: scales and zero points ([`QParams`]) from calibration
//!   ranges ([`Range`]), fused activation clamps.
//! - [`convert`]: calibration ([`Calibrate`]) and the conversion
//!   ([`QuantizeChain`]) that folds batch norm and fuses activations.
//! - The int8 layers: [`Dense`], [`Conv2d`], [`DepthwiseConv2d`],
//!   [`MaxPool2d`], [`AvgPool2d`], [`GlobalAvgPool`] (TFLite's `MEAN`), [`Flatten`],
//!   [`Residual`], [`Projected`].
//! - [`Quantized`]: a whole int8 network with its input and output
//!   quantisation; [`Int8Params`] walks its parameters for files.

use core::fmt::Debug;
use core::marker::PhantomData;

use generic_array::{ArrayLength, GenericArray};

use crate::layer::Layer;
use crate::memory::Zeroable;
use crate::shape::Tensor;

mod channels;
mod conv;
pub mod convert;
mod dense;
mod depthwise;
pub mod file;
pub mod fixed;
mod pool;
mod residual;
pub mod scale;

pub use crate::layers::{AvgPool2d, Flatten, MaxPool2d};
pub use channels::Channels;
pub use conv::Conv2d;
pub use convert::{Calibrate, QuantError, QuantizeChain};
pub use dense::Dense;
pub use depthwise::DepthwiseConv2d;
pub use fixed::Requantize;
pub use pool::GlobalAvgPool;
pub use residual::{Add, Projected, Residual};
pub use scale::{Activation, Clamp, QParams, Range, RangeError};

mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl<X: Sealed, N: generic_array::ArrayLength> Sealed for generic_array::GenericArray<X, N> {}
}

/// An int8 activation: `i8`, or a [`GenericArray`] of them, the same shapes
/// as the `f32` tensors (`Vector<i8, N>`, `Tensor3<i8, C, H, W>`).
pub trait Int8Tensor: Clone + Default + Debug + PartialEq + Zeroable + sealed::Sealed {
    /// The number of values.
    const LEN: usize;
    /// The values in row-major order.
    fn as_flat(&self) -> &[i8];
    /// The values in row-major order, mutably.
    fn as_flat_mut(&mut self) -> &mut [i8];
}

impl Int8Tensor for i8 {
    const LEN: usize = 1;
    #[inline]
    fn as_flat(&self) -> &[i8] {
        core::slice::from_ref(self)
    }
    #[inline]
    fn as_flat_mut(&mut self) -> &mut [i8] {
        core::slice::from_mut(self)
    }
}

impl<X: Int8Tensor, N: ArrayLength> Int8Tensor for GenericArray<X, N> {
    const LEN: usize = N::USIZE * X::LEN;
    #[inline]
    fn as_flat(&self) -> &[i8] {
        crate::memory::flat_i8(self)
    }
    #[inline]
    fn as_flat_mut(&mut self) -> &mut [i8] {
        crate::memory::flat_i8_mut(self)
    }
}

/// The int8 tensor of the same shape as an `f32` tensor.
pub trait ToInt8Tensor: Tensor {
    /// `Vector<i8, N>` for `Vector<f32, N>`, and so on.
    type Int8: Int8Tensor;
}

impl ToInt8Tensor for f32 {
    type Int8 = i8;
}

impl<X: ToInt8Tensor, N: ArrayLength> ToInt8Tensor for GenericArray<X, N>
where
    GenericArray<X, N>: Tensor,
{
    type Int8 = GenericArray<X::Int8, N>;
}

/// The int8 tensor shaped like `X`: `Int8Of<Tensor3<f32, C, H, W>>` is
/// `Tensor3<i8, C, H, W>`.
pub type Int8Of<X> = <X as ToInt8Tensor>::Int8;

/// The index of the largest value (the first of equals): the class of
/// int8 logits, with no dequantisation (the scale is positive, so the order
/// is the same).
///
/// ```
/// assert_eq!(typenet::quant::argmax(&[-3i8, 7, 7, 2]), 1);
/// ```
pub fn argmax(values: &[i8]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// The ranges a network's tensors took over calibration samples: its
/// input's, and each layer's output's, nested like the network.
///
/// `In` is the network's input type; `R` the ranges' type, nested like the
/// network ([`Calibrate::Ranges`]). Both are inferred from
/// [`observe`](Self::observe) or [`calibrate`].
#[derive(Clone, Debug)]
pub struct Calibration<In, R> {
    /// The range of the network's input.
    pub input: Range,
    /// Each layer's output range.
    pub layers: R,
    /// How many samples were observed.
    pub samples: usize,
    of: PhantomData<fn(&In)>,
}

impl<In, R: Default> Default for Calibration<In, R> {
    fn default() -> Self {
        Calibration { input: Range::default(), layers: R::default(), samples: 0, of: PhantomData }
    }
}

impl<In: Tensor<Scalar = f32>, R: Default> Calibration<In, R> {
    /// Nothing observed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `net` on one more sample, widening every range.
    pub fn observe<Net>(&mut self, net: &Net, input: &In)
    where
        Net: Calibrate<In, Ranges = R>,
    {
        self.input.observe(input.as_flat());
        net.calibrate(input, &mut self.layers);
        self.samples += 1;
    }
}

/// Runs `net` over `samples` and records the ranges its tensors take: the
/// first step of quantisation. Use a few hundred samples like the training
/// data (TFLite's converter uses what its `representative_dataset` gives).
pub fn calibrate<'a, In, Net>(net: &Net, samples: impl IntoIterator<Item = &'a In>) -> Calibration<In, Net::Ranges>
where
    In: Tensor<Scalar = f32> + 'a,
    Net: Calibrate<In>,
{
    let mut calibration = Calibration::new();
    for x in samples {
        calibration.observe(net, x);
    }
    calibration
}

/// Converts `net` to its int8 twin from the ranges of `calibration`, by
/// value. See [`quantize_into`] to write a large network in place.
///
/// Errors: [`QuantError`], naming the layer (an empty calibration, a NaN
/// or a dead layer met in calibration, weights that are not finite, a batch
/// norm that does not fold).
pub fn quantize<In, Net>(
    net: &Net,
    calibration: &Calibration<In, Net::Ranges>,
) -> Result<Quantized<Net::Int8>, QuantError>
where
    Net: QuantizeChain<In>,
    Net::Int8: Default,
{
    let mut out = Quantized { input: QParams::default(), output: QParams::default(), net: Net::Int8::default() };
    quantize_into(net, calibration, &mut out)?;
    Ok(out)
}

/// [`quantize`] into `out` (for instance a `Box` from
/// [`memory::default_box`](crate::memory::default_box)). On an error `out`
/// holds a partly converted network: do not run it.
pub fn quantize_into<In, Net>(
    net: &Net,
    calibration: &Calibration<In, Net::Ranges>,
    out: &mut Quantized<Net::Int8>,
) -> Result<(), QuantError>
where
    Net: QuantizeChain<In>,
{
    if calibration.samples == 0 {
        return Err(QuantError::EmptyCalibration);
    }
    let input = QParams::from_range(calibration.input).map_err(|e| match e {
        RangeError::Empty => QuantError::EmptyCalibration,
        RangeError::NonFinite => QuantError::NonFiniteInput,
        RangeError::Constant => QuantError::ConstantInput,
    })?;
    out.input = input;
    out.output = net.quantize_into(&calibration.layers, input, 0, &mut out.net)?;
    Ok(())
}

/// The int8 network `quantize` makes of the `f32` network `Net` on inputs
/// `In`: a type, so its size is known at compile time.
pub type QuantizedOf<Net, In> = Quantized<<Net as QuantizeChain<In>>::Int8>;

/// A whole int8 network: its layers, and how its input and output map to
/// real numbers.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Quantized<Net> {
    /// The quantisation of the network's input.
    pub input: QParams,
    /// The quantisation of the network's output.
    pub output: QParams,
    /// The int8 layers.
    pub net: Net,
}

crate::zeroable!(impl[Net: Zeroable] for Quantized<Net> { input: QParams, output: QParams, net: Net });

impl<Net: crate::memory::DefaultInPlace> crate::memory::DefaultInPlace for Quantized<Net> {
    fn zeroed_to_default(&mut self) {
        self.input = QParams::default();
        self.output = QParams::default();
        self.net.zeroed_to_default();
    }
}

impl<Net> Quantized<Net> {
    /// Quantises an `f32` input as the network expects it (TFLite's
    /// `QUANTIZE`).
    pub fn quantize_input<X: ToInt8Tensor<Scalar = f32>>(&self, x: &X) -> X::Int8 {
        let mut q = X::Int8::default();
        self.input.quantize_slice(x.as_flat(), q.as_flat_mut());
        q
    }

    /// Runs the int8 network on an int8 input.
    #[inline]
    pub fn forward<X>(&self, x: &X) -> Net::Output
    where
        Net: Layer<X>,
    {
        self.net.forward(x)
    }

    /// The class of an `f32` input: quantise, run, and take the largest
    /// int8 output.
    pub fn classify<X: ToInt8Tensor<Scalar = f32>>(&self, x: &X) -> usize
    where
        Net: Layer<X::Int8, Output: Int8Tensor>,
    {
        argmax(self.forward(&self.quantize_input(x)).as_flat())
    }

    /// The fraction of `data` (`f32` inputs and their classes) that the
    /// int8 network classifies correctly; `None` for no data.
    pub fn accuracy<X: ToInt8Tensor<Scalar = f32>>(&self, data: &[(X, usize)]) -> Option<f64>
    where
        Net: Layer<X::Int8, Output: Int8Tensor>,
    {
        let correct = data.iter().filter(|(x, class)| self.classify(x) == *class).count();
        (!data.is_empty()).then(|| correct as f64 / data.len() as f64)
    }

    /// Dequantises an int8 output into `out` (TFLite's `DEQUANTIZE`).
    pub fn dequantize_output<Y: Int8Tensor>(&self, y: &Y, out: &mut [f32]) {
        self.output.dequantize_slice(y.as_flat(), out);
    }
}

/// One tensor of an int8 layer's parameters, as a parameter file holds it,
/// with what it means (so a load checks each value's range).
#[derive(Debug)]
pub enum Values<'a> {
    /// Int8 weights: any value.
    Weights(&'a [i8]),
    /// Int32 biases: any value.
    Bias(&'a [i32]),
    /// Requantisation multipliers: `0..=i32::MAX`.
    Multiplier(&'a [i32]),
    /// Requantisation shifts: `-31..=30`.
    Shift(&'a [i32]),
    /// Scales: finite and positive.
    Scale(&'a [f32]),
    /// Zero points: `-128..=127`.
    ZeroPoint(&'a [i32]),
    /// Clamp bounds: any int8 value.
    Bound(&'a [i8]),
}

/// [`Values`], mutably: how a parameter file is loaded.
#[derive(Debug)]
pub enum ValuesMut<'a> {
    /// Int8 weights.
    Weights(&'a mut [i8]),
    /// Int32 biases.
    Bias(&'a mut [i32]),
    /// Requantisation multipliers.
    Multiplier(&'a mut [i32]),
    /// Requantisation shifts.
    Shift(&'a mut [i32]),
    /// Scales.
    Scale(&'a mut [f32]),
    /// Zero points.
    ZeroPoint(&'a mut [i32]),
    /// Clamp bounds.
    Bound(&'a mut [i8]),
}

impl QParams {
    /// Walks the scale and the zero point for a parameter file.
    pub(crate) fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        f(Values::Scale(core::slice::from_ref(&self.scale)));
        f(Values::ZeroPoint(core::slice::from_ref(&self.zero_point)));
    }

    /// [`visit`](Self::visit), mutably.
    pub(crate) fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        f(ValuesMut::Scale(core::slice::from_mut(&mut self.scale)));
        f(ValuesMut::ZeroPoint(core::slice::from_mut(&mut self.zero_point)));
    }
}

impl Clamp {
    /// Walks the bounds for a parameter file.
    pub(crate) fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        f(Values::Bound(core::slice::from_ref(&self.min)));
        f(Values::Bound(core::slice::from_ref(&self.max)));
    }

    /// [`visit`](Self::visit), mutably.
    pub(crate) fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        f(ValuesMut::Bound(core::slice::from_mut(&mut self.min)));
        f(ValuesMut::Bound(core::slice::from_mut(&mut self.max)));
    }
}

impl Requantize {
    /// Walks the multiplier and the shift for a parameter file.
    pub(crate) fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        f(Values::Multiplier(core::slice::from_ref(&self.multiplier)));
        f(Values::Shift(core::slice::from_ref(&self.shift)));
    }

    /// [`visit`](Self::visit), mutably.
    pub(crate) fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        f(ValuesMut::Multiplier(core::slice::from_mut(&mut self.multiplier)));
        f(ValuesMut::Shift(core::slice::from_mut(&mut self.shift)));
    }
}

/// The parameters of an int8 layer or network, walked one tensor at a time
/// for parameter files, with the size and an architecture signature known
/// at compile time.
pub trait Int8Params {
    /// The size in bytes of every tensor the walk visits.
    const BYTES: usize;
    /// A fingerprint of the layers' kinds and sizes: a file written for one
    /// architecture is refused by another, even of the same size.
    const SIGNATURE: u32;

    /// Calls `f` with each parameter tensor, in order.
    fn visit(&self, f: &mut impl FnMut(Values<'_>));

    /// Calls `f` with each parameter tensor mutably, in order.
    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>));

    /// Recomputes what the layer derives from its parameters (the kernels'
    /// folded biases), after [`visit_mut`](Self::visit_mut) wrote them.
    fn refresh(&mut self) {}
}

/// FNV-1a over `words`, continuing from `hash`: how signatures combine.
pub const fn signature(mut hash: u32, words: &[u32]) -> u32 {
    let mut i = 0;
    while i < words.len() {
        let bytes = words[i].to_le_bytes();
        let mut b = 0;
        while b < 4 {
            hash ^= bytes[b] as u32;
            hash = hash.wrapping_mul(0x0100_0193);
            b += 1;
        }
        i += 1;
    }
    hash
}

/// The FNV-1a starting value.
pub const SIGNATURE_SEED: u32 = 0x811c_9dc5;

impl<A: Int8Params> Int8Params for (A,) {
    const BYTES: usize = A::BYTES;
    const SIGNATURE: u32 = A::SIGNATURE;
    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        self.0.visit(f);
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        self.0.visit_mut(f);
    }
    fn refresh(&mut self) {
        self.0.refresh();
    }
}

impl<A: Int8Params, Rest: Int8Params> Int8Params for (A, Rest) {
    const BYTES: usize = A::BYTES + Rest::BYTES;
    const SIGNATURE: u32 = signature(A::SIGNATURE, &[Rest::SIGNATURE]);
    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        self.0.visit(f);
        self.1.visit(f);
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        self.0.visit_mut(f);
        self.1.visit_mut(f);
    }
    fn refresh(&mut self) {
        self.0.refresh();
        self.1.refresh();
    }
}

impl<Net: Int8Params> Int8Params for Quantized<Net> {
    const BYTES: usize = 4 * 4 + Net::BYTES;
    const SIGNATURE: u32 = Net::SIGNATURE;
    fn visit(&self, f: &mut impl FnMut(Values<'_>)) {
        self.input.visit(f);
        self.output.visit(f);
        self.net.visit(f);
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(ValuesMut<'_>)) {
        self.input.visit_mut(f);
        self.output.visit_mut(f);
        self.net.visit_mut(f);
    }
    fn refresh(&mut self) {
        self.net.refresh();
    }
}
