//! The Cortex-M leaf of the `f32` kernels (cores with a single-precision
//! FPU: Cortex-M4F, M7, M33, M55): the `Dense` products, forward and
//! backward, register-blocked in `asm!` on stable Rust, and the FPU's
//! square root. Compiled where `build.rs` sets `cfg(typenet_arm_fpu)` (the
//! hard-float Thumb targets); on other targets the host tests run its
//! planning with the instructions modelled, and the firmware example
//! checks the real instructions against the portable loops on the emulated
//! Cortex-M4F.
//!
//! # Design
//!
//! The portable loops (`dense::plain`) load two values per multiply-add,
//! round the product, add, and keep one accumulator; the Cortex-M4 runs
//! them at about 8.5 instructions per multiply-add. Here:
//!
//! 1. `VLDM` loads eight consecutive values into eight `s` registers in one
//!    instruction, and `VMLA.F32` multiplies and adds in one. A tile keeps
//!    several accumulators in registers, so each loaded value serves
//!    several of them:
//!    - forward, `y = b + W·x`: four rows × eight inputs per pass, the eight
//!      inputs loaded once for the four rows: 39 instructions for 32
//!      multiply-adds (1.22 each) with the loop;
//!    - input gradients, `dx = Wᵀ·dy`: sixteen columns in registers while
//!      the rows go by, 22 instructions per row (1.38 per multiply-add);
//!    - weight gradients, `dW += Σ_b dy_b·x_bᵀ`: sixteen columns of a row
//!      in registers while the samples go by, 25 instructions per sample
//!      (1.56 per multiply-add).
//! 2. Each output is summed in the portable loops' order, from the same
//!    start, and `VMLA.F32` is not fused: it rounds the product, then the
//!    sum, as the portable `acc + w * x` does (`VFMA.F32` would round once).
//!    So every result equals the portable loops' bit for bit, NaNs and
//!    signed zeros included; the tests and the firmware check say so with
//!    `to_bits`. Rows, columns and inputs past the last whole tile are
//!    summed in Rust in the same order.
//! 3. Every `asm!` block clobbers the `s` registers it uses, so the
//!    compiler saves the callee-saved ones (`s16`–`s31`) around it; its
//!    loops count down a register and end on `BNE`, with a count checked
//!    non-zero before.
//!
//! `VSQRT.F32` ([`sqrt`]) is correctly rounded, as `libm`'s `sqrtf` and
//! `std`'s `f32::sqrt` are (IEEE 754 requires it), so it gives their bits
//! in one instruction instead of about 76.

#[cfg(typenet_arm_fpu)]
use core::arch::asm;

use generic_array::ArrayLength;

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
        dense_grads(gw, gb, xs, dys);
        true
    }
    #[inline(always)]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) -> bool {
        dense_input_grads(w, dys, dxs);
        true
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
/// API.
#[cfg(typenet_arm_fpu)]
pub mod check {
    use generic_array::ArrayLength;

    use crate::kernel::dense::plain;
    use crate::shape::{Matrix, Vector};

    /// The leaf the `f32` kernels run in this build.
    pub const KERNEL: &str = "cortex-m-fpu";

    /// The leaf's `ys[b] = W·xs[b] + bias`.
    pub fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        super::dense_forward(w, bias, xs, ys);
    }
    /// The portable loops' `ys[b] = W·xs[b] + bias`.
    pub fn dense_forward_portable<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        plain::forward(w, bias, xs, ys);
    }
    /// The leaf's `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`.
    pub fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        super::dense_grads(gw, gb, xs, dys);
    }
    /// The portable loops' `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`.
    pub fn dense_grads_portable<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        plain::grads(gw, gb, xs, dys);
    }
    /// The leaf's `dxs[b] = Wᵀ·dys[b]`.
    pub fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        super::dense_input_grads(w, dys, dxs);
    }
    /// The portable loops' `dxs[b] = Wᵀ·dys[b]`.
    pub fn dense_input_grads_portable<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        plain::input_grads(w, dys, dxs);
    }
    /// `VSQRT.F32`.
    pub fn sqrt(x: f32) -> f32 {
        super::sqrt(x)
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
                acc = acc + wi * xi;
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
                acc = acc + row[i] * d;
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
            *a = *a + wi * xi;
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
        *acc = *acc + wi * xi;
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
            *a = *a + wj * dk;
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
            *a = *a + dy[o] * xj;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::kernel::dense::plain;
    use crate::prelude::*;
    use std::vec::Vec;

    fn bits<'a>(v: impl IntoIterator<Item = &'a f32>) -> Vec<u32> {
        v.into_iter().map(|v| v.to_bits()).collect()
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

    #[test]
    fn sqrt_is_correctly_rounded() {
        for x in [0.0f32, -0.0, 1.0, 2.0, 1e-30, 3.4e38, f32::MIN_POSITIVE / 3.0, f32::INFINITY] {
            assert_eq!(super::sqrt(x).to_bits(), x.sqrt().to_bits(), "{x}");
        }
        assert!(super::sqrt(-1.0).is_nan() && super::sqrt(f32::NAN).is_nan());
    }
}
