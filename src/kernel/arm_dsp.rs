//! The Armv7E-M DSP leaf of the int8 kernels (Cortex-M4, Cortex-M7): the
//! int8 matrix-vector product with `SMLAD` (two 16-bit multiply-adds into
//! one 32-bit sum) on sign-extended pairs (`SXTB16`), in `asm!` on stable
//! Rust. Compiled only where `build.rs` sets `cfg(typenet_arm_dsp)`; every
//! other target runs the portable loops of `int8.rs`, which the firmware
//! example checks this leaf against bit for bit, on the emulated core.
//!
//! # Design
//!
//! A block is two weight rows (two output channels), and a pass over it
//! reads the input once (CMSIS-NN's `arm_nn_vec_mat_mult_t_s8` blocks
//! rows the same way):
//!
//! 1. The input, up to [`CHUNK`] values at a time, is sign-extended once
//!    per call into a stack buffer of halfword pairs, in the order
//!    `SXTB16` gives: four inputs `x0 x1 x2 x3` become the words
//!    `(x0, x2)` and `(x1, x3)`.
//! 2. Each pass of the inner loop loads eight widened inputs with one
//!    `LDM` (four words), and for each of the two rows loads eight weights
//!    (two `LDR`, which allow any alignment), widens them with four
//!    `SXTB16` (`ROR #8` for the odd bytes) and adds sixteen products with
//!    four `SMLAD`: 21 instructions for 16 multiply-adds. The loop body is
//!    unrolled twice (an odd number of passes enters in the middle), so
//!    its compare and branch cost 2 instructions per 32 multiply-adds:
//!    42 + 2 = 44 instructions per 32, 1.375 each.
//! 3. Inputs past the last multiple of eight (at most seven per row) take
//!    the portable [`int8::dot`](super::int8::dot).
//!
//! The loop needs twelve registers (the pointers to the input, its end and
//! the two rows, two sums, four input words, two scratch), every one the
//! compiler lets `asm!` have on Thumb (not `r6`, `r7`, `sp`, `pc`).
//!
//! `SMLAD` adds modulo 2³² (it only sets the sticky Q flag on overflow),
//! as `i32::wrapping_add` does, so the sums are the portable ones bit for
//! bit whatever the order of the terms.

use core::arch::asm;
use core::mem::MaybeUninit;

use super::int8;

/// The inputs sign-extended per pass: a stack buffer of `2 · CHUNK` bytes.
/// A longer input takes several passes over the rows (each adds its part
/// to the sums).
const CHUNK: usize = 256;

/// `acc[o] += Σᵢ w[o·n + i] · x[i]` for each row `o` (`n = x.len()`;
/// rows `acc.len()`, or as many whole rows as `w` holds if fewer), as
/// `int8::matvec_portable`, bit for bit.
#[inline]
pub(crate) fn matvec(w: &[i8], x: &[i8], acc: &mut [i32]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let rows = acc.len().min(w.len() / n);
    let acc = &mut acc[..rows];
    let main = n - n % 8;
    let mut buffer = [MaybeUninit::<u32>::uninit(); CHUNK / 2];
    let mut start = 0;
    while start < main {
        let len = (main - start).min(CHUNK);
        let widened = widen(&x[start..start + len], &mut buffer);
        let w = &w[start..];
        let pairs = rows / 2;
        if pairs > 0 {
            rows2(w, n, len, pairs, widened, &mut acc[..2 * pairs]);
        }
        if rows % 2 == 1 {
            // The odd last row runs as both rows of a block of its own.
            let o = rows - 1;
            let mut pair = [acc[o]; 2];
            rows2(&w[o * n..], 0, len, 1, widened, &mut pair);
            acc[o] = pair[0];
        }
        start += len;
    }
    if main < n {
        let tail = &x[main..];
        for (o, sum) in acc.iter_mut().enumerate() {
            *sum = sum.wrapping_add(int8::dot(&w[o * n + main..][..n - main], tail));
        }
    }
}

/// Sign-extends `x` (a non-zero multiple of four values, at most
/// [`CHUNK`]) into the start of `buffer`, two words per four values:
/// `(x0, x2)` and `(x1, x3)` as halfword pairs; returns the words written.
#[inline(always)]
fn widen<'a>(x: &[i8], buffer: &'a mut [MaybeUninit<u32>; CHUNK / 2]) -> &'a [u32] {
    let len = x.len();
    assert!(len > 0 && len.is_multiple_of(4) && len <= CHUNK);
    let words = len / 2;
    let out = buffer.as_mut_ptr().cast::<u32>();
    // SAFETY: `x` holds `len` bytes, read a word at a time (`LDR`, which
    // any alignment allows on Armv7-M); `buffer` has room for the
    // `len / 2 ≤ CHUNK / 2` words written (`STRD`, word-aligned as a `u32`
    // array is). The loop stops when `x` reaches its end, a whole number
    // of words on. Armv7E-M instructions (`cfg(typenet_arm_dsp)`); flags
    // change, the stack does not.
    unsafe {
        asm!(
            "2:",
            "ldr {t}, [{x}], #4",
            "sxtb16 {even}, {t}",
            "sxtb16 {odd}, {t}, ror #8",
            "strd {even}, {odd}, [{out}], #8",
            "cmp {x}, {end}",
            "bne 2b",
            x = inout(reg) x.as_ptr() => _,
            end = in(reg) x.as_ptr().add(len),
            out = inout(reg) out => _,
            t = out(reg) _,
            even = out(reg) _,
            odd = out(reg) _,
            options(nostack),
        );
    }
    // SAFETY: the loop above initialised the first `words` words.
    unsafe { core::slice::from_raw_parts(out, words) }
}

/// One row's eight multiply-adds: weights from `{w}` (advanced by 8),
/// widened inputs in `r2..=r5`, sum in `{a}`; `{t}`, `{s}` scratch.
macro_rules! row8 {
    ($w:literal, $a:literal) => {
        concat!(
            "ldr {t}, [",
            $w,
            "], #4\n",
            "sxtb16 {s}, {t}\n",
            "smlad ",
            $a,
            ", {s}, r2, ",
            $a,
            "\n",
            "sxtb16 {t}, {t}, ror #8\n",
            "smlad ",
            $a,
            ", {t}, r3, ",
            $a,
            "\n",
            "ldr {t}, [",
            $w,
            "], #4\n",
            "sxtb16 {s}, {t}\n",
            "smlad ",
            $a,
            ", {s}, r4, ",
            $a,
            "\n",
            "sxtb16 {t}, {t}, ror #8\n",
            "smlad ",
            $a,
            ", {t}, r5, ",
            $a,
            "\n",
        )
    };
}

/// `acc[2k] += Σᵢ w[2k·n + i]·x[i]` and `acc[2k + 1] += Σᵢ w[(2k + 1)·n +
/// i]·x[i]` (wrapping) over `i < len` for each block `k < pairs`, with
/// `x` as [`widen`] wrote it (`len / 2` words). Rows start `n` bytes
/// apart in `w`; `n = 0` with one block runs one row as both.
///
/// One `asm!` block for all the blocks: the loop over the blocks keeps its
/// state (the input's start, the sums' pointer, the blocks left, the step
/// to the next block, the entry) in a 24-byte frame on the stack, as the
/// inner loop holds every register `asm!` may have.
#[inline(always)]
fn rows2(w: &[i8], n: usize, len: usize, pairs: usize, widened: &[u32], acc: &mut [i32]) {
    assert!(len > 0 && len.is_multiple_of(8) && widened.len() == len / 2 && pairs > 0 && acc.len() == 2 * pairs);
    assert!(w.len() >= (2 * pairs - 1) * n + len);
    let x = widened.as_ptr();
    // An odd number of groups of eight enters the unrolled body in the
    // middle.
    let odd = (len / 8) % 2;
    // From the end of one block's rows to the start of the next's.
    let skip = (2 * n).wrapping_sub(len);
    // SAFETY: checked above: block `k` reads `w[2k·n..][..len]` and
    // `w[(2k + 1)·n..][..len]` (`LDR`, any alignment), within `w`; every
    // block reads `widened` (`LDM`, word-aligned as a `u32` slice is) from
    // its start until `x` reaches `end`, a whole number of groups on (`len`
    // is a non-zero multiple of eight); it reads and writes `acc[..2 ·
    // pairs]` (`LDRD`/`STRD`, word-aligned as an `i32` slice is), and a
    // 24-byte frame below the stack pointer, which it restores. The
    // instructions are Armv7E-M's (`cfg(typenet_arm_dsp)`); flags change.
    unsafe {
        asm!(
            "sub sp, sp, #24",
            "str {x}, [sp, #0]",
            "str {s0}, [sp, #4]",
            "str {s1}, [sp, #8]",
            "str {t}, [sp, #12]",
            "str {s}, [sp, #16]",
            // A block: its sums, then groups of eight inputs.
            "1:",
            "ldr {x}, [sp, #0]",
            "ldr {t}, [sp, #4]",
            "ldrd {s0}, {s1}, [{t}]",
            "ldr {t}, [sp, #16]",
            "cmp {t}, #0",
            "bne 3f",
            "2:",
            "ldm {x}!, {{r2, r3, r4, r5}}",
            row8!("{w1}", "{s1}"),
            row8!("{w0}", "{s0}"),
            "3:",
            "ldm {x}!, {{r2, r3, r4, r5}}",
            row8!("{w1}", "{s1}"),
            row8!("{w0}", "{s0}"),
            "cmp {x}, {end}",
            "bne 2b",
            // Store the sums, step to the next block.
            "ldr {t}, [sp, #4]",
            "strd {s0}, {s1}, [{t}], #8",
            "str {t}, [sp, #4]",
            "ldr {t}, [sp, #12]",
            "add {w0}, {w0}, {t}",
            "add {w1}, {w1}, {t}",
            "ldr {t}, [sp, #8]",
            "subs {t}, {t}, #1",
            "str {t}, [sp, #8]",
            "bne 1b",
            "add sp, sp, #24",
            x = inout(reg) x => _,
            end = in(reg) x.add(len / 2),
            w0 = inout(reg) w.as_ptr() => _,
            w1 = inout(reg) w.as_ptr().add(n) => _,
            s0 = inout(reg) acc.as_mut_ptr() => _,
            s1 = inout(reg) pairs => _,
            t = inout(reg) skip => _,
            s = inout(reg) odd => _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
        );
    }
}
