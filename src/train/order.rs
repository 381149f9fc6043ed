//! The order in which an epoch visits the training samples.

use rand::Rng;

/// A random order of `0..n`, computed index by index instead of stored:
/// no allocator, no memory the size of the data set, and the data itself
/// stays where it is (in a shared slice, or in flash on a microcontroller).
///
/// The order is a keyed bijection of the smallest power-of-two range that
/// holds `n`, four rounds of "xor a key, multiply by an odd number, xor the
/// high half into the low half", each of which is invertible, restricted to
/// `0..n` by cycle walking (an index that lands past `n` is mapped again,
/// at most twice on average). This is the construction of Kensler's
/// hash-based permutations ("Correlated Multi-Jittered Sampling", 2013),
/// with the keys and multipliers drawn from the caller's `Rng`: the same
/// seed gives the same order.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::train::Permutation;
///
/// let order = Permutation::new(10, &mut Xoshiro256PlusPlus::seed_from_u64(1));
/// let mut seen = [false; 10];
/// for i in order.iter() {
///     assert!(!seen[i]);
///     seen[i] = true;
/// }
/// assert!(seen.iter().all(|&s| s));
/// assert_eq!(Permutation::identity(3).iter().collect::<Vec<_>>(), [0, 1, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permutation {
    len: usize,
    mask: usize,
    half: u32,
    /// `(key, odd multiplier)` per round; `None` for the identity. In
    /// `usize`, the native word: a 32-bit microcontroller multiplies in one
    /// instruction.
    rounds: Option<[(usize, usize); ROUNDS]>,
}

const ROUNDS: usize = 4;

impl Permutation {
    /// A random order of `0..len`, drawn from `rng` (eight `u64`s).
    pub fn new<R: Rng + ?Sized>(len: usize, rng: &mut R) -> Self {
        let rounds = core::array::from_fn(|_| (rng.next_u64() as usize, rng.next_u64() as usize | 1));
        Permutation { rounds: Some(rounds), ..Self::identity(len) }
    }

    /// `0, 1, …, len − 1` in order.
    pub const fn identity(len: usize) -> Self {
        let bits = usize::BITS - len.saturating_sub(1).leading_zeros();
        let mask = if bits >= usize::BITS { usize::MAX } else { (1 << bits) - 1 };
        Permutation { len, mask, half: bits.div_ceil(2), rounds: None }
    }

    /// The number of indices.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no indices.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`-th index of the order, for `i < len` (larger `i` give an
    /// unspecified index below `len`, or 0 when `len` is 0).
    #[inline]
    pub fn get(&self, i: usize) -> usize {
        let Some(rounds) = &self.rounds else { return i };
        if self.len == 0 {
            return 0;
        }
        let mut x = i & self.mask;
        loop {
            for &(key, odd) in rounds {
                x = ((x ^ key) & self.mask).wrapping_mul(odd) & self.mask;
                x ^= x >> self.half;
            }
            if x < self.len {
                return x;
            }
        }
    }

    /// The indices in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        (0..self.len).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn is_permutation(order: &Permutation) -> bool {
        let mut seen = std::vec![false; order.len()];
        order.iter().all(|i| !core::mem::replace(&mut seen[i], true))
    }

    #[test]
    fn every_index_comes_once_for_every_length() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for len in (0..300).chain([1000, 1024, 1025, 1437, 4097]) {
            assert!(is_permutation(&Permutation::new(len, &mut rng)), "len {len}");
        }
        assert!(Permutation::new(0, &mut rng).is_empty());
        assert_eq!(Permutation::new(1, &mut rng).get(0), 0);
    }

    #[test]
    fn the_same_seed_gives_the_same_order_and_new_draws_new_orders() {
        let draw = |seed| Permutation::new(1000, &mut Xoshiro256PlusPlus::seed_from_u64(seed));
        assert!(draw(5).iter().eq(draw(5).iter()));
        assert!(!draw(5).iter().eq(draw(6).iter()));
    }

    /// Against what a uniformly random order gives: about one fixed point,
    /// about one neighbour pair kept, a mean displacement of `n/3`, and each
    /// index equally likely at each place.
    #[test]
    fn orders_look_uniformly_random() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let n = 1000;
        let (mut fixed, mut neighbours, mut displacement) = (0, 0, 0.0);
        let draws = 200;
        // Where index 0 and index n − 1 go, in ten bins.
        let (mut first, mut last) = ([0u32; 10], [0u32; 10]);
        for _ in 0..draws {
            let order = Permutation::new(n, &mut rng);
            let o: std::vec::Vec<usize> = order.iter().collect();
            fixed += (0..n).filter(|&i| o[i] == i).count();
            neighbours += (1..n).filter(|&i| o[i] == o[i - 1] + 1).count();
            displacement += (0..n).map(|i| o[i].abs_diff(i) as f64).sum::<f64>() / n as f64;
            first[o.iter().position(|&v| v == 0).unwrap() * 10 / n] += 1;
            last[o.iter().position(|&v| v == n - 1).unwrap() * 10 / n] += 1;
        }
        let per_draw = |count: usize| count as f64 / draws as f64;
        assert!(per_draw(fixed) < 2.0, "fixed points per order {}", per_draw(fixed));
        assert!(per_draw(neighbours) < 2.0, "kept neighbours per order {}", per_draw(neighbours));
        let mean = displacement / draws as f64;
        assert!((mean - n as f64 / 3.0).abs() < 10.0, "mean displacement {mean}");
        // χ² with 9 degrees of freedom: above 27.9 one time in a thousand.
        for bins in [first, last] {
            let expected = draws as f64 / 10.0;
            let chi2: f64 = bins.iter().map(|&b| (b as f64 - expected).powi(2) / expected).sum();
            assert!(chi2 < 27.9, "χ² {chi2} for {bins:?}");
        }
    }

    #[test]
    fn the_identity_keeps_the_order() {
        assert!(Permutation::identity(5).iter().eq(0..5));
        assert!(Permutation::identity(0).is_empty());
    }
}
