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

#[cfg(typenet_arm_dsp)]
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
    if n < 8 {
        // No group of eight: the portable loop.
        return int8::matvec_portable(w, x, acc);
    }
    let rows = acc.len().min(w.len() / n);
    if rows == 0 {
        return;
    }
    let acc = &mut acc[..rows];
    // Inputs in whole groups of eight, and with the last group's tail
    // padded by zeros.
    let main = n - n % 8;
    let padded = n.next_multiple_of(8);
    // The rows that take the padded groups: their last group reads up to
    // seven weights of the next row, which meet zero inputs. The last
    // block (one row or two) has no next row: it takes the whole groups,
    // and its tail goes through the portable `dot`.
    let last = match (n == main, rows % 2) {
        (true, r) => r,
        (false, 1) => 1,
        (false, _) => 2.min(rows),
    };
    let padded_rows = rows - last;
    let mut buffer = [MaybeUninit::<u32>::uninit(); CHUNK / 2];
    let mut start = 0;
    while start < padded {
        let len = (padded - start).min(CHUNK);
        let values = (n - start).min(len);
        let widened = widen(&x[start..start + values], len, &mut buffer);
        let w = &w[start..];
        if padded_rows > 0 {
            rows2(w, n, len, padded_rows / 2, widened, &mut acc[..padded_rows]);
        }
        let whole = len.min(main.saturating_sub(start));
        if last > 0 && whole > 0 {
            let (w, widened, first) = (&w[padded_rows * n..], &widened[..whole / 2], padded_rows);
            if last == 2 {
                rows2(w, n, whole, 1, widened, &mut acc[first..]);
            } else if last == 1 {
                // One row runs as both rows of a block.
                let mut pair = [acc[first]; 2];
                rows2(w, 0, whole, 1, widened, &mut pair);
                acc[first] = pair[0];
            }
        }
        start += len;
    }
    if main < n {
        let tail = &x[main..];
        for (o, sum) in acc.iter_mut().enumerate().skip(padded_rows) {
            *sum = sum.wrapping_add(int8::dot(&w[o * n + main..][..n - main], tail));
        }
    }
}

/// Sign-extends `x` (at most `len` values, `len` a non-zero multiple of
/// eight and at most [`CHUNK`]) into the start of `buffer` as `len / 2`
/// words, zeros after `x`: two words per four values, `(x0, x2)` and
/// `(x1, x3)` as halfword pairs. Returns the words.
#[inline(always)]
fn widen<'a>(x: &[i8], len: usize, buffer: &'a mut [MaybeUninit<u32>; CHUNK / 2]) -> &'a [u32] {
    assert!(len > 0 && len.is_multiple_of(8) && len <= CHUNK && x.len() <= len);
    let quads = x.len() / 4;
    if quads > 0 {
        widen_words(&x[..4 * quads], &mut buffer[..2 * quads]);
    }
    // The last one to three values, then zeros.
    let rest = &x[4 * quads..];
    let at = |i: usize| rest.get(i).map_or(0, |&v| v as i16 as u16 as u32);
    let mut words = [at(0) | at(2) << 16, at(1) | at(3) << 16].into_iter();
    for word in &mut buffer[2 * quads..len / 2] {
        word.write(words.next().unwrap_or(0));
    }
    // SAFETY: the first `2 · quads` words were written by `widen_words`,
    // the rest up to `len / 2` by the loop above.
    unsafe { core::slice::from_raw_parts(buffer.as_ptr().cast::<u32>(), len / 2) }
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

/// The host tests' model of the `asm!` in `widen_words`, with the same
/// contract.
#[cfg(not(typenet_arm_dsp))]
fn widen_words(x: &[i8], out: &mut [MaybeUninit<u32>]) {
    assert!(!x.is_empty() && x.len().is_multiple_of(4) && out.len() == x.len() / 2);
    for (bytes, pair) in x.chunks_exact(4).zip(out.chunks_exact_mut(2)) {
        let word = u32::from_le_bytes([bytes[0] as u8, bytes[1] as u8, bytes[2] as u8, bytes[3] as u8]);
        pair[0].write(sxtb16(word, 0));
        pair[1].write(sxtb16(word, 8));
    }
}

/// The host tests' model of the `asm!` in `rows2`, with the same contract;
/// it reads the rows through slices, so a block planned past the end of
/// `w` panics in the tests.
#[cfg(not(typenet_arm_dsp))]
fn rows2(w: &[i8], n: usize, len: usize, pairs: usize, widened: &[u32], acc: &mut [i32]) {
    assert!(len > 0 && len.is_multiple_of(8) && widened.len() >= len / 2 && pairs > 0 && acc.len() >= 2 * pairs);
    assert!(w.len() >= (2 * pairs - 1) * n + len);
    for k in 0..pairs {
        for j in 0..2 {
            let row = &w[(2 * k + j) * n..][..len];
            let mut sum = acc[2 * k + j];
            for (bytes, words) in row.chunks_exact(4).zip(widened.chunks_exact(2)) {
                let word = u32::from_le_bytes([bytes[0] as u8, bytes[1] as u8, bytes[2] as u8, bytes[3] as u8]);
                sum = smlad(sxtb16(word, 0), words[0], sum);
                sum = smlad(sxtb16(word, 8), words[1], sum);
            }
            acc[2 * k + j] = sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    /// The leaf's planning (passes of [`CHUNK`](super::CHUNK) inputs, the
    /// blocks of two rows, the zero-padded last group read on into the next
    /// row, the last block's portable tail) with the instructions modelled
    /// on the host, against the portable loop. On the device the firmware
    /// example runs the same comparison with the real instructions.
    #[test]
    fn planned_blocks_equal_the_portable_loop() {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(16);
        for n in (0..=67).chain([150, 255, 256, 257, 263, 300, 512, 519]) {
            for rows in 0..=6 {
                for extra in [0, 3] {
                    // `extra` weights past the last row: never read.
                    let w: std::vec::Vec<i8> = (0..rows * n + extra).map(|_| rng.random()).collect();
                    let x: std::vec::Vec<i8> = (0..n).map(|_| rng.random()).collect();
                    let start: std::vec::Vec<i32> = (0..rows + 1).map(|_| rng.random()).collect();
                    let (mut leaf, mut portable) = (start.clone(), start.clone());
                    super::matvec(&w, &x, &mut leaf[..rows]);
                    crate::kernel::int8::matvec_portable(&w, &x, &mut portable[..rows]);
                    assert_eq!(leaf, portable, "n={n} rows={rows}");
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
