//! From a trained `f32` network to its int8 twin: calibration, then
//! conversion, both computed from the network's type.
//!
//! Every `f32` layer with an int8 form says which of two kinds it is
//! ([`Int8Form::Role`]):
//!
//! - [`OwnLayer`]: it becomes a layer of the int8 network ([`ToInt8`]):
//!   `Dense`, the convolutions, pooling, `Flatten`, residual blocks;
//! - [`FoldsBack`]: it disappears into the int8 layer before it
//!   ([`FoldInto`]): batch norm is folded into that layer's weights and
//!   bias, ReLU and ReLU6 into its output clamp, dropout (the identity at
//!   inference) into nothing.
//!
//! A chain's int8 type is then computed by walking it: each own layer
//! gathers the folding layers after it. `Conv2d, BatchNorm2d, Relu,
//! MaxPool2d` becomes `quant::Conv2d, quant::MaxPool2d`, and a layer that
//! cannot be folded where it stands (a batch norm after a pooling layer) or
//! that has no int8 form (an LSTM) is a compile error that names it.

use core::fmt;

use generic_array::sequence::GenericSequence;
use generic_array::{ArrayLength, GenericArray};

use crate::layer::Layer;
use crate::layers::batch_norm::{Affinity, BatchNorm, FoldError};
use crate::layers::{Dropout, Identity, Relu, Relu6};
use crate::quant::scale::{Activation, QParams, Range, RangeError};
use crate::shape::Tensor;

/// Why a network could not be quantised. `layer` counts every layer of the
/// `f32` network in order from 0, the layers inside residual blocks
/// included (a block counts as one layer, then its body's layers follow);
/// `name` is the layer's type.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QuantError {
    /// No calibration sample was observed.
    EmptyCalibration,
    /// The network's input took a NaN or an infinity in calibration.
    NonFiniteInput,
    /// The network's input was exactly zero on every calibration sample.
    ConstantInput,
    /// This layer's output took a NaN or an infinity in calibration.
    NonFiniteActivation {
        /// The layer's position.
        layer: usize,
        /// The layer's type.
        name: &'static str,
    },
    /// This layer's output was exactly zero on every calibration sample
    /// (a dead layer): it carries nothing to quantise.
    ConstantActivation {
        /// The layer's position.
        layer: usize,
        /// The layer's type.
        name: &'static str,
    },
    /// A weight or bias of this layer is not finite.
    NonFiniteWeights {
        /// The layer's position.
        layer: usize,
        /// The layer's type.
        name: &'static str,
    },
    /// A quantised bias of this layer's output channel does not fit in 32
    /// bits (its weights or input scale are tiny beside the bias).
    BiasOverflow {
        /// The layer's position.
        layer: usize,
        /// The layer's type.
        name: &'static str,
        /// The output channel.
        channel: usize,
    },
    /// The batch norm at this position follows an activation: it cannot be
    /// folded into the weights before that activation.
    BatchNormAfterActivation {
        /// The batch norm's position.
        layer: usize,
    },
    /// The batch norm at this position could not be folded.
    Fold {
        /// The batch norm's position.
        layer: usize,
        /// Why.
        error: FoldError,
    },
}

impl QuantError {
    /// The error for a layer's output range.
    pub(crate) fn of_range(error: RangeError, layer: usize, name: &'static str) -> QuantError {
        match error {
            RangeError::Empty => QuantError::EmptyCalibration,
            RangeError::NonFinite => QuantError::NonFiniteActivation { layer, name },
            RangeError::Constant => QuantError::ConstantActivation { layer, name },
        }
    }
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            QuantError::EmptyCalibration => write!(f, "no calibration sample was given: activation ranges are unknown"),
            QuantError::NonFiniteInput => write!(f, "the calibration samples hold a NaN or an infinity"),
            QuantError::ConstantInput => write!(f, "every calibration sample is all zeros: the input range is empty"),
            QuantError::NonFiniteActivation { layer, name } => {
                write!(f, "layer {layer} ({name}) produced a NaN or an infinity on the calibration samples")
            }
            QuantError::ConstantActivation { layer, name } => write!(
                f,
                "layer {layer} ({name}) output exactly zero on every calibration sample: it is dead, and has no range to quantise"
            ),
            QuantError::NonFiniteWeights { layer, name } => {
                write!(f, "layer {layer} ({name}) has a weight or bias that is not finite")
            }
            QuantError::BiasOverflow { layer, name, channel } => {
                write!(f, "layer {layer} ({name}): the int32 bias of output channel {channel} overflows")
            }
            QuantError::BatchNormAfterActivation { layer } => write!(
                f,
                "layer {layer} (BatchNorm) follows an activation: only a batch norm right after its Dense or convolution folds into it"
            ),
            QuantError::Fold { layer, error } => write!(f, "layer {layer} (BatchNorm): {error}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for QuantError {}

/// Calibration: runs an `f32` layer for inference while widening the ranges
/// of what it produces (for a block or a chain, of what each of its layers
/// produces).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be calibrated on input `{In}`",
    label = "this layer has no int8 form, or does not take `{In}`",
    note = "int8 networks are made of Dense, Conv2d, DepthwiseConv2d, pooling, Flatten, Residual and Projected blocks, \
            with BatchNorm, Relu, Relu6 and Dropout folded into the layer before them"
)]
pub trait Calibrate<In>: Layer<In> {
    /// The ranges observed: a [`Range`] for one layer, nested like the
    /// network for chains and blocks.
    type Ranges: Clone + fmt::Debug + Default;

    /// Runs the layer on `input` (evaluation mode), widens `ranges` and
    /// returns the output.
    fn calibrate(&self, input: &In, ranges: &mut Self::Ranges) -> Self::Output;

    /// The range of the layer's (or the chain's) final output.
    fn output_range(ranges: &Self::Ranges) -> Range;
}

/// Marks an `f32` layer whose calibration is the range of its output alone:
/// every layer with an int8 form but chains and residual blocks.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form",
    label = "this layer cannot be quantised",
    note = "int8 networks are made of Dense, Conv2d, DepthwiseConv2d, pooling, Flatten, Residual and Projected blocks, \
            with BatchNorm, Relu, Relu6 and Dropout folded into the layer before them"
)]
pub trait ObservesOutput {}

impl<In, L> Calibrate<In> for L
where
    L: ObservesOutput + Layer<In, Output: Tensor<Scalar = f32>>,
{
    type Ranges = Range;

    #[inline]
    fn calibrate(&self, input: &In, range: &mut Range) -> Self::Output {
        let output = self.forward(input);
        range.observe(output.as_flat());
        output
    }

    #[inline]
    fn output_range(range: &Range) -> Range {
        *range
    }
}

impl<In, A: Calibrate<In>> Calibrate<In> for (A,) {
    type Ranges = (A::Ranges,);

    #[inline]
    fn calibrate(&self, input: &In, ranges: &mut Self::Ranges) -> Self::Output {
        self.0.calibrate(input, &mut ranges.0)
    }

    #[inline]
    fn output_range(ranges: &Self::Ranges) -> Range {
        A::output_range(&ranges.0)
    }
}

impl<In, A: Calibrate<In>, Rest: Calibrate<A::Output>> Calibrate<In> for (A, Rest) {
    type Ranges = (A::Ranges, Rest::Ranges);

    #[inline]
    fn calibrate(&self, input: &In, ranges: &mut Self::Ranges) -> Self::Output {
        let mid = self.0.calibrate(input, &mut ranges.0);
        self.1.calibrate(&mid, &mut ranges.1)
    }

    #[inline]
    fn output_range(ranges: &Self::Ranges) -> Range {
        Rest::output_range(&ranges.1)
    }
}

/// The role of a layer that becomes a layer of the int8 network.
#[derive(Clone, Copy, Debug, Default)]
pub struct OwnLayer;

/// The role of a layer that folds into the int8 layer before it.
#[derive(Clone, Copy, Debug, Default)]
pub struct FoldsBack;

/// An `f32` layer with an int8 form, and which kind ([`OwnLayer`] or
/// [`FoldsBack`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form",
    label = "this layer cannot be quantised",
    note = "int8 networks are made of Dense, Conv2d, DepthwiseConv2d, pooling, Flatten, Residual and Projected blocks, \
            with BatchNorm, Relu, Relu6 and Dropout folded into the layer before them"
)]
pub trait Int8Form {
    /// [`OwnLayer`] or [`FoldsBack`].
    type Role;
}

/// An `f32` layer that becomes a layer of the int8 network.
pub trait ToInt8<In>: Calibrate<In> + Int8Form<Role = OwnLayer> {
    /// The int8 layer.
    type Int8;
    /// What the layers folded into this one change: its per-channel
    /// output affine and clamp ([`OutputStage`]), or nothing ([`NoStage`]).
    type Stage;
    /// The layer's type, for errors.
    const NAME: &'static str;

    /// The stage before anything is folded in.
    fn stage(&self) -> Self::Stage;

    /// Writes the int8 layer into `out`, given the stage its folded layers
    /// left, the quantisation of its input and of its (final) output, and
    /// returns the output quantisation it produces (`output`, but for a
    /// nested chain, whose own last layer decides). `at` is the layer's
    /// position, for errors; layers inside a block count on from it.
    fn to_int8(
        &self,
        ranges: &Self::Ranges,
        stage: &Self::Stage,
        input: QParams,
        output: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError>;

    /// How many positions the layer takes in the count errors use: 1, and
    /// a block's body more.
    fn positions() -> usize {
        1
    }

    /// The quantisation of the layer's output, from the range calibration
    /// observed there (and the layer's input quantisation): TFLite's choice
    /// from the range, unless the layer passes its input's through.
    fn output_quantisation(input: QParams, range: Range, at: usize) -> Result<QParams, QuantError> {
        let _ = input;
        QParams::from_range(range).map_err(|e| QuantError::of_range(e, at, Self::NAME))
    }
}

/// An `f32` layer that folds into the int8 layer before it, whose stage is
/// `Stage`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be folded into the layer before it",
    label = "no int8 layer to fold this into",
    note = "BatchNorm folds into a Dense, Conv2d or DepthwiseConv2d with as many outputs as it has channels; \
            Relu and Relu6 into those and into residual blocks; a pooling or Flatten layer takes no fold: \
            put the activation before it"
)]
pub trait FoldInto<Stage>: Int8Form<Role = FoldsBack> {
    /// Folds the layer into `stage`; `at` is its position, for errors.
    fn fold_into(&self, stage: &mut Stage, at: usize) -> Result<(), QuantError>;
}

/// The stage of a layer with per-channel outputs: `y_c = α_c·(layer)_c + β_c`
/// then the activation, as gathered from the batch norms and activations
/// folded into it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputStage<C: ArrayLength> {
    /// Each channel's factor `α_c` (1 before any batch norm).
    pub alpha: GenericArray<f64, C>,
    /// Each channel's offset `β_c` (0 before any batch norm).
    pub beta: GenericArray<f64, C>,
    /// The activation fused into the output clamp.
    pub activation: Activation,
}

impl<C: ArrayLength> Default for OutputStage<C> {
    fn default() -> Self {
        OutputStage {
            alpha: GenericArray::generate(|_| 1.0),
            beta: GenericArray::default(),
            activation: Activation::None,
        }
    }
}

impl<C: ArrayLength> OutputStage<C> {
    /// A weight into channel `c` after the fold, in `f32`.
    pub(crate) fn weight(&self, c: usize, weight: f32) -> f32 {
        (weight as f64 * self.alpha[c]) as f32
    }

    /// Channel `c`'s bias after the fold, in `f32`.
    pub(crate) fn bias(&self, c: usize, bias: f32) -> f32 {
        (bias as f64 * self.alpha[c] + self.beta[c]) as f32
    }
}

/// The stage of a residual block's add: its fused activation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddStage {
    /// The activation fused into the add's clamp.
    pub activation: Activation,
}

/// The stage of a layer that takes no fold (pooling, `Flatten`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoStage;

impl<C: ArrayLength, T, A: Affinity> Int8Form for BatchNorm<C, T, A> {
    type Role = FoldsBack;
}

impl<C: ArrayLength, A: Affinity> FoldInto<OutputStage<C>> for BatchNorm<C, f32, A> {
    fn fold_into(&self, stage: &mut OutputStage<C>, at: usize) -> Result<(), QuantError> {
        if stage.activation != Activation::None {
            return Err(QuantError::BatchNormAfterActivation { layer: at });
        }
        let mut factors = GenericArray::<(f64, f64), C>::default();
        for (c, f) in factors.iter_mut().enumerate() {
            *f = self.fold_factors(c).map_err(|error| QuantError::Fold { layer: at, error })?;
        }
        for (c, (a, b)) in factors.into_iter().enumerate() {
            stage.alpha[c] *= a;
            stage.beta[c] = stage.beta[c] * a + b;
        }
        Ok(())
    }
}

macro_rules! activation_folds {
    ($($layer:ty => $activation:expr),* $(,)?) => {$(
        impl Int8Form for $layer {
            type Role = FoldsBack;
        }

        impl<C: ArrayLength> FoldInto<OutputStage<C>> for $layer {
            #[inline]
            fn fold_into(&self, stage: &mut OutputStage<C>, _: usize) -> Result<(), QuantError> {
                stage.activation = stage.activation.then($activation);
                Ok(())
            }
        }

        impl FoldInto<AddStage> for $layer {
            #[inline]
            fn fold_into(&self, stage: &mut AddStage, _: usize) -> Result<(), QuantError> {
                stage.activation = stage.activation.then($activation);
                Ok(())
            }
        }
    )*};
}

activation_folds!(Relu => Activation::Relu, Relu6 => Activation::Relu6, Identity => Activation::None);

impl Int8Form for Dropout {
    type Role = FoldsBack;
}

/// Dropout is the identity at inference: it folds into anything.
impl<Stage> FoldInto<Stage> for Dropout {
    #[inline]
    fn fold_into(&self, _: &mut Stage, _: usize) -> Result<(), QuantError> {
        Ok(())
    }
}

impl ObservesOutput for Dropout {}
impl ObservesOutput for Identity {}
impl ObservesOutput for Relu {}
impl ObservesOutput for Relu6 {}
impl<C: ArrayLength, A: Affinity> ObservesOutput for BatchNorm<C, f32, A> {}

/// A chain of `f32` layers that converts to int8: its first layer is an
/// [`OwnLayer`], and every [`FoldsBack`] layer follows one it folds into.
#[diagnostic::on_unimplemented(
    message = "the network `{Self}` has no int8 form on input `{In}`",
    label = "a layer of this network cannot be quantised where it stands",
    note = "the first layer must be Dense, Conv2d, DepthwiseConv2d, pooling, Flatten or a residual block; \
            BatchNorm, Relu, Relu6 and Dropout must follow a layer they fold into"
)]
pub trait QuantizeChain<In>: Calibrate<In> {
    /// The int8 network.
    type Int8;

    /// Writes the int8 network into `out`, given the calibration ranges and
    /// the quantisation of the chain's input; returns the quantisation of
    /// its output. `at` is the position of its first layer.
    fn quantize_into(
        &self,
        ranges: &Self::Ranges,
        input: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError>;

    /// How many positions the chain's layers take (see [`QuantError`]).
    fn positions() -> usize;
}

impl<In, A: ToInt8<In>> QuantizeChain<In> for (A,) {
    type Int8 = (A::Int8,);

    fn quantize_into(
        &self,
        ranges: &Self::Ranges,
        input: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let output = A::output_quantisation(input, A::output_range(&ranges.0), at)?;
        self.0.to_int8(&ranges.0, &self.0.stage(), input, output, at, &mut out.0)
    }

    fn positions() -> usize {
        A::positions()
    }
}

impl<In, A: ToInt8<In>, Rest: Gather<A::Output, In, A>> QuantizeChain<In> for (A, Rest) {
    type Int8 = Rest::Int8;

    fn quantize_into(
        &self,
        ranges: &Self::Ranges,
        input: QParams,
        at: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let pending = Pending {
            layer: &self.0,
            ranges: &ranges.0,
            stage: self.0.stage(),
            input,
            at,
            range: A::output_range(&ranges.0),
        };
        self.1.gather_into(pending, &ranges.1, at + A::positions(), out)
    }

    fn positions() -> usize {
        A::positions() + Rest::positions()
    }
}

/// A chain inside a chain (a block written as its own `net!`, as
/// `Separable` in the DS-CNN example) converts as the layers it holds; nothing
/// after it folds into it.
impl<A, Rest> Int8Form for (A, Rest) {
    type Role = OwnLayer;
}

impl<A> Int8Form for (A,) {
    type Role = OwnLayer;
}

macro_rules! nested_chain {
    ($($chain:ty: $($gen:ident),*);*) => {$(
        impl<In, $($gen),*> ToInt8<In> for $chain
        where
            $chain: QuantizeChain<In>,
        {
            type Int8 = <$chain as QuantizeChain<In>>::Int8;
            type Stage = NoStage;
            const NAME: &'static str = "chain";

            fn stage(&self) -> NoStage {
                NoStage
            }

            fn to_int8(&self, ranges: &Self::Ranges, _: &NoStage, input: QParams, _: QParams, at: usize, out: &mut Self::Int8) -> Result<QParams, QuantError> {
                self.quantize_into(ranges, input, at, out)
            }

            fn positions() -> usize {
                <$chain as QuantizeChain<In>>::positions()
            }

            /// Decided by the chain's own last layer, in `to_int8`.
            fn output_quantisation(input: QParams, _: Range, _: usize) -> Result<QParams, QuantError> {
                Ok(input)
            }
        }
    )*};
}

nested_chain!((A, Rest): A, Rest; (A,): A);

/// An own layer waiting for the folding layers after it.
pub struct Pending<'a, In, A: ToInt8<In>> {
    layer: &'a A,
    ranges: &'a A::Ranges,
    stage: A::Stage,
    input: QParams,
    at: usize,
    /// The range of the last layer folded so far: the int8 layer's output.
    range: Range,
}

impl<In, A: ToInt8<In>> Pending<'_, In, A> {
    /// Writes the int8 layer, now that nothing more folds into it.
    fn finish(self, out: &mut A::Int8) -> Result<QParams, QuantError> {
        let output = A::output_quantisation(self.input, self.range, self.at)?;
        self.layer.to_int8(self.ranges, &self.stage, self.input, output, self.at, out)
    }
}

/// The rest of a chain after a pending own layer `A` (whose input is
/// `AIn`): folds its leading [`FoldsBack`] layers into `A`, then converts
/// the rest. Implemented for chains; dispatches on the first layer's role.
pub trait Gather<In, AIn, A: ToInt8<AIn>>: Calibrate<In> {
    /// `A`'s int8 layer followed by the rest's.
    type Int8;

    /// Gathers, then writes `A`'s int8 layer and the rest's into `out`.
    fn gather_into(
        &self,
        pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError>;

    /// How many positions the chain's layers take.
    fn positions() -> usize;
}

/// [`Gather`] by the role of the chain's first layer.
pub trait GatherAs<Role, In, AIn, A: ToInt8<AIn>>: Calibrate<In> {
    /// As [`Gather::Int8`].
    type Int8;
    /// As [`Gather::gather_into`].
    fn gather_as(
        &self,
        pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError>;
    /// As [`Gather::positions`].
    fn positions_as() -> usize;
}

impl<In, AIn, A: ToInt8<AIn>, B: Int8Form, Rest> Gather<In, AIn, A> for (B, Rest)
where
    (B, Rest): GatherAs<B::Role, In, AIn, A>,
{
    type Int8 = <(B, Rest) as GatherAs<B::Role, In, AIn, A>>::Int8;

    #[inline]
    fn gather_into(
        &self,
        pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        self.gather_as(pending, ranges, next, out)
    }

    fn positions() -> usize {
        Self::positions_as()
    }
}

impl<In, AIn, A: ToInt8<AIn>, B: Int8Form> Gather<In, AIn, A> for (B,)
where
    (B,): GatherAs<B::Role, In, AIn, A>,
{
    type Int8 = <(B,) as GatherAs<B::Role, In, AIn, A>>::Int8;

    #[inline]
    fn gather_into(
        &self,
        pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        self.gather_as(pending, ranges, next, out)
    }

    fn positions() -> usize {
        Self::positions_as()
    }
}

// A folding layer then more: fold it, go on gathering.
impl<In, AIn, A, B, Rest> GatherAs<FoldsBack, In, AIn, A> for (B, Rest)
where
    A: ToInt8<AIn>,
    B: FoldInto<A::Stage> + Calibrate<In>,
    Rest: Gather<B::Output, AIn, A>,
{
    type Int8 = Rest::Int8;

    fn gather_as(
        &self,
        mut pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        self.0.fold_into(&mut pending.stage, next)?;
        pending.range = B::output_range(&ranges.0);
        self.1.gather_into(pending, &ranges.1, next + 1, out)
    }

    fn positions_as() -> usize {
        1 + Rest::positions()
    }
}

// A folding layer last: fold it, and the pending layer ends the network.
impl<In, AIn, A, B> GatherAs<FoldsBack, In, AIn, A> for (B,)
where
    A: ToInt8<AIn>,
    B: FoldInto<A::Stage> + Calibrate<In>,
{
    type Int8 = (A::Int8,);

    fn gather_as(
        &self,
        mut pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        self.0.fold_into(&mut pending.stage, next)?;
        pending.range = B::output_range(&ranges.0);
        pending.finish(&mut out.0)
    }

    fn positions_as() -> usize {
        1
    }
}

// An own layer: the pending one is complete; the rest converts on its own.
impl<In, AIn, A, B, Rest> GatherAs<OwnLayer, In, AIn, A> for (B, Rest)
where
    A: ToInt8<AIn>,
    (B, Rest): QuantizeChain<In>,
{
    type Int8 = (A::Int8, <(B, Rest) as QuantizeChain<In>>::Int8);

    fn gather_as(
        &self,
        pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let mid = pending.finish(&mut out.0)?;
        self.quantize_into(ranges, mid, next, &mut out.1)
    }

    fn positions_as() -> usize {
        <(B, Rest) as QuantizeChain<In>>::positions()
    }
}

impl<In, AIn, A, B> GatherAs<OwnLayer, In, AIn, A> for (B,)
where
    A: ToInt8<AIn>,
    (B,): QuantizeChain<In>,
{
    type Int8 = (A::Int8, <(B,) as QuantizeChain<In>>::Int8);

    fn gather_as(
        &self,
        pending: Pending<'_, AIn, A>,
        ranges: &Self::Ranges,
        next: usize,
        out: &mut Self::Int8,
    ) -> Result<QParams, QuantError> {
        let mid = pending.finish(&mut out.0)?;
        self.quantize_into(ranges, mid, next, &mut out.1)
    }

    fn positions_as() -> usize {
        <(B,) as QuantizeChain<In>>::positions()
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use generic_array::sequence::GenericSequence;

    use crate::prelude::*;
    use crate::quant::{self, QuantError};

    type Cnn = net![
        Conv2d<U1, U4, U3, U1, U1>,
        BatchNorm2d<U4>,
        Relu,
        MaxPool2d<U2>,
        DepthwiseConv2d<U4, U3, U1, U1>,
        BatchNorm2d<U4>,
        Relu6,
        Residual<net![Pointwise<U4, U4>, BatchNorm2d<U4>, Relu]>,
        Relu,
        Flatten,
        Dropout,
        Dense<U64, U10>
    ];

    fn images(n: usize, seed: u64) -> Vec<Tensor3<f32, U1, U8, U8>> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                Tensor3::generate(|_| {
                    GenericArray::generate(|_| GenericArray::generate(|_| rng.random_range(0.0..1.0)))
                })
            })
            .collect()
    }

    fn trained_like() -> Cnn {
        let mut net = Cnn::default();
        net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
        // Batch norms with statistics away from the identity, so folding shows.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let mut perturb = |bn: &mut BatchNorm2d<U4>| {
            for c in 0..4 {
                bn.running_mean[c] = rng.random_range(-0.2..0.2);
                bn.running_var[c] = rng.random_range(0.5..2.0);
                bn.weight[c] = rng.random_range(0.5..1.5);
                bn.bias[c] = rng.random_range(-0.1..0.3);
            }
        };
        perturb(net.layer_mut::<U1>());
        perturb(net.layer_mut::<U5>());
        perturb(&mut net.layer_mut::<U7>().body.1.0);
        net
    }

    #[test]
    fn folds_batch_norms_and_activations_out_of_the_int8_type() {
        let net = trained_like();
        let calibration = quant::calibrate(&net, &images(64, 3));
        let int8 = quant::quantize(&net, &calibration).unwrap();
        // Conv+BN+ReLU, MaxPool, Depthwise+BN+ReLU6, Residual(Pointwise+BN+ReLU)+ReLU, Flatten, Dense.
        type Fused = net![
            quant::Conv2d<U1, U4, U3, U1, U1>,
            quant::MaxPool2d<U2>,
            quant::DepthwiseConv2d<U4, U3, U1, U1>,
            quant::Residual<net![quant::Conv2d<U4, U4, U1>]>,
            quant::Flatten,
            quant::Dense<U64, U10>
        ];
        typenum::assert_type_eq!(quant::QuantizedOf<Cnn, Tensor3<f32, U1, U8, U8>>, quant::Quantized<Fused>);

        // The int8 network tracks the f32 one: logits within a few output
        // steps, and the same class on most samples.
        let mut same = 0;
        let test = images(100, 4);
        for x in &test {
            let f = net.forward(x);
            let q = int8.forward(&int8.quantize_input(x));
            for (f, q) in f.iter().zip(q.iter()) {
                assert!(
                    (f - int8.output.dequantize(*q)).abs() < 8.0 * int8.output.scale,
                    "{f} vs {}",
                    int8.output.dequantize(*q)
                );
            }
            let argmax = (0..10).max_by(|&a, &b| f[a].total_cmp(&f[b])).unwrap();
            same += usize::from(argmax == int8.classify(x));
        }
        assert!(same >= 90, "{same} of 100 classes agree");
    }

    #[test]
    fn int8_networks_build_in_place() {
        type Int8Cnn = quant::QuantizedOf<Cnn, Tensor3<f32, U1, U8, U8>>;
        let mut slot = core::mem::MaybeUninit::<Int8Cnn>::uninit();
        assert!(*crate::memory::default_in(&mut slot) == Int8Cnn::default());
        type Projecting = net![Projected<net![Conv2d<U1, U2, U3, U2, U1>, Relu], net![Pointwise<U1, U2, U2>]>, GlobalAvgPool, Dense<U2, U2>];
        type Int8Projecting = quant::QuantizedOf<Projecting, Tensor3<f32, U1, U4, U4>>;
        let mut slot = core::mem::MaybeUninit::<Int8Projecting>::uninit();
        assert!(*crate::memory::default_in(&mut slot) == Int8Projecting::default());
    }

    #[test]
    fn errors_name_the_layer() {
        let net = trained_like();
        let empty = quant::Calibration::<Tensor3<f32, U1, U8, U8>, _>::new();
        assert_eq!(quant::quantize(&net, &empty).unwrap_err(), QuantError::EmptyCalibration);

        let zeros = std::vec![Tensor3::<f32, U1, U8, U8>::default(); 4];
        assert_eq!(quant::quantize(&net, &quant::calibrate(&net, &zeros)).unwrap_err(), QuantError::ConstantInput);

        let mut nan = images(4, 5);
        nan[2][0][3][3] = f32::NAN;
        assert_eq!(quant::quantize(&net, &quant::calibrate(&net, &nan)).unwrap_err(), QuantError::NonFiniteInput);

        // A dead first convolution: every output of its ReLU is zero.
        let mut dead = trained_like();
        dead.layer_mut::<U1>().bias.fill(-100.0);
        dead.layer_mut::<U1>().weight.fill(0.0);
        let error = quant::quantize(&dead, &quant::calibrate(&dead, &images(8, 6))).unwrap_err();
        assert_eq!(error, QuantError::ConstantActivation { layer: 0, name: "Conv2d" });

        // A batch norm with a negative variance, inside the residual body:
        // the block is layer 7, its body's layers 8, 9, 10. (Calibrated on
        // the sound network: the bad one's activations are NaN, which its
        // ReLU keeps, and calibration refuses them first.)
        let mut bad = trained_like();
        bad.layer_mut::<U7>().body.1.0.running_var[1] = -3.0;
        let calibration = quant::calibrate(&bad, &images(8, 6));
        let error = quant::quantize(&bad, &calibration).unwrap_err();
        assert_eq!(error, QuantError::NonFiniteActivation { layer: 7, name: "Residual" });
        let error = quant::quantize(&bad, &quant::calibrate(&trained_like(), &images(8, 6))).unwrap_err();
        assert!(matches!(error, QuantError::Fold { layer: 9, .. }), "{error:?}");

        // Non-finite weights in the last Dense (position 14).
        let mut inf = trained_like();
        inf.layer_mut::<U11>().weight[3][5] = f32::INFINITY;
        let error = quant::quantize(&inf, &quant::calibrate(&trained_like(), &images(8, 6))).unwrap_err();
        assert_eq!(error, QuantError::NonFiniteWeights { layer: 14, name: "Dense" });
    }
}
