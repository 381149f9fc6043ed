//! The one abstraction the algorithms are written against: a register of
//! `L` lanes and the few operations on it they need, with the portable
//! lanes (plain arrays) that build for every target. Instruction-set
//! leaves (`x86.rs`, `neon.rs`) implement [`Lanes`] for their registers.

use core::array;

use crate::scalar::Scalar;

/// One register of `L` lanes of `T` and the operations the kernels need.
///
/// Implemented by [`Portable`] (plain arrays, any target) and, on x86-64
/// with `std`, by `Avx2` and `Avx512` (in `x86.rs`), whose values exist
/// only once the CPU was found to have the instructions (see
/// [`isa`](super::dispatch::isa)); on aarch64, by `Neon` (in `neon.rs`).
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
    /// The first `n < L` values of `s` in the first `n` lanes, zeros in
    /// the others: the tail of a row that does not fill a register. Reads
    /// nothing past `s[n - 1]`.
    fn load_part(self, s: &[Self::T], n: usize) -> Self::V;
    /// The first `n < L` lanes of `v` into the first `n` values of `s`;
    /// writes nothing past `s[n - 1]`.
    fn store_part(self, s: &mut [Self::T], n: usize, v: Self::V);
    /// The even and the odd lanes of the `2L` values `a` then `b`:
    /// `([a₀, a₂, …, b₀, b₂, …], [a₁, a₃, …, b₁, b₃, …])`.
    fn deinterleave(self, a: Self::V, b: Self::V) -> (Self::V, Self::V);
    /// The inverse of [`deinterleave`](Lanes::deinterleave): `e` and `o`
    /// interleaved, `([e₀, o₀, e₁, o₁, …], [e_L/2, o_L/2, …])`.
    fn interleave(self, e: Self::V, o: Self::V) -> (Self::V, Self::V);
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
    fn load_part(self, s: &[T], n: usize) -> [T; 4] {
        let mut v = [T::zero(); 4];
        v[..n].copy_from_slice(&s[..n]);
        v
    }
    #[inline(always)]
    fn store_part(self, s: &mut [T], n: usize, v: [T; 4]) {
        s[..n].copy_from_slice(&v[..n]);
    }
    #[inline(always)]
    fn deinterleave(self, a: [T; 4], b: [T; 4]) -> ([T; 4], [T; 4]) {
        ([a[0], a[2], b[0], b[2]], [a[1], a[3], b[1], b[3]])
    }
    #[inline(always)]
    fn interleave(self, e: [T; 4], o: [T; 4]) -> ([T; 4], [T; 4]) {
        ([e[0], o[0], e[1], o[1]], [e[2], o[2], e[3], o[3]])
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

/// Checks every leaf's lanes run against: the definitions of the register
/// operations whose results a wrong shuffle or mask would corrupt.
#[cfg(test)]
pub(crate) mod checks {
    use super::Lanes;
    use std::vec::Vec;

    /// `deinterleave` splits even and odd lanes as the portable lanes do,
    /// and `interleave` undoes it.
    pub(crate) fn interleave_round_trip<S: Lanes<T = f32>>(s: S, name: &str) {
        let values: Vec<f32> = (0..2 * S::L).map(|v| v as f32).collect();
        let (e, o) = s.deinterleave(s.load(&values), s.load(&values[S::L..]));
        let (mut even, mut odd) = (std::vec![0.0f32; S::L], std::vec![0.0f32; S::L]);
        s.store(&mut even, e);
        s.store(&mut odd, o);
        assert!(even.iter().enumerate().all(|(i, &v)| v == (2 * i) as f32), "{name} even: {even:?}");
        assert!(odd.iter().enumerate().all(|(i, &v)| v == (2 * i + 1) as f32), "{name} odd: {odd:?}");
        let (lo, hi) = s.interleave(e, o);
        let mut back = std::vec![0.0f32; 2 * S::L];
        s.store(&mut back, lo);
        s.store(&mut back[S::L..], hi);
        assert_eq!(back, values, "{name} interleave");
    }

    /// Partial loads and stores touch exactly the first `n` values, for
    /// every `n < L`: the slices end at `n`, so a read or write past it
    /// would panic, and the value after the register's span stays as it was.
    pub(crate) fn partial_loads_and_stores_stop_at_n<S: Lanes<T = f32>>(s: S, name: &str) {
        let src: Vec<f32> = (1..=S::L).map(|v| v as f32).collect();
        for n in 0..S::L {
            let mut out = std::vec![-1.0f32; S::L + 1];
            s.store(&mut out, s.load_part(&src[..n], n));
            assert_eq!(&out[..n], &src[..n]);
            assert!(out[n..S::L].iter().all(|&v| v == 0.0) && out[S::L] == -1.0, "{name} load {n}: {out:?}");
            let mut out = std::vec![-1.0f32; S::L + 1];
            s.store_part(&mut out[..n], n, s.load(&src));
            assert_eq!(&out[..n], &src[..n]);
            assert!(out[n..].iter().all(|&v| v == -1.0), "{name} store {n}: {out:?}");
        }
    }

    #[test]
    fn portable_lanes_pass() {
        interleave_round_trip(super::Portable::<f32>::NEW, "portable");
        partial_loads_and_stores_stop_at_n(super::Portable::<f32>::NEW, "portable");
    }
}
