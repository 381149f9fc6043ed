//! Batch normalisation: [`BatchNorm`] (with the aliases [`BatchNorm1d`] and
//! [`BatchNorm2d`]), PyTorch's `nn.BatchNorm1d` and `nn.BatchNorm2d`, and
//! [`fold`](BatchNorm::fold), which folds a trained batch norm into the
//! `Dense` or convolution before it for deployment.
//!
//! ```
//! use typenet::prelude::*;
//!
//! // Dense → BatchNorm1d → ReLU → Dense, trained with mini-batches of 4.
//! type Net = net![Dense<U3, U8>, BatchNorm1d<U8>, Relu, Dense<U8, U2>];
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
//! let mut net = Net::default();
//! net.init(&mut rng); // batch norm: weight 1, bias 0, as PyTorch
//!
//! let data: Vec<_> = (0..16)
//!     .map(|i| {
//!         let x = [i as f32 / 8.0 - 1.0, (i % 3) as f32, 0.5];
//!         (vector(x), vector([x[0] * 2.0, x[1] - x[0]]))
//!     })
//!     .collect();
//! let config = Config { batch_size: 4, ..Config::default() };
//! let mut trainer = Trainer::new(Sgd::new(0.1), config);
//! trainer.fit(&mut net, &Mse, &data, &mut rng).epochs(3).run()?;
//!
//! // Each accepted step folded its batch's statistics into the running ones.
//! let bn = net.layer::<U1>();
//! assert_eq!(bn.num_batches_tracked, 12.0); // 3 epochs of 4 batches
//! assert!(bn.running_var.iter().all(|&v| v > 0.0));
//!
//! // Evaluation mode (`forward`) normalises with the running statistics.
//! let y = net.forward(&vector([0.5, 1.0, 0.5]));
//! assert!(y.iter().all(|v| v.is_finite()));
//! # Ok::<(), TrainError>(())
//! ```
//!
//! # Modes
//!
//! - Training ([`Train::forward_train_block`]): each channel is normalised
//!   with the mean and the biased variance of its values over the first `n`
//!   samples of the block (and over the positions of a sequence or an
//!   image): `x̂ = (x − μ) / √(σ² + eps)`, `y = weight · x̂ + bias`. The
//!   samples of a block are coupled, so [`Train::COUPLES_SAMPLES`] is `true`
//!   and the [`Trainer`](crate::train::Trainer) runs each mini-batch as one
//!   block of at least 2 samples. After an accepted step,
//!   [`Train::update_buffers`] moves the running statistics towards the
//!   batch's, with the *unbiased* variance, and counts the step in
//!   `num_batches_tracked`, as PyTorch does in `train()` mode.
//! - Evaluation ([`Layer::forward`], PyTorch's `eval()`): each channel is
//!   normalised with the running statistics, `y = weight · (x − running_mean)
//!   / √(running_var + eps) + bias`, a per-channel affine map that
//!   [`fold`](BatchNorm::fold) can fold into the layer before.
//!
//! # Bad input
//!
//! - A mini-batch of one sample: the [`Trainer`](crate::train::Trainer)
//!   refuses it with [`TrainError::SingleSampleBatch`](crate::train::TrainError::SingleSampleBatch)
//!   before any step (PyTorch raises "Expected more than 1 value per channel
//!   when training"); set [`Config::drop_last`](crate::train::Config::drop_last)
//!   to leave out a last batch of one. Called directly on a block of one
//!   vector, the layer outputs its bias (the sample is its own mean) and
//!   [`update_buffers`](Train::update_buffers) leaves the buffers as they
//!   are, since one value has no unbiased variance. (A sequence or an image
//!   has several values per channel even in one sample, and PyTorch accepts
//!   it: so does the layer, though not the trainer.)
//! - A channel whose values are all equal: its variance is 0, `eps` keeps
//!   `1/√(0 + eps)` finite, `x − μ` is exactly 0 (the sums are taken about
//!   a value of the channel, so the mean is the common value itself), and
//!   the output is the bias, exactly (PyTorch's mean is off by its rounding,
//!   so its output is off by as much); the gradient with respect to the
//!   input is finite.
//! - Non-finite running statistics in a parameter file:
//!   [`io::load`](crate::io::load) refuses every NaN and infinity with
//!   [`ParamsError::NonFinite`](crate::io::ParamsError::NonFinite) before it
//!   writes anything. A negative `running_var` is loaded (PyTorch loads it
//!   too) and gives NaN outputs in evaluation mode; `fold` refuses it.
//! - [`fold`](BatchNorm::fold) of a batch norm whose statistics are not
//!   finite or whose `running_var + eps` is not positive, or whose result
//!   would not be finite: a [`FoldError`] naming the channel, and the layer
//!   is left as it was.

use core::fmt;
use core::marker::PhantomData;

use generic_array::sequence::GenericSequence;
use generic_array::{ArrayLength, GenericArray};
use rand::Rng;
use typenum::U0;

use crate::init::{Initialize, Scheme};
use crate::layer::{Layer, Params, Train};
use crate::layers::conv::{Conv1d, Conv2d};
use crate::layers::dense::Dense;
use crate::layers::depthwise::DepthwiseConv2d;
use crate::scalar::Scalar;
use crate::shape::{Matrix, Tensor, Tensor3, Times, TimesOf, Vector};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Affine {}
    impl Sealed for super::NotAffine {}
    impl<T: crate::scalar::Scalar, C: generic_array::ArrayLength> Sealed for crate::shape::Vector<T, C> {}
    impl<T: crate::scalar::Scalar, C: generic_array::ArrayLength, L: generic_array::ArrayLength> Sealed
        for crate::shape::Matrix<T, C, L>
    {
    }
    impl<T: crate::scalar::Scalar, C, H, W> Sealed for crate::shape::Tensor3<T, C, H, W>
    where
        C: generic_array::ArrayLength,
        H: generic_array::ArrayLength,
        W: generic_array::ArrayLength,
    {
    }
}

/// Whether a [`BatchNorm`] has a learnt `weight` and `bias` per channel
/// ([`Affine`], PyTorch's default `affine=True`) or none ([`NotAffine`],
/// `affine=False`). Sealed: these two are all there is.
pub trait Affinity: sealed::Sealed + Copy + Default + fmt::Debug + PartialEq + 'static {
    /// Whether the layer has a weight and a bias.
    const AFFINE: bool;
    /// The length of `weight` and of `bias` for `C` channels: `C`, or 0.
    type Width<C: ArrayLength>: ArrayLength;
}

/// A batch norm with a learnt `weight` and `bias` per channel: PyTorch's
/// `affine=True`, the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Affine;

/// A batch norm without `weight` and `bias` (they are empty, and the layer
/// has no parameters, only buffers): PyTorch's `affine=False`, whose
/// `state_dict` holds the running statistics alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotAffine;

impl Affinity for Affine {
    const AFFINE: bool = true;
    type Width<C: ArrayLength> = C;
}

impl Affinity for NotAffine {
    const AFFINE: bool = false;
    type Width<C: ArrayLength> = U0;
}

/// How the running statistics follow the batches: PyTorch's `momentum`
/// argument, a number (an exponential moving average) or `None` (the plain
/// average of every batch so far).
///
/// After `num_batches_tracked` has counted the new batch, each running
/// statistic becomes `(1 − f) · running + f · batch`, where `f` is the
/// momentum, or `1 / num_batches_tracked` for the cumulative average.
///
/// ```
/// use typenet::layers::batch_norm::RunningAverage;
///
/// assert_eq!(RunningAverage::default(), RunningAverage::exponential(0.1));
/// assert_eq!(RunningAverage::from(None).momentum(), None);
/// assert_eq!(RunningAverage::from(0.3).factor(7.0), 0.3);
/// assert_eq!(RunningAverage::CUMULATIVE.factor(4.0), 0.25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunningAverage {
    momentum: f64,
    cumulative: bool,
}

crate::zeroable!(impl[] for RunningAverage { momentum: f64, cumulative: bool });

impl RunningAverage {
    /// PyTorch's default, `momentum=0.1`.
    pub const DEFAULT: RunningAverage = RunningAverage::exponential(0.1);

    /// The average of every batch so far, each weighted alike: PyTorch's
    /// `momentum=None`.
    pub const CUMULATIVE: RunningAverage = RunningAverage { momentum: 0.0, cumulative: true };

    /// An exponential moving average giving the new batch the weight
    /// `momentum`: PyTorch's `momentum=momentum`.
    pub const fn exponential(momentum: f64) -> Self {
        RunningAverage { momentum, cumulative: false }
    }

    /// PyTorch's `momentum` argument: `Some(momentum)`, or `None` for the
    /// cumulative average.
    pub const fn momentum(self) -> Option<f64> {
        if self.cumulative { None } else { Some(self.momentum) }
    }

    /// The weight of the new batch once `num_batches_tracked` (which counts
    /// it) has reached `batches_tracked`.
    pub fn factor(self, batches_tracked: f64) -> f64 {
        if self.cumulative { 1.0 / batches_tracked } else { self.momentum }
    }
}

impl Default for RunningAverage {
    /// [`RunningAverage::DEFAULT`], momentum 0.1.
    fn default() -> Self {
        RunningAverage::DEFAULT
    }
}

impl From<Option<f64>> for RunningAverage {
    /// PyTorch's `momentum` argument as it is written there.
    fn from(momentum: Option<f64>) -> Self {
        momentum.map_or(RunningAverage::CUMULATIVE, RunningAverage::exponential)
    }
}

impl From<f64> for RunningAverage {
    /// An exponential moving average with this momentum.
    fn from(momentum: f64) -> Self {
        RunningAverage::exponential(momentum)
    }
}

/// Batch normalisation over `C` channels: PyTorch's `nn.BatchNorm1d(C)` and
/// `nn.BatchNorm2d(C)` (see the [module docs](self) for the two modes and for
/// bad input).
///
/// - `C`: channels (features), a `typenum` constant. `T`: the scalar, `f32`
///   unless stated. `A`: [`Affine`] (the default: a `weight` and a `bias`
///   per channel) or [`NotAffine`] (neither, PyTorch's `affine=False`).
/// - Input and output, the same type: `Vector<T, C>` (features, PyTorch's
///   `BatchNorm1d` on `(N, C)`), `Matrix<T, C, L>` (the channels of a
///   sequence, `[channel][position]` as [`Conv1d`] lays it out:
///   `BatchNorm1d` on `(N, C, L)`) or `Tensor3<T, C, H, W>` (images,
///   `BatchNorm2d`). The rule is [`ChannelsFirst`]; another channel count
///   does not compile.
/// - Parameters, then buffers, in PyTorch's `state_dict` order: `weight`
///   and `bias` (`Vector<T, C>` each; empty when not affine, and then not
///   in the `state_dict`), then `running_mean`, `running_var` and
///   `num_batches_tracked` (a `T` that counts the training steps: PyTorch's
///   `int64`, exact in `f32` up to 2²⁴ steps). [`Params::visit`] walks the
///   parameters, which the optimisers train; [`Params::visit_state`] walks
///   both, which parameter files hold.
/// - Hyperparameters, kept as given (in `f64`, so an `f64` model computes
///   what PyTorch's `float64` one does): `eps` (1e-5) and `momentum` (a
///   [`RunningAverage`], 0.1).
/// - `Default` has zero parameters (as every layer) and PyTorch's buffers:
///   running mean 0, running variance 1, count 0. [`Initialize`] sets
///   PyTorch's weight 1 and bias 0 whatever the scheme, and resets the
///   buffers; [`BatchNorm::new`] is the same without an `init` call.
///
/// Backward, per channel over the `m` values of the block:
/// `dweight += Σ dy · x̂`, `dbias += Σ dy`,
/// `dx = weight / √(σ² + eps) · (dy − mean(dy) − x̂ · mean(dy · x̂))`: every
/// sample's `dx` depends on the whole block.
///
/// ```
/// use typenet::prelude::*;
///
/// // Two samples of two features, in training mode.
/// let bn = BatchNorm1d::<U2, f64>::new();
/// let xs = [vector([1.0, 10.0]), vector([3.0, 10.0])];
/// let (mut caches, mut ys) = (<[_; 2]>::default(), [Vector::default(); 2]);
/// bn.forward_train_block(2, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
/// let one = 1.0 / (1.0 + 1e-5f64).sqrt(); // (x − μ) / √(σ² + eps), σ² = 1
/// assert!((ys[0][0] + one).abs() < 1e-15 && (ys[1][0] - one).abs() < 1e-15);
/// assert_eq!((ys[0][1], ys[1][1]), (0.0, 0.0)); // a constant feature gives the bias
///
/// // The step's statistics go into the running ones (momentum 0.1).
/// let mut bn = bn;
/// bn.update_buffers(2, caches.each_ref());
/// assert_eq!(bn.running_mean.as_slice(), &[0.2, 1.0]);
/// assert!((bn.running_var[0] - (0.9 + 0.1 * 2.0)).abs() < 1e-15); // unbiased: 2
/// assert_eq!(bn.num_batches_tracked, 1.0);
///
/// // The state_dict: weight, bias, running_mean, running_var, num_batches_tracked.
/// let mut sizes = Vec::new();
/// bn.visit_state(&mut |t| sizes.push(t.len()));
/// assert_eq!(sizes, [2, 2, 2, 2, 1]);
/// let mut sizes = Vec::new();
/// BatchNorm2d::<U3, f32, NotAffine>::new().visit_state(&mut |t| sizes.push(t.len()));
/// assert_eq!(sizes, [3, 3, 1]);
/// # use typenet::layers::batch_norm::NotAffine;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm<C: ArrayLength, T = f32, A: Affinity = Affine> {
    /// One scale per channel (`C` of them; none when not affine).
    pub weight: Vector<T, A::Width<C>>,
    /// One shift per channel (`C` of them; none when not affine).
    pub bias: Vector<T, A::Width<C>>,
    /// The running mean of each channel, used in evaluation mode.
    pub running_mean: Vector<T, C>,
    /// The running (unbiased) variance of each channel, used in evaluation
    /// mode.
    pub running_var: Vector<T, C>,
    /// The number of training steps folded into the running statistics.
    pub num_batches_tracked: T,
    /// Added to the variance before its square root is taken.
    pub eps: f64,
    /// How the running statistics follow the batches.
    pub momentum: RunningAverage,
}

/// Batch norm over features (`Vector<T, C>`) or over the channels of a
/// sequence (`Matrix<T, C, L>`): PyTorch's `nn.BatchNorm1d(C)`.
pub type BatchNorm1d<C, T = f32, A = Affine> = BatchNorm<C, T, A>;

/// Batch norm over the channels of images (`Tensor3<T, C, H, W>`): PyTorch's
/// `nn.BatchNorm2d(C)`.
pub type BatchNorm2d<C, T = f32, A = Affine> = BatchNorm<C, T, A>;

/// `C` ones: the running variance's starting value.
fn ones<T: Scalar, C: ArrayLength>() -> Vector<T, C> {
    GenericArray::generate(|_| T::one())
}

crate::params! {
    impl[C: ArrayLength, T: Scalar] Params<T> for BatchNorm<C, T, Affine> {
        weight: Vector<T, C>,
        bias: Vector<T, C>;
        buffers
        running_mean: Vector<T, C> = GenericArray::default(),
        running_var: Vector<T, C> = ones(),
        num_batches_tracked: T = T::zero();
        eps: f64 = 1e-5,
        momentum: RunningAverage = RunningAverage::DEFAULT,
    }
}

crate::params! {
    impl[C: ArrayLength, T: Scalar] Params<T> for BatchNorm<C, T, NotAffine> {
        ;
        buffers
        running_mean: Vector<T, C> = GenericArray::default(),
        running_var: Vector<T, C> = ones(),
        num_batches_tracked: T = T::zero();
        weight: Vector<T, U0> = GenericArray::from_array([]),
        bias: Vector<T, U0> = GenericArray::from_array([]),
        eps: f64 = 1e-5,
        momentum: RunningAverage = RunningAverage::DEFAULT,
    }
}

impl<C: ArrayLength, T: Scalar, A: Affinity> BatchNorm<C, T, A>
where
    Self: Default,
{
    /// PyTorch's freshly built `BatchNorm1d(C)`/`BatchNorm2d(C)`: weight 1,
    /// bias 0, running mean 0, running variance 1, count 0, `eps` 1e-5,
    /// momentum 0.1. (`Default` has weight 0, as every layer's parameters
    /// start at zero before [`Initialize`].)
    ///
    /// ```
    /// use typenet::prelude::*;
    /// let bn = BatchNorm2d::<U4>::new().with_eps(1e-3).with_momentum(None);
    /// assert_eq!((bn.weight[0], bn.bias[0], bn.running_var[0]), (1.0, 0.0, 1.0));
    /// assert_eq!((bn.eps, bn.momentum.momentum()), (1e-3, None));
    /// ```
    pub fn new() -> Self {
        let mut bn = Self::default();
        bn.weight.fill(T::one());
        bn
    }
}

impl<C: ArrayLength, T: Scalar, A: Affinity> BatchNorm<C, T, A> {
    /// The same layer with `eps` (PyTorch's `eps=`).
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// The same layer with this momentum (PyTorch's `momentum=`): a number,
    /// `None` for the cumulative average, or a [`RunningAverage`].
    pub fn with_momentum(mut self, momentum: impl Into<RunningAverage>) -> Self {
        self.momentum = momentum.into();
        self
    }

    /// Running mean 0, running variance 1, count 0: PyTorch's
    /// `reset_running_stats()`.
    pub fn reset_running_stats(&mut self) {
        self.running_mean.fill(T::zero());
        self.running_var.fill(T::one());
        self.num_batches_tracked = T::zero();
    }

    /// Channel `c`'s weight and bias: 1 and 0 when not affine.
    #[inline(always)]
    fn scale_shift(&self, c: usize) -> (T, T) {
        (self.weight.get(c).copied().unwrap_or(T::one()), self.bias.get(c).copied().unwrap_or(T::zero()))
    }

    /// Channel `c`'s running mean and variance after a training step whose
    /// block statistics are `stats`, over `m` values per channel, with the
    /// count of batches at `batches` (this step included).
    #[inline]
    fn running_update<X>(&self, stats: &BatchNormCache<C, T, X>, m: usize, batches: f64, c: usize) -> (T, T) {
        let f = self.momentum.factor(batches);
        let unbiased = m as f64 / (m - 1) as f64;
        let (mean, var) = (stats.mean[c].to_f64(), stats.var[c].to_f64() * unbiased);
        let mean = T::from_f64(f * mean + (1.0 - f) * self.running_mean[c].to_f64());
        (mean, T::from_f64(f * var + (1.0 - f) * self.running_var[c].to_f64()))
    }

    /// Evaluation mode as `y = α·x + β` for channel `c`, in `f64`:
    /// `α = weight / √(running_var + eps)`, `β = bias − running_mean · α`.
    #[inline(always)]
    fn eval_affine(&self, c: usize) -> (f64, f64) {
        let (weight, bias) = self.scale_shift(c);
        let alpha = weight.to_f64() / sqrt(self.running_var[c].to_f64() + self.eps);
        (alpha, bias.to_f64() - self.running_mean[c].to_f64() * alpha)
    }
}

impl<C: ArrayLength, T: Scalar, A: Affinity> Initialize for BatchNorm<C, T, A> {
    /// PyTorch's `reset_parameters()`, whatever the scheme: weight 1, bias
    /// 0, and the running statistics reset. Draws nothing.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {
        self.weight.fill(T::one());
        self.bias.fill(T::zero());
        self.reset_running_stats();
    }
}

/// Shape rule: a tensor whose first dimension is `C` channels, each a
/// contiguous plane of [`PLANE`](ChannelsFirst::PLANE) values: what a
/// [`BatchNorm`] over `C` channels takes.
///
/// `Vector<T, C>` (planes of 1), `Matrix<T, C, L>` (of `L`) and
/// `Tensor3<T, C, H, W>` (of `H·W`). Sealed.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::layers::batch_norm::ChannelsFirst;
/// assert_eq!(<Tensor3<f32, U3, U4, U5> as ChannelsFirst<U3>>::PLANE, 20);
/// assert_eq!(<Matrix<f32, U3, U7> as ChannelsFirst<U3>>::PLANE, 7);
/// ```
#[diagnostic::on_unimplemented(
    message = "batch norm over `{C}` channels cannot take input `{Self}`",
    label = "the input's first dimension must be the batch norm's channels",
    note = "a batch norm over C channels takes `Vector<T, C>`, `Matrix<T, C, L>` or `Tensor3<T, C, H, W>`",
    note = "typenum sizes print in binary, most significant bit outermost: `UInt<UInt<UInt<UTerm, B1>, B0>, B0>` is U4 (1,0,0)"
)]
pub trait ChannelsFirst<C: ArrayLength>: Tensor + sealed::Sealed {
    /// The number of values per channel in one sample.
    const PLANE: usize;
}

impl<T: Scalar, C: ArrayLength> ChannelsFirst<C> for Vector<T, C> {
    const PLANE: usize = 1;
}

impl<T: Scalar, C: ArrayLength, L: ArrayLength> ChannelsFirst<C> for Matrix<T, C, L> {
    const PLANE: usize = L::USIZE;
}

impl<T: Scalar, C: ArrayLength, H: ArrayLength, W: ArrayLength> ChannelsFirst<C> for Tensor3<T, C, H, W> {
    const PLANE: usize = H::USIZE * W::USIZE;
}

/// What a batch norm's training forward keeps of a sample: the block's
/// statistics per channel (the same in every sample's cache), which the
/// backward pass and [`Train::update_buffers`] read.
///
/// No copy of the input: the backward pass is handed the input anyway (a
/// chain keeps it between its layers), and recomputes `x̂` from it with the
/// same arithmetic as the forward pass, as PyTorch does. The cache of a
/// block of `B` samples is `3 · C · B` scalars, whatever the input's size;
/// `X`, the input type, is a marker that takes no room.
#[derive(Clone, Debug, Default)]
pub struct BatchNormCache<C: ArrayLength, T, X> {
    /// The block's mean of each channel, μ.
    pub mean: Vector<T, C>,
    /// The block's biased variance of each channel, σ².
    pub var: Vector<T, C>,
    /// `1 / √(σ² + eps)` per channel.
    pub inv_std: Vector<T, C>,
    /// The input type, whose plane size [`Train::update_buffers`] needs.
    pub input: PhantomData<X>,
}

crate::zeroable!(impl[C: ArrayLength, T: crate::memory::Zeroable, X] for BatchNormCache<C, T, X> {
    mean: Vector<T, C>,
    var: Vector<T, C>,
    inv_std: Vector<T, C>,
    input: PhantomData<X>,
});

/// Channel `c`'s plane of a sample.
#[inline(always)]
fn plane<X: Tensor>(x: &X, c: usize, len: usize) -> &[X::Scalar] {
    &x.as_flat()[c * len..(c + 1) * len]
}

/// Channel `c`'s plane of a sample, mutably.
#[inline(always)]
fn plane_mut<X: Tensor>(x: &mut X, c: usize, len: usize) -> &mut [X::Scalar] {
    &mut x.as_flat_mut()[c * len..(c + 1) * len]
}

/// `√x` in `f64`, with or without `std`.
#[inline(always)]
fn sqrt(x: f64) -> f64 {
    libm::sqrt(x)
}

/// Lanes of the sums below: eight independent chains, which the compiler
/// keeps in vector registers, instead of one long one.
const LANES: usize = 8;

/// `(Σ (a − shift), Σ (a − shift)·b)` over two slices of equal length, in
/// `f64`, in [`LANES`]: one pass for the two sums a batch norm needs of a
/// plane, forward (`b = a − shift`: `Σ d` and `Σ d²`) and backward
/// (`Σ dy` and `Σ dy·x̂`).
#[inline(always)]
fn sum_and_dot<T: Scalar>(a: &[T], shift: f64, b: &[T], b_shift: f64) -> (f64, f64) {
    let (mut sum, mut dot) = ([0.0f64; LANES], [0.0f64; LANES]);
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for i in 0..LANES {
            let u = ca[i].to_f64() - shift;
            sum[i] += u;
            dot[i] += u * (cb[i].to_f64() - b_shift);
        }
    }
    let (mut sum, mut dot) = (sum.iter().sum::<f64>(), dot.iter().sum::<f64>());
    for (&x, &y) in rest_a.iter().zip(rest_b) {
        let u = x.to_f64() - shift;
        sum += u;
        dot += u * (y.to_f64() - b_shift);
    }
    (sum, dot)
}

impl<C, T, A, X> Layer<X> for BatchNorm<C, T, A>
where
    C: ArrayLength,
    T: Scalar,
    A: Affinity,
    X: ChannelsFirst<C> + Tensor<Scalar = T>,
{
    type Output = X;

    /// Evaluation mode: `y = weight · (x − running_mean) / √(running_var +
    /// eps) + bias` per channel, as `y = α·x + β`.
    #[inline]
    fn forward(&self, x: &X) -> X {
        let mut y = X::default();
        for c in 0..C::USIZE {
            let (alpha, beta) = self.eval_affine(c);
            let (alpha, beta) = (T::from_f64(alpha), T::from_f64(beta));
            let ys = plane_mut(&mut y, c, X::PLANE);
            for (y, &x) in ys.iter_mut().zip(plane(x, c, X::PLANE)) {
                *y = x * alpha + beta;
            }
        }
        y
    }
}

impl<C, T, A, X> Train<X> for BatchNorm<C, T, A>
where
    C: ArrayLength,
    T: Scalar,
    A: Affinity,
    X: ChannelsFirst<C> + Tensor<Scalar = T>,
    BatchNorm<C, T, A>: Params<T, Grads = BatchNorm<C, T, A>>,
{
    type Cache = BatchNormCache<C, T, X>;

    const COUPLES_SAMPLES: bool = true;

    /// Per channel: the block's mean and biased variance over the first `n`
    /// samples' planes (in `f64`, in one pass of sums about a value of the
    /// channel), then each sample's `weight · x̂ + bias` into its output.
    /// Every sample's cache gets the statistics.
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut X; B],
        _: &mut R,
    ) {
        let n = n.min(B);
        if n == 0 {
            return;
        }
        let p = X::PLANE;
        let m = (n * p) as f64;
        for c in 0..C::USIZE {
            // One pass of sums about a shift `k`, a value of the channel
            // (the shifted-data algorithm): `Σ(x − k)` and `Σ(x − k)²` give
            // the mean and the variance without the cancellation of `Σx²`,
            // and a constant channel gets its value as the mean, exactly.
            // A value lies within √m standard deviations of the mean
            // (Samuelson's inequality), so the subtraction below loses at
            // most a factor m of f64's precision: 3e-12 at m = 32·28·28.
            let k = plane(inputs[0], c, p)[0].to_f64();
            let (mut d, mut d2) = (0.0, 0.0);
            for x in &inputs[..n] {
                let xs = plane(*x, c, p);
                let (sum, squares) = sum_and_dot(xs, k, xs, k);
                d += sum;
                d2 += squares;
            }
            let mean = k + d / m;
            let var = ((d2 - d * d / m) / m).max(0.0);
            let inv_std = 1.0 / sqrt(var + self.eps);
            let (mean_t, var_t, inv_t) = (T::from_f64(mean), T::from_f64(var), T::from_f64(inv_std));
            let (weight, bias) = self.scale_shift(c);
            for b in 0..n {
                let cache = &mut *caches[b];
                (cache.mean[c], cache.var[c], cache.inv_std[c]) = (mean_t, var_t, inv_t);
                let ys = plane_mut(&mut *outputs[b], c, p);
                for (y, &x) in ys.iter_mut().zip(plane(inputs[b], c, p)) {
                    let x_hat = (x - mean_t) * inv_t;
                    *y = x_hat * weight + bias;
                }
            }
        }
    }

    /// Per channel, over the first `n` samples: `Σ dy` and
    /// `Σ dy · x̂ = inv_std · Σ dy · (x − μ)` (in `f64`, one pass) into the
    /// bias and weight gradients, then
    /// `dx = weight · inv_std · (dy − mean(dy) − x̂ · mean(dy · x̂))`, with
    /// `x̂` recomputed from the input as the forward pass computed it.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&X; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&X; B],
        grads: &mut Self,
        mut grad_inputs: Option<[&mut X; B]>,
    ) {
        let n = n.min(B);
        if n == 0 {
            return;
        }
        let p = X::PLANE;
        let m = (n * p) as f64;
        for c in 0..C::USIZE {
            let (mean_t, inv_t) = (caches[0].mean[c], caches[0].inv_std[c]);
            let (mut sum_dy, mut sum_dy_centred) = (0.0, 0.0);
            for (x, dy) in inputs[..n].iter().zip(&grad_outputs[..n]) {
                let (sum, dot) = sum_and_dot(plane(*dy, c, p), 0.0, plane(*x, c, p), mean_t.to_f64());
                sum_dy += sum;
                sum_dy_centred += dot;
            }
            let sum_dy_x_hat = sum_dy_centred * inv_t.to_f64();
            if let Some(g) = grads.weight.get_mut(c) {
                *g = *g + T::from_f64(sum_dy_x_hat);
            }
            if let Some(g) = grads.bias.get_mut(c) {
                *g = *g + T::from_f64(sum_dy);
            }
            let Some(dxs) = grad_inputs.as_mut() else { continue };
            let (weight, _) = self.scale_shift(c);
            let scale = weight * inv_t;
            let (mean_dy, mean_dy_x_hat) = (T::from_f64(sum_dy / m), T::from_f64(sum_dy_x_hat / m));
            for b in 0..n {
                let (xs, dys) = (plane(inputs[b], c, p), plane(grad_outputs[b], c, p));
                let dx = plane_mut(&mut *dxs[b], c, p);
                for ((dx, &dy), &x) in dx.iter_mut().zip(dys).zip(xs) {
                    let x_hat = (x - mean_t) * inv_t;
                    *dx = scale * (dy - mean_dy - x_hat * mean_dy_x_hat);
                }
            }
        }
    }

    /// Counts the step, then moves each running statistic towards the
    /// block's: `running = (1 − f) · running + f · batch`, with the unbiased
    /// variance `σ² · m / (m − 1)` over the `m` values of each channel and
    /// `f` the momentum or `1 / num_batches_tracked`. A block with a single
    /// value per channel (one vector) changes nothing: it has no unbiased
    /// variance.
    #[inline]
    fn update_buffers<const B: usize>(&mut self, n: usize, caches: [&Self::Cache; B]) {
        let m = n.min(B) * X::PLANE;
        if m < 2 {
            return;
        }
        self.num_batches_tracked = self.num_batches_tracked + T::one();
        let batches = self.num_batches_tracked.to_f64();
        for c in 0..C::USIZE {
            (self.running_mean[c], self.running_var[c]) = self.running_update(caches[0], m, batches, c);
        }
    }

    /// The same arithmetic as [`update_buffers`](Train::update_buffers),
    /// written nowhere.
    #[inline]
    fn buffers_stay_finite<const B: usize>(&self, n: usize, caches: [&Self::Cache; B]) -> bool {
        let m = n.min(B) * X::PLANE;
        if m < 2 {
            return true;
        }
        let batches = (self.num_batches_tracked + T::one()).to_f64();
        (0..C::USIZE).all(|c| {
            let (mean, var) = self.running_update(caches[0], m, batches, c);
            mean.is_finite() && var.is_finite()
        })
    }
}

/// A layer whose output channel `c` is an affine function of its input with
/// weights and a bias of its own: a batch norm after it folds into it
/// ([`BatchNorm::fold`]) by scaling channel `c`'s weights and bias.
///
/// Implemented for [`Dense`] (each output, before a `BatchNorm1d`),
/// [`Conv1d`], [`Conv2d`] and [`DepthwiseConv2d`] (each output channel). A
/// new layer gets the same fold from an impl naming where its channels'
/// weights are.
#[diagnostic::on_unimplemented(
    message = "a batch norm cannot be folded into `{Self}`",
    note = "batch norm folds into the layer before it when that layer is `Dense`, `Conv1d`, `Conv2d` or `DepthwiseConv2d` \
            (it implements `FoldTarget`) with as many outputs as the batch norm has channels"
)]
pub trait FoldTarget<T> {
    /// The number of output channels.
    type Channels: ArrayLength;

    /// The weights into output channel `c < Channels`, and its bias.
    fn channel(&self, c: usize) -> (&[T], &T);

    /// The weights into output channel `c < Channels`, and its bias,
    /// mutably.
    fn channel_mut(&mut self, c: usize) -> (&mut [T], &mut T);
}

impl<I: ArrayLength, O: ArrayLength, T: Scalar> FoldTarget<T> for Dense<I, O, T> {
    type Channels = O;
    fn channel(&self, c: usize) -> (&[T], &T) {
        (self.weight[c].as_slice(), &self.bias[c])
    }
    fn channel_mut(&mut self, c: usize) -> (&mut [T], &mut T) {
        (self.weight[c].as_mut_slice(), &mut self.bias[c])
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar> FoldTarget<T> for Conv2d<CI, CO, K, S, P, T> {
    type Channels = CO;
    fn channel(&self, c: usize) -> (&[T], &T) {
        (self.weight[c].as_flat(), &self.bias[c])
    }
    fn channel_mut(&mut self, c: usize) -> (&mut [T], &mut T) {
        (self.weight[c].as_flat_mut(), &mut self.bias[c])
    }
}

impl<C: Times<M>, K: ArrayLength, S, P, M, T: Scalar> FoldTarget<T> for DepthwiseConv2d<C, K, S, P, M, T> {
    type Channels = TimesOf<C, M>;
    fn channel(&self, c: usize) -> (&[T], &T) {
        (self.weight[c].as_flat(), &self.bias[c])
    }
    fn channel_mut(&mut self, c: usize) -> (&mut [T], &mut T) {
        (self.weight[c].as_flat_mut(), &mut self.bias[c])
    }
}

impl<CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T: Scalar> FoldTarget<T> for Conv1d<CI, CO, K, S, P, T> {
    type Channels = CO;
    fn channel(&self, c: usize) -> (&[T], &T) {
        (self.weight[c].as_flat(), &self.bias[c])
    }
    fn channel_mut(&mut self, c: usize) -> (&mut [T], &mut T) {
        (self.weight[c].as_flat_mut(), &mut self.bias[c])
    }
}

/// Why a batch norm could not be folded into the layer before it. The
/// layer is left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FoldError {
    /// A running statistic, the weight or the bias of this channel is NaN
    /// or infinite.
    NonFiniteStatistics {
        /// The channel.
        channel: usize,
    },
    /// `running_var + eps` of this channel is 0 or negative: it has no
    /// square root to divide by (PyTorch's evaluation mode gives NaN or
    /// infinity there).
    NonPositiveVariance {
        /// The channel.
        channel: usize,
    },
    /// A folded weight or bias of this channel is not finite: it overflows
    /// the scalar, or the layer's own was not finite.
    NonFiniteResult {
        /// The channel.
        channel: usize,
    },
}

impl fmt::Display for FoldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FoldError::NonFiniteStatistics { channel } => write!(
                f,
                "batch norm channel {channel} has a running statistic, weight or bias that is not finite; nothing was folded"
            ),
            FoldError::NonPositiveVariance { channel } => {
                write!(f, "batch norm channel {channel} has running_var + eps that is not positive; nothing was folded")
            }
            FoldError::NonFiniteResult { channel } => write!(
                f,
                "folding batch norm channel {channel} gives a weight or bias that is not finite; nothing was folded"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FoldError {}

impl<C: ArrayLength, T: Scalar, A: Affinity> BatchNorm<C, T, A> {
    /// Folds this batch norm, in evaluation mode, into `layer`, the layer
    /// before it, and returns the folded layer: `layer` then this batch norm
    /// and the folded layer alone give the same outputs (up to rounding), so
    /// a deployed network can drop the batch norm.
    ///
    /// Channel `c`'s weights and bias become `α·w` and `α·b + β`, with
    /// `α = weight / √(running_var + eps)` and `β = bias − running_mean · α`
    /// (computed in `f64`). Errors, checked for every channel before
    /// anything changes: a [`FoldError`]. `layer` moves in and out by value;
    /// for a large one, [`fold_into`](Self::fold_into) works in place.
    ///
    /// ```
    /// use typenet::prelude::*;
    ///
    /// let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    /// let mut dense = Dense::<U3, U2, f64>::default();
    /// dense.init(&mut rng);
    /// let mut bn = BatchNorm1d::<U2, f64>::new();
    /// bn.running_mean = vector([0.5, -1.0]);
    /// bn.running_var = vector([4.0, 0.25]);
    /// bn.weight = vector([2.0, 1.0]);
    ///
    /// let x = vector([1.0, -2.0, 0.5]);
    /// let want = bn.forward(&dense.forward(&x));
    /// let folded = bn.fold(dense.clone())?;
    /// let got = folded.forward(&x);
    /// assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-12));
    ///
    /// bn.running_var[1] = -1.0;
    /// assert_eq!(bn.fold(dense), Err(FoldError::NonPositiveVariance { channel: 1 }));
    /// # use typenet::layers::batch_norm::FoldError;
    /// # Ok::<(), FoldError>(())
    /// ```
    pub fn fold<L: FoldTarget<T, Channels = C>>(&self, mut layer: L) -> Result<L, FoldError> {
        self.fold_into(&mut layer)?;
        Ok(layer)
    }

    /// [`fold`](Self::fold) in place: `layer` becomes the folded layer, or
    /// is left as it was on an error.
    pub fn fold_into<L: FoldTarget<T, Channels = C>>(&self, layer: &mut L) -> Result<(), FoldError> {
        // Every check first, so an error changes nothing.
        for c in 0..C::USIZE {
            let (alpha, beta) = self.fold_factors(c)?;
            let (weights, &bias) = layer.channel(c);
            let finite = |v: f64| T::from_f64(v).is_finite();
            if !weights.iter().all(|&w| finite(w.to_f64() * alpha)) || !finite(bias.to_f64() * alpha + beta) {
                return Err(FoldError::NonFiniteResult { channel: c });
            }
        }
        for c in 0..C::USIZE {
            let (alpha, beta) = self.eval_affine(c);
            let (weights, bias) = layer.channel_mut(c);
            weights.iter_mut().for_each(|w| *w = T::from_f64(w.to_f64() * alpha));
            *bias = T::from_f64(bias.to_f64() * alpha + beta);
        }
        Ok(())
    }

    /// Channel `c`'s evaluation-mode `α` and `β`, checked.
    pub(crate) fn fold_factors(&self, c: usize) -> Result<(f64, f64), FoldError> {
        let (weight, bias) = self.scale_shift(c);
        let (mean, var) = (self.running_mean[c].to_f64(), self.running_var[c].to_f64());
        let stats = [weight.to_f64(), bias.to_f64(), mean, var, var + self.eps];
        if !stats.iter().all(|v| v.is_finite()) {
            return Err(FoldError::NonFiniteStatistics { channel: c });
        }
        if var + self.eps <= 0.0 {
            return Err(FoldError::NonPositiveVariance { channel: c });
        }
        let (alpha, beta) = self.eval_affine(c);
        if !alpha.is_finite() || !beta.is_finite() {
            return Err(FoldError::NonFiniteResult { channel: c });
        }
        Ok((alpha, beta))
    }
}

#[cfg(test)]
mod tests {
    use std::string::ToString;
    use std::vec::Vec;

    use super::*;
    use crate::check::{check_gradients_block, randomize};
    use crate::prelude::*;

    /// Fills a tensor with uniform draws from [-1, 1), shifted by `offset`.
    fn random<X: Tensor<Scalar = f64>>(rng: &mut Xoshiro256PlusPlus, offset: f64) -> X {
        let mut x = X::default();
        x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random::<f64>() * 2.0 - 1.0 + offset);
        x
    }

    /// Block gradient check of `L` on 3 samples of `X`; the running
    /// statistics are random too (they must not matter in training mode).
    fn block_check<L, X>(seed: u64) -> f64
    where
        L: Train<X> + Default + Params<f64>,
        X: Tensor<Scalar = f64>,
    {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut layer = L::default();
        randomize(&mut layer, &mut rng);
        let xs: [X; 3] = core::array::from_fn(|b| random(&mut rng, b as f64 * 0.3));
        let report = check_gradients_block(&mut layer, &xs, &mut rng);
        let name = core::any::type_name::<L>();
        assert!(report.max_rel_error < 1e-6, "{name}: {report:?}");
        assert_eq!((report.inputs_checked, report.params_checked), (3 * X::LEN, L::COUNT), "{name}");
        report.max_rel_error
    }

    #[test]
    fn block_gradients_match_finite_differences() {
        let worst = [
            block_check::<BatchNorm1d<U4, f64>, Vector<f64, U4>>(1),
            block_check::<BatchNorm1d<U4, f64, NotAffine>, Vector<f64, U4>>(2),
            block_check::<BatchNorm1d<U3, f64>, Matrix<f64, U3, U5>>(3),
            block_check::<BatchNorm1d<U3, f64, NotAffine>, Matrix<f64, U3, U5>>(4),
            block_check::<BatchNorm2d<U2, f64>, Tensor3<f64, U2, U3, U4>>(5),
            block_check::<BatchNorm2d<U2, f64, NotAffine>, Tensor3<f64, U2, U3, U4>>(6),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        std::println!("batch norm: worst block gradient-check error {worst:.2e}");
    }

    /// Through a chain, the coupling reaches the layers before the batch
    /// norm: the Dense's gradients see the whole block.
    #[test]
    fn block_gradients_through_a_chain() {
        type Net = net![Dense<U3, U4, f64>, BatchNorm1d<U4, f64>, Tanh, Dense<U4, U2, f64>];
        let worst = block_check::<Net, Vector<f64, U3>>(7);
        assert!(worst < 1e-6);
    }

    #[test]
    fn parameters_then_buffers_in_pytorch_order() {
        assert_eq!(<BatchNorm2d<U3> as Params<f32>>::COUNT, 6);
        assert_eq!(<BatchNorm2d<U3> as Params<f32>>::BUFFER_COUNT, 7);
        assert_eq!(<BatchNorm2d<U3, f32, NotAffine> as Params<f32>>::COUNT, 0);
        assert_eq!(<BatchNorm2d<U3, f32, NotAffine> as Params<f32>>::BUFFER_COUNT, 7);
        let mut bn = BatchNorm1d::<U2, f64>::default();
        assert_eq!((bn.eps, bn.momentum, bn.running_var[1], bn.weight[0]), (1e-5, RunningAverage::DEFAULT, 1.0, 0.0));
        let mut k = 0.0;
        bn.visit_state_mut(&mut |t| {
            t.iter_mut().for_each(|v| {
                *v = k;
                k += 1.0;
            })
        });
        assert_eq!(bn.weight.as_slice(), &[0.0, 1.0]);
        assert_eq!(bn.bias.as_slice(), &[2.0, 3.0]);
        assert_eq!(bn.running_mean.as_slice(), &[4.0, 5.0]);
        assert_eq!(bn.running_var.as_slice(), &[6.0, 7.0]);
        assert_eq!(bn.num_batches_tracked, 8.0);
        // The optimisers see the parameters only.
        let mut seen = Vec::new();
        bn.visit(&mut |t| seen.push(t.len()));
        assert_eq!(seen, [2, 2]);
        bn.init(&mut NoRng);
        assert_eq!(bn, BatchNorm1d::new());
    }

    /// The cache keeps three statistics per channel, not the input.
    #[test]
    fn the_cache_holds_the_statistics_alone() {
        type Image = Tensor3<f32, U16, U28, U28>;
        assert_eq!(size_of::<<BatchNorm2d<U16> as Train<Image>>::Cache>(), 3 * 16 * 4);
        assert_eq!(size_of::<<BatchNorm1d<U8, f64> as Train<Vector<f64, U8>>>::Cache>(), 3 * 8 * 8);
    }

    #[test]
    fn built_in_place_it_equals_its_default() {
        type Net = net![Dense<U2, U3>, BatchNorm1d<U3>, BatchNorm1d<U3, f32, NotAffine>];
        let mut slot = core::mem::MaybeUninit::<Net>::uninit();
        let net = crate::memory::default_in(&mut slot);
        assert!(*net == Net::default());
        assert_eq!(net.layer::<U1>().running_var.as_slice(), &[1.0; 3]);
        assert_eq!(net.layer::<U2>().momentum, RunningAverage::DEFAULT);
    }

    /// Training mode by the definition, in `f64`, for an image block.
    #[test]
    fn training_forward_follows_the_definition() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let mut bn = BatchNorm2d::<U2, f64>::new();
        randomize(&mut bn, &mut rng);
        let xs: [Tensor3<f64, U2, U2, U3>; 4] = core::array::from_fn(|b| random(&mut rng, b as f64));
        let (mut caches, mut ys) = (<[BatchNormCache<U2, f64, _>; 4]>::default(), [Tensor3::default(); 4]);
        bn.forward_train_block(3, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        for c in 0..2 {
            let values: Vec<f64> = xs[..3].iter().flat_map(|x| x[c].as_flat().to_vec()).collect();
            let mean = values.iter().sum::<f64>() / 18.0;
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 18.0;
            for b in 0..3 {
                for (y, x) in ys[b][c].as_flat().iter().zip(xs[b][c].as_flat()) {
                    let want = (x - mean) / (var + 1e-5).sqrt() * bn.weight[c] + bn.bias[c];
                    assert!((y - want).abs() < 1e-13, "{y} != {want}");
                }
                assert!((caches[b].mean[c] - mean).abs() < 1e-15 && (caches[b].var[c] - var).abs() < 1e-15);
            }
        }
        assert_eq!(ys[3], Tensor3::default(), "slots past n stay as they were");
    }

    #[test]
    fn evaluation_uses_the_running_statistics() {
        let mut bn = BatchNorm1d::<U2, f64>::new();
        bn.running_mean = vector([1.0, -2.0]);
        bn.running_var = vector([4.0, 0.0]);
        bn.weight = vector([3.0, 1.0]);
        bn.bias = vector([0.5, 0.25]);
        let y = bn.forward(&matrix([[3.0, 5.0], [-2.0, -1.0]]));
        let (s0, s1) = (3.0 / (4.0f64 + 1e-5).sqrt(), 1.0 / 1e-5f64.sqrt());
        let want = [2.0 * s0 + 0.5, 4.0 * s0 + 0.5, 0.25, s1 + 0.25];
        assert!(y.as_flat().iter().zip(want).all(|(y, w)| (y - w).abs() < 1e-12), "{y:?}");
    }

    #[test]
    fn a_constant_channel_gives_the_bias_and_finite_gradients() {
        let mut bn = BatchNorm2d::<U2, f32>::new();
        bn.bias = vector([0.3, -0.2]);
        bn.weight = vector([2.0, 3.0]);
        let mut xs = [Tensor3::<f32, U2, U2, U2>::default(); 3];
        for (b, x) in xs.iter_mut().enumerate() {
            x[0] = matrix([[0.1, 0.1], [0.1, 0.1]]);
            x[1] = matrix([[b as f32, 1.0], [-0.5, 2.0 * b as f32]]);
        }
        let (mut caches, mut ys) = (<[_; 3]>::default(), [Tensor3::default(); 3]);
        bn.forward_train_block(3, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        assert!(ys.iter().all(|y| y[0].as_flat().iter().all(|&v| v == 0.3)), "{:?}", ys[0][0]);
        assert_eq!(caches[0].var[0], 0.0);
        let dys = [Tensor3::<f32, U2, U2, U2>::default(); 3].map(|mut dy| {
            dy.as_flat_mut().iter_mut().enumerate().for_each(|(i, v)| *v = i as f32 - 3.5);
            dy
        });
        let (mut grads, mut dxs) = (BatchNorm2d::default(), [Tensor3::default(); 3]);
        bn.backward_block(3, xs.each_ref(), caches.each_mut(), dys.each_ref(), &mut grads, Some(dxs.each_mut()));
        assert!(dxs.iter().all(|dx| dx.as_flat().iter().all(|v| v.is_finite())));
        assert_eq!(grads.weight[0], 0.0, "x̂ is 0 on the constant channel");
        // In f64 with values whose sum rounds (0.1 is not exact).
        let bn = BatchNorm1d::<U1, f64>::new();
        let xs = [vector([0.1]); 7];
        let (mut caches, mut ys) = (<[_; 7]>::default(), [Vector::default(); 7]);
        bn.forward_train_block(7, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        assert!(ys.iter().all(|y| y[0] == 0.0));
    }

    #[test]
    fn running_statistics_follow_pytorchs_update() {
        let xs = [vector([1.0, 4.0]), vector([2.0, 4.0]), vector([6.0, 4.0])];
        let run = |bn: &mut BatchNorm1d<U2, f64>| {
            let (mut caches, mut ys) = (<[_; 3]>::default(), [Vector::default(); 3]);
            bn.forward_train_block(3, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
            bn.update_buffers(3, caches.each_ref());
        };
        // Mean 3 and 4, unbiased variance 7 and 0.
        let mut bn = BatchNorm1d::<U2, f64>::new().with_momentum(0.25);
        run(&mut bn);
        run(&mut bn);
        let twice = |start: f64, batch: f64| 0.75 * (0.75 * start + 0.25 * batch) + 0.25 * batch;
        assert!((bn.running_mean[0] - twice(0.0, 3.0)).abs() < 1e-15);
        assert!((bn.running_var[0] - twice(1.0, 7.0)).abs() < 1e-14);
        assert!((bn.running_var[1] - twice(1.0, 0.0)).abs() < 1e-15);
        assert_eq!(bn.num_batches_tracked, 2.0);
        // Cumulative: after k batches, the plain average of the k batches.
        let mut bn = BatchNorm1d::<U2, f64>::new().with_momentum(None);
        for _ in 0..3 {
            run(&mut bn);
        }
        assert!((bn.running_mean[0] - 3.0).abs() < 1e-15 && (bn.running_var[0] - 7.0).abs() < 1e-14);
        assert_eq!(bn.num_batches_tracked, 3.0);
    }

    #[test]
    fn one_vector_changes_no_buffer_but_one_image_does() {
        let mut bn = BatchNorm1d::<U2, f64>::new();
        bn.bias = vector([0.5, -0.5]);
        let (mut caches, mut ys) = (<[_; 2]>::default(), [Vector::default(); 2]);
        let xs = [vector([3.0, -1.0]), vector([9.0, 9.0])];
        bn.forward_train_block(1, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        assert_eq!(ys[0], bn.bias, "a sample alone is its own mean");
        let before = bn.clone();
        bn.update_buffers(1, caches.each_ref());
        assert_eq!(bn, before);

        let mut bn = BatchNorm2d::<U1, f64>::new();
        let x = tensor3([[[1.0, 3.0]]]);
        let mut cache = Default::default();
        bn.forward_train(&x, &mut cache, &mut NoRng);
        bn.update_buffers(1, [&cache]);
        assert_eq!((bn.running_mean[0], bn.running_var[0], bn.num_batches_tracked), (0.2, 0.9 + 0.1 * 2.0, 1.0));
    }

    #[test]
    fn fold_into_conv_matches_conv_then_batch_norm() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
        let mut conv = Conv2d::<U2, U3, U3, U1, U1, f64>::default();
        randomize(&mut conv, &mut rng);
        let mut bn = BatchNorm2d::<U3, f64>::default();
        randomize(&mut bn, &mut rng);
        bn.running_var.iter_mut().for_each(|v| *v = v.abs() + 0.1);
        let x: Tensor3<f64, U2, U4, U5> = random(&mut rng, 0.0);
        let want = bn.forward(&conv.forward(&x));
        let folded = bn.fold(conv.clone()).unwrap();
        let got = folded.forward(&x);
        assert!(got.as_flat().iter().zip(want.as_flat()).all(|(g, w)| (g - w).abs() < 1e-12));

        let plain = BatchNorm2d::<U3, f64, NotAffine> {
            running_mean: bn.running_mean,
            running_var: bn.running_var,
            ..Default::default()
        };
        let want = plain.forward(&conv.forward(&x));
        let got = plain.fold(conv).unwrap().forward(&x);
        assert!(got.as_flat().iter().zip(want.as_flat()).all(|(g, w)| (g - w).abs() < 1e-12));
    }

    #[test]
    fn fold_into_depthwise_matches_depthwise_then_batch_norm() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
        let mut dw = DepthwiseConv2d::<U2, U3, U2, U1, U2, f64>::default();
        randomize(&mut dw, &mut rng);
        let mut bn = BatchNorm2d::<U4, f64>::default();
        randomize(&mut bn, &mut rng);
        bn.running_var.iter_mut().for_each(|v| *v = v.abs() + 0.1);
        let x: Tensor3<f64, U2, U5, U6> = random(&mut rng, 0.0);
        let want = bn.forward(&dw.forward(&x));
        let got = bn.fold(dw).unwrap().forward(&x);
        assert!(got.as_flat().iter().zip(want.as_flat()).all(|(g, w)| (g - w).abs() < 1e-12));
    }

    #[test]
    fn fold_refuses_bad_statistics_and_changes_nothing() {
        let mut dense = Dense::<U2, U3, f32>::default();
        dense.init(&mut Xoshiro256PlusPlus::seed_from_u64(3));
        let original = dense.clone();
        let bn = BatchNorm1d::<U3>::new();
        let with = |f: &dyn Fn(&mut BatchNorm1d<U3>)| {
            let mut bad = bn.clone();
            f(&mut bad);
            let mut layer = original.clone();
            let result = bad.fold_into(&mut layer);
            assert!(result.is_ok() || layer == original, "the layer changed on {result:?}");
            result
        };
        assert_eq!(with(&|b| b.running_var[2] = f32::NAN), Err(FoldError::NonFiniteStatistics { channel: 2 }));
        assert_eq!(with(&|b| b.running_mean[1] = f32::INFINITY), Err(FoldError::NonFiniteStatistics { channel: 1 }));
        assert_eq!(with(&|b| b.weight[0] = f32::NAN), Err(FoldError::NonFiniteStatistics { channel: 0 }));
        assert_eq!(with(&|b| b.running_var[1] = -1.0), Err(FoldError::NonPositiveVariance { channel: 1 }));
        assert_eq!(
            with(&|b| {
                b.running_var[0] = 0.0;
                b.eps = 0.0;
            }),
            Err(FoldError::NonPositiveVariance { channel: 0 })
        );
        // 1e30 / √1e-20 overflows f32.
        assert_eq!(
            with(&|b| {
                b.weight[2] = 1e30;
                b.running_var[2] = 0.0;
                b.eps = 1e-20;
            }),
            Err(FoldError::NonFiniteResult { channel: 2 })
        );
        assert_eq!(with(&|_| {}), Ok(()));
        let message = FoldError::NonPositiveVariance { channel: 1 }.to_string();
        assert!(message.contains("channel 1"), "{message}");
    }
}
