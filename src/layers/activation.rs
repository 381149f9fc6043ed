//! Activations: parameterless layers that take any tensor and keep its shape.
//!
//! Element-wise activations ([`Sigmoid`], [`Tanh`], [`Relu`], [`LeakyRelu`],
//! [`Elu`], [`Gelu`], [`GeluTanh`], [`Silu`], [`Softplus`], the hard ones
//! of MobileNet ([`Relu6`], [`HardSigmoid`], [`HardSwish`]), [`Identity`])
//! accept a vector, a matrix or a `[C][H][W]` tensor alike; [`Softmax`] and
//! [`LogSoftmax`] act on a vector. Each has its exact derivative, written
//! beside its value, and each is computed in a form that stays finite for
//! any finite input. For the backward pass, sigmoid, tanh and ELU keep their
//! output (their derivative is cheaper from it); the others keep nothing,
//! since their derivative needs only the input, which the chain holds.
//!
//! ```
//! use typenet::prelude::*;
//!
//! let x = vector([-2.0f32, 0.0, 3.0]);
//! assert_eq!(Relu.forward(&x).as_slice(), &[0.0, 0.0, 3.0]);
//! assert_eq!(LeakyRelu::new(0.1).forward(&x).as_slice(), &[-0.2, 0.0, 3.0]);
//! let p = Softmax.forward(&x);
//! assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
//! ```

use generic_array::ArrayLength;
use rand::Rng;

use crate::layer::{Layer, Train};
use crate::memory::Zeroable;
use crate::scalar::Scalar;
use crate::shape::{Tensor, Vector};

/// An element-wise function in scalar `T`, and how its derivative is
/// computed: from the input alone ([`FromInput`]) or from the output it
/// keeps ([`FromOutput`]). Each activation implements this, for every
/// scalar or (with a hyperparameter, stored in its scalar) for its own, and
/// its `Layer` and `Train` impls call the shared functions below.
trait Elementwise<T: Scalar>: Sized {
    /// [`Input`] or [`Output`]: what the backward pass reads.
    type Derivative: Derivative<Self, T>;
    fn value(&self, x: T) -> T;
}

/// A derivative computed from the input alone: the layer keeps nothing for
/// the backward pass (its input is there already).
trait FromInput<T: Scalar>: Elementwise<T> {
    fn derivative(&self, x: T) -> T;
}

/// A derivative cheaper from the output `y = value(x)` (sigmoid, tanh,
/// ELU): the layer keeps its output for the backward pass.
trait FromOutput<T: Scalar>: Elementwise<T> {
    fn derivative(&self, x: T, y: T) -> T;
}

/// How an element-wise layer `A` trains on tensors of `T`: what it caches
/// per sample, how it fills the cache in the forward pass, and how it turns
/// `dy` into `dx`.
trait Derivative<A, T: Scalar> {
    type Cache<X: Tensor<Scalar = T>>: Default + Zeroable;
    fn forward<X: Tensor<Scalar = T>>(a: &A, x: &X, cache: &mut Self::Cache<X>, y: &mut X);
    fn backward<X: Tensor<Scalar = T>>(a: &A, x: &X, cache: &Self::Cache<X>, dy: &X, dx: &mut X);
}

/// The derivative from the input: nothing cached.
enum Input {}

/// The derivative from the output: the output cached.
enum Output {}

impl<T: Scalar, A: FromInput<T>> Derivative<A, T> for Input {
    type Cache<X: Tensor<Scalar = T>> = ();

    #[inline(always)]
    fn forward<X: Tensor<Scalar = T>>(a: &A, x: &X, _: &mut (), y: &mut X) {
        for (y, &x) in y.as_flat_mut().iter_mut().zip(x.as_flat()) {
            *y = a.value(x);
        }
    }

    #[inline(always)]
    fn backward<X: Tensor<Scalar = T>>(a: &A, x: &X, _: &(), dy: &X, dx: &mut X) {
        for ((d, &xi), &di) in dx.as_flat_mut().iter_mut().zip(x.as_flat()).zip(dy.as_flat()) {
            *d = di * a.derivative(xi);
        }
    }
}

impl<T: Scalar, A: FromOutput<T>> Derivative<A, T> for Output {
    type Cache<X: Tensor<Scalar = T>> = X;

    /// Writes each value into the cache and the output at once.
    #[inline(always)]
    fn forward<X: Tensor<Scalar = T>>(a: &A, x: &X, cache: &mut X, y: &mut X) {
        for ((c, y), &x) in cache.as_flat_mut().iter_mut().zip(y.as_flat_mut()).zip(x.as_flat()) {
            *c = a.value(x);
            *y = *c;
        }
    }

    #[inline(always)]
    fn backward<X: Tensor<Scalar = T>>(a: &A, x: &X, y: &X, dy: &X, dx: &mut X) {
        let values = dx.as_flat_mut().iter_mut().zip(x.as_flat()).zip(y.as_flat()).zip(dy.as_flat());
        for (((d, &xi), &yi), &di) in values {
            *d = di * a.derivative(xi, yi);
        }
    }
}

/// The inference forward of an element-wise layer: `value` on every
/// element. Each activation's `Layer` and `Train` impls are written out
/// below its type and call this and the two block functions below: a
/// blanket impl over `Elementwise` would make it a candidate for every
/// layer and input, so the compiler's shape errors would name the whole
/// chain instead of the layer at fault, and inference over `Train<_>` would
/// overflow.
#[inline]
fn apply<A: Elementwise<X::Scalar>, X: Tensor>(activation: &A, x: &X) -> X {
    let mut y = x.clone();
    for v in y.as_flat_mut() {
        *v = activation.value(*v);
    }
    y
}

/// The training forward of an element-wise layer over the first `n`
/// samples of a block: each output written in place, and into the cache
/// when the derivative reads it.
#[inline(always)]
fn forward_block<A: Elementwise<X::Scalar>, X: Tensor, const B: usize>(
    activation: &A,
    n: usize,
    inputs: [&X; B],
    caches: [&mut CacheOf<A, X>; B],
    outputs: [&mut X; B],
) {
    for ((x, cache), y) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
        A::Derivative::forward(activation, x, cache, y);
    }
}

/// The backward pass of an element-wise layer over the first `n` samples
/// of a block: each input gradient written in place, when asked for.
#[inline(always)]
fn backward_block<A: Elementwise<X::Scalar>, X: Tensor, const B: usize>(
    activation: &A,
    n: usize,
    inputs: [&X; B],
    caches: [&mut CacheOf<A, X>; B],
    grad_outputs: [&X; B],
    grad_inputs: Option<[&mut X; B]>,
) {
    let Some(grad_inputs) = grad_inputs else { return };
    let samples = inputs.into_iter().zip(caches).zip(grad_outputs).zip(grad_inputs);
    for (((x, cache), dy), dx) in samples.take(n) {
        A::Derivative::backward(activation, x, cache, dy, dx);
    }
}

/// What element-wise layer `A` caches per sample of `X`: nothing, or its
/// output.
type CacheOf<A, X> =
    <<A as Elementwise<<X as Tensor>::Scalar>>::Derivative as Derivative<A, <X as Tensor>::Scalar>>::Cache<X>;

#[inline]
fn c<T: Scalar>(x: f64) -> T {
    T::from_f64(x)
}

/// The logistic function computed without overflow for any `x`.
#[inline]
pub(crate) fn logistic<T: Scalar>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + T::exponential(-x))
    } else {
        let e = T::exponential(x);
        e / (T::one() + e)
    }
}

/// Sigmoid, `σ(x) = 1 / (1 + e⁻ˣ)`; `σ' = σ(1 − σ)`. PyTorch's `nn.Sigmoid`.
///
/// Computed as `eˣ / (1 + eˣ)` for negative `x`, so no exponential overflows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sigmoid;

impl<X: Tensor> Layer<X> for Sigmoid {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Sigmoid {
    type Cache = X;
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut X; B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut X; B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Sigmoid {
    type Derivative = Output;

    fn value(&self, x: T) -> T {
        logistic(x)
    }
}

impl<T: Scalar> FromOutput<T> for Sigmoid {
    fn derivative(&self, _: T, y: T) -> T {
        y * (T::one() - y)
    }
}

/// Hyperbolic tangent; `tanh' = 1 − tanh²`. PyTorch's `nn.Tanh`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tanh;

impl<X: Tensor> Layer<X> for Tanh {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Tanh {
    type Cache = X;
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut X; B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut X; B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Tanh {
    type Derivative = Output;

    fn value(&self, x: T) -> T {
        x.tanh()
    }
}

impl<T: Scalar> FromOutput<T> for Tanh {
    fn derivative(&self, _: T, y: T) -> T {
        T::one() - y * y
    }
}

/// Rectified linear unit, `max(0, x)`; derivative 1 for `x > 0`, else 0
/// (0 at 0). PyTorch's `nn.ReLU`, to the bit: a NaN stays NaN (so a NaN
/// input shows in the loss) and −0 stays −0, and the derivative at NaN is
/// 1, as PyTorch's backward (`threshold_backward`) takes it.
///
/// ```
/// use typenet::prelude::*;
///
/// let y = Relu.forward(&vector([-1.0f32, 2.0, f32::NAN]));
/// assert_eq!(y[..2], [0.0, 2.0]);
/// assert!(y[2].is_nan());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Relu;

impl<X: Tensor> Layer<X> for Relu {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Relu {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Relu {
    type Derivative = Input;

    /// `x < 0 ? 0 : x`: one `max` instruction with zero as its first
    /// operand (x86's `maxps(0, x)` returns `x` when either is NaN), as
    /// fast as the `x > 0 ? x : 0` that mapped NaN to 0.
    fn value(&self, x: T) -> T {
        if x < T::zero() { T::zero() } else { x }
    }
}

impl<T: Scalar> FromInput<T> for Relu {
    fn derivative(&self, x: T) -> T {
        if x <= T::zero() { T::zero() } else { T::one() }
    }
}

/// Leaky ReLU, `x` for `x > 0`, else `slope·x`. PyTorch's
/// `nn.LeakyReLU(negative_slope)`; the default slope is PyTorch's, 0.01.
///
/// `T` is the network's scalar (`f32` unless given): the slope is stored
/// in it, so an `f64` network, which writes `LeakyRelu<f64>`, computes with
/// the `f64` 0.01 as PyTorch's `float64` does, and an `f32` one with the
/// `f32` 0.01, with no conversion in either.
///
/// ```
/// use typenet::prelude::*;
///
/// assert_eq!(LeakyRelu::default().forward(&vector([-1.0f32]))[0], -0.01);
/// assert_eq!(LeakyRelu::<f64>::default().forward(&vector([-1.0f64]))[0], -0.01);
/// type Net = net![Dense<U2, U3, f64>, LeakyRelu<f64>, Dense<U3, U1, f64>];
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu<T: Scalar = f32> {
    /// The slope for negative inputs.
    pub slope: T,
}

impl<T: Scalar> LeakyRelu<T> {
    /// Leaky ReLU with the given negative slope.
    pub const fn new(slope: T) -> Self {
        LeakyRelu { slope }
    }
}

impl<T: Scalar, X: Tensor<Scalar = T>> Layer<X> for LeakyRelu<T> {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<T: Scalar, X: Tensor<Scalar = T>> Train<X> for LeakyRelu<T> {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for LeakyRelu<T> {
    type Derivative = Input;

    fn value(&self, x: T) -> T {
        if x > T::zero() { x } else { x * self.slope }
    }
}

impl<T: Scalar> FromInput<T> for LeakyRelu<T> {
    fn derivative(&self, x: T) -> T {
        if x > T::zero() { T::one() } else { self.slope }
    }
}

/// Exponential linear unit, `x` for `x > 0`, else `α(eˣ − 1)`; derivative
/// `y + α` for `x ≤ 0`. PyTorch's `nn.ELU(alpha)`; the default α is 1.
///
/// `eˣ − 1` is computed with `exp_m1`, exact near 0. `T` is the network's
/// scalar, in which α is stored, as [`LeakyRelu`]'s slope: an `f64`
/// network writes `Elu<f64>`.
///
/// ```
/// use typenet::prelude::*;
///
/// let y = Elu::new(0.7f64).forward(&vector([-1.0, 2.0]));
/// assert_eq!(y.as_slice(), &[0.7 * (-1.0f64).exp_m1(), 2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu<T: Scalar = f32> {
    /// The scale of the negative part.
    pub alpha: T,
}

impl<T: Scalar> Elu<T> {
    /// ELU with the given α.
    pub const fn new(alpha: T) -> Self {
        Elu { alpha }
    }
}

impl<T: Scalar, X: Tensor<Scalar = T>> Layer<X> for Elu<T> {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<T: Scalar, X: Tensor<Scalar = T>> Train<X> for Elu<T> {
    type Cache = X;
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut X; B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut X; B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Elu<T> {
    type Derivative = Output;

    fn value(&self, x: T) -> T {
        if x > T::zero() { x } else { self.alpha * x.exp_m1() }
    }
}

impl<T: Scalar> FromOutput<T> for Elu<T> {
    fn derivative(&self, x: T, y: T) -> T {
        if x > T::zero() { T::one() } else { y + self.alpha }
    }
}

/// GELU, exact: `x·Φ(x)` with `Φ` the standard normal CDF,
/// `Φ(x) = (1 + erf(x/√2)) / 2`; derivative `Φ(x) + x·φ(x)`. PyTorch's
/// `nn.GELU()` (its default, `approximate='none'`).
///
/// `erf` comes from `libm` (max error below 1 ulp in `f64`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gelu;

impl<X: Tensor> Layer<X> for Gelu {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Gelu {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Gelu {
    type Derivative = Input;

    fn value(&self, x: T) -> T {
        x * normal_cdf(x)
    }
}

impl<T: Scalar> FromInput<T> for Gelu {
    fn derivative(&self, x: T) -> T {
        let pdf = (-(x * x) * c(0.5)).exp() * c(0.398_942_280_401_432_7); // 1/√(2π)
        normal_cdf(x) + x * pdf
    }
}

#[inline]
fn normal_cdf<T: Scalar>(x: T) -> T {
    (T::one() + (x * c(core::f64::consts::FRAC_1_SQRT_2)).erf()) * c(0.5)
}

/// GELU, tanh approximation: `x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))`.
/// PyTorch's `nn.GELU(approximate='tanh')`; its derivative here is the exact
/// derivative of the approximation.
///
/// It differs from the exact [`Gelu`] by at most 4.8e-4 (absolute, near
/// |x| ≈ 2.2; checked in this module's tests) and needs no `erf`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeluTanh;

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_CUBIC: f64 = 0.044_715;

impl<X: Tensor> Layer<X> for GeluTanh {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for GeluTanh {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for GeluTanh {
    type Derivative = Input;

    fn value(&self, x: T) -> T {
        let u = c::<T>(SQRT_2_OVER_PI) * (x + c::<T>(GELU_CUBIC) * x * x * x);
        c::<T>(0.5) * x * (T::one() + u.tanh())
    }
}

impl<T: Scalar> FromInput<T> for GeluTanh {
    fn derivative(&self, x: T) -> T {
        let u = c::<T>(SQRT_2_OVER_PI) * (x + c::<T>(GELU_CUBIC) * x * x * x);
        let t = u.tanh();
        let du = c::<T>(SQRT_2_OVER_PI) * (T::one() + c::<T>(3.0 * GELU_CUBIC) * x * x);
        c::<T>(0.5) * (T::one() + t) + c::<T>(0.5) * x * (T::one() - t * t) * du
    }
}

/// SiLU (swish), `x·σ(x)`; derivative `σ(x)(1 + x(1 − σ(x)))`. PyTorch's
/// `nn.SiLU`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Silu;

impl<X: Tensor> Layer<X> for Silu {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Silu {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Silu {
    type Derivative = Input;

    fn value(&self, x: T) -> T {
        x * logistic(x)
    }
}

impl<T: Scalar> FromInput<T> for Silu {
    fn derivative(&self, x: T) -> T {
        let s = logistic(x);
        s * (T::one() + x * (T::one() - s))
    }
}

/// Softplus, `ln(1 + eˣ)`; derivative `σ(x)`. PyTorch's `nn.Softplus()`
/// (β = 1).
///
/// Computed as `max(x, 0) + ln(1 + e^−|x|)`, which never overflows and
/// keeps full precision for large |x| (PyTorch switches to `x` past 20).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus;

impl<X: Tensor> Layer<X> for Softplus {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Softplus {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Softplus {
    type Derivative = Input;

    fn value(&self, x: T) -> T {
        x.max(T::zero()) + (-x.abs()).exp().ln_1p()
    }
}

impl<T: Scalar> FromInput<T> for Softplus {
    fn derivative(&self, x: T) -> T {
        logistic(x)
    }
}

/// ReLU6, `min(max(x, 0), 6)`; derivative 1 for `0 < x < 6`, else 0 (0 at
/// both kinks, as PyTorch's `nn.ReLU6`, whose backward is `hardtanh`'s).
/// MobileNet's activation; the int8 deployment fuses it into the output
/// clamp.
///
/// ```
/// use typenet::prelude::*;
/// let y = Relu6.forward(&vector([-1.0f32, 0.5, 6.0, 7.5]));
/// assert_eq!(y.as_slice(), &[0.0, 0.5, 6.0, 6.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Relu6;

impl<X: Tensor> Layer<X> for Relu6 {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Relu6 {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

/// `min(max(x, 0), 6)` as two selects (a `NaN` passes through, as in
/// PyTorch's clamp): a loop of these vectorises.
#[inline(always)]
fn relu6<T: Scalar>(x: T) -> T {
    let six = c::<T>(6.0);
    if x < T::zero() {
        T::zero()
    } else if x > six {
        six
    } else {
        x
    }
}

impl<T: Scalar> Elementwise<T> for Relu6 {
    type Derivative = Input;

    #[inline(always)]
    fn value(&self, x: T) -> T {
        relu6(x)
    }
}

impl<T: Scalar> FromInput<T> for Relu6 {
    #[inline(always)]
    fn derivative(&self, x: T) -> T {
        if x > T::zero() && x < c(6.0) { T::one() } else { T::zero() }
    }
}

/// PyTorch's hard-sigmoid slope: `1.0f / 6.0f`, the `f32` nearest 1/6
/// (0.1666666716337204), whatever the scalar. PyTorch's CPU backward
/// (`hardsigmoid_backward_kernel`) builds its constant so, in `float64`
/// too; using it keeps `f64` gradients equal to PyTorch's, 2.9e-8
/// (relative) away from the exact 1/6.
const HARD_SIGMOID_SLOPE: f64 = (1.0f32 / 6.0f32) as f64;

/// Hard sigmoid, `relu6(x + 3) / 6`, a piecewise-linear sigmoid; derivative
/// `1/6` for `−3 < x < 3`, else 0 (0 at both kinks). PyTorch's
/// `nn.Hardsigmoid` (MobileNetV3's squeeze-and-excitation gate).
///
/// The slope of the backward pass is PyTorch's `1.0f / 6.0f`, 1/6 rounded
/// to `f32`, in `f64` as well, so gradients match PyTorch's in both
/// scalars; in `f64` it differs from 1/6 by 2.9e-8 (relative).
///
/// ```
/// use typenet::prelude::*;
/// let y = HardSigmoid.forward(&vector([-4.0f64, -3.0, 0.0, 1.5, 3.0]));
/// assert_eq!(y.as_slice(), &[0.0, 0.0, 0.5, 0.75, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardSigmoid;

impl<X: Tensor> Layer<X> for HardSigmoid {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for HardSigmoid {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for HardSigmoid {
    type Derivative = Input;

    #[inline(always)]
    fn value(&self, x: T) -> T {
        relu6(x + c(3.0)) / c(6.0)
    }
}

impl<T: Scalar> FromInput<T> for HardSigmoid {
    #[inline(always)]
    fn derivative(&self, x: T) -> T {
        if x > c(-3.0) && x < c(3.0) { c(HARD_SIGMOID_SLOPE) } else { T::zero() }
    }
}

/// Hard swish, `x · relu6(x + 3) / 6`; derivative 0 for `x ≤ −3`,
/// `x/3 + 1/2` for `−3 < x < 3`, 1 for `x ≥ 3`. PyTorch's `nn.Hardswish`,
/// MobileNetV3's activation. At the kinks the derivative is the outer,
/// linear side's (0 at −3, 1 at 3), as in the `hardswish_backward` of
/// torch 2.15; older releases took the middle branch there (−1/2 and 3/2).
///
/// ```
/// use typenet::prelude::*;
/// let y = HardSwish.forward(&vector([-4.0f64, -1.5, 0.0, 3.0, 5.0]));
/// assert_eq!(y.as_slice(), &[0.0, -0.375, 0.0, 3.0, 5.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardSwish;

impl<X: Tensor> Layer<X> for HardSwish {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for HardSwish {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for HardSwish {
    type Derivative = Input;

    /// `x · relu6(x + 3) / 6`, in PyTorch's order of operations.
    #[inline(always)]
    fn value(&self, x: T) -> T {
        x * relu6(x + c(3.0)) / c(6.0)
    }
}

impl<T: Scalar> FromInput<T> for HardSwish {
    /// The middle branch is computed for every `x` and the kinks picked
    /// by selects, so a loop of these vectorises (with branches it ran 4×
    /// slower).
    #[inline(always)]
    fn derivative(&self, x: T) -> T {
        let middle = x / c(3.0) + c(0.5);
        let below_3 = if x < c(3.0) { middle } else { T::one() };
        if x > c(-3.0) { below_3 } else { T::zero() }
    }
}

/// The identity, `y = x`: a placeholder layer, or the "linear" activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Identity;

impl<X: Tensor> Layer<X> for Identity {
    type Output = X;
    #[inline]
    fn forward(&self, x: &X) -> X {
        apply(self, x)
    }
}

impl<X: Tensor> Train<X> for Identity {
    type Cache = ();
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        forward_block(self, n, inputs, caches, outputs);
    }
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut (); B],
        grad_outputs: [&X; B],
        _: &mut (),
        grad_inputs: Option<[&mut X; B]>,
    ) {
        backward_block(self, n, inputs, caches, grad_outputs, grad_inputs);
    }
}

impl<T: Scalar> Elementwise<T> for Identity {
    type Derivative = Input;

    fn value(&self, x: T) -> T {
        x
    }
}

impl<T: Scalar> FromInput<T> for Identity {
    fn derivative(&self, _: T) -> T {
        T::one()
    }
}

crate::params!(impl[] Params for Sigmoid {});
crate::params!(impl[] Params for Tanh {});
crate::params!(impl[T: Scalar] Params for Elu<T> { alpha: T = T::ONE });
crate::params!(impl[] Params for Relu {});
crate::params!(impl[T: Scalar] Params for LeakyRelu<T> { slope: T = T::LEAKY_SLOPE });
crate::params!(impl[] Params for Gelu {});
crate::params!(impl[] Params for GeluTanh {});
crate::params!(impl[] Params for Silu {});
crate::params!(impl[] Params for Softplus {});
crate::params!(impl[] Params for Identity {});
crate::params!(impl[] Params for Relu6 {});
crate::params!(impl[] Params for HardSigmoid {});
crate::params!(impl[] Params for HardSwish {});

/// Softmax over a vector, `yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)` with `m = max x`
/// (so no exponential overflows); backward `dxᵢ = yᵢ(dyᵢ − Σⱼ dyⱼyⱼ)`.
/// PyTorch's `nn.Softmax(dim=-1)`.
///
/// To train a classifier, prefer logits with the fused softmax
/// cross-entropy cost, which is better conditioned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax;

/// Log-softmax over a vector, `yᵢ = xᵢ − m − ln Σⱼ e^(xⱼ − m)`; backward
/// `dxᵢ = dyᵢ − e^(yᵢ) Σⱼ dyⱼ`. PyTorch's `nn.LogSoftmax(dim=-1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSoftmax;

/// `(max, ln Σ e^(x − max))` of a non-empty slice; `(0, 0)` if empty.
#[inline]
fn max_and_log_sum_exp<T: Scalar>(x: &[T]) -> (T, T) {
    let Some(&first) = x.first() else { return (T::zero(), T::zero()) };
    let m = x.iter().fold(first, |m, &v| m.max(v));
    let sum = x.iter().fold(T::zero(), |s, &v| s + (v - m).exp());
    (m, sum.ln())
}

impl<T: Scalar, N: ArrayLength> Layer<Vector<T, N>> for Softmax {
    type Output = Vector<T, N>;
    fn forward(&self, x: &Vector<T, N>) -> Vector<T, N> {
        let (m, lse) = max_and_log_sum_exp(x);
        let mut y = x.clone();
        for v in y.iter_mut() {
            *v = (*v - m - lse).exp();
        }
        y
    }
}

impl<T: Scalar, N: ArrayLength> Train<Vector<T, N>> for Softmax {
    type Cache = Vector<T, N>;
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        caches: [&mut Vector<T, N>; B],
        outputs: [&mut Vector<T, N>; B],
        _: &mut R,
    ) {
        keep_outputs(self, n, inputs, caches, outputs);
    }
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Vector<T, N>; B],
        caches: [&mut Vector<T, N>; B],
        grad_outputs: [&Vector<T, N>; B],
        _: &mut (),
        grad_inputs: Option<[&mut Vector<T, N>; B]>,
    ) {
        let Some(grad_inputs) = grad_inputs else { return };
        for ((y, dy), dx) in caches.into_iter().zip(grad_outputs).zip(grad_inputs).take(n) {
            let s = dy.iter().zip(y.iter()).fold(T::zero(), |s, (&d, &yi)| s + d * yi);
            for ((d, &di), &yi) in dx.iter_mut().zip(dy.iter()).zip(y.iter()) {
                *d = yi * (di - s);
            }
        }
    }
}

impl<T: Scalar, N: ArrayLength> Layer<Vector<T, N>> for LogSoftmax {
    type Output = Vector<T, N>;
    fn forward(&self, x: &Vector<T, N>) -> Vector<T, N> {
        let (m, lse) = max_and_log_sum_exp(x);
        let mut y = x.clone();
        for v in y.iter_mut() {
            *v = *v - m - lse;
        }
        y
    }
}

impl<T: Scalar, N: ArrayLength> Train<Vector<T, N>> for LogSoftmax {
    type Cache = Vector<T, N>;
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        caches: [&mut Vector<T, N>; B],
        outputs: [&mut Vector<T, N>; B],
        _: &mut R,
    ) {
        keep_outputs(self, n, inputs, caches, outputs);
    }
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Vector<T, N>; B],
        caches: [&mut Vector<T, N>; B],
        grad_outputs: [&Vector<T, N>; B],
        _: &mut (),
        grad_inputs: Option<[&mut Vector<T, N>; B]>,
    ) {
        let Some(grad_inputs) = grad_inputs else { return };
        for ((y, dy), dx) in caches.into_iter().zip(grad_outputs).zip(grad_inputs).take(n) {
            let s = dy.iter().fold(T::zero(), |s, &d| s + d);
            for ((d, &di), &yi) in dx.iter_mut().zip(dy.iter()).zip(y.iter()) {
                *d = di - yi.exp() * s;
            }
        }
    }
}

/// The forward pass of a layer that keeps its output: each of the first `n`
/// outputs computed into its cache and copied out.
#[inline]
fn keep_outputs<L: Layer<X, Output = X>, X: Tensor, const B: usize>(
    layer: &L,
    n: usize,
    inputs: [&X; B],
    caches: [&mut X; B],
    outputs: [&mut X; B],
) {
    for ((x, cache), y) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
        *cache = layer.forward(x);
        y.clone_from(cache);
    }
}

crate::params!(impl[] Params for Softmax {});
crate::params!(impl[] Params for LogSoftmax {});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_gradients;
    use crate::prelude::*;

    /// Inputs spread over [-3, 3] and away from the kinks at 0, where
    /// finite differences straddle two branches.
    fn input() -> Vector<f64, U8> {
        vector([-2.9, -1.7, -0.6, -0.15, 0.2, 0.9, 1.6, 3.1])
    }

    fn assert_gradients<L: Train<Vector<f64, U8>>>(mut layer: L) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let report = check_gradients(&mut layer, &input(), &mut rng);
        assert!(report.max_rel_error < 1e-6, "{}: {report:?}", core::any::type_name::<L>());
        assert_eq!(report.inputs_checked, 8);
    }

    #[test]
    fn every_activation_passes_the_gradient_check() {
        assert_gradients(Sigmoid);
        assert_gradients(Tanh);
        assert_gradients(Relu);
        assert_gradients(LeakyRelu::new(0.2));
        assert_gradients(Elu::new(0.7));
        assert_gradients(Gelu);
        assert_gradients(GeluTanh);
        assert_gradients(Silu);
        assert_gradients(Softplus);
        assert_gradients(Relu6);
        assert_gradients(HardSigmoid);
        assert_gradients(HardSwish);
        assert_gradients(Identity);
        assert_gradients(Softmax);
        assert_gradients(LogSoftmax);
    }

    /// PyTorch's `nn.ReLU` bit for bit where `max(0, x)` is ambiguous:
    /// NaN stays NaN, −0 stays −0; its backward passes the gradient at NaN
    /// (`threshold_backward` zeroes where `y ≤ 0`).
    #[test]
    fn relu_keeps_nan_and_negative_zero() {
        let x = vector([f32::NAN, -0.0, 0.0, -1.5, 2.0]);
        let y = Relu.forward(&x);
        assert!(y[0].is_nan(), "{y:?}");
        assert_eq!(
            y[1..].iter().map(|v| v.to_bits()).collect::<std::vec::Vec<_>>(),
            [(-0.0f32).to_bits(), 0, 0, 2.0f32.to_bits()]
        );
        let at = [f64::NAN, -0.0, 0.0, -1.5, 2.0];
        assert_eq!(at.map(|x| Relu.derivative(x)), [1.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn element_wise_activations_take_any_shape() {
        let x: Tensor3<f32, U2, U2, U2> = tensor3([[[-1.0, 1.0], [2.0, -2.0]], [[0.5, -0.5], [3.0, 0.0]]]);
        let y = Relu.forward(&x);
        assert_eq!(y.as_flat(), &[0.0, 1.0, 2.0, 0.0, 0.5, 0.0, 3.0, 0.0]);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let m: Matrix<f64, U2, U3> = matrix([[-1.0, 0.3, 2.0], [0.7, -0.2, 1.1]]);
        let report = check_gradients(&mut Silu, &m, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
    }

    #[test]
    fn values_match_reference_points() {
        // Reference values: PyTorch 2.15 in float64 (torch.sigmoid(torch.tensor(x, dtype=torch.float64)) etc.).
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(Sigmoid.value(1.0), 0.731_058_578_630_004_9);
        close(Tanh.value(0.5), 0.462_117_157_260_009_74);
        close(Elu::default().value(-1.0), -0.632_120_558_828_557_7);
        close(Gelu.value(1.0), 0.841_344_746_068_542_9);
        close(GeluTanh.value(1.0), 0.841_191_990_608_276_8);
        close(Silu.value(2.0), 1.761_594_155_955_764_9);
        close(Softplus.value(1.0), 1.313_261_687_518_222_8);
        close(LeakyRelu::default().value(-2.0), -0.02); // the f64 slope 0.01, as PyTorch's float64
    }

    #[test]
    fn stable_at_extreme_inputs() {
        for x in [-1e4f32, -100.0, 100.0, 1e4] {
            for y in [Sigmoid.value(x), Softplus.value(x), Silu.value(x), Gelu.value(x), Elu::default().value(x)] {
                assert!(y.is_finite(), "{x} -> {y}");
            }
        }
        assert_eq!(Sigmoid.value(-1e4f32), 0.0);
        assert_eq!(Sigmoid.value(1e4f32), 1.0);
        assert_eq!(Softplus.value(1e4f32), 1e4);
        assert_eq!(Softplus.value(-1e4f32), 0.0);
        assert_eq!(Softplus.value(30.0f64), 30.0 + (-30.0f64).exp());
        let p = Softmax.forward(&vector([1e4f32, 0.0, -1e4]));
        assert_eq!(p.as_slice(), &[1.0, 0.0, 0.0]);
        let l = LogSoftmax.forward(&vector([1e4f32, 1e4]));
        assert!((l[0] - (-core::f32::consts::LN_2)).abs() < 1e-6);
    }

    /// Each hard activation at and around its kinks: PyTorch's values and
    /// PyTorch's one-sided choices of derivative (its C++ backward kernels,
    /// checked against torch 2.15 in `tests/integration/blocks.rs`).
    #[test]
    fn hard_activations_take_pytorchs_derivative_at_the_kinks() {
        let at = [-4.0f64, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5, 6.0, 7.0];
        let values = |f: fn(f64) -> f64| at.map(f);
        assert_eq!(values(|x| Relu6.value(x)), [0.0, 0.0, 0.0, 0.0, 1.5, 3.0, 4.5, 6.0, 6.0]);
        assert_eq!(values(|x| Relu6.derivative(x)), [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(values(|x| HardSigmoid.value(x)), [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]);
        let s = (1.0f32 / 6.0) as f64;
        assert_eq!(values(|x| HardSigmoid.derivative(x)), [0.0, 0.0, s, s, s, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(values(|x| HardSwish.value(x)), [0.0, 0.0, -0.375, 0.0, 1.125, 3.0, 4.5, 6.0, 7.0]);
        assert_eq!(values(|x| HardSwish.derivative(x)), [0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]);
        // The stated distance of the slope from 1/6.
        assert!(((s - 1.0 / 6.0) * 6.0).abs() < 3e-8 && s != 1.0 / 6.0);
        assert!(Relu6.value(f32::NAN).is_nan() && HardSwish.value(f64::NAN).is_nan());
    }

    #[test]
    fn tanh_gelu_stays_within_its_stated_bound() {
        let worst = (-6000..=6000)
            .map(|i| i as f64 / 1000.0)
            .map(|x| (GeluTanh.value(x) - Gelu.value(x)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 4.8e-4 && worst > 1e-4, "{worst}");
    }

    #[test]
    fn softmax_sums_to_one_and_log_softmax_is_its_log() {
        let x = vector([0.3f64, -2.0, 5.5, 1.25]);
        let p = Softmax.forward(&x);
        let l = LogSoftmax.forward(&x);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        for (pi, li) in p.iter().zip(l.iter()) {
            assert!((pi.ln() - li).abs() < 1e-14);
        }
    }

    #[test]
    fn only_sigmoid_tanh_and_elu_keep_their_output() {
        type X = Tensor3<f32, U2, U3, U4>;
        assert_eq!(size_of::<<Sigmoid as Train<X>>::Cache>(), 24 * 4);
        assert_eq!(size_of::<<Tanh as Train<X>>::Cache>(), 24 * 4);
        assert_eq!(size_of::<<Elu as Train<X>>::Cache>(), 24 * 4);
        assert_eq!(size_of::<<Relu as Train<X>>::Cache>(), 0);
        assert_eq!(size_of::<<Gelu as Train<X>>::Cache>(), 0);
        assert_eq!(size_of::<<Identity as Train<X>>::Cache>(), 0);
        assert_eq!(size_of::<<Relu6 as Train<X>>::Cache>(), 0);
        assert_eq!(size_of::<<HardSigmoid as Train<X>>::Cache>(), 0);
        assert_eq!(size_of::<<HardSwish as Train<X>>::Cache>(), 0);
    }

    /// Both kinds of element-wise layer give in blocks what they give one
    /// sample at a time, and leave the slots past `n` alone.
    fn blocks_agree_with_samples<A: Train<Vector<f64, U5>, Output = Vector<f64, U5>> + Default>() {
        let layer = A::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut draw = || vector::<f64, 5>(core::array::from_fn(|_| rng.random_range(-2.0..2.0)));
        let (xs, dys) = ([draw(), draw(), draw()], [draw(), draw(), draw()]);
        let mut caches: [A::Cache; 3] = Default::default();
        let (mut ys, mut dxs) = ([vector([9.0; 5]); 3], [vector([9.0; 5]); 3]);
        layer.forward_train_block(2, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        layer.backward_block(
            2,
            xs.each_ref(),
            caches.each_mut(),
            dys.each_ref(),
            &mut Default::default(),
            Some(dxs.each_mut()),
        );
        for b in 0..2 {
            let mut cache = A::Cache::default();
            assert_eq!(ys[b], layer.forward_train(&xs[b], &mut cache, &mut NoRng));
            assert_eq!(dxs[b], layer.backward(&xs[b], &mut cache, &dys[b], &mut Default::default()));
        }
        assert!(ys[2] == vector([9.0; 5]) && dxs[2] == vector([9.0; 5]));
    }

    #[test]
    fn element_wise_blocks_agree_with_samples() {
        blocks_agree_with_samples::<Relu>();
        blocks_agree_with_samples::<Gelu>();
        blocks_agree_with_samples::<Sigmoid>();
        blocks_agree_with_samples::<Elu<f64>>();
        blocks_agree_with_samples::<HardSwish>();
    }
}
