//! The arithmetic kernels behind `Dense` and the training loop:
//! register-blocked matrix products over compile-time sizes, and the
//! element-wise passes over parameters.
//!
//! The kernels are plain Rust over fixed-size lane arrays (`[T; L]`), which
//! the compiler unrolls and vectorises because every size is a constant. A
//! tile of `R` samples × `C` weight rows keeps `R·C` lane accumulators in
//! registers, so each loaded value is used several times.
//!
//! On x86-64 with `std`, the same code is also compiled for AVX2 + FMA and
//! for AVX-512 (`#[target_feature]`), and the best one the CPU has is chosen
//! at run time; those variants fuse each multiply-add (one rounding instead
//! of two). So results agree across CPUs up to rounding, and on one machine
//! they are the same bit for bit every run. Everywhere else (no `std`, other
//! architectures) the portable variant runs: it needs no feature detection
//! and builds for any target.

use core::array;

use generic_array::ArrayLength;

use crate::Scalar;
use crate::shape::{Matrix, Vector};

/// `a·b + c`, rounded as the variant chooses.
pub(crate) trait Madd {
    fn madd<T: Scalar>(a: T, b: T, c: T) -> T;
}

/// Two roundings: `a·b` then `+ c` (every target).
pub(crate) struct Plain;

impl Madd for Plain {
    #[inline(always)]
    fn madd<T: Scalar>(a: T, b: T, c: T) -> T {
        a * b + c
    }
}

/// One rounding (`mul_add`); only used where the CPU has FMA, where it is
/// one instruction.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) struct Fused;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
impl Madd for Fused {
    #[inline(always)]
    fn madd<T: Scalar>(a: T, b: T, c: T) -> T {
        a.mul_add(b, c)
    }
}

/// The instruction sets a kernel can run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// Whatever the build targets (SSE2 on a plain x86-64 build).
    Portable,
    /// AVX2 and FMA.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    Avx2,
    /// AVX-512 (F, VL, BW, DQ) and FMA.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    Avx512,
}

/// The best instruction set this CPU has (detected once, then cached by
/// `std`).
#[inline]
pub(crate) fn isa() -> Isa {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use std::is_x86_feature_detected as has;
        if has!("fma") && has!("avx2") {
            if has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq") {
                return Isa::Avx512;
            }
            return Isa::Avx2;
        }
    }
    Isa::Portable
}

/// Runs `f` compiled for the best instruction set the CPU has: `f` is
/// inlined into a copy of this function built with those features, so the
/// element-wise loops in it use the wide registers. Kernels called inside
/// still choose their own variant.
#[inline]
pub(crate) fn with_best_isa<R>(f: impl FnOnce() -> R) -> R {
    match isa() {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        // SAFETY: `isa()` detected every feature the function enables.
        Isa::Avx512 => unsafe { run_avx512(f) },
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        // SAFETY: as above.
        Isa::Avx2 => unsafe { run_avx2(f) },
        Isa::Portable => f(),
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn run_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Products smaller than this many multiply-adds run the portable kernel
/// inline: choosing a variant would cost more than it saves.
const DISPATCH_MIN: usize = 512;

/// Generates a public kernel that picks its variant: `$name(args)` calls
/// `$imp::<T, F, L, tiles…>(args)` with the tile shape of each instruction
/// set (lanes for `f32`; `f64` uses half as many).
macro_rules! dispatch {
    (
        $(#[$doc:meta])*
        fn $name:ident<$($g:ident: $gb:path),*>($($arg:ident: $ty:ty),* $(,)?) => $imp:ident, work = $work:expr;
        portable = [$($p:literal),*]; avx2 = [$($a2:literal),*]; avx512 = [$($a5:literal),*];
    ) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name<T: Scalar, $($g: $gb),*>($($arg: $ty),*) {
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                unsafe fn avx512<T: Scalar, $($g: $gb),*>($($arg: $ty),*) {
                    if size_of::<T>() == 4 {
                        $imp::<T, Fused, 16, $($a5,)* $($g),*>($($arg),*)
                    } else {
                        $imp::<T, Fused, 8, $($a5,)* $($g),*>($($arg),*)
                    }
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2<T: Scalar, $($g: $gb),*>($($arg: $ty),*) {
                    if size_of::<T>() == 4 {
                        $imp::<T, Fused, 8, $($a2,)* $($g),*>($($arg),*)
                    } else {
                        $imp::<T, Fused, 4, $($a2,)* $($g),*>($($arg),*)
                    }
                }
                if $work >= DISPATCH_MIN {
                    match isa() {
                        // SAFETY: `isa()` detected every feature `avx512` enables.
                        Isa::Avx512 => return unsafe { avx512::<T, $($g),*>($($arg),*) },
                        // SAFETY: as above, for `avx2`.
                        Isa::Avx2 => return unsafe { avx2::<T, $($g),*>($($arg),*) },
                        Isa::Portable => {}
                    }
                }
            }
            $imp::<T, Plain, 4, $($p,)* $($g),*>($($arg),*)
        }
    };
}

dispatch! {
    /// `ys[b] = W·xs[b] + bias` for each sample `b` (as many as `xs` has).
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<T, O, I>, bias: &Vector<T, O>, xs: &[&Vector<T, I>], ys: &mut [&mut Vector<T, O>]
    ) => forward_impl, work = xs.len() * I::USIZE * O::USIZE;
    portable = [2, 4, 4]; avx2 = [2, 4, 6]; avx512 = [4, 4, 8];
}

dispatch! {
    /// `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`.
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<T, O, I>, gb: &mut Vector<T, O>, xs: &[&Vector<T, I>], dys: &[&Vector<T, O>]
    ) => grads_impl, work = xs.len() * I::USIZE * O::USIZE;
    portable = [2, 2]; avx2 = [3, 4]; avx512 = [4, 4];
}

dispatch! {
    /// `dxs[b] = Wᵀ·dys[b]` for each sample `b`.
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<T, O, I>, dys: &[&Vector<T, O>], dxs: &mut [&mut Vector<T, I>]
    ) => input_grads_impl, work = dys.len() * I::USIZE * O::USIZE;
    portable = [2, 2]; avx2 = [3, 4]; avx512 = [4, 4];
}

/// Loads `L` values from `s` at `at`.
#[inline(always)]
fn load<T: Scalar, const L: usize>(s: &[T], at: usize) -> [T; L] {
    let mut v = [T::zero(); L];
    v.copy_from_slice(&s[at..at + L]);
    v
}

/// The sum of the lanes, halving pairwise.
#[inline(always)]
fn hsum<T: Scalar, const L: usize>(mut v: [T; L]) -> T {
    let mut width = L;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            v[l] = v[l] + v[l + width];
        }
    }
    v[0]
}

#[inline(always)]
fn forward_impl<T, F, const L: usize, const MR: usize, const NR: usize, const NR1: usize, I, O>(
    w: &Matrix<T, O, I>,
    bias: &Vector<T, O>,
    xs: &[&Vector<T, I>],
    ys: &mut [&mut Vector<T, O>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let n = xs.len().min(ys.len());
    let mut b = 0;
    while b + MR <= n {
        forward_rows::<T, F, L, MR, NR, I, O>(w, bias, &xs[b..b + MR], &mut ys[b..b + MR]);
        b += MR;
    }
    while b < n {
        forward_rows::<T, F, L, 1, NR1, I, O>(w, bias, &xs[b..b + 1], &mut ys[b..b + 1]);
        b += 1;
    }
}

/// `R` samples (exactly) through all `O` outputs, `C` outputs at a time.
#[inline(always)]
fn forward_rows<T, F, const L: usize, const R: usize, const C: usize, I, O>(
    w: &Matrix<T, O, I>,
    bias: &Vector<T, O>,
    xs: &[&Vector<T, I>],
    ys: &mut [&mut Vector<T, O>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let x: [&[T]; R] = array::from_fn(|r| xs[r].as_slice());
    let mut o = 0;
    while o + C <= O::USIZE {
        let rows: [&[T]; C] = array::from_fn(|c| w[o + c].as_slice());
        let dots = dot_tile::<T, F, L, R, C>(x, rows, I::USIZE);
        for (y, d) in ys.iter_mut().zip(dots) {
            for c in 0..C {
                y[o + c] = bias[o + c] + d[c];
            }
        }
        o += C;
    }
    while o < O::USIZE {
        let dots = dot_tile::<T, F, L, R, 1>(x, [w[o].as_slice()], I::USIZE);
        for (y, d) in ys.iter_mut().zip(dots) {
            y[o] = bias[o] + d[0];
        }
        o += 1;
    }
}

/// The `R × C` dot products of `xs[r][..k]` with `ws[c][..k]`.
#[inline(always)]
fn dot_tile<T: Scalar, F: Madd, const L: usize, const R: usize, const C: usize>(
    xs: [&[T]; R],
    ws: [&[T]; C],
    k: usize,
) -> [[T; C]; R] {
    let mut acc = [[[T::zero(); L]; C]; R];
    let full = k / L * L;
    let mut i = 0;
    while i < full {
        let xv: [[T; L]; R] = array::from_fn(|r| load(xs[r], i));
        let wv: [[T; L]; C] = array::from_fn(|c| load(ws[c], i));
        for r in 0..R {
            for c in 0..C {
                for l in 0..L {
                    acc[r][c][l] = F::madd(xv[r][l], wv[c][l], acc[r][c][l]);
                }
            }
        }
        i += L;
    }
    for (l, i) in (full..k).enumerate() {
        for r in 0..R {
            for c in 0..C {
                acc[r][c][l] = F::madd(xs[r][i], ws[c][i], acc[r][c][l]);
            }
        }
    }
    array::from_fn(|r| array::from_fn(|c| hsum(acc[r][c])))
}

#[inline(always)]
fn grads_impl<T, F, const L: usize, const NR: usize, const MC: usize, I, O>(
    gw: &mut Matrix<T, O, I>,
    gb: &mut Vector<T, O>,
    xs: &[&Vector<T, I>],
    dys: &[&Vector<T, O>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let n = xs.len().min(dys.len());
    for dy in &dys[..n] {
        for (g, &d) in gb.iter_mut().zip(dy.iter()) {
            *g = *g + d;
        }
    }
    let mut o = 0;
    while o + NR <= O::USIZE {
        grad_rows::<T, F, L, NR, MC, I, O>(gw, o, &xs[..n], &dys[..n]);
        o += NR;
    }
    while o < O::USIZE {
        grad_rows::<T, F, L, 1, MC, I, O>(gw, o, &xs[..n], &dys[..n]);
        o += 1;
    }
}

/// Rows `o..o + R` of `gw += Σ_b dys[b]·xs[b]ᵀ`, `M·L` columns at a time.
#[inline(always)]
fn grad_rows<T, F, const L: usize, const R: usize, const M: usize, I, O>(
    gw: &mut Matrix<T, O, I>,
    o: usize,
    xs: &[&Vector<T, I>],
    dys: &[&Vector<T, O>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let mut i = 0;
    while i + M * L <= I::USIZE {
        grad_tile::<T, F, L, R, M, I, O>(gw, o, i, xs, dys);
        i += M * L;
    }
    while i + L <= I::USIZE {
        grad_tile::<T, F, L, R, 1, I, O>(gw, o, i, xs, dys);
        i += L;
    }
    while i < I::USIZE {
        for r in 0..R {
            let mut acc = gw[o + r][i];
            for (x, dy) in xs.iter().zip(dys) {
                acc = F::madd(dy[o + r], x[i], acc);
            }
            gw[o + r][i] = acc;
        }
        i += 1;
    }
}

#[inline(always)]
fn grad_tile<T, F, const L: usize, const R: usize, const M: usize, I, O>(
    gw: &mut Matrix<T, O, I>,
    o: usize,
    i: usize,
    xs: &[&Vector<T, I>],
    dys: &[&Vector<T, O>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let mut acc: [[[T; L]; M]; R] = array::from_fn(|r| array::from_fn(|m| load(&gw[o + r], i + m * L)));
    for (x, dy) in xs.iter().zip(dys) {
        let xv: [[T; L]; M] = array::from_fn(|m| load(x, i + m * L));
        for r in 0..R {
            let d = dy[o + r];
            for m in 0..M {
                for l in 0..L {
                    acc[r][m][l] = F::madd(d, xv[m][l], acc[r][m][l]);
                }
            }
        }
    }
    for (r, a) in acc.iter().enumerate() {
        for (m, v) in a.iter().enumerate() {
            gw[o + r][i + m * L..i + (m + 1) * L].copy_from_slice(v);
        }
    }
}

#[inline(always)]
fn input_grads_impl<T, F, const L: usize, const MR: usize, const MC: usize, I, O>(
    w: &Matrix<T, O, I>,
    dys: &[&Vector<T, O>],
    dxs: &mut [&mut Vector<T, I>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let n = dys.len().min(dxs.len());
    let mut b = 0;
    while b + MR <= n {
        input_grad_rows::<T, F, L, MR, MC, I, O>(w, &dys[b..b + MR], &mut dxs[b..b + MR]);
        b += MR;
    }
    while b < n {
        input_grad_rows::<T, F, L, 1, MC, I, O>(w, &dys[b..b + 1], &mut dxs[b..b + 1]);
        b += 1;
    }
}

/// `R` samples (exactly) of `dx = Wᵀ·dy`, `M·L` inputs at a time.
#[inline(always)]
fn input_grad_rows<T, F, const L: usize, const R: usize, const M: usize, I, O>(
    w: &Matrix<T, O, I>,
    dys: &[&Vector<T, O>],
    dxs: &mut [&mut Vector<T, I>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let mut i = 0;
    while i + M * L <= I::USIZE {
        input_grad_tile::<T, F, L, R, M, I, O>(w, i, dys, dxs);
        i += M * L;
    }
    while i + L <= I::USIZE {
        input_grad_tile::<T, F, L, R, 1, I, O>(w, i, dys, dxs);
        i += L;
    }
    while i < I::USIZE {
        for r in 0..R {
            let mut acc = T::zero();
            for (row, &d) in w.iter().zip(dys[r].iter()) {
                acc = F::madd(d, row[i], acc);
            }
            dxs[r][i] = acc;
        }
        i += 1;
    }
}

#[inline(always)]
fn input_grad_tile<T, F, const L: usize, const R: usize, const M: usize, I, O>(
    w: &Matrix<T, O, I>,
    i: usize,
    dys: &[&Vector<T, O>],
    dxs: &mut [&mut Vector<T, I>],
) where
    T: Scalar,
    F: Madd,
    I: ArrayLength,
    O: ArrayLength,
{
    let mut acc = [[[T::zero(); L]; M]; R];
    for (o, row) in w.iter().enumerate() {
        let wv: [[T; L]; M] = array::from_fn(|m| load(row, i + m * L));
        for r in 0..R {
            let d = dys[r][o];
            for m in 0..M {
                for l in 0..L {
                    acc[r][m][l] = F::madd(d, wv[m][l], acc[r][m][l]);
                }
            }
        }
    }
    for (dx, a) in dxs.iter_mut().zip(acc.iter()) {
        for (m, v) in a.iter().enumerate() {
            dx[i + m * L..i + (m + 1) * L].copy_from_slice(v);
        }
    }
}

/// `Σ v²` in `f64`, summed in eight lanes (so it vectorises).
#[inline]
pub(crate) fn sum_squares<T: Scalar>(values: &[T]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (s, &v) in lanes.iter_mut().zip(chunk) {
            let v = v.to_f64();
            *s += v * v;
        }
    }
    for (s, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        let v = v.to_f64();
        *s += v * v;
    }
    hsum(lanes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use std::vec::Vec;

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

    /// Every variant this CPU has, on sizes that leave partial tiles and
    /// lanes, against the `f64` reference.
    fn check<I: ArrayLength, O: ArrayLength>(n: usize) {
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

        let run = |forward: &dyn Fn(&mut [&mut Vector<f32, O>]),
                   grads: &dyn Fn(&mut Matrix<f32, O, I>, &mut Vector<f32, O>),
                   input: &dyn Fn(&mut [&mut Vector<f32, I>]),
                   name: &str| {
            let mut ys = std::vec![Vector::<f32, O>::default(); n];
            forward(&mut ys.iter_mut().collect::<Vec<_>>());
            for (y, r) in ys.iter().zip(&y_ref) {
                assert!(y.iter().zip(r).all(|(&a, &b)| close(a, b)), "{name} forward {n}x{}x{}", I::USIZE, O::USIZE);
            }
            let (mut gw, mut gb) = (Matrix::<f32, O, I>::default(), Vector::<f32, O>::default());
            grads(&mut gw, &mut gb);
            for (g, r) in gw.iter().zip(&gw_ref) {
                assert!(g.iter().zip(r).all(|(&a, &b)| close(a, b)), "{name} grads {n}x{}x{}", I::USIZE, O::USIZE);
            }
            let mut dxs = std::vec![Vector::<f32, I>::default(); n];
            input(&mut dxs.iter_mut().collect::<Vec<_>>());
            for (d, r) in dxs.iter().zip(&dx_ref) {
                assert!(
                    d.iter().zip(r).all(|(&a, &b)| close(a, b)),
                    "{name} input grads {n}x{}x{}",
                    I::USIZE,
                    O::USIZE
                );
            }
        };
        run(
            &|ys| forward_impl::<f32, Plain, 4, 2, 4, 4, I, O>(&w, &bias, &x_refs, ys),
            &|gw, gb| grads_impl::<f32, Plain, 4, 2, 2, I, O>(gw, gb, &x_refs, &dy_refs),
            &|dxs| input_grads_impl::<f32, Plain, 4, 2, 2, I, O>(&w, &dy_refs, dxs),
            "portable",
        );
        run(
            &|ys| dense_forward(&w, &bias, &x_refs, ys),
            &|gw, gb| dense_grads(gw, gb, &x_refs, &dy_refs),
            &|dxs| dense_input_grads(&w, &dy_refs, dxs),
            "dispatched",
        );
    }

    #[test]
    fn every_variant_matches_the_reference() {
        std::println!("kernels run as {:?}", isa());
        for n in [1, 2, 3, 5, 9] {
            check::<U3, U2>(n);
            check::<U37, U13>(n);
            check::<U64, U10>(n);
            check::<U100, U19>(n);
        }
    }

    #[test]
    fn sum_squares_matches_a_plain_sum() {
        let v: Vec<f32> = (0..37).map(|i| i as f32 * 0.5 - 3.0).collect();
        let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
        assert!((sum_squares(&v) - plain).abs() < 1e-9);
    }
}
