//! The depthwise convolution kernels behind `DepthwiseConv2d`: each input
//! channel `c` is convolved on its own with `m` kernels of its own, into
//! output channels `c·m .. (c + 1)·m` (PyTorch's `groups = c_in`, with
//! `c_out = m·c_in`). Weights are `[c_out][kh][kw]`, tensors flat
//! `[C][H][W]`, and the sizes come as [`Dims`] with `c_out` a multiple of
//! `c_in`.
//!
//! Two forms compute the same sums:
//!
//! - **Plain** (any size, any target, no scratch): for each output channel
//!   and kernel offset, a multiply-add along each output row, with the rows
//!   and columns in the padding cut off beforehand. What microcontrollers
//!   run, and the fallback of the other form.
//! - **Phases** (wide registers, any stride): one channel's input is copied
//!   into `sh·sw` zero-padded *phase planes* (`phases.rs`, which the wide
//!   form of `conv.rs` shares), plane `(a, b)` holding the
//!   padded input's rows `a, a + sh, …` and columns `b, b + sw, …`, each of
//!   width `Wq = ⌈(W + 2P) / sw⌉`. Output `(oy, ox)` is computed at the
//!   wide position `p = oy·Wq + ox`; kernel offset `(ky, kx)` then reads
//!   plane `(ky mod sh, kx mod sw)` shifted by `⌊ky/sh⌋·Wq + ⌊kx/sw⌋`, one
//!   contiguous slice for the whole output plane at every stride. So each
//!   product is a full-register multiply-add across the output width (and
//!   on across rows), with `N` registers of positions in flight. At stride
//!   1 there is one plane, the padded input itself. The columns `ox ≥ OW`
//!   are computed and dropped (for 14×14 with padding 1, 224 positions for
//!   196 outputs).
//!
//!   Backward, the output gradient is *widened* to the same positions
//!   (zeros in the dropped columns, and a margin of zeros before it). The
//!   weight gradient of an offset is the dot product of the widened
//!   gradient with the slice the offset read, summed in registers over a
//!   group of samples, `TT` offsets at a time. The input gradient of phase
//!   plane `(a, b)` gathers, at each position `u`, `w[ky][kx] ·
//!   dy[u − shift(ky, kx)]` over the offsets of that plane: a correlation
//!   in registers like the forward pass (no read-modify-write of memory),
//!   then the planes are interleaved back into `dx`.
//!
//! The phases form uses stack scratch of at most [`LARGE`] values;
//! convolutions whose planes do not fit take the plain form.

use super::conv::{ConvShape, Dims, inside};
use super::lanes::Lanes;
use super::phases::Planes;
use crate::scalar::Scalar;

/// Values of stack scratch the phases form takes when they suffice (16 KiB
/// of `f32`).
const SMALL: usize = 4 * 1024;
/// Values of stack scratch the phases form may take at most (64 KiB of
/// `f32`); larger planes take the plain form.
const LARGE: usize = 16 * 1024;

/// Whether `d` describes a depthwise convolution: `c_out` a whole multiple
/// of `c_in`, a non-empty output, non-zero strides.
#[inline(always)]
fn valid(d: Dims) -> bool {
    d.c_in > 0 && d.c_out.is_multiple_of(d.c_in) && d.oh > 0 && d.ow > 0 && d.sh > 0 && d.sw > 0
}

// ---------------------------------------------------------------------------
// Plain: any size, no scratch.
// ---------------------------------------------------------------------------

/// Calls `f(o, c, tap, y, x, len)` for every run of outputs one weight
/// touches: output channel `o` (from input channel `c`), kernel offset
/// `tap = ky·kw + kx`, `len` outputs along one row from flat index `y` of
/// the output plane, reading the input plane from flat index `x` at stride
/// `sw`. The padding is cut off beforehand.
#[inline(always)]
fn for_each_run(d: Dims, mut f: impl FnMut(usize, usize, usize, usize, usize, usize)) {
    let m = d.c_out / d.c_in;
    for o in 0..d.c_out {
        for ky in 0..d.kh {
            let rows = inside(ky, d.ph, d.sh, d.h, d.oh);
            for kx in 0..d.kw {
                let cols = inside(kx, d.pw, d.sw, d.w, d.ow);
                for oy in rows.clone() {
                    let (iy, ix) = (oy * d.sh + ky - d.ph, cols.start * d.sw + kx - d.pw);
                    f(o, o / m, ky * d.kw + kx, oy * d.ow + cols.start, iy * d.w + ix, cols.len());
                }
            }
        }
    }
}

/// Forward, plain, over a block: `y[o] = b[o] + Σ w[o] ⋆ x[o / m]`.
#[inline(always)]
pub(crate) fn forward_plain<G: ConvShape, T: Scalar>(w: &[T], b: &[T], xs: &[&[T]], ys: &mut [&mut [T]]) {
    let d = G::DIMS;
    if !valid(d) {
        return;
    }
    let (taps, hw, plane) = (d.kh * d.kw, d.h * d.w, d.oh * d.ow);
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        for (yo, &bo) in y.chunks_exact_mut(plane).zip(b) {
            yo.fill(bo);
        }
        for_each_run(d, |o, c, tap, at_y, at_x, len| {
            let (a, x, y) = (w[o * taps + tap], &x[c * hw + at_x..], &mut y[o * plane + at_y..][..len]);
            y.iter_mut().zip(x.iter().step_by(d.sw)).for_each(|(y, &x)| *y = *y + a * x);
        });
    }
}

/// Backward, plain, over a block: `db += Σ dy`, `dW += Σ dy ⋆ x`, and each
/// `dx` overwritten when asked for.
#[inline(always)]
pub(crate) fn backward_plain<G: ConvShape, T: Scalar>(
    w: &[T],
    xs: &[&[T]],
    dys: &[&[T]],
    gw: &mut [T],
    gb: &mut [T],
    mut dxs: Option<&mut [&mut [T]]>,
) {
    let d = G::DIMS;
    if !valid(d) {
        return;
    }
    let (taps, hw, plane) = (d.kh * d.kw, d.h * d.w, d.oh * d.ow);
    for (j, (x, dy)) in xs.iter().zip(dys).enumerate() {
        for (g, dyo) in gb.iter_mut().zip(dy.chunks_exact(plane)) {
            *g = dyo.iter().fold(*g, |s, &v| s + v);
        }
        let mut dx = dxs.as_deref_mut().map(|dxs| &mut *dxs[j]);
        if let Some(dx) = dx.as_deref_mut() {
            dx.fill(T::zero());
        }
        for_each_run(d, |o, c, tap, at_y, at_x, len| {
            let dy = &dy[o * plane + at_y..][..len];
            let x = &x[c * hw + at_x..];
            let dot = dy.iter().zip(x.iter().step_by(d.sw)).fold(T::zero(), |s, (&g, &x)| s + g * x);
            gw[o * taps + tap] = gw[o * taps + tap] + dot;
            if let Some(dx) = dx.as_deref_mut() {
                let a = w[o * taps + tap];
                dx[c * hw + at_x..].iter_mut().step_by(d.sw).zip(dy).for_each(|(dx, &g)| *dx = *dx + a * g);
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Phases: wide registers, any stride.
// ---------------------------------------------------------------------------

/// The phase-plane layout of a depthwise convolution for registers of `l`
/// lanes (see the module docs).
#[derive(Clone, Copy)]
struct Phases {
    d: Dims,
    /// The phase planes' geometry.
    p: Planes,
    /// The channel multiplier `c_out / c_in`.
    m: usize,
    /// A phase plane's width, `⌈(W + 2P) / sw⌉` (its height is
    /// `⌈(H + 2P) / sh⌉`).
    wq: usize,
    /// Values per phase plane: `hq·wq` and a register of slack, or more
    /// where the widest read (the largest shift plus `regs` registers)
    /// needs it; the values past `hq·wq` stay zero.
    q: usize,
    /// Registers of output positions, covering `(OH − 1)·wq + OW`.
    regs: usize,
    /// Registers covering a phase plane (the input gradient's positions).
    xregs: usize,
    /// The largest shift of a kernel offset, and the zeros before a
    /// widened output gradient.
    front: usize,
    /// Values per widened output gradient: `front`, then the positions.
    dylen: usize,
}

impl Phases {
    /// The layout, or `None` where `d` is not a depthwise convolution.
    #[inline(always)]
    fn of(d: Dims, l: usize) -> Option<Phases> {
        if !valid(d) {
            return None;
        }
        let p = Planes::of(d);
        let wq = p.wq;
        let regs = p.positions().div_ceil(l);
        let xregs = p.size().div_ceil(l);
        let front = p.front();
        let q = (p.size() + l).max(front + regs * l);
        Some(Phases { d, p, m: d.c_out / d.c_in, wq, q, regs, xregs, front, dylen: front + regs.max(xregs) * l })
    }

    /// The phase planes of one channel.
    #[inline(always)]
    fn xlen(self) -> usize {
        self.d.sh * self.d.sw * self.q
    }

    /// How far kernel offset `(ky, kx)` is shifted within its plane.
    #[inline(always)]
    fn shift(self, ky: usize, kx: usize) -> usize {
        self.p.shift(ky, kx)
    }

    /// Where kernel offset `(ky, kx)` starts reading in the phase planes.
    #[inline(always)]
    fn at(self, ky: usize, kx: usize) -> usize {
        self.p.phase(ky, kx) * self.q + self.shift(ky, kx)
    }

    /// Copies one channel's plane `x` into the phase planes `xq` (planes
    /// `plane` values apart): [`Planes::split`].
    #[inline(always)]
    fn split<S: Lanes>(self, s: S, x: &[S::T], xq: &mut [S::T], plane: usize) {
        self.p.split(s, x, xq, plane);
    }

    /// Copies the phase planes `dxq` back into one channel's plane `dx`:
    /// [`Planes::merge`].
    #[inline(always)]
    fn merge<S: Lanes>(self, s: S, dxq: &[S::T], dx: &mut [S::T], plane: usize) {
        self.p.merge::<S, false>(s, dxq, dx, plane);
    }

    /// Writes one output channel's gradient `dy` into `dyw` at the wide
    /// positions, after `front` zeros; the rest keeps its zeros.
    #[inline(always)]
    fn widen<T: Copy>(self, dy: &[T], dyw: &mut [T]) {
        self.p.widen(dy, &mut dyw[self.front..]);
    }
}

/// Runs `$tile::<W>(…, v)` over registers `0..$count`: `W = $n` while `$n`
/// fit, then 4, 2 and 1, so that every register is computed once with as
/// many in flight as possible.
macro_rules! in_tiles {
    ($count:expr, $n:ident, $v:ident => $tile:ident::<$s:ident, _>($($arg:expr),*)) => {{
        let count = $count;
        let mut $v = 0;
        while $v + $n <= count {
            $tile::<$s, $n>($($arg),*);
            $v += $n;
        }
        if $n > 4 {
            while $v + 4 <= count {
                $tile::<$s, 4>($($arg),*);
                $v += 4;
            }
        }
        if $n > 2 {
            while $v + 2 <= count {
                $tile::<$s, 2>($($arg),*);
                $v += 2;
            }
        }
        while $v < count {
            $tile::<$s, 1>($($arg),*);
            $v += 1;
        }
    }};
}

/// Whether `G`'s output positions (in the phase-plane layout) fill at
/// most four 16-lane registers: then 8-lane registers, which leave less
/// of the last one unused, run faster (stride 2 on 14×14: 55 positions).
#[inline(always)]
pub(crate) fn small<G: ConvShape>() -> bool {
    Phases::of(G::DIMS, 16).is_some_and(|g| g.regs <= 4)
}

/// Forward in phase planes over a block, `N` registers of positions in
/// flight. Returns `false`, touching nothing, where the form does not apply
/// (not a depthwise convolution, or planes larger than the scratch).
#[inline(always)]
pub(crate) fn forward<G: ConvShape, S: Lanes, const N: usize>(
    s: S,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) -> bool {
    let Some(g) = Phases::of(G::DIMS, S::L) else { return false };
    match 2 * g.xlen() + g.regs * S::L {
        need if need <= SMALL => forward_in::<S, N, SMALL>(s, g, w, b, xs, ys),
        need if need <= LARGE => forward_in::<S, N, LARGE>(s, g, w, b, xs, ys),
        _ => return false,
    }
    true
}

/// [`forward`] with `SIZE` values of scratch: one channel's phase planes,
/// then one output channel's wide positions.
#[inline(always)]
fn forward_in<S: Lanes, const N: usize, const SIZE: usize>(
    s: S,
    g: Phases,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) {
    let d = g.d;
    let (taps, hw, plane) = (d.kh * d.kw, d.h * d.w, d.oh * d.ow);
    let mut scratch = [<S::T as num_traits::Zero>::zero(); SIZE];
    // Two sets of phase planes: the next channel is split into one while
    // the other is read, so the reads do not wait for the split's stores.
    let (planes, rest) = scratch.split_at_mut(2 * g.xlen());
    let yw = &mut rest[..g.regs * S::L];
    let channels = xs.len().min(ys.len()) * d.c_in;
    let input = |k: usize| &xs[k / d.c_in][k % d.c_in * hw..][..hw];
    if channels > 0 {
        g.split(s, input(0), &mut planes[..g.xlen()], g.q);
    }
    for k in 0..channels {
        let (now, next) = planes.split_at_mut(g.xlen());
        let (now, next) = if k % 2 == 0 { (&*now, next) } else { (&*next, now) };
        if k + 1 < channels {
            g.split(s, input(k + 1), next, g.q);
        }
        let (y, c) = (&mut ys[k / d.c_in], k % d.c_in);
        for o in c * g.m..(c + 1) * g.m {
            let wo = &w[o * taps..][..taps];
            in_tiles!(g.regs, N, v => forward_tile::<S, _>(s, g, wo, b[o], now, yw, v));
            for (oy, row) in y[o * plane..][..plane].chunks_exact_mut(d.ow).enumerate() {
                row.copy_from_slice(&yw[oy * g.wq..][..d.ow]);
            }
        }
    }
}

/// `yw[v·L..(v + N)·L] = b + Σ_(ky, kx) w[ky][kx] · xq[at(ky, kx) + v·L..]`.
#[inline(always)]
fn forward_tile<S: Lanes, const N: usize>(
    s: S,
    g: Phases,
    w: &[S::T],
    b: S::T,
    xq: &[S::T],
    yw: &mut [S::T],
    v: usize,
) {
    let d = g.d;
    let mut acc = [s.splat(b); N];
    for ky in 0..d.kh {
        for kx in 0..d.kw {
            let wv = s.splat(w[ky * d.kw + kx]);
            let src = &xq[g.at(ky, kx) + v * S::L..];
            for (n, acc) in acc.iter_mut().enumerate() {
                *acc = s.madd(wv, s.load(&src[n * S::L..]), *acc);
            }
        }
    }
    for (n, &acc) in acc.iter().enumerate() {
        s.store(&mut yw[(v + n) * S::L..], acc);
    }
}

/// Backward in phase planes over a block: `db += Σ dy`; `dW += Σ dy ⋆ x`
/// with `TT` kernel offsets of register accumulators summed over groups of
/// samples; and, when `dxs` is given, each `dx` overwritten, `N` registers
/// in flight. Returns `false`, touching nothing, where the form does not
/// apply.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn backward<G: ConvShape, S: Lanes, const N: usize, const TT: usize>(
    s: S,
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    dxs: Option<&mut [&mut [S::T]]>,
) -> bool {
    let Some(g) = Phases::of(G::DIMS, S::L) else { return false };
    let spare = if dxs.is_some() { 2 * (g.d.sh * g.d.sw * g.xregs + 1) * S::L } else { 0 };
    match g.xlen() + g.m * g.dylen + spare {
        need if need <= SMALL => backward_in::<S, N, TT, SMALL>(s, g, w, xs, dys, gw, gb, dxs),
        need if need <= LARGE => backward_in::<S, N, TT, LARGE>(s, g, w, xs, dys, gw, gb, dxs),
        _ => return false,
    }
    true
}

/// [`backward`] with `SIZE` values of scratch: per sample of a group, one
/// channel's phase planes and its `m` widened output gradients; once, the
/// phase planes of one channel's input gradient.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_in<S: Lanes, const N: usize, const TT: usize, const SIZE: usize>(
    s: S,
    g: Phases,
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    mut dxs: Option<&mut [&mut [S::T]]>,
) {
    let d = g.d;
    let (taps, hw, plane) = (d.kh * d.kw, d.h * d.w, d.oh * d.ow);
    let per_sample = g.xlen() + g.m * g.dylen;
    let xplane = g.xregs * S::L;
    // Twice the input gradient's phase planes with a register of slack
    // after them: one sample's are merged into `dx` while the next one's
    // are computed, so the merge does not wait for the stores.
    let phases = d.sh * d.sw * xplane + S::L;
    let spare = if dxs.is_some() { 2 * phases } else { 0 };
    let group = (SIZE - spare) / per_sample;
    let mut scratch = [<S::T as num_traits::Zero>::zero(); SIZE];
    let (samples, dxq) = scratch.split_at_mut(SIZE - spare);
    let n = xs.len().min(dys.len());
    for c in 0..d.c_in {
        let mut first = 0;
        while first < n {
            let count = group.min(n - first);
            let used = &mut samples[..count * per_sample];
            for (j, part) in used.chunks_exact_mut(per_sample).enumerate() {
                let (xq, dyw) = part.split_at_mut(g.xlen());
                g.split(s, &xs[first + j][c * hw..][..hw], xq, g.q);
                for (k, dyw) in dyw.chunks_exact_mut(g.dylen).enumerate() {
                    g.widen(&dys[first + j][(c * g.m + k) * plane..][..plane], dyw);
                }
            }
            let used = &*used;
            for k in 0..g.m {
                let o = c * g.m + k;
                gb[o] = gb[o] + bias_grad(s, g, used, per_sample, k);
                let gw = &mut gw[o * taps..][..taps];
                let mut t = 0;
                while t + TT <= taps {
                    grad_tile::<S, TT>(s, g, used, per_sample, k, gw, t);
                    t += TT;
                }
                while t < taps {
                    grad_tile::<S, 1>(s, g, used, per_sample, k, gw, t);
                    t += 1;
                }
            }
            if let Some(dxs) = dxs.as_deref_mut() {
                let wc = &w[c * g.m * taps..][..g.m * taps];
                let (even, odd) = dxq.split_at_mut(phases);
                for j in 0..=count {
                    let (now, last) = if j % 2 == 0 { (&mut *even, &*odd) } else { (&mut *odd, &*even) };
                    if j < count {
                        let dyw = &used[j * per_sample + g.xlen()..][..g.m * g.dylen];
                        for a in 0..d.sh {
                            for b in 0..d.sw {
                                let out = &mut now[(a * d.sw + b) * xplane..][..xplane];
                                in_tiles!(g.xregs, N, v => input_tile::<S, _>(s, g, wc, dyw, (a, b), out, v));
                            }
                        }
                    }
                    if j > 0 {
                        g.merge(s, last, &mut dxs[first + j - 1][c * hw..][..hw], xplane);
                    }
                }
            }
            first += count;
        }
    }
}

/// `Σ dy` of output `k` of the channel over the samples of a group, in
/// registers of positions (the widened gradient is zero elsewhere).
#[inline(always)]
fn bias_grad<S: Lanes>(s: S, g: Phases, samples: &[S::T], per_sample: usize, k: usize) -> S::T {
    // `1 · v + acc` rounds once, as an addition does.
    let one = s.splat(<S::T as num_traits::One>::one());
    let mut acc = s.zero();
    for part in samples.chunks_exact(per_sample) {
        let dyw = &part[g.xlen() + k * g.dylen + g.front..];
        for v in 0..g.regs {
            acc = s.madd(one, s.load(&dyw[v * S::L..]), acc);
        }
    }
    s.hsum(acc)
}

/// `gw[t + j] += Σ_samples Σ_p dyw[p] · xq[at(t + j) + p]` for `K` kernel
/// offsets from `t`, output `k` of the channel.
#[inline(always)]
fn grad_tile<S: Lanes, const K: usize>(
    s: S,
    g: Phases,
    samples: &[S::T],
    per_sample: usize,
    k: usize,
    gw: &mut [S::T],
    t: usize,
) {
    let kw = g.d.kw;
    let mut at = [0; K];
    for (j, at) in at.iter_mut().enumerate() {
        *at = g.at((t + j) / kw, (t + j) % kw);
    }
    let mut acc = [s.zero(); K];
    for part in samples.chunks_exact(per_sample) {
        let (xq, dyw) = part.split_at(g.xlen());
        let dyw = &dyw[k * g.dylen + g.front..];
        for v in 0..g.regs {
            let p = v * S::L;
            let dv = s.load(&dyw[p..]);
            for (acc, &at) in acc.iter_mut().zip(&at) {
                *acc = s.madd(dv, s.load(&xq[at + p..]), *acc);
            }
        }
    }
    for (gw, &acc) in gw[t..t + K].iter_mut().zip(&acc) {
        *gw = *gw + s.hsum(acc);
    }
}

/// Registers `v..v + N` of phase plane `(a, b)` of the channel's input
/// gradient: `Σ_k Σ_(ky, kx) w[k][ky][kx] · dyw[k][u − shift(ky, kx)]` over
/// the kernel offsets of that plane (`ky ≡ a mod sh`, `kx ≡ b mod sw`) and
/// the channel's `m` outputs. The `front` zeros before each widened
/// gradient make every read land inside it.
#[inline(always)]
fn input_tile<S: Lanes, const N: usize>(
    s: S,
    g: Phases,
    w: &[S::T],
    dyw: &[S::T],
    (a, b): (usize, usize),
    out: &mut [S::T],
    v: usize,
) {
    let d = g.d;
    let taps = d.kh * d.kw;
    let mut acc = [s.zero(); N];
    for k in 0..g.m {
        let (w, dyw) = (&w[k * taps..], &dyw[k * g.dylen..]);
        for ky in (a..d.kh).step_by(d.sh) {
            for kx in (b..d.kw).step_by(d.sw) {
                let wv = s.splat(w[ky * d.kw + kx]);
                let src = &dyw[g.front + v * S::L - g.shift(ky, kx)..];
                for (n, acc) in acc.iter_mut().enumerate() {
                    *acc = s.madd(wv, s.load(&src[n * S::L..]), *acc);
                }
            }
        }
    }
    for (n, &acc) in acc.iter().enumerate() {
        s.store(&mut out[(v + n) * S::L..], acc);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::format;
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::kernel::Kernels;
    use crate::kernel::lanes::Portable;
    use crate::prelude::*;

    /// A depthwise convolution's sizes from channels, multiplier, plane,
    /// kernel, stride and padding (rows, columns).
    pub(crate) const fn dims(
        c: usize,
        m: usize,
        (h, w): (usize, usize),
        (kh, kw): (usize, usize),
        (sh, sw): (usize, usize),
        (ph, pw): (usize, usize),
    ) -> Dims {
        let (oh, ow) = ((h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1);
        Dims { c_in: c, c_out: c * m, h, w, kh, kw, sh, sw, ph, pw, oh, ow }
    }

    /// Test convolutions as types: `shapes!(Name = dims(..); ..)`.
    macro_rules! shapes {
        ($($name:ident = $dims:expr;)*) => {$(
            pub(crate) struct $name;
            impl ConvShape for $name {
                const DIMS: Dims = $dims;
            }
        )*};
    }

    // DS-CNN's 3×3 at strides 1 and 2; multipliers; a 5×5 kernel; a stride
    // past the kernel (phase planes no offset reads); an oblong kernel with
    // different strides and paddings per axis; padding wider than half the
    // kernel; 1×1; a kernel as large as the padded input; planes that need
    // the large scratch.
    shapes! {
        S1P1 = dims(3, 1, (14, 14), (3, 3), (1, 1), (1, 1));
        S2P1M2 = dims(2, 2, (14, 14), (3, 3), (2, 2), (1, 1));
        S1P0M3 = dims(2, 3, (7, 9), (3, 3), (1, 1), (0, 0));
        S2P0 = dims(3, 1, (8, 7), (3, 3), (2, 2), (0, 0));
        K5S2P2 = dims(1, 2, (11, 10), (5, 5), (2, 2), (2, 2));
        K2S3P1 = dims(2, 1, (7, 8), (2, 2), (3, 3), (1, 1));
        Oblong = dims(2, 2, (6, 9), (3, 2), (2, 1), (1, 0));
        WidePad = dims(2, 1, (4, 5), (3, 3), (1, 1), (2, 2));
        Single = dims(4, 1, (5, 5), (1, 1), (1, 1), (0, 0));
        Full = dims(2, 2, (3, 3), (5, 5), (1, 1), (1, 1));
        Large = dims(1, 1, (60, 60), (3, 3), (1, 1), (1, 1));
        Huge = dims(1, 1, (200, 200), (3, 3), (1, 1), (1, 1));
    }

    pub(crate) fn random(n: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// The definition, one term at a time: forward, and the backward's
    /// `dW`, `db`, `dx` for output gradient `dy`.
    fn definition(d: Dims, w: &[f64], b: &[f64], x: &[f64], dy: &[f64]) -> [Vec<f64>; 4] {
        let m = d.c_out / d.c_in;
        let (mut y, mut gw, mut gb, mut dx) =
            (vec![0.0; d.c_out * d.oh * d.ow], vec![0.0; w.len()], vec![0.0; d.c_out], vec![0.0; x.len()]);
        for o in 0..d.c_out {
            for i in 0..d.oh {
                for j in 0..d.ow {
                    let at = (o * d.oh + i) * d.ow + j;
                    y[at] = b[o];
                    gb[o] += dy[at];
                    for ky in 0..d.kh {
                        for kx in 0..d.kw {
                            let (iy, ix) =
                                ((i * d.sh + ky) as isize - d.ph as isize, (j * d.sw + kx) as isize - d.pw as isize);
                            if (0..d.h as isize).contains(&iy) && (0..d.w as isize).contains(&ix) {
                                let xi = ((o / m) * d.h + iy as usize) * d.w + ix as usize;
                                let wi = (o * d.kh + ky) * d.kw + kx;
                                y[at] += w[wi] * x[xi];
                                gw[wi] += dy[at] * x[xi];
                                dx[xi] += dy[at] * w[wi];
                            }
                        }
                    }
                }
            }
        }
        [y, gw, gb, dx]
    }

    fn slices(v: &[Vec<f64>]) -> Vec<&[f64]> {
        v.iter().map(|x| &x[..]).collect()
    }

    pub(crate) fn close(a: &[f64], b: &[f64], tolerance: f64, what: &str, d: Dims) {
        assert_eq!(a.len(), b.len(), "{what}: lengths, {d:?}");

        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tolerance * (1.0 + x.abs()), "{what} [{i}]: {x} vs {y}, {d:?}");
        }
    }

    /// Block forward and backward of one form on 3 samples: outputs, then
    /// `dW` and `db` added to 0.5, then the input gradients over stale
    /// values, then `dW`, `db` without input gradients.
    pub(crate) type Run<'a> = &'a dyn Fn(&[f64], &[f64], &[&[f64]], &[&[f64]]) -> [Vec<f64>; 6];

    /// `form` against the definition on `G`, to `tolerance`.
    pub(crate) fn agrees<G: ConvShape>(seed: u64, form: Run<'_>, tolerance: f64, name: &str) {
        let d = G::DIMS;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (xl, yl, wl) = (d.c_in * d.h * d.w, d.c_out * d.oh * d.ow, d.c_out * d.kh * d.kw);
        let (w, b) = (random(wl, &mut rng), random(d.c_out, &mut rng));
        let xs: Vec<Vec<f64>> = (0..3).map(|_| random(xl, &mut rng)).collect();
        let dys: Vec<Vec<f64>> = (0..3).map(|_| random(yl, &mut rng)).collect();
        let want: Vec<[Vec<f64>; 4]> = xs.iter().zip(&dys).map(|(x, dy)| definition(d, &w, &b, x, dy)).collect();
        let [y, gw, gb, dx, gw_only, gb_only] = form(&w, &b, &slices(&xs), &slices(&dys));
        let sum = |k: usize, len: usize| -> Vec<f64> {
            (0..len).map(|i| 0.5 + want.iter().map(|w| w[k][i]).sum::<f64>()).collect()
        };
        let concat = |k: usize| want.iter().flat_map(|w| w[k].iter().copied()).collect::<Vec<f64>>();
        close(&y, &concat(0), tolerance, &format!("{name} forward"), d);
        close(&gw, &sum(1, wl), tolerance, &format!("{name} weight gradient"), d);
        close(&gb, &sum(2, d.c_out), tolerance, &format!("{name} bias gradient"), d);
        close(&dx, &concat(3), tolerance, &format!("{name} input gradient"), d);
        close(&gw_only, &sum(1, wl), tolerance, &format!("{name} weight gradient without dx"), d);
        close(&gb_only, &sum(2, d.c_out), tolerance, &format!("{name} bias gradient without dx"), d);
    }

    /// Runs `forward` and `backward` (each returning whether it applied)
    /// as [`Run`] describes, in `T`.
    pub(crate) fn run<T: Scalar>(
        d: Dims,
        w: &[f64],
        b: &[f64],
        xs: &[&[f64]],
        dys: &[&[f64]],
        forward: impl Fn(&[T], &[T], &[&[T]], &mut [&mut [T]]) -> bool,
        backward: impl Fn(&[T], &[&[T]], &[&[T]], &mut [T], &mut [T], Option<&mut [&mut [T]]>) -> bool,
    ) -> [Vec<f64>; 6] {
        let t = |v: &[f64]| v.iter().map(|&v| T::from_f64(v)).collect::<Vec<T>>();
        let back = |v: &[T]| v.iter().map(|&v| v.to_f64()).collect::<Vec<f64>>();
        let (w, b) = (t(w), t(b));
        let (xs, dys): (Vec<Vec<T>>, Vec<Vec<T>>) =
            (xs.iter().map(|x| t(x)).collect(), dys.iter().map(|x| t(x)).collect());
        let (xr, dyr): (Vec<&[T]>, Vec<&[T]>) =
            (xs.iter().map(|x| &x[..]).collect(), dys.iter().map(|x| &x[..]).collect());
        let mut ys = vec![vec![T::zero(); d.c_out * d.oh * d.ow]; xs.len()];
        assert!(
            forward(&w, &b, &xr, &mut ys.iter_mut().map(|y| &mut y[..]).collect::<Vec<_>>()),
            "forward declined, {d:?}"
        );
        let half = T::from_f64(0.5);
        let (mut gw, mut gb) = (vec![half; w.len()], vec![half; b.len()]);
        let mut dxs = vec![vec![T::from_f64(9.0); d.c_in * d.h * d.w]; xs.len()];
        let mut dxr: Vec<&mut [T]> = dxs.iter_mut().map(|x| &mut x[..]).collect();
        assert!(backward(&w, &xr, &dyr, &mut gw, &mut gb, Some(&mut dxr)), "backward declined, {d:?}");
        let (mut gw_only, mut gb_only) = (vec![half; w.len()], vec![half; b.len()]);
        assert!(backward(&w, &xr, &dyr, &mut gw_only, &mut gb_only, None), "backward declined, {d:?}");
        let flat = |v: &[Vec<T>]| v.iter().flat_map(|x| back(x)).collect::<Vec<f64>>();
        [flat(&ys), back(&gw), back(&gb), flat(&dxs), back(&gw_only), back(&gb_only)]
    }

    fn plain<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        run::<f64>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| {
                forward_plain::<G, _>(w, b, xs, ys);
                true
            },
            |w, xs, dys, gw, gb, dxs| {
                backward_plain::<G, _>(w, xs, dys, gw, gb, dxs);
                true
            },
        )
    }

    /// Phase planes in portable `f64` lanes, 3 registers and 2 offsets in
    /// flight (so the remainder tiles run too).
    fn phases<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        run::<f64>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| forward::<G, _, 3>(Portable::NEW, w, b, xs, ys),
            |w, xs, dys, gw, gb, dxs| backward::<G, _, 3, 2>(Portable::NEW, w, xs, dys, gw, gb, dxs),
        )
    }

    /// `f32` through [`Kernels`], the path layers take (the widest variant
    /// this CPU has).
    fn kernels<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        run::<f32>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| {
                f32::depthwise_forward::<G>(w, b, xs, ys);
                true
            },
            |w, xs, dys, gw, gb, dxs| {
                f32::depthwise_backward::<G>(w, xs, dys, gw, gb, dxs);
                true
            },
        )
    }

    /// Every test shape but `Huge` through `form` (a function generic over
    /// the shape, returning what [`Run`] describes), to `tolerance`.
    macro_rules! each_shape {
        ($form:ident, $tolerance:expr, $name:expr) => {
            agrees::<S1P1>(1, &$form::<S1P1>, $tolerance, $name);
            agrees::<S2P1M2>(2, &$form::<S2P1M2>, $tolerance, $name);
            agrees::<S1P0M3>(3, &$form::<S1P0M3>, $tolerance, $name);
            agrees::<S2P0>(4, &$form::<S2P0>, $tolerance, $name);
            agrees::<K5S2P2>(5, &$form::<K5S2P2>, $tolerance, $name);
            agrees::<K2S3P1>(6, &$form::<K2S3P1>, $tolerance, $name);
            agrees::<Oblong>(7, &$form::<Oblong>, $tolerance, $name);
            agrees::<WidePad>(8, &$form::<WidePad>, $tolerance, $name);
            agrees::<Single>(9, &$form::<Single>, $tolerance, $name);
            agrees::<Full>(10, &$form::<Full>, $tolerance, $name);
            agrees::<Large>(11, &$form::<Large>, $tolerance, $name);
        };
    }
    // For the x86 and NEON leaves' tests of their variants.
    #[cfg(any(
        all(feature = "std", target_arch = "x86_64"),
        all(target_arch = "aarch64", target_feature = "neon")
    ))]
    pub(crate) use each_shape;

    #[test]
    fn the_plain_form_agrees_with_the_definition() {
        each_shape!(plain, 1e-12, "plain");
    }

    #[test]
    fn phase_planes_agree_with_the_definition() {
        each_shape!(phases, 1e-12, "phases");
    }

    /// `f32` sums of up to a few thousand products differ from `f64`'s
    /// by up to about 1e-5 (relative to `1 + |value|`).
    pub(crate) const F32_TOLERANCE: f64 = 5e-5;

    #[test]
    fn f32_kernels_agree_with_the_definition() {
        each_shape!(kernels, F32_TOLERANCE, "f32");
    }

    #[test]
    fn phase_planes_decline_what_does_not_fit() {
        let d = Huge::DIMS;
        let (w, b, x) = ([0.0; 9], [0.0], vec![1.0; d.h * d.w]);
        let mut y = vec![7.0; d.oh * d.ow];
        assert!(!forward::<Huge, _, 2>(Portable::NEW, &w, &b, &[&x], &mut [&mut y]));
        assert!(y.iter().all(|&v| v == 7.0), "a declined call touches nothing");
        let (mut gw, mut gb) = ([0.0; 9], [0.0]);
        assert!(!backward::<Huge, _, 2, 3>(Portable::NEW, &w, &[&x], &[&y], &mut gw, &mut gb, None));
        assert_eq!((gw, gb), ([0.0; 9], [0.0]));
        // The seam then takes the plain form.
        let mut y = vec![7.0f32; d.oh * d.ow];
        f32::depthwise_forward::<Huge>(&[1.0; 9], &[0.5], &[&vec![1.0f32; d.h * d.w]], &mut [&mut y]);
        assert_eq!((y[0], y[d.ow + 1]), (4.5, 9.5));
    }
}
