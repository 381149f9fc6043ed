//! The layer traits: [`Layer`] runs inference, [`Params`] walks parameters,
//! [`Train`] adds the training forward and the backward pass.
//!
//! A layer is a value holding its parameters and nothing else; a network is
//! a chain of layers (see [`crate::chain`]) and implements the same traits,
//! so everything below works on one layer and on a whole network alike.
//!
//! ```
//! use typenet::prelude::*;
//!
//! let layer = Dense::<U2, U1, f64>::new(matrix([[2.0, -1.0]]), vector([0.5]));
//! let x = vector([1.0, 3.0]);
//!
//! // Inference: no cache, no gradients.
//! assert_eq!(layer.forward(&x)[0], -0.5);
//!
//! // Training: keep a cache, then push an output gradient back.
//! let mut cache = Default::default();
//! let mut grads = Dense::<U2, U1, f64>::default();
//! let y = layer.forward_train(&x, &mut cache, &mut NoRng);
//! let dx = layer.backward(&x, &cache, &vector([1.0]), &mut grads);
//! assert_eq!(y[0], -0.5);
//! assert_eq!(dx.as_slice(), &[2.0, -1.0]); // dL/dx = Wᵀ·dy
//! assert_eq!(grads.weight[0].as_slice(), &[1.0, 3.0]); // dL/dW = dy·xᵀ
//! ```

use rand::Rng;

use crate::memory::Zeroable;
use crate::shape::Tensor;

/// Inference: a layer maps an input of type `In` to its output.
///
/// Implemented by every layer for the inputs it accepts, and by chains of
/// layers. The input type carries the shape, so a layer that cannot take the
/// previous layer's output does not compile.
#[diagnostic::on_unimplemented(
    message = "layer `{Self}` cannot take input `{In}`",
    label = "this layer's input size or type does not match `{In}`",
    note = "each layer must accept the previous layer's output; check the sizes and the scalar type",
    note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B0>` is U4 (1,0,0)"
)]
pub trait Layer<In> {
    /// What the layer produces for an `In`.
    type Output;

    /// Runs the layer for inference: no cache is kept.
    fn forward(&self, input: &In) -> Self::Output;
}

/// Storage shaped like a layer's parameters: the layer itself, its
/// gradients, an optimiser's state.
///
/// Parameters are visited one tensor at a time as flat slices, in the order
/// of PyTorch's `state_dict` (for `Dense`: weight `[out][in]`, then bias).
/// Parameterless layers have `COUNT = 0` and `Grads = ()`: they cost nothing.
///
/// ```
/// use typenet::prelude::*;
///
/// type Net = net![Dense<U2, U3>, Relu, Dense<U3, U1>];
/// assert_eq!(<Net as Params<f32>>::COUNT, (2 * 3 + 3) + (3 * 1 + 1));
///
/// let mut net = Net::default();
/// let mut n = 0;
/// net.visit_mut(&mut |tensor| { tensor.fill(1.0); n += tensor.len() });
/// assert_eq!(n, 13);
/// ```
pub trait Params<T> {
    /// The number of scalar parameters, known at compile time.
    const COUNT: usize;

    /// Gradients (and optimiser state): the same shape as the parameters.
    type Grads: Params<T, Grads = Self::Grads> + Default + Zeroable;

    /// Calls `f` with each parameter tensor, in PyTorch order.
    fn visit(&self, f: &mut impl FnMut(&[T]));

    /// Calls `f` with each parameter tensor mutably, in PyTorch order.
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut [T]));

    /// Walks the parameters and `K` parameter-shaped values (gradients,
    /// optimiser state) in lockstep: `f(params, [others₀, …])` once per
    /// parameter tensor. Optimisers are written against this.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// let mut d = Dense::<U1, U2, f32>::default();
    /// let mut grads = Dense::new(matrix([[1.0], [2.0]]), vector([3.0, 4.0]));
    /// d.zip_mut([&mut grads], &mut |p, [g]| p.iter_mut().zip(g.iter()).for_each(|(p, g)| *p -= g));
    /// assert_eq!(d.bias.as_slice(), &[-3.0, -4.0]);
    /// ```
    fn zip_mut<const K: usize>(&mut self, others: [&mut Self::Grads; K], f: &mut impl FnMut(&mut [T], [&mut [T]; K]));
}

/// Training: a forward pass that keeps what the backward pass needs, and the
/// backward pass itself.
///
/// `backward` returns the gradient of the loss with respect to the input and
/// *adds* the gradients with respect to the parameters into `grads`, so
/// gradients accumulate over a mini-batch until the caller zeroes them.
#[diagnostic::on_unimplemented(
    message = "layer `{Self}` cannot be trained on input `{In}`",
    label = "no training pass for this layer and input",
    note = "each layer must accept the previous layer's output; check the sizes and the scalar type",
    note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B0>` is U4 (1,0,0)"
)]
pub trait Train<In: Tensor>: Layer<In, Output: Tensor<Scalar = In::Scalar>> + Params<In::Scalar> {
    /// What the training forward keeps for the backward pass (`()` when the
    /// input alone is enough).
    type Cache: Default + Zeroable;

    /// Runs the layer for training, writing what backward needs into
    /// `cache`. `rng` drives stochastic layers such as dropout; pass
    /// [`NoRng`] for a network that has none.
    fn forward_train<R: Rng + ?Sized>(&self, input: &In, cache: &mut Self::Cache, rng: &mut R) -> Self::Output;

    /// Back-propagates `grad_output` (dL/dy): adds dL/dθ into `grads` and
    /// returns dL/dx.
    fn backward(&self, input: &In, cache: &Self::Cache, grad_output: &Self::Output, grads: &mut Self::Grads) -> In;

    /// Like [`backward`](Train::backward) but without the input gradient:
    /// the first layer of a network needs no dL/dx, and layers that can skip
    /// computing it override this.
    fn backward_params(&self, input: &In, cache: &Self::Cache, grad_output: &Self::Output, grads: &mut Self::Grads) {
        let _ = self.backward(input, cache, grad_output, grads);
    }

    /// [`forward_train`](Train::forward_train) for a block of samples: the
    /// first `n` of `inputs` (`n ≤ B`), each with its cache and output slot.
    /// The slots past `n` are valid but hold nothing of interest.
    ///
    /// The default runs the samples one by one, in order; layers that gain
    /// from seeing the block as a matrix (`Dense`) override it. The
    /// [`Trainer`](crate::train::Trainer) trains through these block methods.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// let net = <net![Dense<U2, U3>, Relu, Dense<U3, U1>]>::default();
    /// let xs = [vector([1.0f32, 2.0]), vector([3.0, 4.0])];
    /// let (mut caches, mut ys) = (<[_; 2]>::default(), [Vector::<f32, U1>::default(); 2]);
    /// net.forward_train_block(2, [&xs[0], &xs[1]], caches.each_mut(), ys.each_mut(), &mut NoRng);
    /// assert_eq!(ys[1], net.forward(&xs[1]));
    /// ```
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        for ((input, cache), output) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
            *output = self.forward_train(input, cache, rng);
        }
    }

    /// [`backward`](Train::backward) for the first `n` samples of a block:
    /// adds every sample's dL/dθ into `grads` and writes each dL/dx into
    /// `grad_inputs`. The default runs the samples one by one, in order.
    #[allow(clippy::too_many_arguments)]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
        grad_inputs: [&mut In; B],
    ) {
        let samples = inputs.into_iter().zip(caches).zip(grad_outputs).zip(grad_inputs);
        for (((input, cache), grad_output), grad_input) in samples.take(n) {
            *grad_input = self.backward(input, cache, grad_output, grads);
        }
    }

    /// [`backward_params`](Train::backward_params) for the first `n` samples
    /// of a block. The default runs the samples one by one, in order.
    fn backward_params_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
    ) {
        for ((input, cache), grad_output) in inputs.into_iter().zip(caches).zip(grad_outputs).take(n) {
            self.backward_params(input, cache, grad_output, grads);
        }
    }
}

/// An [`Rng`] for networks with no stochastic layer: it panics if drawn from.
///
/// ```
/// use typenet::prelude::*;
/// let net = <net![Dense<U2, U2>, Tanh]>::default();
/// let mut cache = Default::default();
/// let y = net.forward_train(&vector([0.0f32, 0.0]), &mut cache, &mut NoRng);
/// assert_eq!(y.as_slice(), &[0.0, 0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRng;

impl rand::TryRng for NoRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        panic!("NoRng was asked for a random number: this network has a stochastic layer, pass a real Rng")
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        panic!("NoRng was asked for a random number: this network has a stochastic layer, pass a real Rng")
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
        panic!("NoRng was asked for a random number: this network has a stochastic layer, pass a real Rng")
    }
}

/// Implements [`Params`] and `Initialize` for parameterless layers:
/// `COUNT = 0`, `Grads = ()`, nothing to draw. Generic layers list their
/// parameters: `parameterless!(Relu, MaxPool2d<K, S>)`.
macro_rules! parameterless {
    ($($name:ident $(<$($g:ident),+>)?),* $(,)?) => {$(
        impl<T $($(, $g)+)?> $crate::layer::Params<T> for $name $(<$($g),+>)? {
            const COUNT: usize = 0;
            type Grads = ();
            #[inline]
            fn visit(&self, _: &mut impl FnMut(&[T])) {}
            #[inline]
            fn visit_mut(&mut self, _: &mut impl FnMut(&mut [T])) {}
            #[inline]
            fn zip_mut<const N: usize>(&mut self, _: [&mut (); N], _: &mut impl FnMut(&mut [T], [&mut [T]; N])) {}
        }

        // SAFETY: the layer holds numbers only (or nothing).
        unsafe impl $(<$($g),+>)? $crate::memory::Zeroable for $name $(<$($g),+>)? {}

        impl $(<$($g),+>)? $crate::init::Initialize for $name $(<$($g),+>)? {
            #[inline]
            fn init_with<R: rand::Rng + ?Sized>(&mut self, _: $crate::init::Init, _: &mut R) {}
        }
    )*};
}
pub(crate) use parameterless;

impl<T> Params<T> for () {
    const COUNT: usize = 0;
    type Grads = ();
    #[inline]
    fn visit(&self, _: &mut impl FnMut(&[T])) {}
    #[inline]
    fn visit_mut(&mut self, _: &mut impl FnMut(&mut [T])) {}
    #[inline]
    fn zip_mut<const K: usize>(&mut self, _: [&mut (); K], _: &mut impl FnMut(&mut [T], [&mut [T]; K])) {}
}
