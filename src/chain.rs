//! Networks as chains of layers.
//!
//! A network is nested pairs: `(A, Rest)` runs `A` and then the chain
//! `Rest`, and `(A,)` ends the chain, so `(A, (B, (C,)))` is the network
//! A → B → C, of any depth. Its caches nest the same way and its gradients
//! have the same shape as the network itself. Write the layers flat with
//! [`net!`](crate::net) (types) and [`layers!`](crate::layers!) (values),
//! and reach a layer by a typed index with [`Chain::layer`].
//!
//! ```
//! use typenet::prelude::*;
//!
//! type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];
//! typenum::assert_type_eq!(Xor, (Dense<U2, U4>, (Sigmoid, (Dense<U4, U1>, (Sigmoid,)))));
//!
//! let mut xor = Xor::default();
//! xor.layer_mut::<U2>().bias[0] = 1.0; // the second Dense
//! let y = xor.forward(&vector([0.0, 0.0]));
//! assert_eq!(y[0], 1.0 / (1.0 + (-1.0f32).exp()));
//! ```
//!
//! A layer that cannot take the previous layer's output does not build,
//! and the error names it, its position and both sizes in decimal
//! (`Dense<U4, U8>` then `Dense<U7, U2>`):
//!
//! ```compile_fail,E0080
//! use typenet::prelude::*;
//! // typenet: layer 3 of the model, `Dense<7, 2>`, takes 7 features, but layer 2 gives it 8
//! let net = <net![Dense<U4, U8>, Relu, Dense<U7, U2>]>::default();
//! let y = Layer::forward(&net, &vector([0.0f32; 4]));
//! ```
//!
//! # Size errors
//!
//! A layer whose input size is one of its parameters either states the
//! inputs it takes in its `impl` (a mismatch is then error E0277, with the
//! sizes as `typenum` types, which print in binary), or, like `Dense`,
//! takes an input of any size at the type level and checks the size in a
//! `const`. A chain gathers its layers' checks and makes
//! one: the first misfit, with its layer's position and both sizes in
//! decimal, whatever the call syntax (`net.forward(&x)`, `Layer::forward`,
//! the training passes, a [`Trainer`](crate::train::Trainer)'s `fit`,
//! [`evaluate`](crate::train::evaluate)). A misfit at the first layer is
//! the data's: "the model takes 12 features, the data has 13".
//!
//! The check runs when the code is compiled to a program: `cargo build`,
//! `cargo run` and `cargo test` report it (error E0080, as the
//! [`Trainer`](crate::train::Trainer)'s size checks), `cargo check` and
//! editors that run it do not.
//!
//! Its twin with the sizes in agreement compiles:
//!
//! ```
//! use typenet::prelude::*;
//! let net = <net![Dense<U4, U8>, Relu, Dense<U8, U2>]>::default();
//! let y = Layer::forward(&net, &vector([0.0f32; 4]));
//! assert_eq!(y.len(), 2);
//! ```

use core::ops::Sub;

use rand::Rng;
use typenum::{B1, Sub1, U0, UInt, Unsigned};

use crate::layer::{Layer, Misfit, Params, Train};
use crate::memory::Zeroable;
use crate::shape::{Dims, Tensor};

/// Writes a network type flat: `net![A, B, C]` is `(A, (B, (C,)))`.
///
/// ```
/// use typenet::prelude::*;
/// type Mlp = net![Dense<U64, U32>, Relu, Dense<U32, U10>];
/// let mlp = Mlp::default();
/// assert_eq!(mlp.forward(&Vector::<f32, U64>::default()).len(), 10);
/// ```
#[macro_export]
macro_rules! net {
    ($layer:ty $(,)?) => { ($layer,) };
    ($layer:ty, $($rest:ty),+ $(,)?) => { ($layer, $crate::net![$($rest),+]) };
}

/// Builds a network value flat: `layers![a, b, c]` is `(a, (b, (c,)))`, a
/// value of the type `net![A, B, C]`.
///
/// ```
/// use typenet::prelude::*;
/// let net: net![Dense<U1, U1>, Relu] = layers![Dense::new(matrix([[2.0]]), vector([-1.0])), Relu];
/// assert_eq!(net.forward(&vector([3.0]))[0], 5.0);
/// ```
#[macro_export]
macro_rules! layers {
    ($layer:expr $(,)?) => { ($layer,) };
    ($layer:expr, $($rest:expr),+ $(,)?) => { ($layer, $crate::layers![$($rest),+]) };
}

/// The cache of a chain `(A, Rest)`: `A`'s cache, `A`'s output (the input
/// of `Rest`, which its backward pass needs), the gradient with respect to
/// that output, and `Rest`'s cache.
///
/// The gradient slot is where the backward pass of `Rest` writes the
/// gradient that `A`'s backward pass reads: it lives with the caches (in
/// the [`Trainer`](crate::train::Trainer), whose size `size_of` reports)
/// rather than on the stack, so the stack a backward pass needs does not
/// grow with the network.
#[derive(Clone, Debug, Default)]
pub struct Link<Head, Mid, Tail> {
    /// The first layer's cache.
    pub head: Head,
    /// The first layer's output.
    pub mid: Mid,
    /// dL/d`mid`, written during the backward pass.
    pub grad: Mid,
    /// The rest of the chain's cache.
    pub tail: Tail,
}

crate::zeroable!(impl[Head: Zeroable, Mid: Zeroable, Tail: Zeroable] for Link<Head, Mid, Tail> {
    head: Head,
    mid: Mid,
    grad: Mid,
    tail: Tail,
});

/// A chain checks its sizes once, at its entry points: `forward` and the
/// training passes name `Layer::FITS`, which fails the build with the
/// first misfit of the whole chain (its layer, position and sizes), and run
/// the layers through their unchecked forms, so the parts of the chain do
/// not report the same misfit again.
impl<In, A: Layer<In>> Layer<In> for (A,) {
    type Output = A::Output;
    const FORWARD_STACK: usize = A::FORWARD_STACK;
    const MISFIT: Option<Misfit> = A::MISFIT;
    #[inline]
    fn forward(&self, input: &In) -> Self::Output {
        let () = <Self as Layer<In>>::FITS;
        self.forward_unchecked(input)
    }
    #[inline(always)]
    fn forward_unchecked(&self, input: &In) -> Self::Output {
        self.0.forward_unchecked(input)
    }
}

impl<In, A: Layer<In>, Rest: Layer<A::Output>> Layer<In> for (A, Rest) {
    type Output = Rest::Output;
    /// `A`'s output stays alive while the rest runs.
    const FORWARD_STACK: usize = {
        let rest = size_of::<A::Output>() + Rest::FORWARD_STACK;
        if A::FORWARD_STACK > rest { A::FORWARD_STACK } else { rest }
    };
    const MISFIT: Option<Misfit> = Misfit::first(A::MISFIT, Rest::MISFIT);
    #[inline]
    fn forward(&self, input: &In) -> Self::Output {
        let () = <Self as Layer<In>>::FITS;
        self.forward_unchecked(input)
    }
    #[inline(always)]
    fn forward_unchecked(&self, input: &In) -> Self::Output {
        self.1.forward_unchecked(&self.0.forward_unchecked(input))
    }
}

impl<T, A: Params<T>> Params<T> for (A,) {
    const COUNT: usize = A::COUNT;
    const BUFFER_COUNT: usize = A::BUFFER_COUNT;
    const SIGNATURE_LEN: usize = A::SIGNATURE_LEN;
    type Grads = (A::Grads,);
    #[inline]
    fn visit_signature(f: &mut impl FnMut(&'static str, Dims)) {
        A::visit_signature(f);
    }
    #[inline(always)]
    fn visit_state(&self, f: &mut impl FnMut(&[T])) {
        self.0.visit_state(f);
    }
    #[inline(always)]
    fn visit_state_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.0.visit_state_mut(f);
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[T])) {
        self.0.visit(f);
    }
    #[inline(always)]
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.0.visit_mut(f);
    }
    #[inline(always)]
    fn zip_mut<const K: usize>(
        &mut self,
        mut others: [&mut Self::Grads; K],
        f: &mut impl FnMut(&mut [T], [&mut [T]; K]),
    ) {
        self.0.zip_mut(others.each_mut().map(|s| &mut s.0), f);
    }
}

impl<T, A: Params<T>, Rest: Params<T>> Params<T> for (A, Rest) {
    const COUNT: usize = A::COUNT + Rest::COUNT;
    const BUFFER_COUNT: usize = A::BUFFER_COUNT + Rest::BUFFER_COUNT;
    const SIGNATURE_LEN: usize = A::SIGNATURE_LEN + Rest::SIGNATURE_LEN;
    type Grads = (A::Grads, Rest::Grads);
    #[inline]
    fn visit_signature(f: &mut impl FnMut(&'static str, Dims)) {
        A::visit_signature(f);
        Rest::visit_signature(f);
    }
    #[inline(always)]
    fn visit_state(&self, f: &mut impl FnMut(&[T])) {
        self.0.visit_state(f);
        self.1.visit_state(f);
    }
    #[inline(always)]
    fn visit_state_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.0.visit_state_mut(f);
        self.1.visit_state_mut(f);
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[T])) {
        self.0.visit(f);
        self.1.visit(f);
    }
    #[inline(always)]
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.0.visit_mut(f);
        self.1.visit_mut(f);
    }
    #[inline(always)]
    fn zip_mut<const K: usize>(
        &mut self,
        mut others: [&mut Self::Grads; K],
        f: &mut impl FnMut(&mut [T], [&mut [T]; K]),
    ) {
        self.0.zip_mut(others.each_mut().map(|s| &mut s.0), f);
        self.1.zip_mut(others.each_mut().map(|s| &mut s.1), f);
    }
}

impl<In: Tensor, A: Train<In>> Train<In> for (A,) {
    type Cache = A::Cache;
    const COUPLES_SAMPLES: bool = A::COUPLES_SAMPLES;
    const INPUT_GRADIENT: bool = A::INPUT_GRADIENT;
    #[inline(always)]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        let () = <Self as Layer<In>>::FITS;
        self.forward_train_block_unchecked(n, inputs, caches, outputs, rng);
    }
    #[inline(always)]
    fn forward_train_block_unchecked<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        self.0.forward_train_block_unchecked(n, inputs, caches, outputs, rng);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
        grad_inputs: Option<[&mut In; B]>,
    ) {
        let () = <Self as Layer<In>>::FITS;
        self.backward_block_unchecked(n, inputs, caches, grad_outputs, grads, grad_inputs);
    }
    #[inline]
    fn backward_block_unchecked<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
        grad_inputs: Option<[&mut In; B]>,
    ) {
        self.0.backward_block_unchecked(n, inputs, caches, grad_outputs, &mut grads.0, grad_inputs);
    }
    #[inline]
    fn update_buffers<const B: usize>(&mut self, n: usize, caches: [&Self::Cache; B]) {
        self.0.update_buffers(n, caches);
    }
    #[inline]
    fn buffers_stay_finite<const B: usize>(&self, n: usize, caches: [&Self::Cache; B]) -> bool {
        self.0.buffers_stay_finite(n, caches)
    }
}

impl<In, A, Rest> Train<In> for (A, Rest)
where
    In: Tensor,
    A: Train<In>,
    Rest: Train<A::Output>,
{
    type Cache = Link<A::Cache, A::Output, Rest::Cache>;
    const COUPLES_SAMPLES: bool = A::COUPLES_SAMPLES || Rest::COUPLES_SAMPLES;
    const INPUT_GRADIENT: bool = A::INPUT_GRADIENT && Rest::INPUT_GRADIENT;
    #[inline(always)]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        let () = <Self as Layer<In>>::FITS;
        self.forward_train_block_unchecked(n, inputs, caches, outputs, rng);
    }
    #[inline(always)]
    fn forward_train_block_unchecked<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Self::Output; B],
        rng: &mut R,
    ) {
        let (heads, mut mids, _, tails) = split_links(caches);
        self.0.forward_train_block_unchecked(n, inputs, heads, mids.each_mut().map(|m| &mut **m), rng);
        self.1.forward_train_block_unchecked(n, mids.map(|m| &*m), tails, outputs, rng);
    }
    /// The rest of the chain first, writing the gradients of the middle
    /// values into the links' `grad` slots, then the first layer.
    ///
    /// When no input gradient is asked for and the first layer has no
    /// parameters, nothing before the rest of the chain needs a gradient:
    /// the rest runs without computing its input gradient and the first
    /// layer's backward does not run. So a network's parameterless front
    /// ([`Frozen`](crate::layers::Frozen) feature extractors, a leading
    /// `Flatten`) costs no backward work.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
        grad_inputs: Option<[&mut In; B]>,
    ) {
        let () = <Self as Layer<In>>::FITS;
        self.backward_block_unchecked(n, inputs, caches, grad_outputs, grads, grad_inputs);
    }
    #[inline]
    fn backward_block_unchecked<const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Self::Output; B],
        grads: &mut Self::Grads,
        grad_inputs: Option<[&mut In; B]>,
    ) {
        const {
            assert!(
                A::COUNT == 0 || Rest::INPUT_GRADIENT,
                "a trained layer comes before a `Frozen` part, which keeps no cache and cannot pass a \
                 gradient back to it: put every `Frozen` part in front of the first trained layer"
            )
        };
        let (heads, mids, mut grad_mids, tails) = split_links(caches);
        let mids = mids.map(|m| &*m);
        if A::COUNT == 0 && grad_inputs.is_none() {
            self.1.backward_block_unchecked(n, mids, tails, grad_outputs, &mut grads.1, None);
            return;
        }
        let grad_mids_out = Some(grad_mids.each_mut().map(|g| &mut **g));
        self.1.backward_block_unchecked(n, mids, tails, grad_outputs, &mut grads.1, grad_mids_out);
        self.0.backward_block_unchecked(n, inputs, heads, grad_mids.map(|g| &*g), &mut grads.0, grad_inputs);
    }
    #[inline]
    /// A part without buffers is skipped before its block of caches is
    /// mapped, so a chain without buffers does no work here at all.
    fn update_buffers<const B: usize>(&mut self, n: usize, caches: [&Self::Cache; B]) {
        if A::BUFFER_COUNT > 0 {
            self.0.update_buffers(n, caches.map(|c| &c.head));
        }
        if Rest::BUFFER_COUNT > 0 {
            self.1.update_buffers(n, caches.map(|c| &c.tail));
        }
    }
    #[inline]
    fn buffers_stay_finite<const B: usize>(&self, n: usize, caches: [&Self::Cache; B]) -> bool {
        (A::BUFFER_COUNT == 0 || self.0.buffers_stay_finite(n, caches.map(|c| &c.head)))
            && (Rest::BUFFER_COUNT == 0 || self.1.buffers_stay_finite(n, caches.map(|c| &c.tail)))
    }
}

/// Splits a block of links into their heads, middle values, middle
/// gradients and tails.
#[allow(clippy::type_complexity)]
fn split_links<H, M, T, const B: usize>(
    links: [&mut Link<H, M, T>; B],
) -> ([&mut H; B], [&mut M; B], [&mut M; B], [&mut T; B]) {
    let mut parts = links.map(|Link { head, mid, grad, tail }| (Some(head), Some(mid), Some(grad), Some(tail)));
    // Each `take` finds the value put there just above: the `None` arms
    // cannot run, and the optimiser removes them.
    let heads = core::array::from_fn(|b| parts[b].0.take().unwrap_or_else(|| unreachable!()));
    let mids = core::array::from_fn(|b| parts[b].1.take().unwrap_or_else(|| unreachable!()));
    let grads = core::array::from_fn(|b| parts[b].2.take().unwrap_or_else(|| unreachable!()));
    let tails = core::array::from_fn(|b| parts[b].3.take().unwrap_or_else(|| unreachable!()));
    (heads, mids, grads, tails)
}

/// Typed access to the layer at index `N` of a chain (`U0` is the first).
///
/// Implemented for chains and for their gradients, which nest the same way.
#[diagnostic::on_unimplemented(
    message = "the chain `{Self}` has no layer at index `{N}`",
    note = "indices count from U0 and must be below the number of layers"
)]
pub trait LayerAt<N> {
    /// The layer's type.
    type Layer;
    /// The layer.
    fn at(&self) -> &Self::Layer;
    /// The layer, mutably.
    fn at_mut(&mut self) -> &mut Self::Layer;
}

impl<A> LayerAt<U0> for (A,) {
    type Layer = A;
    fn at(&self) -> &A {
        &self.0
    }
    fn at_mut(&mut self) -> &mut A {
        &mut self.0
    }
}

impl<A, Rest> LayerAt<U0> for (A, Rest) {
    type Layer = A;
    fn at(&self) -> &A {
        &self.0
    }
    fn at_mut(&mut self) -> &mut A {
        &mut self.0
    }
}

impl<A, Rest, U: Unsigned, B> LayerAt<UInt<U, B>> for (A, Rest)
where
    UInt<U, B>: Sub<B1>,
    Rest: LayerAt<Sub1<UInt<U, B>>>,
{
    type Layer = Rest::Layer;
    fn at(&self) -> &Self::Layer {
        self.1.at()
    }
    fn at_mut(&mut self) -> &mut Self::Layer {
        self.1.at_mut()
    }
}

/// The type of the layer at index `N` of chain `C`.
pub type LayerOf<C, N> = <C as LayerAt<N>>::Layer;

/// Methods every chain has: typed layer access and its length.
pub trait Chain {
    /// The number of layers.
    const LEN: usize;

    /// The layer at index `N` (`U0` is the first).
    ///
    /// ```
    /// use typenet::prelude::*;
    /// let net = <net![Dense<U3, U2>, Relu]>::default();
    /// let dense: &Dense<U3, U2> = net.layer::<U0>();
    /// assert_eq!(dense.bias.len(), 2);
    /// ```
    fn layer<N>(&self) -> &LayerOf<Self, N>
    where
        Self: LayerAt<N>,
    {
        self.at()
    }

    /// The layer at index `N`, mutably.
    fn layer_mut<N>(&mut self) -> &mut LayerOf<Self, N>
    where
        Self: LayerAt<N>,
    {
        self.at_mut()
    }
}

impl<A> Chain for (A,) {
    const LEN: usize = 1;
}

impl<A, Rest: Chain> Chain for (A, Rest) {
    const LEN: usize = 1 + Rest::LEN;
}
