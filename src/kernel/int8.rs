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

/// [`matvec`] with the portable [`dot`] per row, on any target.
#[inline]
pub fn matvec_portable(w: &[i8], x: &[i8], acc: &mut [i32]) {
    if x.is_empty() {
        return;
    }
    for (row, sum) in w.chunks_exact(x.len()).zip(acc) {
        *sum = sum.wrapping_add(dot(row, x));
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
        r.apply(acc).saturating_add(self.zero_point).clamp(self.min as i32, self.max as i32) as i8
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
    // Four independent sums: the loop pipelines and vectorises where the
    // target allows, and the total is the same whatever the order.
    let (mut s0, mut s1, mut s2, mut s3) = (0i32, 0i32, 0i32, 0i32);
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        s0 += x[0] as i32 * y[0] as i32;
        s1 += x[1] as i32 * y[1] as i32;
        s2 += x[2] as i32 * y[2] as i32;
        s3 += x[3] as i32 * y[3] as i32;
    }
    for (&x, &y) in ra.iter().zip(rb) {
        s0 += x as i32 * y as i32;
    }
    s0 + s1 + s2 + s3
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
    /// zero point: real zero).
    #[inline]
    pub(crate) fn gather(&self, input: &[i8], oy: usize, ox: usize, pad: i8, patch: &mut [i8]) {
        let k = self.kernel;
        let (y0, x0) =
            ((oy * self.stride) as isize - self.padding as isize, (ox * self.stride) as isize - self.padding as isize);
        let inside_rows = |y: isize| y >= 0 && (y as usize) < self.height;
        let full_row = x0 >= 0 && x0 as usize + k <= self.width;
        for c in 0..self.channels {
            let plane = &input[c * self.height * self.width..][..self.height * self.width];
            for ky in 0..k {
                let dst = &mut patch[(c * k + ky) * k..][..k];
                let y = y0 + ky as isize;
                if !inside_rows(y) {
                    dst.fill(pad);
                } else if full_row {
                    dst.copy_from_slice(&plane[y as usize * self.width + x0 as usize..][..k]);
                } else {
                    for (kx, d) in dst.iter_mut().enumerate() {
                        let x = x0 + kx as isize;
                        *d = if x >= 0 && (x as usize) < self.width {
                            plane[y as usize * self.width + x as usize]
                        } else {
                            pad
                        };
                    }
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
