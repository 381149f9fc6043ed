//! The x86-64 int8 leaf (with `std`): the convolutions (as a matrix
//! product over packed columns), the depthwise convolution (vectors over the
//! positions of a phase plane), the int8 matrix-vector product and the
//! per-channel requantisation, in AVX-512 and AVX2 registers, each with and
//! without VNNI (`vpdpbusd`). Every `unsafe` of the int8 kernels is here.
//!
//! Every variant gives the bits of the portable loops of `int8.rs` and
//! `quant/`: the sums are exact in `i32` (wrapping, as the portable ones),
//! and the requantisation is TFLite's, lane by lane.
//!
//! - Convolution: `Y[CO×P] = W[CO×K]·X[K×P]` with `X` the im2col columns
//!   (for a 1×1 convolution at stride 1 and no padding, the input itself).
//!   `X` is packed per tile of positions into groups of four rows
//!   interleaved per position, as unsigned bytes `x + 128` (so `vpdpbusd`
//!   multiplies them by signed weights; `−128·Σw` goes into the bias, exact
//!   in wrapping `i32`). Four weights of a row are broadcast as one `i32`
//!   and multiply a register of positions; blocks of 4 rows × up to 4
//!   (AVX-512) or 2 (AVX2) registers of positions. Without VNNI, each group
//!   of four becomes two `vpmaddwd` on 16-bit halves (exact: no
//!   `vpmaddubsw` saturation).
//! - Depthwise: each input channel is laid out once as `S×S` phase planes,
//!   padded with the input zero point, so that every tap of every output is
//!   the same offset from the output's index in a flattened plane of width
//!   `⌈(W + 2P)/S⌉`: a tap is one load of consecutive bytes, widened to
//!   `i32` and multiplied by the broadcast weight.
//! - Requantisation per register: `vpmuldq` on even and odd lanes gives the
//!   doubling high multiply, `(a·m + 2³⁰) >> 31` (the same as gemmlowp's
//!   nudge-and-truncate), then the rounding right shift. A channel whose
//!   stage the vector form does not cover (a multiplier of `i32::MIN`, a
//!   right shift beyond 31, an output zero point beyond ±2¹⁶, bounds out of
//!   order: none of which a converter writes) takes the scalar form.
//!
//! Calling a `#[target_feature]` function is safe only on a CPU that has
//! the features; [`variants`] found them, and a value of a lanes type
//! proves it to the code that holds one.

#![warn(clippy::undocumented_unsafe_blocks)]

use core::arch::x86_64::*;

use super::dispatch::{Isa, isa};
use super::int8::{Stage, Window};

/// The int8 variants this leaf has, widest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    /// AVX-512 (F, BW, VL, DQ) with VNNI.
    Avx512Vnni,
    /// AVX-512 (F, BW, VL, DQ) without VNNI: `vpmaddwd`.
    Avx512,
    /// AVX2 with AVX-VNNI.
    Avx2Vnni,
    /// AVX2 without VNNI: `vpmaddwd`.
    Avx2,
}

/// The variant the kernels use: the best the CPU has within the instruction
/// set [`isa`] allows (`TYPENET_KERNELS`), or none for `portable`.
#[inline]
fn variant() -> Option<Variant> {
    use std::is_x86_feature_detected as has;
    match isa() {
        Isa::Portable => None,
        Isa::Avx2 => Some(if has!("avxvnni") { Variant::Avx2Vnni } else { Variant::Avx2 }),
        Isa::Avx512 => Some(if has!("avx512vnni") { Variant::Avx512Vnni } else { Variant::Avx512 }),
    }
}

/// Every variant the tests may run: those this CPU has, within the
/// instruction set `TYPENET_KERNELS` allows. Each variant left out is
/// reported skipped (`dispatch::report_skipped`), so a CPU without VNNI or
/// AVX-512 shows in the test output rather than passing silently.
#[cfg(test)]
pub(crate) fn variants() -> std::vec::Vec<Variant> {
    use super::dispatch::{report_skipped, test_may_run};
    use std::is_x86_feature_detected as has;
    let each = [
        (Variant::Avx512Vnni, Isa::Avx512, has!("avx512vnni"), "AVX-512 VNNI"),
        (Variant::Avx512, Isa::Avx512, true, "AVX-512"),
        (Variant::Avx2Vnni, Isa::Avx2, has!("avxvnni"), "AVX-VNNI"),
        (Variant::Avx2, Isa::Avx2, true, "AVX2 and FMA"),
    ];
    let mut all = std::vec::Vec::new();
    for (variant, isa, extension, needs) in each {
        let what = std::format!("the {variant:?} variant");
        if !extension {
            report_skipped(&what, needs, false);
        } else if test_may_run(isa, &what) {
            all.push(variant);
        }
    }
    all
}

/// The most scratch the kernels pack into, on the stack (each takes the
/// least of a few sizes it fits, so that a small layer does not zero a
/// large one).
const LARGE: usize = 32768;

/// One channel's requantisation, as the vector form applies it.
#[derive(Clone, Copy)]
struct Rq {
    left: i32,
    multiplier: i32,
    right: i32,
    /// `(1 << right) − 1`, as the scalar form computes it.
    mask: i32,
    zero_point: i32,
    min: i32,
    max: i32,
}

/// Channel `o`'s stage in the vector form, or `None` where the scalar form
/// must run (see the module's notes).
#[inline(always)]
fn rq(stage: &Stage<'_>, o: usize) -> Option<Rq> {
    let (multiplier, shift) = (stage.multiplier[o], stage.shift[o]);
    let covered = multiplier != i32::MIN
        && shift >= -31
        && (-(1 << 16)..=1 << 16).contains(&stage.zero_point)
        && stage.min <= stage.max;
    covered.then(|| {
        let right = if shift > 0 { 0 } else { -shift };
        Rq {
            left: if shift > 0 { shift & 31 } else { 0 },
            multiplier,
            right,
            mask: ((1i64 << right) - 1) as i32,
            zero_point: stage.zero_point,
            min: stage.min as i32,
            max: stage.max as i32,
        }
    })
}

/// What a lanes type offers the int8 algorithms below: `L` lanes of `i32`.
trait I8Lanes: Copy {
    type V: Copy;
    /// `i32` lanes.
    const L: usize;
    fn splat(self, x: i32) -> Self::V;
    /// `4·L` bytes.
    fn load(self, s: &[u8]) -> Self::V;
    /// `acc + Σⱼ u8(x[4l + j]) · i8(w[j])` in each lane `l`, `w` the four
    /// bytes of `w` (little-endian).
    fn dot4(self, acc: Self::V, x: Self::V, w: i32) -> Self::V;
    /// `L` bytes of `s`, sign-extended to `i32`.
    fn widen(self, s: &[i8]) -> Self::V;
    /// `acc + x · w` (wrapping).
    fn mul_add(self, acc: Self::V, x: Self::V, w: i32) -> Self::V;
    /// The requantised, offset and clamped lanes.
    fn requantize(self, acc: Self::V, q: &Rq) -> Self::V;
    /// The lanes, in order, as `i8` (each already in range) in the first `L`.
    fn narrow(self, v: Self::V) -> [i8; 16];
    /// The lanes as an array (first `L`).
    fn lanes(self, v: Self::V) -> [i32; 16];
    /// Writes the first `out.len() ≤ L` lanes (each in range) as `i8`.
    fn store(self, v: Self::V, out: &mut [i8]);
    /// `dst.copy_from_slice(src)` for at most 16 bytes, without a call.
    fn copy16(self, src: &[i8], dst: &mut [i8]);
}

/// Sixteen `i32` lanes in a `zmm` register. A value exists only where the
/// CPU has AVX-512 F, BW, VL and DQ, and VNNI too if `VNNI`.
#[derive(Clone, Copy)]
struct Zmm<const VNNI: bool>(());

/// Eight `i32` lanes in a `ymm` register. A value exists only where the CPU
/// has AVX2, and AVX-VNNI too if `VNNI`.
#[derive(Clone, Copy)]
struct Ymm<const VNNI: bool>(());

impl<const VNNI: bool> I8Lanes for Zmm<VNNI> {
    type V = __m512i;
    const L: usize = 16;
    #[inline(always)]
    fn splat(self, x: i32) -> __m512i {
        // SAFETY: `self` proves AVX-512 F; registers only.
        unsafe { _mm512_set1_epi32(x) }
    }
    #[inline(always)]
    fn load(self, s: &[u8]) -> __m512i {
        // SAFETY: `self` proves AVX-512 F; `&s[..64]` checked that 64 bytes are there.
        unsafe { _mm512_loadu_si512(s[..64].as_ptr().cast()) }
    }
    #[inline(always)]
    fn dot4(self, acc: __m512i, x: __m512i, w: i32) -> __m512i {
        // SAFETY: `self` proves AVX-512 F and BW, and VNNI where `VNNI`; registers only.
        unsafe {
            let w = _mm512_set1_epi32(w);
            if VNNI {
                _mm512_dpbusd_epi32(acc, x, w)
            } else {
                // Bytes 0 and 2 of each lane, then bytes 1 and 3, as 16-bit
                // values (x unsigned, w signed): two exact `vpmaddwd`.
                let (x_even, x_odd) = (_mm512_and_si512(x, _mm512_set1_epi16(0xff)), _mm512_srli_epi16::<8>(x));
                let (w_even, w_odd) = (_mm512_srai_epi16::<8>(_mm512_slli_epi16::<8>(w)), _mm512_srai_epi16::<8>(w));
                let sum = _mm512_add_epi32(_mm512_madd_epi16(x_even, w_even), _mm512_madd_epi16(x_odd, w_odd));
                _mm512_add_epi32(acc, sum)
            }
        }
    }
    #[inline(always)]
    fn widen(self, s: &[i8]) -> __m512i {
        // SAFETY: `self` proves AVX-512 F; `&s[..16]` checked that 16 bytes are there.
        unsafe { _mm512_cvtepi8_epi32(_mm_loadu_si128(s[..16].as_ptr().cast())) }
    }
    #[inline(always)]
    fn mul_add(self, acc: __m512i, x: __m512i, w: i32) -> __m512i {
        // SAFETY: `self` proves AVX-512 F; registers only.
        unsafe { _mm512_add_epi32(acc, _mm512_mullo_epi32(x, _mm512_set1_epi32(w))) }
    }
    #[inline(always)]
    fn requantize(self, acc: __m512i, q: &Rq) -> __m512i {
        // SAFETY: `self` proves AVX-512 F; registers only.
        unsafe {
            let a = _mm512_sll_epi32(acc, _mm_cvtsi32_si128(q.left));
            let m = _mm512_set1_epi32(q.multiplier);
            let nudge = _mm512_set1_epi64(1 << 30);
            let even = _mm512_srli_epi64::<31>(_mm512_add_epi64(_mm512_mul_epi32(a, m), nudge));
            let odd = _mm512_mul_epi32(_mm512_srli_epi64::<32>(a), m);
            let odd = _mm512_slli_epi64::<1>(_mm512_add_epi64(odd, nudge));
            let x = _mm512_mask_blend_epi32(0xaaaa, even, odd);
            let one = _mm512_set1_epi32(1);
            let mask = _mm512_set1_epi32(q.mask);
            let remainder = _mm512_and_si512(x, mask);
            let half = _mm512_srai_epi32::<1>(mask);
            let negative = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512());
            let threshold = _mm512_mask_add_epi32(half, negative, half, one);
            let x = _mm512_sra_epi32(x, _mm_cvtsi32_si128(q.right));
            let x = _mm512_mask_add_epi32(x, _mm512_cmpgt_epi32_mask(remainder, threshold), x, one);
            let x = _mm512_min_epi32(_mm512_max_epi32(x, _mm512_set1_epi32(-(1 << 24))), _mm512_set1_epi32(1 << 24));
            let x = _mm512_add_epi32(x, _mm512_set1_epi32(q.zero_point));
            _mm512_min_epi32(_mm512_max_epi32(x, _mm512_set1_epi32(q.min)), _mm512_set1_epi32(q.max))
        }
    }
    #[inline(always)]
    fn narrow(self, v: __m512i) -> [i8; 16] {
        let mut out = [0i8; 16];
        // SAFETY: `self` proves AVX-512 F; the store writes the 16 bytes of `out`.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), _mm512_cvtepi32_epi8(v)) };
        out
    }
    #[inline(always)]
    fn lanes(self, v: __m512i) -> [i32; 16] {
        let mut out = [0i32; 16];
        // SAFETY: `self` proves AVX-512 F; the store writes the 64 bytes of `out`.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), v) };
        out
    }
    #[inline(always)]
    fn store(self, v: __m512i, out: &mut [i8]) {
        let n = out.len().min(16);
        // SAFETY: `self` proves AVX-512 F; the mask writes the first `n ≤ out.len()` bytes only.
        unsafe { _mm512_mask_cvtepi32_storeu_epi8(out.as_mut_ptr().cast(), ((1u32 << n) - 1) as u16, v) }
    }
    #[inline(always)]
    fn copy16(self, src: &[i8], dst: &mut [i8]) {
        let n = dst.len().min(16);
        let src = &src[..n];
        let mask = ((1u32 << n) - 1) as u16;
        // SAFETY: `self` proves AVX-512 BW and VL; the masked load reads the first `n` bytes of
        // `src` only, the masked store writes the first `n` bytes of `dst` only.
        unsafe { _mm_mask_storeu_epi8(dst.as_mut_ptr().cast(), mask, _mm_maskz_loadu_epi8(mask, src.as_ptr().cast())) }
    }
}

impl<const VNNI: bool> I8Lanes for Ymm<VNNI> {
    type V = __m256i;
    const L: usize = 8;
    #[inline(always)]
    fn splat(self, x: i32) -> __m256i {
        // SAFETY: `self` proves AVX2; registers only.
        unsafe { _mm256_set1_epi32(x) }
    }
    #[inline(always)]
    fn load(self, s: &[u8]) -> __m256i {
        // SAFETY: `self` proves AVX2; `&s[..32]` checked that 32 bytes are there.
        unsafe { _mm256_loadu_si256(s[..32].as_ptr().cast()) }
    }
    #[inline(always)]
    fn dot4(self, acc: __m256i, x: __m256i, w: i32) -> __m256i {
        // SAFETY: `self` proves AVX2, and AVX-VNNI where `VNNI`; registers only.
        unsafe {
            let w = _mm256_set1_epi32(w);
            if VNNI {
                _mm256_dpbusd_avx_epi32(acc, x, w)
            } else {
                let (x_even, x_odd) = (_mm256_and_si256(x, _mm256_set1_epi16(0xff)), _mm256_srli_epi16::<8>(x));
                let (w_even, w_odd) = (_mm256_srai_epi16::<8>(_mm256_slli_epi16::<8>(w)), _mm256_srai_epi16::<8>(w));
                let sum = _mm256_add_epi32(_mm256_madd_epi16(x_even, w_even), _mm256_madd_epi16(x_odd, w_odd));
                _mm256_add_epi32(acc, sum)
            }
        }
    }
    #[inline(always)]
    fn widen(self, s: &[i8]) -> __m256i {
        // SAFETY: `self` proves AVX2; `&s[..8]` checked that 8 bytes are there.
        unsafe { _mm256_cvtepi8_epi32(_mm_loadl_epi64(s[..8].as_ptr().cast())) }
    }
    #[inline(always)]
    fn mul_add(self, acc: __m256i, x: __m256i, w: i32) -> __m256i {
        // SAFETY: `self` proves AVX2; registers only.
        unsafe { _mm256_add_epi32(acc, _mm256_mullo_epi32(x, _mm256_set1_epi32(w))) }
    }
    #[inline(always)]
    fn requantize(self, acc: __m256i, q: &Rq) -> __m256i {
        // SAFETY: `self` proves AVX2; registers only.
        unsafe {
            let a = _mm256_sll_epi32(acc, _mm_cvtsi32_si128(q.left));
            let m = _mm256_set1_epi32(q.multiplier);
            let nudge = _mm256_set1_epi64x(1 << 30);
            let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(_mm256_mul_epi32(a, m), nudge));
            let odd = _mm256_mul_epi32(_mm256_srli_epi64::<32>(a), m);
            let odd = _mm256_slli_epi64::<1>(_mm256_add_epi64(odd, nudge));
            let x = _mm256_blend_epi32::<0xaa>(even, odd);
            let mask = _mm256_set1_epi32(q.mask);
            let remainder = _mm256_and_si256(x, mask);
            // `cmpgt` gives −1 where true: subtracting it adds one.
            let negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
            let threshold = _mm256_sub_epi32(_mm256_srai_epi32::<1>(mask), negative);
            let x = _mm256_sra_epi32(x, _mm_cvtsi32_si128(q.right));
            let x = _mm256_sub_epi32(x, _mm256_cmpgt_epi32(remainder, threshold));
            let x = _mm256_min_epi32(_mm256_max_epi32(x, _mm256_set1_epi32(-(1 << 24))), _mm256_set1_epi32(1 << 24));
            let x = _mm256_add_epi32(x, _mm256_set1_epi32(q.zero_point));
            _mm256_min_epi32(_mm256_max_epi32(x, _mm256_set1_epi32(q.min)), _mm256_set1_epi32(q.max))
        }
    }
    #[inline(always)]
    fn narrow(self, v: __m256i) -> [i8; 16] {
        let mut out = [0i8; 16];
        // SAFETY: `self` proves AVX2; the store writes the first 8 of the 16 bytes of `out`.
        unsafe {
            let words = _mm256_packs_epi32(v, v); // v0..3 v0..3 | v4..7 v4..7
            let bytes = _mm256_packs_epi16(words, words); // v0..3 ×4 | v4..7 ×4
            let both = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4));
            _mm_storel_epi64(out.as_mut_ptr().cast(), _mm256_castsi256_si128(both));
        }
        out
    }
    #[inline(always)]
    fn lanes(self, v: __m256i) -> [i32; 16] {
        let mut out = [0i32; 16];
        // SAFETY: `self` proves AVX2; the store writes the first 32 of the 64 bytes of `out`.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), v) };
        out
    }
    #[inline(always)]
    fn store(self, v: __m256i, out: &mut [i8]) {
        let bytes = self.narrow(v);
        if out.len() >= 8 {
            // SAFETY: `self` proves AVX2; `&mut out[..8]` checked that 8 bytes are there.
            unsafe { _mm_storel_epi64(out[..8].as_mut_ptr().cast(), _mm_loadl_epi64(bytes.as_ptr().cast())) }
        } else {
            for (d, &b) in out.iter_mut().zip(&bytes) {
                *d = b;
            }
        }
    }
    #[inline(always)]
    fn copy16(self, src: &[i8], dst: &mut [i8]) {
        let n = dst.len();
        if n == 16 {
            // SAFETY: `self` proves AVX2; `&src[..16]` and `&mut dst[..16]` checked the bytes.
            unsafe { _mm_storeu_si128(dst[..16].as_mut_ptr().cast(), _mm_loadu_si128(src[..16].as_ptr().cast())) }
        } else {
            for (d, &b) in dst.iter_mut().zip(&src[..n]) {
                *d = b;
            }
        }
    }
}

/// Requantises one register of channel `o` and writes its first `n` lanes.
#[inline(always)]
fn finish<L: I8Lanes>(s: L, acc: L::V, q: Option<Rq>, stage: &Stage<'_>, o: usize, out: &mut [i8]) {
    let n = out.len();
    match q {
        Some(q) => s.store(s.requantize(acc, &q), out),
        None => {
            let lanes = s.lanes(acc);
            for (y, &a) in out.iter_mut().zip(&lanes[..n]) {
                *y = stage.finish(o, a);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Convolution as a matrix product over packed columns.

/// The rows of the product: `k = (c·K + ky)·K + kx`, the weight layout.
#[inline(always)]
fn rows(window: &Window) -> usize {
    window.channels * window.kernel * window.kernel
}

/// Packs the columns of positions `p0 .. p0 + n` into `packed`
/// (`[⌈rows/4⌉][width][4]` bytes, `width ≥ n`): byte `(g, j, r)` is
/// `x[4g + r][p0 + j] + 128`, and 0 past the rows or past `n`.
#[inline(always)]
fn pack(window: &Window, input: &[i8], pad: i8, p0: usize, n: usize, width: usize, packed: &mut [u8]) {
    let k_rows = rows(window);
    let groups = k_rows.div_ceil(4);
    let plane = window.height * window.width;
    let flip = |v: i8| (v as u8) ^ 0x80;
    if window.kernel == 1 && window.stride == 1 && window.padding == 0 {
        // The input's rows are the columns' rows: four at a time, sixteen
        // positions at a time interleaved by SSE2 unpacks.
        for g in 0..groups {
            let dst = &mut packed[g * width * 4..][..width * 4];
            let row = |r: usize| {
                let c = 4 * g + r;
                if c < k_rows { Some(&input[c * plane + p0..][..n]) } else { None }
            };
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
            let full = n / 16 * 16;
            for j in (0..full).step_by(16) {
                let load = |r: Option<&[i8]>| r.map_or([0i8; 16], |r| r[j..j + 16].try_into().unwrap());
                let quads = interleave4([load(r0), load(r1), load(r2), load(r3)]);
                dst[4 * j..4 * j + 64].copy_from_slice(&quads);
            }
            for j in full..width {
                for (r, row) in [r0, r1, r2, r3].into_iter().enumerate() {
                    dst[4 * j + r] = match row {
                        Some(row) if j < n => flip(row[j]),
                        _ => 0,
                    };
                }
            }
        }
        return;
    }
    // The general gather: each row (c, ky, kx) along the positions.
    let (k, s, pd) = (window.kernel, window.stride, window.padding as isize);
    let ow = window.out_width();
    packed[..groups * width * 4].fill(0);
    for row in 0..k_rows {
        let (c, ky, kx) = (row / (k * k), row / k % k, row % k);
        let src = &input[c * plane..][..plane];
        let dst = &mut packed[row / 4 * width * 4..][..width * 4];
        let (mut oy, mut ox) = (p0 / ow, p0 % ow);
        for j in 0..n {
            let y = (oy * s + ky) as isize - pd;
            let x = (ox * s + kx) as isize - pd;
            let v = if y >= 0 && (y as usize) < window.height && x >= 0 && (x as usize) < window.width {
                src[y as usize * window.width + x as usize]
            } else {
                pad
            };
            dst[4 * j + row % 4] = flip(v);
            ox += 1;
            if ox == ow {
                (oy, ox) = (oy + 1, 0);
            }
        }
    }
}

/// Four rows of sixteen bytes interleaved per position, each plus 128.
#[inline(always)]
fn interleave4(r: [[i8; 16]; 4]) -> [u8; 64] {
    let mut out = [0u8; 64];
    // SAFETY: SSE2 is part of x86-64; the loads read the four 16-byte arrays and the stores
    // write the 64 bytes of `out`.
    unsafe {
        let load = |a: &[i8; 16]| _mm_xor_si128(_mm_loadu_si128(a.as_ptr().cast()), _mm_set1_epi8(-128));
        let (a, b, c, d) = (load(&r[0]), load(&r[1]), load(&r[2]), load(&r[3]));
        let (ab_lo, ab_hi) = (_mm_unpacklo_epi8(a, b), _mm_unpackhi_epi8(a, b));
        let (cd_lo, cd_hi) = (_mm_unpacklo_epi8(c, d), _mm_unpackhi_epi8(c, d));
        let q = [
            _mm_unpacklo_epi16(ab_lo, cd_lo),
            _mm_unpackhi_epi16(ab_lo, cd_lo),
            _mm_unpacklo_epi16(ab_hi, cd_hi),
            _mm_unpackhi_epi16(ab_hi, cd_hi),
        ];
        for (i, q) in q.into_iter().enumerate() {
            _mm_storeu_si128(out[16 * i..16 * i + 16].as_mut_ptr().cast(), q);
        }
    }
    out
}

/// Four weights of a row from `4g` as one `i32`, zeros past its end.
#[inline(always)]
fn quad(row: &[i8], g: usize) -> i32 {
    match row.get(4 * g..4 * g + 4) {
        Some(q) => i32::from_le_bytes([q[0] as u8, q[1] as u8, q[2] as u8, q[3] as u8]),
        None => {
            let mut b = [0u8; 4];
            for (d, &w) in b.iter_mut().zip(&row[4 * g..]) {
                *d = w as u8;
            }
            i32::from_le_bytes(b)
        }
    }
}

/// One block of the product: rows `o0 .. o0 + R`, registers `v0 .. v0 +
/// NV` of the tile of `n` positions from `p0`, written to `out`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn block<L: I8Lanes, const R: usize, const NV: usize>(
    s: L,
    w: &[i8],
    k_rows: usize,
    stage: &Stage<'_>,
    packed: &[u8],
    width: usize,
    o0: usize,
    v0: usize,
    p0: usize,
    n: usize,
    positions: usize,
    out: &mut [i8],
) {
    let groups = k_rows.div_ceil(4);
    // No closures or iterator adaptors around the intrinsics here: those
    // would be compiled without the features, and call them.
    let mut rows: [&[i8]; R] = [&[]; R];
    let mut acc = [[s.splat(0); NV]; R];
    for r in 0..R {
        rows[r] = &w[(o0 + r) * k_rows..][..k_rows];
        let mut sum = 0i32;
        for &v in rows[r] {
            sum += v as i32;
        }
        // The packed bytes are x + 128: take 128·Σw back out of the bias.
        acc[r] = [s.splat(stage.bias[o0 + r].wrapping_sub(sum.wrapping_mul(128))); NV];
    }
    for g in 0..groups {
        let column = &packed[g * width * 4..][..width * 4];
        let mut xs = [s.splat(0); NV];
        for v in 0..NV {
            xs[v] = s.load(&column[(v0 + v) * L::L * 4..]);
        }
        for r in 0..R {
            let wq = quad(rows[r], g);
            for v in 0..NV {
                acc[r][v] = s.dot4(acc[r][v], xs[v], wq);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let o = o0 + r;
        let q = rq(stage, o);
        for (v, &a) in acc.iter().enumerate() {
            let start = (v0 + v) * L::L;
            if start < n {
                let len = (n - start).min(L::L);
                finish(s, a, q, stage, o, &mut out[o * positions + p0 + start..][..len]);
            }
        }
    }
}

/// The rows from `o0` in blocks of `R`, over every `NV` registers of a tile.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows_of<L: I8Lanes, const R: usize, const NV: usize>(
    s: L,
    w: &[i8],
    k_rows: usize,
    stage: &Stage<'_>,
    packed: &[u8],
    width: usize,
    o0: usize,
    p0: usize,
    n: usize,
    positions: usize,
    out: &mut [i8],
) {
    let registers = width / L::L;
    let mut v0 = 0;
    while v0 + NV <= registers {
        block::<L, R, NV>(s, w, k_rows, stage, packed, width, o0, v0, p0, n, positions, out);
        v0 += NV;
    }
    while v0 < registers {
        block::<L, R, 1>(s, w, k_rows, stage, packed, width, o0, v0, p0, n, positions, out);
        v0 += 1;
    }
}

/// The convolution as a product, in tiles of positions that fit the scratch.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn conv_in<L: I8Lanes, const NV: usize, const N: usize>(
    s: L,
    window: &Window,
    w: &[i8],
    stage: &Stage<'_>,
    input: &[i8],
    pad: i8,
    out: &mut [i8],
) {
    let mut scratch = [0u8; N];
    let k_rows = rows(window);
    let group_bytes = k_rows.div_ceil(4) * 4;
    let positions = window.out_height() * window.out_width();
    let outputs = stage.bias.len();
    let tile = (N / group_bytes / L::L * L::L).min(positions.div_ceil(L::L) * L::L);
    let mut p0 = 0;
    while p0 < positions {
        let n = tile.min(positions - p0);
        let width = n.div_ceil(L::L) * L::L;
        pack(window, input, pad, p0, n, width, &mut scratch);
        let mut o0 = 0;
        while o0 + 4 <= outputs {
            rows_of::<L, 4, NV>(s, w, k_rows, stage, &scratch, width, o0, p0, n, positions, out);
            o0 += 4;
        }
        while o0 < outputs {
            rows_of::<L, 1, NV>(s, w, k_rows, stage, &scratch, width, o0, p0, n, positions, out);
            o0 += 1;
        }
        p0 += n;
    }
}

/// The bytes of scratch a tile of one register of positions needs.
#[inline(always)]
fn conv_scratch(window: &Window, lanes: usize) -> usize {
    rows(window).div_ceil(4) * 4 * lanes * 4
}

macro_rules! conv_entry {
    ($name:ident, $lanes:ty, $nv:literal, $features:literal) => {
        #[target_feature(enable = $features)]
        unsafe fn $name(window: &Window, w: &[i8], stage: &Stage<'_>, input: &[i8], pad: i8, out: &mut [i8]) {
            // SAFETY: this function runs only where the CPU has the features.
            let s = unsafe { <$lanes>::new_unchecked() };
            let whole = conv_scratch(window, <$lanes as I8Lanes>::L)
                * (window.out_height() * window.out_width()).div_ceil(<$lanes as I8Lanes>::L);
            if whole <= 2048 {
                conv_in::<_, $nv, 2048>(s, window, w, stage, input, pad, out)
            } else if whole <= 8192 {
                conv_in::<_, $nv, 8192>(s, window, w, stage, input, pad, out)
            } else {
                conv_in::<_, $nv, LARGE>(s, window, w, stage, input, pad, out)
            }
        }
    };
}

conv_entry!(conv_avx512_vnni, Zmm<true>, 4, "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,avx512vnni");
conv_entry!(conv_avx512, Zmm<false>, 4, "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma");
conv_entry!(conv_avx2_vnni, Ymm<true>, 2, "avx2,fma,avxvnni");
conv_entry!(conv_avx2, Ymm<false>, 2, "avx2,fma");

impl<const VNNI: bool> Zmm<VNNI> {
    /// # Safety
    /// The CPU must have AVX-512 F, BW, VL, DQ, and VNNI if `VNNI`.
    #[inline(always)]
    unsafe fn new_unchecked() -> Self {
        Zmm(())
    }
}

impl<const VNNI: bool> Ymm<VNNI> {
    /// # Safety
    /// The CPU must have AVX2 and FMA, and AVX-VNNI if `VNNI`.
    #[inline(always)]
    unsafe fn new_unchecked() -> Self {
        Ymm(())
    }
}

/// The convolution `out[o][oy][ox] = finish(o, bias[o] + Σ w[o]·patch)`
/// over a `[C][H][W]` input padded with `pad`, with the variant the CPU
/// has, or `false` (touching nothing) where there is none or the layer's
/// columns do not fit the scratch.
pub(crate) fn conv(window: &Window, w: &[i8], stage: &Stage<'_>, input: &[i8], pad: i8, out: &mut [i8]) -> bool {
    match variant() {
        Some(v) => conv_with(v, window, w, stage, input, pad, out),
        None => false,
    }
}

/// [`conv`] with variant `v` (which the CPU must have).
pub(crate) fn conv_with(
    v: Variant,
    window: &Window,
    w: &[i8],
    stage: &Stage<'_>,
    input: &[i8],
    pad: i8,
    out: &mut [i8],
) -> bool {
    let lanes = if matches!(v, Variant::Avx512Vnni | Variant::Avx512) { 16 } else { 8 };
    let positions = window.out_height() * window.out_width();
    if conv_scratch(window, lanes) > LARGE || positions == 0 || stage.bias.is_empty() {
        return false;
    }
    // SAFETY: `variant` (or the caller, for `conv_with`) found the features of `v` on this CPU.
    unsafe {
        match v {
            Variant::Avx512Vnni => conv_avx512_vnni(window, w, stage, input, pad, out),
            Variant::Avx512 => conv_avx512(window, w, stage, input, pad, out),
            Variant::Avx2Vnni => conv_avx2_vnni(window, w, stage, input, pad, out),
            Variant::Avx2 => conv_avx2(window, w, stage, input, pad, out),
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Depthwise convolution in phase planes.

/// The layout of one input channel's phase planes and the flattened output.
#[derive(Clone, Copy)]
struct Phases {
    /// Width of a phase plane (and row pitch of the flattened output).
    pitch: usize,
    /// Bytes of one phase plane.
    plane: usize,
    /// Outputs in the flattened form, `oh · pitch`, in whole registers.
    registers: usize,
    /// Bytes the planes and the furthest register's loads need.
    bytes: usize,
}

#[inline(always)]
fn phases(window: &Window, lanes: usize) -> Phases {
    let (k, s, p) = (window.kernel, window.stride, window.padding);
    let (hp, wp) = (window.height + 2 * p, window.width + 2 * p);
    let (pitch, rows) = (wp.div_ceil(s), hp.div_ceil(s));
    let plane = pitch * rows;
    let registers = (window.out_height() * pitch).div_ceil(lanes);
    let last = (s * s - 1) * plane + (k - 1) / s * pitch + (k - 1) / s;
    Phases { pitch, plane, registers, bytes: (s * s * plane).max(last + registers * lanes) }
}

/// The tap `(ky, kx)`'s offset from an output's flattened index.
#[inline(always)]
fn tap(window: &Window, ph: &Phases, ky: usize, kx: usize) -> usize {
    let s = window.stride;
    ((ky % s) * s + kx % s) * ph.plane + ky / s * ph.pitch + kx / s
}

/// The most taps a depthwise kernel may have here (`K ≤ 7`).
const MAX_TAPS: usize = 49;

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_in<L: I8Lanes, const N: usize>(
    s: L,
    window: &Window,
    multiplier: usize,
    w: &[i8],
    stage: &Stage<'_>,
    pad: i8,
    input: &[i8],
    out: &mut [i8],
) {
    let ph = phases(window, L::L);
    let (k, st, p) = (window.kernel, window.stride, window.padding);
    let (oh, ow) = (window.out_height(), window.out_width());
    let plane_in = window.height * window.width;
    let taps = k * k;
    let mut offsets = [0usize; MAX_TAPS];
    for ky in 0..k {
        for kx in 0..k {
            offsets[ky * k + kx] = tap(window, &ph, ky, kx);
        }
    }
    let offsets = &offsets[..taps];
    let mut planes = [0i8; N];
    // The flattened outputs of one channel.
    let mut flat = [0i8; N];
    for c in 0..window.channels {
        // The channel's phase planes, the padding (and what lies past the
        // planes) holding the zero point.
        let buf = &mut planes[..ph.bytes];
        buf.fill(pad);
        let src = &input[c * plane_in..][..plane_in];
        for y in 0..window.height {
            let row = &src[y * window.width..][..window.width];
            let py = y + p;
            if st == 1 {
                let dst = &mut buf[py * ph.pitch + p..][..window.width];
                for x in (0..window.width).step_by(16) {
                    let n = (window.width - x).min(16);
                    s.copy16(&row[x..x + n], &mut dst[x..x + n]);
                }
            } else {
                // Column phase by column phase: consecutive bytes of a plane
                // row from every `st`-th input column (no divisions inside).
                let base = (py % st) * st * ph.plane + py / st * ph.pitch;
                for a in 0..st {
                    let x0 = (a + st - p % st) % st;
                    if x0 >= window.width {
                        continue;
                    }
                    let count = (window.width - x0).div_ceil(st);
                    let dst = &mut buf[base + a * ph.plane + (x0 + p) / st..][..count];
                    let mut x = x0;
                    for d in dst {
                        *d = row[x];
                        x += st;
                    }
                }
            }
        }
        let buf = &planes[..ph.bytes];
        for o in c * multiplier..(c + 1) * multiplier {
            let weights = &w[o * taps..][..taps];
            let mut sum = 0i32;
            for &v in weights {
                sum += v as i32;
            }
            let bias = stage.bias[o].wrapping_sub((pad as i32).wrapping_mul(sum));
            let q = rq(stage, o);
            let mut v = 0;
            while v + 4 <= ph.registers {
                depthwise_block::<L, 4>(s, buf, offsets, weights, bias, v, q, stage, o, &mut flat);
                v += 4;
            }
            while v < ph.registers {
                depthwise_block::<L, 1>(s, buf, offsets, weights, bias, v, q, stage, o, &mut flat);
                v += 1;
            }
            let plane_out = &mut out[o * oh * ow..][..oh * ow];
            for oy in 0..oh {
                let (src, dst) = (&flat[oy * ph.pitch..][..ow], &mut plane_out[oy * ow..][..ow]);
                for x in (0..ow).step_by(16) {
                    let n = (ow - x).min(16);
                    s.copy16(&src[x..x + n], &mut dst[x..x + n]);
                }
            }
        }
    }
}

/// `RB` registers of one output channel from register `v`: each tap's
/// weight broadcast once, its bytes one bounds check.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_block<L: I8Lanes, const RB: usize>(
    s: L,
    buf: &[i8],
    offsets: &[usize],
    weights: &[i8],
    bias: i32,
    v: usize,
    q: Option<Rq>,
    stage: &Stage<'_>,
    o: usize,
    flat: &mut [i8],
) {
    let base = v * L::L;
    let mut acc = [s.splat(bias); RB];
    for (&offset, &weight) in offsets.iter().zip(weights) {
        let bytes = &buf[offset + base..][..RB * L::L];
        for r in 0..RB {
            acc[r] = s.mul_add(acc[r], s.widen(&bytes[r * L::L..]), weight as i32);
        }
    }
    for r in 0..RB {
        finish(s, acc[r], q, stage, o, &mut flat[base + r * L::L..][..L::L]);
    }
}

/// The most scratch a depthwise layer may need: the planes, and the
/// flattened output, each.
const DEPTHWISE_SCRATCH: usize = 8192;

macro_rules! depthwise_entry {
    ($name:ident, $lanes:ty, $features:literal) => {
        #[target_feature(enable = $features)]
        unsafe fn $name(
            window: &Window,
            multiplier: usize,
            w: &[i8],
            stage: &Stage<'_>,
            pad: i8,
            input: &[i8],
            out: &mut [i8],
        ) {
            // SAFETY: this function runs only where the CPU has the features.
            let s = unsafe { <$lanes>::new_unchecked() };
            if phases(window, <$lanes as I8Lanes>::L).bytes <= 1024 {
                depthwise_in::<_, 1024>(s, window, multiplier, w, stage, pad, input, out)
            } else {
                depthwise_in::<_, DEPTHWISE_SCRATCH>(s, window, multiplier, w, stage, pad, input, out)
            }
        }
    };
}

depthwise_entry!(depthwise_avx512, Zmm<false>, "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma");
depthwise_entry!(depthwise_avx2, Ymm<false>, "avx2,fma");

/// The depthwise convolution: output channel `o` filters input channel
/// `o / multiplier` with the `K×K` kernel `w[o]`, padding holding `pad`
/// (the input zero point), `out[o][oy][ox] = finish(o, bias[o] + Σ w·(x −
/// pad))`; with the variant the CPU has, or `false` (touching nothing).
#[allow(clippy::too_many_arguments)]
pub(crate) fn depthwise(
    window: &Window,
    multiplier: usize,
    w: &[i8],
    stage: &Stage<'_>,
    pad: i8,
    input: &[i8],
    out: &mut [i8],
) -> bool {
    match variant() {
        Some(v) => depthwise_with(v, window, multiplier, w, stage, pad, input, out),
        None => false,
    }
}

/// [`depthwise`] with variant `v` (which the CPU must have).
#[allow(clippy::too_many_arguments)]
pub(crate) fn depthwise_with(
    v: Variant,
    window: &Window,
    multiplier: usize,
    w: &[i8],
    stage: &Stage<'_>,
    pad: i8,
    input: &[i8],
    out: &mut [i8],
) -> bool {
    let wide = matches!(v, Variant::Avx512Vnni | Variant::Avx512);
    let ph = phases(window, if wide { 16 } else { 8 });
    let (oh, ow) = (window.out_height(), window.out_width());
    if ph.bytes > DEPTHWISE_SCRATCH || oh * ow == 0 || window.kernel == 0 || window.kernel * window.kernel > MAX_TAPS {
        return false;
    }
    // SAFETY: `variant` (or the caller, for `depthwise_with`) found the features of `v`.
    unsafe {
        if wide {
            depthwise_avx512(window, multiplier, w, stage, pad, input, out)
        } else {
            depthwise_avx2(window, multiplier, w, stage, pad, input, out)
        }
    }
    true
}

// ---------------------------------------------------------------------------
// The matrix-vector product of the int8 `Dense`.

/// `acc[o] += Σᵢ w[o·n + i]·x[i]` as `int8::matvec`, sixteen products at a
/// time in 16-bit lanes (`vpmaddwd`, exact), four rows per pass; `false`
/// where the CPU has no AVX2 or the rows are short.
pub(crate) fn matvec(w: &[i8], x: &[i8], acc: &mut [i32]) -> bool {
    if variant().is_none() || x.len() < 16 {
        return false;
    }
    // SAFETY: `variant` found AVX2 (every variant has it).
    unsafe { matvec_avx2(w, x, acc) };
    true
}

#[target_feature(enable = "avx2,fma")]
unsafe fn matvec_avx2(w: &[i8], x: &[i8], acc: &mut [i32]) {
    let n = x.len();
    let rows = acc.len().min(w.len() / n);
    let full = n / 16 * 16;
    let widen = |s: &[i8]| {
        // SAFETY: AVX2 is enabled here; `&s[..16]` checked that 16 bytes are there.
        unsafe { _mm256_cvtepi8_epi16(_mm_loadu_si128(s[..16].as_ptr().cast())) }
    };
    // AVX2 is enabled here, and these take registers only.
    let total = |v: __m256i| {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    };
    let mut o = 0;
    while o < rows {
        let r = (rows - o).min(4);
        let mut sums = [_mm256_setzero_si256(); 4];
        for i in (0..full).step_by(16) {
            let xv = widen(&x[i..]);
            for (j, sum) in sums.iter_mut().enumerate().take(r) {
                *sum = _mm256_add_epi32(*sum, _mm256_madd_epi16(xv, widen(&w[(o + j) * n + i..])));
            }
        }
        for (j, &sum) in sums.iter().enumerate().take(r) {
            let row = &w[(o + j) * n..][..n];
            let tail = super::int8::dot(&row[full..], &x[full..]);
            acc[o + j] = acc[o + j].wrapping_add(total(sum).wrapping_add(tail));
        }
        o += r;
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};
    use std::vec::Vec;

    use super::*;

    /// Owned output stage for the tests.
    struct Owned {
        bias: Vec<i32>,
        multiplier: Vec<i32>,
        shift: Vec<i32>,
        zero_point: i32,
        min: i8,
        max: i8,
    }

    impl Owned {
        fn stage(&self) -> Stage<'_> {
            Stage {
                bias: &self.bias,
                multiplier: &self.multiplier,
                shift: &self.shift,
                zero_point: self.zero_point,
                min: self.min,
                max: self.max,
            }
        }
    }

    /// Awkward stages: realistic multipliers and shifts mixed with every
    /// edge the vector form must match or hand to the scalar one.
    fn random_stage(rng: &mut Xoshiro256PlusPlus, outputs: usize, wild: bool) -> Owned {
        let multiplier = (0..outputs)
            .map(|_| match rng.random_range(0..10) {
                0 if wild => i32::MIN,
                1 => i32::MAX,
                2 => 1 << 30,
                3 => 0,
                _ => rng.random_range(1 << 30..=i32::MAX),
            })
            .collect();
        let shift =
            (0..outputs).map(|_| if wild { rng.random_range(-31..=40) } else { rng.random_range(-20..=3) }).collect();
        let zero_point = match rng.random_range(0..6) {
            0 if wild => rng.random(),
            1 => -128,
            2 => 127,
            _ => rng.random_range(-128..=127),
        };
        let (mut min, mut max) = (rng.random_range(-128..=127), rng.random_range(-128..=127));
        if min > max {
            core::mem::swap(&mut min, &mut max);
        }
        if rng.random_range(0..3) == 0 {
            (min, max) = (-128, 127);
        }
        let bias = (0..outputs)
            .map(|_| if rng.random_range(0..4) == 0 { rng.random() } else { rng.random_range(-5000..5000) })
            .collect();
        Owned { bias, multiplier, shift, zero_point, min, max }
    }

    fn random_i8(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<i8> {
        let extreme = rng.random_range(0..4) == 0;
        (0..n).map(|_| if extreme { if rng.random() { -128 } else { 127 } } else { rng.random() }).collect()
    }

    /// The convolution from its definition (im2col, padding `pad`).
    fn conv_reference(window: &Window, w: &[i8], stage: &Stage<'_>, input: &[i8], pad: i8) -> Vec<i8> {
        let (oh, ow) = (window.out_height(), window.out_width());
        let k = window.kernel;
        let mut patch = std::vec![0i8; window.channels * k * k];
        let mut out = std::vec![0i8; stage.bias.len() * oh * ow];
        for oy in 0..oh {
            for ox in 0..ow {
                window.gather(input, oy, ox, pad, &mut patch);
                for o in 0..stage.bias.len() {
                    let row = &w[o * patch.len()..][..patch.len()];
                    let acc =
                        row.iter().zip(&patch).fold(stage.bias[o], |a, (&w, &x)| a.wrapping_add(w as i32 * x as i32));
                    out[(o * oh + oy) * ow + ox] = stage.finish(o, acc);
                }
            }
        }
        out
    }

    /// The depthwise convolution from its definition (padded taps skipped).
    fn depthwise_reference(window: &Window, m: usize, w: &[i8], stage: &Stage<'_>, pad: i8, input: &[i8]) -> Vec<i8> {
        let (oh, ow) = (window.out_height(), window.out_width());
        let (k, s, p) = (window.kernel, window.stride as isize, window.padding as isize);
        let (h, wd) = (window.height as isize, window.width as isize);
        let mut out = std::vec![0i8; stage.bias.len() * oh * ow];
        for o in 0..stage.bias.len() {
            let plane = &input[o / m * window.height * window.width..];
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = stage.bias[o];
                    for ky in 0..k {
                        for kx in 0..k {
                            let (y, x) = (oy as isize * s + ky as isize - p, ox as isize * s + kx as isize - p);
                            if (0..h).contains(&y) && (0..wd).contains(&x) {
                                let v = plane[(y * wd + x) as usize] as i32 - pad as i32;
                                acc = acc.wrapping_add(w[(o * k + ky) * k + kx] as i32 * v);
                            }
                        }
                    }
                    out[(o * oh + oy) * ow + ox] = stage.finish(o, acc);
                }
            }
        }
        out
    }

    #[test]
    fn conv_matches_the_definition_in_every_variant() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(16);
        let variants = variants();
        for case in 0..160 {
            let kernel = [1, 1, 1, 3, 3, 2, 5][case % 7];
            let (stride, padding) = if kernel == 1 && case % 3 != 0 {
                (1, 0)
            } else {
                (rng.random_range(1..=3), rng.random_range(0..=kernel / 2 + 1))
            };
            let channels = rng.random_range(1..=21);
            let outputs = rng.random_range(1..=13);
            let (height, width) = (rng.random_range(kernel..=kernel + 17), rng.random_range(kernel..=kernel + 19));
            let window = Window { channels, height, width, kernel, stride, padding };
            let owned = random_stage(&mut rng, outputs, case % 2 == 0);
            let stage = owned.stage();
            let w = random_i8(&mut rng, outputs * channels * kernel * kernel);
            let input = random_i8(&mut rng, channels * height * width);
            let pad: i8 = rng.random();
            let want = conv_reference(&window, &w, &stage, &input, pad);
            for &v in &variants {
                let mut got = std::vec![0i8; want.len()];
                assert!(conv_with(v, &window, &w, &stage, &input, pad, &mut got));
                assert_eq!(got, want, "{v:?} {window:?} outputs {outputs}");
            }
        }
    }

    #[test]
    fn depthwise_matches_the_definition_in_every_variant() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
        let variants = variants();
        for case in 0..120 {
            let kernel = [3, 3, 1, 2, 5][case % 5];
            let (stride, padding) = (rng.random_range(1..=3), rng.random_range(0..=kernel / 2 + 1));
            let channels = rng.random_range(1..=7);
            let m = rng.random_range(1..=3);
            let (height, width) = (rng.random_range(kernel..=kernel + 20), rng.random_range(kernel..=kernel + 20));
            let window = Window { channels, height, width, kernel, stride, padding };
            let owned = random_stage(&mut rng, channels * m, case % 2 == 0);
            let stage = owned.stage();
            let w = random_i8(&mut rng, channels * m * kernel * kernel);
            let input = random_i8(&mut rng, channels * height * width);
            let pad: i8 = rng.random();
            let want = depthwise_reference(&window, m, &w, &stage, pad, &input);
            for &v in &variants {
                let mut got = std::vec![0i8; want.len()];
                assert!(depthwise_with(v, &window, m, &w, &stage, pad, &input, &mut got));
                assert_eq!(got, want, "{v:?} {window:?} m {m}");
            }
        }
    }

    #[test]
    fn requantisation_matches_the_scalar_form_at_the_edges() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(18);
        let accs: Vec<i32> = [i32::MIN, i32::MIN + 1, -1 << 30, -65536, -3, -2, -1, 0, 1, 2, 3, 1 << 30, i32::MAX]
            .into_iter()
            .chain((0..51).map(|_| rng.random()))
            .collect();
        let variants = variants();
        for _ in 0..300 {
            let owned = random_stage(&mut rng, 1, true);
            let stage = owned.stage();
            let Some(q) = rq(&stage, 0) else { continue };
            for chunk in accs.chunks(8) {
                let mut a = [0i32; 16];
                a[..chunk.len()].copy_from_slice(chunk);
                let want: Vec<i8> = a.iter().map(|&acc| stage.finish(0, acc)).collect();
                for &v in &variants {
                    let got: Vec<i8> = match v {
                        Variant::Avx512Vnni | Variant::Avx512 => {
                            // SAFETY: `variants` found AVX-512 on this CPU.
                            let s = unsafe { Zmm::<false>::new_unchecked() };
                            // SAFETY: as above; the load reads the 16 lanes of `a`.
                            let x = unsafe { _mm512_loadu_si512(a.as_ptr().cast()) };
                            s.narrow(s.requantize(x, &q)).to_vec()
                        }
                        Variant::Avx2Vnni | Variant::Avx2 => {
                            // SAFETY: `variants` found AVX2 on this CPU.
                            let s = unsafe { Ymm::<false>::new_unchecked() };
                            // SAFETY: as above; the load reads the first 8 lanes of `a`.
                            let x = unsafe { _mm256_loadu_si256(a.as_ptr().cast()) };
                            let mut out = s.narrow(s.requantize(x, &q)).to_vec();
                            // SAFETY: as above; the load reads the last 8 lanes of `a`.
                            let x = unsafe { _mm256_loadu_si256(a[8..].as_ptr().cast()) };
                            out[8..].copy_from_slice(&s.narrow(s.requantize(x, &q))[..8]);
                            out
                        }
                    };
                    assert_eq!(got, want, "{v:?} m {} shift {}", owned.multiplier[0], owned.shift[0]);
                }
            }
        }
    }

    #[test]
    fn matvec_matches_the_portable_rows() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(19);
        let vector = super::super::dispatch::test_may_run(Isa::Avx2, "all of it");
        for n in [16, 17, 31, 32, 33, 64, 100] {
            for rows in 1..=9 {
                let w = random_i8(&mut rng, rows * n);
                let x = random_i8(&mut rng, n);
                let start: Vec<i32> = (0..rows).map(|_| rng.random()).collect();
                let (mut got, mut want) = (start.clone(), start.clone());
                // Every length here is a vector one: the leaf declines only without AVX2.
                assert_eq!(matvec(&w, &x, &mut got), vector, "n {n} rows {rows}");
                super::super::int8::matvec_portable(&w, &x, &mut want);
                if vector {
                    assert_eq!(got, want, "n {n} rows {rows}");
                }
            }
        }
    }
}
