//! The `Dense` products, `ys = W·xs + b`, `dW += dys·xsᵀ` and
//! `dxs = Wᵀ·dys`, over a block of samples: register-blocked tiles written
//! once against [`Lanes`], which the seam runs with the portable lanes and
//! the x86 leaf with its registers; and the plain loops that
//! microcontrollers run instead.
//!
//! A tile of `R` samples × `C` weight rows keeps `R·C` lane accumulators in
//! registers, so each loaded value is used several times. Every size is a
//! constant, so the compiler unrolls the tiles.

use core::array;

use generic_array::ArrayLength;

use super::lanes::Lanes;
use crate::shape::{Matrix, Vector};

/// Inputs per chunk of the broadcast-form forward pass.
const KC: usize = 128;
/// Outputs per chunk of the broadcast-form forward pass.
const OC: usize = 128;

/// The forward pass with the samples across the lanes: `Yᵀ = W·Xᵀ + b`
/// for groups of `GS = G·L` samples. A chunk of at most `KC` inputs of the group is
/// transposed into `xt` (so each input is `G` registers of samples), and an
/// `NR × G` tile of accumulators takes one weight, broadcast, per input and
/// output: no horizontal sums, every loaded register used `NR` times.
/// Partial sums live in `ct` (`OC` outputs × `GS` samples) between chunks.
#[inline(always)]
pub(crate) fn forward_gemm<
    S: Lanes,
    const NR: usize,
    const G: usize,
    const GS: usize,
    I: ArrayLength,
    O: ArrayLength,
>(
    s: S,
    w: &Matrix<S::T, O, I>,
    bias: &Vector<S::T, O>,
    xs: &[&Vector<S::T, I>],
    ys: &mut [&mut Vector<S::T, O>],
) {
    const { assert!(G > 0 && GS.is_multiple_of(G)) };
    debug_assert_eq!(GS, G * S::L);
    let zero = <S::T as num_traits::Zero>::zero();
    // On a cache line's boundary, so that no load of a row of samples
    // straddles two lines (a row is a multiple of 64 bytes in the wide
    // variants).
    let mut xt = CacheLines([[zero; GS]; KC]);
    let mut ct = CacheLines([[zero; GS]; OC]);
    let (xt, ct) = (&mut xt.0, &mut ct.0);
    let n = xs.len().min(ys.len());
    // Chunks of equal length (784 inputs: 7 of 112, not 6 of 128 and one
    // of 16, whose tiles would load and store their accumulators for 16
    // products each).
    let chunk = I::USIZE.div_ceil(I::USIZE.div_ceil(KC));
    let mut b = 0;
    while b < n {
        let m = GS.min(n - b);
        let (group, outs) = (&xs[b..b + m], &mut ys[b..b + m]);
        let mut oc = 0;
        while oc < O::USIZE {
            let ocn = OC.min(O::USIZE - oc);
            for (row, &bo) in ct[..ocn].iter_mut().zip(&bias[oc..oc + ocn]) {
                *row = [bo; GS];
            }
            let mut kc = 0;
            while kc < I::USIZE {
                let kcn = chunk.min(I::USIZE - kc);
                transpose_chunk(s, group, kc, kcn, xt);
                let mut o = 0;
                // Tiles of `NR`, until what is left is four-row tiles (a
                // one-row tile keeps too few sums in flight to hide the
                // multiply-add's latency): 128 outputs with `NR = 6` as
                // 20 × 6 + 2 × 4, not 21 × 6 + 2 × 1.
                while o + NR <= ocn && !((ocn - o).is_multiple_of(4) && ocn - o < 2 * NR) {
                    gemm_tile::<S, NR, G, GS, I, O>(s, w, &xt[..kcn], &mut ct[o..o + NR], oc + o, kc);
                    o += NR;
                }
                while o + 4 <= ocn {
                    gemm_tile::<S, 4, G, GS, I, O>(s, w, &xt[..kcn], &mut ct[o..o + 4], oc + o, kc);
                    o += 4;
                }
                while o < ocn {
                    gemm_tile::<S, 1, G, GS, I, O>(s, w, &xt[..kcn], &mut ct[o..o + 1], oc + o, kc);
                    o += 1;
                }
                kc += kcn;
            }
            for (j, y) in outs.iter_mut().enumerate() {
                for (yo, c) in y[oc..oc + ocn].iter_mut().zip(&ct[..ocn]) {
                    *yo = c[j];
                }
            }
            oc += ocn;
        }
        b += m;
    }
}

/// A value aligned to a cache line.
#[repr(C, align(64))]
struct CacheLines<A>(A);

/// `xt[t][j] = group[j][kc + t]` for `t < kcn`: blocks of `L × L` by
/// [`Lanes::transpose`], the edges one value at a time.
#[inline(always)]
fn transpose_chunk<S: Lanes, const GS: usize, I: ArrayLength>(
    s: S,
    group: &[&Vector<S::T, I>],
    kc: usize,
    kcn: usize,
    xt: &mut [[S::T; GS]],
) {
    let (samples, inputs) = (group.len() / S::L * S::L, kcn / S::L * S::L);
    for j0 in (0..samples).step_by(S::L) {
        for t0 in (0..inputs).step_by(S::L) {
            s.transpose(|r| &group[j0 + r][kc + t0..], &mut xt[t0..], j0);
        }
    }
    for (j, x) in group.iter().enumerate() {
        let from = if j < samples { inputs } else { 0 };
        for (t, &v) in xt[from..kcn].iter_mut().zip(&x[kc + from..kc + kcn]) {
            t[j] = v;
        }
    }
}

/// `ct[c] += Σ_i W[o + c][kc + i] · xt[i]` for `R` outputs, `G` registers
/// of samples each.
#[inline(always)]
fn gemm_tile<S: Lanes, const R: usize, const G: usize, const GS: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    w: &Matrix<S::T, O, I>,
    xt: &[[S::T; GS]],
    ct: &mut [[S::T; GS]],
    o: usize,
    kc: usize,
) {
    let mut acc = [[s.zero(); G]; R];
    for r in 0..R {
        for g in 0..G {
            acc[r][g] = s.load(&ct[r][g * S::L..]);
        }
    }
    let rows: [&[S::T]; R] = array::from_fn(|r| &w[o + r][kc..kc + xt.len()]);
    for (i, x) in xt.iter().enumerate() {
        let mut xv = [s.zero(); G];
        for g in 0..G {
            xv[g] = s.load(&x[g * S::L..]);
        }
        for r in 0..R {
            let wb = s.splat(rows[r][i]);
            for g in 0..G {
                acc[r][g] = s.madd(wb, xv[g], acc[r][g]);
            }
        }
    }
    for r in 0..R {
        for g in 0..G {
            s.store(&mut ct[r][g * S::L..], acc[r][g]);
        }
    }
}

/// The forward pass, `MR` samples × `NR` outputs per tile (`NR1` outputs
/// when a single sample is left).
#[inline(always)]
pub(crate) fn forward_impl<
    S: Lanes,
    const MR: usize,
    const NR: usize,
    const NR1: usize,
    I: ArrayLength,
    O: ArrayLength,
>(
    s: S,
    w: &Matrix<S::T, O, I>,
    bias: &Vector<S::T, O>,
    xs: &[&Vector<S::T, I>],
    ys: &mut [&mut Vector<S::T, O>],
) {
    let n = xs.len().min(ys.len());
    let mut b = 0;
    while b + MR <= n {
        forward_rows::<S, MR, NR, I, O>(s, w, bias, &xs[b..b + MR], &mut ys[b..b + MR]);
        b += MR;
    }
    while b < n {
        forward_rows::<S, 1, NR1, I, O>(s, w, bias, &xs[b..b + 1], &mut ys[b..b + 1]);
        b += 1;
    }
}

/// `R` samples (exactly) through all `O` outputs, `C` outputs at a time.
#[inline(always)]
fn forward_rows<S: Lanes, const R: usize, const C: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    w: &Matrix<S::T, O, I>,
    bias: &Vector<S::T, O>,
    xs: &[&Vector<S::T, I>],
    ys: &mut [&mut Vector<S::T, O>],
) {
    let x: [&[S::T]; R] = array::from_fn(|r| xs[r].as_slice());
    let mut o = 0;
    while o + C <= O::USIZE {
        let rows: [&[S::T]; C] = array::from_fn(|c| w[o + c].as_slice());
        let dots = dot_tile::<S, R, C>(s, x, rows, I::USIZE);
        for (y, d) in ys.iter_mut().zip(dots) {
            for c in 0..C {
                y[o + c] = bias[o + c] + d[c];
            }
        }
        o += C;
    }
    while o < O::USIZE {
        let dots = dot_tile::<S, R, 1>(s, x, [w[o].as_slice()], I::USIZE);
        for (y, d) in ys.iter_mut().zip(dots) {
            y[o] = bias[o] + d[0];
        }
        o += 1;
    }
}

/// The `R × C` dot products of `xs[r][..k]` with `ws[c][..k]`.
#[inline(always)]
fn dot_tile<S: Lanes, const R: usize, const C: usize>(
    s: S,
    xs: [&[S::T]; R],
    ws: [&[S::T]; C],
    k: usize,
) -> [[S::T; C]; R] {
    let mut acc = [[s.zero(); C]; R];
    let full = k / S::L * S::L;
    let mut i = 0;
    while i < full {
        let mut xv = [s.zero(); R];
        for r in 0..R {
            xv[r] = s.load(&xs[r][i..]);
        }
        let mut wv = [s.zero(); C];
        for c in 0..C {
            wv[c] = s.load(&ws[c][i..]);
        }
        for r in 0..R {
            for c in 0..C {
                acc[r][c] = s.madd(xv[r], wv[c], acc[r][c]);
            }
        }
        i += S::L;
    }
    let mut dots = [[<S::T as num_traits::Zero>::zero(); C]; R];
    if C.is_multiple_of(8) || (R * C).is_multiple_of(8) {
        // Eight sums at a time, in row-major order of the tile.
        let mut k = 0;
        while k < R * C {
            let mut group = [s.zero(); 8];
            for (j, g) in group.iter_mut().enumerate() {
                *g = acc[(k + j) / C][(k + j) % C];
            }
            for (j, sum) in s.hsum8(group).into_iter().enumerate() {
                dots[(k + j) / C][(k + j) % C] = sum;
            }
            k += 8;
        }
    } else {
        for r in 0..R {
            for c in 0..C {
                dots[r][c] = s.hsum(acc[r][c]);
            }
        }
    }
    for i in full..k {
        for r in 0..R {
            for c in 0..C {
                dots[r][c] = s.madd1(xs[r][i], ws[c][i], dots[r][c]);
            }
        }
    }
    dots
}

/// The weight and bias gradients: `NR` weight rows × `MC` registers per
/// tile, held in registers across the block's samples. Column strips are
/// the outer loop, so a strip of the inputs stays in the first-level cache
/// while every row of the gradient passes over it.
#[inline(always)]
pub(crate) fn grads_impl<S: Lanes, const NR: usize, const MC: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    gw: &mut Matrix<S::T, O, I>,
    gb: &mut Vector<S::T, O>,
    xs: &[&Vector<S::T, I>],
    dys: &[&Vector<S::T, O>],
) {
    let n = xs.len().min(dys.len());
    let (xs, dys) = (&xs[..n], &dys[..n]);
    for dy in dys {
        for (g, &d) in gb.iter_mut().zip(dy.iter()) {
            *g = *g + d;
        }
    }
    let mut i = 0;
    while i + MC * S::L <= I::USIZE {
        grad_cols::<S, NR, MC, I, O>(s, gw, i, xs, dys);
        i += MC * S::L;
    }
    while MC > 2 && i + 2 * S::L <= I::USIZE {
        grad_cols::<S, NR, 2, I, O>(s, gw, i, xs, dys);
        i += 2 * S::L;
    }
    while i + S::L <= I::USIZE {
        grad_cols::<S, NR, 1, I, O>(s, gw, i, xs, dys);
        i += S::L;
    }
    while i < I::USIZE {
        for o in 0..O::USIZE {
            let mut acc = gw[o][i];
            for (x, dy) in xs.iter().zip(dys) {
                acc = s.madd1(dy[o], x[i], acc);
            }
            gw[o][i] = acc;
        }
        i += 1;
    }
}

/// Columns `i..i + M·L` of every row of `gw += Σ_b dys[b]·xs[b]ᵀ`.
#[inline(always)]
fn grad_cols<S: Lanes, const R: usize, const M: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    gw: &mut Matrix<S::T, O, I>,
    i: usize,
    xs: &[&Vector<S::T, I>],
    dys: &[&Vector<S::T, O>],
) {
    let mut o = 0;
    while o + R <= O::USIZE {
        grad_tile::<S, R, M, I, O>(s, gw, o, i, xs, dys);
        o += R;
    }
    while o < O::USIZE {
        grad_tile::<S, 1, M, I, O>(s, gw, o, i, xs, dys);
        o += 1;
    }
}

#[inline(always)]
fn grad_tile<S: Lanes, const R: usize, const M: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    gw: &mut Matrix<S::T, O, I>,
    o: usize,
    i: usize,
    xs: &[&Vector<S::T, I>],
    dys: &[&Vector<S::T, O>],
) {
    let mut acc = [[s.zero(); M]; R];
    for r in 0..R {
        for m in 0..M {
            acc[r][m] = s.load(&gw[o + r][i + m * S::L..]);
        }
    }
    for (x, dy) in xs.iter().zip(dys) {
        let mut xv = [s.zero(); M];
        for m in 0..M {
            xv[m] = s.load(&x[i + m * S::L..]);
        }
        for r in 0..R {
            let d = s.splat(dy[o + r]);
            for m in 0..M {
                acc[r][m] = s.madd(d, xv[m], acc[r][m]);
            }
        }
    }
    for (r, a) in acc.iter().enumerate() {
        for (m, &v) in a.iter().enumerate() {
            s.store(&mut gw[o + r][i + m * S::L..], v);
        }
    }
}

/// The input gradients, `MR` samples × `MC` registers per tile.
#[inline(always)]
pub(crate) fn input_grads_impl<S: Lanes, const MR: usize, const MC: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    w: &Matrix<S::T, O, I>,
    dys: &[&Vector<S::T, O>],
    dxs: &mut [&mut Vector<S::T, I>],
) {
    let n = dys.len().min(dxs.len());
    let mut b = 0;
    while b + MR <= n {
        input_grad_rows::<S, MR, MC, I, O>(s, w, &dys[b..b + MR], &mut dxs[b..b + MR]);
        b += MR;
    }
    while b < n {
        input_grad_rows::<S, 1, MC, I, O>(s, w, &dys[b..b + 1], &mut dxs[b..b + 1]);
        b += 1;
    }
}

/// `R` samples (exactly) of `dx = Wᵀ·dy`, `M` registers at a time.
#[inline(always)]
fn input_grad_rows<S: Lanes, const R: usize, const M: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    w: &Matrix<S::T, O, I>,
    dys: &[&Vector<S::T, O>],
    dxs: &mut [&mut Vector<S::T, I>],
) {
    let mut i = 0;
    while i + M * S::L <= I::USIZE {
        input_grad_tile::<S, R, M, I, O>(s, w, i, dys, dxs);
        i += M * S::L;
    }
    while i + S::L <= I::USIZE {
        input_grad_tile::<S, R, 1, I, O>(s, w, i, dys, dxs);
        i += S::L;
    }
    while i < I::USIZE {
        for r in 0..R {
            let mut acc = <S::T as num_traits::Zero>::zero();
            for (row, &d) in w.iter().zip(dys[r].iter()) {
                acc = s.madd1(d, row[i], acc);
            }
            dxs[r][i] = acc;
        }
        i += 1;
    }
}

#[inline(always)]
fn input_grad_tile<S: Lanes, const R: usize, const M: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    w: &Matrix<S::T, O, I>,
    i: usize,
    dys: &[&Vector<S::T, O>],
    dxs: &mut [&mut Vector<S::T, I>],
) {
    let mut acc = [[s.zero(); M]; R];
    for (o, row) in w.iter().enumerate() {
        let mut wv = [s.zero(); M];
        for m in 0..M {
            wv[m] = s.load(&row[i + m * S::L..]);
        }
        for r in 0..R {
            let d = s.splat(dys[r][o]);
            for m in 0..M {
                acc[r][m] = s.madd(d, wv[m], acc[r][m]);
            }
        }
    }
    for (dx, a) in dxs.iter_mut().zip(acc.iter()) {
        for (m, &v) in a.iter().enumerate() {
            s.store(&mut dx[i + m * S::L..], v);
        }
    }
}

/// Plain loops for targets without vector registers worth blocking for
/// (microcontrollers): the blocked portable kernel keeps 8 to 32
/// accumulators live, which a Cortex-M's 16 (or no) floating-point
/// registers spill; these keep one and measured 4.7× fewer instructions per
/// digits inference on the Cortex-M4. (Compiled for the tests too: the
/// Cortex-M leaf's are checked against them bit for bit.)
#[cfg(any(not(target_arch = "x86_64"), test))]
pub(crate) mod plain {
    use generic_array::ArrayLength;

    use crate::shape::{Matrix, Vector};

    pub(crate) fn forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        for (x, y) in xs.iter().zip(ys.iter_mut()) {
            for ((yo, row), &b) in y.iter_mut().zip(w.iter()).zip(bias.iter()) {
                *yo = b + row.iter().zip(x.iter()).fold(0.0, |acc, (&w, &x)| acc + w * x);
            }
        }
    }

    pub(crate) fn grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        for (x, dy) in xs.iter().zip(dys.iter()) {
            for ((grow, gbo), &d) in gw.iter_mut().zip(gb.iter_mut()).zip(dy.iter()) {
                *gbo += d;
                for (g, &xi) in grow.iter_mut().zip(x.iter()) {
                    *g += d * xi;
                }
            }
        }
    }

    pub(crate) fn input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        for (dy, dx) in dys.iter().zip(dxs.iter_mut()) {
            dx.iter_mut().for_each(|v| *v = 0.0);
            for (row, &d) in w.iter().zip(dy.iter()) {
                for (dxi, &wi) in dx.iter_mut().zip(row.iter()) {
                    *dxi += wi * d;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
pub(super) mod tests {
    use super::*;
    use crate::kernel::Kernels;
    use crate::kernel::dispatch::isa;
    use crate::kernel::lanes::Portable;
    use crate::prelude::*;
    use std::vec::Vec;

    /// One implementation of the three products, as [`matches_the_reference`]
    /// calls it.
    pub(crate) trait Products {
        /// Its name in a failure's message.
        const NAME: &str;
        fn forward<I: ArrayLength, O: ArrayLength>(
            &self,
            w: &Matrix<f32, O, I>,
            bias: &Vector<f32, O>,
            xs: &[&Vector<f32, I>],
            ys: &mut [&mut Vector<f32, O>],
        );
        fn grads<I: ArrayLength, O: ArrayLength>(
            &self,
            gw: &mut Matrix<f32, O, I>,
            gb: &mut Vector<f32, O>,
            xs: &[&Vector<f32, I>],
            dys: &[&Vector<f32, O>],
        );
        fn input_grads<I: ArrayLength, O: ArrayLength>(
            &self,
            w: &Matrix<f32, O, I>,
            dys: &[&Vector<f32, O>],
            dxs: &mut [&mut Vector<f32, I>],
        );
    }

    /// The products in `f64`, one term at a time.
    fn reference<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        xs: &[Vector<f32, I>],
        dys: &[Vector<f32, O>],
    ) -> (Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let y = xs
            .iter()
            .map(|x| w.iter().map(|row| row.iter().zip(x).map(|(&a, &b)| a as f64 * b as f64).sum()).collect())
            .collect();
        let gw = (0..O::USIZE)
            .map(|o| {
                (0..I::USIZE).map(|i| xs.iter().zip(dys).map(|(x, dy)| dy[o] as f64 * x[i] as f64).sum()).collect()
            })
            .collect();
        let dx = dys
            .iter()
            .map(|dy| (0..I::USIZE).map(|i| (0..O::USIZE).map(|o| dy[o] as f64 * w[o][i] as f64).sum()).collect())
            .collect();
        (y, gw, dx)
    }

    fn close(a: f32, b: f64) -> bool {
        (a as f64 - b).abs() <= 1e-5 * (1.0 + b.abs())
    }

    /// `p` on sizes that leave partial tiles and lanes, against the `f64`
    /// reference.
    pub(crate) fn matches_the_reference<P: Products>(p: &P) {
        for n in [1, 2, 3, 5, 9, 16, 35] {
            check::<P, U3, U2>(p, n);
            check::<P, U37, U13>(p, n);
            check::<P, U64, U10>(p, n);
            check::<P, U100, U19>(p, n);
        }
        // Several chunks of inputs and of outputs in the broadcast form.
        check::<P, U300, U130>(p, 9);
        check::<P, U300, U130>(p, 35);
    }

    fn check<P: Products, I: ArrayLength, O: ArrayLength>(p: &P, n: usize) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(n as u64);
        let mut w = Matrix::<f32, O, I>::default();
        crate::init::fill_uniform(w.as_flat_mut(), 1.0, &mut rng);
        let mut xs = std::vec![Vector::<f32, I>::default(); n];
        let mut dys = std::vec![Vector::<f32, O>::default(); n];
        xs.iter_mut().for_each(|x| crate::init::fill_uniform(x, 1.0, &mut rng));
        dys.iter_mut().for_each(|d| crate::init::fill_uniform(d, 1.0, &mut rng));
        let (y_ref, gw_ref, dx_ref) = reference(&w, &xs, &dys);
        let bias = Vector::<f32, O>::default();
        let x_refs: Vec<&Vector<f32, I>> = xs.iter().collect();
        let dy_refs: Vec<&Vector<f32, O>> = dys.iter().collect();
        let name = P::NAME;

        let mut ys = std::vec![Vector::<f32, O>::default(); n];
        p.forward(&w, &bias, &x_refs, &mut ys.iter_mut().collect::<Vec<_>>());
        for (y, r) in ys.iter().zip(&y_ref) {
            assert!(y.iter().zip(r).all(|(&a, &b)| close(a, b)), "{name} forward {n}x{}x{}", I::USIZE, O::USIZE);
        }
        let (mut gw, mut gb) = (Matrix::<f32, O, I>::default(), Vector::<f32, O>::default());
        p.grads(&mut gw, &mut gb, &x_refs, &dy_refs);
        for (g, r) in gw.iter().zip(&gw_ref) {
            assert!(g.iter().zip(r).all(|(&a, &b)| close(a, b)), "{name} grads {n}x{}x{}", I::USIZE, O::USIZE);
        }
        let mut dxs = std::vec![Vector::<f32, I>::default(); n];
        p.input_grads(&w, &dy_refs, &mut dxs.iter_mut().collect::<Vec<_>>());
        for (d, r) in dxs.iter().zip(&dx_ref) {
            assert!(d.iter().zip(r).all(|(&a, &b)| close(a, b)), "{name} input grads {n}x{}x{}", I::USIZE, O::USIZE);
        }
    }

    /// `impl Products for $on`, each product given by the names of its
    /// parameters and the call that computes it.
    macro_rules! products {
        (
            $on:ty, $name:literal;
            forward($w:ident, $bias:ident, $xs:ident, $ys:ident) => $forward:expr;
            grads($gw:ident, $gb:ident, $gxs:ident, $dys:ident) => $grads:expr;
            input_grads($iw:ident, $idys:ident, $dxs:ident) => $input_grads:expr;
        ) => {
            impl $crate::kernel::dense::tests::Products for $on {
                const NAME: &str = $name;
                fn forward<I: generic_array::ArrayLength, O: generic_array::ArrayLength>(
                    &self,
                    $w: &$crate::shape::Matrix<f32, O, I>,
                    $bias: &$crate::shape::Vector<f32, O>,
                    $xs: &[&$crate::shape::Vector<f32, I>],
                    $ys: &mut [&mut $crate::shape::Vector<f32, O>],
                ) {
                    $forward
                }
                fn grads<I: generic_array::ArrayLength, O: generic_array::ArrayLength>(
                    &self,
                    $gw: &mut $crate::shape::Matrix<f32, O, I>,
                    $gb: &mut $crate::shape::Vector<f32, O>,
                    $gxs: &[&$crate::shape::Vector<f32, I>],
                    $dys: &[&$crate::shape::Vector<f32, O>],
                ) {
                    $grads
                }
                fn input_grads<I: generic_array::ArrayLength, O: generic_array::ArrayLength>(
                    &self,
                    $iw: &$crate::shape::Matrix<f32, O, I>,
                    $idys: &[&$crate::shape::Vector<f32, O>],
                    $dxs: &mut [&mut $crate::shape::Vector<f32, I>],
                ) {
                    $input_grads
                }
            }
        };
    }
    // For the x86 leaf's tests.
    #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(unused_imports))]
    pub(crate) use products;

    /// The tiles with the portable lanes, as the seam runs them.
    struct PortableTiles;

    products! {
        PortableTiles, "portable";
        forward(w, bias, xs, ys) => forward_impl::<_, 2, 4, 4, I, O>(Portable::NEW, w, bias, xs, ys);
        grads(gw, gb, xs, dys) => grads_impl::<_, 2, 2, I, O>(Portable::NEW, gw, gb, xs, dys);
        input_grads(w, dys, dxs) => input_grads_impl::<_, 2, 2, I, O>(Portable::NEW, w, dys, dxs);
    }

    /// Through the seam, as layers call it: the variant this CPU runs.
    struct Dispatched;

    products! {
        Dispatched, "dispatched";
        forward(w, bias, xs, ys) => f32::dense_forward(w, bias, xs, ys);
        grads(gw, gb, xs, dys) => f32::dense_grads(gw, gb, xs, dys);
        input_grads(w, dys, dxs) => f32::dense_input_grads(w, dys, dxs);
    }

    /// The portable tiles and the dispatched path (the x86 leaf checks its
    /// variants in its own tests).
    #[test]
    fn every_variant_matches_the_reference() {
        std::println!("kernels run as {:?}", isa());
        matches_the_reference(&PortableTiles);
        matches_the_reference(&Dispatched);
    }
}
