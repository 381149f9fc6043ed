//! Initialisation: drawing a network's first parameters, seeded and
//! reproducible.
//!
//! ```
//! use typenet::prelude::*;
//!
//! type Mlp = net![Dense<U64, U32>, Relu, Dense<U32, U10>];
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
//!
//! let mut mlp = Mlp::default();
//! mlp.init(&mut rng); // each layer's default: PyTorch's
//! mlp.init_with(HeNormal, &mut rng); // or one scheme for every weight
//!
//! // The same seed gives the same bits.
//! let (mut a, mut b) = (Mlp::default(), Mlp::default());
//! a.init(&mut Xoshiro256PlusPlus::seed_from_u64(7));
//! b.init(&mut Xoshiro256PlusPlus::seed_from_u64(7));
//! assert!(a == b);
//! ```
//!
//! # Schemes
//!
//! For a weight with `fan_in` inputs and `fan_out` outputs per unit (for a
//! convolution, both multiplied by the kernel area):
//!
//! | scheme | weights drawn from | biases |
//! | --- | --- | --- |
//! | [`PyTorch`] | U(−1/√fan_in, 1/√fan_in), PyTorch's default for `Linear` and `Conv` (`kaiming_uniform_(a=√5)`) | the same |
//! | [`SmallRandom`] | N(0, 1) × 0.01, the classic course's `np.random.randn(n, m) * 0.01` | zero |
//! | [`XavierUniform`] | U(−a, a), a = √(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010) | zero |
//! | [`XavierNormal`] | N(0, 2 / (fan_in + fan_out)) | zero |
//! | [`HeUniform`] | U(−a, a), a = √(6 / fan_in) (He et al., 2015) | zero |
//! | [`HeNormal`] | N(0, 2 / fan_in) | zero |
//! | [`LecunNormal`] | N(0, 1 / fan_in) | zero |
//! | [`Zeros`] | 0 | zero |
//!
//! Each scheme is a type, so a firmware links only the arithmetic of the
//! one it uses; [`Init`] names them all for a choice made at run time.
//! Recurrent layers follow PyTorch by default too: every parameter from
//! U(−1/√hidden, 1/√hidden).
//!
//! Draws are made in the model's scalar: uniform draws map 24 random bits
//! (`f32`) or 53 (`f64`) to `[0, 1)`; normal draws use the Box–Muller
//! transform on two uniform draws, with `libm`'s logarithm, sine and cosine.
//! With a value-stable generator such as
//! [`Xoshiro256PlusPlus`](rand::rngs::Xoshiro256PlusPlus) the weights are
//! the same on every platform. (Up to this version, `f32` weights were
//! drawn in `f64` and rounded: the same seed now gives other `f32` weights,
//! and no `f64` arithmetic on a device without a double-precision FPU.)

use rand::Rng;

use crate::scalar::Scalar;

/// A way to draw a layer's first weights and biases. Each scheme is a
/// type ([`PyTorch`], [`HeNormal`], …), so a firmware links only the one it
/// names (the uniform ones need a square root; the normal ones add a
/// logarithm, a sine and a cosine); [`Init`] chooses among them at run
/// time.
pub trait Scheme: Copy {
    /// Fills a weight tensor whose units have `fan_in` inputs and `fan_out`
    /// outputs.
    fn fill_weight<T: Scalar, R: Rng + ?Sized>(self, w: &mut [T], fan_in: usize, fan_out: usize, rng: &mut R);

    /// Fills a bias tensor of units with `fan_in` inputs: zeros, but for
    /// [`PyTorch`]'s uniform.
    fn fill_bias<T: Scalar, R: Rng + ?Sized>(self, b: &mut [T], fan_in: usize, rng: &mut R) {
        let _ = (fan_in, rng);
        b.fill(T::zero());
    }

    /// Whether this is PyTorch's default (recurrent layers then draw every
    /// parameter from U(−1/√hidden, 1/√hidden), as PyTorch does).
    fn is_pytorch(self) -> bool {
        false
    }
}

/// `√(numerator / fan)` in `T`, the scale of most schemes.
#[inline]
fn scale<T: Scalar>(numerator: usize, fan: usize) -> T {
    T::square_root(T::from_usize(numerator) / T::from_usize(fan.max(1)))
}

macro_rules! schemes {
    ($($(#[$doc:meta])* $name:ident: |$fan_in:ident, $fan_out:ident| $fill:ident($numerator:expr, $fan:expr);)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl Scheme for $name {
            #[inline]
            fn fill_weight<T: Scalar, R: Rng + ?Sized>(self, w: &mut [T], $fan_in: usize, $fan_out: usize, rng: &mut R) {
                $fill(w, scale::<T>($numerator, $fan), rng);
            }
        }
    )*};
}

schemes! {
    /// Glorot/Xavier uniform, U(−a, a) with a = √(6 / (fan_in + fan_out)),
    /// biases zero: for tanh and sigmoid networks.
    XavierUniform: |fan_in, fan_out| fill_uniform(6, fan_in + fan_out);
    /// Glorot/Xavier normal, N(0, 2 / (fan_in + fan_out)), biases zero.
    XavierNormal: |fan_in, fan_out| fill_normal(2, fan_in + fan_out);
    /// He/Kaiming uniform, U(−a, a) with a = √(6 / fan_in), biases zero:
    /// for ReLU networks.
    HeUniform: |fan_in, _fan_out| fill_uniform(6, fan_in);
    /// He/Kaiming normal, N(0, 2 / fan_in), biases zero.
    HeNormal: |fan_in, _fan_out| fill_normal(2, fan_in);
    /// LeCun normal, N(0, 1 / fan_in), biases zero: for SELU-style
    /// self-normalising networks.
    LecunNormal: |fan_in, _fan_out| fill_normal(1, fan_in);
}

/// `1/√fan_in`, PyTorch's bound (and that of recurrent layers, with the
/// hidden size for `fan_in`).
#[inline]
pub(crate) fn pytorch_bound<T: Scalar>(fan_in: usize) -> T {
    T::one() / T::square_root(T::from_usize(fan_in.max(1)))
}

/// PyTorch's default: U(−1/√fan_in, 1/√fan_in) for weights and biases
/// (`kaiming_uniform_(a=√5)` for `Linear` and `Conv`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PyTorch;

impl Scheme for PyTorch {
    #[inline]
    fn fill_weight<T: Scalar, R: Rng + ?Sized>(self, w: &mut [T], fan_in: usize, _: usize, rng: &mut R) {
        fill_uniform(w, pytorch_bound(fan_in), rng);
    }
    #[inline]
    fn fill_bias<T: Scalar, R: Rng + ?Sized>(self, b: &mut [T], fan_in: usize, rng: &mut R) {
        fill_uniform(b, pytorch_bound(fan_in), rng);
    }
    fn is_pytorch(self) -> bool {
        true
    }
}

/// N(0, 1) × 0.01, biases zero: the classic tutorial's choice
/// (`np.random.randn(n, m) * 0.01`), which makes deep networks' signals
/// vanish.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmallRandom;

impl Scheme for SmallRandom {
    #[inline]
    fn fill_weight<T: Scalar, R: Rng + ?Sized>(self, w: &mut [T], _: usize, _: usize, rng: &mut R) {
        fill_normal(w, T::from_f64(0.01), rng);
    }
}

/// All zeros.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Zeros;

impl Scheme for Zeros {
    #[inline]
    fn fill_weight<T: Scalar, R: Rng + ?Sized>(self, w: &mut [T], _: usize, _: usize, _: &mut R) {
        w.fill(T::zero());
    }
}

/// A scheme chosen at run time (a study over schemes, a setting read from
/// a file): each variant is the scheme type of the same name. See the
/// [module docs](self) for the formulas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Init {
    /// [`PyTorch`]'s default.
    #[default]
    PyTorch,
    /// [`SmallRandom`].
    SmallRandom,
    /// [`XavierUniform`].
    XavierUniform,
    /// [`XavierNormal`].
    XavierNormal,
    /// [`HeUniform`].
    HeUniform,
    /// [`HeNormal`].
    HeNormal,
    /// [`LecunNormal`].
    LecunNormal,
    /// [`Zeros`].
    Zeros,
}

impl Scheme for Init {
    fn fill_weight<T: Scalar, R: Rng + ?Sized>(self, w: &mut [T], fan_in: usize, fan_out: usize, rng: &mut R) {
        match self {
            Init::PyTorch => PyTorch.fill_weight(w, fan_in, fan_out, rng),
            Init::SmallRandom => SmallRandom.fill_weight(w, fan_in, fan_out, rng),
            Init::XavierUniform => XavierUniform.fill_weight(w, fan_in, fan_out, rng),
            Init::XavierNormal => XavierNormal.fill_weight(w, fan_in, fan_out, rng),
            Init::HeUniform => HeUniform.fill_weight(w, fan_in, fan_out, rng),
            Init::HeNormal => HeNormal.fill_weight(w, fan_in, fan_out, rng),
            Init::LecunNormal => LecunNormal.fill_weight(w, fan_in, fan_out, rng),
            Init::Zeros => Zeros.fill_weight(w, fan_in, fan_out, rng),
        }
    }
    fn fill_bias<T: Scalar, R: Rng + ?Sized>(self, b: &mut [T], fan_in: usize, rng: &mut R) {
        match self {
            Init::PyTorch => PyTorch.fill_bias(b, fan_in, rng),
            _ => b.fill(T::zero()),
        }
    }
    fn is_pytorch(self) -> bool {
        self == Init::PyTorch
    }
}

/// Fills `values` from U(−bound, bound), in `T`: each draw is
/// `(2u − 1)·bound` with `u` uniform in `[0, 1)` at `T`'s precision.
pub fn fill_uniform<T: Scalar, R: Rng + ?Sized>(values: &mut [T], bound: T, rng: &mut R) {
    let two = T::one() + T::one();
    for v in values {
        *v = (T::draw_unit(rng) * two - T::one()) * bound;
    }
}

/// Fills `values` from N(0, std²) by the Box–Muller transform, in `T`
/// (with `libm`'s logarithm, sine and cosine: the same bits everywhere).
pub fn fill_normal<T: Scalar, R: Rng + ?Sized>(values: &mut [T], std: T, rng: &mut R) {
    let two = T::one() + T::one();
    let tau = T::from_f64(2.0 * core::f64::consts::PI);
    let mut pairs = values.chunks_mut(2);
    for pair in &mut pairs {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        let (u1, u2) = (T::one() - T::draw_unit(rng), T::draw_unit(rng));
        let radius = T::square_root(-two * u1.ln_portable()) * std;
        let (sin, cos) = (tau * u2).sin_cos_portable();
        pair[0] = radius * cos;
        if let Some(second) = pair.get_mut(1) {
            *second = radius * sin;
        }
    }
}

/// Drawing a layer's or a network's initial parameters.
///
/// Parameterless layers do nothing; a chain initialises each layer in turn,
/// so one generator seeds the whole network.
pub trait Initialize {
    /// Draws every parameter with the layer's default scheme (PyTorch's).
    fn init<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.init_with(PyTorch, rng);
    }

    /// Draws every parameter with `scheme` (a [`Scheme`] type such as
    /// [`HeNormal`], or an [`Init`] chosen at run time).
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R);
}

impl<A: Initialize> Initialize for (A,) {
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        self.0.init_with(scheme, rng);
    }
}

impl<A: Initialize, Rest: Initialize> Initialize for (A, Rest) {
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        self.0.init_with(scheme, rng);
        self.1.init_with(scheme, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn moments(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        (mean, values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n)
    }

    #[test]
    fn schemes_have_the_stated_spread() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut w = [0.0f64; 20_000];
        let (fan_in, fan_out) = (100, 50);
        let cases = [
            (Init::PyTorch, 1.0f64 / (3.0 * 100.0)),
            (Init::SmallRandom, 1e-4),
            (Init::XavierUniform, 2.0 / 150.0),
            (Init::XavierNormal, 2.0 / 150.0),
            (Init::HeUniform, 2.0 / 100.0),
            (Init::HeNormal, 2.0 / 100.0),
            (Init::LecunNormal, 1.0 / 100.0),
        ];
        for (scheme, variance) in cases {
            scheme.fill_weight(&mut w, fan_in, fan_out, &mut rng);
            let (mean, var) = moments(&w);
            assert!(mean.abs() < 0.03 * variance.sqrt(), "{scheme:?}: mean {mean}");
            assert!((var / variance - 1.0).abs() < 0.03, "{scheme:?}: variance {var}, want {variance}");
        }
        Init::Zeros.fill_weight(&mut w, fan_in, fan_out, &mut rng);
        assert!(w.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn uniform_schemes_stay_within_their_bound() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
        let mut w = [0.0f32; 5000];
        Init::HeUniform.fill_weight(&mut w, 24, 8, &mut rng);
        let bound = (6.0f32 / 24.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= bound));
        assert!(w.iter().any(|v| v.abs() > 0.99 * bound));
    }

    #[test]
    fn biases_are_zero_except_for_pytorch() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let mut b = [1.0f32; 16];
        Init::HeNormal.fill_bias(&mut b, 4, &mut rng);
        assert!(b.iter().all(|&v| v == 0.0));
        Init::PyTorch.fill_bias(&mut b, 4, &mut rng);
        assert!(b.iter().all(|&v| v.abs() <= 0.5) && b.iter().any(|&v| v != 0.0));
    }

    /// Value stability: these bits must never change, or every seeded
    /// result users have recorded changes with them.
    #[test]
    fn seeded_draws_are_value_stable() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
        let mut net = <net![Dense<U2, U2>, Relu, Dense<U2, U1>]>::default();
        net.init(&mut rng);
        let mut bits = [0u32; 9];
        let mut k = 0;
        net.visit(&mut |t| {
            for v in t {
                bits[k] = v.to_bits();
                k += 1;
            }
        });
        assert_eq!(bits, VALUE_STABLE_BITS);

        let mut w = [0.0f64; 3];
        fill_normal(&mut w, 1.0, &mut Xoshiro256PlusPlus::seed_from_u64(2026));
        assert_eq!(w.map(f64::to_bits), VALUE_STABLE_NORMAL);
    }

    const VALUE_STABLE_BITS: [u32; 9] =
        [3184749949, 1042626569, 1050720075, 1057215231, 3207206199, 1058427406, 1054838817, 1058046387, 1055594748];
    const VALUE_STABLE_NORMAL: [u64; 3] = [13828713410615111320, 13827792556687710411, 4607413971476730849];
}
