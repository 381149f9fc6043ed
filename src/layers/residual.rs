//! Residual blocks: [`Residual`] adds a block's input to its body's output,
//! `y = x + body(x)`; [`Projected`] adds a shortcut layer's output instead,
//! `y = shortcut(x) + body(x)`, for blocks that change the shape.
//!
//! The body is any layer or chain written with [`net!`](crate::net), so a
//! ResNet block is a type:
//!
//! ```
//! use typenet::prelude::*;
//!
//! // ResNet's basic block on 4×8×8: conv, ReLU, conv, plus the input, then ReLU.
//! type Basic = net![Residual<net![Conv2d<U4, U4, U3, U1, U1>, Relu, Conv2d<U4, U4, U3, U1, U1>]>, Relu];
//! // Its downsampling twin: stride 2 in the body, a strided 1×1 convolution as the shortcut.
//! type Down = net![
//!     Projected<net![Conv2d<U4, U8, U3, U2, U1>, Relu, Conv2d<U8, U8, U3, U1, U1>], Conv2d<U4, U8, U1, U2>>,
//!     Relu,
//! ];
//!
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut net = <net![Basic, Down]>::default();
//! net.init(&mut rng);
//! let y: Tensor3<f32, U8, U4, U4> = net.forward(&Tensor3::<f32, U4, U8, U8>::default());
//! assert_eq!(y.len(), 8);
//!
//! // The layers inside a block are fields: `body` (a chain) and `shortcut`.
//! let block = &net.layer::<U0>().layer::<U0>();
//! assert_eq!(block.body.layer::<U2>().bias.len(), 4);
//! ```
//!
//! # The shape rule
//!
//! A residual body must give back the type it takes, which the trait
//! [`SameAsInput`] states; a body that changes it does not compile, and the
//! error says so in those words (`tests/ui/residual_body_changes_shape.rs`):
//!
//! ```compile_fail,E0277
//! use typenet::prelude::*;
//! // The second convolution has no padding: 8×8 becomes 6×6.
//! type Block = Residual<net![Conv2d<U4, U4, U3, U1, U1>, Relu, Conv2d<U4, U4, U3>]>;
//! let y = Layer::forward(&Block::default(), &Tensor3::<f32, U4, U8, U8>::default());
//! ```
//!
//! Its twin, padded, compiles:
//!
//! ```
//! use typenet::prelude::*;
//! type Block = Residual<net![Conv2d<U4, U4, U3, U1, U1>, Relu, Conv2d<U4, U4, U3, U1, U1>]>;
//! let y = Layer::forward(&Block::default(), &Tensor3::<f32, U4, U8, U8>::default());
//! assert_eq!(y.len(), 4);
//! ```
//!
//! With a projection, the shortcut's output must be the body's
//! ([`SameAsBody`]).
//!
//! # Training
//!
//! Caches and gradients nest as in a chain: a block's gradients are a
//! block of the body's gradients (and the shortcut's), reached by the same
//! fields. The input gradient is the sum of the two paths': the body's
//! backward pass writes its part into the input-gradient slots and the
//! shortcut's is added to it, so the identity shortcut needs no memory at
//! all and the projection keeps one input-sized buffer per sample in its
//! cache (the stack a backward pass needs does not grow with the block).

use rand::Rng;

use crate::init::{Initialize, Scheme};
use crate::layer::{Layer, Params, Train};
use crate::memory::{DefaultInPlace, Zeroable};
use crate::shape::{Dims, Tensor};

/// A residual block: `y = x + body(x)`, PyTorch's
/// `x + body(x)` in a module's `forward`.
///
/// - `Body`: any layer or chain whose output type is its input type (the
///   rule [`SameAsInput`]; use [`Projected`] for a body that changes it).
/// - Input and output: the body's input type, any tensor.
/// - Parameters: the body's, in its order. In PyTorch's `state_dict` they
///   are `body.*` (a module that registers its body as `self.body`), and a
///   parameter file holds them, buffers included, in that order.
/// - Cache: the body's; the addition keeps nothing. Gradients: a
///   `Residual` of the body's gradients.
/// - [`Initialize`] initialises the body.
///
/// ```
/// use typenet::prelude::*;
///
/// // x + W·x, with W = [[1, 2], [0, -1]] and no bias.
/// let block = Residual::new(Dense::<U2, U2, f64>::new(matrix([[1.0, 2.0], [0.0, -1.0]]), vector([0.0, 0.0])));
/// assert_eq!(block.forward(&vector([1.0, 1.0])).as_slice(), &[4.0, 0.0]);
///
/// // Backward: dL/dx = dy + Wᵀ·dy.
/// let mut cache = Default::default();
/// let mut grads = <Residual<Dense<U2, U2, f64>> as Params<f64>>::Grads::default();
/// block.forward_train(&vector([1.0, 1.0]), &mut cache, &mut NoRng);
/// let dx = block.backward(&vector([1.0, 1.0]), &mut cache, &vector([1.0, 0.0]), &mut grads);
/// assert_eq!(dx.as_slice(), &[2.0, 2.0]);
/// assert_eq!(grads.body.bias.as_slice(), &[1.0, 0.0]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Residual<Body> {
    /// The residual branch: a layer or a chain.
    pub body: Body,
}

/// A residual block with a projection shortcut:
/// `y = shortcut(x) + body(x)`, for blocks whose body changes the shape
/// (ResNet's downsampling blocks, with a strided 1×1 convolution as the
/// shortcut).
///
/// - `Body`: any layer or chain; `Shortcut`: any layer or chain whose
///   output type is the body's (the rule [`SameAsBody`]).
/// - Input: what both take; output: the body's output type.
/// - Parameters: the body's, then the shortcut's. In PyTorch's
///   `state_dict`: `body.*` then `shortcut.*` (a module that registers
///   `self.body` and then `self.shortcut`), each layer's buffers after its
///   parameters, which is what a parameter file holds.
/// - Cache: both branches' caches, the shortcut's output and a buffer for
///   the shortcut's input gradient. Gradients: a `Projected` of both
///   branches' gradients.
/// - [`Initialize`] initialises the body, then the shortcut.
///
/// ```
/// use typenet::prelude::*;
///
/// // 1×6×6 → 2×3×3: a strided 3×3 convolution, and a strided 1×1 convolution beside it.
/// type Block = Projected<Conv2d<U1, U2, U3, U2, U1, f64>, Conv2d<U1, U2, U1, U2, U0, f64>>;
/// let mut block = Block::default();
/// block.shortcut.weight[1][0][0][0] = 1.0; // channel 1 of the shortcut copies every other pixel
/// let x = Tensor3::<f64, U1, U6, U6>::from_array([matrix([[1.0; 6]; 6])]);
/// let y = block.forward(&x);
/// assert_eq!((y[0][1][1], y[1][1][1]), (0.0, 1.0));
/// assert_eq!(<Block as Params<f64>>::COUNT, (2 * 9 + 2) + (2 + 2));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projected<Body, Shortcut> {
    /// The residual branch: a layer or a chain.
    pub body: Body,
    /// The shortcut: a layer or a chain mapping the input to the body's
    /// output type.
    pub shortcut: Shortcut,
}

impl<Body> Residual<Body> {
    /// A block around `body`.
    pub const fn new(body: Body) -> Self {
        Residual { body }
    }
}

impl<Body, Shortcut> Projected<Body, Shortcut> {
    /// A block with the given body and shortcut.
    pub const fn new(body: Body, shortcut: Shortcut) -> Self {
        Projected { body, shortcut }
    }
}

mod sealed {
    /// Only the identity: `X` is the same type as `X`.
    pub trait Same<X> {}
    impl<X> Same<X> for X {}
}

/// Shape rule of [`Residual`]: the body's output (`Self`) is its input
/// `X`, so the two can be added.
///
/// Holds for `X` itself and nothing else (the trait is sealed); its
/// conversions are the identity, which let the block hand its own buffers
/// to the body.
#[diagnostic::on_unimplemented(
    message = "the residual body's output `{Self}` differs from its input `{X}`; use a projection shortcut",
    label = "the body of this `Residual` changes the shape (or the scalar) of its input",
    note = "`Residual<Body>` computes `x + body(x)`, so the body must give back exactly the type it takes: check its padding, strides and channels",
    note = "for a block that changes the shape, `Projected<Body, Shortcut>` computes `shortcut(x) + body(x)`, with a shortcut such as a strided 1×1 `Conv2d` giving the body's output shape",
    note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B0>` is U4 (1,0,0)"
)]
pub trait SameAsInput<X>: sealed::Same<X> + Sized {
    /// The body's output as the block's output.
    fn into_input(self) -> X;
    /// A block's output slot as the body's output slot.
    fn from_input_mut(x: &mut X) -> &mut Self;
    /// A block's output gradient as the body's.
    fn from_input(x: &X) -> &Self;
}

#[diagnostic::do_not_recommend]
impl<X> SameAsInput<X> for X {
    #[inline(always)]
    fn into_input(self) -> X {
        self
    }
    #[inline(always)]
    fn from_input_mut(x: &mut X) -> &mut X {
        x
    }
    #[inline(always)]
    fn from_input(x: &X) -> &X {
        x
    }
}

/// Shape rule of [`Projected`]: the shortcut's output (`Self`) is the
/// body's output `Y`, so the two can be added.
///
/// Holds for `Y` itself and nothing else (the trait is sealed).
#[diagnostic::on_unimplemented(
    message = "the shortcut's output `{Self}` differs from the residual body's output `{Y}`",
    label = "the shortcut of this `Projected` block does not give the body's output shape",
    note = "`Projected<Body, Shortcut>` computes `shortcut(x) + body(x)`, so both must give the same type: a shortcut after a body with stride `S` and `C` output channels is typically a 1×1 `Conv2d` with stride `S` and `C` output channels",
    note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B0>` is U4 (1,0,0)"
)]
pub trait SameAsBody<Y>: sealed::Same<Y> + Sized {
    /// The shortcut's output as the body's.
    fn into_body(self) -> Y;
    /// A slot of the body's output type as the shortcut's.
    fn from_body_mut(y: &mut Y) -> &mut Self;
    /// An output gradient as the shortcut's.
    fn from_body(y: &Y) -> &Self;
}

#[diagnostic::do_not_recommend]
impl<Y> SameAsBody<Y> for Y {
    #[inline(always)]
    fn into_body(self) -> Y {
        self
    }
    #[inline(always)]
    fn from_body_mut(y: &mut Y) -> &mut Y {
        y
    }
    #[inline(always)]
    fn from_body(y: &Y) -> &Y {
        y
    }
}

/// `y += x`, element by element.
#[inline(always)]
fn add_into<X: Tensor>(y: &mut X, x: &X) {
    for (y, &x) in y.as_flat_mut().iter_mut().zip(x.as_flat()) {
        *y = *y + x;
    }
}

impl<X, Body> Layer<X> for Residual<Body>
where
    X: Tensor,
    Body: Layer<X>,
    Body::Output: SameAsInput<X>,
{
    type Output = X;
    const FORWARD_STACK: usize = {
        let output = size_of::<X>();
        if Body::FORWARD_STACK > output { Body::FORWARD_STACK } else { output }
    };

    #[inline]
    fn forward(&self, x: &X) -> X {
        let mut y = self.body.forward(x).into_input();
        add_into(&mut y, x);
        y
    }
}

impl<X, Body, Shortcut> Layer<X> for Projected<Body, Shortcut>
where
    X: Tensor,
    Body: Layer<X, Output: Tensor>,
    Shortcut: Layer<X>,
    Shortcut::Output: SameAsBody<Body::Output>,
{
    type Output = Body::Output;
    /// The body's output stays alive while the shortcut runs.
    const FORWARD_STACK: usize = {
        let shortcut = size_of::<Body::Output>() + Shortcut::FORWARD_STACK;
        if Body::FORWARD_STACK > shortcut { Body::FORWARD_STACK } else { shortcut }
    };

    #[inline]
    fn forward(&self, x: &X) -> Body::Output {
        let mut y = self.body.forward(x);
        add_into(&mut y, &self.shortcut.forward(x).into_body());
        y
    }
}

impl<T, Body: Params<T>> Params<T> for Residual<Body> {
    const COUNT: usize = Body::COUNT;
    const BUFFER_COUNT: usize = Body::BUFFER_COUNT;
    const SIGNATURE_LEN: usize = Body::SIGNATURE_LEN;
    type Grads = Residual<Body::Grads>;
    #[inline]
    fn visit_signature(f: &mut impl FnMut(&'static str, Dims)) {
        Body::visit_signature(f);
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[T])) {
        self.body.visit(f);
    }
    #[inline(always)]
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.body.visit_mut(f);
    }
    #[inline(always)]
    fn zip_mut<const K: usize>(
        &mut self,
        mut others: [&mut Self::Grads; K],
        f: &mut impl FnMut(&mut [T], [&mut [T]; K]),
    ) {
        self.body.zip_mut(others.each_mut().map(|g| &mut g.body), f);
    }
    /// The body's parameters and buffers: `body.*` in PyTorch's
    /// `state_dict`.
    #[inline(always)]
    fn visit_state(&self, f: &mut impl FnMut(&[T])) {
        self.body.visit_state(f);
    }
    #[inline(always)]
    fn visit_state_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.body.visit_state_mut(f);
    }
}

impl<T, Body: Params<T>, Shortcut: Params<T>> Params<T> for Projected<Body, Shortcut> {
    const COUNT: usize = Body::COUNT + Shortcut::COUNT;
    const BUFFER_COUNT: usize = Body::BUFFER_COUNT + Shortcut::BUFFER_COUNT;
    const SIGNATURE_LEN: usize = Body::SIGNATURE_LEN + Shortcut::SIGNATURE_LEN;
    type Grads = Projected<Body::Grads, Shortcut::Grads>;
    /// The body's tensors, then the shortcut's, as in the `state_dict`.
    #[inline]
    fn visit_signature(f: &mut impl FnMut(&'static str, Dims)) {
        Body::visit_signature(f);
        Shortcut::visit_signature(f);
    }
    /// The body's parameters, then the shortcut's: `module.parameters()`
    /// of a module that registers `body` and then `shortcut`.
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[T])) {
        self.body.visit(f);
        self.shortcut.visit(f);
    }
    #[inline(always)]
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.body.visit_mut(f);
        self.shortcut.visit_mut(f);
    }
    #[inline(always)]
    fn zip_mut<const K: usize>(
        &mut self,
        mut others: [&mut Self::Grads; K],
        f: &mut impl FnMut(&mut [T], [&mut [T]; K]),
    ) {
        self.body.zip_mut(others.each_mut().map(|g| &mut g.body), f);
        self.shortcut.zip_mut(others.each_mut().map(|g| &mut g.shortcut), f);
    }
    /// `body.*` then `shortcut.*` in PyTorch's `state_dict`: each layer's
    /// parameters then its buffers, the body's layers first.
    #[inline(always)]
    fn visit_state(&self, f: &mut impl FnMut(&[T])) {
        self.body.visit_state(f);
        self.shortcut.visit_state(f);
    }
    #[inline(always)]
    fn visit_state_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        self.body.visit_state_mut(f);
        self.shortcut.visit_state_mut(f);
    }
}

crate::zeroable!(impl[Body: Zeroable] for Residual<Body> { body: Body });
crate::zeroable!(impl[Body: Zeroable, Shortcut: Zeroable] for Projected<Body, Shortcut> {
    body: Body,
    shortcut: Shortcut,
});

impl<Body: DefaultInPlace> DefaultInPlace for Residual<Body> {
    #[inline]
    fn zeroed_to_default(&mut self) {
        self.body.zeroed_to_default();
    }
}

impl<Body: DefaultInPlace, Shortcut: DefaultInPlace> DefaultInPlace for Projected<Body, Shortcut> {
    #[inline]
    fn zeroed_to_default(&mut self) {
        self.body.zeroed_to_default();
        self.shortcut.zeroed_to_default();
    }
}

impl<Body: Initialize> Initialize for Residual<Body> {
    /// Initialises the body.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        self.body.init_with(scheme, rng);
    }
}

impl<Body: Initialize, Shortcut: Initialize> Initialize for Projected<Body, Shortcut> {
    /// Initialises the body, then the shortcut.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        self.body.init_with(scheme, rng);
        self.shortcut.init_with(scheme, rng);
    }
}

impl<X, Body> Train<X> for Residual<Body>
where
    X: Tensor,
    Body: Train<X>,
    Body::Output: SameAsInput<X>,
{
    type Cache = Body::Cache;
    const COUPLES_SAMPLES: bool = Body::COUPLES_SAMPLES;
    const INPUT_GRADIENT: bool = Body::INPUT_GRADIENT;

    /// The body writes into the output slots, then each input is added.
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Body::Cache; B],
        mut outputs: [&mut X; B],
        rng: &mut R,
    ) {
        let body_outputs = outputs.each_mut().map(|y| <Body::Output as SameAsInput<X>>::from_input_mut(y));
        self.body.forward_train_block(n, inputs, caches, body_outputs, rng);
        for (y, x) in outputs.into_iter().zip(inputs).take(n) {
            add_into(y, x);
        }
    }

    /// The body writes its input gradients into the slots; the identity
    /// path's, `dy` itself, is added to them.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Body::Cache; B],
        grad_outputs: [&X; B],
        grads: &mut Residual<Body::Grads>,
        grad_inputs: Option<[&mut X; B]>,
    ) {
        let body_grad_outputs = grad_outputs.map(<Body::Output as SameAsInput<X>>::from_input);
        let Some(mut grad_inputs) = grad_inputs else {
            self.body.backward_block(n, inputs, caches, body_grad_outputs, &mut grads.body, None);
            return;
        };
        let slots = grad_inputs.each_mut().map(|dx| &mut **dx);
        self.body.backward_block(n, inputs, caches, body_grad_outputs, &mut grads.body, Some(slots));
        for (dx, dy) in grad_inputs.into_iter().zip(grad_outputs).take(n) {
            add_into(dx, dy);
        }
    }

    #[inline]
    fn update_buffers<const B: usize>(&mut self, n: usize, caches: [&Body::Cache; B]) {
        self.body.update_buffers(n, caches);
    }

    #[inline]
    fn buffers_stay_finite<const B: usize>(&self, n: usize, caches: [&Body::Cache; B]) -> bool {
        self.body.buffers_stay_finite(n, caches)
    }
}

/// The cache of a [`Projected`] block for one sample: both branches'
/// caches, the shortcut's output (written in the forward pass and added to
/// the body's) and the shortcut's input gradient (written in the backward
/// pass and added to the body's).
#[derive(Clone, Debug, Default)]
pub struct ProjectedCache<BodyCache, ShortcutCache, Y, X> {
    /// The body's cache.
    pub body: BodyCache,
    /// The shortcut's cache.
    pub shortcut: ShortcutCache,
    /// The shortcut's output.
    pub skip: Y,
    /// dL/dx through the shortcut.
    pub grad: X,
}

crate::zeroable!(impl[BodyCache: Zeroable, ShortcutCache: Zeroable, Y: Zeroable, X: Zeroable]
    for ProjectedCache<BodyCache, ShortcutCache, Y, X> {
    body: BodyCache,
    shortcut: ShortcutCache,
    skip: Y,
    grad: X,
});

/// A block of caches split into its four parts.
type Parts<'a, A, C, Y, X, const B: usize> = ([&'a mut A; B], [&'a mut C; B], [&'a mut Y; B], [&'a mut X; B]);

/// Splits a block of caches into the body's caches, the shortcut's, the
/// shortcut's outputs and its input gradients.
fn split<A, C, Y, X, const B: usize>(caches: [&mut ProjectedCache<A, C, Y, X>; B]) -> Parts<'_, A, C, Y, X, B> {
    let mut parts = caches
        .map(|ProjectedCache { body, shortcut, skip, grad }| (Some(body), Some(shortcut), Some(skip), Some(grad)));
    // Each `take` finds the value put there just above: the `None` arms
    // cannot run, and the optimiser removes them.
    let bodies = core::array::from_fn(|b| parts[b].0.take().unwrap_or_else(|| unreachable!()));
    let shortcuts = core::array::from_fn(|b| parts[b].1.take().unwrap_or_else(|| unreachable!()));
    let skips = core::array::from_fn(|b| parts[b].2.take().unwrap_or_else(|| unreachable!()));
    let grads = core::array::from_fn(|b| parts[b].3.take().unwrap_or_else(|| unreachable!()));
    (bodies, shortcuts, skips, grads)
}

impl<X, Body, Shortcut> Train<X> for Projected<Body, Shortcut>
where
    X: Tensor,
    Body: Train<X>,
    Shortcut: Train<X>,
    Shortcut::Output: SameAsBody<Body::Output>,
{
    type Cache = ProjectedCache<Body::Cache, Shortcut::Cache, Body::Output, X>;
    const COUPLES_SAMPLES: bool = Body::COUPLES_SAMPLES || Shortcut::COUPLES_SAMPLES;
    const INPUT_GRADIENT: bool = Body::INPUT_GRADIENT && Shortcut::INPUT_GRADIENT;

    /// The body writes into the output slots, the shortcut into the
    /// caches, and the shortcut's outputs are added.
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Self::Cache; B],
        mut outputs: [&mut Body::Output; B],
        rng: &mut R,
    ) {
        let (bodies, shortcuts, mut skips, _) = split(caches);
        self.body.forward_train_block(n, inputs, bodies, outputs.each_mut().map(|y| &mut **y), rng);
        let skip_slots = skips.each_mut().map(|s| <Shortcut::Output as SameAsBody<Body::Output>>::from_body_mut(s));
        self.shortcut.forward_train_block(n, inputs, shortcuts, skip_slots, rng);
        for (y, s) in outputs.into_iter().zip(skips).take(n) {
            add_into(y, s);
        }
    }

    /// The body writes its input gradients into the slots, the shortcut
    /// into the caches' buffers, which are then added to them.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Body::Output; B],
        grads: &mut Projected<Body::Grads, Shortcut::Grads>,
        grad_inputs: Option<[&mut X; B]>,
    ) {
        let (bodies, shortcuts, _, mut skip_grads) = split(caches);
        let shortcut_grad_outputs = grad_outputs.map(<Shortcut::Output as SameAsBody<Body::Output>>::from_body);
        let Some(mut grad_inputs) = grad_inputs else {
            self.body.backward_block(n, inputs, bodies, grad_outputs, &mut grads.body, None);
            self.shortcut.backward_block(n, inputs, shortcuts, shortcut_grad_outputs, &mut grads.shortcut, None);
            return;
        };
        let slots = grad_inputs.each_mut().map(|dx| &mut **dx);
        self.body.backward_block(n, inputs, bodies, grad_outputs, &mut grads.body, Some(slots));
        let skip_slots = skip_grads.each_mut().map(|g| &mut **g);
        self.shortcut.backward_block(
            n,
            inputs,
            shortcuts,
            shortcut_grad_outputs,
            &mut grads.shortcut,
            Some(skip_slots),
        );
        for (dx, g) in grad_inputs.into_iter().zip(skip_grads).take(n) {
            add_into(dx, g);
        }
    }

    #[inline]
    fn update_buffers<const B: usize>(&mut self, n: usize, caches: [&Self::Cache; B]) {
        // As a chain does: a branch without buffers is skipped before its
        // block of caches is mapped.
        if Body::BUFFER_COUNT > 0 {
            self.body.update_buffers(n, caches.map(|c| &c.body));
        }
        if Shortcut::BUFFER_COUNT > 0 {
            self.shortcut.update_buffers(n, caches.map(|c| &c.shortcut));
        }
    }

    #[inline]
    fn buffers_stay_finite<const B: usize>(&self, n: usize, caches: [&Self::Cache; B]) -> bool {
        (Body::BUFFER_COUNT == 0 || self.body.buffers_stay_finite(n, caches.map(|c| &c.body)))
            && (Shortcut::BUFFER_COUNT == 0 || self.shortcut.buffers_stay_finite(n, caches.map(|c| &c.shortcut)))
    }
}

#[cfg(test)]
mod tests {
    use core::mem::MaybeUninit;
    use std::vec::Vec;

    use super::*;
    use crate::layers::testing::gradient_check;
    use crate::prelude::*;

    #[test]
    fn gradients_match_finite_differences() {
        let worst = [
            gradient_check::<Residual<Dense<U4, U4, f64>>, Vector<f64, U4>>(1),
            gradient_check::<Residual<net![Dense<U4, U5, f64>, Tanh, Dense<U5, U4, f64>]>, Vector<f64, U4>>(2),
            gradient_check::<Projected<net![Dense<U4, U3, f64>, Sigmoid], Dense<U4, U3, f64>>, Vector<f64, U4>>(3),
            gradient_check::<Projected<Tanh, Identity>, Matrix<f64, U2, U3>>(4),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        std::println!("residual: worst gradient-check error {worst:.2e}");
    }

    /// Parameters walk the body, then the shortcut; gradients nest the same
    /// way and are reached by the same fields.
    #[test]
    fn parameters_are_the_body_then_the_shortcut() {
        type Block = Projected<net![Dense<U2, U3>, Relu], Dense<U2, U3>>;
        assert_eq!(<Block as Params<f32>>::COUNT, 9 + 9);
        let mut block = Block::default();
        let mut k = 0.0;
        block.visit_mut(&mut |t| {
            k += 1.0;
            t.fill(k);
        });
        assert_eq!(
            (block.body.layer::<U0>().bias[0], block.shortcut.weight[0][0], block.shortcut.bias[2]),
            (2.0, 3.0, 4.0)
        );
        let mut sizes = Vec::new();
        block.visit_state(&mut |t| sizes.push(t.len()));
        assert_eq!(sizes, [6, 3, 6, 3]);

        let mut grads = <Block as Params<f32>>::Grads::default();
        let mut cache = Default::default();
        block.forward_train(&vector([1.0, 2.0]), &mut cache, &mut NoRng);
        block.backward(&vector([1.0, 2.0]), &mut cache, &vector([1.0, 0.0, -1.0]), &mut grads);
        assert_eq!(grads.shortcut.bias.as_slice(), &[1.0, 0.0, -1.0]);
        assert_eq!(grads.shortcut.weight[2].as_slice(), &[-1.0, -2.0]);
        assert_eq!(grads.body.layer::<U0>().bias.as_slice(), &[1.0, 0.0, -1.0]); // every ReLU open
    }

    /// Built in place, a block keeps the hyperparameters of its layers.
    #[test]
    fn blocks_build_in_place() {
        type Block = Projected<Residual<net![Dense<U3, U3>, LeakyRelu]>, Dropout>;
        let mut slot = MaybeUninit::<Block>::uninit();
        let block = crate::memory::default_in(&mut slot);
        assert!(*block == Block::default());
        assert_eq!((block.body.body.layer::<U1>().slope, block.shortcut.rate), (0.01, 0.5));
    }

    /// The input gradient is overwritten, not added to, and skipping it
    /// leaves the parameter gradients as they are.
    #[test]
    fn input_gradients_are_overwritten_and_optional() {
        let block = Residual::new(Dense::<U2, U2, f64>::new(matrix([[1.0, 2.0], [0.0, -1.0]]), vector([0.5, 0.0])));
        let (x, dy) = (vector([1.0, -1.0]), vector([2.0, 1.0]));
        // A dense body keeps no cache: the block's is `()` too.
        block.forward_train(&x, &mut (), &mut NoRng);
        let (mut with, mut without) = (Residual::<Dense<U2, U2, f64>>::default(), Default::default());
        let mut dx = vector([100.0, -100.0]);
        block.backward_block(1, [&x], [&mut ()], [&dy], &mut with, Some([&mut dx]));
        assert_eq!(dx.as_slice(), &[4.0, 4.0]); // dy + Wᵀdy = [2, 1] + [2, 3]
        block.backward_block(1, [&x], [&mut ()], [&dy], &mut without, None);
        assert_eq!(with, without);
    }
}
