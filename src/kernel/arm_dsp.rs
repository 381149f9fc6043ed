//! The Armv7E-M DSP leaf of the int8 kernels (Cortex-M4, Cortex-M7): the
//! int8 matrix-vector products with `SMLAD` (two 16-bit multiply-adds into
//! one 32-bit sum) on sign-extended pairs (`SXTB16`), in `asm!` on stable
//! Rust. Compiled only where `build.rs` sets `cfg(typenet_arm_dsp)`; every
//! other target runs the portable loops of `int8.rs`, which the firmware
//! example checks this leaf against bit for bit, on the emulated core (and
//! the host tests check this file's planning, the instructions modelled).
//!
//! # Design
//!
//! CMSIS-NN's blocking (`arm_nn_vec_mat_mult_t_s8`, and the two-column
//! `arm_nn_mat_mult_kernel_s8_s16` of its convolutions):
//!
//! 1. The input, up to [`CHUNK`] values at a time, is sign-extended once
//!    per call into a stack buffer of halfword pairs, in the order
//!    `SXTB16` gives: four inputs `x0 x1 x2 x3` become the words
//!    `(x0, x2)` and `(x1, x3)` (7 instructions per 4 inputs).
//! 2. [`matvec`] (a `Dense`): blocks of two rows. A pass of the inner loop
//!    loads eight widened inputs with one `LDM` and, for each of the two
//!    rows, eight weights with two `LDR` (any alignment), widens them with
//!    four `SXTB16` (`ROR #8` for the odd bytes) and adds sixteen products
//!    with four `SMLAD`: 21 instructions for 16 multiply-adds; unrolled
//!    twice with one compare and branch: 44 per 32, 1.375 each.
//! 3. [`matvec2`] (a convolution, two output positions at once): blocks of
//!    two rows and two inputs. Per four inputs and row: one `LDR` and two
//!    `SXTB16` widen four weights, used for both inputs: two `LDRD` (the
//!    two inputs' widened words sit side by side) and four `SMLAD`, 9
//!    instructions for 8 multiply-adds; unrolled four times (an odd
//!    number of groups of eight enters in the middle), 74 per 64 with the
//!    loop, 1.16 each.
//! 4. The loop over the blocks runs inside the same `asm!`, its state in a
//!    small frame on the stack (the inner loop holds all twelve registers
//!    the compiler lets `asm!` have on Thumb: not `r6`, `r7`, `sp`, `pc`):
//!    16 (23) instructions per block and pass.
//! 5. A row's length past its last whole group of eight: the input is
//!    padded with zeros to the group, and the row's last group reads on
//!    into the next row's weights, which meet those zeros. The last block
//!    has no next row: it takes the whole groups only, and its tail goes
//!    through the portable `dot`.
//!
//! `SMLAD` adds modulo 2³² (it only sets the sticky Q flag on overflow),
//! as `i32::wrapping_add` does, so the sums are the portable ones bit for
//! bit whatever the order of the terms.

#[cfg(typenet_arm_dsp)]
use core::arch::asm;
use core::mem::MaybeUninit;

use super::int8;

/// The inputs sign-extended per pass (of each input of [`matvec2`]): a
/// stack buffer of `2 · CHUNK` bytes (twice that for [`matvec2`]). A longer
/// input takes several passes over the rows, each adding its part.
const CHUNK: usize = 256;

/// The stack buffer of [`matvec`]'s widened input.
type Buffer = [MaybeUninit<u32>; CHUNK / 2];

/// The stack buffer of [`matvec2`]'s two widened inputs.
type Buffer2 = [MaybeUninit<u32>; CHUNK];

/// How a matrix-vector product of `rows` rows is cut.
#[derive(Clone, Copy)]
struct Plan {
    rows: usize,
    /// Inputs in whole groups of eight.
    main: usize,
    /// Inputs with the last group's tail padded by zeros.
    padded: usize,
    /// Rows of the last block, which takes the whole groups and a
    /// portable tail (the others take the padded groups): 0, 1 or 2.
    last: usize,
}

impl Plan {
    fn new(n: usize, rows: usize) -> Plan {
        let main = n - n % 8;
        let last = match (n == main, rows % 2) {
            (true, r) => r,
            (false, 1) => 1,
            (false, _) => 2.min(rows),
        };
        Plan { rows, main, padded: n.next_multiple_of(8), last }
    }

    /// Rows before the last block: whole blocks of two.
    fn padded_rows(&self) -> usize {
        self.rows - self.last
    }

    /// The inputs of the last block in the pass from `start` of `len`.
    fn whole(&self, start: usize, len: usize) -> usize {
        len.min(self.main.saturating_sub(start))
    }
}

/// `acc[o] += Σᵢ w[o·n + i] · x[i]` for each row `o` (`n = x.len()`;
/// rows `acc.len()`, or as many whole rows as `w` holds if fewer), as
/// `int8::matvec_portable`, bit for bit.
#[inline]
pub(crate) fn matvec(w: &[i8], x: &[i8], acc: &mut [i32]) {
    let n = x.len();
    if n < 8 {
        // No group of eight: the portable loop.
        return int8::matvec_portable(w, x, acc);
    }
    let rows = acc.len().min(w.len() / n);
    if rows == 0 {
        return;
    }
    let acc = &mut acc[..rows];
    let plan = Plan::new(n, rows);
    let padded_rows = plan.padded_rows();
    let mut buffer: Buffer = [MaybeUninit::uninit(); CHUNK / 2];
    let mut start = 0;
    while start < plan.padded {
        let len = (plan.padded - start).min(CHUNK);
        let widened = widen(&x[start..(start + len).min(n)], len, &mut buffer);
        let w = &w[start..];
        if padded_rows > 0 {
            rows2(w, n, len, padded_rows / 2, widened, &mut acc[..padded_rows]);
        }
        let whole = plan.whole(start, len);
        if plan.last > 0 && whole > 0 {
            let (w, widened, first) = (&w[padded_rows * n..], &widened[..whole / 2], padded_rows);
            if plan.last == 2 {
                rows2(w, n, whole, 1, widened, &mut acc[first..]);
            } else {
                // One row runs as both rows of a block.
                let mut pair = [acc[first]; 2];
                rows2(w, 0, whole, 1, widened, &mut pair);
                acc[first] = pair[0];
            }
        }
        start += len;
    }
    if plan.main < n {
        let tail = &x[plan.main..];
        for (o, sum) in acc.iter_mut().enumerate().skip(padded_rows) {
            *sum = sum.wrapping_add(int8::dot(&w[o * n + plan.main..][..n - plan.main], tail));
        }
    }
}

/// [`matvec`] for two inputs of one length, `x0` into `acc0` and `x1` into
/// `acc1` (sums of one length; else the portable loops), as
/// `int8::matvec2_portable`, bit for bit: each weight is loaded and widened
/// once for both.
#[inline]
pub(crate) fn matvec2(w: &[i8], x0: &[i8], x1: &[i8], acc0: &mut [i32], acc1: &mut [i32]) {
    let n = x0.len();
    if n < 8 || x1.len() != n || acc1.len() != acc0.len() {
        return int8::matvec2_portable(w, x0, x1, acc0, acc1);
    }
    let rows = acc0.len().min(w.len() / n);
    if rows == 0 {
        return;
    }
    let (acc0, acc1) = (&mut acc0[..rows], &mut acc1[..rows]);
    let plan = Plan::new(n, rows);
    let padded_rows = plan.padded_rows();
    let mut buffer: Buffer2 = [MaybeUninit::uninit(); CHUNK];
    let mut start = 0;
    while start < plan.padded {
        let len = (plan.padded - start).min(CHUNK);
        let end = (start + len).min(n);
        let widened = widen2(&x0[start..end], &x1[start..end], len, &mut buffer);
        let w = &w[start..];
        if padded_rows > 0 {
            block2x2(w, n, len, padded_rows / 2, widened, &mut acc0[..padded_rows], &mut acc1[..padded_rows]);
        }
        let whole = plan.whole(start, len);
        if plan.last > 0 && whole > 0 {
            let (w, widened, first) = (&w[padded_rows * n..], &widened[..whole], padded_rows);
            if plan.last == 2 {
                block2x2(w, n, whole, 1, widened, &mut acc0[first..], &mut acc1[first..]);
            } else {
                let (mut pair0, mut pair1) = ([acc0[first]; 2], [acc1[first]; 2]);
                block2x2(w, 0, whole, 1, widened, &mut pair0, &mut pair1);
                (acc0[first], acc1[first]) = (pair0[0], pair1[0]);
            }
        }
        start += len;
    }
    if plan.main < n {
        let (tail0, tail1) = (&x0[plan.main..], &x1[plan.main..]);
        for o in padded_rows..rows {
            let row = &w[o * n + plan.main..][..n - plan.main];
            acc0[o] = acc0[o].wrapping_add(int8::dot(row, tail0));
            acc1[o] = acc1[o].wrapping_add(int8::dot(row, tail1));
        }
    }
}

/// The words `(x0, x2)`, `(x1, x3)` of the last one to three values of a
/// group of four, zeros after them.
fn widen_rest(rest: &[i8]) -> [u32; 2] {
    let at = |i: usize| rest.get(i).map_or(0, |&v| v as i16 as u16 as u32);
    [at(0) | (at(2) << 16), at(1) | (at(3) << 16)]
}

/// Sign-extends `x` (at most `len` values, `len` a non-zero multiple of
/// eight and at most [`CHUNK`]) into the start of `buffer` as `len / 2`
/// words, zeros after `x`: two words per four values, `(x0, x2)` and
/// `(x1, x3)` as halfword pairs. Returns the words.
#[inline(always)]
fn widen<'a>(x: &[i8], len: usize, buffer: &'a mut Buffer) -> &'a [u32] {
    assert!(len > 0 && len.is_multiple_of(8) && len <= CHUNK && x.len() <= len);
    let quads = x.len() / 4;
    if quads > 0 {
        widen_words(&x[..4 * quads], &mut buffer[..2 * quads]);
    }
    let mut rest = widen_rest(&x[4 * quads..]).into_iter();
    for word in &mut buffer[2 * quads..len / 2] {
        word.write(rest.next().unwrap_or(0));
    }
    // SAFETY: the first `2 · quads` words were written by `widen_words`,
    // the rest up to `len / 2` by the loop above.
    unsafe { core::slice::from_raw_parts(buffer.as_ptr().cast::<u32>(), len / 2) }
}

/// [`widen`] for two inputs of one length, interleaved: per four values
/// the words `(x0, x2)` of `a`, of `b`, then `(x1, x3)` of `a`, of `b`:
/// `len` words (`len ≤ CHUNK`).
#[inline(always)]
fn widen2<'a>(a: &[i8], b: &[i8], len: usize, buffer: &'a mut Buffer2) -> &'a [u32] {
    assert!(len > 0 && len.is_multiple_of(8) && len <= CHUNK && a.len() <= len && b.len() == a.len());
    let quads = a.len() / 4;
    if quads > 0 {
        widen_words2(&a[..4 * quads], &b[..4 * quads], &mut buffer[..4 * quads]);
    }
    let ([a0, a1], [b0, b1]) = (widen_rest(&a[4 * quads..]), widen_rest(&b[4 * quads..]));
    let mut rest = [a0, b0, a1, b1].into_iter();
    for word in &mut buffer[4 * quads..len] {
        word.write(rest.next().unwrap_or(0));
    }
    // SAFETY: the first `4 · quads` words were written by `widen_words2`,
    // the rest up to `len` by the loop above.
    unsafe { core::slice::from_raw_parts(buffer.as_ptr().cast::<u32>(), len) }
}

/// Writes `out[2k]`, `out[2k + 1]` = the words `(x0, x2)`, `(x1, x3)` of
/// each four values of `x` (a non-zero multiple of four, `out` half as
/// long).
#[cfg(typenet_arm_dsp)]
#[inline(always)]
fn widen_words(x: &[i8], out: &mut [MaybeUninit<u32>]) {
    assert!(!x.is_empty() && x.len().is_multiple_of(4) && out.len() == x.len() / 2);
    // SAFETY: checked above: reads `x` a word at a time (`LDR`, which any
    // alignment allows on Armv7-M) and writes every word of `out` (`STRD`,
    // word-aligned as `u32`s are); the loop stops when `x` reaches `end`,
    // a whole number of words on. Armv7E-M instructions
    // (`cfg(typenet_arm_dsp)`); flags change, the stack does not.
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
            end = in(reg) x.as_ptr().add(x.len()),
            out = inout(reg) out.as_mut_ptr() => _,
            t = out(reg) _,
            even = out(reg) _,
            odd = out(reg) _,
            options(nostack),
        );
    }
}

/// Writes, per four values of `a` and `b` (each a non-zero multiple of
/// four, `out` as long as both), the words `(a0, a2)`, `(b0, b2)`,
/// `(a1, a3)`, `(b1, b3)`.
#[cfg(typenet_arm_dsp)]
#[inline(always)]
fn widen_words2(a: &[i8], b: &[i8], out: &mut [MaybeUninit<u32>]) {
    assert!(!a.is_empty() && a.len().is_multiple_of(4) && b.len() == a.len() && out.len() == a.len());
    // SAFETY: checked above: reads `a` and `b` a word at a time (`LDR`,
    // any alignment) and writes every word of `out` (`STRD`, word-aligned);
    // the loop stops when `a` reaches `end`, a whole number of words on.
    // Armv7E-M instructions; flags change, the stack does not.
    unsafe {
        asm!(
            "2:",
            "ldr {ta}, [{a}], #4",
            "ldr {tb}, [{b}], #4",
            "sxtb16 {ea}, {ta}",
            "sxtb16 {eb}, {tb}",
            "strd {ea}, {eb}, [{out}], #8",
            "sxtb16 {ea}, {ta}, ror #8",
            "sxtb16 {eb}, {tb}, ror #8",
            "strd {ea}, {eb}, [{out}], #8",
            "cmp {a}, {end}",
            "bne 2b",
            a = inout(reg) a.as_ptr() => _,
            b = inout(reg) b.as_ptr() => _,
            end = in(reg) a.as_ptr().add(a.len()),
            out = inout(reg) out.as_mut_ptr() => _,
            ta = out(reg) _,
            tb = out(reg) _,
            ea = out(reg) _,
            eb = out(reg) _,
            options(nostack),
        );
    }
}

/// One row's eight multiply-adds against one input: weights from `{w}`
/// (advanced by 8), widened inputs in `r2..=r5`, sum in `{a}`; `{t}`,
/// `{s}` scratch.
#[cfg(typenet_arm_dsp)]
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
#[cfg(typenet_arm_dsp)]
#[inline(always)]
fn rows2(w: &[i8], n: usize, len: usize, pairs: usize, widened: &[u32], acc: &mut [i32]) {
    assert!(len > 0 && len.is_multiple_of(8) && widened.len() >= len / 2 && pairs > 0 && acc.len() >= 2 * pairs);
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

/// One row's four multiply-adds against each of two inputs: weights from
/// `{w}` (advanced by 4), the two inputs' widened words at `{x}` (even
/// pairs at `+0`, odd at `+8`; `+16` after when `$post` says so), sums in
/// `$a` (first input) and `$b` (second); `{t}`, `{s}`, `{u}`, `{v}`
/// scratch.
#[cfg(typenet_arm_dsp)]
macro_rules! row4x2 {
    ($w:literal, $a:literal, $b:literal, $even:literal) => {
        concat!(
            "ldr {t}, [",
            $w,
            "], #4\n",
            "sxtb16 {s}, {t}, ror #8\n",
            "ldrd {u}, {v}, [{x}, #8]\n",
            "smlad ",
            $a,
            ", {s}, {u}, ",
            $a,
            "\n",
            "smlad ",
            $b,
            ", {s}, {v}, ",
            $b,
            "\n",
            "sxtb16 {s}, {t}\n",
            "ldrd {u}, {v}, ",
            $even,
            "\n",
            "smlad ",
            $a,
            ", {s}, {u}, ",
            $a,
            "\n",
            "smlad ",
            $b,
            ", {s}, {v}, ",
            $b,
            "\n",
        )
    };
}

/// `acc0[r] += Σᵢ w[r·n + i]·a[i]` and `acc1[r] += Σᵢ w[r·n + i]·b[i]`
/// (wrapping) over `i < len` for the rows `r` of each block `k < pairs`
/// (rows `2k`, `2k + 1`), with `a` and `b` as [`widen2`] wrote them (`len`
/// words). Rows start `n` bytes apart in `w`; `n = 0` with one block runs
/// one row as both. One `asm!` block for all the blocks, as [`rows2`],
/// with a 24-byte frame (the input's start, the two sums' pointers, the
/// blocks left, the step to the next block, the entry).
#[cfg(typenet_arm_dsp)]
#[inline(always)]
fn block2x2(w: &[i8], n: usize, len: usize, pairs: usize, widened: &[u32], acc0: &mut [i32], acc1: &mut [i32]) {
    assert!(len > 0 && len.is_multiple_of(8) && widened.len() >= len && pairs > 0);
    assert!(acc0.len() >= 2 * pairs && acc1.len() >= 2 * pairs && w.len() >= (2 * pairs - 1) * n + len);
    let x = widened.as_ptr();
    let skip = (2 * n).wrapping_sub(len);
    // An odd number of groups of eight enters the unrolled body in the
    // middle.
    let odd = (len / 8) % 2;
    // SAFETY: checked above: block `k` reads `w[2k·n..][..len]` and
    // `w[(2k + 1)·n..][..len]` (`LDR`, any alignment), within `w`; every
    // block reads `widened[..len]` (`LDRD`, word-aligned as a `u32` slice
    // is) from its start until `x` reaches `end`, a whole number of groups
    // of eight inputs (sixteen bytes of words each) on; it reads and writes
    // `acc0[..2 · pairs]` and `acc1[..2 · pairs]` (`LDRD`/`STRD`,
    // word-aligned), and a 24-byte frame below the stack pointer, which it
    // restores. Armv7E-M instructions (`cfg(typenet_arm_dsp)`); flags
    // change.
    unsafe {
        asm!(
            "sub sp, sp, #24",
            "str {x}, [sp, #0]",
            "str {a0}, [sp, #4]",
            "str {b0}, [sp, #8]",
            "str {a1}, [sp, #12]",
            "str {b1}, [sp, #16]",
            "str {t}, [sp, #20]",
            // A block: its four sums, then groups of eight inputs.
            "1:",
            "ldr {x}, [sp, #0]",
            "ldr {t}, [sp, #4]",
            "ldrd {a0}, {a1}, [{t}]",
            "ldr {t}, [sp, #8]",
            "ldrd {b0}, {b1}, [{t}]",
            "ldr {t}, [sp, #20]",
            "cmp {t}, #0",
            "bne 3f",
            "2:",
            row4x2!("{w1}", "{a1}", "{b1}", "[{x}]"),
            row4x2!("{w0}", "{a0}", "{b0}", "[{x}], #16"),
            row4x2!("{w1}", "{a1}", "{b1}", "[{x}]"),
            row4x2!("{w0}", "{a0}", "{b0}", "[{x}], #16"),
            "3:",
            row4x2!("{w1}", "{a1}", "{b1}", "[{x}]"),
            row4x2!("{w0}", "{a0}", "{b0}", "[{x}], #16"),
            row4x2!("{w1}", "{a1}", "{b1}", "[{x}]"),
            row4x2!("{w0}", "{a0}", "{b0}", "[{x}], #16"),
            "cmp {x}, {end}",
            "bne 2b",
            // Store the sums, step to the next block.
            "ldr {t}, [sp, #4]",
            "strd {a0}, {a1}, [{t}], #8",
            "str {t}, [sp, #4]",
            "ldr {t}, [sp, #8]",
            "strd {b0}, {b1}, [{t}], #8",
            "str {t}, [sp, #8]",
            "ldr {t}, [sp, #16]",
            "add {w0}, {w0}, {t}",
            "add {w1}, {w1}, {t}",
            "ldr {t}, [sp, #12]",
            "subs {t}, {t}, #1",
            "str {t}, [sp, #12]",
            "bne 1b",
            "add sp, sp, #24",
            x = inout(reg) x => _,
            end = in(reg) x.add(len),
            w0 = inout(reg) w.as_ptr() => _,
            w1 = inout(reg) w.as_ptr().add(n) => _,
            a0 = inout(reg) acc0.as_mut_ptr() => _,
            b0 = inout(reg) acc1.as_mut_ptr() => _,
            a1 = inout(reg) pairs => _,
            b1 = inout(reg) skip => _,
            t = inout(reg) odd => _,
            s = out(reg) _,
            u = out(reg) _,
            v = out(reg) _,
        );
    }
}

/// `SXTB16` of `word` (`ror` 0 or 8): bytes 0 and 2 (or 1 and 3) as two
/// sign-extended halfwords. The host tests' model of the instruction.
#[cfg(not(typenet_arm_dsp))]
fn sxtb16(word: u32, ror: u32) -> u32 {
    let word = word.rotate_right(ror);
    (word as i8 as i16 as u16 as u32) | ((((word >> 16) as i8) as i16 as u16 as u32) << 16)
}

/// `SMLAD`: `acc` plus the products of the halfwords of `a` and `b`,
/// modulo 2³². The host tests' model of the instruction.
#[cfg(not(typenet_arm_dsp))]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let (a0, a1, b0, b1) = (a as i16 as i32, (a >> 16) as i16 as i32, b as i16 as i32, (b >> 16) as i16 as i32);
    acc.wrapping_add(a0 * b0).wrapping_add(a1 * b1)
}

/// Four bytes of `x` as the little-endian word `LDR` loads.
#[cfg(not(typenet_arm_dsp))]
fn word(x: &[i8]) -> u32 {
    u32::from_le_bytes([x[0] as u8, x[1] as u8, x[2] as u8, x[3] as u8])
}

/// The host tests' model of the `asm!` in `widen_words`, same contract.
#[cfg(not(typenet_arm_dsp))]
fn widen_words(x: &[i8], out: &mut [MaybeUninit<u32>]) {
    assert!(!x.is_empty() && x.len().is_multiple_of(4) && out.len() == x.len() / 2);
    for (bytes, pair) in x.chunks_exact(4).zip(out.chunks_exact_mut(2)) {
        pair[0].write(sxtb16(word(bytes), 0));
        pair[1].write(sxtb16(word(bytes), 8));
    }
}

/// The host tests' model of the `asm!` in `widen_words2`, same contract.
#[cfg(not(typenet_arm_dsp))]
fn widen_words2(a: &[i8], b: &[i8], out: &mut [MaybeUninit<u32>]) {
    assert!(!a.is_empty() && a.len().is_multiple_of(4) && b.len() == a.len() && out.len() == a.len());
    for ((a, b), quad) in a.chunks_exact(4).zip(b.chunks_exact(4)).zip(out.chunks_exact_mut(4)) {
        quad[0].write(sxtb16(word(a), 0));
        quad[1].write(sxtb16(word(b), 0));
        quad[2].write(sxtb16(word(a), 8));
        quad[3].write(sxtb16(word(b), 8));
    }
}

/// The host tests' model of the `asm!` in `rows2`, same contract; it
/// reads the rows through slices, so a block planned past the end of `w`
/// panics in the tests.
#[cfg(not(typenet_arm_dsp))]
fn rows2(w: &[i8], n: usize, len: usize, pairs: usize, widened: &[u32], acc: &mut [i32]) {
    assert!(len > 0 && len.is_multiple_of(8) && widened.len() >= len / 2 && pairs > 0 && acc.len() >= 2 * pairs);
    assert!(w.len() >= (2 * pairs - 1) * n + len);
    for r in 0..2 * pairs {
        let row = &w[r * n..][..len];
        for (bytes, pair) in row.chunks_exact(4).zip(widened.chunks_exact(2)) {
            acc[r] = smlad(sxtb16(word(bytes), 0), pair[0], acc[r]);
            acc[r] = smlad(sxtb16(word(bytes), 8), pair[1], acc[r]);
        }
    }
}

/// The host tests' model of the `asm!` in `block2x2`, same contract, the
/// rows read through slices.
#[cfg(not(typenet_arm_dsp))]
fn block2x2(w: &[i8], n: usize, len: usize, pairs: usize, widened: &[u32], acc0: &mut [i32], acc1: &mut [i32]) {
    assert!(len > 0 && len.is_multiple_of(8) && widened.len() >= len && pairs > 0);
    assert!(acc0.len() >= 2 * pairs && acc1.len() >= 2 * pairs && w.len() >= (2 * pairs - 1) * n + len);
    for r in 0..2 * pairs {
        let row = &w[r * n..][..len];
        for (bytes, quad) in row.chunks_exact(4).zip(widened.chunks_exact(4)) {
            let (even, odd) = (sxtb16(word(bytes), 0), sxtb16(word(bytes), 8));
            acc0[r] = smlad(odd, quad[2], smlad(even, quad[0], acc0[r]));
            acc1[r] = smlad(odd, quad[3], smlad(even, quad[1], acc1[r]));
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    /// The leaf's planning (passes of [`CHUNK`](super::CHUNK) inputs, the
    /// blocks of two rows, the zero-padded last group read on into the next
    /// row, the last block's portable tail) with the instructions modelled
    /// on the host, against the portable loops, for one input and for two.
    /// On the device the firmware example runs the same comparison with the
    /// real instructions.
    #[test]
    fn planned_blocks_equal_the_portable_loops() {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(16);
        for n in (0..=67).chain([150, 255, 256, 257, 263, 300, 512, 519]) {
            for rows in 0..=6 {
                for extra in [0, 3] {
                    // `extra` weights past the last row: never read.
                    let w: std::vec::Vec<i8> = (0..rows * n + extra).map(|_| rng.random()).collect();
                    let x: std::vec::Vec<i8> = (0..n).map(|_| rng.random()).collect();
                    let y: std::vec::Vec<i8> = (0..n).map(|_| rng.random()).collect();
                    let start: std::vec::Vec<i32> = (0..rows + 1).map(|_| rng.random()).collect();
                    let (mut leaf, mut portable) = (start.clone(), start.clone());
                    super::matvec(&w, &x, &mut leaf[..rows]);
                    crate::kernel::int8::matvec_portable(&w, &x, &mut portable[..rows]);
                    assert_eq!(leaf, portable, "matvec n={n} rows={rows}");
                    let (mut leaf0, mut leaf1) = (start.clone(), start.clone());
                    let (mut portable0, mut portable1) = (start.clone(), start.clone());
                    super::matvec2(&w, &x, &y, &mut leaf0[..rows], &mut leaf1[..rows]);
                    crate::kernel::int8::matvec2_portable(&w, &x, &y, &mut portable0[..rows], &mut portable1[..rows]);
                    assert_eq!((leaf0, leaf1), (portable0, portable1), "matvec2 n={n} rows={rows}");
                }
            }
        }
    }

    #[test]
    fn the_models_are_the_instructions() {
        // SXTB16 of 0x80_7f_01_ff: bytes ff, 01, 7f, 80.
        assert_eq!(super::sxtb16(0x807f_01ff, 0), 0x007f_ffff);
        assert_eq!(super::sxtb16(0x807f_01ff, 8), 0xff80_0001);
        // SMLAD wraps: (−32768)² · 2 + (−1) overflows to i32::MAX.
        assert_eq!(super::smlad(0x8000_8000, 0x8000_8000, -1), i32::MAX);
    }
}
