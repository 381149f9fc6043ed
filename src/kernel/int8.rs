//! The int8 kernels: integer dot products, the matrix-vector product the
//! int8 `Dense` and `Conv2d` run on, and the im2col gather of the
//! convolutions, written once for any target (no `unsafe`), and the seam
//! that picks an instruction set's leaf for the matrix-vector product:
//! `arm_dsp.rs` (`SMLAD`) on Armv7E-M (Cortex-M4, M7: `cfg(typenet_arm_dsp)`,
//! which `build.rs` sets), the portable loop everywhere else. On x86-64
//! with `std`, `x86_int8.rs` also runs the whole convolutions ([`conv`],
//! [`depthwise`]: packing, products and requantisation) in AVX2 or AVX-512
//! (with VNNI where the CPU has it), chosen at run time as the `f32`
//! kernels are (`TYPENET_KERNELS`), and the rows of [`matvec`].
//!
//! Accumulators are `i32`, as TFLite's: a dot product of `n` int8 pairs
//! stays exact while `n · 128² < 2³¹` (131,071 terms), far beyond any layer
//! here. Every kernel adds modulo 2³², so a leaf that sums in another order
//! gives the same bits.

use typenum::Unsigned;

/// The kernel [`matvec`] runs in this build: `"arm-dsp"` or `"portable"`.
#[cfg(typenet_arm_dsp)]
pub const KERNEL: &str = "arm-dsp";
/// The kernel [`matvec`] runs in this build: `"arm-dsp"` or `"portable"`.
#[cfg(not(typenet_arm_dsp))]
pub const KERNEL: &str = "portable";

/// `acc[o] += Σᵢ w[o·n + i] · x[i]` (wrapping) for each row `o`, where
/// `n = x.len()` and `w` holds the rows one after another (`[out][in]`):
/// the rows are `acc.len()`, or as many whole rows as `w` holds if fewer.
/// Runs this build's leaf ([`KERNEL`]), the same bits as
/// [`matvec_portable`].
#[inline]
pub fn matvec(w: &[i8], x: &[i8], acc: &mut [i32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::x86_int8::matvec(w, x, acc) {
        return;
    }
    #[cfg(typenet_arm_dsp)]
    super::arm_dsp::matvec(w, x, acc);
    #[cfg(not(typenet_arm_dsp))]
    matvec_portable(w, x, acc);
}

/// [`matvec`] for two inputs of one length against the same rows: `x0`
/// into `acc0`, `x1` into `acc1` (a convolution's two output positions).
/// Runs this build's leaf ([`KERNEL`]; the Cortex-M4 one loads and widens
/// each weight once for both), the same bits as [`matvec2_portable`].
#[inline]
pub fn matvec2(w: &[i8], x0: &[i8], x1: &[i8], acc0: &mut [i32], acc1: &mut [i32]) {
    #[cfg(typenet_arm_dsp)]
    super::arm_dsp::matvec2(w, x0, x1, acc0, acc1);
    #[cfg(not(typenet_arm_dsp))]
    matvec2_portable(w, x0, x1, acc0, acc1);
}

/// [`matvec2`] as two [`matvec_portable`], on any target.
#[inline]
pub fn matvec2_portable(w: &[i8], x0: &[i8], x1: &[i8], acc0: &mut [i32], acc1: &mut [i32]) {
    matvec_portable(w, x0, acc0);
    matvec_portable(w, x1, acc1);
}

/// [`matvec`] in plain Rust, on any target: two rows per pass over the
/// input (a Cortex-M0 loads each input value once for both).
#[inline]
pub fn matvec_portable(w: &[i8], x: &[i8], acc: &mut [i32]) {
    if x.is_empty() {
        return;
    }
    // The row length as a run-time value: given a layer's constant one,
    // LLVM's Thumb-1 code for `dot2` keeps a second index and takes 7.8
    // instructions per multiply-add instead of 5.3 (the Cortex-M0 build of
    // the firmware example, a 64×64 layer).
    let n = core::hint::black_box(x.len());
    let mut rows = w.chunks_exact(n).zip(acc);
    while let Some((row, sum)) = rows.next() {
        match rows.next() {
            Some((next, next_sum)) => {
                let (a, b) = dot2(row, next, x);
                *sum = sum.wrapping_add(a);
                *next_sum = next_sum.wrapping_add(b);
            }
            None => *sum = sum.wrapping_add(dot(row, x)),
        }
    }
}

/// The output stage of an int8 layer as the kernels apply it, per output
/// channel `o`: `clamp(requantise(acc) + zero_point)` with `acc` already
/// holding `bias[o]` (what `quant::Channels::finish` does, to the bit).
#[derive(Clone, Copy)]
pub(crate) struct Stage<'a> {
    /// The bias each sum starts from (for `conv`, with the input zero point
    /// folded in; for `depthwise`, the layer's own).
    pub bias: &'a [i32],
    /// Requantisation multipliers.
    pub multiplier: &'a [i32],
    /// Requantisation shifts.
    pub shift: &'a [i32],
    /// The output zero point.
    pub zero_point: i32,
    /// The clamp's lower bound.
    pub min: i8,
    /// The clamp's upper bound.
    pub max: i8,
}

impl Stage<'_> {
    /// Channel `o`'s output for the sum `acc`.
    #[inline(always)]
    pub(crate) fn finish(&self, o: usize, acc: i32) -> i8 {
        let r = crate::quant::Requantize { multiplier: self.multiplier[o], shift: self.shift[o] };
        r.output(acc, self.zero_point, crate::quant::Clamp { min: self.min, max: self.max })
    }
}

/// The convolution of a `[C][H][W]` input (`window`), padded with `pad`,
/// by weights `[O][C][K][K]`: `out[o][oy][ox] = stage.finish(o, bias[o] +
/// Σ w[o]·patch(oy, ox))`, by this build's leaf; `false` (touching nothing)
/// where there is none for the CPU or the shape, and the caller runs the
/// portable loops, which give the same bits.
#[inline]
pub(crate) fn conv(window: &Window, w: &[i8], stage: &Stage<'_>, input: &[i8], pad: i8, out: &mut [i8]) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return super::x86_int8::conv(window, w, stage, input, pad, out);
    #[allow(unreachable_code)]
    {
        let _ = (window, w, stage, input, pad, out);
        false
    }
}

/// The depthwise convolution: output channel `o` filters input channel
/// `o / multiplier` with `w[o]` (`K×K`), the padding holding `pad` (the
/// input zero point), `out[o][oy][ox] = stage.finish(o, bias[o] + Σ w·(x −
/// pad))`, by this build's leaf; `false` (touching nothing) where there is
/// none.
#[inline]
pub(crate) fn depthwise(
    window: &Window,
    multiplier: usize,
    w: &[i8],
    stage: &Stage<'_>,
    pad: i8,
    input: &[i8],
    out: &mut [i8],
) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return super::x86_int8::depthwise(window, multiplier, w, stage, pad, input, out);
    #[allow(unreachable_code)]
    {
        let _ = (window, multiplier, w, stage, pad, input, out);
        false
    }
}

/// `Σ a[i]·b[i]` over the common length, exact in `i32`.
#[inline]
pub(crate) fn dot(a: &[i8], b: &[i8]) -> i32 {
    // One sum, from the end: the loop vectorises where the target allows,
    // and on a Cortex-M0 (Thumb-1: `LDRSB` takes a register offset, eight
    // low registers) one index counts down to zero for both loads, six
    // instructions per multiply-add. The sum is exact, so its order does
    // not change it.
    let mut sum = 0i32;
    for (&x, &y) in a.iter().zip(b).rev() {
        sum += x as i32 * y as i32;
    }
    sum
}

/// `(Σ a[i]·x[i], Σ b[i]·x[i])` over the common length: two rows against
/// one input, each input value loaded once for both.
#[inline]
fn dot2(a: &[i8], b: &[i8], x: &[i8]) -> (i32, i32) {
    // From the end, as `dot`: on a Cortex-M0 one index counts down for the
    // three loads, five instructions per multiply-add.
    let (mut sa, mut sb) = (0i32, 0i32);
    for ((&wa, &wb), &v) in a.iter().zip(b).zip(x).rev() {
        let v = v as i32;
        sa += wa as i32 * v;
        sb += wb as i32 * v;
    }
    (sa, sb)
}

/// `Σ a[i]`, exact in `i32`.
#[inline]
pub(crate) fn sum(a: &[i8]) -> i32 {
    a.iter().map(|&v| v as i32).sum()
}

/// The geometry of a 2-D window over a `[C][H][W]` input: what the im2col
/// gather needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl Window {
    /// The window of a `K×K` kernel with stride `S` and padding `P` over a
    /// `[C][H][W]` input, from the layer's type.
    #[inline(always)]
    pub(crate) fn of<C: Unsigned, H: Unsigned, W: Unsigned, K: Unsigned, S: Unsigned, P: Unsigned>() -> Self {
        Window {
            channels: C::USIZE,
            height: H::USIZE,
            width: W::USIZE,
            kernel: K::USIZE,
            stride: S::USIZE,
            padding: P::USIZE,
        }
    }

    /// The output's height.
    #[inline(always)]
    pub(crate) fn out_height(&self) -> usize {
        (self.height + 2 * self.padding).saturating_sub(self.kernel) / self.stride.max(1) + 1
    }

    /// The output's width.
    #[inline(always)]
    pub(crate) fn out_width(&self) -> usize {
        (self.width + 2 * self.padding).saturating_sub(self.kernel) / self.stride.max(1) + 1
    }

    /// Gathers the `[C][K][K]` patch under output position `(oy, ox)` into
    /// `patch`, with `pad` where the window leaves the input (the input's
    /// zero point: real zero). Inlined into each layer, whose geometry is
    /// constant there: a window inside the input is then `C·K` copies of
    /// `K` values, a few loads and stores each.
    #[inline(always)]
    pub(crate) fn gather(&self, input: &[i8], oy: usize, ox: usize, pad: i8, patch: &mut [i8]) {
        let (k, width) = (self.kernel, self.width);
        let (y0, x0) =
            ((oy * self.stride) as isize - self.padding as isize, (ox * self.stride) as isize - self.padding as isize);
        // The window's rows and columns inside the input: `lo..hi`.
        let inside = |start: isize, size: usize| {
            ((-start).clamp(0, k as isize) as usize, (size as isize - start).clamp(0, k as isize) as usize)
        };
        let ((rows_lo, rows_hi), (cols_lo, cols_hi)) = (inside(y0, self.height), inside(x0, width));
        let plane_len = self.height * width;
        if (rows_lo, rows_hi, cols_lo, cols_hi) == (0, k, 0, k) {
            let at = y0 as usize * width + x0 as usize;
            for (plane, dst) in input.chunks_exact(plane_len).zip(patch.chunks_exact_mut(k * k)).take(self.channels) {
                for (row, dst) in dst.chunks_exact_mut(k).enumerate() {
                    dst.copy_from_slice(&plane[at + row * width..][..k]);
                }
            }
            return;
        }
        patch[..self.channels * k * k].fill(pad);
        if rows_lo >= rows_hi || cols_lo >= cols_hi {
            return;
        }
        let cols = cols_hi - cols_lo;
        for (plane, dst) in input.chunks_exact(plane_len).zip(patch.chunks_exact_mut(k * k)).take(self.channels) {
            for row in rows_lo..rows_hi {
                let from = (y0 + row as isize) as usize * width + (x0 + cols_lo as isize) as usize;
                for (d, &v) in dst[row * k + cols_lo..][..cols].iter_mut().zip(&plane[from..][..cols]) {
                    *d = v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_is_exact_at_the_extremes() {
        let a = [-128i8; 37];
        let b = [-128i8; 37];
        assert_eq!(dot(&a, &b), 37 * 16384);
        let c: std::vec::Vec<i8> = (0..37).map(|i| if i % 2 == 0 { 127 } else { -128 }).collect();
        assert_eq!(dot(&a, &c), (0..37).map(|i| -128 * c[i] as i32).sum::<i32>());
        assert_eq!(sum(&c), (0..37).map(|i| c[i] as i32).sum::<i32>());
    }

    /// What `matvec` must give: each row's sum from the definition.
    fn matvec_reference(w: &[i8], x: &[i8], acc: &[i32]) -> std::vec::Vec<i32> {
        let n = x.len();
        acc.iter()
            .enumerate()
            .map(|(o, &a)| a.wrapping_add((0..n).map(|i| w[o * n + i] as i32 * x[i] as i32).sum::<i32>()))
            .collect()
    }

    #[test]
    fn matvec_sums_each_row_at_awkward_lengths() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(16);
        for n in (0..=67).chain([255, 256, 257, 300, 513]) {
            for rows in 1..=5 {
                let w: std::vec::Vec<i8> = (0..rows * n).map(|_| rng.random()).collect();
                let x: std::vec::Vec<i8> = (0..n).map(|_| rng.random()).collect();
                let start: std::vec::Vec<i32> = (0..rows).map(|_| rng.random()).collect();
                let want = matvec_reference(&w, &x, &start);
                let (mut got, mut portable) = (start.clone(), start.clone());
                matvec(&w, &x, &mut got);
                matvec_portable(&w, &x, &mut portable);
                assert_eq!(got, want, "n={n} rows={rows}");
                assert_eq!(portable, want, "n={n} rows={rows}");
            }
        }
        // Fewer whole rows in `w` than sums: the extra sums stay as they were.
        let mut acc = [1, 2, 3];
        matvec(&[1, 1, 1, 1, 9], &[2, 3], &mut acc);
        assert_eq!(acc, [6, 7, 3]);
    }

    #[test]
    fn gather_is_the_window_at_every_geometry() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
        for (channels, height, width) in [(1, 5, 5), (2, 4, 7), (3, 1, 6), (2, 8, 3)] {
            let input: std::vec::Vec<i8> = (0..channels * height * width).map(|_| rng.random()).collect();
            for kernel in 1..=5 {
                for stride in 1..=3 {
                    for padding in 0..=2 {
                        let w = Window { channels, height, width, kernel, stride, padding };
                        let out = |size: usize| (size + 2 * padding).checked_sub(kernel).map(|d| d / stride + 1);
                        let (Some(oh), Some(ow)) = (out(height), out(width)) else { continue };
                        let mut patch = std::vec![0i8; channels * kernel * kernel];
                        for oy in 0..oh {
                            for ox in 0..ow {
                                w.gather(&input, oy, ox, -99, &mut patch);
                                for (i, &got) in patch.iter().enumerate() {
                                    let (c, ky, kx) = (i / (kernel * kernel), i / kernel % kernel, i % kernel);
                                    let y = (oy * stride + ky) as isize - padding as isize;
                                    let x = (ox * stride + kx) as isize - padding as isize;
                                    let want = if (0..height as isize).contains(&y) && (0..width as isize).contains(&x)
                                    {
                                        input[(c * height + y as usize) * width + x as usize]
                                    } else {
                                        -99
                                    };
                                    assert_eq!(got, want, "{w:?} at ({oy}, {ox}), patch index {i}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The kernels' output stage is the layers' (`Requantize::output`):
    /// bounds the wrong way round, as a crafted file may hold, give the
    /// upper one instead of a panic.
    #[test]
    fn stage_finishes_as_the_layers_do() {
        let stage = Stage { bias: &[0], multiplier: &[1 << 30], shift: &[0], zero_point: 3, min: 20, max: -20 };
        assert_eq!(stage.finish(0, 100), -20);
        let stage = Stage { min: -5, max: 30, ..stage };
        assert_eq!([stage.finish(0, 100), stage.finish(0, -100)], [30, -5]); // 50 + 3, −50 + 3
    }

    #[test]
    fn gather_pads_outside_the_input() {
        // One 3×3 channel holding 1..=9, kernel 3, padding 1.
        let input: [i8; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        let w = Window { channels: 1, height: 3, width: 3, kernel: 3, stride: 1, padding: 1 };
        let mut patch = [0i8; 9];
        w.gather(&input, 0, 0, -7, &mut patch);
        assert_eq!(patch, [-7, -7, -7, -7, 1, 2, -7, 4, 5]);
        w.gather(&input, 1, 1, -7, &mut patch);
        assert_eq!(patch, input);
        w.gather(&input, 2, 2, -7, &mut patch);
        assert_eq!(patch, [5, 6, -7, 8, 9, -7, -7, -7, -7]);
    }
}
