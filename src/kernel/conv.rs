//! The convolution kernels behind `Conv2d` and `Conv1d`, over flat
//! `[C][H][W]` slices (a sequence is a plane of height 1).
//!
//! Two forms compute the same sums:
//!
//! - **Runs** (any stride, any target, no scratch): for each output channel,
//!   input channel and kernel offset, a multiply-add along each output row,
//!   with the rows and columns that fall into the padding cut off
//!   beforehand. Few live registers, so it suits microcontrollers; the runs
//!   are only as long as an output row, so wide registers idle.
//! - **Wide rows** (stride 1): the input is copied into a zero-padded plane
//!   of width `Wp = W + 2P`, and outputs are computed at every position
//!   `p = oy·Wp + ox` of that width, `ox < Wp`. Then the input a kernel
//!   offset `(c, ky, kx)` meets is the padded plane shifted by
//!   `c·Hp·Wp + ky·Wp + kx`, one contiguous slice for the whole output
//!   plane: every product is a full-register multiply-add, with a tile of
//!   output channels × registers of positions held in registers while the
//!   kernel offsets go by. The columns `ox ≥ OW` are computed and dropped
//!   (for W4's 8×8 digits, 46 positions are computed for 36 outputs).
//!   Weight gradients are dot products of the widened output gradient
//!   (zeros in the dropped columns) with the same shifted slices, summed in
//!   registers over the whole block before one horizontal sum each; the
//!   input gradient adds each offset's weighted output gradient into the
//!   padded plane at the same shifts.
//!
//! The wide form uses stack scratch of at most [`LARGE`] values;
//! convolutions whose padded planes do not fit take the runs form.

use core::ops::Range;

use super::lanes::Lanes;
use crate::scalar::Scalar;

/// The sizes of one convolution over flat `[C][H][W]` slices: channels,
/// input plane, kernel, stride, padding (rows, then columns) and output
/// plane. Weights are `[c_out][c_in][kh][kw]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dims {
    pub(crate) c_in: usize,
    pub(crate) c_out: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) sh: usize,
    pub(crate) sw: usize,
    pub(crate) ph: usize,
    pub(crate) pw: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

/// A convolution's [`Dims`] as a constant of a type, so each layer's
/// kernel is compiled for its sizes: every loop bound is a constant.
pub(crate) trait ConvShape {
    /// The sizes.
    const DIMS: Dims;
}

impl Dims {
    /// Weights per output channel: `c_in · kh · kw`.
    #[inline(always)]
    fn taps(self) -> usize {
        self.c_in * self.kh * self.kw
    }
}

// ---------------------------------------------------------------------------
// Runs: any stride, no scratch.
// ---------------------------------------------------------------------------

/// The outputs one weight touches along one output row: `len` outputs from
/// flat index `y`, reading the inputs at `x, x + sw, x + 2·sw, …` through the
/// weight at flat index `w`.
struct Run {
    y: usize,
    x: usize,
    w: usize,
    len: usize,
}

impl Dims {
    /// Calls `f` with every [`Run`]: for each output channel, input channel
    /// and kernel offset, the output rows whose inputs lie inside the image,
    /// each cut to the columns that do. Padding costs nothing.
    #[inline(always)]
    fn for_each_run(self, mut f: impl FnMut(Run)) {
        for o in 0..self.c_out {
            for c in 0..self.c_in {
                for ky in 0..self.kh {
                    let rows = inside(ky, self.ph, self.sh, self.h, self.oh);
                    for kx in 0..self.kw {
                        let cols = inside(kx, self.pw, self.sw, self.w, self.ow);
                        let w = ((o * self.c_in + c) * self.kh + ky) * self.kw + kx;
                        for oy in rows.clone() {
                            let (iy, ix) = (oy * self.sh + ky - self.ph, cols.start * self.sw + kx - self.pw);
                            let (y, x) = ((o * self.oh + oy) * self.ow + cols.start, (c * self.h + iy) * self.w + ix);
                            f(Run { y, x, w, len: cols.len() });
                        }
                    }
                }
            }
        }
    }
}

/// The outputs `j < out` whose input `j·stride + k − pad` lies in `0..len`.
#[inline(always)]
pub(super) fn inside(k: usize, pad: usize, stride: usize, len: usize, out: usize) -> Range<usize> {
    let first = if pad > k { (pad - k).div_ceil(stride) } else { 0 };
    let end = if len + pad > k { ((len + pad - 1 - k) / stride + 1).min(out) } else { 0 };
    first..end.max(first)
}

/// Forward by runs, one sample: `y = b + Σ w · x`.
#[inline(always)]
pub(crate) fn forward_runs<T: Scalar>(d: Dims, weight: &[T], bias: &[T], x: &[T], y: &mut [T]) {
    for (plane, &b) in y.chunks_exact_mut(d.oh * d.ow).zip(bias) {
        plane.fill(b);
    }
    d.for_each_run(|r| {
        let (y, a, x) = (&mut y[r.y..r.y + r.len], weight[r.w], &x[r.x..]);
        if d.sw == 1 {
            y.iter_mut().zip(x).for_each(|(y, &x)| *y = *y + a * x);
        } else {
            y.iter_mut().zip(x.iter().step_by(d.sw)).for_each(|(y, &x)| *y = *y + a * x);
        }
    });
}

/// Backward by runs, one sample: `db += Σ dy`; per run `dW += dy · x` and,
/// when `dx` is asked for, `dx += w · dy` (`dx` must start at zero).
#[inline(always)]
pub(crate) fn backward_runs<T: Scalar>(
    d: Dims,
    w: &[T],
    x: &[T],
    dy: &[T],
    gw: &mut [T],
    gb: &mut [T],
    dx: Option<&mut [T]>,
) {
    for (g, plane) in gb.iter_mut().zip(dy.chunks_exact(d.oh * d.ow)) {
        *g = plane.iter().fold(*g, |s, &v| s + v);
    }
    let step = d.sw;
    let mut weight_grad = |r: &Run| gw[r.w] = gw[r.w] + dot(&dy[r.y..r.y + r.len], &x[r.x..], step);
    match dx {
        None => d.for_each_run(|r| weight_grad(&r)),
        Some(dx) => d.for_each_run(|r| {
            weight_grad(&r);
            let (dy, a, dx) = (&dy[r.y..r.y + r.len], w[r.w], &mut dx[r.x..]);
            if step == 1 {
                dx.iter_mut().zip(dy).for_each(|(dx, &g)| *dx = *dx + a * g);
            } else {
                dx.iter_mut().step_by(step).zip(dy).for_each(|(dx, &g)| *dx = *dx + a * g);
            }
        }),
    }
}

/// `Σ a[j] · b[j·step]` over `a`. (Interleaved partial sums were tried and
/// gained nothing at these lengths: the runs are short.)
#[inline(always)]
fn dot<T: Scalar>(a: &[T], b: &[T], step: usize) -> T {
    if step == 1 {
        a.iter().zip(b).fold(T::zero(), |s, (&g, &x)| s + g * x)
    } else {
        a.iter().zip(b.iter().step_by(step)).fold(T::zero(), |s, (&g, &x)| s + g * x)
    }
}

/// The runs form over a block of samples: the fallback of the wide form,
/// and the whole kernel where there are no wide registers.
#[inline(always)]
pub(crate) fn forward_runs_block<G: ConvShape, T: Scalar>(w: &[T], b: &[T], xs: &[&[T]], ys: &mut [&mut [T]]) {
    let d = G::DIMS;
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        forward_runs(d, w, b, x, y);
    }
}

/// [`backward_runs`] over a block; each `dx` is overwritten.
#[inline(always)]
pub(crate) fn backward_runs_block<G: ConvShape, T: Scalar>(
    w: &[T],
    xs: &[&[T]],
    dys: &[&[T]],
    gw: &mut [T],
    gb: &mut [T],
    dxs: Option<&mut [&mut [T]]>,
) {
    let d = G::DIMS;
    match dxs {
        None => xs.iter().zip(dys).for_each(|(x, dy)| backward_runs(d, w, x, dy, gw, gb, None)),
        Some(dxs) => {
            for ((x, dy), dx) in xs.iter().zip(dys).zip(dxs.iter_mut()) {
                dx.fill(T::zero());
                backward_runs(d, w, x, dy, gw, gb, Some(dx));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Wide rows: stride 1, full registers.
// ---------------------------------------------------------------------------

/// Values of stack scratch the wide form takes when they suffice (16 KiB
/// of `f32`): zeroing the scratch is part of each call's cost.
const SMALL: usize = 4 * 1024;
/// Values of stack scratch the wide form may take at most (64 KiB of
/// `f32`); larger convolutions take the runs form.
const LARGE: usize = 16 * 1024;

/// The wide-row layout of a stride-1 convolution for registers of `l`
/// lanes.
#[derive(Clone, Copy)]
struct Wide {
    d: Dims,
    /// Padded plane width `W + 2P` and size `Hp · Wp`.
    wp: usize,
    plane: usize,
    /// Registers of positions per output channel, covering
    /// `(OH − 1)·Wp + OW` positions.
    regs: usize,
    /// Values per widened output channel: `regs · l`.
    row: usize,
    /// The padded input: `c_in` planes and `l` values of slack, so the last
    /// register of the last offset stays inside.
    xlen: usize,
}

impl Wide {
    /// The layout, or `None` for a stride above 1.
    #[inline(always)]
    fn of(d: Dims, l: usize) -> Option<Wide> {
        if d.sh != 1 || d.sw != 1 || d.oh == 0 || d.ow == 0 {
            return None;
        }
        let (hp, wp) = (d.h + 2 * d.ph, d.w + 2 * d.pw);
        let regs = ((d.oh - 1) * wp + d.ow).div_ceil(l);
        Some(Wide { d, wp, plane: hp * wp, regs, row: regs * l, xlen: d.c_in * hp * wp + l })
    }

    /// Where kernel offset `t` (`c·kh·kw + ky·kw + kx`) starts reading in
    /// the padded input.
    #[inline(always)]
    fn offset(self, t: usize) -> usize {
        let k = self.d.kh * self.d.kw;
        (t / k) * self.plane + (t % k / self.d.kw) * self.wp + t % self.d.kw
    }

    /// Copies `x` into the interior of the padded input `xp`, whose border
    /// and slack hold zeros (they are never written).
    #[inline(always)]
    fn pad<T: Copy>(self, x: &[T], xp: &mut [T]) {
        let d = self.d;
        for (c, plane) in x.chunks_exact(d.h * d.w).enumerate() {
            for (iy, row) in plane.chunks_exact(d.w).enumerate() {
                let at = c * self.plane + (iy + d.ph) * self.wp + d.pw;
                xp[at..at + d.w].copy_from_slice(row);
            }
        }
    }

    /// Copies the interior of the padded `xp` out into `x`.
    #[inline(always)]
    fn crop<T: Copy>(self, xp: &[T], x: &mut [T]) {
        let d = self.d;
        for (c, plane) in x.chunks_exact_mut(d.h * d.w).enumerate() {
            for (iy, row) in plane.chunks_exact_mut(d.w).enumerate() {
                let at = c * self.plane + (iy + d.ph) * self.wp + d.pw;
                row.copy_from_slice(&xp[at..at + d.w]);
            }
        }
    }

    /// Writes the output gradient `dy` into `dyw` at the wide positions;
    /// the dropped columns and the tail keep the zeros they hold.
    #[inline(always)]
    fn widen<T: Copy>(self, dy: &[T], dyw: &mut [T]) {
        let d = self.d;
        for (o, plane) in dy.chunks_exact(d.oh * d.ow).enumerate() {
            for (oy, row) in plane.chunks_exact(d.ow).enumerate() {
                let at = o * self.row + oy * self.wp;
                dyw[at..at + d.ow].copy_from_slice(row);
            }
        }
    }
}

/// Forward in wide rows: `R` output channels × `N` registers of positions
/// per tile. Returns `false`, touching nothing, where the form does not
/// apply (stride above 1, or planes larger than the scratch).
#[inline(always)]
pub(crate) fn forward_wide<G: ConvShape, S: Lanes, const R: usize, const N: usize>(
    s: S,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) -> bool {
    let Some(g) = Wide::of(G::DIMS, S::L) else { return false };
    match g.xlen + R * g.row {
        need if need <= SMALL => forward_in::<S, R, N, SMALL>(s, g, w, b, xs, ys),
        need if need <= LARGE => forward_in::<S, R, N, LARGE>(s, g, w, b, xs, ys),
        _ => return false,
    }
    true
}

/// [`forward_wide`] with `SIZE` values of scratch: the padded input, then
/// the wide output rows of one tile of channels.
#[inline(always)]
fn forward_in<S: Lanes, const R: usize, const N: usize, const SIZE: usize>(
    s: S,
    g: Wide,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) {
    let d = g.d;
    let mut scratch = [<S::T as num_traits::Zero>::zero(); SIZE];
    let (xp, yw) = scratch.split_at_mut(g.xlen);
    let taps = d.taps();
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        g.pad(x, xp);
        let mut o = 0;
        while o < d.c_out {
            let rows = if o + R <= d.c_out { R } else { 1 };
            let mut v = 0;
            while v < g.regs {
                if rows == R && v + N <= g.regs {
                    forward_tile::<S, R, N>(s, g, &w[o * taps..], &b[o..], xp, yw, v);
                    v += N;
                } else if rows == R {
                    forward_tile::<S, R, 1>(s, g, &w[o * taps..], &b[o..], xp, yw, v);
                    v += 1;
                } else {
                    forward_tile::<S, 1, 1>(s, g, &w[o * taps..], &b[o..], xp, yw, v);
                    v += 1;
                }
            }
            for r in 0..rows {
                for oy in 0..d.oh {
                    let at = ((o + r) * d.oh + oy) * d.ow;
                    y[at..at + d.ow].copy_from_slice(&yw[r * g.row + oy * g.wp..][..d.ow]);
                }
            }
            o += rows;
        }
    }
}

/// `yw[r][v·L..(v + N)·L] = b[r] + Σ_t w[r][t] · xp[offset(t) + v·L..]` for
/// `R` output channels (`w` and `b` start at the first of them).
#[inline(always)]
fn forward_tile<S: Lanes, const R: usize, const N: usize>(
    s: S,
    g: Wide,
    w: &[S::T],
    b: &[S::T],
    xp: &[S::T],
    yw: &mut [S::T],
    v: usize,
) {
    let taps = g.d.taps();
    let mut acc = [[s.zero(); N]; R];
    for r in 0..R {
        acc[r] = [s.splat(b[r]); N];
    }
    let mut t = 0;
    for c in 0..g.d.c_in {
        for ky in 0..g.d.kh {
            for kx in 0..g.d.kw {
                let at = c * g.plane + ky * g.wp + kx + v * S::L;
                let mut xv = [s.zero(); N];
                for n in 0..N {
                    xv[n] = s.load(&xp[at + n * S::L..]);
                }
                for r in 0..R {
                    let wv = s.splat(w[r * taps + t]);
                    for n in 0..N {
                        acc[r][n] = s.madd(wv, xv[n], acc[r][n]);
                    }
                }
                t += 1;
            }
        }
    }
    for r in 0..R {
        for n in 0..N {
            s.store(&mut yw[r * g.row + (v + n) * S::L..], acc[r][n]);
        }
    }
}

/// Backward in wide rows over a block: `db += Σ dy`, `dW += Σ dy ⋆ x` in
/// `R` output channels × `K` kernel offsets of register accumulators
/// summed over groups of samples, and, when `dxs` is given, each `dx`
/// overwritten with the input gradient. Returns `false`, touching nothing,
/// where the form does not apply.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn backward_wide<G: ConvShape, S: Lanes, const R: usize, const K: usize>(
    s: S,
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    dxs: Option<&mut [&mut [S::T]]>,
) -> bool {
    let Some(g) = Wide::of(G::DIMS, S::L) else { return false };
    let spare = if dxs.is_some() { g.xlen } else { 0 };
    match g.xlen + g.d.c_out * g.row + spare {
        need if need <= SMALL => backward_in::<S, R, K, SMALL>(s, g, w, xs, dys, gw, gb, dxs),
        need if need <= LARGE => backward_in::<S, R, K, LARGE>(s, g, w, xs, dys, gw, gb, dxs),
        _ => return false,
    }
    true
}

/// [`backward_wide`] with `SIZE` values of scratch: per sample of a group,
/// its padded input and widened output gradient; once, the padded input
/// gradient.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_in<S: Lanes, const R: usize, const K: usize, const SIZE: usize>(
    s: S,
    g: Wide,
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    mut dxs: Option<&mut [&mut [S::T]]>,
) {
    let d = g.d;
    let per_sample = g.xlen + d.c_out * g.row;
    let spare = if dxs.is_some() { g.xlen } else { 0 };
    let group = (SIZE - spare) / per_sample;
    let zero = <S::T as num_traits::Zero>::zero();
    let mut scratch = [zero; SIZE];
    let (samples, dxp) = scratch.split_at_mut(SIZE - spare);
    let n = xs.len().min(dys.len());
    let mut first = 0;
    while first < n {
        let m = group.min(n - first);
        let used = &mut samples[..m * per_sample];
        used.fill(zero);
        for (j, part) in used.chunks_exact_mut(per_sample).enumerate() {
            let (xp, dyw) = part.split_at_mut(g.xlen);
            g.pad(xs[first + j], xp);
            g.widen(dys[first + j], dyw);
        }
        let used = &*used;
        bias_grads(s, g, used, per_sample, gb);
        weight_grads::<S, R, K>(s, g, used, per_sample, gw);
        if let Some(dxs) = dxs.as_deref_mut() {
            for (j, part) in used.chunks_exact(per_sample).enumerate() {
                input_grads(s, g, w, &part[g.xlen..], dxp);
                g.crop(dxp, dxs[first + j]);
            }
        }
        first += m;
    }
}

/// `gb[o] += Σ_samples Σ_p dyw[o][p]`, in registers of positions.
#[inline(always)]
fn bias_grads<S: Lanes>(s: S, g: Wide, samples: &[S::T], per_sample: usize, gb: &mut [S::T]) {
    // `1 · v + acc` rounds once, as an addition does.
    let one = s.splat(<S::T as num_traits::One>::one());
    for (o, gb) in gb.iter_mut().enumerate().take(g.d.c_out) {
        let mut acc = s.zero();
        for part in samples.chunks_exact(per_sample) {
            let dyw = &part[g.xlen + o * g.row..];
            for v in 0..g.regs {
                acc = s.madd(one, s.load(&dyw[v * S::L..]), acc);
            }
        }
        *gb = *gb + s.hsum(acc);
    }
}

/// `gw[o][t] += Σ_samples Σ_p dyw[o][p] · xp[offset(t) + p]` in tiles of
/// `R` output channels × `K` offsets.
#[inline(always)]
fn weight_grads<S: Lanes, const R: usize, const K: usize>(
    s: S,
    g: Wide,
    samples: &[S::T],
    per_sample: usize,
    gw: &mut [S::T],
) {
    let (c_out, taps) = (g.d.c_out, g.d.taps());
    let mut o = 0;
    while o < c_out {
        let rows = if o + R <= c_out { R } else { 1 };
        let mut t = 0;
        while t < taps {
            if rows == R && t + K <= taps {
                grad_tile::<S, R, K>(s, g, samples, per_sample, gw, o, t);
                t += K;
            } else if rows == R {
                grad_tile::<S, R, 1>(s, g, samples, per_sample, gw, o, t);
                t += 1;
            } else {
                grad_tile::<S, 1, 1>(s, g, samples, per_sample, gw, o, t);
                t += 1;
            }
        }
        o += rows;
    }
}

/// One `R × K` tile of [`weight_grads`], from output channel `o` and
/// offset `t`.
#[inline(always)]
fn grad_tile<S: Lanes, const R: usize, const K: usize>(
    s: S,
    g: Wide,
    samples: &[S::T],
    per_sample: usize,
    gw: &mut [S::T],
    o: usize,
    t: usize,
) {
    let mut at = [0; K];
    for (k, at) in at.iter_mut().enumerate() {
        *at = g.offset(t + k);
    }
    let mut acc = [[s.zero(); K]; R];
    for part in samples.chunks_exact(per_sample) {
        let (xp, dyw) = part.split_at(g.xlen);
        for v in 0..g.regs {
            let p = v * S::L;
            let mut dv = [s.zero(); R];
            for r in 0..R {
                dv[r] = s.load(&dyw[(o + r) * g.row + p..]);
            }
            for k in 0..K {
                let xv = s.load(&xp[at[k] + p..]);
                for r in 0..R {
                    acc[r][k] = s.madd(dv[r], xv, acc[r][k]);
                }
            }
        }
    }
    let taps = g.d.taps();
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut gw[(o + r) * taps + t..][..K];
        for (gw, &acc) in row.iter_mut().zip(acc) {
            *gw = *gw + s.hsum(acc);
        }
    }
}

/// The padded input gradient of one sample: `dxp[offset(t) + p] += Σ_o
/// w[o][t] · dyw[o][p]` for every offset `t`, from zero.
#[inline(always)]
fn input_grads<S: Lanes>(s: S, g: Wide, w: &[S::T], dyw: &[S::T], dxp: &mut [S::T]) {
    dxp.fill(<S::T as num_traits::Zero>::zero());
    let taps = g.d.taps();
    for t in 0..taps {
        let at = g.offset(t);
        for v in 0..g.regs {
            let p = v * S::L;
            let mut acc = s.load(&dxp[at + p..]);
            for o in 0..g.d.c_out {
                acc = s.madd(s.splat(w[o * taps + t]), s.load(&dyw[o * g.row + p..]), acc);
            }
            s.store(&mut dxp[at + p..], acc);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::kernel::lanes::Portable;
    use crate::prelude::*;

    const fn dims(c_in: usize, c_out: usize, h: usize, w: usize, k: (usize, usize), p: (usize, usize)) -> Dims {
        let (oh, ow) = (h + 2 * p.0 - k.0 + 1, w + 2 * p.1 - k.1 + 1);
        Dims { c_in, c_out, h, w, kh: k.0, kw: k.1, sh: 1, sw: 1, ph: p.0, pw: p.1, oh, ow }
    }

    /// Test convolutions as types: `shapes!(Name = dims(..); ..)`.
    macro_rules! shapes {
        ($($name:ident = $dims:expr;)*) => {$(
            struct $name;
            impl ConvShape for $name {
                const DIMS: Dims = $dims;
            }
        )*};
    }

    // W4's layer; channels that leave a remainder tile; padding; a kernel
    // as large as the padded input; a sequence; wide rectangles; 1×1.
    shapes! {
        Digits = dims(1, 8, 8, 8, (3, 3), (0, 0));
        Padded = dims(3, 5, 7, 6, (3, 3), (1, 1));
        Full = dims(2, 3, 5, 5, (5, 5), (0, 0));
        WidePad = dims(2, 6, 4, 4, (3, 3), (2, 2));
        Sequence = dims(4, 7, 1, 19, (1, 4), (0, 2));
        Oblong = dims(2, 9, 11, 3, (2, 3), (1, 0));
        Single = dims(1, 1, 1, 1, (1, 1), (0, 0));
        Strided = Dims { sw: 2, ow: 3, ..dims(1, 2, 8, 8, (3, 3), (0, 0)) };
        Large = dims(4, 1, 64, 64, (3, 3), (0, 0));
    }

    fn random(n: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// The wide form (portable lanes, `f64`) against the runs form: outputs,
    /// weight, bias and input gradients over a block of 3 samples.
    fn agree<G: ConvShape>(seed: u64) {
        let d = G::DIMS;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (xl, yl, wl) = (d.c_in * d.h * d.w, d.c_out * d.oh * d.ow, d.c_out * d.taps());
        let (w, b) = (random(wl, &mut rng), random(d.c_out, &mut rng));
        let xs: Vec<Vec<f64>> = (0..3).map(|_| random(xl, &mut rng)).collect();
        let dys: Vec<Vec<f64>> = (0..3).map(|_| random(yl, &mut rng)).collect();
        let xr: Vec<&[f64]> = xs.iter().map(|x| &x[..]).collect();
        let dyr: Vec<&[f64]> = dys.iter().map(|x| &x[..]).collect();

        let (mut y1, mut y2) = (vec![vec![0.0; yl]; 3], vec![vec![0.0; yl]; 3]);
        forward_runs_block::<G, _>(&w, &b, &xr, &mut y1.iter_mut().map(|y| &mut y[..]).collect::<Vec<_>>());
        let mut ys: Vec<&mut [f64]> = y2.iter_mut().map(|y| &mut y[..]).collect();
        assert!(forward_wide::<G, _, 4, 3>(Portable::NEW, &w, &b, &xr, &mut ys));
        close(&y1.concat(), &y2.concat(), "forward", d);

        let (mut gw1, mut gb1, mut dx1) = (vec![0.5; wl], vec![0.5; d.c_out], vec![vec![9.0; xl]; 3]);
        let (mut gw2, mut gb2, mut dx2) = (vec![0.5; wl], vec![0.5; d.c_out], vec![vec![9.0; xl]; 3]);
        let mut dr1: Vec<&mut [f64]> = dx1.iter_mut().map(|x| &mut x[..]).collect();
        backward_runs_block::<G, _>(&w, &xr, &dyr, &mut gw1, &mut gb1, Some(&mut dr1));
        let mut dr2: Vec<&mut [f64]> = dx2.iter_mut().map(|x| &mut x[..]).collect();
        assert!(backward_wide::<G, _, 2, 3>(Portable::NEW, &w, &xr, &dyr, &mut gw2, &mut gb2, Some(&mut dr2)));
        close(&gw1, &gw2, "weight gradient", d);
        close(&gb1, &gb2, "bias gradient", d);
        close(&dx1.concat(), &dx2.concat(), "input gradient", d);

        let (mut gw3, mut gb3) = (vec![0.5; wl], vec![0.5; d.c_out]);
        assert!(backward_wide::<G, _, 4, 4>(Portable::NEW, &w, &xr, &dyr, &mut gw3, &mut gb3, None));
        close(&gw1, &gw3, "weight gradient without dx", d);
        close(&gb1, &gb3, "bias gradient without dx", d);
    }

    fn close(a: &[f64], b: &[f64], what: &str, d: Dims) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < 1e-12, "{what} [{i}]: runs {x}, wide {y}, {d:?}");
        }
    }

    #[test]
    fn wide_rows_agree_with_runs() {
        agree::<Digits>(1);
        agree::<Padded>(2);
        agree::<Full>(3);
        agree::<WidePad>(4);
        agree::<Sequence>(5);
        agree::<Oblong>(6);
        agree::<Single>(7);
    }

    /// `f32` through [`Kernels`](crate::kernel::Kernels), the path layers
    /// take (the widest variant this CPU has), against the runs form.
    #[test]
    fn f32_kernels_agree_with_runs() {
        f32_agrees::<Digits>(1);
        f32_agrees::<Padded>(2);
        f32_agrees::<Oblong>(3);
    }

    fn f32_agrees<G: ConvShape>(seed: u64) {
        use crate::kernel::Kernels;
        let d = G::DIMS;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (xl, yl, wl) = (d.c_in * d.h * d.w, d.c_out * d.oh * d.ow, d.c_out * d.taps());
        let f = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect::<Vec<f32>>();
        let (w, b) = (f(random(wl, &mut rng)), f(random(d.c_out, &mut rng)));
        let xs: Vec<Vec<f32>> = (0..5).map(|_| f(random(xl, &mut rng))).collect();
        let dys: Vec<Vec<f32>> = (0..5).map(|_| f(random(yl, &mut rng))).collect();
        let xr: Vec<&[f32]> = xs.iter().map(|x| &x[..]).collect();
        let dyr: Vec<&[f32]> = dys.iter().map(|x| &x[..]).collect();
        let (mut y1, mut y2) = (vec![vec![0.0f32; yl]; 5], vec![vec![0.0f32; yl]; 5]);
        forward_runs_block::<G, _>(&w, &b, &xr, &mut y1.iter_mut().map(|y| &mut y[..]).collect::<Vec<_>>());
        f32::conv_forward::<G>(&w, &b, &xr, &mut y2.iter_mut().map(|y| &mut y[..]).collect::<Vec<_>>());
        let (mut gw1, mut gb1, mut dx1) = (vec![0.0f32; wl], vec![0.0f32; d.c_out], vec![vec![0.0f32; xl]; 5]);
        let (mut gw2, mut gb2, mut dx2) = (vec![0.0f32; wl], vec![0.0f32; d.c_out], vec![vec![0.0f32; xl]; 5]);
        let mut dr1: Vec<&mut [f32]> = dx1.iter_mut().map(|x| &mut x[..]).collect();
        backward_runs_block::<G, _>(&w, &xr, &dyr, &mut gw1, &mut gb1, Some(&mut dr1));
        let mut dr2: Vec<&mut [f32]> = dx2.iter_mut().map(|x| &mut x[..]).collect();
        f32::conv_backward::<G>(&w, &xr, &dyr, &mut gw2, &mut gb2, Some(&mut dr2));
        for (what, a, b) in [
            ("forward", y1.concat(), y2.concat()),
            ("weight gradient", gw1, gw2),
            ("bias gradient", gb1, gb2),
            ("input gradient", dx1.concat(), dx2.concat()),
        ] {
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{what}: runs {x}, kernel {y}, {d:?}");
            }
        }
    }

    #[test]
    fn the_wide_form_declines_strides_and_oversized_planes() {
        let (w, b, x) = ([0.0; 18], [0.0; 2], [1.0; 64]);
        let mut y = [7.0; 2 * 6 * 3];
        assert!(!forward_wide::<Strided, _, 4, 3>(Portable::NEW, &w, &b, &[&x], &mut [&mut y]));
        assert_eq!(y, [7.0; 36], "a declined call touches nothing");
        let (w, x) = ([0.0; 36], vec![0.0; 4 * 64 * 64]);
        let (mut gw, mut gb) = ([0.0; 36], [0.0; 1]);
        assert!(!backward_wide::<Large, _, 4, 4>(Portable::NEW, &w, &[&x], &[&[0.0; 62 * 62]], &mut gw, &mut gb, None));
    }
}
