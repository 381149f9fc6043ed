"""Read and write typenet parameter files (format version 1) from Python.

A parameter file holds a model's parameters in the order of PyTorch's
``state_dict()`` of the equivalent ``nn.Sequential``, as little-endian f32 or
f64, behind a 16-byte header (all integers little-endian):

    offset  size  field
    0       4     magic b"TNET"
    4       2     format version, 1
    6       2     scalar tag: 1 = f32, 2 = f64
    8       4     parameter count
    12      4     CRC-32 of the payload (zlib.crc32)
    16      ...   count values

This module checks what the crate checks (magic, version, scalar, count,
length, checksum, finite values) and raises ``FormatError`` otherwise.

Integer entries of a state_dict travel as numbers of the file's scalar:
BatchNorm's ``num_batches_tracked`` (int64 in PyTorch) is a float in the
file, as in typenet's ``BatchNorm``. Saving refuses a count the scalar
cannot hold exactly (above 2**24 in f32); loading refuses a value that is
not a whole number in the integer's range.

numpy only::

    import typenet_io
    data = typenet_io.encode([weight, bias], "f32")   # bytes
    dtype, values = typenet_io.decode(data)           # "f32", flat array

with PyTorch (imported only by the functions that need it)::

    typenet_io.save_module(model, "model.tnet", "f32")
    typenet_io.load_module(model, "model.tnet")

The command-line tools ``export_torch.py`` and ``import_torch.py`` beside
this file are built on it; see README.md beside this file and docs/interop.md
in the repository.
"""

import struct
import sys
import zlib

import numpy as np

MAGIC = b"TNET"
VERSION = 1
HEADER_LEN = 16
# name -> (tag, little-endian numpy dtype)
SCALARS = {"f32": (1, np.dtype("<f4")), "f64": (2, np.dtype("<f8"))}
_HEADER = struct.Struct("<4sHHII")


class FormatError(ValueError):
    """The bytes are not a valid parameter file (or not the one expected)."""


def encoded_len(count, dtype="f32"):
    """The size in bytes of a file of ``count`` parameters of ``dtype``."""
    return HEADER_LEN + count * SCALARS[dtype][1].itemsize


def encode(arrays, dtype="f32"):
    """The file holding ``arrays`` (each flattened row-major, in order) as ``dtype``."""
    tag, np_dtype = SCALARS[dtype]
    flat = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in arrays]
    values = np.concatenate(flat) if flat else np.zeros(0)
    if not np.all(np.isfinite(values)):
        index = int(np.flatnonzero(~np.isfinite(values))[0])
        raise FormatError(f"parameter {index} is not finite (NaN or infinite)")
    payload = values.astype(np_dtype).tobytes()
    if values.size > 0xFFFF_FFFF:
        raise FormatError(f"{values.size} parameters do not fit the format's 32-bit count")
    return _HEADER.pack(MAGIC, VERSION, tag, values.size, zlib.crc32(payload)) + payload


def decode(data, count=None, dtype=None):
    """Checks ``data`` and returns ``(dtype, values)``: the scalar name and a
    flat float array. ``count`` and ``dtype``, when given, must match the file."""
    data = bytes(data)
    if len(data) >= 4 and data[:4] != MAGIC:
        raise FormatError(f"not a typenet parameter file: it starts with {list(data[:4])}, expected {list(MAGIC)}")
    if len(data) < HEADER_LEN:
        raise FormatError(f"parameter data is {len(data)} bytes long, shorter than the {HEADER_LEN}-byte header")
    _, version, tag, found_count, checksum = _HEADER.unpack_from(data)
    if version != VERSION:
        raise FormatError(f"parameter file format version {version} is not supported (this reads version {VERSION})")
    names = {t: name for name, (t, _) in SCALARS.items()}
    if tag not in names:
        raise FormatError(f"parameter file has an unknown scalar tag {tag}")
    if dtype is not None and names[tag] != dtype:
        raise FormatError(f"parameter file holds values of {names[tag]}, expected {dtype}")
    if count is not None and found_count != count:
        raise FormatError(f"parameter file holds {found_count} parameters, the model has {count}")
    expected = encoded_len(found_count, names[tag])
    if len(data) != expected:
        raise FormatError(f"parameter data is {len(data)} bytes long, expected {expected} bytes")
    payload = data[HEADER_LEN:]
    computed = zlib.crc32(payload)
    if computed != checksum:
        raise FormatError(f"parameter file is damaged: its CRC-32 is {computed}, the header says {checksum}")
    values = np.frombuffer(payload, dtype=SCALARS[names[tag]][1])
    if not np.all(np.isfinite(values)):
        index = int(np.flatnonzero(~np.isfinite(values))[0])
        raise FormatError(f"parameter {index} is not finite (NaN or infinite)")
    return names[tag], values


def read(path, count=None, dtype=None):
    """``decode`` of the file at ``path``."""
    with open(path, "rb") as f:
        return decode(f.read(), count, dtype)


def write(path, arrays, dtype="f32"):
    """Writes ``encode(arrays, dtype)`` to ``path``; returns the number of bytes."""
    data = encode(arrays, dtype)
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


def save_module(module_or_state_dict, path, dtype="f32"):
    """Writes a module's (or a state_dict's) parameters to ``path``, walking
    ``state_dict()`` in order; returns the number of bytes."""
    arrays = [_as_file_values(name, t, dtype) for name, t in _state_dict(module_or_state_dict).items()]
    return write(path, arrays, dtype)


def load_module(module, path_or_bytes, dtype=None):
    """Loads a parameter file into ``module`` (its state_dict order and shapes),
    converting values to each entry's dtype (an integer entry, such as
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
    file_dtype, values = decode(data, count=count, dtype=dtype)
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
