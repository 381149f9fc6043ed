//! The architecture signature of a version 2 parameter file: each state
//! tensor's role and shape, written by [`save`](super::save) and checked
//! by [`load`](super::load) record by record.

use crate::layer::Params;
use crate::shape::Dims;

use super::ParamsError;

/// The role word of a tensor named `name`: FNV-1a (32-bit) of the name's
/// bytes, as `tools/interop/typenet_io.py` computes it from a `state_dict`
/// key (`"weight"`, `"running_var"`, `"weight_ih"` for `weight_ih_l0`).
///
/// ```
/// assert_eq!(typenet::io::role_of(""), 0x811c_9dc5); // FNV-1a's offset basis
/// assert_eq!(typenet::io::role_of("weight"), 0x50a0_9eb9);
/// ```
pub const fn role_of(name: &str) -> u32 {
    let bytes = name.as_bytes();
    let mut hash = 0x811c_9dc5u32;
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u32).wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// The tensor names of PyTorch's layers that typenet has, by role word:
/// how messages name a role read from a file.
const KNOWN_ROLES: [(u32, &str); 9] = {
    const NAMES: [&str; 9] = [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
    ];
    let mut known = [(0, ""); 9];
    let mut i = 0;
    while i < NAMES.len() {
        known[i] = (role_of(NAMES[i]), NAMES[i]);
        i += 1;
    }
    known
};

/// The name of a role word, if it is one of PyTorch's tensor names that
/// typenet's layers use (else a user's field, known only by its hash).
///
/// ```
/// use typenet::io::{role_name, role_of};
/// assert_eq!(role_name(role_of("running_var")), Some("running_var"));
/// assert_eq!(role_name(role_of("scale")), None);
/// ```
pub fn role_name(role: u32) -> Option<&'static str> {
    KNOWN_ROLES.iter().find(|(known, _)| *known == role).map(|&(_, name)| name)
}

/// One state tensor as a signature records it: its role (the
/// [`role_of`] its name) and its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TensorSignature {
    /// [`role_of`] the tensor's name.
    pub role: u32,
    /// Its shape, outermost dimension first.
    pub dims: Dims,
}

impl TensorSignature {
    /// The record of the tensor named `name` of shape `dims`.
    pub const fn new(name: &str, dims: Dims) -> TensorSignature {
        TensorSignature { role: role_of(name), dims }
    }
}

/// The `u32` words at the start of `bytes`, little-endian.
fn words(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

/// Reads a file's signature record by record.
struct Records<'a> {
    /// The signature's words not yet read, as bytes.
    rest: &'a [u8],
}

impl Records<'_> {
    /// The next record, or `None` when the signature has ended or its last
    /// record is cut short (it then reads as ended).
    fn next_record(&mut self) -> Option<TensorSignature> {
        let mut head = words(self.rest);
        let (role, rank) = (head.next()?, head.next()?);
        let len = (rank as usize).checked_add(2)?.checked_mul(4)?;
        let record = self.rest.get(..len)?;
        self.rest = &self.rest[len..];
        Some(TensorSignature { role, dims: Dims::new(rank, words(&record[8..])) })
    }
}

/// Writes the signature of `P` as little-endian words into the start of
/// `out` (which holds [`Params::SIGNATURE_LEN`] words): role, rank, sizes,
/// per state tensor.
pub(crate) fn write<P: Params<T>, T>(out: &mut [u8]) {
    let mut slots = out.chunks_exact_mut(4);
    let mut put = |word: u32| {
        if let Some(slot) = slots.next() {
            slot.copy_from_slice(&word.to_le_bytes());
        }
    };
    let (mut words, mut values) = (0, 0);
    P::visit_signature(&mut |name, dims| {
        put(role_of(name));
        put(dims.rank() as u32);
        dims.sizes().iter().for_each(|&size| put(size));
        words += 2 + dims.rank();
        values += dims.count();
    });
    debug_assert_eq!(words, P::SIGNATURE_LEN, "Params::SIGNATURE_LEN disagrees with Params::visit_signature");
    debug_assert_eq!(
        values,
        P::COUNT + P::BUFFER_COUNT,
        "the tensors of Params::visit_signature do not hold Params::COUNT + Params::BUFFER_COUNT values"
    );
}

/// Checks a file's signature (its bytes, whole words) against the
/// architecture of `P`, record by record: the first tensor that differs,
/// or that one side has and the other lacks, is the error.
///
/// The walk compares words and builds nothing; only a difference builds
/// the records the error names, in [`mismatch`].
pub(crate) fn check<P: Params<T>, T>(signature: &[u8]) -> Result<(), ParamsError> {
    let mut file = words(signature);
    let (mut index, mut differs) = (0, false);
    P::visit_signature(&mut |name, dims| {
        if !differs {
            differs = file.next() != Some(role_of(name))
                || file.next() != Some(dims.rank() as u32)
                || dims.sizes().iter().any(|&size| file.next() != Some(size));
            index += usize::from(!differs);
        }
    });
    match differs || file.next().is_some() {
        true => Err(mismatch::<P, T>(signature, index)),
        false => Ok(()),
    }
}

/// The error for a signature that differs from `P`'s at tensor `index`:
/// the file's record there and the model's.
#[cold]
#[inline(never)]
fn mismatch<P: Params<T>, T>(signature: &[u8], index: usize) -> ParamsError {
    let mut records = Records { rest: signature };
    let file = (0..=index).map(|_| records.next_record()).last().flatten();
    let (mut at, mut model) = (0, None);
    P::visit_signature(&mut |name, dims| {
        if at == index {
            model = Some(TensorSignature::new(name, dims));
        }
        at += 1;
    });
    ParamsError::WrongTensor { index, file, model }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn role_words_are_fnv1a_of_the_names() {
        // Reference values from the FNV specification's test suite.
        assert_eq!(role_of("a"), 0xe40c_292c);
        assert_eq!(role_of("foobar"), 0xbf9c_f968);
        for (role, name) in KNOWN_ROLES {
            assert_eq!(role_name(role), Some(name));
        }
    }

    #[test]
    fn a_signature_reads_back_record_by_record() {
        type Net = net![Conv2d<U1, U2, U3>, BatchNorm2d<U2>, Flatten, Dense<U2, U1>];
        let mut bytes = [0u8; 4 * <Net as Params<f32>>::SIGNATURE_LEN];
        write::<Net, f32>(&mut bytes);
        assert_eq!(check::<Net, f32>(&bytes), Ok(()));
        let mut records = Records { rest: &bytes };
        let mut read = std::vec::Vec::new();
        while let Some(record) = records.next_record() {
            read.push((role_name(record.role).unwrap(), record.dims.sizes().to_vec()));
        }
        let expected: [(&str, &[u32]); 9] = [
            ("weight", &[2, 1, 3, 3]),
            ("bias", &[2]),
            ("weight", &[2]),
            ("bias", &[2]),
            ("running_mean", &[2]),
            ("running_var", &[2]),
            ("num_batches_tracked", &[]),
            ("weight", &[1, 2]),
            ("bias", &[1]),
        ];
        assert_eq!(read, expected.map(|(name, dims)| (name, dims.to_vec())));
    }

    #[test]
    fn a_signature_cut_short_or_running_on_is_refused() {
        type Net = net![Dense<U3, U2>];
        let mut bytes = [0u8; 4 * 7 + 8];
        write::<Net, f32>(&mut bytes);
        let bias = TensorSignature::new("bias", Dims::SCALAR.prepend(2));
        // The bias record without its size: cut short, so the bias is missing.
        assert_eq!(
            check::<Net, f32>(&bytes[..24]),
            Err(ParamsError::WrongTensor { index: 1, file: None, model: Some(bias) })
        );
        // Two words past the last record: a scalar tensor with role 0.
        let extra = TensorSignature { role: 0, dims: Dims::SCALAR };
        assert_eq!(
            check::<Net, f32>(&bytes),
            Err(ParamsError::WrongTensor { index: 2, file: Some(extra), model: None })
        );
        // One word past it: not a record at all.
        assert_eq!(
            check::<Net, f32>(&bytes[..32]),
            Err(ParamsError::WrongTensor { index: 2, file: None, model: None })
        );
        // A rank that overflows the arithmetic reads as cut short.
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(check::<Net, f32>(&bytes), Err(ParamsError::WrongTensor { index: 0, file: None, .. })));
    }
}
