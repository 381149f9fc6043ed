//! PyTorch's `safetensors` files, by `state_dict` key (feature
//! `safetensors`, host only).
//!
//! `safetensors.torch.save_file(model.state_dict(), "m.safetensors")` of
//! the PyTorch twin of a typenet model loads into it with [`load_file`] (or
//! [`load`] from bytes), and [`save_file`] writes a file that
//! `model.load_state_dict(safetensors.torch.load_file("m.safetensors"))`
//! takes: no script in between. Every tensor is found by its key, the one
//! PyTorch's `state_dict` gives it ([`StateDict`] derives the keys from the
//! model's type), and checked before anything is written:
//!
//! ```
//! use typenet::io::safetensors::{self, SafetensorsError};
//! use typenet::prelude::*;
//!
//! // nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
//! type Net = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];
//! let mut net = Net::default();
//! net.init(&mut Xoshiro256PlusPlus::seed_from_u64(1));
//!
//! // The keys and shapes of its `state_dict`, in order.
//! let keys: Vec<_> = safetensors::state_dict_keys::<Net, f32>(&Default::default());
//! assert_eq!(keys[0], ("0.weight".to_string(), vec![8, 4]));
//! assert_eq!(keys[3], ("2.bias".to_string(), vec![3]));
//!
//! let bytes = safetensors::save(&net)?; // F32 tensors, as `save_file` writes them
//! let mut copy = Net::default();
//! safetensors::load(&mut copy, &bytes)?;
//! assert!(copy == net);
//!
//! // Another model is refused by key, and nothing is written.
//! type Wider = net![Dense<U4, U9>, Tanh, Dense<U9, U3>];
//! let err = safetensors::load(&mut Wider::default(), &bytes).unwrap_err();
//! assert_eq!(err.to_string(), "tensor `0.weight` is 8×4 in the file, 9×4 in the model");
//! # Ok::<(), SafetensorsError>(())
//! ```
//!
//! # Keys
//!
//! A chain written with [`net!`](crate::net) is an `nn.Sequential`: its
//! layers are numbered from 0, parameterless ones included, so
//! `net![Dense, Relu, Dense]` is `0.weight`, `0.bias`, `2.weight`,
//! `2.bias`. A chain inside a chain is an `nn.Sequential` inside one
//! (`1.0.weight`). [`GlobalAvgPool`] counts as two modules, PyTorch's
//! `nn.AdaptiveAvgPool2d(1), nn.Flatten()`. Within a layer, the tensors are named as PyTorch's
//! module names them (its field names, for a layer written with
//! [`params!`](crate::params)), with PyTorch's shapes:
//!
//! | typenet | PyTorch | keys, in order |
//! | --- | --- | --- |
//! | `Dense`, `Conv1d`, `Conv2d`, `DepthwiseConv2d`, `LayerNorm` | `nn.Linear`, `nn.Conv1d`, `nn.Conv2d`, `nn.Conv2d(groups=C)`, `nn.LayerNorm` | `weight`, `bias` |
//! | `BatchNorm1d`, `BatchNorm2d` | the same | `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked` (an `I64` scalar; `affine=False`: no `weight`, `bias`) |
//! | `Rnn`, `Lstm`, `Gru` | `nn.RNN`, `nn.LSTM`, `nn.GRU`, one layer | `weight_ih_l0` `[G·H, I]`, `weight_hh_l0` `[G·H, H]`, `bias_ih_l0` `[G·H]`, `bias_hh_l0` `[G·H]` |
//! | `Residual<Body>` | a module with `self.body` | `body.*` |
//! | `Projected<Body, Shortcut>` | a module with `self.body`, then `self.shortcut` | `body.*`, `shortcut.*` |
//!
//! The residual modules are those of `tools/fixtures/gen_blocks.py`. Where
//! the PyTorch model names its modules otherwise (a model whose `forward`
//! is its own, with `self.lstm` and `self.fc`, or a `Sequential` kept in
//! `self.features`), [`Names`] renames typenet's keys and adds a prefix;
//! [`state_dict_keys`] lists the keys a model expects.
//!
//! # Checks
//!
//! [`load`] first checks every tensor the model has: present in the file,
//! the same shape, a dtype that converts to the model's scalar exactly
//! (below), finite values; then that the file has no tensor the model
//! lacks. The first failure is a [`SafetensorsError`] that names the key,
//! what the model expects and what the file holds, and the model is left as
//! it was: nothing is written until everything has passed.
//!
//! Dtypes: loading never rounds. An `f32` model reads `F32`, `F16` and
//! `BF16` tensors (both widen to `f32` exactly: half-precision checkpoints
//! load as they are), an `f64` model those and `F64`. An `F64` tensor for
//! an `f32` model is refused ([`SafetensorsError::WrongDtype`]: convert
//! the PyTorch model with `.float()` first, or compute in `f64`), and so is
//! any other dtype, but for `num_batches_tracked`, PyTorch's `int64` count,
//! which may be any integer dtype holding a whole number the model's
//! scalar holds exactly ([`SafetensorsError::Inexact`] otherwise: above
//! 2²⁴ = 16,777,216 steps in `f32`).
//!
//! [`save`] writes `F32` or `F64` by the model's scalar, and
//! `num_batches_tracked` as `I64`, as PyTorch holds it. The bytes are those
//! `safetensors.torch.save_file(model.state_dict(), …)` writes for the same
//! tensors (the same official crate lays them out: the JSON header, keys
//! sorted by dtype alignment then name, padded to 8 bytes, no metadata).

use std::borrow::ToOwned;
use std::collections::BTreeSet;
use std::fmt;
use std::format;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use ::safetensors::tensor::{Dtype, SafeTensors, TensorView};
use generic_array::ArrayLength;

use crate::layer::Params;
use crate::layers::batch_norm::{Affinity, BatchNorm};
use crate::layers::depthwise::DepthwiseConv2d;
use crate::layers::layer_norm::{LayerNorm, NormShape};
use crate::layers::pool::Pool2d;
use crate::layers::recurrent::gates::{Cell, RecurrentLayer};
use crate::layers::{
    Conv1d, Conv2d, Dense, Dropout, Elu, Flatten, Gelu, GeluTanh, GlobalAvgPool, HardSigmoid, HardSwish, Identity,
    LastStep, LeakyRelu, LogSoftmax, Projected, Relu, Relu6, Residual, Sigmoid, Silu, Softmax, Softplus, Standardize,
    Tanh, Unstandardize,
};
use crate::scalar::Scalar;
use crate::shape::Dims;

/// The name of PyTorch's batch-norm step counter, an `int64` in PyTorch and
/// a number of the model's scalar in typenet.
const COUNTER: &str = "num_batches_tracked";

/// A layer's tensors under the keys PyTorch's `state_dict` gives them: how
/// [`load`] finds them in a file and [`save`] names them.
///
/// Implemented for every layer of [`layers`](mod@crate::layers) that has a PyTorch twin
/// (the parameterless ones give no keys), for [`Residual`] and
/// [`Projected`], and for chains. A layer of your own written with
/// [`params!`](crate::params) needs one line, and then names its tensors
/// by its fields' names:
///
/// ```
/// use typenet::io::safetensors::{self, StateDict};
/// use typenet::prelude::*;
///
/// /// PyTorch's `self.scale = nn.Parameter(...)`, `self.shift = ...`.
/// #[derive(Clone, Debug, PartialEq)]
/// pub struct Affine<N: ArrayLength, T = f32> {
///     pub scale: Vector<T, N>,
///     pub shift: Vector<T, N>,
/// }
/// typenet::params! {
///     impl[N: ArrayLength, T: Scalar] Params<T> for Affine<N, T> { scale: Vector<T, N>, shift: Vector<T, N> }
/// }
/// impl<N: ArrayLength, T: Scalar> StateDict<T> for Affine<N, T> {}
///
/// let keys = safetensors::state_dict_keys::<net![Dense<U2, U3>, Affine<U3>], f32>(&Default::default());
/// let names: Vec<_> = keys.iter().map(|(key, _)| key.as_str()).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "1.scale", "1.shift"]);
/// ```
pub trait StateDict<T: Scalar>: Params<T> {
    /// The modules of PyTorch's `nn.Sequential` this layer stands for: how
    /// far a chain's numbering moves past it. 1 but for [`GlobalAvgPool`],
    /// PyTorch's `nn.AdaptiveAvgPool2d(1), nn.Flatten()`: 2.
    const MODULES: usize = 1;

    /// Calls `f(key, shape)` for each state tensor in the order of
    /// [`Params::visit_state`], `prefix` before each key, the shape as
    /// PyTorch holds it (outermost first).
    ///
    /// The default names each tensor of [`Params::visit_signature`] by its
    /// name there and gives its shape: right for a layer whose tensors are
    /// PyTorch's by name and shape.
    fn visit_keys(prefix: &str, f: &mut dyn FnMut(String, Vec<usize>)) {
        Self::visit_signature(&mut |name, dims| f(format!("{prefix}{name}"), sizes(dims)));
    }

    /// A chain's walk: this value is the layer at `index` of the chain
    /// whose keys start with `prefix`; a chain's tail continues the
    /// numbering. Not for other callers.
    #[doc(hidden)]
    fn visit_chain_keys(prefix: &str, index: usize, f: &mut dyn FnMut(String, Vec<usize>)) {
        Self::visit_keys(&format!("{prefix}{index}."), f);
    }
}

/// The sizes of `dims` as `usize`s.
fn sizes(dims: Dims) -> Vec<usize> {
    dims.sizes().iter().map(|&size| size as usize).collect()
}

/// A chain of one layer: `nn.Sequential` with one module, key `0.`.
impl<T: Scalar, A: StateDict<T>> StateDict<T> for (A,) {
    fn visit_keys(prefix: &str, f: &mut dyn FnMut(String, Vec<usize>)) {
        Self::visit_chain_keys(prefix, 0, f);
    }
    fn visit_chain_keys(prefix: &str, index: usize, f: &mut dyn FnMut(String, Vec<usize>)) {
        A::visit_keys(&format!("{prefix}{index}."), f);
    }
}

/// A chain: layer `i` is `nn.Sequential`'s module `i`, counting
/// parameterless layers (and [`GlobalAvgPool`] as two).
impl<T: Scalar, A: StateDict<T>, Rest: StateDict<T>> StateDict<T> for (A, Rest) {
    fn visit_keys(prefix: &str, f: &mut dyn FnMut(String, Vec<usize>)) {
        Self::visit_chain_keys(prefix, 0, f);
    }
    fn visit_chain_keys(prefix: &str, index: usize, f: &mut dyn FnMut(String, Vec<usize>)) {
        A::visit_keys(&format!("{prefix}{index}."), f);
        Rest::visit_chain_keys(prefix, index + A::MODULES, f);
    }
}

/// `body.*`.
impl<T: Scalar, Body: StateDict<T>> StateDict<T> for Residual<Body> {
    fn visit_keys(prefix: &str, f: &mut dyn FnMut(String, Vec<usize>)) {
        Body::visit_keys(&format!("{prefix}body."), f);
    }
}

/// `body.*`, then `shortcut.*`.
impl<T: Scalar, Body: StateDict<T>, Shortcut: StateDict<T>> StateDict<T> for Projected<Body, Shortcut> {
    fn visit_keys(prefix: &str, f: &mut dyn FnMut(String, Vec<usize>)) {
        Body::visit_keys(&format!("{prefix}body."), f);
        Shortcut::visit_keys(&format!("{prefix}shortcut."), f);
    }
}

/// PyTorch's one-layer `nn.RNN`, `nn.LSTM`, `nn.GRU`: `weight_ih_l0`
/// `[G·H, I]`, `weight_hh_l0` `[G·H, H]`, `bias_ih_l0` `[G·H]`,
/// `bias_hh_l0` `[G·H]` (typenet holds them `[G][H]…`, the same values in
/// the same order).
impl<C: Cell, I: ArrayLength, H: ArrayLength, T: Scalar> StateDict<T> for RecurrentLayer<C, I, H, T> {
    fn visit_keys(prefix: &str, f: &mut dyn FnMut(String, Vec<usize>)) {
        Self::visit_signature(&mut |name, dims| {
            let mut shape = sizes(dims);
            let gates = shape.remove(0);
            shape[0] *= gates;
            f(format!("{prefix}{name}_l0"), shape)
        });
    }
}

/// PyTorch's `nn.AdaptiveAvgPool2d(1), nn.Flatten()`: two modules, no keys.
impl<T: Scalar> StateDict<T> for GlobalAvgPool {
    const MODULES: usize = 2;
}

/// Layers whose tensors are PyTorch's by name and shape, and parameterless
/// layers (no keys).
macro_rules! state_dict_by_signature {
    ($(impl[$($gen:tt)*] for $ty:ty;)*) => {
        $(impl<TypenetScalar: Scalar, $($gen)*> StateDict<TypenetScalar> for $ty where $ty: Params<TypenetScalar> {})*
    };
}

state_dict_by_signature! {
    impl[I: ArrayLength, O: ArrayLength, T] for Dense<I, O, T>;
    impl[CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T] for Conv1d<CI, CO, K, S, P, T>;
    impl[CI: ArrayLength, CO: ArrayLength, K: ArrayLength, S, P, T] for Conv2d<CI, CO, K, S, P, T>;
    impl[C: crate::shape::Times<M>, K: ArrayLength, S, P, M, T] for DepthwiseConv2d<C, K, S, P, M, T>;
    impl[C: ArrayLength, T, A: Affinity] for BatchNorm<C, T, A>;
    impl[S: NormShape, T: Scalar] for LayerNorm<S, T>;
    impl[] for Sigmoid;
    impl[] for Tanh;
    impl[] for Relu;
    impl[T: Scalar] for LeakyRelu<T>;
    impl[T: Scalar] for Elu<T>;
    impl[] for Gelu;
    impl[] for GeluTanh;
    impl[] for Silu;
    impl[] for Softplus;
    impl[] for Relu6;
    impl[] for HardSigmoid;
    impl[] for HardSwish;
    impl[] for Identity;
    impl[] for Softmax;
    impl[] for LogSoftmax;
    impl[T: Scalar] for Dropout<T>;
    impl[] for Flatten;
    impl[Op, K, S] for Pool2d<Op, K, S>;
    impl[] for LastStep;
    impl[S] for Standardize<S>;
    impl[S] for Unstandardize<S>;
}

/// How typenet's keys become the PyTorch model's: renamed modules, then a
/// prefix. The default changes nothing (the keys of an `nn.Sequential`).
///
/// ```
/// use typenet::io::safetensors::{Names, state_dict_keys};
/// use typenet::prelude::*;
///
/// // class Net(nn.Module): self.lstm = nn.LSTM(3, 4); self.fc = nn.Linear(4, 2)
/// type Net = net![Lstm<U3, U4>, LastStep, Dense<U4, U2>];
/// let names = Names::new().rename("0", "lstm").rename("2", "fc");
/// let keys: Vec<_> = state_dict_keys::<Net, f32>(&names).into_iter().map(|(key, _)| key).collect();
/// assert_eq!(keys, ["lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"]);
///
/// // An nn.Sequential kept as `self.features`.
/// let keys = state_dict_keys::<net![Dense<U2, U2>], f32>(&Names::new().prefix("features."));
/// assert_eq!(keys[0].0, "features.0.weight");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Put before every key, after the renames.
    prefix: String,
    /// `(typenet's module path, PyTorch's)`, the first that matches wins.
    renames: Vec<(String, String)>,
}

impl Names {
    /// No renames, no prefix: an `nn.Sequential`'s keys.
    pub fn new() -> Names {
        Names::default()
    }

    /// Puts `prefix` before every key (`"features."`, `"model."`: give the
    /// dot).
    pub fn prefix(mut self, prefix: &str) -> Names {
        self.prefix = prefix.to_owned();
        self
    }

    /// Renames the module at typenet's path `from` (whole parts of a key:
    /// `"0"` or `"2.body"`; `"0"` renames `0.weight`, not `01.weight`) to
    /// `to`. Renames are tried in the order given; the first whose `from`
    /// starts a key applies.
    pub fn rename(mut self, from: &str, to: &str) -> Names {
        self.renames.push((from.to_owned(), to.to_owned()));
        self
    }

    /// The PyTorch key of typenet's `key`.
    fn apply(&self, key: String) -> String {
        for (from, to) in &self.renames {
            if let Some(rest) = key.strip_prefix(from.as_str())
                && (rest.is_empty() || rest.starts_with('.'))
            {
                return format!("{}{to}{rest}", self.prefix);
            }
        }
        format!("{}{key}", self.prefix)
    }
}

/// The keys and shapes (PyTorch's) of model `P`'s state tensors under
/// `names`, in the order of its `state_dict`: what [`load`] looks for and
/// [`save`] writes.
pub fn state_dict_keys<P: StateDict<T>, T: Scalar>(names: &Names) -> Vec<(String, Vec<usize>)> {
    let mut keys = Vec::new();
    P::visit_keys("", &mut |key, shape| keys.push((names.apply(key), shape)));
    keys
}

/// Why a `safetensors` file could not be loaded into a model, or a model
/// saved to one. Loading checks everything first: after an error the model
/// is as it was.
///
/// ```
/// use typenet::io::safetensors::{self, SafetensorsError};
/// use typenet::prelude::*;
///
/// let err = safetensors::load(&mut <net![Dense<U2, U1>]>::default(), b"not a file").unwrap_err();
/// assert!(matches!(err, SafetensorsError::Format { .. }));
/// assert!(err.to_string().starts_with("not a safetensors file: "));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SafetensorsError {
    /// The bytes are not a valid `safetensors` file (the official crate's
    /// reason: a header too short or too long, bad JSON, offsets that do
    /// not cover the data, …).
    Format {
        /// The `safetensors` crate's message.
        reason: String,
    },
    /// The model has a tensor the file lacks.
    Missing {
        /// The key the model looked for.
        key: String,
        /// Its shape in the model.
        shape: Vec<usize>,
    },
    /// The file has a tensor the model lacks.
    Unexpected {
        /// The key in the file.
        key: String,
        /// Its shape there.
        shape: Vec<usize>,
        /// Its dtype there (`"F32"`, …).
        dtype: String,
    },
    /// A tensor's shape in the file is not the model's.
    WrongShape {
        /// The tensor's key.
        key: String,
        /// Its shape in the model.
        expected: Vec<usize>,
        /// Its shape in the file.
        found: Vec<usize>,
    },
    /// A tensor's dtype does not convert to the model's scalar exactly.
    WrongDtype {
        /// The tensor's key.
        key: String,
        /// The model's scalar (`"f32"`, `"f64"`).
        scalar: &'static str,
        /// The dtypes the model reads for this tensor.
        accepted: &'static str,
        /// The dtype in the file (`"F64"`, …).
        found: String,
    },
    /// A value is NaN or infinite (in the file on loading, in the model on
    /// saving).
    NonFinite {
        /// The tensor's key.
        key: String,
        /// The value's index in the tensor, flat and row-major.
        index: usize,
    },
    /// A count (`num_batches_tracked`) cannot be held exactly: in the
    /// model's scalar on loading, as an `I64` on saving.
    Inexact {
        /// The tensor's key.
        key: String,
        /// The value, as read.
        value: String,
        /// Where it does not fit (`"f32"`, `"I64"`).
        target: &'static str,
    },
    /// Two tensors of the model have the same key (a [`Names`] that renames
    /// two modules alike).
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
}

/// `8×4`, or `a scalar`.
struct Shape<'a>(&'a [usize]);

impl fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.0.split_first() else {
            return f.write_str("a scalar");
        };
        write!(f, "{first}")?;
        rest.iter().try_for_each(|size| write!(f, "×{size}"))
    }
}

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SafetensorsError::*;
        match self {
            Format { reason } => write!(f, "not a safetensors file: {reason}"),
            Missing { key, shape } => write!(f, "tensor `{key}` ({}) is in the model, not in the file", Shape(shape)),
            Unexpected { key, shape, dtype } => {
                write!(f, "tensor `{key}` ({dtype}, {}) is in the file, not in the model", Shape(shape))
            }
            WrongShape { key, expected, found } => {
                write!(f, "tensor `{key}` is {} in the file, {} in the model", Shape(found), Shape(expected))
            }
            WrongDtype { key, scalar, accepted, found } => write!(
                f,
                "tensor `{key}` holds {found} values; an {scalar} model reads {accepted} here, nothing that would round"
            ),
            NonFinite { key, index } => write!(f, "tensor `{key}`: value {index} is not finite (NaN or infinite)"),
            Inexact { key, value, target } => {
                write!(f, "tensor `{key}` holds {value}, which {target} cannot hold exactly")
            }
            DuplicateKey { key } => write!(f, "two tensors of the model have the key `{key}`"),
            Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for SafetensorsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SafetensorsError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The safetensors dtype of scalar `T`.
fn dtype_of<T: Scalar>() -> Dtype {
    if T::BYTES == 8 { Dtype::F64 } else { Dtype::F32 }
}

/// `f16` bits as `f32`, exactly (every `f16` is an `f32`).
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let (exponent, mantissa) = (u32::from((h >> 10) & 0x1f), u32::from(h & 0x3ff));
    let magnitude = match exponent {
        // Zero and the subnormals: mantissa × 2⁻²⁴, exact in f32.
        0 => return f32::from_bits(sign | (mantissa as f32 * (1.0 / 16_777_216.0)).to_bits()),
        0x1f => 0xff << 23 | mantissa << 13,
        _ => (exponent + 127 - 15) << 23 | mantissa << 13,
    };
    f32::from_bits(sign | magnitude)
}

/// The values of a float tensor of `dtype` in `data`, widened to `T`, or
/// `None` when `dtype` does not widen to `T` exactly.
fn widened<T: Scalar>(dtype: Dtype, data: &[u8]) -> Option<Vec<T>> {
    let values = match dtype {
        Dtype::F64 if T::BYTES == 8 => data.chunks_exact(8).map(T::read_le).collect(),
        Dtype::F32 => data.chunks_exact(4).map(|b| T::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect(),
        Dtype::F16 => data.chunks_exact(2).map(|b| T::from_f32(f16_to_f32(u16::from_le_bytes([b[0], b[1]])))).collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| T::from_f32(f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16)))
            .collect(),
        _ => return None,
    };
    Some(values)
}

/// An integer tensor's values as `i128` (every integer dtype fits), or
/// `None` for a dtype that is not an integer.
fn integers(dtype: Dtype, data: &[u8]) -> Option<Vec<i128>> {
    fn read<const N: usize>(data: &[u8], f: impl Fn([u8; N]) -> i128) -> Vec<i128> {
        data.chunks_exact(N).map(|b| f(b.try_into().expect("chunks of N bytes"))).collect()
    }
    Some(match dtype {
        Dtype::I8 => read(data, |b| i8::from_le_bytes(b).into()),
        Dtype::U8 => read(data, |b| u8::from_le_bytes(b).into()),
        Dtype::I16 => read(data, |b| i16::from_le_bytes(b).into()),
        Dtype::U16 => read(data, |b| u16::from_le_bytes(b).into()),
        Dtype::I32 => read(data, |b| i32::from_le_bytes(b).into()),
        Dtype::U32 => read(data, |b| u32::from_le_bytes(b).into()),
        Dtype::I64 => read(data, |b| i64::from_le_bytes(b).into()),
        Dtype::U64 => read(data, |b| u64::from_le_bytes(b).into()),
        _ => return None,
    })
}

/// Whether `key` names a batch norm's step counter.
fn is_counter(key: &str) -> bool {
    key.rsplit('.').next() == Some(COUNTER)
}

/// The values of the file's tensor `key`, checked against the model's
/// `shape` and converted to `T`.
fn checked_values<T: Scalar>(file: &SafeTensors<'_>, key: &str, shape: &[usize]) -> Result<Vec<T>, SafetensorsError> {
    let view =
        file.tensor(key).map_err(|_| SafetensorsError::Missing { key: key.to_owned(), shape: shape.to_vec() })?;
    if view.shape() != shape {
        return Err(SafetensorsError::WrongShape {
            key: key.to_owned(),
            expected: shape.to_vec(),
            found: view.shape().to_vec(),
        });
    }
    let counter = is_counter(key);
    let values = match (widened::<T>(view.dtype(), view.data()), counter) {
        (Some(values), _) => values,
        (None, true) if let Some(counts) = integers(view.dtype(), view.data()) => {
            let mut values = Vec::with_capacity(counts.len());
            for count in counts {
                let value = T::from_f64(count as f64);
                if value.to_f64() as i128 != count || !value.is_finite() {
                    return Err(SafetensorsError::Inexact {
                        key: key.to_owned(),
                        value: count.to_string(),
                        target: T::NAME,
                    });
                }
                values.push(value);
            }
            values
        }
        (None, _) => {
            let accepted = match (counter, T::BYTES == 8) {
                (false, true) => "F64, F32, F16 or BF16",
                (false, false) => "F32, F16 or BF16",
                (true, true) => "an integer dtype, F64, F32, F16 or BF16",
                (true, false) => "an integer dtype, F32, F16 or BF16",
            };
            return Err(SafetensorsError::WrongDtype {
                key: key.to_owned(),
                scalar: T::NAME,
                accepted,
                found: view.dtype().to_string(),
            });
        }
    };
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(SafetensorsError::NonFinite { key: key.to_owned(), index });
    }
    Ok(values)
}

/// Loads `bytes`, a `safetensors` file, into `model`, each tensor by its
/// `state_dict` key: [`load_with`] and the default [`Names`].
pub fn load<P: StateDict<T>, T: Scalar>(model: &mut P, bytes: &[u8]) -> Result<(), SafetensorsError> {
    load_with(model, bytes, &Names::default())
}

/// Loads `bytes`, a `safetensors` file, into `model`, each tensor by its
/// key under `names`.
///
/// Atomic: every tensor is read, checked and converted first (see the
/// [module docs](self#checks)); on any error `model` is as it was. Never
/// panics on the file's contents.
pub fn load_with<P: StateDict<T>, T: Scalar>(
    model: &mut P,
    bytes: &[u8],
    names: &Names,
) -> Result<(), SafetensorsError> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| SafetensorsError::Format { reason: e.to_string() })?;
    let keys = unique_keys::<P, T>(names)?;
    let mut tensors = Vec::with_capacity(keys.len());
    for (key, shape) in &keys {
        tensors.push(checked_values::<T>(&file, key, shape)?);
    }
    let expected: BTreeSet<&str> = keys.iter().map(|(key, _)| key.as_str()).collect();
    let mut extra: Vec<&str> = file.names().into_iter().filter(|name| !expected.contains(name)).collect();
    extra.sort_unstable();
    if let Some(&key) = extra.first() {
        let view = file.tensor(key).map_err(|e| SafetensorsError::Format { reason: e.to_string() })?;
        return Err(SafetensorsError::Unexpected {
            key: key.to_owned(),
            shape: view.shape().to_vec(),
            dtype: view.dtype().to_string(),
        });
    }
    let mut tensors = tensors.into_iter();
    model.visit_state_mut(&mut |tensor| {
        if let Some(values) = tensors.next() {
            debug_assert_eq!(values.len(), tensor.len(), "StateDict's shapes disagree with Params::visit_state_mut");
            tensor.iter_mut().zip(values).for_each(|(p, v)| *p = v);
        }
    });
    debug_assert!(tensors.next().is_none(), "StateDict gives more tensors than Params::visit_state_mut");
    Ok(())
}

/// The keys of `P` under `names`, refusing two alike.
fn unique_keys<P: StateDict<T>, T: Scalar>(names: &Names) -> Result<Vec<(String, Vec<usize>)>, SafetensorsError> {
    let keys = state_dict_keys::<P, T>(names);
    let mut seen = BTreeSet::new();
    if let Some((key, _)) = keys.iter().find(|(key, _)| !seen.insert(key.as_str())) {
        return Err(SafetensorsError::DuplicateKey { key: key.clone() });
    }
    Ok(keys)
}

/// `model`'s tensors as a `safetensors` file: [`save_with`] and the default
/// [`Names`].
pub fn save<P: StateDict<T>, T: Scalar>(model: &P) -> Result<Vec<u8>, SafetensorsError> {
    save_with(model, &Names::default())
}

/// `model`'s tensors as a `safetensors` file, each under its key by
/// `names`: `F32` or `F64` by the model's scalar, `num_batches_tracked` as
/// `I64`. The bytes `safetensors.torch.save_file` writes for the same
/// `state_dict`.
///
/// Errors: [`SafetensorsError::NonFinite`] for a NaN or infinite value,
/// [`SafetensorsError::Inexact`] for a step count that is not a whole
/// number an `I64` holds, [`SafetensorsError::DuplicateKey`].
pub fn save_with<P: StateDict<T>, T: Scalar>(model: &P, names: &Names) -> Result<Vec<u8>, SafetensorsError> {
    let keys = unique_keys::<P, T>(names)?;
    let mut data: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    let mut error = None;
    let mut at = keys.iter();
    model.visit_state(&mut |tensor| {
        let Some((key, _)) = at.next() else { return };
        if error.is_some() {
            return;
        }
        if let Some(index) = tensor.iter().position(|v| !v.is_finite()) {
            error = Some(SafetensorsError::NonFinite { key: key.clone(), index });
            return;
        }
        let mut bytes = Vec::with_capacity(tensor.len() * 8);
        for &v in tensor {
            if is_counter(key) {
                let x = v.to_f64();
                if x.fract() != 0.0 || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x) {
                    error = Some(SafetensorsError::Inexact { key: key.clone(), value: x.to_string(), target: "I64" });
                    return;
                }
                bytes.extend_from_slice(&(x as i64).to_le_bytes());
            } else {
                let at = bytes.len();
                bytes.resize(at + T::BYTES, 0);
                v.write_le(&mut bytes[at..]);
            }
        }
        data.push(bytes);
    });
    if let Some(error) = error {
        return Err(error);
    }
    debug_assert_eq!(data.len(), keys.len(), "StateDict's keys disagree with Params::visit_state");
    let mut views = Vec::with_capacity(keys.len());
    for ((key, shape), bytes) in keys.iter().zip(&data) {
        let dtype = if is_counter(key) { Dtype::I64 } else { dtype_of::<T>() };
        let view = TensorView::new(dtype, shape.clone(), bytes)
            .map_err(|e| SafetensorsError::Format { reason: e.to_string() })?;
        views.push((key.as_str(), view));
    }
    ::safetensors::tensor::serialize(views, None).map_err(|e| SafetensorsError::Format { reason: e.to_string() })
}

/// Reads the file at `path` and [`load`]s it into `model`.
///
/// ```no_run
/// use typenet::io::safetensors;
/// use typenet::prelude::*;
///
/// // torch.save_file(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).state_dict(), "mlp.safetensors")
/// let mut net = <net![Dense<U4, U8>, Tanh, Dense<U8, U3>]>::default();
/// safetensors::load_file(&mut net, "mlp.safetensors")?;
/// # Ok::<(), safetensors::SafetensorsError>(())
/// ```
pub fn load_file<P: StateDict<T>, T: Scalar>(model: &mut P, path: impl AsRef<Path>) -> Result<(), SafetensorsError> {
    load_file_with(model, path, &Names::default())
}

/// Reads the file at `path` and loads it into `model` under `names`
/// ([`load_with`]).
pub fn load_file_with<P: StateDict<T>, T: Scalar>(
    model: &mut P,
    path: impl AsRef<Path>,
    names: &Names,
) -> Result<(), SafetensorsError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| SafetensorsError::Io { path: path.to_owned(), source })?;
    load_with(model, &bytes, names)
}

/// Writes `model` to the file at `path` ([`save`]); returns the number of
/// bytes written.
pub fn save_file<P: StateDict<T>, T: Scalar>(model: &P, path: impl AsRef<Path>) -> Result<usize, SafetensorsError> {
    save_file_with(model, path, &Names::default())
}

/// Writes `model` under `names` to the file at `path` ([`save_with`]);
/// returns the number of bytes written.
pub fn save_file_with<P: StateDict<T>, T: Scalar>(
    model: &P,
    path: impl AsRef<Path>,
    names: &Names,
) -> Result<usize, SafetensorsError> {
    let path = path.as_ref();
    let bytes = save_with(model, names)?;
    std::fs::write(path, &bytes).map_err(|source| SafetensorsError::Io { path: path.to_owned(), source })?;
    Ok(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_widens_exactly() {
        // 1, -2, 65504 (the largest), 2⁻¹⁴ (the smallest normal), 2⁻²⁴ (the smallest subnormal), -0, ∞.
        let cases: [(u16, f32); 7] = [
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x7bff, 65504.0),
            (0x0400, 6.103_515_6e-5),
            (0x0001, 5.960_464_5e-8),
            (0x8000, -0.0),
            (0x7c00, f32::INFINITY),
        ];
        for (bits, value) in cases {
            assert_eq!(f16_to_f32(bits).to_bits(), value.to_bits(), "{bits:#06x}");
        }
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x03ff), 1023.0 / 16_777_216.0);
    }

    #[test]
    fn renames_take_whole_parts() {
        let names = Names::new().rename("1", "fc").prefix("m.");
        assert_eq!(names.apply("1.weight".into()), "m.fc.weight");
        assert_eq!(names.apply("11.weight".into()), "m.11.weight");
        assert_eq!(names.apply("1".into()), "m.fc");
    }

    #[test]
    fn shapes_read_in_decimal() {
        assert_eq!(Shape(&[64, 16, 3, 3]).to_string(), "64×16×3×3");
        assert_eq!(Shape(&[]).to_string(), "a scalar");
    }
}
