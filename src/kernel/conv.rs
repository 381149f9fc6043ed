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
//! - **Wide rows** (any stride, full registers): each input channel is
//!   copied into zero-padded *phase planes* (`phases.rs`: at stride 1 the
//!   padded plane itself, at stride `S` its `S×S` polyphase parts, each
//!   `Wq = ⌈(W + 2P) / S⌉` wide), and outputs are computed at the wide
//!   positions `p = oy·Wq + ox`. Then the input a kernel offset
//!   `(c, ky, kx)` meets is one phase plane of channel `c` shifted by
//!   `⌊ky/S⌋·Wq + ⌊kx/S⌋`, one contiguous slice for the whole output
//!   plane: a stride-`S` convolution is a sum of stride-1 convolutions of
//!   the phase planes with the sub-kernels, and every product a
//!   full-register multiply-add, with a tile of output channels ×
//!   registers of positions held in registers while the kernel offsets go
//!   by. The columns `ox ≥ OW` are computed and dropped (for W4's 8×8
//!   digits, 46 positions are computed for 36 outputs; for 28×28 at
//!   stride 2 with padding 1, 209 for 196).
//!   Weight gradients are dot products of the widened output gradient
//!   (zeros in the dropped columns) with the same shifted slices, summed in
//!   registers over a group of samples before one horizontal sum each. The
//!   input gradient of each phase plane gathers, at each position `u`,
//!   `Σ_o w[o][c][ky][kx] · dy[o][u − shift(ky, kx)]` over the output
//!   channels and that plane's offsets (a correlation in registers, tiles
//!   of input channels × registers, like the forward pass), then the
//!   planes are interleaved back into `dx`.
//!
//! The wide form uses stack scratch of at most [`LARGE`] values. Where a
//! pass does not fit at once it is cut ([`Cut`]): chunks of input
//! channels, chunks of output channels, groups of samples, chosen when
//! the kernel is compiled for a shape (`Plan`); only a convolution one of
//! whose channels' phase planes alone exceed the scratch takes the runs
//! form.

use core::ops::Range;

use super::lanes::Lanes;
use super::phases::Planes;
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
    const fn taps(self) -> usize {
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
// Wide rows in phase planes: any stride, full registers.
// ---------------------------------------------------------------------------

/// Values of stack scratch the wide form takes when they suffice (16 KiB
/// of `f32`): zeroing the scratch is part of each call's cost.
const SMALL: usize = 4 * 1024;
/// Values of stack scratch the wide form takes at most (64 KiB of `f32`):
/// larger convolutions are cut into chunks of channels and groups of
/// samples that fit (a [`Cut`]); only one whose single channel does not
/// fit takes the runs form.
const LARGE: usize = 16 * 1024;

/// The most samples whose weight-gradient products are summed in
/// registers before one horizontal sum each.
const GROUP: usize = 8;

/// The wide layout of a convolution (any stride) for registers of `l`
/// lanes: input channels in phase planes (see `phases.rs`), output planes
/// at wide positions `oy·Wq + ox`.
#[derive(Clone, Copy)]
struct Wide {
    d: Dims,
    p: Planes,
    /// Lanes per register.
    l: usize,
    /// Values per phase plane: `Hq·Wq`, and at column stride 2 a register
    /// of slack (the split stores whole registers).
    q: usize,
    /// Values per input channel: `sh·sw·q`.
    chan: usize,
    /// Registers of output positions, covering `(OH − 1)·Wq + OW`.
    regs: usize,
    /// Values per widened output channel of the forward pass and the
    /// weight gradient: `regs·L`.
    row: usize,
    /// Values per phase plane of the input gradient: `Hq·Wq` rounded up
    /// to whole registers.
    xplane: usize,
    /// The largest shift of a kernel offset: the zeros before each output
    /// channel of the input gradient's widened output gradient.
    front: usize,
    /// Values per output channel of that widened gradient: `front`, then
    /// the positions, as far as the input gradient reads.
    dylen: usize,
    /// The farthest a kernel offset starts reading in a channel's phase
    /// planes: the largest `at(0, ky, kx)`.
    reach: usize,
}

/// How a pass is cut to fit its scratch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cut {
    /// Output channels per chunk.
    oc: usize,
    /// Input channels per chunk (all of them: the input is split once).
    cc: usize,
    /// Samples per group.
    m: usize,
}

impl Wide {
    /// The layout, or `None` for an empty convolution.
    const fn of(d: Dims, l: usize) -> Option<Wide> {
        if d.c_in == 0 || d.c_out == 0 || d.kh == 0 || d.kw == 0 || d.sh == 0 || d.sw == 0 || d.oh == 0 || d.ow == 0 {
            return None;
        }
        let p = Planes::of(d);
        let q = p.size() + if d.sw == 2 { l } else { 0 };
        let regs = p.positions().div_ceil(l);
        let xregs = p.size().div_ceil(l);
        let front = p.front();
        let mut reach = 0;
        let mut t = 0;
        while t < d.kh * d.kw {
            let at = p.phase(t / d.kw, t % d.kw) * q + p.shift(t / d.kw, t % d.kw);
            if at > reach {
                reach = at;
            }
            t += 1;
        }
        Some(Wide {
            d,
            p,
            l,
            reach,
            q,
            chan: p.count() * q,
            regs,
            row: regs * l,
            xplane: xregs * l,
            front,
            dylen: front + if regs > xregs { regs } else { xregs } * l,
        })
    }

    /// Where kernel offset `(ky, kx)` of the `c`-th channel of a chunk
    /// starts reading in the chunk's phase planes.
    #[inline(always)]
    fn at(self, c: usize, ky: usize, kx: usize) -> usize {
        c * self.chan + self.p.phase(ky, kx) * self.q + self.p.shift(ky, kx)
    }

    /// Values of a chunk of `cc` input channels' phase planes, with a
    /// register of slack for the last register of the last offset.
    const fn chunk(self, cc: usize) -> usize {
        cc * self.chan + self.l
    }

    /// Values of the input gradient's phase planes for `rc` channels, and
    /// a register of slack for the merge's last loads.
    const fn tile(self, rc: usize) -> usize {
        rc * self.p.count() * self.xplane + self.l
    }

    /// Splits channels `c0..c0 + cn` of the sample `x` into the phase
    /// planes of a chunk `xq`, whose padding keeps its zeros.
    #[inline(always)]
    fn split<S: Lanes>(self, s: S, x: &[S::T], c0: usize, cn: usize, xq: &mut [S::T]) {
        let hw = self.d.h * self.d.w;
        for c in 0..cn {
            self.p.split(s, &x[(c0 + c) * hw..][..hw], &mut xq[c * self.chan..], self.q);
        }
    }

    /// The forward pass's cut for `size` values of scratch and tiles of
    /// `r` output channels: every input channel split once and one tile's
    /// wide rows, where they fit; else chunks of input channels summed
    /// into the wide rows of up to half the scratch's output channels.
    const fn forward_cut(self, r: usize, size: usize) -> Option<Cut> {
        let d = self.d;
        let r = if r < d.c_out { r } else { d.c_out };
        if self.chunk(d.c_in) + r * self.row <= size {
            return Some(Cut { oc: r, cc: d.c_in, m: 1 });
        }
        let mut oc = size / 2 / self.row;
        if oc > d.c_out {
            oc = d.c_out;
        }
        if oc >= r {
            oc -= oc % r;
        }
        if oc == 0 {
            oc = 1;
        }
        let Some(room) = size.checked_sub(oc * self.row + self.l) else { return None };
        let cc = room / self.chan;
        if cc == 0 {
            return None;
        }
        Some(Cut { oc, cc: if cc < d.c_in { cc } else { d.c_in }, m: 1 })
    }

    /// The weight gradient's cut for `size` values of scratch (each sample
    /// of a group holds `oc` widened output channels and `cc` channels'
    /// phase planes), tiles of `r` output channels, and its cost in
    /// operations per sample beside the products: a horizontal sum (with
    /// its addition) for each weight per group, and a split of the input
    /// for each chunk of output channels. The cheapest cut.
    const fn weight_cut(self, r: usize, size: usize) -> Option<(Cut, usize)> {
        let d = self.d;
        let mut best: Option<(Cut, usize)> = None;
        let mut m = 1;
        while m <= GROUP {
            let per = size / m;
            let mut oc = d.c_out;
            loop {
                if let Some(room) = per.checked_sub(oc * self.row + self.l)
                    && room >= self.chan
                {
                    let cc = room / self.chan;
                    let cut = Cut { oc, cc: if cc < d.c_in { cc } else { d.c_in }, m };
                    let cost = d.c_out * d.taps() * 4 / m + d.c_out.div_ceil(oc) * d.c_in * d.h * d.w / 2;
                    best = match best {
                        Some((_, b)) if b <= cost => best,
                        _ => Some((cut, cost)),
                    };
                    break;
                }
                let half = (if oc / 2 > r { oc / 2 } else { r }).next_multiple_of(r);
                if half >= oc {
                    break;
                }
                oc = half;
            }
            m += 1;
        }
        best
    }

    /// The input gradient's cut for `size` values of scratch: tiles of
    /// `r` input channels (or one, if those do not fit) gathering from
    /// chunks of `oc` output channels, as many as fit.
    const fn input_cut(self, r: usize, size: usize) -> Option<Cut> {
        let d = self.d;
        let mut rc = if r < d.c_in { r } else { d.c_in };
        loop {
            if let Some(room) = size.checked_sub(self.tile(rc))
                && room >= self.dylen
            {
                let oc = room / self.dylen;
                return Some(Cut { oc: if oc < d.c_out { oc } else { d.c_out }, cc: rc, m: 1 });
            }
            if rc == 1 {
                return None;
            }
            rc = 1;
        }
    }
}

/// How the wide form runs a convolution: its layout, how each pass is
/// cut, and in which scratch. Worked out when the kernel is compiled for
/// a shape (`const`), so every size in the loops is a constant.
#[derive(Clone, Copy)]
struct Plan {
    g: Wide,
    /// The forward pass's cut, and whether it fits the small scratch.
    forward: Option<(Cut, bool)>,
    /// The weight gradient's cut, the input gradient's, and whether they
    /// fit the small scratch: without, then with the input gradient.
    backward: [Option<(Cut, Cut, bool)>; 2],
}

impl Plan {
    /// The plan for `d` in registers of `l` lanes with forward tiles of
    /// `r` output channels, weight-gradient tiles of `rw` output channels
    /// and input-gradient tiles of `rc` input channels; `None` for an
    /// empty convolution.
    const fn of(d: Dims, l: usize, r: usize, rw: usize, rc: usize) -> Option<Plan> {
        let Some(g) = Wide::of(d, l) else { return None };
        let forward = match (g.forward_cut(r, SMALL), g.forward_cut(r, LARGE)) {
            (Some(cut), _) if cut.cc == d.c_in => Some((cut, true)),
            (_, Some(cut)) => Some((cut, false)),
            _ => None,
        };
        // The small scratch where it serves as well as the large one.
        let weights = match (g.weight_cut(rw, SMALL), g.weight_cut(rw, LARGE)) {
            (Some((small, a)), Some((_, b))) if a <= b => Some((small, true)),
            (_, Some((large, _))) => Some((large, false)),
            _ => None,
        };
        let without = match weights {
            Some((cut, small)) => Some((cut, cut, small)),
            None => None,
        };
        let with = match (weights, g.input_cut(rc, SMALL), g.input_cut(rc, LARGE)) {
            (Some((cut, true)), Some(input), _) if input.oc == d.c_out => Some((cut, input, true)),
            (Some((cut, false)), _, Some(input)) => Some((cut, input, false)),
            (Some(_), _, Some(input)) => match g.weight_cut(rw, LARGE) {
                Some((cut, _)) => Some((cut, input, false)),
                None => None,
            },
            _ => None,
        };
        Some(Plan { g, forward, backward: [without, with] })
    }
}

/// Forward in wide rows: `R` output channels × `N` registers of positions
/// per tile. Returns `false`, touching nothing, where the form does not
/// apply (an empty convolution, or one channel's planes larger than the
/// scratch).
#[inline(always)]
pub(crate) fn forward_wide<G: ConvShape, S: Lanes, const R: usize, const N: usize>(
    s: S,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) -> bool {
    let plan = const { Plan::of(G::DIMS, S::L, R, R, 1) };
    match plan {
        Some(Plan { g, forward: Some((cut, true)), .. }) => forward_in::<S, R, N, SMALL>(s, g, cut, w, b, xs, ys),
        Some(Plan { g, forward: Some((cut, false)), .. }) => forward_in::<S, R, N, LARGE>(s, g, cut, w, b, xs, ys),
        _ => return false,
    }
    true
}

/// [`forward_wide`] with `SIZE` values of scratch cut as `cut` says: the
/// phase planes of a chunk of input channels, then the wide output rows of
/// a chunk of output channels.
#[inline(always)]
fn forward_in<S: Lanes, const R: usize, const N: usize, const SIZE: usize>(
    s: S,
    g: Wide,
    cut: Cut,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) {
    let d = g.d;
    let cut = Cut { oc: cut.oc.min(d.c_out), cc: cut.cc.min(d.c_in), ..cut };
    let mut scratch = [<S::T as num_traits::Zero>::zero(); SIZE];
    let (xq, yw) = scratch.split_at_mut(g.chunk(cut.cc));
    let yw = &mut yw[..cut.oc * g.row];
    let whole = cut.cc >= d.c_in;
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        if whole {
            g.split(s, x, 0, d.c_in, xq);
        }
        let mut o0 = 0;
        while o0 < d.c_out {
            let on = cut.oc.min(d.c_out - o0);
            let mut c0 = 0;
            while c0 < d.c_in {
                let cn = cut.cc.min(d.c_in - c0);
                if !whole {
                    g.split(s, x, c0, cn, xq);
                }
                let mut o = 0;
                while o < on {
                    let rows = if o + R <= on { R } else { 1 };
                    let mut v = 0;
                    while v < g.regs {
                        let at = Tile { o0, o, c0, cn, v };
                        if rows == R && v + N <= g.regs {
                            forward_tile::<S, R, N>(s, g, at, w, b, xq, yw);
                            v += N;
                        } else if rows == R {
                            forward_tile::<S, R, 1>(s, g, at, w, b, xq, yw);
                            v += 1;
                        } else if v + N <= g.regs {
                            forward_tile::<S, 1, N>(s, g, at, w, b, xq, yw);
                            v += N;
                        } else {
                            forward_tile::<S, 1, 1>(s, g, at, w, b, xq, yw);
                            v += 1;
                        }
                    }
                    o += rows;
                }
                c0 += cn;
            }
            for o in 0..on {
                for oy in 0..d.oh {
                    let at = ((o0 + o) * d.oh + oy) * d.ow;
                    y[at..at + d.ow].copy_from_slice(&yw[o * g.row + oy * g.p.wq..][..d.ow]);
                }
            }
            o0 += on;
        }
    }
}

/// Where a forward tile sits: output channels from `o0 + o` (`o` within
/// the chunk from `o0`), input channels `c0..c0 + cn` (the chunk in the
/// planes), registers of positions from `v`.
#[derive(Clone, Copy)]
struct Tile {
    o0: usize,
    o: usize,
    c0: usize,
    cn: usize,
    v: usize,
}

/// `yw[o + r][v·L..(v + N)·L] (+)= Σ_(c, ky, kx) w[o0 + o + r][c0 + c][ky][kx] ·
/// xq[at(c, ky, kx) + v·L..]` for `R` output channels, starting from the
/// bias for the first chunk of input channels and from the rows' sums so
/// far for the others.
#[inline(always)]
fn forward_tile<S: Lanes, const R: usize, const N: usize>(
    s: S,
    g: Wide,
    at: Tile,
    w: &[S::T],
    b: &[S::T],
    xq: &[S::T],
    yw: &mut [S::T],
) {
    let d = g.d;
    let (taps, k2) = (d.taps(), d.kh * d.kw);
    let Tile { o0, o, c0, cn, v } = at;
    let mut acc = [[s.zero(); N]; R];
    for (r, acc) in acc.iter_mut().enumerate() {
        for (n, acc) in acc.iter_mut().enumerate() {
            *acc = if c0 == 0 { s.splat(b[o0 + o + r]) } else { s.load(&yw[(o + r) * g.row + (v + n) * S::L..]) };
        }
    }
    for c in 0..cn {
        // Slices of constant length, so that the reads below need no checks.
        let wc = &w[(o0 + o) * taps + (c0 + c) * k2..][..(R - 1) * taps + k2];
        let xc = &xq[c * g.chan + v * S::L..][..g.reach + N * S::L];
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                let src = &xc[g.at(0, ky, kx)..];
                let mut xv = [s.zero(); N];
                for (n, xv) in xv.iter_mut().enumerate() {
                    *xv = s.load(&src[n * S::L..]);
                }
                for (r, acc) in acc.iter_mut().enumerate() {
                    let wv = s.splat(wc[r * taps + ky * d.kw + kx]);
                    for (acc, &xv) in acc.iter_mut().zip(&xv) {
                        *acc = s.madd(wv, xv, *acc);
                    }
                }
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (n, &acc) in acc.iter().enumerate() {
            s.store(&mut yw[(o + r) * g.row + (v + n) * S::L..], acc);
        }
    }
}

/// Backward in wide rows over a block: `db += Σ dy`; `dW += Σ dy ⋆ x` in
/// tiles of `R` output channels × `K` kernel offsets of register
/// accumulators summed over groups of samples; and, when `dxs` is given,
/// each `dx` overwritten with the input gradient, gathered per phase plane
/// in tiles of `RC` input channels × `N` registers. Returns `false`,
/// touching nothing, where the form does not apply.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn backward_wide<G: ConvShape, S: Lanes, const R: usize, const K: usize, const RC: usize, const N: usize>(
    s: S,
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    dxs: Option<&mut [&mut [S::T]]>,
) -> bool {
    let plan = const { Plan::of(G::DIMS, S::L, 1, R, RC) };
    let Some(Plan { g, backward, .. }) = plan else { return false };
    match backward[dxs.is_some() as usize] {
        Some((wc, ic, true)) => backward_in::<S, R, K, RC, N, SMALL>(s, g, (wc, Some(ic)), w, xs, dys, gw, gb, dxs),
        Some((wc, ic, false)) => backward_in::<S, R, K, RC, N, LARGE>(s, g, (wc, Some(ic)), w, xs, dys, gw, gb, dxs),
        None => return false,
    }
    true
}

/// [`backward_wide`] with `SIZE` values of scratch, cut for the weight
/// gradient (per sample of a group: a chunk of widened output gradients,
/// then a chunk of input channels' phase planes) and for the input
/// gradient (a chunk of widened output gradients with `front` zeros
/// before each, then a tile of the input gradient's phase planes).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_in<S: Lanes, const R: usize, const K: usize, const RC: usize, const N: usize, const SIZE: usize>(
    s: S,
    g: Wide,
    (wc, ic): (Cut, Option<Cut>),
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    dxs: Option<&mut [&mut [S::T]]>,
) {
    let d = g.d;
    let wc = Cut { oc: wc.oc.min(d.c_out), cc: wc.cc.min(d.c_in), ..wc };
    let zero = <S::T as num_traits::Zero>::zero();
    let mut scratch = [zero; SIZE];
    let n = xs.len().min(dys.len());
    let plane = d.oh * d.ow;

    // Weight and bias gradients, a group of samples at a time.
    let xoff = wc.oc * g.row;
    let per = xoff + g.chunk(wc.cc);
    let mut first = 0;
    while first < n {
        let count = wc.m.min(n - first);
        let samples = &mut scratch[..count * per];
        let mut o0 = 0;
        while o0 < d.c_out {
            let on = wc.oc.min(d.c_out - o0);
            for (j, part) in samples.chunks_exact_mut(per).enumerate() {
                for o in 0..on {
                    g.p.widen(&dys[first + j][(o0 + o) * plane..][..plane], &mut part[o * g.row..]);
                }
            }
            bias_grads(s, g, samples, per, &mut gb[o0..o0 + on]);
            let mut c0 = 0;
            while c0 < d.c_in {
                let cn = wc.cc.min(d.c_in - c0);
                for (j, part) in samples.chunks_exact_mut(per).enumerate() {
                    g.split(s, xs[first + j], c0, cn, &mut part[xoff..]);
                }
                weight_grads::<S, R, K>(s, g, samples, (per, xoff), (o0, on), (c0, cn), gw);
                c0 += cn;
            }
            o0 += on;
        }
        first += count;
    }

    // Input gradients, a sample at a time.
    let (Some(dxs), Some(ic)) = (dxs, ic) else { return };
    let ic = Cut { oc: ic.oc.min(d.c_out), ..ic };
    let (dyw, rest) = scratch.split_at_mut(ic.oc * g.dylen);
    dyw.fill(zero);
    let dxq = &mut rest[..g.tile(ic.cc)];
    let (hw, phases) = (d.h * d.w, g.p.count());
    for (j, dx) in dxs.iter_mut().enumerate().take(n) {
        let mut o0 = 0;
        while o0 < d.c_out {
            let on = ic.oc.min(d.c_out - o0);
            for o in 0..on {
                g.p.widen(&dys[j][(o0 + o) * plane..][..plane], &mut dyw[o * g.dylen + g.front..]);
            }
            let mut c = 0;
            while c < d.c_in {
                let rows = if ic.cc == RC && c + RC <= d.c_in { RC } else { 1 };
                for a in 0..d.sh {
                    for b in 0..d.sw {
                        let mut v = 0;
                        let xregs = g.xplane / S::L;
                        while v < xregs {
                            let at = Gather { o0, on, c, phase: (a, b), v };
                            if rows == RC && v + N <= xregs {
                                input_tile::<S, RC, N>(s, g, at, w, dyw, dxq);
                                v += N;
                            } else if rows == RC {
                                input_tile::<S, RC, 1>(s, g, at, w, dyw, dxq);
                                v += 1;
                            } else if v + N <= xregs {
                                input_tile::<S, 1, N>(s, g, at, w, dyw, dxq);
                                v += N;
                            } else {
                                input_tile::<S, 1, 1>(s, g, at, w, dyw, dxq);
                                v += 1;
                            }
                        }
                    }
                }
                for r in 0..rows {
                    let (planes, dx) = (&dxq[r * phases * g.xplane..], &mut dx[(c + r) * hw..][..hw]);
                    if o0 == 0 {
                        g.p.merge::<S, false>(s, planes, dx, g.xplane);
                    } else {
                        g.p.merge::<S, true>(s, planes, dx, g.xplane);
                    }
                }
                c += rows;
            }
            o0 += on;
        }
    }
}

/// `gb[o] += Σ_samples Σ_p dyw[o][p]` for the chunk of output channels
/// `gb` holds, in registers of positions.
#[inline(always)]
fn bias_grads<S: Lanes>(s: S, g: Wide, samples: &[S::T], per: usize, gb: &mut [S::T]) {
    // `1 · v + acc` rounds once, as an addition does.
    let one = s.splat(<S::T as num_traits::One>::one());
    for (o, gb) in gb.iter_mut().enumerate() {
        let mut acc = s.zero();
        for part in samples.chunks_exact(per) {
            let dyw = &part[o * g.row..];
            for v in 0..g.regs {
                acc = s.madd(one, s.load(&dyw[v * S::L..]), acc);
            }
        }
        *gb = *gb + s.hsum(acc);
    }
}

/// `gw[o0 + o][c0 + c][ky][kx] += Σ_samples Σ_p dyw[o][p] · xq[at(c, ky, kx) + p]`
/// for the `on` output channels of the chunk and its `cn` input channels,
/// in tiles of `R` output channels × `K` offsets (`per` values per sample,
/// its planes from `xoff`).
#[inline(always)]
fn weight_grads<S: Lanes, const R: usize, const K: usize>(
    s: S,
    g: Wide,
    samples: &[S::T],
    (per, xoff): (usize, usize),
    (o0, on): (usize, usize),
    (c0, cn): (usize, usize),
    gw: &mut [S::T],
) {
    let taps = cn * g.d.kh * g.d.kw;
    let mut o = 0;
    while o < on {
        let rows = if o + R <= on { R } else { 1 };
        let mut t = 0;
        while t < taps {
            let at = (o0, o, c0, t);
            if rows == R && t + K <= taps {
                grad_tile::<S, R, K>(s, g, samples, (per, xoff), at, gw);
                t += K;
            } else if rows == R {
                grad_tile::<S, R, 1>(s, g, samples, (per, xoff), at, gw);
                t += 1;
            } else if t + K <= taps {
                grad_tile::<S, 1, K>(s, g, samples, (per, xoff), at, gw);
                t += K;
            } else {
                grad_tile::<S, 1, 1>(s, g, samples, (per, xoff), at, gw);
                t += 1;
            }
        }
        o += rows;
    }
}

/// One `R × K` tile of [`weight_grads`]: output channels from `o` of the
/// chunk from `o0`, offsets from `t` of the chunk of input channels from
/// `c0` (`t = c·kh·kw + ky·kw + kx`).
#[inline(always)]
fn grad_tile<S: Lanes, const R: usize, const K: usize>(
    s: S,
    g: Wide,
    samples: &[S::T],
    (per, xoff): (usize, usize),
    (o0, o, c0, t): (usize, usize, usize, usize),
    gw: &mut [S::T],
) {
    let d = g.d;
    let k2 = d.kh * d.kw;
    let mut at = [0; K];
    for (k, at) in at.iter_mut().enumerate() {
        let tk = t + k;
        *at = xoff + g.at(tk / k2, tk % k2 / d.kw, tk % d.kw);
    }
    let mut acc = [[s.zero(); K]; R];
    for part in samples.chunks_exact(per) {
        // Rows of constant length, so that the loads below need no checks.
        // (No `array::from_fn`: its closure would not be inlined.)
        let dy = &part[o * g.row..][..R * g.row];
        let mut x = [&part[..0]; K];
        for (x, &at) in x.iter_mut().zip(&at) {
            *x = &part[at..][..g.row];
        }
        for v in 0..g.regs {
            let p = v * S::L;
            let mut dv = [s.zero(); R];
            for (r, dv) in dv.iter_mut().enumerate() {
                *dv = s.load(&dy[r * g.row + p..]);
            }
            for (k, x) in x.iter().enumerate() {
                let xv = s.load(&x[p..]);
                for (acc, &dv) in acc.iter_mut().zip(&dv) {
                    acc[k] = s.madd(dv, xv, acc[k]);
                }
            }
        }
    }
    let taps = d.taps();
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut gw[(o0 + o + r) * taps + c0 * k2 + t..][..K];
        for (gw, &acc) in row.iter_mut().zip(acc) {
            *gw = *gw + s.hsum(acc);
        }
    }
}

/// Where an input-gradient tile sits: output channels `o0..o0 + on` (the
/// chunk in the widened gradients), input channels from `c`, phase plane
/// `(a, b)`, registers from `v`.
#[derive(Clone, Copy)]
struct Gather {
    o0: usize,
    on: usize,
    c: usize,
    phase: (usize, usize),
    v: usize,
}

/// Registers `v..v + N` of phase plane `(a, b)` of input channels
/// `c..c + RC`: `Σ_o Σ_(ky, kx) w[o][c + r][ky][kx] · dyw[o][u − shift(ky, kx)]`
/// over the chunk's output channels and the kernel offsets of that plane
/// (`ky ≡ a mod sh`, `kx ≡ b mod sw`), into `dxq` (each channel's planes
/// `xplane` values apart). The `front` zeros before each widened gradient
/// make every read land inside it: a correlation in registers like the
/// forward pass, with no read-modify-write of memory.
#[inline(always)]
fn input_tile<S: Lanes, const RC: usize, const N: usize>(
    s: S,
    g: Wide,
    at: Gather,
    w: &[S::T],
    dyw: &[S::T],
    dxq: &mut [S::T],
) {
    let d = g.d;
    let (taps, k2) = (d.taps(), d.kh * d.kw);
    let Gather { o0, on, c, phase: (a, b), v } = at;
    let mut acc = [[s.zero(); N]; RC];
    for o in 0..on {
        // Slices of constant length, so that the reads below need no checks.
        let wo = &w[(o0 + o) * taps + c * k2..][..RC * k2];
        let dyo = &dyw[o * g.dylen + v * S::L..][..g.front + N * S::L];
        for ky in (a..d.kh).step_by(d.sh) {
            for kx in (b..d.kw).step_by(d.sw) {
                let src = &dyo[g.front - g.p.shift(ky, kx)..];
                let mut dv = [s.zero(); N];
                for (n, dv) in dv.iter_mut().enumerate() {
                    *dv = s.load(&src[n * S::L..]);
                }
                for (r, acc) in acc.iter_mut().enumerate() {
                    let wv = s.splat(wo[r * k2 + ky * d.kw + kx]);
                    for (acc, &dv) in acc.iter_mut().zip(&dv) {
                        *acc = s.madd(wv, dv, *acc);
                    }
                }
            }
        }
    }
    let plane = a * d.sw + b;
    for (r, acc) in acc.iter().enumerate() {
        for (n, &acc) in acc.iter().enumerate() {
            s.store(&mut dxq[(r * g.p.count() + plane) * g.xplane + (v + n) * S::L..], acc);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::format;
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::kernel::Kernels;
    use crate::kernel::depthwise::tests::{F32_TOLERANCE, Run, close, random, run};
    use crate::kernel::lanes::Portable;
    use crate::prelude::*;

    /// A convolution's sizes from channels, plane, kernel, stride and
    /// padding (rows, columns).
    pub(crate) const fn dims(
        c_in: usize,
        c_out: usize,
        (h, w): (usize, usize),
        (kh, kw): (usize, usize),
        (sh, sw): (usize, usize),
        (ph, pw): (usize, usize),
    ) -> Dims {
        let (oh, ow) = ((h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1);
        Dims { c_in, c_out, h, w, kh, kw, sh, sw, ph, pw, oh, ow }
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

    // Stride 1: W4's layer; padding; a kernel as large as the padded
    // input; padding wider than half the kernel; a sequence; an oblong
    // kernel; 1×1; one plane of 64×64 (chunks of input channels).
    // Stride 2: ResNet-8's 3×3 with padding 1 on even and odd planes;
    // kernels 1 to 5 with paddings 0 to 2 (a 1×1 kernel with padding, and
    // even kernels, whose offsets fill the phases unevenly). Stride 3, past
    // the kernel (phases no offset reads) and with larger kernels. Different
    // strides per axis, and sequences (`Conv1d`) at strides 2 and 3.
    shapes! {
        Digits = dims(1, 8, (8, 8), (3, 3), (1, 1), (0, 0));
        Padded = dims(3, 5, (7, 6), (3, 3), (1, 1), (1, 1));
        Full = dims(2, 3, (5, 5), (5, 5), (1, 1), (0, 0));
        WidePad = dims(2, 6, (4, 4), (3, 3), (1, 1), (2, 2));
        Sequence = dims(4, 7, (1, 19), (1, 4), (1, 1), (0, 2));
        Oblong = dims(2, 9, (11, 3), (2, 3), (1, 1), (1, 0));
        Single = dims(1, 1, (1, 1), (1, 1), (1, 1), (0, 0));
        Large = dims(4, 1, (64, 64), (3, 3), (1, 1), (0, 0));
        S2K3P1 = dims(3, 5, (14, 14), (3, 3), (2, 2), (1, 1));
        S2K3P1Odd = dims(2, 6, (13, 11), (3, 3), (2, 2), (1, 1));
        S2K3P0 = dims(3, 4, (8, 7), (3, 3), (2, 2), (0, 0));
        S2K3P2 = dims(2, 3, (6, 7), (3, 3), (2, 2), (2, 2));
        S2K5P2 = dims(2, 3, (11, 10), (5, 5), (2, 2), (2, 2));
        S2K4P1 = dims(2, 5, (10, 9), (4, 4), (2, 2), (1, 1));
        S2K2P0 = dims(3, 4, (8, 8), (2, 2), (2, 2), (0, 0));
        S2K1P1 = dims(4, 3, (7, 8), (1, 1), (2, 2), (1, 1));
        S2K1P0 = dims(5, 6, (9, 9), (1, 1), (2, 2), (0, 0));
        S3K2P1 = dims(2, 3, (7, 8), (2, 2), (3, 3), (1, 1));
        S3K5P2 = dims(2, 4, (12, 13), (5, 5), (3, 3), (2, 2));
        S3K3P0 = dims(3, 2, (10, 11), (3, 3), (3, 3), (0, 0));
        S3K4P1 = dims(1, 3, (9, 10), (4, 4), (3, 3), (1, 1));
        S3K1P0 = dims(3, 2, (7, 7), (1, 1), (3, 3), (0, 0));
        Mixed = dims(2, 4, (9, 10), (3, 2), (2, 1), (1, 0));
        Sequence2 = dims(3, 4, (1, 23), (1, 3), (1, 2), (0, 1));
        Sequence3 = dims(2, 2, (1, 20), (1, 5), (1, 3), (0, 2));
        Huge = dims(1, 1, (200, 200), (3, 3), (1, 1), (1, 1));
    }

    /// The definition, one term at a time: forward, and the backward's
    /// `dW`, `db`, `dx` for output gradient `dy`.
    fn definition(d: Dims, w: &[f64], b: &[f64], x: &[f64], dy: &[f64]) -> [Vec<f64>; 4] {
        let (mut y, mut gw, mut gb, mut dx) =
            (vec![0.0; d.c_out * d.oh * d.ow], vec![0.0; w.len()], vec![0.0; d.c_out], vec![0.0; x.len()]);
        for o in 0..d.c_out {
            for i in 0..d.oh {
                for j in 0..d.ow {
                    let at = (o * d.oh + i) * d.ow + j;
                    y[at] = b[o];
                    gb[o] += dy[at];
                    for c in 0..d.c_in {
                        for ky in 0..d.kh {
                            for kx in 0..d.kw {
                                let (iy, ix) = (
                                    (i * d.sh + ky) as isize - d.ph as isize,
                                    (j * d.sw + kx) as isize - d.pw as isize,
                                );
                                if (0..d.h as isize).contains(&iy) && (0..d.w as isize).contains(&ix) {
                                    let xi = (c * d.h + iy as usize) * d.w + ix as usize;
                                    let wi = ((o * d.c_in + c) * d.kh + ky) * d.kw + kx;
                                    y[at] += w[wi] * x[xi];
                                    gw[wi] += dy[at] * x[xi];
                                    dx[xi] += dy[at] * w[wi];
                                }
                            }
                        }
                    }
                }
            }
        }
        [y, gw, gb, dx]
    }

    /// `form` against the definition on `G` over a block of `n` samples,
    /// to `tolerance`: outputs, `dW` and `db` (added to 0.5), input
    /// gradients over stale values, then `dW` and `db` without input
    /// gradients.
    pub(crate) fn agrees<G: ConvShape>(seed: u64, n: usize, form: Run<'_>, tolerance: f64, name: &str) {
        let d = G::DIMS;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (xl, yl, wl) = (d.c_in * d.h * d.w, d.c_out * d.oh * d.ow, d.c_out * d.taps());
        let (w, b) = (random(wl, &mut rng), random(d.c_out, &mut rng));
        let xs: Vec<Vec<f64>> = (0..n).map(|_| random(xl, &mut rng)).collect();
        let dys: Vec<Vec<f64>> = (0..n).map(|_| random(yl, &mut rng)).collect();
        let want: Vec<[Vec<f64>; 4]> = xs.iter().zip(&dys).map(|(x, dy)| definition(d, &w, &b, x, dy)).collect();
        let (xr, dyr): (Vec<&[f64]>, Vec<&[f64]>) =
            (xs.iter().map(|x| &x[..]).collect(), dys.iter().map(|x| &x[..]).collect());
        let [y, gw, gb, dx, gw_only, gb_only] = form(&w, &b, &xr, &dyr);
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

    /// Every test shape but `Huge` through `form` (a function generic over
    /// the shape, returning what [`Run`] describes), to `tolerance`; blocks
    /// of 3 samples, and of 11 for two shapes (groups with a remainder).
    macro_rules! each_shape {
        ($form:ident, $tolerance:expr, $name:expr) => {
            agrees::<Digits>(1, 11, &$form::<Digits>, $tolerance, $name);
            agrees::<Padded>(2, 3, &$form::<Padded>, $tolerance, $name);
            agrees::<Full>(3, 3, &$form::<Full>, $tolerance, $name);
            agrees::<WidePad>(4, 3, &$form::<WidePad>, $tolerance, $name);
            agrees::<Sequence>(5, 3, &$form::<Sequence>, $tolerance, $name);
            agrees::<Oblong>(6, 3, &$form::<Oblong>, $tolerance, $name);
            agrees::<Single>(7, 3, &$form::<Single>, $tolerance, $name);
            agrees::<Large>(8, 2, &$form::<Large>, $tolerance, $name);
            agrees::<S2K3P1>(9, 11, &$form::<S2K3P1>, $tolerance, $name);
            agrees::<S2K3P1Odd>(10, 3, &$form::<S2K3P1Odd>, $tolerance, $name);
            agrees::<S2K3P0>(11, 3, &$form::<S2K3P0>, $tolerance, $name);
            agrees::<S2K3P2>(12, 3, &$form::<S2K3P2>, $tolerance, $name);
            agrees::<S2K5P2>(13, 3, &$form::<S2K5P2>, $tolerance, $name);
            agrees::<S2K4P1>(14, 3, &$form::<S2K4P1>, $tolerance, $name);
            agrees::<S2K2P0>(15, 3, &$form::<S2K2P0>, $tolerance, $name);
            agrees::<S2K1P1>(16, 3, &$form::<S2K1P1>, $tolerance, $name);
            agrees::<S2K1P0>(17, 3, &$form::<S2K1P0>, $tolerance, $name);
            agrees::<S3K2P1>(18, 3, &$form::<S3K2P1>, $tolerance, $name);
            agrees::<S3K5P2>(19, 3, &$form::<S3K5P2>, $tolerance, $name);
            agrees::<S3K3P0>(20, 3, &$form::<S3K3P0>, $tolerance, $name);
            agrees::<S3K4P1>(21, 3, &$form::<S3K4P1>, $tolerance, $name);
            agrees::<S3K1P0>(22, 3, &$form::<S3K1P0>, $tolerance, $name);
            agrees::<Mixed>(23, 3, &$form::<Mixed>, $tolerance, $name);
            agrees::<Sequence2>(24, 3, &$form::<Sequence2>, $tolerance, $name);
            agrees::<Sequence3>(25, 3, &$form::<Sequence3>, $tolerance, $name);
        };
    }
    // For the x86 and NEON leaves' tests of their variants.
    #[cfg(any(
        all(feature = "std", target_arch = "x86_64"),
        all(target_arch = "aarch64", target_feature = "neon")
    ))]
    pub(crate) use each_shape;

    fn runs<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        run::<f64>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| {
                forward_runs_block::<G, _>(w, b, xs, ys);
                true
            },
            |w, xs, dys, gw, gb, dxs| {
                backward_runs_block::<G, _>(w, xs, dys, gw, gb, dxs);
                true
            },
        )
    }

    /// The wide form in portable `f64` lanes as the seam cuts it, with
    /// tiles that leave remainders (3 output channels × 2 registers; 2 × 3
    /// weight-gradient tiles; 3 input channels × 2 registers).
    fn wide<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        run::<f64>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| forward_wide::<G, _, 3, 2>(Portable::NEW, w, b, xs, ys),
            |w, xs, dys, gw, gb, dxs| backward_wide::<G, _, 2, 3, 3, 2>(Portable::NEW, w, xs, dys, gw, gb, dxs),
        )
    }

    /// The wide form cut into small chunks whatever the sizes: forward in
    /// chunks of 4 output channels (a tile of 3 and one of 1) and 2 input
    /// channels; weight gradients in groups of 2 samples, chunks of 3
    /// output channels and 2 input channels; input gradients from chunks
    /// of 2 output channels (merged, then added), in tiles of 3 input
    /// channels.
    fn chunked<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        let (s, g) = (Portable::NEW, Wide::of(G::DIMS, 4).unwrap());
        run::<f64>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| {
                forward_in::<_, 3, 2, LARGE>(s, g, Cut { oc: 4, cc: 2, m: 1 }, w, b, xs, ys);
                true
            },
            |w, xs, dys, gw, gb, dxs| {
                // One sample a group where two do not fit (`Large`).
                let m = if 2 * (3 * g.row + g.chunk(2)) <= LARGE { 2 } else { 1 };
                let rc = if 2 * g.dylen + g.tile(3) <= LARGE { 3 } else { 1 };
                let cuts = (Cut { oc: 3, cc: 2, m }, Some(Cut { oc: 2, cc: rc, m: 1 }));
                backward_in::<_, 2, 3, 3, 2, LARGE>(s, g, cuts, w, xs, dys, gw, gb, dxs);
                true
            },
        )
    }

    /// `f32` through [`Kernels`], the path layers take (the widest variant
    /// this CPU has; pointwise shapes take the 1×1 kernels).
    fn kernels<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        run::<f32>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| {
                f32::conv_forward::<G>(w, b, xs, ys);
                true
            },
            |w, xs, dys, gw, gb, dxs| {
                f32::conv_backward::<G>(w, xs, dys, gw, gb, dxs);
                true
            },
        )
    }

    #[test]
    fn the_runs_form_agrees_with_the_definition() {
        each_shape!(runs, 1e-12, "runs");
    }

    #[test]
    fn wide_rows_agree_with_the_definition() {
        each_shape!(wide, 1e-12, "wide");
    }

    #[test]
    fn wide_rows_in_small_chunks_agree_with_the_definition() {
        each_shape!(chunked, 1e-12, "chunked");
    }

    #[test]
    fn f32_kernels_agree_with_the_definition() {
        each_shape!(kernels, F32_TOLERANCE, "f32");
    }

    // ResNet-8's convolutions, whose planes and channels need more than
    // the large scratch at once.
    shapes! {
        Res28 = dims(16, 16, (28, 28), (3, 3), (1, 1), (1, 1));
        Res28S2 = dims(16, 32, (28, 28), (3, 3), (2, 2), (1, 1));
        Res14S2 = dims(32, 64, (14, 14), (3, 3), (2, 2), (1, 1));
    }

    /// Every ResNet-8 and DS-CNN convolution takes the wide form in
    /// 16-lane and 4-lane registers, cut to fit: the forward pass, the
    /// weight gradient of a block of 32, and the input gradient.
    #[test]
    fn resnet_sizes_are_cut_to_fit() {
        let resnet = [
            dims(1, 16, (28, 28), (3, 3), (1, 1), (1, 1)),
            dims(16, 16, (28, 28), (3, 3), (1, 1), (1, 1)),
            dims(16, 32, (28, 28), (3, 3), (2, 2), (1, 1)),
            dims(32, 32, (14, 14), (3, 3), (1, 1), (1, 1)),
            dims(32, 64, (14, 14), (3, 3), (2, 2), (1, 1)),
            dims(64, 64, (7, 7), (3, 3), (1, 1), (1, 1)),
            dims(1, 32, (28, 28), (3, 3), (2, 2), (1, 1)),
        ];
        for d in resnet {
            for l in [16, 4] {
                let g = Wide::of(d, l).unwrap();
                let f = g.forward_cut(8, LARGE).expect("forward");
                assert!(g.chunk(f.cc) + f.oc * g.row <= LARGE && f.cc > 0 && f.oc > 0, "{f:?} {d:?}");
                let (c, _) = g.weight_cut(4, LARGE).expect("weights");
                assert!(c.m * (c.oc * g.row + g.chunk(c.cc)) <= LARGE && c.cc > 0 && c.oc > 0, "{c:?} {d:?}");
                let i = g.input_cut(8, LARGE).expect("input");
                assert!(i.oc * g.dylen + g.tile(i.cc) <= LARGE && i.oc > 0, "{i:?} {d:?}");
            }
        }
    }

    #[test]
    fn resnet_convolutions_agree_with_the_definition() {
        agrees::<Res28>(31, 3, &wide::<Res28>, 1e-12, "wide");
        agrees::<Res28S2>(32, 3, &wide::<Res28S2>, 1e-12, "wide");
        agrees::<Res14S2>(33, 9, &wide::<Res14S2>, 1e-12, "wide");
        agrees::<Res28>(34, 3, &kernels::<Res28>, F32_TOLERANCE, "f32");
        agrees::<Res28S2>(35, 3, &kernels::<Res28S2>, F32_TOLERANCE, "f32");
        agrees::<Res14S2>(36, 9, &kernels::<Res14S2>, F32_TOLERANCE, "f32");
    }

    #[test]
    fn the_wide_form_declines_planes_larger_than_the_scratch() {
        let d = Huge::DIMS;
        let (w, b, x) = ([0.0; 9], [0.0], vec![1.0; d.h * d.w]);
        let mut y = vec![7.0; d.oh * d.ow];
        assert!(!forward_wide::<Huge, _, 4, 3>(Portable::NEW, &w, &b, &[&x], &mut [&mut y]));
        assert!(y.iter().all(|&v| v == 7.0), "a declined call touches nothing");
        let (mut gw, mut gb) = ([0.0; 9], [0.0]);
        assert!(!backward_wide::<Huge, _, 4, 4, 2, 2>(Portable::NEW, &w, &[&x], &[&y], &mut gw, &mut gb, None));
        assert_eq!((gw, gb), ([0.0; 9], [0.0]));
        // The seam then takes the runs form.
        let mut y = vec![7.0f32; d.oh * d.ow];
        f32::conv_forward::<Huge>(&[1.0; 9], &[0.5], &[&vec![1.0f32; d.h * d.w]], &mut [&mut y]);
        assert_eq!((y[0], y[d.ow + 1]), (4.5, 9.5));
    }
}
