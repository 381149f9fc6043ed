//! The pointwise (1×1) convolution's fast path: a convolution with a 1×1
//! kernel and no padding is, per sample, the matrix product
//! `Y[c_out × P] = W[c_out × c_in] · X[c_in × P] + b` over the `P = OH·OW`
//! output positions, where `X` is the input itself at stride 1, and its
//! every `sh`-th row and `sw`-th column gathered into scratch otherwise.
//!
//! - Forward: tiles of `R` output channels × `N` registers of positions
//!   held in registers while the input channels go by (each loaded
//!   register used `R` times); the last, partial register of a plane is
//!   loaded and stored under a mask ([`Lanes::load_part`]).
//! - Weight gradient `dW += Σ dY·Xᵀ`: tiles of `R` output × `K` input
//!   channels of register accumulators, each a dot product over the
//!   positions of a group of up to [`GROUP`] samples (whose planes then
//!   stay in the second-level cache), summed across lanes once per group.
//! - Input gradient `dX = Wᵀ·dY`: the forward's tiles with the weight
//!   transposed, written straight into `dx` at stride 1, scattered back to
//!   every `sh`-th row and `sw`-th column (zeros elsewhere) otherwise.
//!
//! Stride 1 needs no scratch at all; other strides gather into at most
//! [`LARGE`] values of stack scratch, and larger planes take the general
//! convolution.

use super::conv::{ConvShape, Dims};
use super::lanes::Lanes;

/// Values of stack scratch a strided pointwise convolution takes when
/// they suffice (16 KiB of `f32`).
const SMALL: usize = 4 * 1024;
/// Values of stack scratch a strided pointwise convolution may take (64
/// KiB of `f32`); larger ones take the general convolution.
const LARGE: usize = 16 * 1024;

/// Samples whose weight gradients are summed in registers together.
const GROUP: usize = 8;

/// Whether the convolution `d` is pointwise: a 1×1 kernel, no padding, a
/// non-empty output (any stride).
#[inline(always)]
pub(crate) fn applies(d: Dims) -> bool {
    d.kh == 1 && d.kw == 1 && d.ph == 0 && d.pw == 0 && d.oh > 0 && d.ow > 0 && d.c_in > 0
}

/// Whether the input must be gathered (a stride above 1).
#[inline(always)]
fn strided(d: Dims) -> bool {
    d.sh != 1 || d.sw != 1
}

/// `X`: every `sh`-th row and `sw`-th column of each channel of `x`, as
/// `c_in` rows of `oh·ow` values.
#[inline(always)]
fn gather<T: Copy>(d: Dims, x: &[T], xg: &mut [T]) {
    let (hw, p) = (d.h * d.w, d.oh * d.ow);
    for (plane, dst) in x.chunks_exact(hw).zip(xg.chunks_exact_mut(p)) {
        for (oy, dst) in dst.chunks_exact_mut(d.ow).enumerate() {
            let row = &plane[oy * d.sh * d.w..];
            dst.iter_mut().zip(row.iter().step_by(d.sw)).for_each(|(d, &v)| *d = v);
        }
    }
}

/// The inverse of [`gather`] for gradients: `dx` is zero but at the
/// positions the convolution read, which take `dxg`'s values.
#[inline(always)]
fn scatter<T: Copy + num_traits::Zero>(d: Dims, dxg: &[T], dx: &mut [T]) {
    let (hw, p) = (d.h * d.w, d.oh * d.ow);
    dx.fill(T::zero());
    for (plane, src) in dx.chunks_exact_mut(hw).zip(dxg.chunks_exact(p)) {
        for (oy, src) in src.chunks_exact(d.ow).enumerate() {
            let row = &mut plane[oy * d.sh * d.w..];
            row.iter_mut().step_by(d.sw).zip(src).for_each(|(d, &v)| *d = v);
        }
    }
}

/// One matrix product `out[r][·] = init[r] + Σ_k a[r·ar + k·ak] · src[k][·]`
/// of `rows` output rows (the forward: `a = W`; the input gradient: `a =
/// Wᵀ`), each row `p` values long.
#[derive(Clone, Copy)]
struct Product {
    /// Output rows and terms per output.
    rows: usize,
    terms: usize,
    /// Positions per row (of `src` and of `out`).
    p: usize,
    /// Strides of the coefficients: from one output row to the next, and
    /// from one term to the next.
    ar: usize,
    ak: usize,
}

/// [`Product`] with `R` output rows × `N` registers of positions per tile,
/// `R` then 1 rows, `N` then 1 registers, then the partial register.
#[inline(always)]
fn product<S: Lanes, const R: usize, const N: usize>(
    s: S,
    m: Product,
    a: &[S::T],
    init: Option<&[S::T]>,
    src: &[S::T],
    out: &mut [S::T],
) {
    let mut r = 0;
    while r < m.rows {
        if r + R <= m.rows {
            rows::<S, R, N>(s, m, a, init, src, out, r);
            r += R;
        } else {
            rows::<S, 1, N>(s, m, a, init, src, out, r);
            r += 1;
        }
    }
}

/// Rows `r..r + R` of a [`Product`], every position.
#[inline(always)]
fn rows<S: Lanes, const R: usize, const N: usize>(
    s: S,
    m: Product,
    a: &[S::T],
    init: Option<&[S::T]>,
    src: &[S::T],
    out: &mut [S::T],
    r: usize,
) {
    let (full, rest) = (m.p / S::L, m.p % S::L);
    let a = &a[r * m.ar..];
    let init = init.map(|b| &b[r..]);
    let out = &mut out[r * m.p..];
    let mut v = 0;
    while v + N <= full {
        tile::<S, R, N, false>(s, m, a, init, src, out, v * S::L);
        v += N;
    }
    while v < full {
        tile::<S, R, 1, false>(s, m, a, init, src, out, v * S::L);
        v += 1;
    }
    if rest > 0 {
        tile::<S, R, 1, true>(s, m, a, init, src, out, v * S::L);
    }
}

/// `R` rows × `N` registers from position `at`; with `PART`, the one
/// partial register that ends each row, under a mask.
#[inline(always)]
fn tile<S: Lanes, const R: usize, const N: usize, const PART: bool>(
    s: S,
    m: Product,
    a: &[S::T],
    init: Option<&[S::T]>,
    src: &[S::T],
    out: &mut [S::T],
    at: usize,
) {
    let part = m.p - at;
    let mut acc = [[s.zero(); N]; R];
    if let Some(b) = init {
        for (acc, &b) in acc.iter_mut().zip(b) {
            *acc = [s.splat(b); N];
        }
    }
    for k in 0..m.terms {
        let row = &src[k * m.p + at..];
        let mut xv = [s.zero(); N];
        for (n, xv) in xv.iter_mut().enumerate() {
            *xv = if PART { s.load_part(row, part) } else { s.load(&row[n * S::L..]) };
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let av = s.splat(a[r * m.ar + k * m.ak]);
            for (acc, &xv) in acc.iter_mut().zip(&xv) {
                *acc = s.madd(av, xv, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut out[r * m.p + at..];
        for (n, &acc) in acc.iter().enumerate() {
            if PART {
                s.store_part(row, part, acc);
            } else {
                s.store(&mut row[n * S::L..], acc);
            }
        }
    }
}

/// Forward of a pointwise convolution `G` over a block, `R` output
/// channels × `N` registers per tile. Returns `false`, touching nothing,
/// where `G` is not pointwise or its gathered input does not fit the
/// scratch.
#[inline(always)]
pub(crate) fn forward<G: ConvShape, S: Lanes, const R: usize, const N: usize>(
    s: S,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) -> bool {
    let d = G::DIMS;
    if !applies(d) {
        return false;
    }
    let m = Product { rows: d.c_out, terms: d.c_in, p: d.oh * d.ow, ar: d.c_in, ak: 1 };
    if !strided(d) {
        for (x, y) in xs.iter().zip(ys.iter_mut()) {
            product::<S, R, N>(s, m, w, Some(b), x, y);
        }
        return true;
    }
    match d.c_in * m.p {
        need if need <= SMALL => forward_gathered::<S, R, N, SMALL>(s, d, m, w, b, xs, ys),
        need if need <= LARGE => forward_gathered::<S, R, N, LARGE>(s, d, m, w, b, xs, ys),
        _ => return false,
    }
    true
}

/// [`forward`] at a stride above 1: each sample gathered, then multiplied.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_gathered<S: Lanes, const R: usize, const N: usize, const SIZE: usize>(
    s: S,
    d: Dims,
    m: Product,
    w: &[S::T],
    b: &[S::T],
    xs: &[&[S::T]],
    ys: &mut [&mut [S::T]],
) {
    let mut scratch = [<S::T as num_traits::Zero>::zero(); SIZE];
    let xg = &mut scratch[..d.c_in * m.p];
    for (x, y) in xs.iter().zip(ys.iter_mut()) {
        gather(d, x, xg);
        product::<S, R, N>(s, m, w, Some(b), xg, y);
    }
}

/// Backward of a pointwise convolution `G` over a block: `db += Σ dy`,
/// `dW += Σ dy·xᵀ` in tiles of `GR` output × `GK` input channels, and each
/// `dx = Wᵀ·dy` (overwritten) in tiles of `R` input channels × `N`
/// registers when asked for. Returns `false`, touching nothing, where the
/// form does not apply.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn backward<G: ConvShape, S: Lanes, const R: usize, const N: usize, const GR: usize, const GK: usize>(
    s: S,
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    dxs: Option<&mut [&mut [S::T]]>,
) -> bool {
    let d = G::DIMS;
    if !applies(d) {
        return false;
    }
    if !strided(d) {
        backward_in::<S, R, N, GR, GK, 0>(s, d, w, xs, dys, gw, gb, dxs);
        return true;
    }
    // At least one gathered sample, and the input gradient's plane when asked for.
    let (one, spare) = (d.c_in * d.oh * d.ow, if dxs.is_some() { d.c_in * d.oh * d.ow } else { 0 });
    match (one + spare, GROUP * one + spare) {
        (_, all) if all <= SMALL => backward_in::<S, R, N, GR, GK, SMALL>(s, d, w, xs, dys, gw, gb, dxs),
        (least, _) if least <= LARGE => backward_in::<S, R, N, GR, GK, LARGE>(s, d, w, xs, dys, gw, gb, dxs),
        _ => return false,
    }
    true
}

/// [`backward`] with `SIZE` values of scratch (none at stride 1): per
/// group of samples their gathered inputs, and one gathered input
/// gradient.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_in<S: Lanes, const R: usize, const N: usize, const GR: usize, const GK: usize, const SIZE: usize>(
    s: S,
    d: Dims,
    w: &[S::T],
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    gb: &mut [S::T],
    dxs: Option<&mut [&mut [S::T]]>,
) {
    let p = d.oh * d.ow;
    let one = d.c_in * p;
    let zero = <S::T as num_traits::Zero>::zero();
    let mut scratch = [zero; SIZE];
    let spare = if SIZE > 0 && dxs.is_some() { one } else { 0 };
    let (gathered, dxg) = scratch.split_at_mut(SIZE - spare);
    let group = if SIZE == 0 { GROUP } else { (gathered.len() / one).min(GROUP) };
    let n = xs.len().min(dys.len());
    for dy in &dys[..n] {
        bias_grads(s, p, dy, gb);
    }
    let mut first = 0;
    while first < n {
        let count = group.min(n - first);
        let mut xg: [&[S::T]; GROUP] = [&[]; GROUP];
        if SIZE == 0 {
            xg[..count].copy_from_slice(&xs[first..first + count]);
        } else {
            for (j, part) in gathered.chunks_exact_mut(one).take(count).enumerate() {
                gather(d, xs[first + j], part);
            }
            for (xg, part) in xg.iter_mut().zip(gathered.chunks_exact(one).take(count)) {
                *xg = part;
            }
        }
        weight_grads::<S, GR, GK>(s, d, &xg[..count], &dys[first..first + count], gw);
        first += count;
    }
    if let Some(dxs) = dxs {
        let m = Product { rows: d.c_in, terms: d.c_out, p, ar: 1, ak: d.c_in };
        for (dy, dx) in dys.iter().zip(dxs.iter_mut()).take(n) {
            if SIZE == 0 {
                product::<S, R, N>(s, m, w, None, dy, dx);
            } else {
                product::<S, R, N>(s, m, w, None, dy, dxg);
                scatter(d, dxg, dx);
            }
        }
    }
}

/// `gb[o] += Σ_p dy[o][p]`, in registers of positions.
#[inline(always)]
fn bias_grads<S: Lanes>(s: S, p: usize, dy: &[S::T], gb: &mut [S::T]) {
    // `1 · v + acc` rounds once, as an addition does.
    let one = s.splat(<S::T as num_traits::One>::one());
    let (full, rest) = (p / S::L, p % S::L);
    for (gb, row) in gb.iter_mut().zip(dy.chunks_exact(p)) {
        let mut acc = s.zero();
        for v in 0..full {
            acc = s.madd(one, s.load(&row[v * S::L..]), acc);
        }
        if rest > 0 {
            acc = s.madd(one, s.load_part(&row[full * S::L..], rest), acc);
        }
        *gb = *gb + s.hsum(acc);
    }
}

/// `gw[o][c] += Σ_samples Σ_p dy[o][p] · x[c][p]` over a group of samples
/// (`xs` already gathered), in tiles of `R` outputs × `K` inputs.
#[inline(always)]
fn weight_grads<S: Lanes, const R: usize, const K: usize>(
    s: S,
    d: Dims,
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
) {
    let mut o = 0;
    while o < d.c_out {
        let rows = if o + R <= d.c_out { R } else { 1 };
        let mut c = 0;
        while c < d.c_in {
            if rows == R && c + K <= d.c_in {
                grad_tile::<S, R, K>(s, d, xs, dys, gw, o, c);
                c += K;
            } else if rows == R {
                grad_tile::<S, R, 1>(s, d, xs, dys, gw, o, c);
                c += 1;
            } else if c + K <= d.c_in {
                grad_tile::<S, 1, K>(s, d, xs, dys, gw, o, c);
                c += K;
            } else {
                grad_tile::<S, 1, 1>(s, d, xs, dys, gw, o, c);
                c += 1;
            }
        }
        o += rows;
    }
}

/// One `R × K` tile of [`weight_grads`], from output `o` and input `c`.
#[inline(always)]
fn grad_tile<S: Lanes, const R: usize, const K: usize>(
    s: S,
    d: Dims,
    xs: &[&[S::T]],
    dys: &[&[S::T]],
    gw: &mut [S::T],
    o: usize,
    c: usize,
) {
    let p = d.oh * d.ow;
    let (full, rest) = (p / S::L, p % S::L);
    let mut acc = [[s.zero(); K]; R];
    for (x, dy) in xs.iter().zip(dys) {
        let (x, dy) = (&x[c * p..], &dy[o * p..]);
        for v in 0..full {
            let at = v * S::L;
            let mut dv = [s.zero(); R];
            for (r, dv) in dv.iter_mut().enumerate() {
                *dv = s.load(&dy[r * p + at..]);
            }
            for k in 0..K {
                let xv = s.load(&x[k * p + at..]);
                for (acc, &dv) in acc.iter_mut().zip(&dv) {
                    acc[k] = s.madd(dv, xv, acc[k]);
                }
            }
        }
        if rest > 0 {
            let at = full * S::L;
            let mut dv = [s.zero(); R];
            for (r, dv) in dv.iter_mut().enumerate() {
                *dv = s.load_part(&dy[r * p + at..], rest);
            }
            for k in 0..K {
                let xv = s.load_part(&x[k * p + at..], rest);
                for (acc, &dv) in acc.iter_mut().zip(&dv) {
                    acc[k] = s.madd(dv, xv, acc[k]);
                }
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut gw[(o + r) * d.c_in + c..][..K];
        for (gw, &acc) in row.iter_mut().zip(acc) {
            *gw = *gw + s.hsum(acc);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::kernel::Kernels;
    use crate::kernel::conv::{backward_runs_block, forward_runs_block};
    use crate::kernel::depthwise::tests::{F32_TOLERANCE, Run, close, random, run};
    use crate::kernel::lanes::Portable;
    use crate::prelude::*;

    /// A 1×1 convolution's sizes from channels, plane and stride (rows,
    /// columns).
    const fn dims(c_in: usize, c_out: usize, (h, w): (usize, usize), (sh, sw): (usize, usize)) -> Dims {
        let (oh, ow) = ((h - 1) / sh + 1, (w - 1) / sw + 1);
        Dims { c_in, c_out, h, w, kh: 1, kw: 1, sh, sw, ph: 0, pw: 0, oh, ow }
    }

    macro_rules! shapes {
        ($($name:ident = $dims:expr;)*) => {$(
            pub(crate) struct $name;
            impl ConvShape for $name {
                const DIMS: Dims = $dims;
            }
        )*};
    }

    // DS-CNN's 32 → 64 at 14×14, strides 1 and 2; channel counts that
    // leave remainder tiles; a plane shorter than a register; one
    // position; a sequence at stride 2 (`Conv1d`); a stride of 3 that
    // leaves rows and columns over; a gathered input larger than the
    // small scratch.
    shapes! {
        Ds = dims(32, 64, (14, 14), (1, 1));
        DsStrided = dims(32, 64, (14, 14), (2, 2));
        Odd = dims(5, 7, (9, 11), (1, 1));
        Short = dims(3, 9, (3, 5), (1, 1));
        One = dims(7, 3, (1, 1), (1, 1));
        Sequence = dims(6, 5, (1, 37), (1, 2));
        Three = dims(4, 6, (8, 7), (3, 3));
        Wide = dims(24, 8, (30, 30), (2, 2));
        Huge = dims(64, 8, (64, 64), (2, 2));
    }

    /// The general convolution's runs, the reference.
    pub(crate) fn runs<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
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

    /// `form` against the runs on `G`, over a block of `n` samples.
    pub(crate) fn agrees<G: ConvShape>(seed: u64, n: usize, form: Run<'_>, tolerance: f64, name: &str) {
        let d = G::DIMS;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (xl, yl) = (d.c_in * d.h * d.w, d.c_out * d.oh * d.ow);
        let (w, b) = (random(d.c_out * d.c_in, &mut rng), random(d.c_out, &mut rng));
        let xs: Vec<Vec<f64>> = (0..n).map(|_| random(xl, &mut rng)).collect();
        let dys: Vec<Vec<f64>> = (0..n).map(|_| random(yl, &mut rng)).collect();
        let (xr, dyr): (Vec<&[f64]>, Vec<&[f64]>) =
            (xs.iter().map(|x| &x[..]).collect(), dys.iter().map(|x| &x[..]).collect());
        let want = runs::<G>(&w, &b, &xr, &dyr);
        let got = form(&w, &b, &xr, &dyr);
        let what = [
            "forward",
            "weight gradient",
            "bias gradient",
            "input gradient",
            "weight gradient without dx",
            "bias gradient without dx",
        ];
        for ((want, got), what) in want.iter().zip(&got).zip(what) {
            close(want, got, tolerance, &std::format!("{name} {what}"), d);
        }
    }

    macro_rules! each_shape {
        ($form:ident, $tolerance:expr, $name:expr) => {
            agrees::<Ds>(1, 11, &$form::<Ds>, $tolerance, $name);
            agrees::<DsStrided>(2, 11, &$form::<DsStrided>, $tolerance, $name);
            agrees::<Odd>(3, 3, &$form::<Odd>, $tolerance, $name);
            agrees::<Short>(4, 9, &$form::<Short>, $tolerance, $name);
            agrees::<One>(5, 2, &$form::<One>, $tolerance, $name);
            agrees::<Sequence>(6, 3, &$form::<Sequence>, $tolerance, $name);
            agrees::<Three>(7, 3, &$form::<Three>, $tolerance, $name);
            agrees::<Wide>(8, 3, &$form::<Wide>, $tolerance, $name);
        };
    }
    // For the x86 and NEON leaves' tests of their variants.
    #[cfg(any(
        all(feature = "std", target_arch = "x86_64"),
        all(target_arch = "aarch64", target_feature = "neon")
    ))]
    pub(crate) use each_shape;

    /// The fast path in portable `f64` lanes, with tiles that leave
    /// remainders (3 rows × 2 registers; 2 × 3 gradient tiles).
    fn portable<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
        run::<f64>(
            G::DIMS,
            w,
            b,
            xs,
            dys,
            |w, b, xs, ys| forward::<G, _, 3, 2>(Portable::NEW, w, b, xs, ys),
            |w, xs, dys, gw, gb, dxs| backward::<G, _, 3, 2, 2, 3>(Portable::NEW, w, xs, dys, gw, gb, dxs),
        )
    }

    /// `f32` through [`Kernels`]: what `Conv2d` runs.
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
    fn the_fast_path_agrees_with_the_general_convolution() {
        each_shape!(portable, 1e-12, "pointwise");
    }

    #[test]
    fn f32_kernels_agree_with_the_general_convolution() {
        each_shape!(kernels, F32_TOLERANCE, "f32 pointwise");
    }

    #[test]
    fn the_fast_path_declines_what_is_not_pointwise_or_does_not_fit() {
        struct Padded;
        impl ConvShape for Padded {
            const DIMS: Dims = Dims { ph: 1, pw: 1, oh: 5, ow: 5, ..dims(2, 2, (3, 3), (1, 1)) };
        }
        struct ThreeByThree;
        impl ConvShape for ThreeByThree {
            const DIMS: Dims = Dims { kh: 3, kw: 3, oh: 1, ow: 1, ..dims(2, 2, (3, 3), (1, 1)) };
        }
        let (w, b, x) = ([1.0; 36], [0.0; 8], std::vec![1.0; 64 * 64 * 64]);
        let mut y = std::vec![7.0; 8 * 32 * 32];
        assert!(!forward::<Padded, _, 2, 2>(Portable::NEW, &w, &b, &[&x], &mut [&mut y]));
        assert!(!forward::<ThreeByThree, _, 2, 2>(Portable::NEW, &w, &b, &[&x], &mut [&mut y]));
        let w = std::vec![1.0; 64 * 8];
        assert!(!forward::<Huge, _, 2, 2>(Portable::NEW, &w, &b, &[&x], &mut [&mut y]));
        assert!(y.iter().all(|&v| v == 7.0), "a declined call touches nothing");
        let (mut gw, mut gb) = (std::vec![0.0; 64 * 8], [0.0; 8]);
        assert!(!backward::<Huge, _, 2, 2, 2, 2>(Portable::NEW, &w, &[&x], &[&y], &mut gw, &mut gb, None));
        assert!(gw.iter().chain(&gb).all(|&v| v == 0.0));
    }
}
