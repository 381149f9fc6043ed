"""Read and write typenet parameter files (format versions 1 and 2) from Python.

A parameter file holds a model's parameters in the order of PyTorch's
``state_dict()`` of the equivalent ``nn.Sequential``, as little-endian f32 or
f64. Version 2, which this module writes, puts the model's architecture
before them: a 20-byte header, then a signature of every tensor, then the
values (all integers little-endian):

    offset      size            field
    0           4               magic b"TNET"
    4           2               format version, 2
    6           2               scalar tag: 1 = f32, 2 = f64
    8           4               parameter count
    12          4               CRC-32 of every byte from offset 16 on (zlib.crc32)
    16          4               S, the signature's length in u32 words
    20          4 * S           the signature: per tensor, role, rank, sizes
    20 + 4 * S  count * 4 or 8  the values

A tensor's role is FNV-1a (32-bit) of its name, the last part of its
``state_dict`` key (``weight``, ``bias``, ``running_mean``, ``running_var``,
``num_batches_tracked``; a recurrent layer's ``weight_ih_l0`` is
``weight_ih``), and its sizes are its shape as typenet holds it: PyTorch's,
except that a recurrent layer's weights ``[G*H, I]`` and biases ``[G*H]``
are ``[G, H, I]`` and ``[G, H]`` (one block per gate, the same values in the
same order; ``G = weight_hh.shape[0] // weight_hh.shape[1]``).

Version 1 files (the same first 16 bytes with version 1, the CRC-32 of the
values, then the values) are still read; they have no signature, so only
their count can be checked against a model.

This module checks what the crate checks (magic, version, scalar, the
architecture, count, length, checksum, finite values) and raises
``FormatError`` otherwise, with the crate's messages.

Integer entries of a state_dict travel as numbers of the file's scalar:
BatchNorm's ``num_batches_tracked`` (int64 in PyTorch) is a float in the
file, as in typenet's ``BatchNorm``. Saving refuses a count the scalar
cannot hold exactly (above 2**24 in f32); loading refuses a value that is
not a whole number in the integer's range.

numpy only::

    import typenet_io
    data = typenet_io.encode([("weight", weight), ("bias", bias)], "f32")   # bytes
    dtype, values = typenet_io.decode(data)                                  # "f32", flat array
    typenet_io.file_signature(data)     # [("weight", (8, 4)), ("bias", (8,))], None for version 1

with PyTorch (imported only by the functions that need it)::

    typenet_io.save_module(model, "model.tnet", "f32")
    typenet_io.load_module(model, "model.tnet")
    typenet_io.signature(model)         # the (role, shape) pairs a file of it holds

The command-line tools ``export_torch.py`` and ``import_torch.py`` beside
this file are built on it; see README.md beside this file and docs/interop.md
in the repository.
"""

import re
import struct
import sys
import zlib

import numpy as np

MAGIC = b"TNET"
VERSION = 2
HEADER_LEN = 20
HEADER_LEN_V1 = 16
# name -> (tag, little-endian numpy dtype)
SCALARS = {"f32": (1, np.dtype("<f4")), "f64": (2, np.dtype("<f8"))}
_HEADER = struct.Struct("<4sHHII")
# The tensor names of PyTorch's layers that typenet has: how messages name a role.
KNOWN_ROLES = [
    "weight",
    "bias",
    "running_mean",
    "running_var",
    "num_batches_tracked",
    "weight_ih",
    "weight_hh",
    "bias_ih",
    "bias_hh",
]
_RECURRENT = re.compile(r"^(?P<prefix>(?:.*\.)?)(?P<kind>weight|bias)_(?P<side>ih|hh)(?P<layer>_l\d+)?$")


class FormatError(ValueError):
    """The bytes are not a valid parameter file (or not the one expected)."""


def role_of(name):
    """The role word of a tensor named ``name``: FNV-1a (32-bit) of its UTF-8 bytes."""
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


_ROLE_NAMES = {role_of(name): name for name in KNOWN_ROLES}


def signature_len(records):
    """The signature's length in u32 words: 2 + rank per tensor."""
    return sum(2 + len(shape) for _, shape in records)


def encoded_len(count, dtype="f32", records=()):
    """The size in bytes of a version 2 file of ``count`` values of ``dtype``
    whose tensors are ``records``, ``[(role, shape), ...]``."""
    return HEADER_LEN + 4 * signature_len(records) + count * SCALARS[dtype][1].itemsize


def _signature_words(records):
    words = []
    for role, shape in records:
        words += [role_of(role), len(shape), *shape]
    if any(not 0 <= w <= 0xFFFF_FFFF for w in words):
        raise FormatError("a tensor's rank or size does not fit the format's 32-bit words")
    return words


def encode(tensors, dtype="f32"):
    """The version 2 file holding ``tensors``, ``[(role, array), ...]`` in
    order, as ``dtype``: each array's shape (typenet's) goes into the
    signature, its values, flattened row-major, after it."""
    tag, np_dtype = SCALARS[dtype]
    records = [(role, tuple(np.shape(a))) for role, a in tensors]
    flat = [np.ascontiguousarray(a, dtype=np.float64).ravel() for _, a in tensors]
    values = np.concatenate(flat) if flat else np.zeros(0)
    if not np.all(np.isfinite(values)):
        index = int(np.flatnonzero(~np.isfinite(values))[0])
        raise FormatError(f"parameter {index} is not finite (NaN or infinite)")
    if values.size > 0xFFFF_FFFF:
        raise FormatError(f"{values.size} parameters do not fit the format's 32-bit count")
    words = _signature_words(records)
    rest = struct.pack(f"<{1 + len(words)}I", len(words), *words) + values.astype(np_dtype).tobytes()
    return _HEADER.pack(MAGIC, VERSION, tag, values.size, zlib.crc32(rest)) + rest


def _role_text(role):
    return _ROLE_NAMES.get(role, f"field {role:#010x}")


def _shape_text(shape):
    return "×".join(str(s) for s in shape) if shape else "a scalar"


def _records(words):
    """The records of a file's signature words, and whether they end in a cut-short one."""
    records, at = [], 0
    while at < len(words):
        if at + 2 > len(words) or at + 2 + words[at + 1] > len(words):
            return records, True
        rank = words[at + 1]
        records.append((words[at], tuple(words[at + 2 : at + 2 + rank])))
        at += 2 + rank
    return records, False


def _mismatch(file_words, expected):
    """The crate's message for the first tensor where the file's signature
    differs from ``expected`` (``[(role, shape), ...]``), or None."""
    found, cut_short = _records(file_words)
    model = [(role_of(role), tuple(shape)) for role, shape in expected]
    for index, m in enumerate(model):
        f = found[index] if index < len(found) else None
        if f != m:
            return _tensor_message(index, f, m)
    if len(found) > len(model):
        return _tensor_message(len(model), found[len(model)], None)
    if cut_short:
        return _tensor_message(len(model), None, None)
    return None


def _tensor_message(index, f, m):
    """The crate's message for tensor ``index``, ``(role, shape)`` or None in the file and in the model."""
    suffix = ": it was saved from another architecture"
    if f is not None and m is not None and f[0] == m[0]:
        return f"tensor {index} ({_role_text(m[0])}) is {_shape_text(f[1])} in the file, {_shape_text(m[1])} in the model" + suffix
    if f is not None and m is not None:
        return (
            f"tensor {index} is {_role_text(f[0])} {_shape_text(f[1])} in the file, "
            f"{_role_text(m[0])} {_shape_text(m[1])} in the model" + suffix
        )
    if m is not None:
        return f"tensor {index} ({_role_text(m[0])}, {_shape_text(m[1])}) is in the model, not in the file" + suffix
    if f is not None:
        return f"tensor {index} ({_role_text(f[0])}, {_shape_text(f[1])}) is in the file, not in the model" + suffix
    return f"tensor {index} is cut short in the file's architecture signature"


def _header(data):
    """``(version, tag, count, checksum, signature words, values offset)`` after the
    magic, length and version checks."""
    if len(data) >= 4 and data[:4] != MAGIC:
        raise FormatError(f"not a typenet parameter file: it starts with {list(data[:4])}, expected {list(MAGIC)}")
    if len(data) < HEADER_LEN_V1:
        raise FormatError(f"parameter data is {len(data)} bytes long, shorter than the {HEADER_LEN_V1}-byte header")
    _, version, tag, count, checksum = _HEADER.unpack_from(data)
    if version not in (1, VERSION):
        raise FormatError(
            f"parameter file format version {version} is not supported (the newest this reads is {VERSION})"
        )
    if version == 1:
        return version, tag, count, checksum, None, HEADER_LEN_V1
    if len(data) < HEADER_LEN:
        raise FormatError(f"parameter data is {len(data)} bytes long, shorter than the {HEADER_LEN}-byte header")
    (length,) = struct.unpack_from("<I", data, HEADER_LEN_V1)
    available = (len(data) - HEADER_LEN) // 4
    n = min(length, available)
    words = list(struct.unpack_from(f"<{n}I", data, HEADER_LEN))
    return version, tag, count, checksum, words, HEADER_LEN + 4 * length


def file_signature(data):
    """The tensors a version 2 file records, ``[(role, shape), ...]`` (a role
    PyTorch names is its name, any other its hash); None for a version 1
    file. Checks the header and the checksum first."""
    data = bytes(data)
    _, _, _, checksum, words, _ = _header(data)
    _check_crc(data, checksum)
    if words is None:
        return None
    records, cut_short = _records(words)
    if cut_short:
        raise FormatError(f"tensor {len(records)} is cut short in the file's architecture signature")
    return [(_ROLE_NAMES.get(role, role), shape) for role, shape in records]


def _check_crc(data, checksum):
    computed = zlib.crc32(data[HEADER_LEN_V1:])
    if computed != checksum:
        raise FormatError(f"parameter file is damaged: its CRC-32 is {computed}, the header says {checksum}")


def decode(data, count=None, dtype=None, signature=None):
    """Checks ``data`` and returns ``(dtype, values)``: the scalar name and a
    flat float array. ``count``, ``dtype`` and ``signature`` (``[(role,
    shape), ...]`` as ``signature()`` gives), when given, must match the file;
    a version 1 file has no signature to check."""
    data = bytes(data)
    version, tag, found_count, checksum, words, values_at = _header(data)
    names = {t: name for name, (t, _) in SCALARS.items()}
    if tag not in names:
        raise FormatError(f"parameter file has an unknown scalar tag {tag}")
    if dtype is not None and names[tag] != dtype:
        raise FormatError(f"parameter file holds values of {names[tag]}, expected {dtype}")
    itemsize = SCALARS[names[tag]][1].itemsize
    if words is not None and signature is not None:
        message = _mismatch(words, signature)
        if message is not None:
            # Another architecture, unless the file is cut short or damaged.
            model_len = encoded_len(sum(int(np.prod(shape)) for _, shape in signature), names[tag], signature)
            if len(data) not in (values_at + found_count * itemsize, model_len):
                raise FormatError(f"parameter data is {len(data)} bytes long, expected {model_len} bytes")
            _check_crc(data, checksum)
            raise FormatError(message)
    if count is not None and found_count != count:
        raise FormatError(f"parameter file holds {found_count} parameters, the model has {count}")
    expected = values_at + found_count * itemsize
    if len(data) != expected:
        raise FormatError(f"parameter data is {len(data)} bytes long, expected {expected} bytes")
    _check_crc(data, checksum)
    if words is not None and _records(words)[1]:
        raise FormatError(f"tensor {len(_records(words)[0])} is cut short in the file's architecture signature")
    values = np.frombuffer(data[values_at:], dtype=SCALARS[names[tag]][1])
    if not np.all(np.isfinite(values)):
        index = int(np.flatnonzero(~np.isfinite(values))[0])
        raise FormatError(f"parameter {index} is not finite (NaN or infinite)")
    return names[tag], values


def read(path, count=None, dtype=None, signature=None):
    """``decode`` of the file at ``path``."""
    with open(path, "rb") as f:
        return decode(f.read(), count, dtype, signature)


def write(path, tensors, dtype="f32"):
    """Writes ``encode(tensors, dtype)`` to ``path``; returns the number of bytes."""
    data = encode(tensors, dtype)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def _is_integer(tensor):
    import torch

    return not tensor.is_floating_point() and not tensor.is_complex() and tensor.dtype != torch.bool


def _state_dict(module_or_state_dict):
    sd = module_or_state_dict
    if hasattr(sd, "state_dict"):
        sd = sd.state_dict()
    for name, tensor in sd.items():
        if not tensor.is_floating_point() and not _is_integer(tensor):
            raise FormatError(
                f"state_dict entry {name!r} is {tensor.dtype}, neither floating point nor an integer: "
                "the model has a layer typenet does not have"
            )
    return sd


def _as_file_values(name, tensor, dtype):
    """A state_dict entry as float64 values, refusing an integer the file's scalar cannot hold exactly."""
    values = tensor.detach().cpu().double().numpy()
    if _is_integer(tensor):
        exact = values.astype(SCALARS[dtype][1]).astype(np.float64)
        if not np.array_equal(exact, values) or not np.array_equal(values, tensor.detach().cpu().numpy()):
            raise FormatError(f"state_dict entry {name!r} holds integers that {dtype} cannot hold exactly")
    return values


def layout(module_or_state_dict):
    """``[(name, shape, numel), ...]`` in state_dict order: the file's layout."""
    return [(name, tuple(t.shape), t.numel()) for name, t in _state_dict(module_or_state_dict).items()]


def _typenet_record(sd, key):
    """The role and typenet shape of the state_dict entry ``key`` (of ``sd``)."""
    shape = tuple(sd[key].shape)
    role = key.rsplit(".", 1)[-1]
    recurrent = _RECURRENT.match(key)
    if recurrent is None:
        return role, shape
    layer = recurrent["layer"] or ""
    hh = sd.get(f"{recurrent['prefix']}weight_hh{layer}")
    if hh is None or hh.dim() != 2 or hh.shape[1] == 0 or hh.shape[0] % hh.shape[1] != 0:
        return role, shape  # not a recurrent layer typenet has: recorded as it is
    hidden = hh.shape[1]
    gates = hh.shape[0] // hidden
    return f"{recurrent['kind']}_{recurrent['side']}", (gates, hidden) + shape[1:]


def signature(module_or_state_dict):
    """``[(role, shape), ...]`` in state_dict order: the architecture a file of
    this model records, each tensor by its role (the last part of its key,
    a recurrent layer's ``_l0`` dropped) and its shape as typenet holds it
    (a recurrent layer's ``[G*H, ...]`` as ``[G, H, ...]``)."""
    sd = _state_dict(module_or_state_dict)
    return [_typenet_record(sd, key) for key in sd]


def save_module(module_or_state_dict, path, dtype="f32"):
    """Writes a module's (or a state_dict's) parameters to ``path`` as a
    version 2 file, walking ``state_dict()`` in order, its ``signature``
    before the values; returns the number of bytes."""
    sd = _state_dict(module_or_state_dict)
    tensors = []
    for key, t in sd.items():
        role, shape = _typenet_record(sd, key)
        tensors.append((role, _as_file_values(key, t, dtype).reshape(shape)))
    return write(path, tensors, dtype)


def load_module(module, path_or_bytes, dtype=None):
    """Loads a parameter file into ``module`` (its state_dict order and shapes;
    a version 2 file's signature must be the module's), converting values to each entry's dtype (an integer entry, such as
    BatchNorm's ``num_batches_tracked``, must hold a whole number in its
    range). Checks everything first: on an error the module is unchanged.
    Returns ``(dtype, module)``."""
    import torch

    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            data = f.read()
    template = _state_dict(module)
    count = sum(t.numel() for t in template.values())
    file_dtype, values = decode(data, count=count, dtype=dtype, signature=signature(template))
    new, at = {}, 0
    for name, t in template.items():
        chunk = values[at : at + t.numel()].astype(np.float64).reshape(t.shape)
        if _is_integer(t):
            info = torch.iinfo(t.dtype)
            if not np.all((chunk == np.round(chunk)) & (chunk >= info.min) & (chunk <= info.max)):
                raise FormatError(f"state_dict entry {name!r} is {t.dtype}, but the file holds {chunk.tolist()}")
        new[name] = torch.from_numpy(chunk.copy()).to(dtype=t.dtype, device=t.device)
        at += t.numel()
    module.load_state_dict(new)
    return file_dtype, module


def sequential(arch):
    """An ``nn.Sequential`` from a comma-separated list of ``torch.nn``
    constructors, e.g. ``"Linear(4, 8), Tanh(), Linear(8, 3)"`` or
    ``"Conv2d(1, 4, 3), BatchNorm2d(4), ReLU()"`` (with keywords, e.g.
    ``BatchNorm1d(8, momentum=None, affine=False)``). The text is evaluated
    with only ``torch.nn``'s names in scope."""
    import torch.nn as nn

    layers = eval(f"[{arch}]", {"__builtins__": {}}, dict(vars(nn)))  # noqa: S307 - a local tool's own argument
    return nn.Sequential(*layers)


def run(main, name):
    """Runs a command-line ``main``; the format's, PyTorch's and the file
    system's errors end it with one line on stderr instead of a traceback."""
    try:
        main()
    except (FormatError, RuntimeError, OSError) as e:
        sys.exit(f"{name}: {e}")
