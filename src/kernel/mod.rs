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

// The wide variants, and what only they use, exist on x86-64 with `std`.
#![cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]

use core::array;

use generic_array::ArrayLength;

pub(crate) mod conv;
use conv::ConvShape;

use crate::Scalar;
use crate::shape::{Matrix, Vector};

/// One register of `L` lanes of `T` and the operations the kernels need.
///
/// Implemented by [`Portable`] (plain arrays, any target) and, on x86-64
/// with `std`, by [`Avx2`] and [`Avx512`], whose values exist only once the
/// CPU was found to have the instructions (see [`isa`]).
pub(crate) trait Lanes: Copy {
    /// The scalar.
    type T: Scalar;
    /// The register.
    type V: Copy;
    /// Lanes per register.
    const L: usize;
    fn zero(self) -> Self::V;
    fn splat(self, x: Self::T) -> Self::V;
    /// The first `L` values of `s`.
    fn load(self, s: &[Self::T]) -> Self::V;
    /// Into the first `L` values of `s`.
    fn store(self, s: &mut [Self::T], v: Self::V);
    /// `a·b + c` lane by lane.
    fn madd(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a·b + c` on one scalar, rounded as `madd` rounds.
    fn madd1(self, a: Self::T, b: Self::T, c: Self::T) -> Self::T;
    /// The sum of the lanes.
    fn hsum(self, v: Self::V) -> Self::T;
    /// The sums of the lanes of eight registers.
    #[inline(always)]
    fn hsum8(self, v: [Self::V; 8]) -> [Self::T; 8] {
        v.map(|v| self.hsum(v))
    }
    /// An `L × L` block transposed: `dst[t][j0 + r] = row(r)[t]` for
    /// `r, t < L`, where each `row(r)` holds at least `L` values.
    #[inline(always)]
    fn transpose<'a, const GS: usize>(self, row: impl Fn(usize) -> &'a [Self::T], dst: &mut [[Self::T; GS]], j0: usize)
    where
        Self::T: 'a,
    {
        for r in 0..Self::L {
            for (d, &v) in dst[..Self::L].iter_mut().zip(&row(r)[..Self::L]) {
                d[j0 + r] = v;
            }
        }
    }
}

/// Four lanes as a plain array, two roundings per multiply-add: builds for
/// every target.
pub(crate) struct Portable<T>(core::marker::PhantomData<T>);

impl<T> Clone for Portable<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Portable<T> {}

impl<T> Portable<T> {
    pub(crate) const NEW: Self = Portable(core::marker::PhantomData);
}

impl<T: Scalar> Lanes for Portable<T> {
    type T = T;
    type V = [T; 4];
    const L: usize = 4;
    #[inline(always)]
    fn zero(self) -> [T; 4] {
        [T::zero(); 4]
    }
    #[inline(always)]
    fn splat(self, x: T) -> [T; 4] {
        [x; 4]
    }
    #[inline(always)]
    fn load(self, s: &[T]) -> [T; 4] {
        [s[0], s[1], s[2], s[3]]
    }
    #[inline(always)]
    fn store(self, s: &mut [T], v: [T; 4]) {
        s[..4].copy_from_slice(&v);
    }
    #[inline(always)]
    fn madd(self, a: [T; 4], b: [T; 4], c: [T; 4]) -> [T; 4] {
        array::from_fn(|l| a[l] * b[l] + c[l])
    }
    #[inline(always)]
    fn madd1(self, a: T, b: T, c: T) -> T {
        a * b + c
    }
    #[inline(always)]
    fn hsum(self, v: [T; 4]) -> T {
        (v[0] + v[2]) + (v[1] + v[3])
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86 {
    use core::arch::x86_64::*;

    use super::Lanes;

    /// Eight `f32` lanes in a `ymm` register, fused multiply-add. A value
    /// exists only where the CPU has AVX2 and FMA.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(());

    /// Sixteen `f32` lanes in a `zmm` register, fused multiply-add. A value
    /// exists only where the CPU has AVX-512 F and FMA.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512(());

    impl Avx2 {
        /// # Safety
        /// The CPU must have AVX2 and FMA.
        #[inline(always)]
        pub(crate) unsafe fn new_unchecked() -> Self {
            Avx2(())
        }
    }

    impl Avx512 {
        /// # Safety
        /// The CPU must have AVX-512 F and FMA.
        #[inline(always)]
        pub(crate) unsafe fn new_unchecked() -> Self {
            Avx512(())
        }
    }

    // SAFETY (every `unsafe` block below): a value of `Avx2` exists only
    // where the CPU has AVX2 and FMA, and loads and stores go through slices
    // whose length is checked first (`&s[..8]`).
    impl Lanes for Avx2 {
        type T = f32;
        type V = __m256;
        const L: usize = 8;
        /// Eight rows of eight in three rounds of shuffles (24 in all).
        #[inline(always)]
        fn transpose<'a, const GS: usize>(self, row: impl Fn(usize) -> &'a [f32], dst: &mut [[f32; GS]], j0: usize) {
            unsafe {
                let r: [__m256; 8] = core::array::from_fn(|k| _mm256_loadu_ps(row(k)[..8].as_ptr()));
                let t: [__m256; 8] = core::array::from_fn(|k| {
                    let (a, b) = (r[k & !1], r[k | 1]);
                    if k % 2 == 0 { _mm256_unpacklo_ps(a, b) } else { _mm256_unpackhi_ps(a, b) }
                });
                // u[4k + q] holds, in 128-bit lane g, column 4g + q of rows 4k..4k + 4.
                let u: [__m256; 8] = core::array::from_fn(|k| {
                    let (base, q) = (k & !3, k & 3);
                    let (a, b) = (_mm256_castps_pd(t[base + (q >> 1)]), _mm256_castps_pd(t[base + 2 + (q >> 1)]));
                    _mm256_castpd_ps(if q & 1 == 0 { _mm256_unpacklo_pd(a, b) } else { _mm256_unpackhi_pd(a, b) })
                });
                for q in 0..4 {
                    let low = _mm256_permute2f128_ps::<0x20>(u[q], u[4 + q]);
                    let high = _mm256_permute2f128_ps::<0x31>(u[q], u[4 + q]);
                    _mm256_storeu_ps(dst[q][j0..j0 + 8].as_mut_ptr(), low);
                    _mm256_storeu_ps(dst[4 + q][j0..j0 + 8].as_mut_ptr(), high);
                }
            }
        }
        #[inline(always)]
        fn zero(self) -> __m256 {
            unsafe { _mm256_setzero_ps() }
        }
        #[inline(always)]
        fn splat(self, x: f32) -> __m256 {
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        fn load(self, s: &[f32]) -> __m256 {
            unsafe { _mm256_loadu_ps(s[..8].as_ptr()) }
        }
        #[inline(always)]
        fn store(self, s: &mut [f32], v: __m256) {
            unsafe { _mm256_storeu_ps(s[..8].as_mut_ptr(), v) }
        }
        #[inline(always)]
        fn madd(self, a: __m256, b: __m256, c: __m256) -> __m256 {
            unsafe { _mm256_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn madd1(self, a: f32, b: f32, c: f32) -> f32 {
            a.mul_add(b, c)
        }
        #[inline(always)]
        fn hsum(self, v: __m256) -> f32 {
            unsafe {
                let x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
                let x = _mm_add_ps(x, _mm_movehl_ps(x, x));
                let x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
                _mm_cvtss_f32(x)
            }
        }
        /// Pairwise horizontal adds: seven `hadd`s, two lane swaps and one
        /// add for eight sums, instead of eight separate reductions.
        #[inline(always)]
        fn hsum8(self, v: [__m256; 8]) -> [f32; 8] {
            let mut out = [0.0f32; 8];
            unsafe {
                let t0 = _mm256_hadd_ps(v[0], v[1]);
                let t1 = _mm256_hadd_ps(v[2], v[3]);
                let t2 = _mm256_hadd_ps(v[4], v[5]);
                let t3 = _mm256_hadd_ps(v[6], v[7]);
                let u0 = _mm256_hadd_ps(t0, t1);
                let u1 = _mm256_hadd_ps(t2, t3);
                let low = _mm256_permute2f128_ps(u0, u1, 0x20);
                let high = _mm256_permute2f128_ps(u0, u1, 0x31);
                _mm256_storeu_ps(out.as_mut_ptr(), _mm256_add_ps(low, high));
            }
            out
        }
    }

    /// The scale applied before squaring in `f32`: squares of gradients
    /// down to 2.5·10⁻²⁹ stay normal numbers (a subnormal result takes a
    /// slow microcode assist on many CPUs), and up to 4·10⁹ stay finite.
    const LIFT: f32 = 4_294_967_296.0; // 2³²
    /// `1 / LIFT²`, exact in `f64`.
    const DROP: f64 = 1.0 / 18_446_744_073_709_551_616.0; // 2⁻⁶⁴

    /// Adds the lanes of eight `f32` accumulators in `f64`.
    #[inline(always)]
    fn total(acc: [__m512; 8]) -> f64 {
        // SAFETY: called only from functions built with AVX-512 F.
        unsafe {
            let s = _mm512_add_ps(
                _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])),
                _mm512_add_ps(_mm512_add_ps(acc[4], acc[5]), _mm512_add_ps(acc[6], acc[7])),
            );
            let wide = _mm512_add_pd(
                _mm512_cvtps_pd(_mm512_castps512_ps256(s)),
                _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1))),
            );
            _mm512_reduce_add_pd(wide)
        }
    }

    /// `Σ v²`: each value times 2³² squared in `f32` lanes (eight `zmm`
    /// accumulators, runs of 1,024 values so at most eight terms meet in a
    /// lane), each run's total taken in `f64` and scaled back by 2⁻⁶⁴
    /// (exactly). Accurate to about 10⁻⁶ relative; a run whose sum is not
    /// finite is summed again in `f64`.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    pub(crate) unsafe fn sum_squares_avx512(values: &[f32]) -> f64 {
        let lift = _mm512_set1_ps(LIFT);
        let mut sum = 0.0f64;
        for run in values.chunks(1024) {
            let mut acc = [_mm512_setzero_ps(); 8];
            let mut blocks = run.chunks_exact(128);
            for block in &mut blocks {
                for (k, a) in acc.iter_mut().enumerate() {
                    // SAFETY: the block holds 128 values, so 16 from `16k` are in it.
                    let v = _mm512_mul_ps(unsafe { _mm512_loadu_ps(block[16 * k..16 * k + 16].as_ptr()) }, lift);
                    *a = _mm512_fmadd_ps(v, v, *a);
                }
            }
            let mut rest = blocks.remainder().chunks_exact(16);
            for (k, chunk) in (&mut rest).enumerate() {
                // SAFETY: the chunk holds 16 values.
                let v = _mm512_mul_ps(unsafe { _mm512_loadu_ps(chunk.as_ptr()) }, lift);
                acc[k] = _mm512_fmadd_ps(v, v, acc[k]);
            }
            let part = total(acc) * DROP + super::sum_squares_portable(rest.remainder());
            sum += if part.is_finite() { part } else { super::sum_squares_portable(run) };
        }
        sum
    }

    /// `Σ v²` in `f64`: four `ymm` accumulators of four `f64`s.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn sum_squares_avx2(values: &[f32]) -> f64 {
        let mut acc = [_mm256_setzero_pd(); 4];
        let mut chunks = values.chunks_exact(16);
        for chunk in &mut chunks {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: the chunk holds 16 values, so 4 from `4k` are in it.
                let v = _mm256_cvtps_pd(unsafe { _mm_loadu_ps(chunk[4 * k..4 * k + 4].as_ptr()) });
                *a = _mm256_fmadd_pd(v, v, *a);
            }
        }
        let sum = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
        let pair = _mm_add_pd(_mm256_castpd256_pd128(sum), _mm256_extractf128_pd(sum, 1));
        let mut total = _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
        for &v in chunks.remainder() {
            total += v as f64 * v as f64;
        }
        total
    }

    /// `eˣ` lane by lane (as [`super::exp_f32`], with fused steps and
    /// `scalef` for the power of two): 0 below −87, `NaN` stays `NaN`.
    #[inline(always)]
    fn exp_avx512(_: Avx512, x: __m512) -> __m512 {
        // SAFETY: an `Avx512` value exists only where the CPU has AVX-512 F.
        unsafe {
            let low = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, _mm512_set1_ps(-87.0));
            // `max(−87, x)` keeps a `NaN` in `x` (the second operand wins).
            let xc = _mm512_max_ps(_mm512_set1_ps(-87.0), x);
            let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm512_mul_ps(
                xc,
                _mm512_set1_ps(core::f32::consts::LOG2_E),
            ));
            let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_359_4), xc);
            let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.121_944_4e-4), r);
            let mut p = _mm512_set1_ps(1.987_569_1e-4);
            for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5] {
                p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
            }
            let y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0));
            _mm512_maskz_mov_ps(!low, _mm512_scalef_ps(y, n))
        }
    }

    /// Softmax cross-entropy of up to sixteen logits in one register,
    /// loaded and stored under a mask.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; `x.len() ≤ 16`, `grad.len() ==
    /// x.len()` and `class < x.len()` (checked by the caller).
    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    pub(crate) unsafe fn softmax_xent_avx512(x: &[f32], class: usize, grad: &mut [f32]) -> f32 {
        let n = x.len().min(grad.len()).min(16);
        let mask = ((1u32 << n) - 1) as __mmask16;
        // SAFETY: the mask covers the first `n ≤ x.len()` values only, and
        // masked-off lanes are neither read nor written.
        let v = unsafe { _mm512_mask_loadu_ps(_mm512_set1_ps(f32::NEG_INFINITY), mask, x.as_ptr()) };
        let m = _mm512_reduce_max_ps(v);
        let e = exp_avx512(Avx512(()), _mm512_sub_ps(v, _mm512_set1_ps(m)));
        let sum = _mm512_reduce_add_ps(e);
        let g = _mm512_mul_ps(e, _mm512_set1_ps(1.0 / sum));
        // SAFETY: as for the load, with `n ≤ grad.len()`.
        unsafe { _mm512_mask_storeu_ps(grad.as_mut_ptr(), mask, g) };
        grad[class] -= 1.0;
        m + sum.ln() - x[class]
    }

    // SAFETY (every `unsafe` block below): as for `Avx2`, with AVX-512 F.
    impl Lanes for Avx512 {
        type T = f32;
        type V = __m512;
        const L: usize = 16;
        /// Sixteen rows of sixteen in four rounds of in-lane and cross-lane
        /// shuffles (64 in all) instead of 256 scalar stores.
        #[inline(always)]
        fn transpose<'a, const GS: usize>(self, row: impl Fn(usize) -> &'a [f32], dst: &mut [[f32; GS]], j0: usize) {
            unsafe {
                let r: [__m512; 16] = core::array::from_fn(|k| _mm512_loadu_ps(row(k)[..16].as_ptr()));
                // 32-bit pairs: t[2k], t[2k+1] interleave rows 2k and 2k+1.
                let t: [__m512; 16] = core::array::from_fn(|k| {
                    let (a, b) = (r[k & !1], r[k | 1]);
                    if k % 2 == 0 { _mm512_unpacklo_ps(a, b) } else { _mm512_unpackhi_ps(a, b) }
                });
                // 64-bit pairs: u[4k + q] holds, in 128-bit lane g, column
                // 4g + q of rows 4k..4k + 4.
                let u: [__m512; 16] = core::array::from_fn(|k| {
                    let (base, q) = (k & !3, k & 3);
                    let (a, b) = (_mm512_castps_pd(t[base + (q >> 1)]), _mm512_castps_pd(t[base + 2 + (q >> 1)]));
                    _mm512_castpd_ps(if q & 1 == 0 { _mm512_unpacklo_pd(a, b) } else { _mm512_unpackhi_pd(a, b) })
                });
                for q in 0..4 {
                    let (a, b, c, d) = (u[q], u[4 + q], u[8 + q], u[12 + q]);
                    let (p0, p1) = (_mm512_shuffle_f32x4::<0x44>(a, b), _mm512_shuffle_f32x4::<0xEE>(a, b));
                    let (s0, s1) = (_mm512_shuffle_f32x4::<0x44>(c, d), _mm512_shuffle_f32x4::<0xEE>(c, d));
                    let columns = [
                        _mm512_shuffle_f32x4::<0x88>(p0, s0),
                        _mm512_shuffle_f32x4::<0xDD>(p0, s0),
                        _mm512_shuffle_f32x4::<0x88>(p1, s1),
                        _mm512_shuffle_f32x4::<0xDD>(p1, s1),
                    ];
                    for (g, column) in columns.into_iter().enumerate() {
                        _mm512_storeu_ps(dst[4 * g + q][j0..j0 + 16].as_mut_ptr(), column);
                    }
                }
            }
        }
        #[inline(always)]
        fn zero(self) -> __m512 {
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        fn splat(self, x: f32) -> __m512 {
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        fn load(self, s: &[f32]) -> __m512 {
            unsafe { _mm512_loadu_ps(s[..16].as_ptr()) }
        }
        #[inline(always)]
        fn store(self, s: &mut [f32], v: __m512) {
            unsafe { _mm512_storeu_ps(s[..16].as_mut_ptr(), v) }
        }
        #[inline(always)]
        fn madd(self, a: __m512, b: __m512, c: __m512) -> __m512 {
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn madd1(self, a: f32, b: f32, c: f32) -> f32 {
            a.mul_add(b, c)
        }
        #[inline(always)]
        fn hsum(self, v: __m512) -> f32 {
            unsafe {
                let x = _mm256_add_ps(
                    _mm512_castps512_ps256(v),
                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)),
                );
                Avx2(()).hsum(x)
            }
        }
        #[inline(always)]
        fn hsum8(self, v: [__m512; 8]) -> [f32; 8] {
            // No closure here: a closure would not be built with the
            // caller's target features, and the intrinsics would become calls.
            let mut halves = [unsafe { _mm256_setzero_ps() }; 8];
            for (h, &v) in halves.iter_mut().zip(&v) {
                *h = unsafe {
                    _mm256_add_ps(
                        _mm512_castps512_ps256(v),
                        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)),
                    )
                };
            }
            Avx2(()).hsum8(halves)
        }
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
use x86::{Avx2, Avx512};

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

/// The instruction set the kernels use: the best this CPU has, or less if
/// the environment variable `TYPENET_KERNELS` says `portable` or `avx2`
/// when the process first asks (to compare the variants, or to get the
/// portable variant's bits on every machine). Decided once, then one
/// relaxed atomic load per call.
#[inline]
pub(crate) fn isa() -> Isa {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use core::sync::atomic::{AtomicU8, Ordering};
        static CHOSEN: AtomicU8 = AtomicU8::new(0);
        let isa = |code| match code {
            1 => Isa::Portable,
            2 => Isa::Avx2,
            _ => Isa::Avx512,
        };
        match CHOSEN.load(Ordering::Relaxed) {
            0 => {}
            code => return isa(code),
        }
        use std::is_x86_feature_detected as has;
        let mut code = 1;
        if has!("fma") && has!("avx2") {
            code = 2;
            if has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq") {
                code = 3;
            }
        }
        match std::env::var("TYPENET_KERNELS").as_deref() {
            Ok("portable") => code = 1,
            Ok("avx2") => code = code.min(2),
            _ => {}
        }
        CHOSEN.store(code, Ordering::Relaxed);
        return isa(code);
    }
    #[allow(unreachable_code)]
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

/// The `Dense` products for one scalar type. `f32` picks the widest
/// variant the CPU has; `f64` (used for gradient checks) runs the portable
/// one.
pub trait Kernels: Sized {
    /// `ys[b] = W·xs[b] + bias` for each sample `b`.
    #[doc(hidden)]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<Self, O, I>,
        bias: &Vector<Self, O>,
        xs: &[&Vector<Self, I>],
        ys: &mut [&mut Vector<Self, O>],
    );
    /// `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`.
    #[doc(hidden)]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<Self, O, I>,
        gb: &mut Vector<Self, O>,
        xs: &[&Vector<Self, I>],
        dys: &[&Vector<Self, O>],
    );
    /// `dxs[b] = Wᵀ·dys[b]` for each sample `b`.
    #[doc(hidden)]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<Self, O, I>,
        dys: &[&Vector<Self, O>],
        dxs: &mut [&mut Vector<Self, I>],
    );
    /// Convolution `ys[b] = conv(xs[b]) + bias` for each sample `b`
    /// (see [`conv`]).
    #[doc(hidden)]
    fn conv_forward<G: ConvShape>(w: &[Self], bias: &[Self], xs: &[&[Self]], ys: &mut [&mut [Self]]);
    /// Convolution backward over a block: adds `dW` and `db` into `gw`
    /// and `gb`; when `dxs` is given, overwrites each `dx`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn conv_backward<G: ConvShape>(
        w: &[Self],
        xs: &[&[Self]],
        dys: &[&[Self]],
        gw: &mut [Self],
        gb: &mut [Self],
        dxs: Option<&mut [&mut [Self]]>,
    );
    /// `Σ v²` in `f64`.
    #[doc(hidden)]
    fn sum_squares(values: &[Self]) -> f64;
    /// `eˣ` in place, for `x ≤ 88` (softmax takes it of `x − max x ≤ 0`).
    #[doc(hidden)]
    fn exp_in_place(values: &mut [Self]);
    /// Softmax cross-entropy of logits `x` for `class < x.len()`: writes
    /// `softmax(x) − onehot(class)` into `grad` and returns the loss, or
    /// returns `None` (touching nothing) where there is no wide variant.
    #[doc(hidden)]
    #[inline(always)]
    fn softmax_xent(x: &[Self], class: usize, grad: &mut [Self]) -> Option<Self> {
        let _ = (x, class, grad);
        None
    }
}

impl Kernels for f64 {
    #[inline]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f64, O, I>,
        bias: &Vector<f64, O>,
        xs: &[&Vector<f64, I>],
        ys: &mut [&mut Vector<f64, O>],
    ) {
        forward_impl::<_, 2, 4, 4, I, O>(Portable::NEW, w, bias, xs, ys);
    }
    #[inline]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f64, O, I>,
        gb: &mut Vector<f64, O>,
        xs: &[&Vector<f64, I>],
        dys: &[&Vector<f64, O>],
    ) {
        grads_impl::<_, 2, 2, I, O>(Portable::NEW, gw, gb, xs, dys);
    }
    #[inline]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f64, O, I>,
        dys: &[&Vector<f64, O>],
        dxs: &mut [&mut Vector<f64, I>],
    ) {
        input_grads_impl::<_, 2, 2, I, O>(Portable::NEW, w, dys, dxs);
    }
    /// By runs: the `f64` convolution serves gradient checks, where the
    /// plainest sums are the point.
    #[inline]
    fn conv_forward<G: ConvShape>(w: &[f64], bias: &[f64], xs: &[&[f64]], ys: &mut [&mut [f64]]) {
        conv::forward_runs_block::<G, _>(w, bias, xs, ys);
    }
    #[inline]
    fn conv_backward<G: ConvShape>(
        w: &[f64],
        xs: &[&[f64]],
        dys: &[&[f64]],
        gw: &mut [f64],
        gb: &mut [f64],
        dxs: Option<&mut [&mut [f64]]>,
    ) {
        conv::backward_runs_block::<G, _>(w, xs, dys, gw, gb, dxs);
    }
    #[inline]
    fn sum_squares(values: &[f64]) -> f64 {
        sum_squares_portable(values)
    }
    #[inline]
    fn exp_in_place(values: &mut [f64]) {
        values.iter_mut().for_each(|v| *v = num_traits::Float::exp(*v));
    }
}

/// The instruction set for a `Dense` layer of `I` inputs: [`isa`], except
/// that rows of an odd multiple of 8 values (72, 200) run on AVX2 where
/// AVX-512 is there too. Eight-lane registers cover such a row exactly,
/// while sixteen-lane ones leave half a register at the end of every row
/// (W4's 72-input layer trained 8% slower on AVX-512).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
fn dense_isa<I: ArrayLength>() -> Isa {
    match isa() {
        Isa::Avx512 if I::USIZE % 16 == 8 => Isa::Avx2,
        isa => isa,
    }
}

/// Products smaller than this many multiply-adds run the portable kernel
/// inline: choosing a variant would cost more than it saves.
const DISPATCH_MIN: usize = 64;

impl Kernels for f32 {
    #[inline]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if xs.len() * I::USIZE * O::USIZE >= DISPATCH_MIN {
            match dense_isa::<I>() {
                // SAFETY: `isa()` detected every feature `avx512` enables.
                Isa::Avx512 => return unsafe { variants::forward_avx512(w, bias, xs, ys) },
                // SAFETY: as above, for `avx2`.
                Isa::Avx2 => return unsafe { variants::forward_avx2(w, bias, xs, ys) },
                Isa::Portable => {}
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        return scalar::forward(w, bias, xs, ys);
        #[cfg(target_arch = "x86_64")]
        forward_impl::<_, 2, 4, 4, I, O>(Portable::NEW, w, bias, xs, ys);
    }
    #[inline]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if xs.len() * I::USIZE * O::USIZE >= DISPATCH_MIN {
            match dense_isa::<I>() {
                // SAFETY: `isa()` detected every feature `avx512` enables.
                Isa::Avx512 => return unsafe { variants::grads_avx512(gw, gb, xs, dys) },
                // SAFETY: as above, for `avx2`.
                Isa::Avx2 => return unsafe { variants::grads_avx2(gw, gb, xs, dys) },
                Isa::Portable => {}
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        return scalar::grads(gw, gb, xs, dys);
        #[cfg(target_arch = "x86_64")]
        grads_impl::<_, 2, 2, I, O>(Portable::NEW, gw, gb, xs, dys);
    }
    #[inline]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if dys.len() * I::USIZE * O::USIZE >= DISPATCH_MIN {
            match dense_isa::<I>() {
                // SAFETY: `isa()` detected every feature `avx512` enables.
                Isa::Avx512 => return unsafe { variants::input_grads_avx512(w, dys, dxs) },
                // SAFETY: as above, for `avx2`.
                Isa::Avx2 => return unsafe { variants::input_grads_avx2(w, dys, dxs) },
                Isa::Portable => {}
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        return scalar::input_grads(w, dys, dxs);
        #[cfg(target_arch = "x86_64")]
        input_grads_impl::<_, 2, 2, I, O>(Portable::NEW, w, dys, dxs);
    }
    /// Wide rows (stride 1) in the widest registers the CPU has, four
    /// portable lanes on other x86-64 builds; runs for other strides and on
    /// other architectures (microcontrollers: few registers, no scratch).
    #[inline]
    fn conv_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 if unsafe { variants::conv_forward_avx512::<G>(w, bias, xs, ys) } => return,
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 if unsafe { variants::conv_forward_avx2::<G>(w, bias, xs, ys) } => return,
            _ => {}
        }
        #[cfg(target_arch = "x86_64")]
        if conv::forward_wide::<G, _, 4, 2>(Portable::NEW, w, bias, xs, ys) {
            return;
        }
        conv::forward_runs_block::<G, _>(w, bias, xs, ys);
    }
    #[inline]
    fn conv_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) {
        #[cfg(target_arch = "x86_64")]
        let mut dxs = dxs;
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 if unsafe { variants::conv_backward_avx512::<G>(w, xs, dys, gw, gb, dxs.as_deref_mut()) } => {
                return;
            }
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 if unsafe { variants::conv_backward_avx2::<G>(w, xs, dys, gw, gb, dxs.as_deref_mut()) } => {
                return;
            }
            _ => {}
        }
        #[cfg(target_arch = "x86_64")]
        if conv::backward_wide::<G, _, 4, 2>(Portable::NEW, w, xs, dys, gw, gb, dxs.as_deref_mut()) {
            return;
        }
        conv::backward_runs_block::<G, _>(w, xs, dys, gw, gb, dxs);
    }
    #[inline]
    fn sum_squares(values: &[f32]) -> f64 {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if values.len() >= DISPATCH_MIN {
            match isa() {
                // SAFETY: `isa()` detected every feature `avx512` enables.
                Isa::Avx512 => return unsafe { x86::sum_squares_avx512(values) },
                // SAFETY: as above, for `avx2`.
                Isa::Avx2 => return unsafe { x86::sum_squares_avx2(values) },
                Isa::Portable => {}
            }
        }
        sum_squares_portable(values)
    }
    #[inline(always)]
    fn softmax_xent(x: &[f32], class: usize, grad: &mut [f32]) -> Option<f32> {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if x.len() <= 16 && grad.len() == x.len() && class < x.len() && isa() == Isa::Avx512 {
            // SAFETY: `isa()` detected every feature the function enables.
            return Some(unsafe { x86::softmax_xent_avx512(x, class, grad) });
        }
        let _ = (x, class, grad);
        None
    }

    /// Sixteen at a time through a padded buffer, so the compiler sees a
    /// full register's worth whatever the length.
    #[inline(always)]
    fn exp_in_place(values: &mut [f32]) {
        for chunk in values.chunks_mut(16) {
            let mut lanes = [0.0f32; 16];
            lanes[..chunk.len()].copy_from_slice(chunk);
            for v in &mut lanes {
                *v = exp_f32(*v);
            }
            chunk.copy_from_slice(&lanes[..chunk.len()]);
        }
    }
}

/// Plain loops for targets without vector registers worth blocking for
/// (microcontrollers): the blocked portable kernel keeps 8 to 32
/// accumulators live, which a Cortex-M's 16 (or no) floating-point
/// registers spill; these keep one and measured 4.7× fewer instructions per
/// digits inference on the Cortex-M4.
#[cfg(not(target_arch = "x86_64"))]
mod scalar {
    use generic_array::ArrayLength;

    use crate::shape::{Matrix, Vector};

    pub(super) fn forward<I: ArrayLength, O: ArrayLength>(
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

    pub(super) fn grads<I: ArrayLength, O: ArrayLength>(
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

    pub(super) fn input_grads<I: ArrayLength, O: ArrayLength>(
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

/// `eˣ` for `x ≤ 88` in `f32` within 2 ulp (Cephes' `expf` polynomial),
/// with no branch or call, so loops of it vectorise. `NaN` stays `NaN`;
/// below −87 (where `eˣ` is under 1.7·10⁻³⁸) it returns 0.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let low = x < -87.0;
    let xc = if low { -87.0 } else { x };
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1)
        * r
        + 0.5;
    let y = p * z + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if low { 0.0 } else { y * scale }
}

/// `Σ v²` in `f64`, in eight lanes.
#[inline]
fn sum_squares_portable<T: Scalar>(values: &[T]) -> f64 {
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
    let [a, b, c, d, e, f, g, h] = lanes;
    ((a + e) + (c + g)) + ((b + f) + (d + h))
}

/// The kernels instantiated for AVX2 and AVX-512, each in a function built
/// with those features. Calling one is safe only on a CPU that has them.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod variants {
    use generic_array::ArrayLength;

    use super::conv::{self, ConvShape};
    use super::{Avx2, Avx512, forward_gemm, forward_impl, grads_impl, input_grads_impl};
    use crate::shape::{Matrix, Vector};

    /// Inputs shorter than this use 8-lane registers in the AVX-512
    /// forward pass: fewer lanes to add up at the end of each dot product.
    const WIDE_FORWARD_MIN: usize = 64;

    /// Layers with fewer inputs keep the dot-product form even for large
    /// blocks: transposing the block would cost as much as the products.
    const GEMM_MIN_INPUTS: usize = 128;

    /// Blocks of at least this many samples take the broadcast form of the
    /// forward pass (samples across the lanes).
    const GEMM_MIN: usize = 8;

    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    pub(super) unsafe fn forward_avx512<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        // SAFETY: this function runs only where the CPU has the features.
        let (wide, narrow) = unsafe { (Avx512::new_unchecked(), Avx2::new_unchecked()) };
        if xs.len() >= GEMM_MIN && I::USIZE >= GEMM_MIN_INPUTS {
            forward_gemm::<_, 12, 2, 32, I, O>(wide, w, bias, xs, ys);
        } else if I::USIZE >= WIDE_FORWARD_MIN {
            forward_impl::<_, 4, 4, 8, I, O>(wide, w, bias, xs, ys);
        } else {
            forward_impl::<_, 4, 4, 8, I, O>(narrow, w, bias, xs, ys);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn forward_avx2<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) {
        // SAFETY: this function runs only where the CPU has the features.
        let s = unsafe { Avx2::new_unchecked() };
        if xs.len() >= GEMM_MIN && I::USIZE >= GEMM_MIN_INPUTS {
            forward_gemm::<_, 6, 2, 16, I, O>(s, w, bias, xs, ys);
        } else {
            forward_impl::<_, 2, 4, 6, I, O>(s, w, bias, xs, ys);
        }
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    pub(super) unsafe fn grads_avx512<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        // SAFETY: this function runs only where the CPU has the features.
        grads_impl::<_, 6, 4, I, O>(unsafe { Avx512::new_unchecked() }, gw, gb, xs, dys);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn grads_avx2<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) {
        // SAFETY: this function runs only where the CPU has the features.
        grads_impl::<_, 3, 4, I, O>(unsafe { Avx2::new_unchecked() }, gw, gb, xs, dys);
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    pub(super) unsafe fn conv_forward_avx512<G: ConvShape>(
        w: &[f32],
        bias: &[f32],
        xs: &[&[f32]],
        ys: &mut [&mut [f32]],
    ) -> bool {
        // SAFETY: this function runs only where the CPU has the features.
        conv::forward_wide::<G, _, 8, 3>(unsafe { Avx512::new_unchecked() }, w, bias, xs, ys)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn conv_forward_avx2<G: ConvShape>(
        w: &[f32],
        bias: &[f32],
        xs: &[&[f32]],
        ys: &mut [&mut [f32]],
    ) -> bool {
        // SAFETY: this function runs only where the CPU has the features.
        conv::forward_wide::<G, _, 4, 3>(unsafe { Avx2::new_unchecked() }, w, bias, xs, ys)
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    pub(super) unsafe fn conv_backward_avx512<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        // SAFETY: this function runs only where the CPU has the features.
        conv::backward_wide::<G, _, 4, 3>(unsafe { Avx512::new_unchecked() }, w, xs, dys, gw, gb, dxs)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn conv_backward_avx2<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        // SAFETY: this function runs only where the CPU has the features.
        conv::backward_wide::<G, _, 4, 2>(unsafe { Avx2::new_unchecked() }, w, xs, dys, gw, gb, dxs)
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    pub(super) unsafe fn input_grads_avx512<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        // SAFETY: this function runs only where the CPU has the features.
        input_grads_impl::<_, 4, 4, I, O>(unsafe { Avx512::new_unchecked() }, w, dys, dxs);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn input_grads_avx2<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) {
        // SAFETY: this function runs only where the CPU has the features.
        input_grads_impl::<_, 3, 4, I, O>(unsafe { Avx2::new_unchecked() }, w, dys, dxs);
    }
}

/// Inputs per chunk of the broadcast-form forward pass.
const KC: usize = 128;
/// Outputs per chunk of the broadcast-form forward pass.
const OC: usize = 128;

/// The forward pass with the samples across the lanes: `Yᵀ = W·Xᵀ + b`
/// for groups of `GS = G·L` samples. A chunk of `KC` inputs of the group is
/// transposed into `xt` (so each input is `G` registers of samples), and an
/// `NR × G` tile of accumulators takes one weight, broadcast, per input and
/// output: no horizontal sums, every loaded register used `NR` times.
/// Partial sums live in `ct` (`OC` outputs × `GS` samples) between chunks.
#[inline(always)]
fn forward_gemm<S: Lanes, const NR: usize, const G: usize, const GS: usize, I: ArrayLength, O: ArrayLength>(
    s: S,
    w: &Matrix<S::T, O, I>,
    bias: &Vector<S::T, O>,
    xs: &[&Vector<S::T, I>],
    ys: &mut [&mut Vector<S::T, O>],
) {
    const { assert!(G > 0 && GS.is_multiple_of(G)) };
    debug_assert_eq!(GS, G * S::L);
    let zero = <S::T as num_traits::Zero>::zero();
    let mut xt = [[zero; GS]; KC];
    let mut ct = [[zero; GS]; OC];
    let n = xs.len().min(ys.len());
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
                let kcn = KC.min(I::USIZE - kc);
                transpose_chunk(s, group, kc, kcn, &mut xt);
                let mut o = 0;
                while o + NR <= ocn {
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
fn forward_impl<S: Lanes, const MR: usize, const NR: usize, const NR1: usize, I: ArrayLength, O: ArrayLength>(
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
fn grads_impl<S: Lanes, const NR: usize, const MC: usize, I: ArrayLength, O: ArrayLength>(
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
fn input_grads_impl<S: Lanes, const MR: usize, const MC: usize, I: ArrayLength, O: ArrayLength>(
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

#[cfg(test)]
#[allow(clippy::type_complexity)]
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
            &|ys| forward_impl::<_, 2, 4, 4, I, O>(Portable::NEW, &w, &bias, &x_refs, ys),
            &|gw, gb| grads_impl::<_, 2, 2, I, O>(Portable::NEW, gw, gb, &x_refs, &dy_refs),
            &|dxs| input_grads_impl::<_, 2, 2, I, O>(Portable::NEW, &w, &dy_refs, dxs),
            "portable",
        );
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has the features, as just detected.
                run(
                    &|ys| unsafe { variants::forward_avx2(&w, &bias, &x_refs, ys) },
                    &|gw, gb| unsafe { variants::grads_avx2(gw, gb, &x_refs, &dy_refs) },
                    &|dxs| unsafe { variants::input_grads_avx2(&w, &dy_refs, dxs) },
                    "avx2",
                );
            }
            if isa() == Isa::Avx512 {
                // SAFETY: as above.
                run(
                    &|ys| unsafe { variants::forward_avx512(&w, &bias, &x_refs, ys) },
                    &|gw, gb| unsafe { variants::grads_avx512(gw, gb, &x_refs, &dy_refs) },
                    &|dxs| unsafe { variants::input_grads_avx512(&w, &dy_refs, dxs) },
                    "avx512",
                );
            }
        }
        run(
            &|ys| f32::dense_forward(&w, &bias, &x_refs, ys),
            &|gw, gb| f32::dense_grads(gw, gb, &x_refs, &dy_refs),
            &|dxs| f32::dense_input_grads(&w, &dy_refs, dxs),
            "dispatched",
        );
    }

    #[test]
    fn every_variant_matches_the_reference() {
        std::println!("kernels run as {:?}", isa());
        for n in [1, 2, 3, 5, 9, 16, 35] {
            check::<U3, U2>(n);
            check::<U37, U13>(n);
            check::<U64, U10>(n);
            check::<U100, U19>(n);
        }
        // Several chunks of inputs and of outputs in the broadcast form.
        check::<U300, U130>(9);
        check::<U300, U130>(35);
    }

    #[test]
    fn sum_squares_matches_a_plain_sum() {
        for len in [5, 37, 100, 1000] {
            let v: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 3.0).collect();
            let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
            assert!((f32::sum_squares(&v) - plain).abs() < 1e-9 * plain, "{len}");
            assert!((sum_squares_portable(&v) - plain).abs() < 1e-9 * plain, "{len}");
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has the features, as just detected.
                assert!((unsafe { x86::sum_squares_avx2(&v) } - plain).abs() < 1e-9 * plain);
            }
        }
        // Long enough for the AVX-512 variant's blocks, and values whose
        // squares overflow f32 but not f64.
        for scale in [1.0f32, 1e-25, 1e20] {
            let v: Vec<f32> = (0..5000).map(|i| ((i % 97) as f32 * 0.37 - 15.0) * scale).collect();
            let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
            assert!((f32::sum_squares(&v) - plain).abs() < 1e-6 * plain, "scale {scale}");
        }
    }

    /// The AVX-512 softmax cross-entropy against the portable one, with
    /// every length it takes, extreme logits and a `NaN`.
    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn softmax_xent_variants_agree() {
        if isa() != Isa::Avx512 {
            return;
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for n in 1..=16usize {
            for case in 0..4 {
                let mut x = std::vec![0.0f32; n];
                crate::init::fill_uniform(&mut x, 8.0, &mut rng);
                if case == 1 {
                    x[0] = 1e4;
                }
                if case == 2 && n > 1 {
                    x[n - 1] = f32::NEG_INFINITY;
                }
                let class = (case * 7) % n;
                let (mut fast, mut slow) = (std::vec![0.0f32; n], std::vec![0.0f32; n]);
                let fast_loss = f32::softmax_xent(&x, class, &mut fast).unwrap();
                let slow_loss = crate::loss::softmax_xent_portable(&x, class, &mut slow);
                let same = fast_loss == slow_loss || (fast_loss - slow_loss).abs() <= 1e-6 * (1.0 + slow_loss.abs());
                assert!(same, "{n} {case}: {fast_loss} vs {slow_loss} {x:?}");
                for (a, b) in fast.iter().zip(&slow) {
                    assert!((a - b).abs() <= 1e-6, "{n} {case}: {fast:?} vs {slow:?}");
                }
            }
        }
        let mut g = [0.0f32; 3];
        assert!(f32::softmax_xent(&[1.0, f32::NAN, 0.0], 0, &mut g).unwrap().is_nan());
        assert!(f32::softmax_xent(&[0.0; 17], 0, &mut [0.0; 17]).is_none());
    }

    #[test]
    fn exp_f32_is_within_two_ulp() {
        let mut worst = 0.0f64;
        for k in 0..=200_000 {
            let x = -87.0 + 175.0 * k as f32 / 200_000.0;
            let exact = libm::exp(x as f64);
            let error = (exp_f32(x) as f64 - exact).abs() / exact;
            worst = worst.max(error);
        }
        assert!(worst < 2.0 * f32::EPSILON as f64 / 2.0 * 2.0, "max relative error {worst:e}");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-100.0), 0.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
    }
}
