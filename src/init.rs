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
//! mlp.init_with(Init::HeNormal, &mut rng); // or one scheme for every weight
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
//! | [`Init::PyTorch`] | U(−1/√fan_in, 1/√fan_in), PyTorch's default for `Linear` and `Conv` (`kaiming_uniform_(a=√5)`) | the same |
//! | [`Init::SmallRandom`] | N(0, 1) × 0.01, the classic course's `np.random.randn(n, m) * 0.01` | zero |
//! | [`Init::XavierUniform`] | U(−a, a), a = √(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010) | zero |
//! | [`Init::XavierNormal`] | N(0, 2 / (fan_in + fan_out)) | zero |
//! | [`Init::HeUniform`] | U(−a, a), a = √(6 / fan_in) (He et al., 2015) | zero |
//! | [`Init::HeNormal`] | N(0, 2 / fan_in) | zero |
//! | [`Init::LecunNormal`] | N(0, 1 / fan_in) | zero |
//! | [`Init::Zeros`] | 0 | zero |
//!
//! Recurrent layers follow PyTorch by default too: every parameter from
//! U(−1/√hidden, 1/√hidden).
//!
//! Uniform draws map 53 random bits to `[0, 1)`; normal draws use the
//! Box–Muller transform on two uniform draws. With a value-stable generator
//! such as [`Xoshiro256PlusPlus`](rand::rngs::Xoshiro256PlusPlus) the
//! weights are the same on every platform and every version of this crate.

use rand::{Rng, RngExt};

use crate::scalar::Scalar;

/// An initialisation scheme. See the [module docs](self) for the formulas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Init {
    /// PyTorch's default: U(−1/√fan_in, 1/√fan_in) for weights and biases.
    #[default]
    PyTorch,
    /// N(0, 1) × 0.01, biases zero: the classic tutorial's choice, which
    /// makes deep networks' signals vanish.
    SmallRandom,
    /// Glorot/Xavier uniform, biases zero: for tanh and sigmoid networks.
    XavierUniform,
    /// Glorot/Xavier normal, biases zero.
    XavierNormal,
    /// He/Kaiming uniform, biases zero: for ReLU networks.
    HeUniform,
    /// He/Kaiming normal, biases zero.
    HeNormal,
    /// LeCun normal, biases zero: for SELU-style self-normalising networks.
    LecunNormal,
    /// All zeros.
    Zeros,
}

impl Init {
    /// Fills a weight tensor whose units have `fan_in` inputs and `fan_out`
    /// outputs.
    pub fn fill_weight<T: Scalar, R: Rng + ?Sized>(self, w: &mut [T], fan_in: usize, fan_out: usize, rng: &mut R) {
        let (fan_in, fan_out) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        match self {
            Init::PyTorch => fill_uniform(w, 1.0 / libm::sqrt(fan_in), rng),
            Init::SmallRandom => fill_normal(w, 0.01, rng),
            Init::XavierUniform => fill_uniform(w, libm::sqrt(6.0 / (fan_in + fan_out)), rng),
            Init::XavierNormal => fill_normal(w, libm::sqrt(2.0 / (fan_in + fan_out)), rng),
            Init::HeUniform => fill_uniform(w, libm::sqrt(6.0 / fan_in), rng),
            Init::HeNormal => fill_normal(w, libm::sqrt(2.0 / fan_in), rng),
            Init::LecunNormal => fill_normal(w, libm::sqrt(1.0 / fan_in), rng),
            Init::Zeros => w.fill(T::zero()),
        }
    }

    /// Fills a bias tensor of units with `fan_in` inputs: PyTorch's uniform
    /// for [`Init::PyTorch`], zeros otherwise.
    pub fn fill_bias<T: Scalar, R: Rng + ?Sized>(self, b: &mut [T], fan_in: usize, rng: &mut R) {
        match self {
            Init::PyTorch => fill_uniform(b, 1.0 / libm::sqrt(fan_in.max(1) as f64), rng),
            _ => b.fill(T::zero()),
        }
    }
}

/// Fills `values` from U(−bound, bound).
pub fn fill_uniform<T: Scalar, R: Rng + ?Sized>(values: &mut [T], bound: f64, rng: &mut R) {
    for v in values {
        *v = T::from_f64((rng.random::<f64>() * 2.0 - 1.0) * bound);
    }
}

/// Fills `values` from N(0, std²) by the Box–Muller transform.
pub fn fill_normal<T: Scalar, R: Rng + ?Sized>(values: &mut [T], std: f64, rng: &mut R) {
    let mut pairs = values.chunks_mut(2);
    for pair in &mut pairs {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
        let radius = libm::sqrt(-2.0 * libm::log(u1)) * std;
        let angle = 2.0 * core::f64::consts::PI * u2;
        pair[0] = T::from_f64(radius * libm::cos(angle));
        if let Some(second) = pair.get_mut(1) {
            *second = T::from_f64(radius * libm::sin(angle));
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
        self.init_with(Init::PyTorch, rng);
    }

    /// Draws every parameter with `scheme`.
    fn init_with<R: Rng + ?Sized>(&mut self, scheme: Init, rng: &mut R);
}

impl<A: Initialize> Initialize for (A,) {
    fn init_with<R: Rng + ?Sized>(&mut self, scheme: Init, rng: &mut R) {
        self.0.init_with(scheme, rng);
    }
}

impl<A: Initialize, Rest: Initialize> Initialize for (A, Rest) {
    fn init_with<R: Rng + ?Sized>(&mut self, scheme: Init, rng: &mut R) {
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
        [3184749945, 1042626570, 1050720078, 1057215231, 3207206198, 1058427406, 1054838818, 1058046388, 1055594751];
    const VALUE_STABLE_NORMAL: [u64; 3] = [13828713410615111320, 13827792556687710411, 4607413971476730849];
}
