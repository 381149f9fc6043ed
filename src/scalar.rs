//! The scalar types a network computes in: `f32` (the default) and `f64`.

use core::fmt::{Debug, Display};
use core::str::FromStr;
use num_traits::Float;

use crate::kernel::Kernels;

/// A floating-point type the layers compute in.
///
/// Implemented for `f32` and `f64` only: the trait is sealed by the
/// crate-private kernels every scalar carries. Everything generic over the
/// scalar uses the `num-traits` [`Float`] methods, which come from `std`
/// when the `std` feature is on and from `libm` otherwise, so results are
/// the same on a workstation and a microcontroller up to the platform's
/// rounding of transcendental functions.
///
/// ```
/// use typenet::Scalar;
/// assert_eq!(f32::from_f64(0.5), 0.5f32);
/// assert_eq!(<f64 as Scalar>::BYTES, 8);
/// ```
// The crate-private supertrait seals `Scalar` and keeps the kernels out of
// the API (heapless's `Storage` does the same).
#[allow(private_bounds)]
pub trait Scalar:
    Float
    + Default
    + Debug
    + Display
    + FromStr
    + Send
    + Sync
    + 'static
    + crate::shape::Tensor<Scalar = Self>
    + Kernels
    + Defaults
{
    /// Size in bytes of one value in the parameter format.
    const BYTES: usize;
    /// Tag of this type in the parameter format's header.
    const TAG: u8;
    /// Name used in messages: `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(x: f64) -> Self;
    /// Converts from `f32` exactly.
    fn from_f32(x: f32) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// Converts a count (a batch's samples, an epoch number), rounding to
    /// nearest: no `f64` on the way, so an `f32` training step stays in
    /// single precision.
    fn from_usize(n: usize) -> Self;
    /// A uniform draw from `[0, 1)` with the type's precision: 24 random
    /// bits for `f32`, 53 for `f64` (`rand`'s `StandardUniform`).
    fn draw_unit<R: rand::Rng + ?Sized>(rng: &mut R) -> Self;
    /// The value as errors report it, exactly.
    fn value(self) -> Value;
    /// The error function, `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt` (from `libm`).
    fn erf(self) -> Self;
    /// The natural logarithm from `libm`: the same bits on every platform
    /// (`std`'s may differ in the last place), for seeded draws.
    fn ln_portable(self) -> Self;
    /// `(sin x, cos x)` from `libm`, the same bits on every platform.
    fn sin_cos_portable(self) -> (Self, Self);
    /// Writes the value little-endian into `out[..Self::BYTES]`.
    ///
    /// Callers check the length; a short `out` is a bug in the caller.
    fn write_le(self, out: &mut [u8]);
    /// Reads a little-endian value from `bytes[..Self::BYTES]`.
    fn read_le(bytes: &[u8]) -> Self;
}

/// The constants the optimisers' `const` constructors need, in each type
/// (a `const fn` may read a bound's associated constants, not call its
/// methods): exact for `f64`, rounded to nearest for `f32`.
pub(crate) trait Defaults: Sized {
    const ZERO: Self;
    /// Adam's β₁ (0.9).
    const BETA1: Self;
    /// Adam's β₂ (0.999).
    const BETA2: Self;
    /// The ε of Adam and RMSprop (1e-8).
    const EPS: Self;
    /// RMSprop's α (0.99).
    const ALPHA: Self;
    /// 1: ELU's α.
    const ONE: Self;
    /// 0.5: dropout's rate.
    const HALF: Self;
    /// 0.01: leaky ReLU's slope.
    const LEAKY_SLOPE: Self;
}

macro_rules! defaults {
    ($($t:ty),*) => {$(
        impl Defaults for $t {
            const ZERO: Self = 0.0;
            const BETA1: Self = 0.9;
            const BETA2: Self = 0.999;
            const EPS: Self = 1e-8;
            const ALPHA: Self = 0.99;
            const ONE: Self = 1.0;
            const HALF: Self = 0.5;
            const LEAKY_SLOPE: Self = 0.01;
        }
    )*};
}

defaults!(f32, f64);

impl Scalar for f32 {
    const BYTES: usize = 4;
    const TAG: u8 = 1;
    const NAME: &'static str = "f32";

    #[inline]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn from_f32(x: f32) -> Self {
        x
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline]
    fn from_usize(n: usize) -> Self {
        n as f32
    }
    #[inline]
    fn draw_unit<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        rand::RngExt::random(rng)
    }
    #[inline]
    fn value(self) -> Value {
        Value::F32(self)
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }
    #[inline]
    fn ln_portable(self) -> Self {
        libm::logf(self)
    }
    #[inline]
    fn sin_cos_portable(self) -> (Self, Self) {
        libm::sincosf(self)
    }
    #[inline]
    fn write_le(self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0u8; 4];
        b.copy_from_slice(&bytes[..4]);
        f32::from_le_bytes(b)
    }
}

impl Scalar for f64 {
    const BYTES: usize = 8;
    const TAG: u8 = 2;
    const NAME: &'static str = "f64";

    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn from_f32(x: f32) -> Self {
        x as f64
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn from_usize(n: usize) -> Self {
        n as f64
    }
    #[inline]
    fn draw_unit<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        rand::RngExt::random(rng)
    }
    #[inline]
    fn value(self) -> Value {
        Value::F64(self)
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
    #[inline]
    fn ln_portable(self) -> Self {
        libm::log(self)
    }
    #[inline]
    fn sin_cos_portable(self) -> (Self, Self) {
        (libm::sin(self), libm::cos(self))
    }
    #[inline]
    fn write_le(self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[..8]);
        f64::from_le_bytes(b)
    }
}

/// A scalar as an error reports it: the value exactly, in the type it had.
///
/// ```
/// use typenet::{Scalar, Value};
/// assert_eq!(0.5f32.value(), Value::F32(0.5));
/// assert_eq!(Value::F64(1e-3).to_string(), "0.001");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Value {
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

impl Display for Value {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Value::F32(v) => Display::fmt(v, f),
            Value::F64(v) => Display::fmt(v, f),
        }
    }
}
