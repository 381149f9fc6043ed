//! The arithmetic kernels behind the layers, the losses and the training
//! loop, and the one seam through which they reach them: [`Kernels`],
//! implemented for `f32` and `f64`.
//!
//! What lives where:
//!
//! - `mod.rs` (this file): the seam. [`Kernels`] says what the crate may
//!   ask for (`Dense` and convolution products, `Σ v²`, `eˣ`, softmax
//!   cross-entropy); its impls pick the instruction set's variant through
//!   the leaf, or else the portable algorithm, and hold the dispatch
//!   thresholds.
//! - `dense.rs`, `conv.rs`, `pointwise.rs`, `depthwise.rs`,
//!   `elementwise.rs`: the algorithms, written once against
//!   [`Lanes`](lanes::Lanes) (or plain scalars): the `Dense` GEMMs and the
//!   microcontroller loops, the convolutions (wide rows in phase planes at
//!   any stride, with the 1×1 convolution's matrix products and the
//!   depthwise convolution's phase planes), the element-wise passes;
//!   `phases.rs`, the phase-plane layout the convolutions share.
//! - `lanes.rs`: the `Lanes` abstraction and the portable lanes (plain
//!   arrays, any target).
//! - `dispatch.rs`: the run-time choice of instruction set (`isa()`, with
//!   the `TYPENET_KERNELS` override), what a leaf offers the seam
//!   (`Leaf`), and the line that picks this build's leaf (`Best`).
//! - `x86.rs`: the x86-64 leaf (with `std`): the AVX2 and AVX-512 lanes,
//!   every `#[target_feature]` entry point (dense, conv, pointwise,
//!   depthwise), and all the SIMD `unsafe`.
//! - `neon.rs`: the aarch64 leaf (with or without `std`): NEON's
//!   `float32x4_t` lanes, the same algorithms' entry points, `Σ v²` in
//!   `f64` lanes, compiled wherever the target enables `neon` (no
//!   detection: it is baseline there). Checked under `qemu-aarch64`; its
//!   speed is not measured on hardware.
//! - `cortex_m.rs`: the Cortex-M leaf of the `f32` kernels (`VLDM` and
//!   `VMLA.F32` tiles for `Dense` and the convolutions, bit for bit the
//!   portable loops; `VSQRT.F32`), compiled where `build.rs` sets
//!   `cfg(typenet_arm_fpu)` (the hard-float Thumb targets: M4F, M7, M33).
//! - `int8.rs`: the int8 kernels (portable) and their seam; `arm_dsp.rs`,
//!   its Armv7E-M leaf (`SMLAD` in `asm!`, Cortex-M4 and M7), compiled
//!   where `build.rs` sets `cfg(typenet_arm_dsp)`; `x86_int8.rs`, its
//!   x86-64 leaf (with `std`: AVX2 and AVX-512, VNNI where the CPU has it).
//!
//! Dependencies run one way: the seam → the algorithms → the lanes. A
//! leaf instantiates the algorithms with its own lanes; no algorithm names
//! an instruction set, and the seam names none either: it asks `Best`,
//! and only chooses by target which portable form is the fallback (the
//! plain loops off x86-64).
//!
//! A new instruction set (as NEON was) is one new leaf file
//! (its `Lanes`, its entry points, an `impl Leaf` and tests against the
//! portable algorithms), its `mod` line below, and in `dispatch.rs` the
//! line that makes it `Best` for its target (with that target taken out
//! of the `NoLeaf` line's `cfg`). No algorithm file changes, nor the seam.
//!
//! On x86-64 with `std`, the algorithms are compiled for AVX2 + FMA and for
//! AVX-512 as well, and the best the CPU has is chosen at run time; those
//! variants fuse each multiply-add (one rounding instead of two). So
//! results agree across CPUs up to rounding, and on one machine they are
//! the same bit for bit every run. On aarch64 the NEON leaf fuses them
//! too. On a Cortex-M with an FPU the leaf's tiles give the portable
//! loops' bits. Everywhere else (x86-64 without `std`, other
//! architectures) the portable algorithms run: they need no feature
//! detection and build for any target.

// The wide variants, and what only they use, exist on x86-64 with `std`.
#![cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]

use generic_array::ArrayLength;

// The DSP leaf; on other targets its planning is tested with its two
// instructions modelled.
#[cfg(any(typenet_arm_dsp, test))]
mod arm_dsp;
mod conv;
// The Cortex-M FPU leaf (`f32`); on other targets its planning is tested
// with its instructions modelled.
#[cfg(any(typenet_arm_fpu, test))]
pub(crate) mod cortex_m;
mod dense;
mod depthwise;
mod dispatch;
mod elementwise;
pub(crate) mod int8;
mod lanes;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod neon;
mod phases;
mod pointwise;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86_int8;

pub(crate) use conv::{ConvShape, Dims};
pub(crate) use dispatch::with_best_isa;
pub(crate) use elementwise::dot;

use dispatch::{Best, Leaf};
use lanes::Portable;

use crate::shape::{Matrix, Vector};

/// The kernels for one scalar type, the only way the rest of the crate
/// reaches them. `f32` picks the widest variant the CPU has; `f64` (used
/// for gradient checks) runs the portable one.
pub(crate) trait Kernels: Sized {
    /// `ys[b] = W·xs[b] + bias` for each sample `b`.
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<Self, O, I>,
        bias: &Vector<Self, O>,
        xs: &[&Vector<Self, I>],
        ys: &mut [&mut Vector<Self, O>],
    );
    /// `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`.
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<Self, O, I>,
        gb: &mut Vector<Self, O>,
        xs: &[&Vector<Self, I>],
        dys: &[&Vector<Self, O>],
    );
    /// `dxs[b] = Wᵀ·dys[b]` for each sample `b`.
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<Self, O, I>,
        dys: &[&Vector<Self, O>],
        dxs: &mut [&mut Vector<Self, I>],
    );
    /// Convolution `ys[b] = conv(xs[b]) + bias` for each sample `b`
    /// (see `conv.rs`; a 1×1 kernel without padding takes the matrix
    /// products of `pointwise.rs`).
    fn conv_forward<G: ConvShape>(w: &[Self], bias: &[Self], xs: &[&[Self]], ys: &mut [&mut [Self]]);
    /// Convolution backward over a block: adds `dW` and `db` into `gw`
    /// and `gb`; when `dxs` is given, overwrites each `dx`.
    #[allow(clippy::too_many_arguments)]
    fn conv_backward<G: ConvShape>(
        w: &[Self],
        xs: &[&[Self]],
        dys: &[&[Self]],
        gw: &mut [Self],
        gb: &mut [Self],
        dxs: Option<&mut [&mut [Self]]>,
    );
    /// Depthwise convolution `ys[b] = conv(xs[b]) + bias` for each sample
    /// `b`: input channel `c` feeds outputs `c·m .. (c + 1)·m`, `m =
    /// c_out / c_in`, weights `[c_out][kh][kw]` (see `depthwise.rs`).
    fn depthwise_forward<G: ConvShape>(w: &[Self], bias: &[Self], xs: &[&[Self]], ys: &mut [&mut [Self]]);
    /// Depthwise convolution backward over a block: adds `dW` and `db`
    /// into `gw` and `gb`; when `dxs` is given, overwrites each `dx`.
    fn depthwise_backward<G: ConvShape>(
        w: &[Self],
        xs: &[&[Self]],
        dys: &[&[Self]],
        gw: &mut [Self],
        gb: &mut [Self],
        dxs: Option<&mut [&mut [Self]]>,
    );
    /// `Σ v²`, in `Self` (an `f32` sum overflows past about 1.8·10¹⁹ per
    /// value: [`grad_norm`](crate::train::grad_norm) rescales then).
    fn sum_squares(values: &[Self]) -> Self;
    /// `√x`: the FPU's instruction where the target has one that `core`
    /// cannot reach without `std` (a Cortex-M4F's `VSQRT.F32`), else
    /// [`Float::sqrt`](num_traits::Float::sqrt).
    #[inline(always)]
    fn square_root(x: Self) -> Self
    where
        Self: num_traits::Float,
    {
        x.sqrt()
    }
    /// `eˣ` in place, for `x ≤ 88` (softmax takes it of `x − max x ≤ 0`).
    fn exp_in_place(values: &mut [Self]);
    /// `eˣ` of one value, for `x ≤ 88` (the logistic function takes it of
    /// `−|x|`): [`Float::exp`](num_traits::Float::exp), or where the leaf
    /// has one, its own (the Cortex-M FPU leaf's: the polynomial of
    /// `exp_in_place`, within 2 ulp, about a third of `libm`'s `expf`'s
    /// instructions).
    #[inline(always)]
    fn exponential(x: Self) -> Self
    where
        Self: num_traits::Float,
    {
        x.exp()
    }
    /// Softmax cross-entropy of logits `x` for `class < x.len()`: writes
    /// `softmax(x) − onehot(class)` into `grad` and returns the loss, or
    /// returns `None` (touching nothing) where there is no wide variant.
    #[inline(always)]
    fn softmax_xent(x: &[Self], class: usize, grad: &mut [Self]) -> Option<Self> {
        let _ = (x, class, grad);
        None
    }
}

impl Kernels for f64 {
    #[inline]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f64, O, I>,
        bias: &Vector<f64, O>,
        xs: &[&Vector<f64, I>],
        ys: &mut [&mut Vector<f64, O>],
    ) {
        dense::forward_impl::<_, 2, 4, 4, I, O>(Portable::NEW, w, bias, xs, ys);
    }
    #[inline]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f64, O, I>,
        gb: &mut Vector<f64, O>,
        xs: &[&Vector<f64, I>],
        dys: &[&Vector<f64, O>],
    ) {
        dense::grads_impl::<_, 2, 2, I, O>(Portable::NEW, gw, gb, xs, dys);
    }
    #[inline]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f64, O, I>,
        dys: &[&Vector<f64, O>],
        dxs: &mut [&mut Vector<f64, I>],
    ) {
        dense::input_grads_impl::<_, 2, 2, I, O>(Portable::NEW, w, dys, dxs);
    }
    /// By runs: the `f64` convolution serves gradient checks, where the
    /// plainest sums are the point. Pointwise convolutions take their
    /// matrix products in portable lanes, so that the gradient checks and
    /// the `f64` fixtures check that path too.
    #[inline]
    fn conv_forward<G: ConvShape>(w: &[f64], bias: &[f64], xs: &[&[f64]], ys: &mut [&mut [f64]]) {
        if pointwise::forward::<G, _, 2, 2>(Portable::NEW, w, bias, xs, ys) {
            return;
        }
        conv::forward_runs_block::<G, _>(w, bias, xs, ys);
    }
    #[inline]
    fn conv_backward<G: ConvShape>(
        w: &[f64],
        xs: &[&[f64]],
        dys: &[&[f64]],
        gw: &mut [f64],
        gb: &mut [f64],
        dxs: Option<&mut [&mut [f64]]>,
    ) {
        let mut dxs = dxs;
        if pointwise::backward::<G, _, 2, 2, 2, 3>(Portable::NEW, w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        conv::backward_runs_block::<G, _>(w, xs, dys, gw, gb, dxs);
    }
    /// In phase planes of portable lanes, as the wide variants run, so
    /// that the gradient checks check that form (plainly where the planes
    /// do not fit the scratch).
    #[inline]
    fn depthwise_forward<G: ConvShape>(w: &[f64], bias: &[f64], xs: &[&[f64]], ys: &mut [&mut [f64]]) {
        if !depthwise::forward::<G, _, 2>(Portable::NEW, w, bias, xs, ys) {
            depthwise::forward_plain::<G, _>(w, bias, xs, ys);
        }
    }
    #[inline]
    fn depthwise_backward<G: ConvShape>(
        w: &[f64],
        xs: &[&[f64]],
        dys: &[&[f64]],
        gw: &mut [f64],
        gb: &mut [f64],
        dxs: Option<&mut [&mut [f64]]>,
    ) {
        let mut dxs = dxs;
        if !depthwise::backward::<G, _, 2, 3>(Portable::NEW, w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            depthwise::backward_plain::<G, _>(w, xs, dys, gw, gb, dxs);
        }
    }
    #[inline]
    fn sum_squares(values: &[f64]) -> f64 {
        elementwise::sum_squares_portable(values)
    }
    #[inline]
    fn exp_in_place(values: &mut [f64]) {
        elementwise::exp_in_place_f64(values);
    }
}

/// Products smaller than this many multiply-adds run the portable kernel
/// inline: choosing a variant would cost more than it saves.
const DISPATCH_MIN: usize = 64;

impl Kernels for f32 {
    #[inline]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        if xs.len() * I::USIZE * O::USIZE >= DISPATCH_MIN && Best::dense_forward(w, bias, xs, ys) {
            return;
        }
        #[cfg(not(target_arch = "x86_64"))]
        return dense::plain::forward(w, bias, xs, ys);
        #[cfg(target_arch = "x86_64")]
        dense::forward_impl::<_, 2, 4, 4, I, O>(Portable::NEW, w, bias, xs, ys);
    }
    #[inline]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        if xs.len() * I::USIZE * O::USIZE >= DISPATCH_MIN && Best::dense_grads(gw, gb, xs, dys) {
            return;
        }
        #[cfg(not(target_arch = "x86_64"))]
        return dense::plain::grads(gw, gb, xs, dys);
        #[cfg(target_arch = "x86_64")]
        dense::grads_impl::<_, 2, 2, I, O>(Portable::NEW, gw, gb, xs, dys);
    }
    #[inline]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        if dys.len() * I::USIZE * O::USIZE >= DISPATCH_MIN && Best::dense_input_grads(w, dys, dxs) {
            return;
        }
        #[cfg(not(target_arch = "x86_64"))]
        return dense::plain::input_grads(w, dys, dxs);
        #[cfg(target_arch = "x86_64")]
        dense::input_grads_impl::<_, 2, 2, I, O>(Portable::NEW, w, dys, dxs);
    }
    /// Pointwise convolutions as matrix products, and wide rows in phase
    /// planes (any stride), in the widest registers the CPU has, four
    /// portable lanes on other x86-64 builds; runs where one channel's
    /// planes exceed the scratch and on other architectures
    /// (microcontrollers: few registers, no scratch).
    #[inline]
    fn conv_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) {
        let pointwise = pointwise::applies(G::DIMS);
        if pointwise && Best::pointwise_forward::<G>(w, bias, xs, ys) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if pointwise && pointwise::forward::<G, _, 4, 2>(Portable::NEW, w, bias, xs, ys) {
            return;
        }
        if Best::conv_forward::<G>(w, bias, xs, ys) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if conv::forward_wide::<G, _, 4, 2>(Portable::NEW, w, bias, xs, ys) {
            return;
        }
        conv::forward_runs_block::<G, _>(w, bias, xs, ys);
    }
    #[inline]
    fn conv_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) {
        let mut dxs = dxs;
        let pointwise = pointwise::applies(G::DIMS);
        if pointwise && Best::pointwise_backward::<G>(w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if pointwise && pointwise::backward::<G, _, 4, 2, 2, 4>(Portable::NEW, w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        if Best::conv_backward::<G>(w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if conv::backward_wide::<G, _, 4, 2, 4, 2>(Portable::NEW, w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        conv::backward_runs_block::<G, _>(w, xs, dys, gw, gb, dxs);
    }
    /// Phase planes in the widest registers the CPU has, four portable
    /// lanes on other x86-64 builds; the plain loops on other architectures
    /// (microcontrollers) and for planes larger than the scratch.
    #[inline]
    fn depthwise_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) {
        if Best::depthwise_forward::<G>(w, bias, xs, ys) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if depthwise::forward::<G, _, 4>(Portable::NEW, w, bias, xs, ys) {
            return;
        }
        depthwise::forward_plain::<G, _>(w, bias, xs, ys);
    }
    #[inline]
    fn depthwise_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) {
        let mut dxs = dxs;
        if Best::depthwise_backward::<G>(w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if depthwise::backward::<G, _, 4, 9>(Portable::NEW, w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        depthwise::backward_plain::<G, _>(w, xs, dys, gw, gb, dxs);
    }
    #[inline]
    fn sum_squares(values: &[f32]) -> f32 {
        // The wide variants sum in `f64` (x86-64 with `std` only).
        if values.len() >= DISPATCH_MIN
            && let Some(sum) = Best::sum_squares(values)
        {
            return sum as f32;
        }
        elementwise::sum_squares_portable(values)
    }
    #[inline(always)]
    fn softmax_xent(x: &[f32], class: usize, grad: &mut [f32]) -> Option<f32> {
        Best::softmax_xent(x, class, grad)
    }
    #[inline(always)]
    fn exp_in_place(values: &mut [f32]) {
        elementwise::exp_in_place_f32(values);
    }
    #[cfg(typenet_arm_fpu)]
    #[inline(always)]
    fn square_root(x: f32) -> f32 {
        cortex_m::sqrt(x)
    }
    #[cfg(typenet_arm_fpu)]
    #[inline(always)]
    fn exponential(x: f32) -> f32 {
        elementwise::exp_f32(x)
    }
}
