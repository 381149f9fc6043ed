//! The layer traits: [`Layer`] runs inference, [`Params`] walks parameters,
//! [`Train`] adds the training forward and the backward pass.
//!
//! A layer is a value holding its parameters and nothing else; a network is
//! a chain of layers (see [`crate::chain`]) and implements the same traits,
//! so everything below works on one layer and on a whole network alike.
//!
//! # Evaluation and training modes
//!
//! The mode is the method, never a flag to forget: [`Layer::forward`] is
//! evaluation mode (PyTorch's `model.eval()`), and the training passes of
//! [`Train`] are training mode (`model.train()`). The layers that differ:
//!
//! | layer | [`Layer::forward`] (evaluation) | [`Train::forward_train_block`] (training) |
//! | --- | --- | --- |
//! | `Dropout` | the identity | zeroes elements at random, scales the rest |
//! | `BatchNorm1d`, `BatchNorm2d` | normalises with the running statistics | normalises with the statistics of the block, which [`Train::update_buffers`] folds into the running ones once the step is accepted |
//!
//! [`evaluate`](crate::train::evaluate) and deployed
//! models use `forward`; the [`Trainer`](crate::train::Trainer) uses the
//! training passes.
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
//! let dx = layer.backward(&x, &mut cache, &vector([1.0]), &mut grads);
//! assert_eq!(y[0], -0.5);
//! assert_eq!(dx.as_slice(), &[2.0, -1.0]); // dL/dx = Wᵀ·dy
//! assert_eq!(grads.weight[0].as_slice(), &[1.0, 3.0]); // dL/dW = dy·xᵀ
//! ```

use rand::Rng;

use crate::memory::{DefaultInPlace, Zeroable};
use crate::shape::{Dims, Tensor};

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

    /// The bytes of values [`forward`](Layer::forward) keeps on the stack
    /// at its deepest: its output, and for a chain every intermediate
    /// output still in use (a chain's is the larger of its first layer's
    /// and that layer's output plus the rest's). Locals of a few words per
    /// layer come on top. What [`Budget::stack`](crate::train::Budget)
    /// reports.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// type Net = net![Dense<U4, U8>, Relu, Dense<U8, U2>];
    /// // Each output stays alive until the pass ends: 8 + 8 + 2 values.
    /// assert_eq!(<Net as Layer<Vector<f32, U4>>>::FORWARD_STACK, 4 * (8 + 8 + 2));
    /// ```
    const FORWARD_STACK: usize = size_of::<Self::Output>();

    /// The first place where a size does not fit, for a layer that accepts
    /// inputs of any size at the type level and checks the size at compile
    /// time (`Dense` takes any `Vector<T, N>` and checks `N` against its
    /// `I`), so that a chain that does not fit gets one message, with the
    /// sizes in decimal and the layer's position, whatever the call syntax.
    /// `None` for layers whose `impl` itself says which inputs fit.
    #[doc(hidden)]
    const MISFIT: Option<Misfit> = None;

    /// Evaluating this fails the build with the message of
    /// `MISFIT`, if any: the checked entry points
    /// ([`forward`](Layer::forward), and for a chain or a `Dense` the
    /// training passes) name it, the inner calls of a chain do not, so a
    /// chain reports its first misfit once.
    #[doc(hidden)]
    const FITS: () = Misfit::check(Self::MISFIT);

    /// Runs the layer for inference: no cache is kept.
    fn forward(&self, input: &In) -> Self::Output;

    /// [`forward`](Layer::forward) without the size check, for a chain
    /// whose own check has covered this layer.
    #[doc(hidden)]
    #[inline(always)]
    fn forward_unchecked(&self, input: &In) -> Self::Output {
        self.forward(input)
    }
}

/// Where a chain does not fit: the layer (by name and sizes), the size it
/// takes and the size it is given, and its index in the chain. Built at
/// compile time by layers that check their input size in a `const`
/// (`Layer::MISFIT`); not for use outside the crate.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Misfit {
    /// The layer's type name without its generics (`"Dense"`).
    pub layer: &'static str,
    /// The layer's size parameters, the first `len` of them (`[12, 8]` for
    /// `Dense<U12, U8>`).
    pub sizes: [usize; 6],
    /// How many of `sizes` the layer's name shows.
    pub len: usize,
    /// What the sizes count, one and several (`["feature", "features"]`).
    pub unit: [&'static str; 2],
    /// The size the layer takes.
    pub takes: usize,
    /// The size it is given.
    pub given: usize,
    /// Its index in the chain, 0 for the first layer.
    pub index: usize,
}

impl Misfit {
    /// Fails the build with the misfit's message, if there is one.
    pub const fn check(misfit: Option<Misfit>) {
        if let Some(m) = misfit {
            m.fail()
        }
    }

    /// The same misfit one layer further down a chain.
    pub const fn later(misfit: Option<Misfit>) -> Option<Misfit> {
        match misfit {
            Some(m) => Some(Misfit { index: m.index + 1, ..m }),
            None => None,
        }
    }

    /// The first of two misfits, `a` from the chain's first layer and `b`
    /// from the rest.
    pub const fn first(a: Option<Misfit>, rest: Option<Misfit>) -> Option<Misfit> {
        match a {
            Some(m) => Some(m),
            None => Misfit::later(rest),
        }
    }

    const fn fail(&self) -> ! {
        let mut m = crate::text::Message::new();
        if self.index == 0 {
            m.push("typenet: the model takes ").number(self.takes).push(" ").push(self.unit(self.takes));
            m.push(", the data has ").number(self.given).push(" (layer 1 of the model is `");
            self.name(&mut m).push("`)");
        } else {
            m.push("typenet: layer ").number(self.index + 1).push(" of the model, `");
            self.name(&mut m).push("`, takes ").number(self.takes).push(" ").push(self.unit(self.takes));
            m.push(", but layer ").number(self.index).push(" gives it ").number(self.given);
        }
        m.fail()
    }

    const fn unit(&self, n: usize) -> &'static str {
        if n == 1 { self.unit[0] } else { self.unit[1] }
    }

    const fn name<'m>(&self, m: &'m mut crate::text::Message) -> &'m mut crate::text::Message {
        m.push(self.layer).push("<");
        let mut i = 0;
        while i < self.len && i < self.sizes.len() {
            if i > 0 {
                m.push(", ");
            }
            m.plain_number(self.sizes[i]);
            i += 1;
        }
        m.push(">")
    }
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

    /// The number of scalars in buffers: state that is saved with the
    /// parameters but not trained by gradients (batch norm's running
    /// statistics). 0 for most layers.
    const BUFFER_COUNT: usize = 0;

    /// Gradients (and optimiser state): the same shape as the parameters.
    type Grads: Params<T, Grads = Self::Grads> + DefaultInPlace;

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

    /// Calls `f` with each parameter and buffer tensor in the order of
    /// PyTorch's `state_dict` (a layer's parameters, then its buffers):
    /// what a parameter file holds. The same as [`visit`](Params::visit)
    /// for a layer without buffers.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// let net = <net![Dense<U2, U3>, Relu, Dense<U3, U1>]>::default();
    /// let mut sizes = Vec::new();
    /// net.visit_state(&mut |t| sizes.push(t.len()));
    /// assert_eq!(sizes, [6, 3, 3, 1]); // no buffers: the parameters alone
    ///
    /// // Batch norm: weight, bias, then running_mean, running_var, num_batches_tracked.
    /// let net = <net![Dense<U2, U2>, BatchNorm1d<U2>]>::default();
    /// let mut sizes = Vec::new();
    /// net.visit_state(&mut |t| sizes.push(t.len()));
    /// assert_eq!(sizes, [4, 2, 2, 2, 2, 2, 1]);
    /// ```
    #[inline(always)]
    fn visit_state(&self, f: &mut impl FnMut(&[T])) {
        self.visit(f);
    }

    /// [`visit_state`](Params::visit_state), mutably: how a parameter file
    /// is loaded.
    #[inline(always)]
    fn visit_state_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.visit_mut(f);
    }

    /// The number of `u32` words of the architecture signature a parameter
    /// file records for this type ([`crate::io`]): 2 + rank per state
    /// tensor, for the tensors [`visit_signature`](Params::visit_signature)
    /// gives.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// // Dense: weight [O, I] (2 + 2 words), bias [O] (2 + 1).
    /// assert_eq!(<net![Dense<U3, U2>, Relu, Dense<U2, U1>] as Params<f32>>::SIGNATURE_LEN, 2 * (4 + 3));
    /// ```
    const SIGNATURE_LEN: usize = if Self::COUNT + Self::BUFFER_COUNT == 0 { 0 } else { 3 };

    /// Calls `f(name, dims)` for each state tensor, in the order of
    /// [`visit_state`](Params::visit_state), with no value at hand: the
    /// tensor's name as PyTorch names it in a `state_dict` (`"weight"`,
    /// `"running_var"`, `"weight_ih"`, the field's name for a layer written
    /// with [`params!`](crate::params)) and its shape. This is the
    /// architecture a parameter file is checked against.
    ///
    /// The default, for a `Params` written by hand, is one tensor named
    /// `"state"` holding all [`COUNT`](Params::COUNT) +
    /// [`BUFFER_COUNT`](Params::BUFFER_COUNT) values, or none when there are
    /// none; [`params!`](crate::params) and the chains give each tensor.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// let mut tensors = Vec::new();
    /// <net![Conv2d<U1, U4, U3>, Relu, BatchNorm2d<U4>]>::visit_signature(&mut |name, dims| {
    ///     tensors.push((name, dims.sizes().to_vec()))
    /// });
    /// assert_eq!(tensors[0], ("weight", vec![4, 1, 3, 3]));
    /// assert_eq!(tensors[1], ("bias", vec![4]));
    /// assert_eq!(tensors[6], ("num_batches_tracked", vec![])); // a scalar, as in PyTorch
    /// ```
    #[inline]
    fn visit_signature(f: &mut impl FnMut(&'static str, Dims)) {
        if Self::COUNT + Self::BUFFER_COUNT > 0 {
            f("state", Dims::SCALAR.prepend(Self::COUNT + Self::BUFFER_COUNT));
        }
    }
}

/// Training: a forward pass that keeps what the backward pass needs, and the
/// backward pass itself, over a block of samples.
///
/// A layer implements two methods, both over a block of up to `B` samples
/// (the [`Trainer`](crate::train::Trainer) cuts a mini-batch into blocks):
/// [`forward_train_block`](Train::forward_train_block) and
/// [`backward_block`](Train::backward_block). The per-sample
/// [`forward_train`](Train::forward_train) and [`backward`](Train::backward)
/// are blocks of one. A layer that gains nothing from seeing the block at
/// once loops over its first `n` samples; `Dense` runs the block as one
/// matrix product.
///
/// `backward_block` *adds* the gradients with respect to the parameters
/// into `grads`, so gradients accumulate over a mini-batch until the caller
/// zeroes them, and writes each sample's gradient with respect to its input
/// into `grad_inputs` when that is `Some` (`None` for the first layer of a
/// network, whose input needs no gradient: the one way to skip it).
///
/// Writing a layer from outside the crate takes [`params!`](crate::params)
/// for its parameters, [`Layer`], this trait and
/// [`Initialize`](crate::init::Initialize); see `tests/integration/custom_layer.rs`.
#[diagnostic::on_unimplemented(
    message = "layer `{Self}` cannot be trained on input `{In}`",
    label = "no training pass for this layer and input",
    note = "each layer must accept the previous layer's output; check the sizes and the scalar type",
    note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B0>` is U4 (1,0,0)"
)]
pub trait Train<In: Tensor>: Layer<In, Output: Tensor<Scalar = In::Scalar>> + Params<In::Scalar> {
    /// What the training forward keeps for the backward pass, per sample
    /// (`()` when the input alone is enough).
    type Cache: Default + Zeroable;

    /// Whether the training forward of a sample depends on the other
    /// samples of its block (batch norm's batch statistics). The
    /// [`Trainer`](crate::train::Trainer) then runs each mini-batch as one
    /// block, so a mini-batch must have at least 2 samples and at most `B`.
    /// `false` for layers that treat each sample alone.
    const COUPLES_SAMPLES: bool = false;

    /// Whether [`backward_block`](Train::backward_block) can give the
    /// gradient with respect to the input. `true` for every layer but
    /// [`Frozen`](crate::layers::Frozen), which keeps no cache; a chain
    /// gives it when all its layers do. A chain whose trained layer comes
    /// before a part that cannot give it does not compile, and nor does
    /// [`backward`](Train::backward) on such a part: a frozen part belongs
    /// in front of every trained layer.
    const INPUT_GRADIENT: bool = true;

    /// Runs the first `n` of `inputs` (`n ≤ B`) for training, writing each
    /// sample's output into its slot of `outputs` and what backward needs
    /// into its slot of `caches`. `rng` drives stochastic layers such as
    /// dropout; pass [`NoRng`] for a network that has none. The slots past
    /// `n` are valid but hold nothing of interest.
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
    );

    /// Back-propagates the first `n` samples of a block, given each one's
    /// dL/dy in `grad_outputs`: adds every sample's dL/dθ into `grads` and,
    /// when `grad_inputs` is `Some`, overwrites each dL/dx there (the slots
    /// hold earlier values, not zeros). The caches are those the training
    /// forward filled; a layer may use them as scratch, as a chain does for
    /// the gradients between its layers.
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
        grad_inputs: Option<[&mut In; B]>,
    );

    /// [`forward_train_block`](Train::forward_train_block) without the
    /// size check (`Layer::forward_unchecked`).
    #[doc(hidden)]
    #[inline(always)]
    fn forward_train_block_unchecked<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        self.forward_train_block(n, inputs, caches, outputs, rng);
    }

    /// [`backward_block`](Train::backward_block) without the size check
    /// (`Layer::forward_unchecked`).
    #[doc(hidden)]
    #[inline(always)]
    fn backward_block_unchecked<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
        grad_inputs: Option<[&mut In; B]>,
    ) {
        self.backward_block(n, inputs, caches, grad_outputs, grads, grad_inputs);
    }

    /// Updates the layer's buffers from the caches of an accepted training
    /// step: batch norm folds the batch statistics its training forward
    /// kept into its running statistics. The [`Trainer`](crate::train::Trainer)
    /// calls it after the optimiser's update, so a refused step changes no
    /// buffer either. Nothing to do for layers without buffers.
    #[inline]
    fn update_buffers<const B: usize>(&mut self, n: usize, caches: [&Self::Cache; B]) {
        let _ = (n, caches);
    }

    /// Whether [`update_buffers`](Train::update_buffers) with these caches
    /// would leave every buffer finite: the trainer asks before it updates
    /// anything, so a step whose batch statistics overflow is refused whole.
    /// `true` for layers without buffers.
    #[inline]
    fn buffers_stay_finite<const B: usize>(&self, n: usize, caches: [&Self::Cache; B]) -> bool {
        let _ = (n, caches);
        true
    }

    /// The training forward of one sample: a block of one.
    #[inline]
    fn forward_train<R: Rng + ?Sized>(&self, input: &In, cache: &mut Self::Cache, rng: &mut R) -> Self::Output {
        let () = <Self as Layer<In>>::FITS; // a size error points at the caller
        let mut output = Self::Output::default();
        self.forward_train_block(1, [input], [cache], [&mut output], rng);
        output
    }

    /// The backward pass of one sample: adds dL/dθ into `grads` and returns
    /// dL/dx.
    #[inline]
    fn backward(&self, input: &In, cache: &mut Self::Cache, grad_output: &Self::Output, grads: &mut Self::Grads) -> In {
        let () = <Self as Layer<In>>::FITS; // a size error points at the caller
        const {
            assert!(
                Self::INPUT_GRADIENT,
                "`backward` returns the input gradient, which a network with a `Frozen` part cannot give: \
                 call `backward_block` with `grad_inputs = None`, or train it with a `Trainer`"
            )
        };
        let mut grad_input = In::default();
        self.backward_block(1, [input], [cache], [grad_output], grads, Some([&mut grad_input]));
        grad_input
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

/// Implements a layer's parameter walking from the list of its fields:
/// [`Params`], `Default`, and [`Zeroable`] and
/// [`DefaultInPlace`](crate::memory::DefaultInPlace) (so it can be built in
/// place), with no `unsafe` on the author's side. This and
/// [`zeroable!`](crate::zeroable) are the layer-authoring contract.
///
/// The fields come in two groups: the parameter tensors, in PyTorch's
/// `state_dict` order, which default to zero (the layer's
/// [`Initialize`](crate::init::Initialize) draws their first values); then,
/// after a `;`, the fixed fields (hyperparameters, markers), each with its
/// default. The list must name every field of the struct, with its type:
/// the build fails otherwise. The tensors' names are their names in a
/// parameter file's architecture signature
/// ([`Params::visit_signature`]): name them as PyTorch's `state_dict` does
/// (`weight`, `bias`, `running_mean`, …) for files that go to PyTorch. A layer whose parameters are tensors of `T`
/// writes `Params<T>`; a parameterless layer writes `Params` and gets
/// `Params<T>` for every `T`, `Grads = ()` and an `Initialize` that draws
/// nothing.
///
/// ```
/// use typenet::prelude::*;
///
/// /// `y = a ⊙ x + b`, one scale and one shift per feature.
/// #[derive(Clone, Debug, PartialEq)]
/// pub struct Affine<N: ArrayLength, T = f32> {
///     pub scale: Vector<T, N>,
///     pub shift: Vector<T, N>,
///     pub clamp: f64,
/// }
///
/// typenet::params! {
///     impl[N: ArrayLength, T: Scalar] Params<T> for Affine<N, T> {
///         scale: Vector<T, N>,
///         shift: Vector<T, N>;
///         clamp: f64 = 6.0,
///     }
/// }
///
/// let layer = Affine::<U3>::default();
/// assert_eq!(<Affine<U3> as Params<f32>>::COUNT, 6);
/// assert_eq!((layer.scale[0], layer.clamp), (0.0, 6.0));
///
/// // A parameterless layer with one hyperparameter.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// pub struct Scale { pub by: f32 }
/// typenet::params!(impl[] Params for Scale { by: f32 = 2.0 });
/// assert_eq!((Scale::default().by, <Scale as Params<f64>>::COUNT), (2.0, 0));
/// ```
///
/// A field left out of the list does not compile:
///
/// ```compile_fail,E0027
/// use typenet::prelude::*;
/// pub struct Affine<N: ArrayLength, T = f32> { pub scale: Vector<T, N>, pub shift: Vector<T, N> }
/// typenet::params!(impl[N: ArrayLength, T: Scalar] Params<T> for Affine<N, T> { scale: Vector<T, N> });
/// ```
///
/// Its twin, listing both, does:
///
/// ```
/// use typenet::prelude::*;
/// pub struct Affine<N: ArrayLength, T = f32> { pub scale: Vector<T, N>, pub shift: Vector<T, N> }
/// typenet::params!(impl[N: ArrayLength, T: Scalar] Params<T> for Affine<N, T> { scale: Vector<T, N>, shift: Vector<T, N> });
/// ```
#[macro_export]
macro_rules! params {
    (impl[$($gen:tt)*] Params<$t:ty> for $name:ident $(<$($arg:ty),* $(,)?>)? {
        $($p:ident: $pty:ty),* $(,)? ; buffers $($b:ident: $bty:ty = $bval:expr),+ $(,)? $(; $($f:tt: $fty:ty = $fval:expr),+ $(,)?)?
    }) => {
        $crate::params!(@with [$($gen)*] $t, $name [$($($arg),*)?] [$($p: $pty),*] [$($b: $bty = $bval),+] [$($($f: $fty = $fval),+)?]);
    };
    (impl[$($gen:tt)*] Params<$t:ty> for $name:ident $(<$($arg:ty),* $(,)?>)? {
        $($p:ident: $pty:ty),+ $(,)? $(; $($f:tt: $fty:ty = $fval:expr),+ $(,)?)?
    }) => {
        $crate::params!(@with [$($gen)*] $t, $name [$($($arg),*)?] [$($p: $pty),+] [] [$($($f: $fty = $fval),+)?]);
    };
    (@with [$($gen:tt)*] $t:ty, $name:ident [$($arg:ty),*] [$($p:ident: $pty:ty),*] [$($b:ident: $bty:ty = $bval:expr),*] [$($f:tt: $fty:ty = $fval:expr),*]) => {
        $crate::zeroable!(impl[$($gen)*] for $name<$($arg),*> { $($p: $pty,)* $($b: $bty,)* $($f: $fty,)* });

        impl<$($gen)*> ::core::default::Default for $name<$($arg),*> {
            /// Zero parameters, and the buffers' and fixed fields' defaults.
            #[inline]
            fn default() -> Self {
                $name { $($p: ::core::default::Default::default(),)* $($b: $bval,)* $($f: $fval,)* }
            }
        }

        impl<$($gen)*> $crate::memory::DefaultInPlace for $name<$($arg),*> {
            /// Parameters default to zero: only the buffers and the fixed
            /// fields are written.
            #[inline]
            fn zeroed_to_default(&mut self) {
                $(self.$b = $bval;)*
                $(self.$f = $fval;)*
            }
        }

        impl<$($gen)*> $crate::layer::Params<$t> for $name<$($arg),*> {
            const COUNT: usize = 0 $(+ <$pty as $crate::shape::Tensor>::LEN)*;
            const BUFFER_COUNT: usize = 0 $(+ <$bty as $crate::shape::Tensor>::LEN)*;
            type Grads = Self;

            #[inline(always)]
            fn visit(&self, f: &mut impl FnMut(&[$t])) {
                let _ = &f;
                $(f($crate::shape::Tensor::as_flat(&self.$p));)*
            }

            #[inline(always)]
            fn visit_mut(&mut self, f: &mut impl FnMut(&mut [$t])) {
                let _ = &f;
                $(f($crate::shape::Tensor::as_flat_mut(&mut self.$p));)*
            }

            #[inline(always)]
            fn zip_mut<const OTHERS: usize>(
                &mut self,
                mut others: [&mut Self; OTHERS],
                f: &mut impl FnMut(&mut [$t], [&mut [$t]; OTHERS]),
            ) {
                let _ = (&mut others, &f);
                $(f(
                    $crate::shape::Tensor::as_flat_mut(&mut self.$p),
                    others.each_mut().map(|other| $crate::shape::Tensor::as_flat_mut(&mut other.$p)),
                );)*
            }

            #[inline(always)]
            fn visit_state(&self, f: &mut impl FnMut(&[$t])) {
                $crate::layer::Params::<$t>::visit(self, f);
                $(f($crate::shape::Tensor::as_flat(&self.$b));)*
            }

            #[inline(always)]
            fn visit_state_mut(&mut self, f: &mut impl FnMut(&mut [$t])) {
                $crate::layer::Params::<$t>::visit_mut(self, f);
                $(f($crate::shape::Tensor::as_flat_mut(&mut self.$b));)*
            }

            const SIGNATURE_LEN: usize = 0
                $(+ 2 + <$pty as $crate::shape::Tensor>::DIMS.rank())*
                $(+ 2 + <$bty as $crate::shape::Tensor>::DIMS.rank())*;

            #[inline]
            fn visit_signature(f: &mut impl FnMut(&'static str, $crate::shape::Dims)) {
                let _ = &f;
                $(f(stringify!($p), <$pty as $crate::shape::Tensor>::DIMS);)*
                $(f(stringify!($b), <$bty as $crate::shape::Tensor>::DIMS);)*
            }
        }

        impl<TypenetCursor: $crate::io::embed::Cursor, $($gen)*> $crate::io::embed::FromEmbedded<$t, TypenetCursor>
            for $name<$($arg),*>
        {
            /// The tensors from the file, each checked against its name and
            /// shape; the fixed fields their defaults.
            const VALUE: Self = {
                let signature = TypenetCursor::SIGNATURE;
                let values = TypenetCursor::VALUES;
                $(
                    let signature = $crate::io::embed::check_tensor(
                        signature,
                        stringify!($name),
                        stringify!($p),
                        <$pty as $crate::shape::Tensor>::DIMS,
                    );
                    let $p = $crate::memory::tensor_from_le_bytes::<$pty>(values);
                    let values = values.split_at(::core::mem::size_of::<$pty>()).1;
                )*
                $(
                    let signature = $crate::io::embed::check_tensor(
                        signature,
                        stringify!($name),
                        stringify!($b),
                        <$bty as $crate::shape::Tensor>::DIMS,
                    );
                    let $b = $crate::memory::tensor_from_le_bytes::<$bty>(values);
                    let values = values.split_at(::core::mem::size_of::<$bty>()).1;
                )*
                let _ = (signature, values);
                $name { $($p,)* $($b,)* $($f: $fval,)* }
            };
        }
    };
    (impl[$($gen:tt)*] Params for $name:ident $(<$($arg:ty),* $(,)?>)? { $($f:tt: $fty:ty = $fval:expr),* $(,)? }) => {
        $crate::zeroable!(impl[$($gen)*] for $name $(<$($arg),*>)? { $($f: $fty),* });

        impl<$($gen)*> ::core::default::Default for $name $(<$($arg),*>)? {
            #[inline]
            fn default() -> Self {
                $name { $($f: $fval),* }
            }
        }

        impl<$($gen)*> $crate::memory::DefaultInPlace for $name $(<$($arg),*>)? {
            #[inline]
            fn zeroed_to_default(&mut self) {
                $(self.$f = $fval;)*
            }
        }

        impl<TypenetScalar, $($gen)*> $crate::layer::Params<TypenetScalar> for $name $(<$($arg),*>)? {
            const COUNT: usize = 0;
            type Grads = ();
            #[inline(always)]
            fn visit(&self, _: &mut impl FnMut(&[TypenetScalar])) {}
            #[inline(always)]
            fn visit_mut(&mut self, _: &mut impl FnMut(&mut [TypenetScalar])) {}
            #[inline(always)]
            fn zip_mut<const OTHERS: usize>(
                &mut self,
                _: [&mut (); OTHERS],
                _: &mut impl FnMut(&mut [TypenetScalar], [&mut [TypenetScalar]; OTHERS]),
            ) {
            }
        }

        impl<TypenetScalar, TypenetCursor: $crate::io::embed::Cursor, $($gen)*>
            $crate::io::embed::FromEmbedded<TypenetScalar, TypenetCursor> for $name $(<$($arg),*>)?
        {
            /// No tensors: the fixed fields' defaults.
            const VALUE: Self = $name { $($f: $fval),* };
        }

        impl<$($gen)*> $crate::init::Initialize for $name $(<$($arg),*>)? {
            /// Nothing to draw.
            #[inline]
            fn init_with<Sch: $crate::init::Scheme, R: $crate::rand::Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {}
        }
    };
}

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
