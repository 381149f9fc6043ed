//! Phase planes: the layout that makes a convolution of any stride a sum
//! of contiguous slices, shared by the wide form of `conv.rs` and the
//! depthwise kernels of `depthwise.rs`.
//!
//! One channel of the input, zero-padded, is split into `sh·sw` *phase
//! planes*: plane `(a, b)` holds the padded rows `a, a + sh, …` and columns
//! `b, b + sw, …`, `Hq = ⌈(H + 2P) / sh⌉` rows of `Wq = ⌈(W + 2P) / sw⌉`.
//! Output `(oy, ox)` is computed at the wide position `p = oy·Wq + ox`;
//! kernel offset `(ky, kx)` then reads plane `(ky mod sh, kx mod sw)`
//! shifted by `⌊ky/sh⌋·Wq + ⌊kx/sw⌋`: the same shift for every output, so
//! one contiguous slice covers the whole output plane, and a stride-`S`
//! convolution becomes a sum of stride-1 convolutions of the planes with
//! the sub-kernels. At stride 1 there is one plane, the padded input
//! itself. The columns `ox ≥ OW` of the wide positions are computed and
//! dropped.
//!
//! Every output position reads inside its plane: padded row `oy·sh + ky`
//! is row `oy + ⌊ky/sh⌋ < Hq` of plane `ky mod sh`, and likewise for
//! columns. So a plane needs no margin for the reads of the outputs kept;
//! the dropped positions and the last register may read a little past it.
//!
//! The input gradient goes back through the same planes: it is computed
//! per phase plane and interleaved back ([`Planes::merge`]).

use super::conv::Dims;
use super::lanes::Lanes;

/// The phase-plane geometry of one channel of a convolution `d` (only the
/// plane, stride and padding of `d` matter here).
#[derive(Clone, Copy)]
pub(super) struct Planes {
    pub(super) d: Dims,
    /// Rows of a phase plane, `⌈(H + 2P) / sh⌉`.
    pub(super) hq: usize,
    /// Columns of a phase plane, `⌈(W + 2P) / sw⌉`: the stride of the wide
    /// positions.
    pub(super) wq: usize,
}

impl Planes {
    /// The geometry of `d`'s phase planes; `d`'s strides must not be 0.
    #[inline(always)]
    pub(super) const fn of(d: Dims) -> Planes {
        Planes { d, hq: (d.h + 2 * d.ph).div_ceil(d.sh), wq: (d.w + 2 * d.pw).div_ceil(d.sw) }
    }

    /// Phase planes per channel, `sh·sw`.
    #[inline(always)]
    pub(super) const fn count(self) -> usize {
        self.d.sh * self.d.sw
    }

    /// Values of a phase plane that hold positions, `Hq·Wq`.
    #[inline(always)]
    pub(super) const fn size(self) -> usize {
        self.hq * self.wq
    }

    /// The phase plane kernel offset `(ky, kx)` reads.
    #[inline(always)]
    pub(super) const fn phase(self, ky: usize, kx: usize) -> usize {
        (ky % self.d.sh) * self.d.sw + kx % self.d.sw
    }

    /// How far kernel offset `(ky, kx)` is shifted within its plane.
    #[inline(always)]
    pub(super) const fn shift(self, ky: usize, kx: usize) -> usize {
        ky / self.d.sh * self.wq + kx / self.d.sw
    }

    /// The largest shift of a kernel offset.
    #[inline(always)]
    pub(super) const fn front(self) -> usize {
        self.shift(self.d.kh - 1, self.d.kw - 1)
    }

    /// Wide positions covering the outputs: `(OH − 1)·Wq + OW`.
    #[inline(always)]
    pub(super) const fn positions(self) -> usize {
        (self.d.oh - 1) * self.wq + self.d.ow
    }

    /// Padded row `r` and column `col` → (phase plane, index within it).
    #[inline(always)]
    pub(super) const fn place(self, r: usize, col: usize) -> (usize, usize) {
        ((r % self.d.sh) * self.d.sw + col % self.d.sw, r / self.d.sh * self.wq + col / self.d.sw)
    }

    /// Copies one channel's plane `x` into its phase planes `xq` (planes
    /// `plane` values apart); the padding and the slack keep the zeros
    /// they hold, never written. At stride 1 a row is one copy; at column
    /// stride 2 each pair of registers of a row is split into its even and
    /// odd columns ([`Lanes::deinterleave`]), which land in two planes.
    ///
    /// At column stride 2 whole registers are stored, so a plane needs a
    /// register of slack after its `Hq·Wq` values (`plane ≥ Hq·Wq + L`).
    #[inline(always)]
    pub(super) fn split<S: Lanes>(self, s: S, x: &[S::T], xq: &mut [S::T], plane: usize) {
        let d = self.d;
        for (iy, row) in x.chunks_exact(d.w).take(d.h).enumerate() {
            let r = iy + d.ph;
            if d.sw == 1 {
                let (p, at) = self.place(r, d.pw);
                xq[p * plane + at..][..d.w].copy_from_slice(row);
            } else if d.sw == 2 {
                // Columns 0, 2, … start at padded column `pw`, columns 1, 3, … at `pw + 1`.
                let ((pe, ae), (po, ao)) = (self.place(r, d.pw), self.place(r, d.pw + 1));
                let (even, odd) = (pe * plane + ae, po * plane + ao);
                // Whole registers are stored: the lanes past the row hold zeros
                // (from `load_pair`), and what they cover is padding, slack, or
                // a later row of the same plane, written after this one. (Masked
                // stores would cost more, and the loads that read the planes
                // right after could not take their values from them.)
                let mut k = 0;
                while k < d.w {
                    let n = (d.w - k).min(2 * S::L);
                    let (lo, hi) = load_pair(s, &row[k..], n);
                    let (e, o) = s.deinterleave(lo, hi);
                    s.store(&mut xq[even + k / 2..], e);
                    if n > 1 {
                        s.store(&mut xq[odd + k / 2..], o);
                    }
                    k += 2 * S::L;
                }
            } else {
                for b in 0..d.sw {
                    // Columns `ix` with `(ix + pw) mod sw = b`, the first at `ix0`.
                    let ix0 = (b + d.sw - d.pw % d.sw) % d.sw;
                    if ix0 >= d.w {
                        continue;
                    }
                    let (p, at) = self.place(r, ix0 + d.pw);
                    let dst = &mut xq[p * plane + at..];
                    for (dst, &v) in dst.iter_mut().zip(row[ix0..].iter().step_by(d.sw)) {
                        *dst = v;
                    }
                }
            }
        }
    }

    /// Copies the phase planes `dxq` (planes `plane` values apart) back
    /// into one channel's plane `dx`, or adds them to it when `ADD`: the
    /// inverse of [`split`](Self::split), with [`Lanes::interleave`] at
    /// column stride 2, where whole registers are loaded (the last plane
    /// needs a register of slack after its `Hq·Wq` values).
    #[inline(always)]
    pub(super) fn merge<S: Lanes, const ADD: bool>(self, s: S, dxq: &[S::T], dx: &mut [S::T], plane: usize) {
        let d = self.d;
        for (iy, row) in dx.chunks_exact_mut(d.w).take(d.h).enumerate() {
            let r = iy + d.ph;
            if d.sw == 1 {
                let (p, at) = self.place(r, d.pw);
                let src = &dxq[p * plane + at..][..d.w];
                if ADD {
                    add_into(s, row, src);
                } else {
                    row.copy_from_slice(src);
                }
            } else if d.sw == 2 {
                let ((pe, ae), (po, ao)) = (self.place(r, d.pw), self.place(r, d.pw + 1));
                let (even, odd) = (pe * plane + ae, po * plane + ao);
                // The lanes past the row are not stored.
                let mut k = 0;
                while k < d.w {
                    let n = (d.w - k).min(2 * S::L);
                    let (e, o) = (s.load(&dxq[even + k / 2..]), s.load(&dxq[odd + k / 2..]));
                    let (mut lo, mut hi) = s.interleave(e, o);
                    if ADD {
                        let (was_lo, was_hi) = load_pair(s, &row[k..], n);
                        let one = s.splat(<S::T as num_traits::One>::one());
                        // `1 · a + b` rounds once, as an addition does.
                        (lo, hi) = (s.madd(one, lo, was_lo), s.madd(one, hi, was_hi));
                    }
                    store_up_to(s, &mut row[k..], n.min(S::L), lo);
                    if n > S::L {
                        store_up_to(s, &mut row[k + S::L..], n - S::L, hi);
                    }
                    k += 2 * S::L;
                }
            } else {
                for b in 0..d.sw {
                    let ix0 = (b + d.sw - d.pw % d.sw) % d.sw;
                    if ix0 >= d.w {
                        continue;
                    }
                    let (p, at) = self.place(r, ix0 + d.pw);
                    let src = &dxq[p * plane + at..];
                    for (dst, &v) in row[ix0..].iter_mut().step_by(d.sw).zip(src) {
                        *dst = if ADD { *dst + v } else { v };
                    }
                }
            }
        }
    }

    /// Writes one output channel's gradient `dy` into `dyw` at the wide
    /// positions `oy·Wq + ox`; the rest of `dyw` keeps the zeros it holds.
    #[inline(always)]
    pub(super) fn widen<T: Copy>(self, dy: &[T], dyw: &mut [T]) {
        let d = self.d;
        for (oy, row) in dy.chunks_exact(d.ow).take(d.oh).enumerate() {
            dyw[oy * self.wq..][..d.ow].copy_from_slice(row);
        }
    }
}

/// `dst += src`, in registers where they fill one.
#[inline(always)]
fn add_into<S: Lanes>(s: S, dst: &mut [S::T], src: &[S::T]) {
    let one = s.splat(<S::T as num_traits::One>::one());
    let mut k = 0;
    while k + S::L <= dst.len() {
        let v = s.madd(one, s.load(&src[k..]), s.load(&dst[k..]));
        s.store(&mut dst[k..], v);
        k += S::L;
    }
    for (d, &v) in dst[k..].iter_mut().zip(&src[k..]) {
        *d = *d + v;
    }
}

/// The first `n ≤ L` values of `s` in a register, zeros after them.
#[inline(always)]
pub(super) fn load_up_to<S: Lanes>(s: S, src: &[S::T], n: usize) -> S::V {
    if n >= S::L { s.load(src) } else { s.load_part(src, n) }
}

/// The first `n ≤ 2L` values of `s` in two registers, zeros after them.
#[inline(always)]
pub(super) fn load_pair<S: Lanes>(s: S, src: &[S::T], n: usize) -> (S::V, S::V) {
    let lo = load_up_to(s, src, n.min(S::L));
    let hi = if n > S::L { load_up_to(s, &src[S::L..], n - S::L) } else { s.zero() };
    (lo, hi)
}

/// The first `n ≤ L` lanes of `v` into `dst`.
#[inline(always)]
pub(super) fn store_up_to<S: Lanes>(s: S, dst: &mut [S::T], n: usize, v: S::V) {
    if n >= S::L {
        s.store(dst, v);
    } else if n > 0 {
        s.store_part(dst, n, v);
    }
}
