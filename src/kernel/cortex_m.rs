//! The Cortex-M leaf of the `f32` kernels (cores with a single-precision
//! FPU: Cortex-M4F, M7, M33, M55): the `Dense` products and the
//! convolutions, forward and backward, register-blocked in `asm!` on
//! stable Rust, and the FPU's square root. Compiled where `build.rs` sets
//! `cfg(typenet_arm_fpu)` (the hard-float Thumb targets); on other targets
//! the host tests run its planning with the instructions modelled, and the
//! firmware example (`src/bin/f32_kernels.rs`) checks the real instructions
//! against the portable loops on the emulated Cortex-M4F and counts them.
//!
//! # Design
//!
//! The portable loops (`dense::plain`, `conv`'s runs form) load two values
//! per multiply-add, round the product, add, and keep one accumulator; the
//! Cortex-M4 runs them at 8 to 12 instructions per multiply-add. Here:
//!
//! 1. `VLDM` loads up to sixteen consecutive values into `s` registers in
//!    one instruction, and `VMLA.F32` multiplies and adds in one. A tile
//!    keeps several accumulators in registers, so each loaded value serves
//!    several of them:
//!    - `Dense` forward, `y = b + W·x`: four rows × eight inputs per pass,
//!      the eight inputs loaded once for the four rows: 39 instructions for
//!      32 multiply-adds with the loop;
//!    - `Dense` input gradients, `dx = Wᵀ·dy`: sixteen columns in
//!      registers while the rows go by, 22 instructions per 16;
//!    - `Dense` weight gradients, `dW += Σ_b dy_b·x_bᵀ`: sixteen columns of
//!      a row in registers while the samples go by, 25 instructions per 16;
//!    - convolution forward and input gradient (stride 1 along the rows):
//!      8 or 4 output columns of one row in registers while every tap
//!      (channel, kernel row, kernel column) goes by, one weight and a
//!      `VLDM` of the shifted inputs per tap; the columns at the edges,
//!      where some kernel columns fall into the padding, one at a time over
//!      the kernel columns that meet the image;
//!    - convolution weight gradients: per output row, the `kw` dot
//!      products of `dy` with the input row shifted by each kernel column,
//!      in registers, four columns of `dy` per pass (where a row's interior
//!      has fewer than 8 columns, the runs form, which costs less there).
//!
//!    Measured on the emulated Cortex-M4F (instructions per multiply-add,
//!    leaf / portable; the portable figures move by a tenth or so with how
//!    the compiler inlines them into the calling firmware): `Dense` 64→64
//!    forward 1.5 / 8.2 at batch 1, weight gradients 1.8 / 9.2 and input
//!    gradients 1.4 / 9.1 at batch 16; LeNet-5's second convolution forward
//!    3.1 / 12 to 14, backward 5.3 / 11 to 12; an 8×8 image's 8 → 16 channel
//!    3×3 convolution with padding 1 forward 5.0 / 12 to 14, backward 8.2 /
//!    11 to 12; with one input channel, where a tile has only nine taps,
//!    about the same as the portable loops (12.9 / 12.6 to 14.1).
//! 2. Each output is summed in the portable loops' order, from the same
//!    start, and `VMLA.F32` is not fused: it rounds the product, then the
//!    sum, as the portable `acc + w * x` does (`VFMA.F32` would round once).
//!    So every result equals the portable loops' bit for bit, infinities,
//!    signed zeros and subnormals included, and NaN where they give NaN
//!    (Rust leaves a NaN's sign and payload unspecified); the tests and the
//!    firmware check compare `to_bits`. Rows, columns and inputs past the
//!    last whole tile are summed in Rust in the same order; a tile that
//!    would overrun the interior is moved back and computes a few columns
//!    again, to the same bits.
//! 3. Every `asm!` block clobbers the `s` registers it uses, so the
//!    compiler saves the callee-saved ones (`s16`–`s31`) around it; its
//!    loops count down a register and end on `BNE`, with a count checked
//!    non-zero before. A block short of core registers parks a pointer or
//!    a count in a spare `s` register (`VMOV`).
//!
//! `VSQRT.F32` ([`sqrt`]) is correctly rounded, as `libm`'s `sqrtf` and
//! `std`'s `f32::sqrt` are (IEEE 754 requires it), so it gives their bits
//! in three instructions (with the two `VMOV`s that stable Rust's `asm!`
//! needs) instead of about 76.

#[cfg(typenet_arm_fpu)]
use core::arch::asm;

use generic_array::ArrayLength;

use super::conv::{self, ConvShape, Dims, inside};
use super::dispatch::Leaf;
use crate::shape::{Matrix, Tensor, Vector};

/// The leaf, for `dispatch::Best`.
#[cfg_attr(not(typenet_arm_fpu), allow(dead_code))]
pub(crate) struct CortexM;

impl Leaf for CortexM {
    #[inline(always)]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) -> bool {
        // Fewer than eight inputs fill no tile: declined when the layer is
        // compiled, so that its code stays the portable loops' alone.
        if I::USIZE < 8 {
            return false;
        }
        dense_forward(w, bias, xs, ys);
        true
    }
    #[inline(always)]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) -> bool {
        // Fewer than sixteen inputs fill no tile.
        if I::USIZE < 16 {
            return false;
        }
        dense_grads(gw, gb, xs, dys);
        true
    }
    #[inline(always)]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) -> bool {
        // Fewer than sixteen inputs fill no tile.
        if I::USIZE < 16 {
            return false;
        }
        dense_input_grads(w, dys, dxs);
        true
    }
    #[inline(always)]
    fn conv_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        conv_forward(G::DIMS, w, bias, xs, ys)
    }
    #[inline(always)]
    fn conv_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        conv_backward(G::DIMS, w, xs, dys, gw, gb, dxs)
    }
}

/// `√x`, correctly rounded: `VSQRT.F32` where there is an FPU
/// (`cfg(typenet_arm_fpu)`), else `num_traits::Float::sqrt` (`std`'s or
/// `libm`'s `sqrtf`, also correctly rounded): the same bits everywhere.
#[inline(always)]
pub(crate) fn sqrt(x: f32) -> f32 {
    #[cfg(typenet_arm_fpu)]
    {
        let root: u32;
        // SAFETY: FPU instructions on registers only (`cfg(typenet_arm_fpu)`:
        // the core has a single-precision FPU); `s0` is declared clobbered.
        // No memory, no stack, no flags (`VSQRT` sets only the FPSCR's
        // cumulative exception bits, as any floating-point operation does).
        // The value goes through a core register because stable Rust gives
        // `asm!` no `s` register operand without the unstable `vfp2`
        // feature: two `VMOV`s around the root.
        unsafe {
            asm!(
                "vmov s0, {x}",
                "vsqrt.f32 s0, s0",
                "vmov {r}, s0",
                x = in(reg) x.to_bits(),
                r = lateout(reg) root,
                out("s0") _,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        f32::from_bits(root)
    }
    #[cfg(not(typenet_arm_fpu))]
    num_traits::Float::sqrt(x)
}

/// The leaf and the portable loops side by side, for the firmware
/// example's on-device check (`typenet::__f32_kernels`). Not part of the
/// API. Every function is `#[inline]`, so none is compiled into a firmware
/// that does not call it (compiled in, they changed how LLVM inlined the
/// training loop of a firmware that did not: 560 more instructions per
/// XOR epoch).
#[cfg(typenet_arm_fpu)]
pub mod check {
    use generic_array::ArrayLength;

    use crate::kernel::conv::{self, Dims};
    use crate::kernel::dense::plain;
    use crate::shape::{Matrix, Vector};

    /// The leaf the `f32` kernels run in this build.
    pub const KERNEL: &str = "cortex-m-fpu";

    /// The leaf's `ys[b] = W·xs[b] + bias`.
    #[inline]
    pub fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        super::dense_forward(w, bias, xs, ys);
    }
    /// The portable loops' `ys[b] = W·xs[b] + bias`.
    #[inline]
    pub fn dense_forward_portable<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        plain::forward(w, bias, xs, ys);
    }
    /// The leaf's `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`.
    #[inline]
    pub fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        super::dense_grads(gw, gb, xs, dys);
    }
    /// The portable loops' `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`.
    #[inline]
    pub fn dense_grads_portable<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        plain::grads(gw, gb, xs, dys);
    }
    /// The leaf's `dxs[b] = Wᵀ·dys[b]`.
    #[inline]
    pub fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        super::dense_input_grads(w, dys, dxs);
    }
    /// The portable loops' `dxs[b] = Wᵀ·dys[b]`.
    #[inline]
    pub fn dense_input_grads_portable<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        plain::input_grads(w, dys, dxs);
    }
    /// `VSQRT.F32`.
    #[inline]
    pub fn sqrt(x: f32) -> f32 {
        super::sqrt(x)
    }

    /// A square-kernel convolution's sizes from `[c_in, c_out, h, w, k,
    /// stride, padding]`.
    #[inline]
    fn dims([c_in, c_out, h, w, k, s, p]: [usize; 7]) -> Dims {
        let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        Dims { c_in, c_out, h, w, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, oh, ow }
    }

    /// The leaf's convolution forward over a block (`false`: declined,
    /// nothing written). `shape` is `[c_in, c_out, h, w, k, stride,
    /// padding]`.
    #[inline]
    pub fn conv_forward(shape: [usize; 7], w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        super::conv_forward(dims(shape), w, bias, xs, ys)
    }
    /// The portable runs form's convolution forward over a block.
    #[inline]
    pub fn conv_forward_portable(shape: [usize; 7], w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) {
        for (x, y) in xs.iter().zip(ys.iter_mut()) {
            conv::forward_runs(dims(shape), w, bias, x, y);
        }
    }
    /// The leaf's convolution backward over a block (`false`: declined,
    /// nothing written).
    #[inline]
    pub fn conv_backward(
        shape: [usize; 7],
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        super::conv_backward(dims(shape), w, xs, dys, gw, gb, dxs)
    }
    /// The portable runs form's convolution backward over a block.
    #[inline]
    pub fn conv_backward_portable(
        shape: [usize; 7],
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) {
        let d = dims(shape);
        match dxs {
            None => xs.iter().zip(dys).for_each(|(x, dy)| conv::backward_runs(d, w, x, dy, gw, gb, None)),
            Some(dxs) => {
                for ((x, dy), dx) in xs.iter().zip(dys).zip(dxs.iter_mut()) {
                    dx.fill(0.0);
                    conv::backward_runs(d, w, x, dy, gw, gb, Some(dx));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Dense: the products over a block of samples, planned into tiles.
// ---------------------------------------------------------------------------

/// `ys[b] = W·xs[b] + bias`, as `dense::plain::forward` bit for bit: per
/// output `b + (((0 + w₀x₀) + w₁x₁) + …)`. Four rows at a time over the
/// inputs' whole groups of eight, then one row at a time; the inputs past
/// the last group in Rust.
#[inline]
pub(crate) fn dense_forward<I: ArrayLength, O: ArrayLength>(
    w: &Matrix<f32, O, I>,
    bias: &Vector<f32, O>,
    xs: &[&Vector<f32, I>],
    ys: &mut [&mut Vector<f32, O>],
) {
    let (n, groups) = (I::USIZE, I::USIZE / 8);
    let flat = w.as_flat();
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        let x = x.as_slice();
        let finish = |o: usize, mut acc: f32| {
            for (&wi, &xi) in w[o][groups * 8..].iter().zip(&x[groups * 8..]) {
                acc += wi * xi;
            }
            bias[o] + acc
        };
        let mut o = 0;
        while o + 4 <= O::USIZE {
            let mut acc = [0.0f32; 4];
            if groups > 0 {
                rows4(x, &flat[o * n..(o + 4) * n], n, groups, &mut acc);
            }
            for (r, &a) in acc.iter().enumerate() {
                y[o + r] = finish(o + r, a);
            }
            o += 4;
        }
        while o < O::USIZE {
            let mut acc = 0.0f32;
            if groups > 0 {
                rows1(x, &w[o], groups, &mut acc);
            }
            y[o] = finish(o, acc);
            o += 1;
        }
    }
}

/// `dxs[b] = Wᵀ·dys[b]`, as `dense::plain::input_grads` bit for bit: per
/// input `((0 + w₀d₀) + w₁d₁) + …` over the rows. Sixteen columns at a time,
/// the columns past the last sixteen in Rust.
#[inline]
pub(crate) fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
    w: &Matrix<f32, O, I>,
    dys: &[&Vector<f32, O>],
    dxs: &mut [&mut Vector<f32, I>],
) {
    let n = I::USIZE;
    let flat = w.as_flat();
    for (dy, dx) in dys.iter().zip(dxs.iter_mut()) {
        let mut i = 0;
        if O::USIZE > 0 {
            while i + 16 <= n {
                let mut acc = [0.0f32; 16];
                cols16(&flat[i..], n, dy, &mut acc);
                dx[i..i + 16].copy_from_slice(&acc);
                i += 16;
            }
        }
        for (i, dxi) in dx.iter_mut().enumerate().skip(i) {
            let mut acc = 0.0f32;
            for (row, &d) in w.iter().zip(dy.iter()) {
                acc += row[i] * d;
            }
            *dxi = acc;
        }
    }
}

/// `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`, as `dense::plain::grads`
/// bit for bit: each gradient adds the samples' terms one by one, in the
/// block's order. Sixteen columns of a row at a time, the columns past the
/// last sixteen in Rust.
#[inline]
pub(crate) fn dense_grads<I: ArrayLength, O: ArrayLength>(
    gw: &mut Matrix<f32, O, I>,
    gb: &mut Vector<f32, O>,
    xs: &[&Vector<f32, I>],
    dys: &[&Vector<f32, O>],
) {
    let count = xs.len().min(dys.len());
    let (xs, dys) = (&xs[..count], &dys[..count]);
    for dy in dys {
        for (g, &d) in gb.iter_mut().zip(dy.iter()) {
            *g += d;
        }
    }
    if count == 0 {
        return;
    }
    let n = I::USIZE;
    for (o, row) in gw.iter_mut().enumerate() {
        let mut i = 0;
        while i + 16 <= n {
            let tile: &mut [f32; 16] = (&mut row[i..i + 16]).try_into().expect("sixteen columns");
            outer16(xs, dys, i, o, tile);
            i += 16;
        }
        for (i, g) in row.iter_mut().enumerate().skip(i) {
            for (x, dy) in xs.iter().zip(dys) {
                *g += dy[o] * x[i];
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The tiles: `asm!` on the device, their models on the host.
// ---------------------------------------------------------------------------

/// `acc[r] += w[r·stride + i] · x[i]` for `r < 4`, `i < 8·groups`, in
/// order of `i`, each product rounded before its sum.
#[inline(always)]
fn rows4(x: &[f32], w: &[f32], stride: usize, groups: usize, acc: &mut [f32; 4]) {
    let len = 8 * groups;
    assert!(groups > 0 && x.len() >= len && stride >= len && w.len() >= 3 * stride + len);
    #[cfg(typenet_arm_fpu)]
    // SAFETY: checked above: the loop runs `groups ≥ 1` times, each pass
    // reading eight values of `x` and of each row `w[r·stride..]`, all
    // inside the slices; `acc` is four `f32`s, read and written whole.
    // `VLDM`/`VSTM` need word alignment, which `f32` has. FPU
    // instructions (`cfg(typenet_arm_fpu)`); every register written is
    // an output, flags change, the stack does not.
    unsafe {
        let w0 = w.as_ptr();
        asm!(
            "vldmia {acc}, {{s16-s19}}",
            "2:",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {w0}!, {{s8-s15}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s16, s9, s1",
            "vmla.f32 s16, s10, s2",
            "vmla.f32 s16, s11, s3",
            "vmla.f32 s16, s12, s4",
            "vmla.f32 s16, s13, s5",
            "vmla.f32 s16, s14, s6",
            "vmla.f32 s16, s15, s7",
            "vldmia {w1}!, {{s8-s15}}",
            "vmla.f32 s17, s8, s0",
            "vmla.f32 s17, s9, s1",
            "vmla.f32 s17, s10, s2",
            "vmla.f32 s17, s11, s3",
            "vmla.f32 s17, s12, s4",
            "vmla.f32 s17, s13, s5",
            "vmla.f32 s17, s14, s6",
            "vmla.f32 s17, s15, s7",
            "vldmia {w2}!, {{s8-s15}}",
            "vmla.f32 s18, s8, s0",
            "vmla.f32 s18, s9, s1",
            "vmla.f32 s18, s10, s2",
            "vmla.f32 s18, s11, s3",
            "vmla.f32 s18, s12, s4",
            "vmla.f32 s18, s13, s5",
            "vmla.f32 s18, s14, s6",
            "vmla.f32 s18, s15, s7",
            "vldmia {w3}!, {{s8-s15}}",
            "vmla.f32 s19, s8, s0",
            "vmla.f32 s19, s9, s1",
            "vmla.f32 s19, s10, s2",
            "vmla.f32 s19, s11, s3",
            "vmla.f32 s19, s12, s4",
            "vmla.f32 s19, s13, s5",
            "vmla.f32 s19, s14, s6",
            "vmla.f32 s19, s15, s7",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstmia {acc}, {{s16-s19}}",
            acc = in(reg) acc.as_mut_ptr(),
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w0 => _,
            w1 = inout(reg) w0.add(stride) => _,
            w2 = inout(reg) w0.add(2 * stride) => _,
            w3 = inout(reg) w0.add(3 * stride) => _,
            n = inout(reg) groups => _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            options(nostack),
        );
    }
    #[cfg(not(typenet_arm_fpu))]
    for (r, a) in acc.iter_mut().enumerate() {
        for (&wi, &xi) in w[r * stride..][..len].iter().zip(&x[..len]) {
            *a += wi * xi;
        }
    }
}

/// `acc += w[i] · x[i]` for `i < 8·groups`, in order of `i`.
#[inline(always)]
fn rows1(x: &[f32], w: &[f32], groups: usize, acc: &mut f32) {
    let len = 8 * groups;
    assert!(groups > 0 && x.len() >= len && w.len() >= len);
    #[cfg(typenet_arm_fpu)]
    // SAFETY: checked above: `groups ≥ 1` passes, each reading eight values
    // of `x` and of `w`, inside the slices; `acc` one `f32`. As `rows4`.
    unsafe {
        asm!(
            "vldr s16, [{acc}]",
            "2:",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {w}!, {{s8-s15}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s16, s9, s1",
            "vmla.f32 s16, s10, s2",
            "vmla.f32 s16, s11, s3",
            "vmla.f32 s16, s12, s4",
            "vmla.f32 s16, s13, s5",
            "vmla.f32 s16, s14, s6",
            "vmla.f32 s16, s15, s7",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstr s16, [{acc}]",
            acc = in(reg) core::ptr::from_mut(acc),
            x = inout(reg) x.as_ptr() => _,
            w = inout(reg) w.as_ptr() => _,
            n = inout(reg) groups => _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _,
            options(nostack),
        );
    }
    #[cfg(not(typenet_arm_fpu))]
    for (&wi, &xi) in w[..len].iter().zip(&x[..len]) {
        *acc += wi * xi;
    }
}

/// `acc[j] += w[k·stride + j] · d[k]` for `j < 16`, `k < d.len()` (at least
/// one), in order of `k`.
#[inline(always)]
fn cols16(w: &[f32], stride: usize, d: &[f32], acc: &mut [f32; 16]) {
    let rows = d.len();
    assert!(rows > 0 && stride >= 16 && w.len() >= (rows - 1) * stride + 16);
    #[cfg(typenet_arm_fpu)]
    // SAFETY: checked above: `rows ≥ 1` passes, pass `k` reading `d[k]` and
    // the sixteen values at `w[k·stride..]`, inside the slices (the
    // pointer steps 32 bytes, then `4·stride − 32`); `acc` is sixteen
    // `f32`s, read and written whole. As `rows4`.
    unsafe {
        asm!(
            "vldmia {acc}, {{s0-s15}}",
            "2:",
            "vldmia {d}!, {{s16}}",
            "vldmia {w}!, {{s17-s24}}",
            "vmla.f32 s0, s17, s16",
            "vmla.f32 s1, s18, s16",
            "vmla.f32 s2, s19, s16",
            "vmla.f32 s3, s20, s16",
            "vmla.f32 s4, s21, s16",
            "vmla.f32 s5, s22, s16",
            "vmla.f32 s6, s23, s16",
            "vmla.f32 s7, s24, s16",
            "vldmia {w}, {{s17-s24}}",
            "vmla.f32 s8, s17, s16",
            "vmla.f32 s9, s18, s16",
            "vmla.f32 s10, s19, s16",
            "vmla.f32 s11, s20, s16",
            "vmla.f32 s12, s21, s16",
            "vmla.f32 s13, s22, s16",
            "vmla.f32 s14, s23, s16",
            "vmla.f32 s15, s24, s16",
            "add {w}, {w}, {step}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstmia {acc}, {{s0-s15}}",
            acc = in(reg) acc.as_mut_ptr(),
            w = inout(reg) w.as_ptr() => _,
            d = inout(reg) d.as_ptr() => _,
            step = in(reg) 4 * stride - 32,
            n = inout(reg) rows => _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _, out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _,
            options(nostack),
        );
    }
    #[cfg(not(typenet_arm_fpu))]
    for (k, &dk) in d.iter().enumerate() {
        for (a, &wj) in acc.iter_mut().zip(&w[k * stride..][..16]) {
            *a += wj * dk;
        }
    }
}

/// `acc[j] += dys[b][o] · xs[b][i + j]` for `j < 16`, over the samples `b`
/// in order (at least one; as many as both slices hold).
#[inline(always)]
fn outer16<I: ArrayLength, O: ArrayLength>(
    xs: &[&Vector<f32, I>],
    dys: &[&Vector<f32, O>],
    i: usize,
    o: usize,
    acc: &mut [f32; 16],
) {
    let count = xs.len().min(dys.len());
    assert!(count > 0 && i + 16 <= I::USIZE && o < O::USIZE);
    #[cfg(typenet_arm_fpu)]
    // SAFETY: checked above: `count ≥ 1` passes, pass `b` reading the
    // pointers `xs[b]` and `dys[b]` (a reference to a sized value is one
    // word, so each slice is an array of words), then `dys[b][o]` and
    // `xs[b][i..i + 16]`, inside their vectors; `acc` is sixteen `f32`s,
    // read and written whole. As `rows4`.
    unsafe {
        asm!(
            "vldmia {acc}, {{s0-s15}}",
            "2:",
            "ldr {xp}, [{xs}], #4",
            "ldr {dp}, [{dys}], #4",
            "add {xp}, {xp}, {xoff}",
            "add {dp}, {dp}, {doff}",
            "vldr s16, [{dp}]",
            "vldmia {xp}!, {{s17-s24}}",
            "vmla.f32 s0, s16, s17",
            "vmla.f32 s1, s16, s18",
            "vmla.f32 s2, s16, s19",
            "vmla.f32 s3, s16, s20",
            "vmla.f32 s4, s16, s21",
            "vmla.f32 s5, s16, s22",
            "vmla.f32 s6, s16, s23",
            "vmla.f32 s7, s16, s24",
            "vldmia {xp}, {{s17-s24}}",
            "vmla.f32 s8, s16, s17",
            "vmla.f32 s9, s16, s18",
            "vmla.f32 s10, s16, s19",
            "vmla.f32 s11, s16, s20",
            "vmla.f32 s12, s16, s21",
            "vmla.f32 s13, s16, s22",
            "vmla.f32 s14, s16, s23",
            "vmla.f32 s15, s16, s24",
            "subs {n}, {n}, #1",
            "bne 2b",
            "vstmia {acc}, {{s0-s15}}",
            acc = in(reg) acc.as_mut_ptr(),
            xs = inout(reg) xs.as_ptr() => _,
            dys = inout(reg) dys.as_ptr() => _,
            xoff = in(reg) 4 * i,
            doff = in(reg) 4 * o,
            xp = out(reg) _,
            dp = out(reg) _,
            n = inout(reg) count => _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _, out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _,
            options(nostack),
        );
    }
    #[cfg(not(typenet_arm_fpu))]
    for (x, dy) in xs[..count].iter().zip(&dys[..count]) {
        for (a, &xj) in acc.iter_mut().zip(&x[i..i + 16]) {
            *a += dy[o] * xj;
        }
    }
}

// ---------------------------------------------------------------------------
// Convolution: the runs form's sums, planned into tiles.
// ---------------------------------------------------------------------------

/// `[lo, hi)` of `0..out`: the outputs `j` whose inputs `j + k − pad`
/// (stride 1) lie in `0..len` for every `k < taps` (the interior, where a
/// tile needs no test), with `lo ≤ hi`.
#[inline(always)]
fn interior(pad: usize, taps: usize, len: usize, out: usize) -> (usize, usize) {
    let lo = pad.min(out);
    let hi = (len + pad + 1).saturating_sub(taps).min(out);
    (lo, hi.max(lo))
}

/// The kernel rows `[ky0, ky1)` output row `oy` meets inside the image.
#[inline(always)]
fn kernel_rows(d: Dims, oy: usize) -> (usize, usize) {
    let top = oy * d.sh;
    let ky0 = d.ph.saturating_sub(top).min(d.kh);
    let ky1 = (d.h + d.ph).saturating_sub(top).min(d.kh);
    (ky0, ky1.max(ky0))
}

/// The kernel rows `[ky0, ky1)` through which input row `iy` reaches an
/// output row (stride 1): `oy = iy + ph − ky` in `0..oh`.
#[inline(always)]
fn kernel_rows_back(d: Dims, iy: usize) -> (usize, usize) {
    let ky0 = (iy + d.ph + 1).saturating_sub(d.oh).min(d.kh);
    let ky1 = (iy + d.ph + 1).min(d.kh);
    (ky0, ky1.max(ky0))
}

/// The convolution forward over a block, as `conv::forward_runs_block`
/// bit for bit: per output `b + Σ w·x` over the input channels, kernel
/// rows and kernel columns in that order, the taps in the padding skipped.
/// Declines (`false`, touching nothing) a stride along the rows other
/// than 1 (`VLDM` reads consecutive values). Per output channel and row:
/// tiles of 8 (4 in a narrower interior) output columns in registers over
/// every tap of the interior, the last tile moved back to end at the
/// interior's end; the first and last columns, where some taps fall in the
/// padding, one at a time over the kernel columns that meet the image.
#[inline]
pub(crate) fn conv_forward(d: Dims, w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
    if d.sw != 1 {
        return false;
    }
    let taps = d.c_in * d.kh * d.kw;
    assert!(w.len() >= d.c_out * taps && bias.len() >= d.c_out);
    let (lo, hi) = interior(d.pw, d.kw, d.w, d.ow);
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        assert!(x.len() >= d.c_in * d.h * d.w && y.len() >= d.c_out * d.oh * d.ow);
        for o in 0..d.c_out {
            let wo = &w[o * taps..][..taps];
            for oy in 0..d.oh {
                let (ky0, ky1) = kernel_rows(d, oy);
                let row = &mut y[(o * d.oh + oy) * d.ow..][..d.ow];
                // One output, where no tile goes: the kernel columns
                // `kx0..kx1` meet the image (`ox + kx − pw` in `0..w`).
                let one = |ox: usize| {
                    let (kx0, kx1) = (d.pw.saturating_sub(ox), (d.w + d.pw).saturating_sub(ox).min(d.kw));
                    let mut acc = bias[o];
                    if kx0 < kx1 && ky0 < ky1 {
                        let tile = Tile {
                            channels: d.c_in,
                            rows: ky1 - ky0,
                            taps: kx1 - kx0,
                            row: d.w,
                            plane: d.h * d.w,
                            weights: d.kh * d.kw,
                        };
                        let at = (oy * d.sh + ky0 - d.ph) * d.w + ox + kx0 - d.pw;
                        tile.edge_forward(x, at, &wo[ky0 * d.kw + kx0..], d.kw, &mut acc);
                    }
                    acc
                };
                for ox in (0..lo).chain(hi..d.ow) {
                    row[ox] = one(ox);
                }
                let mut ox = lo;
                if ky0 < ky1 {
                    let tile = Tile {
                        channels: d.c_in,
                        rows: ky1 - ky0,
                        taps: d.kw,
                        row: d.w,
                        plane: d.h * d.w,
                        weights: d.kh * d.kw,
                    };
                    // Input row `iy0`'s column `ox − pw`, in `x[0]` (ox ≥ lo = pw).
                    let (start, wk) = ((oy * d.sh + ky0 - d.ph) * d.w, &wo[ky0 * d.kw..]);
                    // Tiles of 8 (or of 4 in a narrower interior), the
                    // last one moved back to end at `hi` where the interior
                    // is not a whole number of them: the columns it
                    // computes again come out the same.
                    let mut tile_at = |ox: usize, width: usize| {
                        let (out, at) = (&mut row[ox..ox + width], start + ox - d.pw);
                        out.fill(bias[o]);
                        if width == 8 { tile.forward::<8>(x, at, wk, out) } else { tile.forward::<4>(x, at, wk, out) }
                    };
                    let width = if hi - lo >= 8 { 8 } else { 4 };
                    if hi - lo >= width {
                        while ox + width <= hi {
                            tile_at(ox, width);
                            ox += width;
                        }
                        if ox < hi {
                            tile_at(hi - width, width);
                            ox = hi;
                        }
                    }
                }
                for (ox, y) in row.iter_mut().enumerate().take(hi).skip(ox) {
                    *y = one(ox);
                }
            }
        }
    }
    true
}

/// The convolution backward over a block, as `conv::backward_runs_block`
/// bit for bit: `db` plane by plane; each weight's gradient adds, sample
/// by sample and output row by output row, the row's dot product summed
/// from zero along the columns; each `dx` sums `w·dy` from zero over the
/// output channels, kernel rows and kernel columns in that order. Declines
/// (`false`, touching nothing) strides other than 1 and kernels wider than
/// 7 columns. The weight gradients take the runs form where a row's
/// interior is under 8 columns (there it costs less than four calls per
/// row).
#[inline]
pub(crate) fn conv_backward(
    d: Dims,
    w: &[f32],
    xs: &[&[f32]],
    dys: &[&[f32]],
    gw: &mut [f32],
    gb: &mut [f32],
    dxs: Option<&mut [&mut [f32]]>,
) -> bool {
    if d.sw != 1 || d.sh != 1 || d.kw > 7 {
        return false;
    }
    let taps = d.c_in * d.kh * d.kw;
    assert!(w.len() >= d.c_out * taps && gw.len() >= d.c_out * taps && gb.len() >= d.c_out);
    let plane = d.oh * d.ow;
    // The weight gradients' dot products take four calls per output row,
    // which cost more than the runs form's loops where the interior of a
    // row is under 8 columns (an 8×8 image with padding 1).
    let (lo, hi) = interior(d.pw, d.kw, d.w, d.ow);
    let rows_in_registers = hi - lo >= 8;
    for (x, dy) in xs.iter().zip(dys) {
        assert!(x.len() >= d.c_in * d.h * d.w && dy.len() >= d.c_out * plane);
        if rows_in_registers {
            for (g, p) in gb.iter_mut().zip(dy.chunks_exact(plane)) {
                *g = p.iter().fold(*g, |s, &v| s + v);
            }
            weight_grads(d, x, dy, gw);
        } else {
            conv::backward_runs(d, w, x, dy, gw, gb, None);
        }
    }
    if let Some(dxs) = dxs {
        for (dy, dx) in dys.iter().zip(dxs.iter_mut()) {
            assert!(dx.len() >= d.c_in * d.h * d.w);
            dx.fill(0.0);
            input_grads(d, w, dy, dx);
        }
    }
    true
}

/// Input columns `[lo, hi)` whose every kernel column maps to an output
/// column `ix + pw − kx` in `0..ow` (stride 1), with `lo ≤ hi`.
#[inline(always)]
fn input_interior(d: Dims) -> (usize, usize) {
    let lo = (d.kw - 1).saturating_sub(d.pw).min(d.w);
    (lo, d.ow.saturating_sub(d.pw).min(d.w).max(lo))
}

/// One sample's weight gradients (stride 1, `kw ≤ 7`): per output
/// channel, input channel, kernel row and output row, the `kw` dot
/// products of the row's `dy` with the input row shifted by each kernel
/// column, in registers: the interior columns four at a time, then one at
/// a time, the edge columns one at a time over the kernel columns that
/// meet the image there; each added to its weight's gradient.
#[inline(always)]
fn weight_grads(d: Dims, x: &[f32], dy: &[f32], gw: &mut [f32]) {
    let (lo, hi) = interior(d.pw, d.kw, d.w, d.ow);
    for o in 0..d.c_out {
        for c in 0..d.c_in {
            for ky in 0..d.kh {
                let g = &mut gw[((o * d.c_in + c) * d.kh + ky) * d.kw..][..d.kw];
                for oy in inside(ky, d.ph, 1, d.h, d.oh) {
                    let dy_row = &dy[(o * d.oh + oy) * d.ow..][..d.ow];
                    let x_row = &x[(c * d.h + oy + ky - d.ph) * d.w..][..d.w];
                    let mut acc = [0.0f32; 7];
                    // A column at an edge: the kernel columns `kx0..kx1`
                    // meet the image there.
                    let edge = |acc: &mut [f32; 7], ox: usize| {
                        let (kx0, kx1) = (d.pw.saturating_sub(ox), (d.w + d.pw).saturating_sub(ox).min(d.kw));
                        if kx0 < kx1 {
                            gw_columns(kx1 - kx0, &dy_row[ox..], &x_row[ox + kx0 - d.pw..], 1, &mut acc[kx0..]);
                        }
                    };
                    for ox in 0..lo {
                        edge(&mut acc, ox);
                    }
                    let groups = (hi - lo) / 4;
                    if groups > 0 {
                        gw_groups(d.kw, &dy_row[lo..], &x_row[lo - d.pw..], groups, &mut acc);
                    }
                    let rest = lo + 4 * groups;
                    if rest < hi {
                        gw_columns(d.kw, &dy_row[rest..], &x_row[rest - d.pw..], hi - rest, &mut acc);
                    }
                    for ox in hi..d.ow {
                        edge(&mut acc, ox);
                    }
                    for (g, &a) in g.iter_mut().zip(&acc) {
                        *g += a;
                    }
                }
            }
        }
    }
}

/// One sample's input gradient (stride 1), `dx` zero on entry: per input
/// channel and row, tiles of 8 (or 4) columns in registers over every
/// output channel and kernel tap of the interior, placed as the forward
/// pass's; the edge columns one at a time over the kernel columns that
/// reach an output.
#[inline(always)]
fn input_grads(d: Dims, w: &[f32], dy: &[f32], dx: &mut [f32]) {
    let taps = d.c_in * d.kh * d.kw;
    let (lo, hi) = input_interior(d);
    for c in 0..d.c_in {
        for iy in 0..d.h {
            let (ky0, ky1) = kernel_rows_back(d, iy);
            let row = &mut dx[(c * d.h + iy) * d.w..][..d.w];
            // One input, where no tile goes: the kernel columns `kx0..kx1`
            // reach an output column (`ix + pw − kx` in `0..ow`), walked
            // from the highest output column down.
            let one = |ix: usize| {
                let (kx0, kx1) = ((ix + d.pw + 1).saturating_sub(d.ow), (ix + d.pw + 1).min(d.kw));
                let mut acc = 0.0f32;
                if kx0 < kx1 && ky0 < ky1 {
                    let tile = Tile {
                        channels: d.c_out,
                        rows: ky1 - ky0,
                        taps: kx1 - kx0,
                        row: d.ow,
                        plane: d.oh * d.ow,
                        weights: taps,
                    };
                    let at = (iy + d.ph - ky0) * d.ow + ix + d.pw - kx0;
                    tile.edge_backward(dy, at, &w[(c * d.kh + ky0) * d.kw + kx0..], d.kw, &mut acc);
                }
                acc
            };
            for ix in (0..lo).chain(hi..d.w) {
                row[ix] = one(ix);
            }
            let mut ix = lo;
            if ky0 < ky1 {
                let tile = Tile {
                    channels: d.c_out,
                    rows: ky1 - ky0,
                    taps: d.kw,
                    row: d.ow,
                    plane: d.oh * d.ow,
                    weights: taps,
                };
                let (start, wk) = ((iy + d.ph - ky0) * d.ow + d.pw, &w[(c * d.kh + ky0) * d.kw..]);
                // As the forward pass's tiles; a tile moved back clears
                // the columns it adds into again.
                let mut tile_at = |ix: usize, width: usize| {
                    let out = &mut row[ix..ix + width];
                    out.fill(0.0);
                    if width == 8 {
                        tile.backward::<8>(dy, start + ix, wk, out)
                    } else {
                        tile.backward::<4>(dy, start + ix, wk, out)
                    }
                };
                let width = if hi - lo >= 8 { 8 } else { 4 };
                if hi - lo >= width {
                    while ix + width <= hi {
                        tile_at(ix, width);
                        ix += width;
                    }
                    if ix < hi {
                        tile_at(hi - width, width);
                        ix = hi;
                    }
                }
            }
            for (ix, v) in row.iter_mut().enumerate().take(hi).skip(ix) {
                *v = one(ix);
            }
        }
    }
}

/// A convolution tile's walk: for each of `channels` channels (`plane`
/// values apart in the input, `weights` apart in the weights), `rows`
/// rows (`row` values apart) of `taps` consecutive taps, one weight each
/// (the weights of a channel's rows consecutive).
struct Tile {
    channels: usize,
    rows: usize,
    taps: usize,
    row: usize,
    plane: usize,
    weights: usize,
}

impl Tile {
    /// `acc[j] += w[c·weights + r·taps + k] · x[at + c·plane + r·row + k + j]`
    /// for `j < N` (8 or 4), over `c`, `r`, `k` in that order.
    #[inline(always)]
    fn forward<const N: usize>(&self, x: &[f32], at: usize, w: &[f32], acc: &mut [f32]) {
        let Tile { channels, rows, taps, row, plane, weights } = *self;
        assert!(channels > 0 && rows > 0 && taps > 0 && acc.len() == N && (N == 8 || N == 4));
        assert!(at + (channels - 1) * plane + (rows - 1) * row + taps - 1 + N <= x.len());
        assert!((channels - 1) * weights + rows * taps <= w.len() && rows * taps <= weights);
        #[cfg(typenet_arm_fpu)]
        {
            let steps = [4 * (row as isize - taps as isize), 4 * (plane as isize - (rows * row) as isize)];
            // SAFETY: checked above: every input read, `x[at + c·plane +
            // r·row + k + j]`, and every weight read, `w[c·weights + r·taps
            // + k]`, lies inside its slice (the pointers step 4 bytes per
            // tap, then `steps[0]` per row and `steps[1]` per channel, and
            // `4·(weights − rows·taps)` per channel for the weights);
            // `acc` is `N` `f32`s, read and written whole; every count is
            // at least one. As `rows4`.
            unsafe { self.forward_asm::<N>(x.as_ptr().add(at), w.as_ptr(), acc.as_mut_ptr(), steps) };
        }
        #[cfg(not(typenet_arm_fpu))]
        for c in 0..channels {
            for r in 0..rows {
                for k in 0..taps {
                    let wv = w[c * weights + r * taps + k];
                    for (j, a) in acc.iter_mut().enumerate() {
                        *a += wv * x[at + c * plane + r * row + k + j];
                    }
                }
            }
        }
    }

    /// `acc[j] += w[c·weights + r·taps + k] · x[at + c·plane − r·row − k + j]`
    /// for `j < N` (8 or 4), over `c`, `r`, `k` in that order: the input
    /// gradient's correlation, rows and taps walked backwards.
    #[inline(always)]
    fn backward<const N: usize>(&self, x: &[f32], at: usize, w: &[f32], acc: &mut [f32]) {
        let Tile { channels, rows, taps, row, plane, weights } = *self;
        assert!(channels > 0 && rows > 0 && taps > 0 && acc.len() == N && (N == 8 || N == 4));
        assert!(at >= (rows - 1) * row + taps - 1 && at + (channels - 1) * plane + N <= x.len());
        assert!((channels - 1) * weights + rows * taps <= w.len() && rows * taps <= weights);
        #[cfg(typenet_arm_fpu)]
        {
            let steps = [4 * (taps as isize - row as isize), 4 * (plane as isize + (rows * row) as isize)];
            // SAFETY: checked above: every input read, `x[at + c·plane −
            // r·row − k + j]`, and every weight read lie inside their
            // slices (the input pointer steps −4 bytes per tap, then
            // `steps[0]` per row and `steps[1]` per channel); `acc` is `N`
            // `f32`s; every count is at least one. As `rows4`.
            unsafe { self.backward_asm::<N>(x.as_ptr().add(at), w.as_ptr(), acc.as_mut_ptr(), steps) };
        }
        #[cfg(not(typenet_arm_fpu))]
        for c in 0..channels {
            for r in 0..rows {
                for k in 0..taps {
                    let wv = w[c * weights + r * taps + k];
                    for (j, a) in acc.iter_mut().enumerate() {
                        *a += wv * x[at + c * plane + j - r * row - k];
                    }
                }
            }
        }
    }
}

#[cfg(typenet_arm_fpu)]
impl Tile {
    /// The walk of [`Tile::forward`] in one `asm!` block: `acc` in `s0`…,
    /// the weight in `s8`, `N` inputs in `s9`… by one `VLDM`, `N` `VMLA`
    /// per tap; the `acc` pointer waits in `s30` while its register
    /// counts rows.
    ///
    /// # Safety
    ///
    /// As checked in [`Tile::forward`]: the walk stays inside the memory
    /// behind `x` and `w`, `acc` points to `N` `f32`s, every count is at
    /// least one.
    #[inline(always)]
    unsafe fn forward_asm<const N: usize>(&self, x: *const f32, w: *const f32, acc: *mut f32, steps: [isize; 2]) {
        let wskip = 4 * (self.weights - self.rows * self.taps);
        // SAFETY: the caller's contract; FPU instructions
        // (`cfg(typenet_arm_fpu)`); every register written is an output,
        // flags change, the stack does not.
        unsafe {
            if N == 8 {
                asm!(
                    "vmov s30, {ky}",
                    "vldmia {ky}, {{s0-s7}}",
                    "3:",
                    "mov {ky}, {nky}",
                    "4:",
                    "mov {kx}, {kw}",
                    "5:",
                    "vldmia {w}!, {{s8}}",
                    "vldmia {x}, {{s9-s16}}",
                    "add {x}, {x}, #4",
                    "vmla.f32 s0, s8, s9",
                    "vmla.f32 s1, s8, s10",
                    "vmla.f32 s2, s8, s11",
                    "vmla.f32 s3, s8, s12",
                    "vmla.f32 s4, s8, s13",
                    "vmla.f32 s5, s8, s14",
                    "vmla.f32 s6, s8, s15",
                    "vmla.f32 s7, s8, s16",
                    "subs {kx}, {kx}, #1",
                    "bne 5b",
                    "add {x}, {x}, {row}",
                    "subs {ky}, {ky}, #1",
                    "bne 4b",
                    "add {x}, {x}, {chan}",
                    "add {w}, {w}, {wskip}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    "vmov {kx}, s30",
                    "vstmia {kx}, {{s0-s7}}",
                    x = inout(reg) x => _, w = inout(reg) w => _, n = inout(reg) self.channels => _,
                    ky = inout(reg) acc => _, kx = out(reg) _, nky = in(reg) self.rows, kw = in(reg) self.taps,
                    row = in(reg) steps[0], chan = in(reg) steps[1], wskip = in(reg) wskip,
                    out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s30") _,
                    options(nostack),
                );
            } else {
                asm!(
                    "vmov s30, {ky}",
                    "vldmia {ky}, {{s0-s3}}",
                    "3:",
                    "mov {ky}, {nky}",
                    "4:",
                    "mov {kx}, {kw}",
                    "5:",
                    "vldmia {w}!, {{s8}}",
                    "vldmia {x}, {{s9-s12}}",
                    "add {x}, {x}, #4",
                    "vmla.f32 s0, s8, s9",
                    "vmla.f32 s1, s8, s10",
                    "vmla.f32 s2, s8, s11",
                    "vmla.f32 s3, s8, s12",
                    "subs {kx}, {kx}, #1",
                    "bne 5b",
                    "add {x}, {x}, {row}",
                    "subs {ky}, {ky}, #1",
                    "bne 4b",
                    "add {x}, {x}, {chan}",
                    "add {w}, {w}, {wskip}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    "vmov {kx}, s30",
                    "vstmia {kx}, {{s0-s3}}",
                    x = inout(reg) x => _, w = inout(reg) w => _, n = inout(reg) self.channels => _,
                    ky = inout(reg) acc => _, kx = out(reg) _, nky = in(reg) self.rows, kw = in(reg) self.taps,
                    row = in(reg) steps[0], chan = in(reg) steps[1], wskip = in(reg) wskip,
                    out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s30") _,
                    options(nostack),
                );
            }
        }
    }

    /// The walk of [`Tile::backward`] in one `asm!` block, as
    /// [`Tile::forward_asm`] with the input pointer stepping back per tap.
    ///
    /// # Safety
    ///
    /// As checked in [`Tile::backward`].
    #[inline(always)]
    unsafe fn backward_asm<const N: usize>(&self, x: *const f32, w: *const f32, acc: *mut f32, steps: [isize; 2]) {
        let wskip = 4 * (self.weights - self.rows * self.taps);
        // SAFETY: as in `forward_asm`.
        unsafe {
            if N == 8 {
                asm!(
                    "vmov s30, {ky}",
                    "vldmia {ky}, {{s0-s7}}",
                    "3:",
                    "mov {ky}, {nky}",
                    "4:",
                    "mov {kx}, {kw}",
                    "5:",
                    "vldmia {w}!, {{s8}}",
                    "vldmia {x}, {{s9-s16}}",
                    "sub {x}, {x}, #4",
                    "vmla.f32 s0, s8, s9",
                    "vmla.f32 s1, s8, s10",
                    "vmla.f32 s2, s8, s11",
                    "vmla.f32 s3, s8, s12",
                    "vmla.f32 s4, s8, s13",
                    "vmla.f32 s5, s8, s14",
                    "vmla.f32 s6, s8, s15",
                    "vmla.f32 s7, s8, s16",
                    "subs {kx}, {kx}, #1",
                    "bne 5b",
                    "add {x}, {x}, {row}",
                    "subs {ky}, {ky}, #1",
                    "bne 4b",
                    "add {x}, {x}, {chan}",
                    "add {w}, {w}, {wskip}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    "vmov {kx}, s30",
                    "vstmia {kx}, {{s0-s7}}",
                    x = inout(reg) x => _, w = inout(reg) w => _, n = inout(reg) self.channels => _,
                    ky = inout(reg) acc => _, kx = out(reg) _, nky = in(reg) self.rows, kw = in(reg) self.taps,
                    row = in(reg) steps[0], chan = in(reg) steps[1], wskip = in(reg) wskip,
                    out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s30") _,
                    options(nostack),
                );
            } else {
                asm!(
                    "vmov s30, {ky}",
                    "vldmia {ky}, {{s0-s3}}",
                    "3:",
                    "mov {ky}, {nky}",
                    "4:",
                    "mov {kx}, {kw}",
                    "5:",
                    "vldmia {w}!, {{s8}}",
                    "vldmia {x}, {{s9-s12}}",
                    "sub {x}, {x}, #4",
                    "vmla.f32 s0, s8, s9",
                    "vmla.f32 s1, s8, s10",
                    "vmla.f32 s2, s8, s11",
                    "vmla.f32 s3, s8, s12",
                    "subs {kx}, {kx}, #1",
                    "bne 5b",
                    "add {x}, {x}, {row}",
                    "subs {ky}, {ky}, #1",
                    "bne 4b",
                    "add {x}, {x}, {chan}",
                    "add {w}, {w}, {wskip}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    "vmov {kx}, s30",
                    "vstmia {kx}, {{s0-s3}}",
                    x = inout(reg) x => _, w = inout(reg) w => _, n = inout(reg) self.channels => _,
                    ky = inout(reg) acc => _, kx = out(reg) _, nky = in(reg) self.rows, kw = in(reg) self.taps,
                    row = in(reg) steps[0], chan = in(reg) steps[1], wskip = in(reg) wskip,
                    out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s30") _,
                    options(nostack),
                );
            }
        }
    }
}

impl Tile {
    /// One column of [`Tile::forward`] where only `taps` of each kernel
    /// row's `wrow` weights meet the image:
    /// `acc += w[c·weights + r·wrow + k] · x[at + c·plane + r·row + k]`
    /// over `c`, `r`, `k < taps` in that order.
    #[inline(always)]
    fn edge_forward(&self, x: &[f32], at: usize, w: &[f32], wrow: usize, acc: &mut f32) {
        let Tile { channels, rows, taps, row, plane, weights } = *self;
        assert!(channels > 0 && rows > 0 && taps > 0 && taps <= wrow && rows * wrow <= weights);
        assert!(at + (channels - 1) * plane + (rows - 1) * row + taps <= x.len());
        assert!((channels - 1) * weights + (rows - 1) * wrow + taps <= w.len());
        #[cfg(typenet_arm_fpu)]
        {
            let params = [
                rows as i32,
                taps as i32,
                4 * (plane as i32 - (rows * row) as i32),
                4 * (weights - rows * wrow) as i32,
            ];
            let (row_step, wrow_step) = (4 * (row as isize - taps as isize), 4 * (wrow - taps) as isize);
            // SAFETY: checked above: every input read, `x[at + c·plane +
            // r·row + k]`, and every weight read, `w[c·weights + r·wrow +
            // k]`, lies inside its slice; `acc` is one `f32`; every count
            // is at least one. The counts and channel steps wait in
            // `s24`–`s27`, the `acc` pointer in `s30`. As `rows4`.
            unsafe {
                asm!(
                    "vldmia {p}, {{s24-s27}}",
                    "vmov s30, {ky}",
                    "vldr s0, [{ky}]",
                    "3:",
                    "vmov {ky}, s24",
                    "4:",
                    "vmov {kx}, s25",
                    "5:",
                    "vldmia {w}!, {{s8}}",
                    "vldmia {x}!, {{s9}}",
                    "vmla.f32 s0, s8, s9",
                    "subs {kx}, {kx}, #1",
                    "bne 5b",
                    "add {x}, {x}, {row}",
                    "add {w}, {w}, {wrow}",
                    "subs {ky}, {ky}, #1",
                    "bne 4b",
                    "vmov {kx}, s26",
                    "add {x}, {x}, {kx}",
                    "vmov {kx}, s27",
                    "add {w}, {w}, {kx}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    "vmov {kx}, s30",
                    "vstr s0, [{kx}]",
                    p = in(reg) params.as_ptr(), x = inout(reg) x.as_ptr().add(at) => _, w = inout(reg) w.as_ptr() => _,
                    n = inout(reg) channels => _, ky = inout(reg) core::ptr::from_mut(acc) => _, kx = out(reg) _,
                    row = in(reg) row_step, wrow = in(reg) wrow_step,
                    out("s0") _, out("s8") _, out("s9") _, out("s24") _, out("s25") _, out("s26") _, out("s27") _, out("s30") _,
                    options(nostack),
                );
            }
        }
        #[cfg(not(typenet_arm_fpu))]
        for c in 0..channels {
            for r in 0..rows {
                for k in 0..taps {
                    *acc += w[c * weights + r * wrow + k] * x[at + c * plane + r * row + k];
                }
            }
        }
    }

    /// One column of [`Tile::backward`] where only `taps` of each kernel
    /// row's `wrow` weights reach an output:
    /// `acc += w[c·weights + r·wrow + k] · x[at + c·plane − r·row − k]`
    /// over `c`, `r`, `k < taps` in that order.
    #[inline(always)]
    fn edge_backward(&self, x: &[f32], at: usize, w: &[f32], wrow: usize, acc: &mut f32) {
        let Tile { channels, rows, taps, row, plane, weights } = *self;
        assert!(channels > 0 && rows > 0 && taps > 0 && taps <= wrow && rows * wrow <= weights);
        assert!(at + 1 >= (rows - 1) * row + taps && at + (channels - 1) * plane < x.len());
        assert!((channels - 1) * weights + (rows - 1) * wrow + taps <= w.len());
        #[cfg(typenet_arm_fpu)]
        {
            let params = [
                rows as i32,
                taps as i32,
                4 * (plane as i32 + (rows * row) as i32),
                4 * (weights - rows * wrow) as i32,
            ];
            let (row_step, wrow_step) = (4 * (taps as isize - row as isize), 4 * (wrow - taps) as isize);
            // SAFETY: checked above: every input read, `x[at + c·plane −
            // r·row − k]` (`VLDMDB` from one past it), and every weight
            // read lie inside their slices; `acc` is one `f32`; every count
            // is at least one. As `edge_forward`.
            unsafe {
                asm!(
                    "vldmia {p}, {{s24-s27}}",
                    "vmov s30, {ky}",
                    "vldr s0, [{ky}]",
                    "3:",
                    "vmov {ky}, s24",
                    "4:",
                    "vmov {kx}, s25",
                    "5:",
                    "vldmia {w}!, {{s8}}",
                    "vldmdb {x}!, {{s9}}",
                    "vmla.f32 s0, s8, s9",
                    "subs {kx}, {kx}, #1",
                    "bne 5b",
                    "add {x}, {x}, {row}",
                    "add {w}, {w}, {wrow}",
                    "subs {ky}, {ky}, #1",
                    "bne 4b",
                    "vmov {kx}, s26",
                    "add {x}, {x}, {kx}",
                    "vmov {kx}, s27",
                    "add {w}, {w}, {kx}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    "vmov {kx}, s30",
                    "vstr s0, [{kx}]",
                    p = in(reg) params.as_ptr(), x = inout(reg) x.as_ptr().add(at + 1) => _, w = inout(reg) w.as_ptr() => _,
                    n = inout(reg) channels => _, ky = inout(reg) core::ptr::from_mut(acc) => _, kx = out(reg) _,
                    row = in(reg) row_step, wrow = in(reg) wrow_step,
                    out("s0") _, out("s8") _, out("s9") _, out("s24") _, out("s25") _, out("s26") _, out("s27") _, out("s30") _,
                    options(nostack),
                );
            }
        }
        #[cfg(not(typenet_arm_fpu))]
        for c in 0..channels {
            for r in 0..rows {
                for k in 0..taps {
                    *acc += w[c * weights + r * wrow + k] * x[at + c * plane - r * row - k];
                }
            }
        }
    }
}

/// `acc[kx] += dy[j] · x[j + kx]` for `kx < kw` (1 to 7), `j < 4·groups`,
/// in order of `j`: the weight gradients' dot products of one row, the
/// `kw` shifts at once, four columns per pass (`dy` loaded once for all).
#[inline(always)]
fn gw_groups(kw: usize, dy: &[f32], x: &[f32], groups: usize, acc: &mut [f32; 7]) {
    assert!((1..=7).contains(&kw) && groups > 0 && dy.len() >= 4 * groups && x.len() >= 4 * groups + kw - 1);
    #[cfg(typenet_arm_fpu)]
    // SAFETY: checked above: pass `g` reads `dy[4g..4g + 4]` and
    // `x[4g..4g + 3 + kw]`, inside the slices; `acc` holds at least `kw`
    // `f32`s; `groups ≥ 1`. As `rows4`.
    unsafe {
        match kw {
            1 => asm!(
                "vldr s0, [{acc}]",
                "2:",
                "vldmia {dy}!, {{s8-s11}}",
                "vldmia {x}, {{s12-s15}}",
                "add {x}, {x}, #16",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s0, s9, s13",
                "vmla.f32 s0, s10, s14",
                "vmla.f32 s0, s11, s15",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstr s0, [{acc}]",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) groups => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                options(nostack),
            ),
            2 => asm!(
                "vldmia {acc}, {{s0-s1}}",
                "2:",
                "vldmia {dy}!, {{s8-s11}}",
                "vldmia {x}, {{s12-s16}}",
                "add {x}, {x}, #16",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s0, s9, s13",
                "vmla.f32 s0, s10, s14",
                "vmla.f32 s0, s11, s15",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s1, s9, s14",
                "vmla.f32 s1, s10, s15",
                "vmla.f32 s1, s11, s16",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s1}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) groups => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _,
                options(nostack),
            ),
            3 => asm!(
                "vldmia {acc}, {{s0-s2}}",
                "2:",
                "vldmia {dy}!, {{s8-s11}}",
                "vldmia {x}, {{s12-s17}}",
                "add {x}, {x}, #16",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s0, s9, s13",
                "vmla.f32 s0, s10, s14",
                "vmla.f32 s0, s11, s15",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s1, s9, s14",
                "vmla.f32 s1, s10, s15",
                "vmla.f32 s1, s11, s16",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s2, s9, s15",
                "vmla.f32 s2, s10, s16",
                "vmla.f32 s2, s11, s17",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s2}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) groups => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s17") _,
                options(nostack),
            ),
            4 => asm!(
                "vldmia {acc}, {{s0-s3}}",
                "2:",
                "vldmia {dy}!, {{s8-s11}}",
                "vldmia {x}, {{s12-s18}}",
                "add {x}, {x}, #16",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s0, s9, s13",
                "vmla.f32 s0, s10, s14",
                "vmla.f32 s0, s11, s15",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s1, s9, s14",
                "vmla.f32 s1, s10, s15",
                "vmla.f32 s1, s11, s16",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s2, s9, s15",
                "vmla.f32 s2, s10, s16",
                "vmla.f32 s2, s11, s17",
                "vmla.f32 s3, s8, s15",
                "vmla.f32 s3, s9, s16",
                "vmla.f32 s3, s10, s17",
                "vmla.f32 s3, s11, s18",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s3}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) groups => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s17") _, out("s18") _,
                options(nostack),
            ),
            5 => asm!(
                "vldmia {acc}, {{s0-s4}}",
                "2:",
                "vldmia {dy}!, {{s8-s11}}",
                "vldmia {x}, {{s12-s19}}",
                "add {x}, {x}, #16",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s0, s9, s13",
                "vmla.f32 s0, s10, s14",
                "vmla.f32 s0, s11, s15",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s1, s9, s14",
                "vmla.f32 s1, s10, s15",
                "vmla.f32 s1, s11, s16",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s2, s9, s15",
                "vmla.f32 s2, s10, s16",
                "vmla.f32 s2, s11, s17",
                "vmla.f32 s3, s8, s15",
                "vmla.f32 s3, s9, s16",
                "vmla.f32 s3, s10, s17",
                "vmla.f32 s3, s11, s18",
                "vmla.f32 s4, s8, s16",
                "vmla.f32 s4, s9, s17",
                "vmla.f32 s4, s10, s18",
                "vmla.f32 s4, s11, s19",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s4}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) groups => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s17") _, out("s18") _, out("s19") _,
                options(nostack),
            ),
            6 => asm!(
                "vldmia {acc}, {{s0-s5}}",
                "2:",
                "vldmia {dy}!, {{s8-s11}}",
                "vldmia {x}, {{s12-s20}}",
                "add {x}, {x}, #16",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s0, s9, s13",
                "vmla.f32 s0, s10, s14",
                "vmla.f32 s0, s11, s15",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s1, s9, s14",
                "vmla.f32 s1, s10, s15",
                "vmla.f32 s1, s11, s16",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s2, s9, s15",
                "vmla.f32 s2, s10, s16",
                "vmla.f32 s2, s11, s17",
                "vmla.f32 s3, s8, s15",
                "vmla.f32 s3, s9, s16",
                "vmla.f32 s3, s10, s17",
                "vmla.f32 s3, s11, s18",
                "vmla.f32 s4, s8, s16",
                "vmla.f32 s4, s9, s17",
                "vmla.f32 s4, s10, s18",
                "vmla.f32 s4, s11, s19",
                "vmla.f32 s5, s8, s17",
                "vmla.f32 s5, s9, s18",
                "vmla.f32 s5, s10, s19",
                "vmla.f32 s5, s11, s20",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s5}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) groups => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s17") _, out("s18") _, out("s19") _, out("s20") _,
                options(nostack),
            ),
            7 => asm!(
                "vldmia {acc}, {{s0-s6}}",
                "2:",
                "vldmia {dy}!, {{s8-s11}}",
                "vldmia {x}, {{s12-s21}}",
                "add {x}, {x}, #16",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s0, s9, s13",
                "vmla.f32 s0, s10, s14",
                "vmla.f32 s0, s11, s15",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s1, s9, s14",
                "vmla.f32 s1, s10, s15",
                "vmla.f32 s1, s11, s16",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s2, s9, s15",
                "vmla.f32 s2, s10, s16",
                "vmla.f32 s2, s11, s17",
                "vmla.f32 s3, s8, s15",
                "vmla.f32 s3, s9, s16",
                "vmla.f32 s3, s10, s17",
                "vmla.f32 s3, s11, s18",
                "vmla.f32 s4, s8, s16",
                "vmla.f32 s4, s9, s17",
                "vmla.f32 s4, s10, s18",
                "vmla.f32 s4, s11, s19",
                "vmla.f32 s5, s8, s17",
                "vmla.f32 s5, s9, s18",
                "vmla.f32 s5, s10, s19",
                "vmla.f32 s5, s11, s20",
                "vmla.f32 s6, s8, s18",
                "vmla.f32 s6, s9, s19",
                "vmla.f32 s6, s10, s20",
                "vmla.f32 s6, s11, s21",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s6}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) groups => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s7") _, out("s8") _, out("s9") _, out("s10") _, out("s11") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s17") _, out("s18") _, out("s19") _, out("s20") _, out("s21") _,
                options(nostack),
            ),
            _ => unreachable!(),
        }
    }
    #[cfg(not(typenet_arm_fpu))]
    for j in 0..4 * groups {
        for (kx, a) in acc[..kw].iter_mut().enumerate() {
            *a += dy[j] * x[j + kx];
        }
    }
}

/// `acc[kx] += dy[j] · x[j + kx]` for `kx < taps` (1 to 7, at most
/// `acc.len()`), `j < columns`, in order of `j`: [`gw_groups`] one column
/// at a time, for the columns past the last group of four and those at the
/// edges (with `acc` and `x` moved to the first kernel column that meets
/// the image there).
#[inline(always)]
fn gw_columns(taps: usize, dy: &[f32], x: &[f32], columns: usize, acc: &mut [f32]) {
    assert!((1..=7).contains(&taps) && taps <= acc.len() && columns > 0);
    assert!(dy.len() >= columns && x.len() >= columns + taps - 1);
    #[cfg(typenet_arm_fpu)]
    // SAFETY: checked above: pass `j` reads `dy[j]` and `x[j..j + taps]`,
    // inside the slices; `acc` holds at least `taps` `f32`s; `columns ≥
    // 1`. As `rows4`.
    unsafe {
        match taps {
            1 => asm!(
                "vldr s0, [{acc}]",
                "2:",
                "vldmia {dy}!, {{s8}}",
                "vldr s12, [{x}]",
                "add {x}, {x}, #4",
                "vmla.f32 s0, s8, s12",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstr s0, [{acc}]",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) columns => _,
                out("s0") _, out("s8") _, out("s12") _,
                options(nostack),
            ),
            2 => asm!(
                "vldmia {acc}, {{s0-s1}}",
                "2:",
                "vldmia {dy}!, {{s8}}",
                "vldmia {x}, {{s12-s13}}",
                "add {x}, {x}, #4",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s1, s8, s13",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s1}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) columns => _,
                out("s0") _, out("s1") _, out("s8") _, out("s12") _, out("s13") _,
                options(nostack),
            ),
            3 => asm!(
                "vldmia {acc}, {{s0-s2}}",
                "2:",
                "vldmia {dy}!, {{s8}}",
                "vldmia {x}, {{s12-s14}}",
                "add {x}, {x}, #4",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s2, s8, s14",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s2}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) columns => _,
                out("s0") _, out("s1") _, out("s2") _, out("s8") _, out("s12") _, out("s13") _, out("s14") _,
                options(nostack),
            ),
            4 => asm!(
                "vldmia {acc}, {{s0-s3}}",
                "2:",
                "vldmia {dy}!, {{s8}}",
                "vldmia {x}, {{s12-s15}}",
                "add {x}, {x}, #4",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s3, s8, s15",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s3}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) columns => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s8") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                options(nostack),
            ),
            5 => asm!(
                "vldmia {acc}, {{s0-s4}}",
                "2:",
                "vldmia {dy}!, {{s8}}",
                "vldmia {x}, {{s12-s16}}",
                "add {x}, {x}, #4",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s3, s8, s15",
                "vmla.f32 s4, s8, s16",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s4}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) columns => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s8") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _,
                options(nostack),
            ),
            6 => asm!(
                "vldmia {acc}, {{s0-s5}}",
                "2:",
                "vldmia {dy}!, {{s8}}",
                "vldmia {x}, {{s12-s17}}",
                "add {x}, {x}, #4",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s3, s8, s15",
                "vmla.f32 s4, s8, s16",
                "vmla.f32 s5, s8, s17",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s5}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) columns => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s8") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s17") _,
                options(nostack),
            ),
            7 => asm!(
                "vldmia {acc}, {{s0-s6}}",
                "2:",
                "vldmia {dy}!, {{s8}}",
                "vldmia {x}, {{s12-s18}}",
                "add {x}, {x}, #4",
                "vmla.f32 s0, s8, s12",
                "vmla.f32 s1, s8, s13",
                "vmla.f32 s2, s8, s14",
                "vmla.f32 s3, s8, s15",
                "vmla.f32 s4, s8, s16",
                "vmla.f32 s5, s8, s17",
                "vmla.f32 s6, s8, s18",
                "subs {n}, {n}, #1",
                "bne 2b",
                "vstmia {acc}, {{s0-s6}}",
                acc = in(reg) acc.as_mut_ptr(),
                dy = inout(reg) dy.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = inout(reg) columns => _,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _, out("s5") _, out("s6") _, out("s8") _, out("s12") _, out("s13") _, out("s14") _, out("s15") _, out("s16") _, out("s17") _, out("s18") _,
                options(nostack),
            ),
            _ => unreachable!(),
        }
    }
    #[cfg(not(typenet_arm_fpu))]
    for j in 0..columns {
        for (kx, a) in acc[..taps].iter_mut().enumerate() {
            *a += dy[j] * x[j + kx];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Dims;
    use crate::kernel::conv;
    use crate::kernel::dense::plain;
    use crate::prelude::*;
    use std::vec::Vec;

    /// The values' bits, every NaN as one: Rust leaves a NaN's sign and
    /// payload unspecified (the compiler may swap an addition's operands),
    /// so only NaN-ness is compared.
    fn bits<'a>(v: impl IntoIterator<Item = &'a f32>) -> Vec<u32> {
        v.into_iter().map(|v| if v.is_nan() { f32::NAN.to_bits() } else { v.to_bits() }).collect()
    }

    /// The leaf's three products (the tiles modelled on the host) against
    /// the portable loops, bit for bit, on `n` samples of sizes that leave
    /// every kind of partial tile.
    fn dense_case<I: ArrayLength, O: ArrayLength>(n: usize) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64((n * 1000 + I::USIZE * 10 + O::USIZE) as u64);
        let mut w = Matrix::<f32, O, I>::default();
        crate::init::fill_uniform(w.as_flat_mut(), 1.0, &mut rng);
        let mut bias = Vector::<f32, O>::default();
        crate::init::fill_uniform(&mut bias, 1.0, &mut rng);
        let mut xs = std::vec![Vector::<f32, I>::default(); n];
        let mut dys = std::vec![Vector::<f32, O>::default(); n];
        xs.iter_mut().for_each(|x| crate::init::fill_uniform(x, 1.0, &mut rng));
        dys.iter_mut().for_each(|d| crate::init::fill_uniform(d, 1.0, &mut rng));
        let x_refs: Vec<&Vector<f32, I>> = xs.iter().collect();
        let dy_refs: Vec<&Vector<f32, O>> = dys.iter().collect();
        let shape = (n, I::USIZE, O::USIZE);

        let (mut leaf, mut portable) =
            (std::vec![Vector::<f32, O>::default(); n], std::vec![Vector::<f32, O>::default(); n]);
        super::dense_forward(&w, &bias, &x_refs, &mut leaf.iter_mut().collect::<Vec<_>>());
        plain::forward(&w, &bias, &x_refs, &mut portable.iter_mut().collect::<Vec<_>>());
        assert_eq!(bits(leaf.iter().flatten()), bits(portable.iter().flatten()), "forward {shape:?}");

        let (mut gw, mut gb) = (w.clone(), bias.clone());
        let (mut pgw, mut pgb) = (w.clone(), bias.clone());
        super::dense_grads(&mut gw, &mut gb, &x_refs, &dy_refs);
        plain::grads(&mut pgw, &mut pgb, &x_refs, &dy_refs);
        assert_eq!(bits(gw.as_flat()), bits(pgw.as_flat()), "grads {shape:?}");
        assert_eq!(bits(&gb), bits(&pgb), "bias grads {shape:?}");

        let (mut leaf, mut portable) =
            (std::vec![Vector::<f32, I>::default(); n], std::vec![Vector::<f32, I>::default(); n]);
        super::dense_input_grads(&w, &dy_refs, &mut leaf.iter_mut().collect::<Vec<_>>());
        plain::input_grads(&w, &dy_refs, &mut portable.iter_mut().collect::<Vec<_>>());
        assert_eq!(bits(leaf.iter().flatten()), bits(portable.iter().flatten()), "input grads {shape:?}");
    }

    #[test]
    fn dense_tiles_equal_the_portable_loops_bit_for_bit() {
        for n in [1, 2, 3, 16] {
            dense_case::<U1, U1>(n);
            dense_case::<U7, U3>(n);
            dense_case::<U8, U4>(n);
            dense_case::<U15, U5>(n);
            dense_case::<U16, U9>(n);
            dense_case::<U37, U13>(n);
            dense_case::<U64, U10>(n);
            dense_case::<U64, U64>(n);
            dense_case::<U100, U19>(n);
        }
    }

    /// A convolution's sizes: `k` the kernel's `(rows, columns)`, stride
    /// and padding `(rows, columns)`.
    fn dims(
        c_in: usize,
        c_out: usize,
        h: usize,
        w: usize,
        k: (usize, usize),
        s: (usize, usize),
        p: (usize, usize),
    ) -> Dims {
        let (oh, ow) = ((h + 2 * p.0 - k.0) / s.0 + 1, (w + 2 * p.1 - k.1) / s.1 + 1);
        Dims { c_in, c_out, h, w, kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1, oh, ow }
    }

    /// Uniform in ±1, or with `special` one value in four a NaN, an
    /// infinity, a signed zero or a subnormal.
    fn values(n: usize, special: bool, rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
        const SPECIAL: [f32; 6] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, 1e-40];
        (0..n)
            .map(|_| {
                if special && rng.random_range(0..4) == 0 {
                    SPECIAL[rng.random_range(0..SPECIAL.len())]
                } else {
                    rng.random_range(-1.0..1.0)
                }
            })
            .collect()
    }

    /// The leaf's convolution, forward and backward (the tiles modelled on
    /// the host), against the runs form on `n` samples, bit for bit; a
    /// declined shape must leave everything untouched.
    fn conv_case(d: Dims, n: usize, special: bool) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64((d.c_in * 7 + d.h * 5 + d.kw * 3 + n) as u64);
        let taps = d.c_in * d.kh * d.kw;
        let (xlen, ylen) = (d.c_in * d.h * d.w, d.c_out * d.oh * d.ow);
        let w = values(d.c_out * taps, special, &mut rng);
        let bias = values(d.c_out, special, &mut rng);
        let xs: Vec<Vec<f32>> = (0..n).map(|_| values(xlen, special, &mut rng)).collect();
        let dys: Vec<Vec<f32>> = (0..n).map(|_| values(ylen, special, &mut rng)).collect();
        let x_refs: Vec<&[f32]> = xs.iter().map(|x| x.as_slice()).collect();
        let dy_refs: Vec<&[f32]> = dys.iter().map(|x| x.as_slice()).collect();

        let (mut leaf, mut runs) = (std::vec![std::vec![7.0f32; ylen]; n], std::vec![std::vec![7.0f32; ylen]; n]);
        let ran = super::conv_forward(
            d,
            &w,
            &bias,
            &x_refs,
            &mut leaf.iter_mut().map(|y| y.as_mut_slice()).collect::<Vec<_>>(),
        );
        if ran {
            for (x, y) in x_refs.iter().zip(runs.iter_mut()) {
                conv::forward_runs(d, &w, &bias, x, y);
            }
        }
        assert_eq!(bits(leaf.iter().flatten()), bits(runs.iter().flatten()), "forward {d:?} n={n} special={special}");

        let gw0 = values(d.c_out * taps, special, &mut rng);
        let gb0 = values(d.c_out, special, &mut rng);
        let (mut gw, mut gb, mut dx) = (gw0.clone(), gb0.clone(), std::vec![std::vec![7.0f32; xlen]; n]);
        let (mut rgw, mut rgb, mut rdx) = (gw0.clone(), gb0.clone(), std::vec![std::vec![7.0f32; xlen]; n]);
        let mut dx_refs: Vec<&mut [f32]> = dx.iter_mut().map(|v| v.as_mut_slice()).collect();
        let ran = super::conv_backward(d, &w, &x_refs, &dy_refs, &mut gw, &mut gb, Some(&mut dx_refs));
        if ran {
            for ((x, dy), dx) in x_refs.iter().zip(&dy_refs).zip(rdx.iter_mut()) {
                dx.fill(0.0);
                conv::backward_runs(d, &w, x, dy, &mut rgw, &mut rgb, Some(dx));
            }
        }
        let what = std::format!("{d:?} n={n} special={special}");
        assert_eq!(bits(&gw), bits(&rgw), "weight grads {what}");
        assert_eq!(bits(&gb), bits(&rgb), "bias grads {what}");
        assert_eq!(bits(dx.iter().flatten()), bits(rdx.iter().flatten()), "input grads {what}");
        // Without the input gradient.
        let (mut gw2, mut gb2) = (gw0.clone(), gb0.clone());
        if super::conv_backward(d, &w, &x_refs, &dy_refs, &mut gw2, &mut gb2, None) {
            assert_eq!(bits(&gw2), bits(&rgw), "weight grads without dx {what}");
        }
    }

    #[test]
    fn conv_tiles_equal_the_runs_form_bit_for_bit() {
        let shapes = [
            dims(1, 2, 5, 5, (3, 3), (1, 1), (0, 0)),
            dims(2, 3, 8, 8, (3, 3), (1, 1), (1, 1)),
            dims(3, 2, 6, 10, (5, 5), (1, 1), (2, 2)),
            dims(2, 2, 7, 9, (1, 1), (1, 1), (0, 0)),
            dims(1, 2, 12, 21, (3, 3), (1, 1), (1, 1)),
            dims(2, 1, 9, 17, (3, 5), (1, 1), (0, 2)),
            dims(2, 3, 6, 6, (7, 7), (1, 1), (3, 3)),
            dims(1, 1, 4, 3, (5, 5), (1, 1), (1, 1)),
            dims(2, 2, 9, 13, (3, 3), (2, 1), (1, 1)),
            dims(2, 2, 9, 13, (3, 3), (2, 2), (1, 1)),
            dims(1, 2, 6, 14, (5, 8), (1, 1), (2, 2)),
            dims(3, 4, 1, 30, (1, 5), (1, 1), (0, 2)),
            // Rows with 8 interior columns or more for every kernel width
            // the weight gradients' registers take (1 to 7).
            dims(2, 2, 3, 20, (1, 1), (1, 1), (0, 0)),
            dims(2, 2, 4, 20, (2, 2), (1, 1), (0, 0)),
            dims(1, 1, 5, 20, (4, 4), (1, 1), (1, 1)),
            dims(1, 2, 6, 20, (5, 5), (1, 1), (2, 2)),
            dims(1, 1, 7, 22, (6, 6), (1, 1), (2, 2)),
            dims(1, 1, 9, 24, (7, 7), (1, 1), (3, 3)),
        ];
        for d in shapes {
            for n in [1, 3] {
                conv_case(d, n, false);
                conv_case(d, n, true);
            }
        }
    }

    #[test]
    fn sqrt_is_correctly_rounded() {
        for x in [0.0f32, -0.0, 1.0, 2.0, 1e-30, 3.4e38, f32::MIN_POSITIVE / 3.0, f32::INFINITY] {
            assert_eq!(super::sqrt(x).to_bits(), x.sqrt().to_bits(), "{x}");
        }
        assert!(super::sqrt(-1.0).is_nan() && super::sqrt(f32::NAN).is_nan());
    }
}
