//! The aarch64 leaf: the Advanced SIMD (NEON) registers as [`Lanes`], the
//! algorithms of `dense.rs`, `conv.rs`, `pointwise.rs` and `depthwise.rs`
//! instantiated with them, `Σ v²` in `f64` lanes, and [`Neon`], through
//! which the seam reaches all of it.
//!
//! NEON is part of the base architecture on every aarch64 target that has
//! a floating-point unit, so there is no run-time detection: the leaf is
//! compiled wherever the target enables `neon` (every aarch64 target but
//! the `-softfloat` ones). The intrinsics are `unsafe` to call outside a
//! `#[target_feature]` function even so: each call says that the target
//! has NEON and, for loads and stores, that its slice's bounds were
//! checked.
//!
//! It builds with and without `std`. Nothing in it needs the standard
//! library (the scalar fused multiply-add is a NEON instruction, not
//! `f32::mul_add`), and the stack scratch the algorithms take (16 KiB for
//! the broadcast-form GEMM and most convolutions, at most 64 KiB where a
//! convolution's phase planes need it) is what the seam's portable
//! fallbacks already take on x86-64 without `std`. An aarch64 core runs
//! applications (Linux, or bare metal with megabytes of RAM), not the
//! kilobyte stacks of the microcontrollers that keep to the plain loops.
//!
//! `TYPENET_KERNELS=portable` turns the leaf off (the seam then runs the
//! portable algorithms), as on x86-64, to compare the two on one machine.
//!
//! Results agree with the portable algorithms up to rounding (each
//! multiply-add is fused: one rounding instead of two). The tile sizes
//! are chosen by counting NEON's 32 registers, not by measurement: the
//! leaf is checked for correctness under `qemu-aarch64` (user mode) in CI,
//! and its speed has not been measured on hardware.

#![warn(clippy::undocumented_unsafe_blocks)]

use core::arch::aarch64::*;

use generic_array::ArrayLength;

use super::conv::{self, ConvShape};
use super::dense::{forward_gemm, forward_impl, grads_impl, input_grads_impl};
use super::dispatch::{Isa, Leaf, isa};
use super::lanes::Lanes;
use super::{depthwise, pointwise};
use crate::shape::{Matrix, Vector};

/// Four `f32` lanes in a 128-bit NEON register, fused multiply-add; and
/// the aarch64 leaf of the seam. NEON is baseline wherever this compiles,
/// so a value needs no proof.
#[derive(Clone, Copy)]
pub(crate) struct Neon;

// The target enables NEON (this module's `cfg`), so the intrinsics below may
// run; loads and stores go through slices whose length is checked first
// (`&s[..4]`).
impl Lanes for Neon {
    type T = f32;
    type V = float32x4_t;
    const L: usize = 4;
    /// Four rows of four: `TRN1`/`TRN2` on 32-bit pairs, then on 64-bit
    /// halves (8 shuffles).
    #[inline(always)]
    fn transpose<'a, const GS: usize>(self, row: impl Fn(usize) -> &'a [f32], dst: &mut [[f32; GS]], j0: usize) {
        let r: [float32x4_t; 4] = core::array::from_fn(|k| self.load(row(k)));
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        let [c0, c1, c2, c3] = unsafe {
            // t0 = r0₀ r1₀ r0₂ r1₂, t1 = r0₁ r1₁ r0₃ r1₃, t2 and t3 likewise for rows 2 and 3.
            let (t0, t1) = (vtrn1q_f32(r[0], r[1]), vtrn2q_f32(r[0], r[1]));
            let (t2, t3) = (vtrn1q_f32(r[2], r[3]), vtrn2q_f32(r[2], r[3]));
            // Then the 64-bit halves: column q of the four rows.
            let (t0, t1, t2, t3) = (
                vreinterpretq_f64_f32(t0),
                vreinterpretq_f64_f32(t1),
                vreinterpretq_f64_f32(t2),
                vreinterpretq_f64_f32(t3),
            );
            [vtrn1q_f64(t0, t2), vtrn1q_f64(t1, t3), vtrn2q_f64(t0, t2), vtrn2q_f64(t1, t3)]
                .map(|c| vreinterpretq_f32_f64(c))
        };
        for (t, c) in [c0, c1, c2, c3].into_iter().enumerate() {
            self.store(&mut dst[t][j0..], c);
        }
    }
    #[inline(always)]
    fn zero(self) -> float32x4_t {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        unsafe { vdupq_n_f32(0.0) }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> float32x4_t {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        unsafe { vdupq_n_f32(x) }
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> float32x4_t {
        // SAFETY: the target enables NEON; `&s[..4]` checked that 4 values are there.
        unsafe { vld1q_f32(s[..4].as_ptr()) }
    }
    #[inline(always)]
    fn store(self, s: &mut [f32], v: float32x4_t) {
        // SAFETY: the target enables NEON; `&mut s[..4]` checked that 4 values are there.
        unsafe { vst1q_f32(s[..4].as_mut_ptr(), v) }
    }
    /// One, two or three values by lane and half-register loads: nothing
    /// past `s[n - 1]` is read.
    #[inline(always)]
    fn load_part(self, s: &[f32], n: usize) -> float32x4_t {
        let s = &s[..n.min(4)];
        let p = s.as_ptr();
        // SAFETY: the target enables NEON; each arm reads the first `s.len()` values of `s`
        // only (`vld1_f32` two, a lane load one at the offset given); `p.add(2)` is within `s`
        // when it has 3 values.
        unsafe {
            match s.len() {
                0 => self.zero(),
                1 => vld1q_lane_f32::<0>(p, self.zero()),
                2 => vcombine_f32(vld1_f32(p), vdup_n_f32(0.0)),
                3 => vld1q_lane_f32::<2>(p.add(2), vcombine_f32(vld1_f32(p), vdup_n_f32(0.0))),
                _ => vld1q_f32(p),
            }
        }
    }
    /// As [`load_part`](Lanes::load_part): nothing past `s[n - 1]` is written.
    #[inline(always)]
    fn store_part(self, s: &mut [f32], n: usize, v: float32x4_t) {
        let s = &mut s[..n.min(4)];
        let p = s.as_mut_ptr();
        // SAFETY: as for `load_part`: NEON, and each arm writes the first `s.len()` values of
        // `s` only.
        unsafe {
            match s.len() {
                0 => {}
                1 => vst1q_lane_f32::<0>(p, v),
                2 => vst1_f32(p, vget_low_f32(v)),
                3 => {
                    vst1_f32(p, vget_low_f32(v));
                    vst1q_lane_f32::<2>(p.add(2), v);
                }
                _ => vst1q_f32(p, v),
            }
        }
    }
    #[inline(always)]
    fn deinterleave(self, a: float32x4_t, b: float32x4_t) -> (float32x4_t, float32x4_t) {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        unsafe { (vuzp1q_f32(a, b), vuzp2q_f32(a, b)) }
    }
    #[inline(always)]
    fn interleave(self, e: float32x4_t, o: float32x4_t) -> (float32x4_t, float32x4_t) {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        unsafe { (vzip1q_f32(e, o), vzip2q_f32(e, o)) }
    }
    #[inline(always)]
    fn madd(self, a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        unsafe { vfmaq_f32(c, a, b) }
    }
    /// Fused, as `madd` (`FMADD`): `f32::mul_add` needs `std`.
    #[inline(always)]
    fn madd1(self, a: f32, b: f32, c: f32) -> f32 {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        unsafe { vget_lane_f32::<0>(vfma_f32(vdup_n_f32(c), vdup_n_f32(a), vdup_n_f32(b))) }
    }
    #[inline(always)]
    fn hsum(self, v: float32x4_t) -> f32 {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        unsafe { vaddvq_f32(v) }
    }
    /// Pairwise adds: six `FADDP`s for eight sums, instead of eight
    /// separate reductions.
    #[inline(always)]
    fn hsum8(self, v: [float32x4_t; 8]) -> [f32; 8] {
        // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
        let (low, high) = unsafe {
            (
                vpaddq_f32(vpaddq_f32(v[0], v[1]), vpaddq_f32(v[2], v[3])),
                vpaddq_f32(vpaddq_f32(v[4], v[5]), vpaddq_f32(v[6], v[7])),
            )
        };
        let mut out = [0.0f32; 8];
        self.store(&mut out, low);
        self.store(&mut out[4..], high);
        out
    }
}

/// `Σ v²` in `f64`: four accumulators of two `f64`s, each `f32` widened
/// exactly before its fused square-and-add.
fn sum_squares_neon(values: &[f32]) -> f64 {
    // SAFETY: the target enables NEON (this module's `cfg`); registers only, no memory.
    let mut acc = [unsafe { vdupq_n_f64(0.0) }; 4];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (k, pair) in acc.chunks_exact_mut(2).enumerate() {
            let v = Neon.load(&chunk[4 * k..]);
            // SAFETY: as above.
            unsafe {
                let (low, high) = (vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v));
                pair[0] = vfmaq_f64(pair[0], low, low);
                pair[1] = vfmaq_f64(pair[1], high, high);
            }
        }
    }
    // SAFETY: as above.
    let mut total = unsafe { vaddvq_f64(vaddq_f64(vaddq_f64(acc[0], acc[1]), vaddq_f64(acc[2], acc[3]))) };
    for &v in chunks.remainder() {
        total += v as f64 * v as f64;
    }
    total
}

// ---------------------------------------------------------------------------
// The algorithms instantiated for NEON. Tile sizes count registers: NEON
// has 32 of 128 bits, twice AVX2's count at half its width, so tiles keep
// about 24 accumulators (AVX-512's budget) and leave the rest for the
// loaded and broadcast operands. None was tuned by measurement.
// ---------------------------------------------------------------------------

/// Layers with fewer inputs keep the dot-product form even for large
/// blocks: transposing the block would cost as much as the products (as
/// on AVX2, whose group is 16 samples too; not measured on NEON).
const GEMM_MIN_INPUTS: usize = 128;

/// Blocks of at least this many samples take the broadcast form of the
/// forward pass (samples across the lanes), as on AVX2.
const GEMM_MIN: usize = 8;

/// Whether the leaf runs: NEON unless `TYPENET_KERNELS=portable`.
#[inline(always)]
fn on() -> bool {
    isa() == Isa::Neon
}

/// The aarch64 leaf: every product and convolution in NEON registers,
/// `Σ v²` in `f64` lanes; softmax cross-entropy declines (the portable one
/// runs). Each method declines too when [`isa`] says `Portable`.
impl Leaf for Neon {
    /// Broadcast form: 6 outputs × 4 registers (16 samples) = 24
    /// accumulators, plus 4 loaded and 1 broadcast. Dot form: 4 samples ×
    /// 4 outputs = 16 accumulators plus 8 loaded (one sample: 8 outputs),
    /// tiles of a multiple of 8 sums, which `hsum8` reduces together.
    #[inline(always)]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) -> bool {
        if !on() {
            return false;
        }
        if xs.len() >= GEMM_MIN && I::USIZE >= GEMM_MIN_INPUTS {
            forward_gemm::<_, 6, 4, 16, I, O>(Neon, w, bias, xs, ys);
        } else {
            forward_impl::<_, 4, 4, 8, I, O>(Neon, w, bias, xs, ys);
        }
        true
    }
    /// 6 rows × 4 registers (16 columns) = 24 accumulators, plus 4 loaded
    /// inputs and 1 broadcast.
    #[inline(always)]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) -> bool {
        if !on() {
            return false;
        }
        grads_impl::<_, 6, 4, I, O>(Neon, gw, gb, xs, dys);
        true
    }
    /// 4 samples × 4 registers = 16 accumulators, plus 4 loaded weights and
    /// 1 broadcast (samples beyond a multiple of 4 run one at a time, so a
    /// tile of 4 leaves fewer of them than one of 6).
    #[inline(always)]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) -> bool {
        if !on() {
            return false;
        }
        input_grads_impl::<_, 4, 4, I, O>(Neon, w, dys, dxs);
        true
    }
    /// Wide rows: 4 output channels × 5 registers = 20 accumulators, plus
    /// 5 loaded and 1 broadcast (channels beyond a multiple of 4 run one at
    /// a time).
    #[inline(always)]
    fn conv_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        on() && conv::forward_wide::<G, _, 4, 5>(Neon, w, bias, xs, ys)
    }
    /// `dW` in tiles of 4 output channels × 4 kernel offsets (16
    /// accumulators, 8 loaded); `dx` in tiles of 4 input channels × 5
    /// registers (20, as the forward pass).
    #[inline(always)]
    fn conv_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        on() && conv::backward_wide::<G, _, 4, 4, 4, 5>(Neon, w, xs, dys, gw, gb, dxs)
    }
    /// As the wide rows: 4 output channels × 5 registers.
    #[inline(always)]
    fn pointwise_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        on() && pointwise::forward::<G, _, 4, 5>(Neon, w, bias, xs, ys)
    }
    /// `dx` as the forward pass (4 × 5); `dW` in tiles of 4 output × 4
    /// input channels (16 accumulators, 8 loaded).
    #[inline(always)]
    fn pointwise_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        on() && pointwise::backward::<G, _, 4, 5, 4, 4>(Neon, w, xs, dys, gw, gb, dxs)
    }
    /// 8 registers of positions in flight (8 accumulators, 8 loaded, the
    /// broadcast weight), as AVX-512 runs.
    #[inline(always)]
    fn depthwise_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        on() && depthwise::forward::<G, _, 8>(Neon, w, bias, xs, ys)
    }
    /// 8 registers of positions for `dx`; `dW` with all nine offsets of a
    /// 3×3 kernel in accumulators, as on x86.
    #[inline(always)]
    fn depthwise_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        on() && depthwise::backward::<G, _, 8, 9>(Neon, w, xs, dys, gw, gb, dxs)
    }
    #[inline(always)]
    fn sum_squares(values: &[f32]) -> Option<f64> {
        on().then(|| sum_squares_neon(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::dense::tests::{matches_the_reference, products};
    use crate::kernel::dispatch::test_may_run;
    use crate::kernel::lanes::checks::{interleave_round_trip, partial_loads_and_stores_stop_at_n};
    use std::vec::Vec;

    /// The NEON products, called directly (the seam's are checked by
    /// `dense.rs`'s own test, which reaches them through `Best`).
    struct OnNeon;

    products! {
        OnNeon, "neon";
        forward(w, bias, xs, ys) => assert!(Neon::dense_forward(w, bias, xs, ys));
        grads(gw, gb, xs, dys) => assert!(Neon::dense_grads(gw, gb, xs, dys));
        input_grads(w, dys, dxs) => assert!(Neon::dense_input_grads(w, dys, dxs));
    }

    /// Both forms of the forward pass (the sizes reach the broadcast form
    /// from 300 inputs and 9 samples), both gradients.
    #[test]
    fn neon_matches_the_reference() {
        if test_may_run(Isa::Neon, "the NEON products") {
            matches_the_reference(&OnNeon);
        }
    }

    #[test]
    fn sum_squares_neon_matches_a_plain_sum() {
        for len in [0, 5, 8, 37, 100, 1000] {
            let v: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 3.0).collect();
            let plain: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
            assert!((sum_squares_neon(&v) - plain).abs() <= 1e-9 * plain, "{len}");
        }
    }

    /// The register operations against the portable lanes' definitions.
    #[test]
    fn madd_and_sums_are_the_portable_ones_fused() {
        let s = Neon;
        let (a, b, c) = ([1.5f32, -2.0, 3.25, 1e-3], [4.0f32, 0.5, -1.0, 3.0], [0.1f32, 0.2, 0.3, 0.4]);
        let mut out = [0.0f32; 4];
        s.store(&mut out, s.madd(s.load(&a), s.load(&b), s.load(&c)));
        for l in 0..4 {
            assert_eq!(out[l], a[l].mul_add(b[l], c[l]), "madd lane {l}");
            assert_eq!(s.madd1(a[l], b[l], c[l]), a[l].mul_add(b[l], c[l]), "madd1 lane {l}");
        }
        // One rounding: (1 + 2⁻¹²)² − 1 keeps the 2⁻²⁴ term that a rounded product loses.
        let e = 1.0 + 1.0 / 4096.0f32;
        assert_eq!(s.madd1(e, e, -1.0), e.mul_add(e, -1.0));
        assert_ne!(s.madd1(e, e, -1.0), e * e - 1.0);
        let v: [[f32; 4]; 8] = core::array::from_fn(|k| core::array::from_fn(|l| (k * 4 + l) as f32 * 0.25));
        let sums = s.hsum8(v.map(|v| s.load(&v)));
        for (k, v) in v.iter().enumerate() {
            assert_eq!(s.hsum(s.load(v)), v.iter().sum::<f32>(), "hsum {k}");
            assert_eq!(sums[k], v.iter().sum::<f32>(), "hsum8 {k}");
        }
    }

    /// A 4×4 block lands transposed at column `j0`, the rest untouched.
    #[test]
    fn transpose_moves_a_block() {
        let rows: Vec<Vec<f32>> = (0..4).map(|r| (0..6).map(|t| (10 * r + t) as f32).collect()).collect();
        for j0 in [0, 3] {
            let mut dst = [[-1.0f32; 8]; 5];
            Neon.transpose(|r| &rows[r][..], &mut dst, j0);
            for (t, d) in dst.iter().enumerate() {
                for (j, &v) in d.iter().enumerate() {
                    let want = if t < 4 && (j0..j0 + 4).contains(&j) { (10 * (j - j0) + t) as f32 } else { -1.0 };
                    assert_eq!(v, want, "j0 {j0}: dst[{t}][{j}]");
                }
            }
        }
    }

    /// The shuffles and the partial loads and stores against their
    /// definitions.
    #[test]
    fn lanes_pass_the_checks() {
        interleave_round_trip(Neon, "neon");
        partial_loads_and_stores_stop_at_n(Neon, "neon");
    }

    /// The depthwise kernels against the definition, on every test shape.
    mod depthwise_variants {
        use super::super::*;
        use crate::kernel::depthwise::tests::*;
        use crate::kernel::dispatch::test_may_run;
        use std::vec::Vec;

        fn neon<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(G::DIMS, w, b, xs, dys, Neon::depthwise_forward::<G>, Neon::depthwise_backward::<G>)
        }

        #[test]
        fn neon_agrees_with_the_definition() {
            if !test_may_run(Isa::Neon, "all of it") {
                return;
            }
            each_shape!(neon, F32_TOLERANCE, "neon");
        }
    }

    /// The convolution kernels against the definition, on every test shape
    /// and ResNet-8's sizes, cut into chunks to fit the scratch.
    mod conv_variants {
        use super::super::*;
        use crate::kernel::conv::tests::*;
        use crate::kernel::depthwise::tests::{F32_TOLERANCE, run};
        use crate::kernel::dispatch::test_may_run;
        use std::vec::Vec;

        fn neon<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(G::DIMS, w, b, xs, dys, Neon::conv_forward::<G>, Neon::conv_backward::<G>)
        }

        #[test]
        fn neon_agrees_with_the_definition() {
            if !test_may_run(Isa::Neon, "all of it") {
                return;
            }
            each_shape!(neon, F32_TOLERANCE, "neon");
            agrees::<Res28>(31, 3, &neon::<Res28>, F32_TOLERANCE, "neon");
            agrees::<Res28S2>(32, 3, &neon::<Res28S2>, F32_TOLERANCE, "neon");
            agrees::<Res14S2>(33, 9, &neon::<Res14S2>, F32_TOLERANCE, "neon");
        }
    }

    /// The pointwise kernels against the general convolution, on every
    /// test shape.
    mod pointwise_variants {
        use super::super::*;
        use crate::kernel::depthwise::tests::{F32_TOLERANCE, run};
        use crate::kernel::dispatch::test_may_run;
        use crate::kernel::pointwise::tests::*;
        use std::vec::Vec;

        fn neon<G: ConvShape>(w: &[f64], b: &[f64], xs: &[&[f64]], dys: &[&[f64]]) -> [Vec<f64>; 6] {
            run::<f32>(G::DIMS, w, b, xs, dys, Neon::pointwise_forward::<G>, Neon::pointwise_backward::<G>)
        }

        #[test]
        fn neon_agrees_with_the_general_convolution() {
            if !test_may_run(Isa::Neon, "all of it") {
                return;
            }
            each_shape!(neon, F32_TOLERANCE, "neon");
        }
    }
}
