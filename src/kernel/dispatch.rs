//! Which instruction set the kernels run with: the run-time choice on
//! x86-64 and aarch64 ([`isa`], with the `TYPENET_KERNELS` override), what a leaf
//! offers the seam ([`Leaf`]), and the one line per instruction set that
//! picks this build's leaf ([`Best`]).

use generic_array::ArrayLength;

use super::conv::ConvShape;
use crate::shape::{Matrix, Vector};

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
    /// NEON (Advanced SIMD), baseline on aarch64.
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    Neon,
}

/// The instruction set the kernels use: the best this CPU has, or less if
/// the environment variable `TYPENET_KERNELS` says `portable` (or, on
/// x86-64, `avx2`) when the process first asks (to compare the variants,
/// or to get the portable variant's bits on every machine). Decided once,
/// then one relaxed atomic load per call. On aarch64 NEON is baseline, so
/// only the variable decides (and without `std`, which has no
/// environment, NEON it is).
#[inline]
pub(crate) fn isa() -> Isa {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return match decided_once(|| {
        use std::is_x86_feature_detected as has;
        let mut code = 1;
        if has!("fma") && has!("avx2") {
            code = 2;
            if has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq") {
                code = 3;
            }
        }
        match std::env::var("TYPENET_KERNELS").as_deref() {
            Ok("portable") => 1,
            Ok("avx2") => code.min(2),
            _ => code,
        }
    }) {
        1 => Isa::Portable,
        2 => Isa::Avx2,
        _ => Isa::Avx512,
    };
    #[cfg(all(feature = "std", target_arch = "aarch64", target_feature = "neon"))]
    return match decided_once(|| if std::env::var("TYPENET_KERNELS").as_deref() == Ok("portable") { 1 } else { 2 }) {
        1 => Isa::Portable,
        _ => Isa::Neon,
    };
    #[cfg(all(not(feature = "std"), target_arch = "aarch64", target_feature = "neon"))]
    return Isa::Neon;
    #[allow(unreachable_code)]
    Isa::Portable
}

/// `decide()`'s code (never 0) the first time, then the same code: one
/// relaxed atomic load per call. [`isa`]'s cache on every architecture
/// that decides at run time.
#[cfg(all(feature = "std", any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon"))))]
#[inline]
fn decided_once(decide: impl FnOnce() -> u8) -> u8 {
    use core::sync::atomic::{AtomicU8, Ordering};
    static CHOSEN: AtomicU8 = AtomicU8::new(0);
    match CHOSEN.load(Ordering::Relaxed) {
        0 => {
            let code = decide();
            CHOSEN.store(code, Ordering::Relaxed);
            code
        }
        code => code,
    }
}

/// What an instruction-set leaf offers the `f32` kernels of the seam. Each
/// method runs the leaf's variant and returns `true` (or `Some`), or
/// returns `false` (`None`), touching nothing, where the leaf has no
/// variant for the call (the CPU lacks the features, or the shape does not
/// suit it); the seam then runs the portable algorithm. The defaults
/// decline everything.
pub(crate) trait Leaf {
    /// `ys[b] = W·xs[b] + bias`, as `Kernels::dense_forward`.
    #[inline(always)]
    fn dense_forward<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        bias: &Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        ys: &mut [&mut Vector<f32, O>],
    ) -> bool {
        let _ = (w, bias, xs, ys);
        false
    }
    /// `gw += Σ_b dys[b]·xs[b]ᵀ`, `gb += Σ_b dys[b]`, as `Kernels::dense_grads`.
    #[inline(always)]
    fn dense_grads<I: ArrayLength, O: ArrayLength>(
        gw: &mut Matrix<f32, O, I>,
        gb: &mut Vector<f32, O>,
        xs: &[&Vector<f32, I>],
        dys: &[&Vector<f32, O>],
    ) -> bool {
        let _ = (gw, gb, xs, dys);
        false
    }
    /// `dxs[b] = Wᵀ·dys[b]`, as `Kernels::dense_input_grads`.
    #[inline(always)]
    fn dense_input_grads<I: ArrayLength, O: ArrayLength>(
        w: &Matrix<f32, O, I>,
        dys: &[&Vector<f32, O>],
        dxs: &mut [&mut Vector<f32, I>],
    ) -> bool {
        let _ = (w, dys, dxs);
        false
    }
    /// The convolution forward, as `Kernels::conv_forward`.
    #[inline(always)]
    fn conv_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        let _ = (w, bias, xs, ys);
        false
    }
    /// The convolution backward, as `Kernels::conv_backward`.
    #[inline(always)]
    fn conv_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        let _ = (w, xs, dys, gw, gb, dxs);
        false
    }
    /// The pointwise (1×1) convolution forward, as `Kernels::conv_forward`
    /// for a convolution `pointwise::applies` to.
    #[inline(always)]
    fn pointwise_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        let _ = (w, bias, xs, ys);
        false
    }
    /// The pointwise (1×1) convolution backward, as `Kernels::conv_backward`.
    #[inline(always)]
    fn pointwise_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        let _ = (w, xs, dys, gw, gb, dxs);
        false
    }
    /// The depthwise convolution forward, as `Kernels::depthwise_forward`.
    #[inline(always)]
    fn depthwise_forward<G: ConvShape>(w: &[f32], bias: &[f32], xs: &[&[f32]], ys: &mut [&mut [f32]]) -> bool {
        let _ = (w, bias, xs, ys);
        false
    }
    /// The depthwise convolution backward, as `Kernels::depthwise_backward`.
    #[inline(always)]
    fn depthwise_backward<G: ConvShape>(
        w: &[f32],
        xs: &[&[f32]],
        dys: &[&[f32]],
        gw: &mut [f32],
        gb: &mut [f32],
        dxs: Option<&mut [&mut [f32]]>,
    ) -> bool {
        let _ = (w, xs, dys, gw, gb, dxs);
        false
    }
    /// `Σ v²` in `f64`.
    #[inline(always)]
    fn sum_squares(values: &[f32]) -> Option<f64> {
        let _ = values;
        None
    }
    /// Softmax cross-entropy, as `Kernels::softmax_xent`.
    #[inline(always)]
    fn softmax_xent(x: &[f32], class: usize, grad: &mut [f32]) -> Option<f32> {
        let _ = (x, class, grad);
        None
    }
    /// Runs `f` inlined into a copy built with the leaf's features.
    #[inline(always)]
    fn run<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// No leaf: every call takes the portable algorithms.
#[cfg_attr(
    any(
        all(feature = "std", target_arch = "x86_64"),
        all(target_arch = "aarch64", target_feature = "neon"),
        typenet_arm_fpu
    ),
    allow(dead_code)
)]
pub(crate) struct NoLeaf;

impl Leaf for NoLeaf {}

/// The leaf this build uses: one line per instruction set.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) type Best = super::x86::X86;
/// The leaf this build uses: one line per instruction set.
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
pub(crate) type Best = super::neon::Neon;
/// The leaf this build uses: one line per instruction set.
#[cfg(typenet_arm_fpu)]
pub(crate) type Best = super::cortex_m::CortexM;
/// The leaf this build uses: none.
#[cfg(not(any(
    all(feature = "std", target_arch = "x86_64"),
    all(target_arch = "aarch64", target_feature = "neon"),
    typenet_arm_fpu
)))]
pub(crate) type Best = NoLeaf;

/// Runs `f` compiled for the best instruction set the CPU has: the leaf's
/// `run` inlines `f` into a function built with those features, so the
/// element-wise loops in it use the wide registers. Kernels called inside
/// still choose their own variant.
#[inline]
pub(crate) fn with_best_isa<R>(f: impl FnOnce() -> R) -> R {
    Best::run(f)
}

/// Whether a test may run the variants of instruction set `needed`: this
/// CPU has it and `TYPENET_KERNELS` allows it. If not, says so on stderr
/// ([`report_skipped`]), so that a run on a CPU without it (or with
/// `TYPENET_KERNELS=avx2`) shows what it did not check.
#[cfg(all(
    test,
    any(all(feature = "std", target_arch = "x86_64"), all(target_arch = "aarch64", target_feature = "neon"))
))]
pub(crate) fn test_may_run(needed: Isa, what: &str) -> bool {
    let rank = |isa| match isa {
        Isa::Portable => 0,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => 1,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => 2,
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => 1,
    };
    let may = rank(isa()) >= rank(needed);
    if !may {
        let name = match needed {
            Isa::Portable => "nothing",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => "AVX2 and FMA",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => "AVX-512",
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => "NEON",
        };
        report_skipped(what, name, cpu_has(needed));
    }
    may
}

/// Whether this CPU has instruction set `isa`, whatever `TYPENET_KERNELS` says.
#[cfg(all(
    test,
    any(all(feature = "std", target_arch = "x86_64"), all(target_arch = "aarch64", target_feature = "neon"))
))]
pub(crate) fn cpu_has(isa: Isa) -> bool {
    #[cfg(target_arch = "x86_64")]
    use std::is_x86_feature_detected as has;
    match isa {
        Isa::Portable => true,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => has!("avx2") && has!("fma"),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            cpu_has(Isa::Avx2) && has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq")
        }
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => true,
    }
}

/// Says on stderr that the running test left out `what` for want of
/// `needs`: one line starting `skipped (`, with the reason (`cpu_has`
/// false: the CPU lacks it; true: `TYPENET_KERNELS` ruled it out) and the
/// test's name. `cargo test -- --nocapture` prints the lines; `.ci/run`
/// counts them.
#[cfg(all(
    test,
    any(all(feature = "std", target_arch = "x86_64"), all(target_arch = "aarch64", target_feature = "neon"))
))]
pub(crate) fn report_skipped(what: &str, needs: &str, cpu_has: bool) {
    let test = std::thread::current().name().map_or_else(|| "a test".into(), std::string::String::from);
    let why = match std::env::var("TYPENET_KERNELS") {
        Ok(kernels) if cpu_has => std::format!("TYPENET_KERNELS={kernels}"),
        _ => "this CPU lacks it".into(),
    };
    std::eprintln!("skipped (needs {needs}; {why}): {test}: {what}");
}
