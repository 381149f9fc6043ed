//! The x86-64 leaf (with `std`): the AVX2 and AVX-512 registers as
//! [`Lanes`], the algorithms of `dense.rs`, `conv.rs`, `pointwise.rs` and
//! `depthwise.rs` instantiated with them in functions built with those
//! features (`#[target_feature]`), the
//! element-wise kernels written in intrinsics, and [`X86`], through which
//! the seam reaches all of it. Every `unsafe` of the kernels is here.
//!
//! Calling a `#[target_feature]` function is safe only on a CPU that has
//! the features; [`isa`] found them before any is called, and a value of
//! `Avx2` or `Avx512` proves it to the code that holds one.

#![warn(clippy::undocumented_unsafe_blocks)]

use core::arch::x86_64::*;

use generic_array::ArrayLength;

use super::conv::{self, ConvShape};
use super::dense::{forward_gemm, forward_impl, grads_impl, input_grads_impl};
use super::dispatch::{Isa, Leaf, isa};
use super::elementwise::sum_squares_portable;
use super::lanes::Lanes;
use super::{depthwise, pointwise};
use crate::shape::{Matrix, Vector};

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

// A value of `Avx2` exists only where the CPU has AVX2 and FMA, so the
// intrinsics below may run; loads and stores go through slices whose length
// is checked first (`&s[..8]`).
impl Lanes for Avx2 {
    type T = f32;
    type V = __m256;
    const L: usize = 8;
    /// Eight rows of eight in three rounds of shuffles (24 in all).
    #[inline(always)]
    fn transpose<'a, const GS: usize>(self, row: impl Fn(usize) -> &'a [f32], dst: &mut [[f32; GS]], j0: usize) {
        // SAFETY: `self` proves AVX2 and FMA; the loads read `row(k)[..8]` and the stores
        // write `dst[..][j0..j0 + 8]`, slices whose bounds are checked.
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
        // SAFETY: `self` proves AVX2 and FMA; registers only, no memory.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        // SAFETY: `self` proves AVX2 and FMA; registers only, no memory.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> __m256 {
        // SAFETY: `self` proves AVX2 and FMA; `&s[..8]` checked that 8 values are there.
        unsafe { _mm256_loadu_ps(s[..8].as_ptr()) }
    }
    #[inline(always)]
    fn store(self, s: &mut [f32], v: __m256) {
        // SAFETY: `self` proves AVX2 and FMA; `&mut s[..8]` checked that 8 values are there.
        unsafe { _mm256_storeu_ps(s[..8].as_mut_ptr(), v) }
    }
    #[inline(always)]
    fn load_part(self, s: &[f32], n: usize) -> __m256 {
        let s = &s[..n.min(8)];
        // SAFETY: `self` proves AVX2 and FMA; the mask selects the first `s.len()` lanes, whose
        // values are in `s`, and a masked load touches no memory under the other lanes.
        unsafe { _mm256_maskload_ps(s.as_ptr(), avx2_mask(s.len())) }
    }
    #[inline(always)]
    fn store_part(self, s: &mut [f32], n: usize, v: __m256) {
        let s = &mut s[..n.min(8)];
        // SAFETY: as for `load_part`: the masked store writes the first `s.len()` values only.
        unsafe { _mm256_maskstore_ps(s.as_mut_ptr(), avx2_mask(s.len()), v) }
    }
    /// Two shuffles within 128-bit halves, then one across them.
    #[inline(always)]
    fn deinterleave(self, a: __m256, b: __m256) -> (__m256, __m256) {
        // SAFETY: `self` proves AVX2 and FMA; registers only, no memory.
        unsafe {
            let even = _mm256_castps_pd(_mm256_shuffle_ps::<0x88>(a, b)); // a0 a2 b0 b2 | a4 a6 b4 b6
            let odd = _mm256_castps_pd(_mm256_shuffle_ps::<0xDD>(a, b));
            (
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(even)),
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(odd)),
            )
        }
    }
    #[inline(always)]
    fn interleave(self, e: __m256, o: __m256) -> (__m256, __m256) {
        // SAFETY: `self` proves AVX2 and FMA; registers only, no memory.
        unsafe {
            let (low, high) = (_mm256_unpacklo_ps(e, o), _mm256_unpackhi_ps(e, o)); // e0 o0 e1 o1 | e4 o4 e5 o5
            (_mm256_permute2f128_ps::<0x20>(low, high), _mm256_permute2f128_ps::<0x31>(low, high))
        }
    }
    #[inline(always)]
    fn madd(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: `self` proves AVX2 and FMA; registers only, no memory.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn madd1(self, a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn hsum(self, v: __m256) -> f32 {
        // SAFETY: `self` proves AVX2 and FMA; registers only, no memory.
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
        // SAFETY: `self` proves AVX2 and FMA; the store writes the eight values of `out`.
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

/// The lanes `0..n` of an AVX2 register selected (sign bit set), for
/// masked loads and stores; `n ≤ 8`.
#[inline(always)]
fn avx2_mask(n: usize) -> __m256i {
    // SAFETY: called only where `Avx2` values exist (the CPU has AVX2); registers only.
    unsafe { _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)) }
}

/// The scale applied before squaring in `f32`: squares of gradients
/// down to 2.5·10⁻²⁹ stay normal numbers (a subnormal result takes a
/// slow microcode assist on many CPUs), and up to 4·10⁹ stay finite.
const LIFT: f32 = 4_294_967_296.0; // 2³²
/// `1 / LIFT²`, exact in `f64`.
const DROP: f64 = 1.0 / 18_446_744_073_709_551_616.0; // 2⁻⁶⁴

/// Adds the lanes of eight `f32` accumulators in `f64`.
#[inline(always)]
fn total_avx512(acc: [__m512; 8]) -> f64 {
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

/// `Σ v²`: each value times 2³² squared in `f32` lanes (eight
/// accumulators, runs of 64 registers so at most eight terms meet in a
/// lane), each run's total taken in `f64` by `total` and scaled back by
/// 2⁻⁶⁴ (exactly). Accurate to about 10⁻⁶ relative; a run whose sum is not
/// finite is summed again, unscaled, in `f32`.
#[inline(always)]
fn sum_squares_lifted<S: Lanes<T = f32>>(s: S, values: &[f32], total: impl Fn([S::V; 8]) -> f64) -> f64 {
    let (lift, zero) = (s.splat(LIFT), s.zero());
    let mut sum = 0.0f64;
    for run in values.chunks(64 * S::L) {
        let mut acc = [s.zero(); 8];
        let mut blocks = run.chunks_exact(8 * S::L);
        for block in &mut blocks {
            for (k, a) in acc.iter_mut().enumerate() {
                let v = s.madd(s.load(&block[k * S::L..]), lift, zero);
                *a = s.madd(v, v, *a);
            }
        }
        let mut rest = blocks.remainder().chunks_exact(S::L);
        for (k, chunk) in (&mut rest).enumerate() {
            let v = s.madd(s.load(chunk), lift, zero);
            acc[k] = s.madd(v, v, acc[k]);
        }
        let part = total(acc) * DROP + f64::from(sum_squares_portable(rest.remainder()));
        sum += if part.is_finite() { part } else { f64::from(sum_squares_portable(run)) };
    }
    sum
}

/// `Σ v²` in sixteen-lane registers (runs of 1,024 values).
///
/// # Safety
/// The CPU must have AVX-512 F.
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn sum_squares_avx512(values: &[f32]) -> f64 {
    // SAFETY: this function runs only where the CPU has the features.
    sum_squares_lifted(unsafe { Avx512::new_unchecked() }, values, total_avx512)
}

/// Adds the lanes of eight AVX2 `f32` accumulators in `f64`.
#[inline(always)]
fn total_avx2(acc: [__m256; 8]) -> f64 {
    // SAFETY: called only from functions built with AVX2; registers only.
    unsafe {
        let s = _mm256_add_ps(
            _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])),
            _mm256_add_ps(_mm256_add_ps(acc[4], acc[5]), _mm256_add_ps(acc[6], acc[7])),
        );
        let wide =
            _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(s)));
        let pair = _mm_add_pd(_mm256_castpd256_pd128(wide), _mm256_extractf128_pd::<1>(wide));
        _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)))
    }
}

/// `Σ v²` in eight-lane registers (runs of 512 values), as
/// [`sum_squares_avx512`]: twice the values per instruction of squaring in
/// `f64` lanes, which measured 3–4% of a W3 training step.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn sum_squares_avx2(values: &[f32]) -> f64 {
    // SAFETY: this function runs only where the CPU has the features.
    sum_squares_lifted(unsafe { Avx2::new_unchecked() }, values, total_avx2)
}

/// `eˣ` lane by lane (as [`exp_f32`](super::elementwise::exp_f32), with fused steps and
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
unsafe fn softmax_xent_avx512(x: &[f32], class: usize, grad: &mut [f32]) -> f32 {
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

// As for `Avx2`, with AVX-512 F.
impl Lanes for Avx512 {
    type T = f32;
    type V = __m512;
    const L: usize = 16;
    /// Sixteen rows of sixteen in four rounds of in-lane and cross-lane
    /// shuffles (64 in all) instead of 256 scalar stores.
    #[inline(always)]
    fn transpose<'a, const GS: usize>(self, row: impl Fn(usize) -> &'a [f32], dst: &mut [[f32; GS]], j0: usize) {
        // SAFETY: `self` proves AVX-512 F and FMA; the loads read `row(k)[..16]` and the stores
        // write `dst[..][j0..j0 + 16]`, slices whose bounds are checked.
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
        // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> __m512 {
        // SAFETY: `self` proves AVX-512 F and FMA; `&s[..16]` checked that 16 values are there.
        unsafe { _mm512_loadu_ps(s[..16].as_ptr()) }
    }
    #[inline(always)]
    fn store(self, s: &mut [f32], v: __m512) {
        // SAFETY: `self` proves AVX-512 F and FMA; `&mut s[..16]` checked that 16 values are there.
        unsafe { _mm512_storeu_ps(s[..16].as_mut_ptr(), v) }
    }
    #[inline(always)]
    fn load_part(self, s: &[f32], n: usize) -> __m512 {
        let s = &s[..n.min(16)];
        // SAFETY: `self` proves AVX-512 F and FMA; the mask selects the first `s.len()` lanes,
        // whose values are in `s`, and masked-off lanes touch no memory.
        unsafe { _mm512_maskz_loadu_ps(((1u32 << s.len()) - 1) as __mmask16, s.as_ptr()) }
    }
    #[inline(always)]
    fn store_part(self, s: &mut [f32], n: usize, v: __m512) {
        let s = &mut s[..n.min(16)];
        // SAFETY: as for `load_part`: the masked store writes the first `s.len()` values only.
        unsafe { _mm512_mask_storeu_ps(s.as_mut_ptr(), ((1u32 << s.len()) - 1) as __mmask16, v) }
    }
    /// One two-source permute per result.
    #[inline(always)]
    fn deinterleave(self, a: __m512, b: __m512) -> (__m512, __m512) {
        // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
        unsafe {
            let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            (_mm512_permutex2var_ps(a, even, b), _mm512_permutex2var_ps(a, odd, b))
        }
    }
    #[inline(always)]
    fn interleave(self, e: __m512, o: __m512) -> (__m512, __m512) {
        // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
        unsafe {
            let low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            let high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            (_mm512_permutex2var_ps(e, low, o), _mm512_permutex2var_ps(e, high, o))
        }
    }
    #[inline(always)]
    fn madd(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn madd1(self, a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn hsum(self, v: __m512) -> f32 {
        // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
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
        // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
        let mut halves = [unsafe { _mm256_setzero_ps() }; 8];
        for (h, &v) in halves.iter_mut().zip(&v) {
            // SAFETY: `self` proves AVX-512 F and FMA; registers only, no memory.
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

// ---------------------------------------------------------------------------
// The algorithms instantiated for AVX2 and AVX-512, each in a function built
// with those features. Calling one is safe only on a CPU that has them.
// ---------------------------------------------------------------------------

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
unsafe fn forward_avx512<I: ArrayLength, O: ArrayLength>(
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
unsafe fn forward_avx2<I: ArrayLength, O: ArrayLength>(
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
unsafe fn grads_avx512<I: ArrayLength, O: ArrayLength>(
    gw: &mut Matrix<f32, O, I>,
    gb: &mut Vector<f32, O>,
    xs: &[&Vector<f32, I>],
    dys: &[&Vector<f32, O>],
) {
    // SAFETY: this function runs only where the CPU has the features.
    grads_impl::<_, 6, 4, I, O>(unsafe { Avx512::new_unchecked() }, gw, gb, xs, dys);
}

#[target_feature(enable = "avx2,fma")]
unsafe fn grads_avx2<I: ArrayLength, O: ArrayLength>(
    gw: &mut Matrix<f32, O, I>,
    gb: &mut Vector<f32, O>,
    xs: &[&Vector<f32, I>],
    dys: &[&Vector<f32, O>],
) {
    // 4 rows × 3 registers: 12 accumulators, 3 inputs and a broadcast fill
    // the 16 `ymm` registers exactly (3 × 4 spilled two accumulators to the
    // stack every sample: 43% of a W3 step under AVX2, 37% without).
    // SAFETY: this function runs only where the CPU has the features.
    grads_impl::<_, 4, 3, I, O>(unsafe { Avx2::new_unchecked() }, gw, gb, xs, dys);
}

#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn conv_forward_avx512<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    conv::forward_wide::<G, _, 8, 3>(unsafe { Avx512::new_unchecked() }, w, bias, xs, ys)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn conv_forward_avx2<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    conv::forward_wide::<G, _, 4, 3>(unsafe { Avx2::new_unchecked() }, w, bias, xs, ys)
}

#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn conv_backward_avx512<G: ConvShape>(
    w: &[f32],
    xs: &[&[f32]],
    dys: &[&[f32]],
    gw: &mut [f32],
    gb: &mut [f32],
    dxs: Option<&mut [&mut [f32]]>,
) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    conv::backward_wide::<G, _, 4, 3, 8, 3>(unsafe { Avx512::new_unchecked() }, w, xs, dys, gw, gb, dxs)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn conv_backward_avx2<G: ConvShape>(
    w: &[f32],
    xs: &[&[f32]],
    dys: &[&[f32]],
    gw: &mut [f32],
    gb: &mut [f32],
    dxs: Option<&mut [&mut [f32]]>,
) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    conv::backward_wide::<G, _, 4, 2, 4, 2>(unsafe { Avx2::new_unchecked() }, w, xs, dys, gw, gb, dxs)
}

#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn input_grads_avx512<I: ArrayLength, O: ArrayLength>(
    w: &Matrix<f32, O, I>,
    dys: &[&Vector<f32, O>],
    dxs: &mut [&mut Vector<f32, I>],
) {
    // SAFETY: this function runs only where the CPU has the features.
    input_grads_impl::<_, 4, 4, I, O>(unsafe { Avx512::new_unchecked() }, w, dys, dxs);
}

#[target_feature(enable = "avx2,fma")]
unsafe fn input_grads_avx2<I: ArrayLength, O: ArrayLength>(
    w: &Matrix<f32, O, I>,
    dys: &[&Vector<f32, O>],
    dxs: &mut [&mut Vector<f32, I>],
) {
    // 4 samples × 3 registers: 16 `ymm` registers, as for `grads_avx2`.
    // SAFETY: this function runs only where the CPU has the features.
    input_grads_impl::<_, 4, 3, I, O>(unsafe { Avx2::new_unchecked() }, w, dys, dxs);
}

#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn pointwise_forward_avx512<G: ConvShape>(w: &[f32], b: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    pointwise::forward::<G, _, 8, 3>(unsafe { Avx512::new_unchecked() }, w, b, xs, ys)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn pointwise_forward_avx2<G: ConvShape>(w: &[f32], b: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    pointwise::forward::<G, _, 4, 2>(unsafe { Avx2::new_unchecked() }, w, b, xs, ys)
}

#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn pointwise_backward_avx512<G: ConvShape>(
    w: &[f32],
    xs: &[&[f32]],
    dys: &[&[f32]],
    gw: &mut [f32],
    gb: &mut [f32],
    dxs: Option<&mut [&mut [f32]]>,
) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    pointwise::backward::<G, _, 8, 3, 4, 4>(unsafe { Avx512::new_unchecked() }, w, xs, dys, gw, gb, dxs)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn pointwise_backward_avx2<G: ConvShape>(
    w: &[f32],
    xs: &[&[f32]],
    dys: &[&[f32]],
    gw: &mut [f32],
    gb: &mut [f32],
    dxs: Option<&mut [&mut [f32]]>,
) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    pointwise::backward::<G, _, 4, 2, 3, 3>(unsafe { Avx2::new_unchecked() }, w, xs, dys, gw, gb, dxs)
}

#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn depthwise_forward_avx512<G: ConvShape>(w: &[f32], b: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    let (wide, narrow) = unsafe { (Avx512::new_unchecked(), Avx2::new_unchecked()) };
    if depthwise::small::<G>() {
        depthwise::forward::<G, _, 8>(narrow, w, b, xs, ys)
    } else {
        depthwise::forward::<G, _, 8>(wide, w, b, xs, ys)
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn depthwise_forward_avx2<G: ConvShape>(w: &[f32], b: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    depthwise::forward::<G, _, 4>(unsafe { Avx2::new_unchecked() }, w, b, xs, ys)
}

#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn depthwise_backward_avx512<G: ConvShape>(
    w: &[f32],
    xs: &[&[f32]],
    dys: &[&[f32]],
    gw: &mut [f32],
    gb: &mut [f32],
    dxs: Option<&mut [&mut [f32]]>,
) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    let (wide, narrow) = unsafe { (Avx512::new_unchecked(), Avx2::new_unchecked()) };
    if depthwise::small::<G>() {
        depthwise::backward::<G, _, 8, 9>(narrow, w, xs, dys, gw, gb, dxs)
    } else {
        depthwise::backward::<G, _, 8, 9>(wide, w, xs, dys, gw, gb, dxs)
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn depthwise_backward_avx2<G: ConvShape>(
    w: &[f32],
    xs: &[&[f32]],
    dys: &[&[f32]],
    gw: &mut [f32],
    gb: &mut [f32],
    dxs: Option<&mut [&mut [f32]]>,
) -> bool {
    // SAFETY: this function runs only where the CPU has the features.
    depthwise::backward::<G, _, 4, 9>(unsafe { Avx2::new_unchecked() }, w, xs, dys, gw, gb, dxs)
}

/// `f` inlined into a function built with AVX-512 (`Leaf::run`).
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
unsafe fn run_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `f` inlined into a function built with AVX2 and FMA (`Leaf::run`).
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// The instruction set for a `Dense` layer of `I` inputs: [`isa`], except
/// that rows of an odd multiple of 8 values (72, 200) run on AVX2 where
/// AVX-512 is there too. Eight-lane registers cover such a row exactly,
/// while sixteen-lane ones leave half a register at the end of every row
/// (W4's 72-input layer trained 8% slower on AVX-512).
#[inline(always)]
fn dense_isa<I: ArrayLength>() -> Isa {
    match isa() {
        Isa::Avx512 if I::USIZE % 16 == 8 => Isa::Avx2,
        isa => isa,
    }
}

/// The x86-64 leaf: AVX-512 or AVX2 as [`isa`] chose, or nothing (the
/// seam's portable algorithms) where it chose `Portable`.
pub(crate) struct X86;

impl Leaf for X86 {
    #[inline(always)]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) -> bool {
        match dense_isa::<I>() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { forward_avx512(w, bias, xs, ys) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { forward_avx2(w, bias, xs, ys) },
            Isa::Portable => return false,
        }
        true
    }
    #[inline(always)]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) -> bool {
        match dense_isa::<I>() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { grads_avx512(gw, gb, xs, dys) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { grads_avx2(gw, gb, xs, dys) },
            Isa::Portable => return false,
        }
        true
    }
    #[inline(always)]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) -> bool {
        match dense_isa::<I>() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { input_grads_avx512(w, dys, dxs) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { input_grads_avx2(w, dys, dxs) },
            Isa::Portable => return false,
        }
        true
    }
    #[inline(always)]
    fn conv_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { conv_forward_avx512::<G>(w, bias, xs, ys) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { conv_forward_avx2::<G>(w, bias, xs, ys) },
            Isa::Portable => false,
        }
    }
    #[inline(always)]
    fn conv_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { conv_backward_avx512::<G>(w, xs, dys, gw, gb, dxs) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { conv_backward_avx2::<G>(w, xs, dys, gw, gb, dxs) },
            Isa::Portable => false,
        }
    }
    #[inline(always)]
    fn pointwise_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { pointwise_forward_avx512::<G>(w, bias, xs, ys) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { pointwise_forward_avx2::<G>(w, bias, xs, ys) },
            Isa::Portable => false,
        }
    }
    #[inline(always)]
    fn pointwise_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { pointwise_backward_avx512::<G>(w, xs, dys, gw, gb, dxs) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { pointwise_backward_avx2::<G>(w, xs, dys, gw, gb, dxs) },
            Isa::Portable => false,
        }
    }
    #[inline(always)]
    fn depthwise_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { depthwise_forward_avx512::<G>(w, bias, xs, ys) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { depthwise_forward_avx2::<G>(w, bias, xs, ys) },
            Isa::Portable => false,
        }
    }
    #[inline(always)]
    fn depthwise_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => unsafe { depthwise_backward_avx512::<G>(w, xs, dys, gw, gb, dxs) },
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => unsafe { depthwise_backward_avx2::<G>(w, xs, dys, gw, gb, dxs) },
            Isa::Portable => false,
        }
    }
    #[inline(always)]
    fn sum_squares(values: &[f32]) -> Option<f64> {
        match isa() {
            // SAFETY: `isa()` detected every feature `avx512` enables.
            Isa::Avx512 => Some(unsafe { sum_squares_avx512(values) }),
            // SAFETY: as above, for `avx2`.
            Isa::Avx2 => Some(unsafe { sum_squares_avx2(values) }),
            Isa::Portable => None,
        }
    }
    #[inline(always)]
    fn softmax_xent(x: &[f32], class: usize, grad: &mut [f32]) -> Option<f32> {
        if x.len() <= 16 && grad.len() == x.len() && class < x.len() && isa() == Isa::Avx512 {
            // SAFETY: `isa()` detected every feature the function enables,
            // and the lengths and the class are as it needs.
            return Some(unsafe { softmax_xent_avx512(x, class, grad) });
        }
        None
    }
    #[inline(always)]
    fn run<R>(f: impl FnOnce() -> R) -> R {
        match isa() {
            // SAFETY: `isa()` detected every feature the function enables.
            Isa::Avx512 => unsafe { run_avx512(f) },
            // SAFETY: as above.
            Isa::Avx2 => unsafe { run_avx2(f) },
            Isa::Portable => f(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Kernels;
    use crate::kernel::dense::tests::{matches_the_reference, products};
    use crate::kernel::dispatch::test_may_run;
    use crate::prelude::*;
    use std::vec::Vec;

    /// The AVX2 variants; holding an `Avx2` proves the CPU has them.
    struct OnAvx2(Avx2);

    /// The AVX-512 variants; holding an `Avx512` proves the CPU has them.
    struct OnAvx512(Avx512);

    products! {
        OnAvx2, "avx2";
        // SAFETY: an `Avx2` in `self` proves the CPU has the features.
        forward(w, bias, xs, ys) => unsafe { forward_avx2(w, bias, xs, ys) };
        // SAFETY: as above.
        grads(gw, gb, xs, dys) => unsafe { grads_avx2(gw, gb, xs, dys) };
        // SAFETY: as above.
        input_grads(w, dys, dxs) => unsafe { input_grads_avx2(w, dys, dxs) };
    }

    products! {
        OnAvx512, "avx512";
        // SAFETY: an `Avx512` in `self` proves the CPU has the features.
        forward(w, bias, xs, ys) => unsafe { forward_avx512(w, bias, xs, ys) };
        // SAFETY: as above.
        grads(gw, gb, xs, dys) => unsafe { grads_avx512(gw, gb, xs, dys) };
        // SAFETY: as above.
        input_grads(w, dys, dxs) => unsafe { input_grads_avx512(w, dys, dxs) };
    }

    /// Every variant this CPU has against the `f64` reference of `dense.rs`.
    #[test]
    fn avx2_and_avx512_match_the_reference() {
        if test_may_run(Isa::Avx2, "the AVX2 variants") {
            // SAFETY: `test_may_run` found the features on this CPU.
            matches_the_reference(&OnAvx2(unsafe { Avx2::new_unchecked() }));
        }
        if test_may_run(Isa::Avx512, "the AVX-512 variants") {
            // SAFETY: `test_may_run` found the features on this CPU.
            matches_the_reference(&OnAvx512(unsafe { Avx512::new_unchecked() }));
        }
    }

    #[test]
    fn sum_squares_avx2_matches_a_plain_sum() {
        if !test_may_run(Isa::Avx2, "all of it") {
            return;
        }
        for len in [5, 37, 100, 1000] {
            let v: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 3.0).collect();
            let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
            // SAFETY: `test_may_run` found the features on this CPU.
            assert!((unsafe { sum_squares_avx2(&v) } - plain).abs() < 1e-6 * plain, "{len}");
        }
        // Squares subnormal in `f32` unless lifted, and squares past its
        // range (summed again unlifted: infinite).
        let tiny: Vec<f32> = (0..3000).map(|i| ((i % 89) as f32 * 0.41 - 17.0) * 1e-20).collect();
        let plain: f64 = tiny.iter().map(|&x| x as f64 * x as f64).sum();
        // SAFETY: as above.
        assert!((unsafe { sum_squares_avx2(&tiny) } - plain).abs() < 1e-5 * plain);
        // SAFETY: as above.
        assert_eq!(unsafe { sum_squares_avx2(&[1e20f32; 600]) }, f64::INFINITY);
    }

    /// The AVX-512 softmax cross-entropy against the portable one, with
    /// every length it takes, extreme logits and a `NaN`.
    #[test]
    fn softmax_xent_variants_agree() {
        if !test_may_run(Isa::Avx512, "all of it") {
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

    /// The depthwise kernels' AVX2 and AVX-512 variants (whichever this
    /// CPU has) against the definition, on every test shape.
    mod depthwise_variants {
        use super::super::*;
        use crate::kernel::depthwise::tests::*;
        use crate::kernel::dispatch::test_may_run;
        use std::vec::Vec;

        fn avx2<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(
                G::DIMS,
                w,
                b,
                xs,
                dys,
                // SAFETY: the test runs this only where the CPU has AVX2 and FMA.
                |w, b, xs, ys| unsafe { depthwise_forward_avx2::<G>(w, b, xs, ys) },
                // SAFETY: as above.
                |w, xs, dys, gw, gb, dxs| unsafe { depthwise_backward_avx2::<G>(w, xs, dys, gw, gb, dxs) },
            )
        }

        fn avx512<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(
                G::DIMS,
                w,
                b,
                xs,
                dys,
                // SAFETY: the test runs this only where `test_may_run` found AVX-512.
                |w, b, xs, ys| unsafe { depthwise_forward_avx512::<G>(w, b, xs, ys) },
                // SAFETY: as above.
                |w, xs, dys, gw, gb, dxs| unsafe { depthwise_backward_avx512::<G>(w, xs, dys, gw, gb, dxs) },
            )
        }

        #[test]
        fn avx2_and_avx512_agree_with_the_definition() {
            if test_may_run(Isa::Avx2, "the AVX2 variants") {
                each_shape!(avx2, F32_TOLERANCE, "avx2");
            }
            if test_may_run(Isa::Avx512, "the AVX-512 variants") {
                each_shape!(avx512, F32_TOLERANCE, "avx512");
            }
        }
    }

    /// The convolution kernels' AVX2 and AVX-512 variants (whichever this
    /// CPU has) against the definition, on every test shape: strides 1 to
    /// 3, paddings 0 to 2, kernels 1 to 5, with and without the input
    /// gradient, and ResNet-8's sizes, cut into chunks to fit the scratch.
    mod conv_variants {
        use super::super::*;
        use crate::kernel::conv::tests::*;
        use crate::kernel::depthwise::tests::{F32_TOLERANCE, run};
        use crate::kernel::dispatch::test_may_run;
        use std::vec::Vec;

        fn avx2<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(
                G::DIMS,
                w,
                b,
                xs,
                dys,
                // SAFETY: the test runs this only where the CPU has AVX2 and FMA.
                |w, b, xs, ys| unsafe { conv_forward_avx2::<G>(w, b, xs, ys) },
                // SAFETY: as above.
                |w, xs, dys, gw, gb, dxs| unsafe { conv_backward_avx2::<G>(w, xs, dys, gw, gb, dxs) },
            )
        }

        fn avx512<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(
                G::DIMS,
                w,
                b,
                xs,
                dys,
                // SAFETY: the test runs this only where `test_may_run` found AVX-512.
                |w, b, xs, ys| unsafe { conv_forward_avx512::<G>(w, b, xs, ys) },
                // SAFETY: as above.
                |w, xs, dys, gw, gb, dxs| unsafe { conv_backward_avx512::<G>(w, xs, dys, gw, gb, dxs) },
            )
        }

        #[test]
        fn avx2_and_avx512_agree_with_the_definition() {
            if test_may_run(Isa::Avx2, "the AVX2 variants") {
                each_shape!(avx2, F32_TOLERANCE, "avx2");
                agrees::<Res28>(31, 3, &avx2::<Res28>, F32_TOLERANCE, "avx2");
                agrees::<Res28S2>(32, 3, &avx2::<Res28S2>, F32_TOLERANCE, "avx2");
                agrees::<Res14S2>(33, 9, &avx2::<Res14S2>, F32_TOLERANCE, "avx2");
            }
            if test_may_run(Isa::Avx512, "the AVX-512 variants") {
                each_shape!(avx512, F32_TOLERANCE, "avx512");
                agrees::<Res28>(31, 3, &avx512::<Res28>, F32_TOLERANCE, "avx512");
                agrees::<Res28S2>(32, 3, &avx512::<Res28S2>, F32_TOLERANCE, "avx512");
                agrees::<Res14S2>(33, 9, &avx512::<Res14S2>, F32_TOLERANCE, "avx512");
            }
        }
    }

    /// The pointwise kernels' AVX2 and AVX-512 variants (whichever this
    /// CPU has) against the general convolution, on every test shape.
    mod pointwise_variants {
        use super::super::*;
        use crate::kernel::depthwise::tests::{F32_TOLERANCE, run};
        use crate::kernel::dispatch::test_may_run;
        use crate::kernel::pointwise::tests::*;
        use std::vec::Vec;

        fn avx2<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(
                G::DIMS,
                w,
                b,
                xs,
                dys,
                // SAFETY: the test runs this only where the CPU has AVX2 and FMA.
                |w, b, xs, ys| unsafe { pointwise_forward_avx2::<G>(w, b, xs, ys) },
                // SAFETY: as above.
                |w, xs, dys, gw, gb, dxs| unsafe { pointwise_backward_avx2::<G>(w, xs, dys, gw, gb, dxs) },
            )
        }

        fn avx512<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(
                G::DIMS,
                w,
                b,
                xs,
                dys,
                // SAFETY: the test runs this only where `test_may_run` found AVX-512.
                |w, b, xs, ys| unsafe { pointwise_forward_avx512::<G>(w, b, xs, ys) },
                // SAFETY: as above.
                |w, xs, dys, gw, gb, dxs| unsafe { pointwise_backward_avx512::<G>(w, xs, dys, gw, gb, dxs) },
            )
        }

        #[test]
        fn avx2_and_avx512_agree_with_the_general_convolution() {
            if test_may_run(Isa::Avx2, "the AVX2 variants") {
                each_shape!(avx2, F32_TOLERANCE, "avx2");
            }
            if test_may_run(Isa::Avx512, "the AVX-512 variants") {
                each_shape!(avx512, F32_TOLERANCE, "avx512");
            }
        }
    }

    /// The shuffles and the partial loads and stores against their
    /// definitions, in both variants this CPU has.
    #[test]
    fn lanes_pass_the_checks() {
        use crate::kernel::lanes::checks::{interleave_round_trip, partial_loads_and_stores_stop_at_n};
        if test_may_run(Isa::Avx2, "the AVX2 variants") {
            // SAFETY: `test_may_run` found the features on this CPU.
            let s = unsafe { Avx2::new_unchecked() };
            interleave_round_trip(s, "avx2");
            partial_loads_and_stores_stop_at_n(s, "avx2");
        }
        if test_may_run(Isa::Avx512, "the AVX-512 variants") {
            // SAFETY: `test_may_run` found the features on this CPU.
            let s = unsafe { Avx512::new_unchecked() };
            interleave_round_trip(s, "avx512");
            partial_loads_and_stores_stop_at_n(s, "avx512");
        }
    }
}
