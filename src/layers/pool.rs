//! Pooling over `[C][H][W]` tensors: [`MaxPool2d`] and [`AvgPool2d`] slide a
//! `K`×`K` window with stride `S` over each channel; [`GlobalAvgPool`]
//! averages each channel to one value.
//!
//! ```
//! use typenet::prelude::*;
//!
//! let x = tensor3([[[1.0f32, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0]]]); // 1×2×4
//! assert_eq!(MaxPool2d::<U2>::new().forward(&x), tensor3([[[4.0, 5.0]]]));
//! assert_eq!(AvgPool2d::<U2>::new().forward(&x), tensor3([[[2.5, 1.75]]]));
//! assert_eq!(GlobalAvgPool.forward(&x), vector([17.0 / 8.0]));
//! ```
//!
//! Window sizes follow PyTorch's floor mode: `(I − K) / S + 1` windows per
//! axis (the shape rule [`ConvDims`] with no padding), and inputs past the
//! last whole window are ignored. A window larger than the input does not
//! compile. No pooling layer keeps a cache: max-pooling finds its maxima
//! again from the input in the backward pass, which costs one comparison per
//! input and saves an index per output.

use core::marker::PhantomData;

use generic_array::ArrayLength;
use rand::Rng;
use typenum::{U0, Unsigned};

use super::conv::{ConvDims, ConvOut};
use crate::layer::{Layer, Train};
use crate::scalar::Scalar;
use crate::shape::{Tensor, Tensor3, Vector};

/// The number of windows of size `K`, stride `S` along `I` positions, in
/// floor mode: `PoolOut<U5, U2, U2>` is `U2`.
pub type PoolOut<I, K, S> = ConvOut<I, K, S, U0>;

/// The output of a `K`×`K` pooling with stride `S` on a `C`×`H`×`W` input.
pub type Pooled<T, C, H, W, K, S> = Tensor3<T, C, PoolOut<H, K, S>, PoolOut<W, K, S>>;

/// Max-pooling over `K`×`K` windows with stride `S` (`K` unless stated),
/// channel by channel: PyTorch's `nn.MaxPool2d(K, stride=S)`.
///
/// - Input `Tensor3<T, C, H, W>`, output
///   `Tensor3<T, C, PoolOut<H, K, S>, PoolOut<W, K, S>>` (floor mode).
/// - No parameters. Backward sends each output's gradient to the maximum of
///   its window; of equal maxima the first in row-major order gets it, and a
///   NaN counts as the maximum, both as PyTorch does. Overlapping windows
///   (`S < K`) add their gradients.
///
/// ```
/// use typenet::prelude::*;
///
/// let pool = MaxPool2d::<U2, U1>::new();
/// let x = tensor3([[[1.0f64, 1.0, 0.0], [0.0, 1.0, 3.0]]]);
/// assert_eq!(pool.forward(&x), tensor3([[[1.0, 3.0]]]));
///
/// let mut cache = Default::default();
/// pool.forward_train(&x, &mut cache, &mut NoRng);
/// let dx = pool.backward(&x, &mut cache, &tensor3([[[1.0, 10.0]]]), &mut ());
/// // The tie in the first window goes to its first 1; the second window's 3 takes 10.
/// assert_eq!(dx, tensor3([[[1.0, 0.0, 0.0], [0.0, 0.0, 10.0]]]));
/// ```
pub type MaxPool2d<K, S = K> = Pool2d<Max, K, S>;

/// Average pooling over `K`×`K` windows with stride `S` (`K` unless stated),
/// channel by channel: PyTorch's `nn.AvgPool2d(K, stride=S)`.
///
/// - Input `Tensor3<T, C, H, W>`, output
///   `Tensor3<T, C, PoolOut<H, K, S>, PoolOut<W, K, S>>` (floor mode).
/// - No parameters. Each output is the sum of its window divided by `K·K`;
///   backward spreads `dy / (K·K)` over the window.
///
/// ```
/// use typenet::prelude::*;
///
/// let pool = AvgPool2d::<U2>::new();
/// let x = tensor3([[[1.0f64, 2.0, 9.0], [3.0, 6.0, 9.0], [9.0, 9.0, 9.0]]]);
/// assert_eq!(pool.forward(&x), tensor3([[[3.0]]])); // the last row and column are dropped
/// ```
pub type AvgPool2d<K, S = K> = Pool2d<Avg, K, S>;

/// A pooling over `K`×`K` windows with stride `S`, channel by channel, each
/// window reduced by `Op` ([`Max`] or [`Avg`]): write it as [`MaxPool2d`]
/// or [`AvgPool2d`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d<Op, K, S = K>(PhantomData<(Op, K, S)>);

/// The reduction of [`MaxPool2d`]: each window's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Max;

/// The reduction of [`AvgPool2d`]: each window's mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Avg;

/// Global average pooling: each channel of a `[C][H][W]` tensor averaged to
/// one value, giving a `Vector<T, C>`. PyTorch's `nn.AdaptiveAvgPool2d(1)`
/// followed by `nn.Flatten()`.
///
/// No parameters; backward spreads `dy[c] / (H·W)` over channel `c`.
///
/// ```
/// use typenet::prelude::*;
/// let x = tensor3([[[1.0f32, 2.0], [3.0, 6.0]], [[0.0, 0.0], [0.0, -4.0]]]);
/// assert_eq!(GlobalAvgPool.forward(&x), vector([3.0, -1.0]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalAvgPool;

impl<Op, K, S> Pool2d<Op, K, S> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Pool2d(PhantomData)
    }
}

crate::params!(impl[Op, K, S] Params for Pool2d<Op, K, S> { 0: PhantomData<(Op, K, S)> = PhantomData });
crate::params!(impl[] Params for GlobalAvgPool {});

/// The sizes of one pooling over flat `[C][H][W]` slices.
#[derive(Clone, Copy)]
pub(crate) struct Windows {
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
}

impl Windows {
    #[inline(always)]
    pub(crate) fn of<C: Unsigned, H: Unsigned, W: Unsigned, K: Unsigned, S: Unsigned>() -> Self {
        Windows { c: C::USIZE, h: H::USIZE, w: W::USIZE, k: K::USIZE, s: S::USIZE }
    }

    /// Calls `f(output, start)` for every window, in output order: the flat
    /// index of its output and of its top-left input.
    #[inline(always)]
    pub(crate) fn for_each(self, mut f: impl FnMut(usize, usize)) {
        let (oh, ow) = ((self.h - self.k) / self.s + 1, (self.w - self.k) / self.s + 1);
        let mut out = 0;
        for c in 0..self.c {
            for oy in 0..oh {
                for ox in 0..ow {
                    f(out, (c * self.h + oy * self.s) * self.w + ox * self.s);
                    out += 1;
                }
            }
        }
    }

    /// Calls `f` with the flat index of each input in the window at
    /// `start`, in row-major order.
    #[inline(always)]
    pub(crate) fn taps(self, start: usize, mut f: impl FnMut(usize)) {
        for ky in 0..self.k {
            let row = start + ky * self.w;
            for i in row..row + self.k {
                f(i);
            }
        }
    }

    /// The maximum of the window at `start` as PyTorch gives it: a NaN in
    /// the window wins. Branch-free: a pooled value is as likely to sit in
    /// one tap as another, so a branch per tap would mispredict half the
    /// time.
    /// The number of taps in a window.
    #[inline(always)]
    pub(crate) fn area(self) -> usize {
        self.k * self.k
    }

    #[inline(always)]
    fn max<T: Scalar>(self, x: &[T], start: usize) -> T {
        let mut max = T::neg_infinity();
        self.taps(start, |i| {
            let v = x[i];
            max = if (v > max) | v.is_nan() { v } else { max };
        });
        max
    }

    /// The index of the window's maximum as PyTorch picks it: the first of
    /// equal maxima, or the last NaN. Branch-free, as [`max`](Self::max).
    #[inline(always)]
    fn argmax<T: Scalar>(self, x: &[T], start: usize) -> usize {
        let (mut best, mut max) = (start, T::neg_infinity());
        self.taps(start, |i| {
            let v = x[i];
            let take = (v > max) | v.is_nan();
            best = if take { i } else { best };
            max = if take { v } else { max };
        });
        best
    }
}

impl<Op, T, C, H, W, K, S> Layer<Tensor3<T, C, H, W>> for Pool2d<Op, K, S>
where
    Op: WindowOp,
    T: Scalar,
    C: ArrayLength,
    K: Unsigned,
    S: Unsigned,
    H: ConvDims<K, S, U0>,
    W: ConvDims<K, S, U0>,
{
    type Output = Pooled<T, C, H, W, K, S>;

    #[inline]
    fn forward(&self, x: &Tensor3<T, C, H, W>) -> Self::Output {
        let mut y = Self::Output::default();
        Op::pool(Windows::of::<C, H, W, K, S>(), x.as_flat(), y.as_flat_mut());
        y
    }
}

/// How a window pooling reduces each window (`pool`) and sends each
/// output's gradient back over its window (`spread`), over flat slices.
trait WindowOp {
    /// Forward: each window's output.
    fn pool<T: Scalar>(windows: Windows, x: &[T], y: &mut [T]);
    /// Backward: each output's gradient added over its window into `dx`.
    fn spread<T: Scalar>(windows: Windows, x: &[T], dy: &[T], dx: &mut [T]);
}

/// No cache: the input is enough. The block passes write each output and
/// input gradient in place.
impl<Op, T, C, H, W, K, S> Train<Tensor3<T, C, H, W>> for Pool2d<Op, K, S>
where
    Op: WindowOp,
    T: Scalar,
    C: ArrayLength,
    K: Unsigned,
    S: Unsigned,
    H: ConvDims<K, S, U0>,
    W: ConvDims<K, S, U0>,
{
    type Cache = ();

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        outputs: [&mut Self::Output; B],
        _: &mut R,
    ) {
        for (x, y) in inputs.into_iter().zip(outputs).take(n) {
            Op::pool(Windows::of::<C, H, W, K, S>(), x.as_flat(), y.as_flat_mut());
        }
    }

    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        grad_outputs: [&Self::Output; B],
        _: &mut (),
        grad_inputs: Option<[&mut Tensor3<T, C, H, W>; B]>,
    ) {
        let Some(grad_inputs) = grad_inputs else { return };
        for ((x, dy), dx) in inputs.into_iter().zip(grad_outputs).zip(grad_inputs).take(n) {
            let dx = dx.as_flat_mut();
            dx.fill(T::zero());
            Op::spread(Windows::of::<C, H, W, K, S>(), x.as_flat(), dy.as_flat(), dx);
        }
    }
}

impl WindowOp for Max {
    /// Forward: each window's maximum.
    #[inline(always)]
    fn pool<T: Scalar>(windows: Windows, x: &[T], y: &mut [T]) {
        windows.for_each(|o, start| y[o] = windows.max(x, start));
    }

    /// Backward: each output's gradient added to its window's maximum.
    #[inline(always)]
    fn spread<T: Scalar>(windows: Windows, x: &[T], dy: &[T], dx: &mut [T]) {
        windows.for_each(|o, start| {
            let i = windows.argmax(x, start);
            dx[i] = dx[i] + dy[o];
        });
    }
}

impl WindowOp for Avg {
    /// Forward: each window's mean.
    #[inline(always)]
    fn pool<T: Scalar>(windows: Windows, x: &[T], y: &mut [T]) {
        let area = T::from_f64((windows.k * windows.k) as f64);
        windows.for_each(|o, start| {
            let mut sum = T::zero();
            windows.taps(start, |i| sum = sum + x[i]);
            y[o] = sum / area;
        });
    }

    /// Backward: each output's gradient shared evenly over its window.
    #[inline(always)]
    fn spread<T: Scalar>(windows: Windows, _: &[T], dy: &[T], dx: &mut [T]) {
        let area = T::from_f64((windows.k * windows.k) as f64);
        windows.for_each(|o, start| {
            let share = dy[o] / area;
            windows.taps(start, |i| dx[i] = dx[i] + share);
        });
    }
}

impl<T: Scalar, C: ArrayLength, H: ArrayLength, W: ArrayLength> Layer<Tensor3<T, C, H, W>> for GlobalAvgPool {
    type Output = Vector<T, C>;

    #[inline]
    fn forward(&self, x: &Tensor3<T, C, H, W>) -> Vector<T, C> {
        let area = T::from_f64((H::USIZE * W::USIZE) as f64);
        let mut y = Vector::<T, C>::default();
        for (y, plane) in y.iter_mut().zip(x.iter()) {
            *y = plane.as_flat().iter().fold(T::zero(), |s, &v| s + v) / area;
        }
        y
    }
}

impl<T: Scalar, C: ArrayLength, H: ArrayLength, W: ArrayLength> Train<Tensor3<T, C, H, W>> for GlobalAvgPool {
    type Cache = ();

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        outputs: [&mut Vector<T, C>; B],
        _: &mut R,
    ) {
        for (x, y) in inputs.into_iter().zip(outputs).take(n) {
            *y = self.forward(x);
        }
    }

    /// Spreads `dy[c] / (H·W)` over channel `c`.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Tensor3<T, C, H, W>; B],
        _: [&mut (); B],
        grad_outputs: [&Vector<T, C>; B],
        _: &mut (),
        grad_inputs: Option<[&mut Tensor3<T, C, H, W>; B]>,
    ) {
        let Some(grad_inputs) = grad_inputs else { return };
        let area = T::from_f64((H::USIZE * W::USIZE) as f64);
        for (dy, dx) in grad_outputs.into_iter().zip(grad_inputs).take(n) {
            for (plane, &d) in dx.iter_mut().zip(dy.iter()) {
                plane.as_flat_mut().fill(d / area);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::testing::gradient_check;
    use crate::prelude::*;

    type Image = Tensor3<f64, U2, U5, U6>;

    #[test]
    fn pooling_passes_the_gradient_check_for_strides_one_and_two() {
        let worst = [
            gradient_check::<MaxPool2d<U2>, Image>(1),
            gradient_check::<MaxPool2d<U2, U1>, Image>(2),
            gradient_check::<MaxPool2d<U3, U2>, Image>(3),
            gradient_check::<MaxPool2d<U3, U1>, Image>(4),
            gradient_check::<AvgPool2d<U2>, Image>(5),
            gradient_check::<AvgPool2d<U2, U1>, Image>(6),
            gradient_check::<AvgPool2d<U3, U2>, Image>(7),
            gradient_check::<AvgPool2d<U3, U1>, Image>(8),
            gradient_check::<GlobalAvgPool, Image>(9),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        std::println!("pooling: worst gradient-check error {worst:.2e}");
    }

    #[test]
    fn windows_follow_floor_mode() {
        typenum::assert_type_eq!(PoolOut<U5, U2, U2>, U2);
        typenum::assert_type_eq!(PoolOut<U7, U3, U2>, U3);
        typenum::assert_type_eq!(PoolOut<U4, U2, U1>, U3);
        typenum::assert_type_eq!(<MaxPool2d<U2> as Layer<Image>>::Output, Tensor3<f64, U2, U2, U3>);
        typenum::assert_type_eq!(<AvgPool2d<U3, U1> as Layer<Image>>::Output, Tensor3<f64, U2, U3, U4>);
        typenum::assert_type_eq!(<GlobalAvgPool as Layer<Image>>::Output, Vector<f64, U2>);
    }

    #[test]
    fn the_first_of_equal_maxima_takes_the_gradient() {
        let pool = MaxPool2d::<U2, U1>::new();
        let x = tensor3([[[2.0f32, 2.0, 2.0], [2.0, 2.0, 2.0]]]);
        let dx = pool.backward(&x, &mut (), &tensor3([[[1.0, 10.0]]]), &mut ());
        // Window 0 covers columns 0-1, window 1 columns 1-2: each picks its top-left.
        assert_eq!(dx, tensor3([[[1.0, 10.0, 0.0], [0.0, 0.0, 0.0]]]));
    }

    #[test]
    fn a_nan_is_the_maximum_as_in_pytorch() {
        let pool = MaxPool2d::<U2>::new();
        let x = tensor3([[[1.0f64, f64::NAN], [5.0, 2.0]]]);
        assert!(pool.forward(&x)[0][0][0].is_nan());
        let dx = pool.backward(&x, &mut (), &tensor3([[[1.0]]]), &mut ());
        assert_eq!(dx[0][0].as_slice(), &[0.0, 1.0]);
        let x = tensor3([[[f64::NEG_INFINITY, f64::NEG_INFINITY], [f64::NEG_INFINITY, f64::NEG_INFINITY]]]);
        assert_eq!(pool.backward(&x, &mut (), &tensor3([[[1.0]]]), &mut ())[0][0][0], 1.0);
    }

    #[test]
    fn overlapping_windows_add_their_gradients() {
        let pool = MaxPool2d::<U2, U1>::new();
        let x = tensor3([[[0.0f64, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]);
        let dx = pool.backward(&x, &mut (), &tensor3([[[1.0, 2.0], [3.0, 4.0]]]), &mut ());
        assert_eq!(dx[0][1][1], 10.0);
        assert_eq!(dx.as_flat().iter().sum::<f64>(), 10.0);
    }

    /// The block passes give what the per-sample passes give, write over
    /// whatever the gradient slots held, and leave the slots past `n` alone.
    fn blocks_agree_with_samples<P>(seed: u64)
    where
        P: Train<Image, Cache = (), Grads = ()> + Default,
        P::Output: PartialEq,
    {
        let pool = P::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut xs = [Image::default(); 4];
        xs.iter_mut().for_each(|x| x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0)));
        xs[1].as_flat_mut()[7] = f64::NAN;
        let mut dys = [P::Output::default(), P::Output::default(), P::Output::default(), P::Output::default()];
        dys.iter_mut().for_each(|d| d.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0)));
        let mut ys = dys.clone();
        let mut dxs = [Image::default(); 4];
        dxs.iter_mut().for_each(|d| d.as_flat_mut().fill(5.0));
        let mut caches = [(); 4];
        pool.forward_train_block(3, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut NoRng);
        pool.backward_block(3, xs.each_ref(), [(); 4].each_mut(), dys.each_ref(), &mut (), Some(dxs.each_mut()));
        let same = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
        for b in 0..3 {
            assert!(same(ys[b].as_flat(), pool.forward(&xs[b]).as_flat()), "output {b}");
            assert_eq!(dxs[b], pool.backward(&xs[b], &mut (), &dys[b], &mut ()), "input gradient {b}");
        }
        assert!(ys[3] == dys[3] && dxs[3].as_flat().iter().all(|&v| v == 5.0), "slot 3 untouched");
    }

    #[test]
    fn pooling_blocks_agree_with_samples() {
        blocks_agree_with_samples::<MaxPool2d<U2>>(11);
        blocks_agree_with_samples::<MaxPool2d<U3, U1>>(12);
        blocks_agree_with_samples::<AvgPool2d<U2>>(13);
        blocks_agree_with_samples::<AvgPool2d<U3, U2>>(14);
    }

    #[test]
    fn pooling_layers_hold_nothing() {
        assert_eq!(size_of::<MaxPool2d<U2>>(), 0);
        assert_eq!(size_of::<AvgPool2d<U3, U2>>(), 0);
        assert_eq!(<MaxPool2d<U2> as Params<f32>>::COUNT, 0);
    }
}
