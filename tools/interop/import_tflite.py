#!/usr/bin/env python3
"""A full-integer int8 TFLite model to typenet's int8 parameter file.

    python tools/interop/import_tflite.py model.tflite model_int8.tnet [--print-architecture]
                                          [--nest FIRST-LAST ...]

Reads the flatbuffer (with the schema module of `ai-edge-litert`; no
interpreter is run), recognises its operator graph as a typenet int8
architecture, converts every tensor to typenet's layout, computes every
fixed-point multiplier exactly as the Rust side does, and writes the file
`typenet::quant::file::load` reads into `quant::QuantizedOf<Net, Input>`. It
prints the int8 type the file is for and an `f32` `net![...]` whose
`QuantizedOf` is that type.

What is recognised (batch 1; activations int8 per tensor; weights int8
symmetric, per output channel or per tensor; biases int32):

| TFLite | typenet int8 (`quant::`) | `f32` layer |
| --- | --- | --- |
| CONV_2D (square kernel, equal strides, no dilation) | `Conv2d<CI, CO, K, S, P>` | `Conv2d` (+ `Relu`/`Relu6`) |
| DEPTHWISE_CONV_2D | `DepthwiseConv2d<C, K, S, P, M>` | `DepthwiseConv2d` |
| FULLY_CONNECTED | `Dense<I, O>` | `Dense` |
| MAX_POOL_2D, AVERAGE_POOL_2D (VALID) | `MaxPool2d<K, S>`, `AvgPool2d<K, S>` | the same |
| MEAN over H and W | `GlobalAvgPool` | `GlobalAvgPool` |
| RESHAPE to `[1, N]` (or a 4-D input to FULLY_CONNECTED) | `Flatten` | `Flatten` |
| a fork joined by ADD, one branch empty | `Residual<Body>` | `Residual` |
| a fork joined by ADD, both branches layers | `Projected<Body, Shortcut>` (the longer branch is the body) | `Projected` |
| PAD before CONV_2D / DEPTHWISE_CONV_2D | folded into the convolution's padding `P` | |
| QUANTIZE first, DEQUANTIZE last | the file's input and output quantisation | |

Fused activations NONE, RELU and RELU6 become the layer's clamp. TFLite's
padding must be what typenet's symmetric padding `P` computes: the same
leading padding on both axes and the same output size (Keras `'same'` with
stride 2 pads only at the end, which is not: build such models with
`ZeroPadding2D(P)` and `'valid'`). After a flatten, the Dense's columns
are permuted from Keras's HWC order to typenet's `[C][H][W]` order.

Everything the tool cannot take (an operator, a quantisation scheme, a
shape, a padding) is reported at once, one line per problem naming the
operator's index and name, and the exit status is 2; a file that is not a
TFLite model gives status 1.

`--nest FIRST-LAST` writes layers FIRST to LAST (the top-level int8 layers,
numbered from 0 as `--print-architecture` lists them) as a nested chain, a
`net![...]` inside the `net![...]`: the file's architecture signature
follows the nesting of the Rust type, so a model declared with blocks (the
MNIST DS-CNN's `Separable` chains) needs the same grouping here. Repeat
the option for several groups.

The arithmetic (the Rust side's, `src/quant/`; TFLite's, as
`tools/fixtures/gen_int8.py` documents it):

- `QuantizeMultiplier(real)`: `(q, e) = frexp(real)`, `m = round(q·2³¹)`
  (halves away from zero), `m = 2³¹` becomes `2³⁰` with `e + 1`, `e < −31`
  flushes to `(0, 0)`.
- Dense, Conv2d, DepthwiseConv2d, per output channel `o`:
  `QuantizeMultiplier(f64(s_in) · f64(s_w[o]) / f64(s_out))` (a per-tensor
  weight scale is repeated per channel).
- Clamp: NONE `[−128, 127]`; RELU `[zp, 127]`; RELU6
  `[zp, zp + round(f32(6 / s_out))]`, saturated to int8.
- GlobalAvgPool (TFLite's MEAN): `(m, e) = QuantizeMultiplier(f64(s_in) /
  f64(s_out))`, `n = H·W`, `k = max(0, min(⌊log₂ n⌋, 32, 31 + e))`,
  multiplier `(m << k) / n`, shift `e − k`.
- ADD: `t = f64(2·max(s₁, s₂))`, multipliers `QuantizeMultiplier(s₁ / t)`,
  `QuantizeMultiplier(s₂ / t)`, output `QuantizeMultiplier(t / (2²⁰·s_out))`.

The file (`src/quant/file.rs`): the 16-byte header (`TNET`, version 1,
scalar tag 3, the payload's size less the signature, CRC-32 of the payload),
then the payload: the architecture signature (`u32`, FNV-1a over each
layer's kind tag and sizes, chains combined as `signature(A, [Rest])`), the
input's and the output's scale (`f32`) and zero point (`i32`), then each
layer's tensors in `Int8Params::visit` order, little endian, weights, shifts
and clamp bounds one byte per value.

Needs numpy, flatbuffers and ai-edge-litert (for its flatbuffer schema):
see requirements-tflite.txt beside this file.
"""

import argparse
import math
import struct
import sys
import zlib

import numpy as np

try:
    from ai_edge_litert import schema_py_generated as schema
except ImportError:  # pragma: no cover - a TensorFlow installation has the same module
    from tensorflow.lite.python import schema_py_generated as schema

OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
ACTIVATIONS = {0: "none", 1: "relu", 3: "relu6"}
ACTIVATION_NAMES = {v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")}
INT8, INT32, FLOAT32 = schema.TensorType.INT8, schema.TensorType.INT32, schema.TensorType.FLOAT32
SUPPORTED = {
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "MAX_POOL_2D",
    "AVERAGE_POOL_2D",
    "MEAN",
    "ADD",
    "RESHAPE",
    "PAD",
    "QUANTIZE",
    "DEQUANTIZE",
}

# The int8 parameter file (src/io and src/quant/file.rs).
MAGIC, VERSION, INT8_TAG, HEADER_LEN = b"TNET", 1, 3, 16
SIGNATURE_SEED = 0x811C9DC5

# The kind tags of `Int8Params::SIGNATURE` (src/quant/*.rs).
KIND_DENSE, KIND_CONV, KIND_DEPTHWISE, KIND_MAX_POOL, KIND_AVG_POOL, KIND_FLATTEN = 1, 2, 3, 4, 5, 6
KIND_RESIDUAL, KIND_PROJECTED, KIND_GLOBAL_AVG_POOL = 7, 8, 9


class Unsupported(Exception):
    """The model has things typenet cannot run: ``problems`` lists them all."""

    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


class NotATfliteModel(Exception):
    """The bytes are not a TFLite flatbuffer."""


# ---------------------------------------------------------------------------
# Arithmetic, as the Rust side computes it
# ---------------------------------------------------------------------------


def c_round(x):
    """C's round / roundf: nearest, halves away from zero (Python's round() is banker's)."""
    x = float(x)
    a = abs(x)
    f = math.floor(a)
    r = f + 1 if a - f >= 0.5 else f
    return int(r) if x >= 0 else -int(r)


def quantize_multiplier(real):
    """`Requantize::from_real` (TFLite's QuantizeMultiplier): (multiplier, shift)."""
    real = float(real)
    if real == 0.0 or not math.isfinite(real):
        return 0, 0
    mantissa, shift = math.frexp(real)
    # mantissa·2³¹ + 0.5 is exact in f64, and int() truncates: round half up of a positive number.
    fixed = int(mantissa * float(1 << 31) + 0.5)
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return fixed, shift


def clamp_of(activation, scale, zero_point):
    """`Clamp::of`: the int8 bounds of a fused activation in the output's levels."""

    def bound(x):
        level = c_round(np.float32(x) / np.float32(scale)) + zero_point
        return max(-128, min(127, level))

    if activation == "none":
        return -128, 127
    if activation == "relu":
        return bound(0.0), 127
    return bound(0.0), bound(6.0)


def fnv1a(hash_, words):
    """`quant::signature`: FNV-1a over the little-endian bytes of u32 words."""
    for word in words:
        for b in int(word & 0xFFFFFFFF).to_bytes(4, "little"):
            hash_ ^= b
            hash_ = (hash_ * 0x01000193) & 0xFFFFFFFF
    return hash_


def tflite_padding(padding, size, k, s):
    """TFLite's ComputePaddingHeightWidth (dilation 1): (output size, leading pad)."""
    if padding == schema.Padding.SAME:
        out = (size + s - 1) // s
    else:
        out = (size - k + s) // s
    return out, max(((out - 1) * s + k - size) // 2, 0)


# ---------------------------------------------------------------------------
# The payload of a file: typed little-endian values in visit order
# ---------------------------------------------------------------------------


class Payload:
    def __init__(self):
        self.parts = []

    def weights(self, values):  # i8, one byte each
        self.parts.append(np.asarray(values, dtype=np.int64).astype("<i1").tobytes())

    def bounds(self, *values):  # i8 clamp bounds
        self.weights(values)

    def shifts(self, values):  # i32 in -31..=30, one byte each
        values = [int(v) for v in values]
        bad = [v for v in values if not -31 <= v <= 30]
        if bad:
            raise ValueError(f"shift {bad[0]} is outside -31..=30")
        self.parts.append(np.asarray(values, dtype=np.int64).astype("<i1").tobytes())

    def i32(self, values):  # biases, multipliers, zero points
        self.parts.append(np.asarray(values, dtype=np.int64).astype("<i4").tobytes())

    def qparams(self, q):
        self.parts.append(struct.pack("<fi", q.scale, q.zero_point))

    def bytes(self):
        return b"".join(self.parts)


class QParams:
    def __init__(self, scale, zero_point):
        self.scale, self.zero_point = np.float32(scale), int(zero_point)

    def __eq__(self, other):
        return self.scale == other.scale and self.zero_point == other.zero_point

    def __repr__(self):
        return f"scale {float(self.scale):.9g}, zero point {self.zero_point}"


# ---------------------------------------------------------------------------
# typenet's int8 layers
# ---------------------------------------------------------------------------


def u(n):
    """typenum's name of n."""
    return f"U{n}"


def generics(values, defaults):
    """Type arguments, trailing ones equal to their defaults left out."""
    values = list(values)
    while defaults and values and values[-1] == defaults[-1]:
        values.pop()
        defaults = defaults[:-1]
    return ", ".join(u(v) for v in values)


class Channels:
    """`quant::Channels`: the per-channel output stage of a layer with weights."""

    def __init__(self, weight_scales, bias, input_q, output_q, activation):
        self.input, self.output, self.activation = input_q, output_q, activation
        self.bias = [int(b) for b in bias]
        mults = [quantize_multiplier(float(input_q.scale) * float(s) / float(output_q.scale)) for s in weight_scales]
        self.multiplier = [m for m, _ in mults]
        self.shift = [s for _, s in mults]
        self.clamp = clamp_of(activation, output_q.scale, output_q.zero_point)

    def write(self, p):
        p.i32(self.bias)
        p.i32(self.multiplier)
        p.shifts(self.shift)
        p.qparams(self.input)
        p.qparams(self.output)
        p.bounds(*self.clamp)


def activation_suffix(activation):
    return {"none": [], "relu": ["Relu"], "relu6": ["Relu6"]}[activation]


class Dense:
    def __init__(self, op, weight, channels):
        self.op, self.weight, self.channels = op, weight, channels  # weight [O][I]

    def signature(self):
        o, i = self.weight.shape
        return fnv1a(SIGNATURE_SEED, [KIND_DENSE, i, o])

    def write(self, p):
        p.weights(self.weight.reshape(-1))
        self.channels.write(p)

    def int8_type(self):
        o, i = self.weight.shape
        return f"quant::Dense<{u(i)}, {u(o)}>"

    def f32_types(self):
        o, i = self.weight.shape
        return [f"Dense<{u(i)}, {u(o)}>"] + activation_suffix(self.channels.activation)


class Conv2d:
    def __init__(self, op, weight, stride, padding, channels):
        self.op, self.weight, self.stride, self.padding, self.channels = op, weight, stride, padding, channels

    def signature(self):
        co, ci, k, _ = self.weight.shape
        return fnv1a(SIGNATURE_SEED, [KIND_CONV, ci, co, k, self.stride, self.padding])

    def write(self, p):
        p.weights(self.weight.reshape(-1))
        self.channels.write(p)

    def int8_type(self):
        co, ci, k, _ = self.weight.shape
        return f"quant::Conv2d<{generics([ci, co, k, self.stride, self.padding], [None, None, None, 1, 0])}>"

    def f32_types(self):
        co, ci, k, _ = self.weight.shape
        if k == 1 and self.padding == 0:
            head = f"Pointwise<{generics([ci, co, self.stride], [None, None, 1])}>"
        else:
            head = f"Conv2d<{generics([ci, co, k, self.stride, self.padding], [None, None, None, 1, 0])}>"
        return [head] + activation_suffix(self.channels.activation)


class DepthwiseConv2d:
    def __init__(self, op, weight, channels_in, stride, padding, channels):
        self.op, self.weight, self.c, self.stride, self.padding, self.channels = (
            op,
            weight,
            channels_in,
            stride,
            padding,
            channels,
        )
        self.m = weight.shape[0] // channels_in

    def signature(self):
        k = self.weight.shape[1]
        return fnv1a(SIGNATURE_SEED, [KIND_DEPTHWISE, self.c, k, self.stride, self.padding, self.m])

    def write(self, p):
        p.weights(self.weight.reshape(-1))
        self.channels.write(p)

    def _generics(self):
        return generics([self.c, self.weight.shape[1], self.stride, self.padding, self.m], [None, None, 1, 0, 1])

    def int8_type(self):
        return f"quant::DepthwiseConv2d<{self._generics()}>"

    def f32_types(self):
        return [f"DepthwiseConv2d<{self._generics()}>"] + activation_suffix(self.channels.activation)


class Pool:
    def __init__(self, op, kind, k, s):
        self.op, self.kind, self.k, self.s = op, kind, k, s

    def signature(self):
        return fnv1a(SIGNATURE_SEED, [KIND_MAX_POOL if self.kind == "max" else KIND_AVG_POOL, self.k, self.s])

    def write(self, p):
        pass

    def _name(self):
        name = "MaxPool2d" if self.kind == "max" else "AvgPool2d"
        return f"{name}<{u(self.k)}>" if self.k == self.s else f"{name}<{u(self.k)}, {u(self.s)}>"

    def int8_type(self):
        return f"quant::{self._name()}"

    def f32_types(self):
        return [self._name()]


class Flatten:
    def __init__(self, op):
        self.op = op

    def signature(self):
        return fnv1a(SIGNATURE_SEED, [KIND_FLATTEN])

    def write(self, p):
        pass

    def int8_type(self):
        return "quant::Flatten"

    def f32_types(self):
        return ["Flatten"]


class GlobalAvgPool:
    def __init__(self, op, input_q, output_q, area):
        self.op, self.input, self.output, self.area = op, input_q, output_q, area
        m, shift = quantize_multiplier(float(input_q.scale) / float(output_q.scale))
        k = max(0, min(area.bit_length() - 1, 32, 31 + shift))
        self.multiplier, self.shift = (m << k) // area, shift - k

    def signature(self):
        return fnv1a(SIGNATURE_SEED, [KIND_GLOBAL_AVG_POOL])

    def write(self, p):
        p.qparams(self.input)
        p.qparams(self.output)
        p.i32([self.area])
        p.i32([self.multiplier])
        p.shifts([self.shift])

    def int8_type(self):
        return "quant::GlobalAvgPool"

    def f32_types(self):
        return ["GlobalAvgPool"]


class Add:
    """`quant::Add`: TFLite's int8 ADD, the first input the body's."""

    def __init__(self, op, input1, input2, output, activation):
        self.op, self.input1, self.input2, self.output, self.activation = op, input1, input2, output, activation
        twice_max = float(np.float32(2) * max(input1.scale, input2.scale))
        self.m1 = quantize_multiplier(float(input1.scale) / twice_max)
        self.m2 = quantize_multiplier(float(input2.scale) / twice_max)
        self.mo = quantize_multiplier(twice_max / (float(1 << 20) * float(output.scale)))
        self.clamp = clamp_of(activation, output.scale, output.zero_point)

    def write(self, p):
        for q in (self.input1, self.input2, self.output):
            p.qparams(q)
        p.bounds(*self.clamp)
        for m, s in (self.m1, self.m2, self.mo):
            p.i32([m])
            p.shifts([s])


class Chain:
    """A chain of layers: `net![...]`, `(A, (B, (C,)))`."""

    def __init__(self, layers):
        self.layers = layers

    def signature(self):
        sig = self.layers[-1].signature()
        for layer in reversed(self.layers[:-1]):
            sig = fnv1a(layer.signature(), [sig])
        return sig

    def write(self, p):
        for layer in self.layers:
            layer.write(p)

    def int8_type(self):
        return "net![" + ", ".join(layer.int8_type() for layer in self.layers) + "]"

    def f32_types(self):
        return ["net![" + ", ".join(t for layer in self.layers for t in layer.f32_types()) + "]"]


class Residual:
    def __init__(self, op, body, add):
        self.op, self.body, self.add = op, body, add

    def signature(self):
        return fnv1a(SIGNATURE_SEED, [KIND_RESIDUAL, self.body.signature()])

    def write(self, p):
        self.body.write(p)
        self.add.write(p)

    def int8_type(self):
        return f"quant::Residual<{self.body.int8_type()}>"

    def f32_types(self):
        return [f"Residual<{self.body.f32_types()[0]}>"] + activation_suffix(self.add.activation)


class Projected:
    def __init__(self, op, body, shortcut, add):
        self.op, self.body, self.shortcut, self.add = op, body, shortcut, add

    def signature(self):
        return fnv1a(SIGNATURE_SEED, [KIND_PROJECTED, self.body.signature(), self.shortcut.signature()])

    def write(self, p):
        self.body.write(p)
        self.shortcut.write(p)
        self.add.write(p)

    def int8_type(self):
        return f"quant::Projected<{self.body.int8_type()}, {self.shortcut.int8_type()}>"

    def f32_types(self):
        return [f"Projected<{self.body.f32_types()[0]}, {self.shortcut.f32_types()[0]}>"] + activation_suffix(
            self.add.activation
        )


class Model:
    """`quant::Quantized<Net>`: input and output quantisation, the layers."""

    def __init__(self, input_q, output_q, net, input_shape):
        self.input, self.output, self.net, self.input_shape = input_q, output_q, net, input_shape

    def signature(self):
        return self.net.signature()

    def payload(self):
        p = Payload()
        p.qparams(self.input)
        p.qparams(self.output)
        self.net.write(p)
        body = p.bytes()
        return struct.pack("<I", self.signature()) + body

    def file_bytes(self):
        payload = self.payload()
        header = struct.pack("<4sHHII", MAGIC, VERSION, INT8_TAG, len(payload) - 4, zlib.crc32(payload))
        return header + payload

    def input_type(self):
        if len(self.input_shape) == 1:
            return f"Vector<f32, {u(self.input_shape[0])}>"
        c, h, w = self.input_shape
        return f"Tensor3<f32, {u(c)}, {u(h)}, {u(w)}>"

    def int8_type(self):
        return f"quant::Quantized<{self.net.int8_type()}>"

    def f32_type(self):
        return self.net.f32_types()[0]


# ---------------------------------------------------------------------------
# Reading the flatbuffer
# ---------------------------------------------------------------------------


class Op:
    def __init__(self, index, name, inputs, outputs, options):
        self.index, self.name, self.inputs, self.outputs, self.options = index, name, inputs, outputs, options

    def opt(self, field, default=None):
        return getattr(self.options, field, default) if self.options is not None else default

    def label(self):
        return f"operator {self.index} ({self.name})"

    def source(self):
        """The label, with the PAD folded into it if any."""
        folded = getattr(self, "folded", None)
        return self.label() + (f" after {folded.label()}" if folded is not None else "")


class Graph:
    def __init__(self, data):
        data = bytes(data)
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise NotATfliteModel("not a TFLite model: the flatbuffer identifier is not TFL3")
        try:
            model = schema.ModelT.InitFromPackedBuf(data, 0)
        except Exception as e:  # a damaged flatbuffer raises anything
            raise NotATfliteModel(f"not a readable TFLite model: {e}") from e
        self.data, self.model = data, model
        self.subgraph_count = len(model.subgraphs or [])
        if self.subgraph_count == 0:
            raise NotATfliteModel("the TFLite model has no subgraph")
        sg = model.subgraphs[0]
        self.sg = sg
        self.tensors = sg.tensors or []
        self.inputs = [int(i) for i in (sg.inputs if sg.inputs is not None else [])]
        self.outputs = [int(i) for i in (sg.outputs if sg.outputs is not None else [])]
        self.ops = []
        for index, o in enumerate(sg.operators or []):
            code = model.operatorCodes[o.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            name = OP_NAMES.get(builtin, f"builtin {builtin}")
            if builtin == schema.BuiltinOperator.CUSTOM:
                name = f"CUSTOM {code.customCode.decode() if code.customCode else '?'}"
            ins = [int(i) for i in (o.inputs if o.inputs is not None else [])]
            outs = [int(i) for i in (o.outputs if o.outputs is not None else [])]
            self.ops.append(Op(index, name, ins, outs, o.builtinOptions))
        self.producer, self.consumers = {}, {}
        for op in self.ops:
            for t in op.outputs:
                self.producer[t] = op
            for t in op.inputs:
                if t >= 0:
                    self.consumers.setdefault(t, []).append(op)

    def shape(self, t):
        s = self.tensors[t].shape
        return [int(v) for v in s] if s is not None else []

    def type(self, t):
        return self.tensors[t].type

    def name(self, t):
        n = self.tensors[t].name
        return n.decode() if isinstance(n, bytes) else str(n)

    def is_const(self, t):
        return self.const_bytes(t) is not None

    def const_bytes(self, t):
        buf = self.model.buffers[self.tensors[t].buffer]
        if buf.data is not None and len(buf.data) > 0:
            return bytes(np.asarray(buf.data, dtype=np.uint8))
        if buf.offset > 1 and buf.size > 0:
            return self.data[buf.offset : buf.offset + buf.size]
        return None

    def const(self, t):
        dtype = {INT8: "<i1", INT32: "<i4", FLOAT32: "<f4", schema.TensorType.INT64: "<i8"}[self.type(t)]
        return np.frombuffer(self.const_bytes(t), dtype=dtype).reshape(self.shape(t))

    def quant(self, t):
        q = self.tensors[t].quantization
        if q is None or q.scale is None:
            return [], [], 0
        zps = [int(z) for z in q.zeroPoint] if q.zeroPoint is not None else []
        return [np.float32(s) for s in q.scale], zps, q.quantizedDimension

    def qparams(self, t):
        scales, zps, _ = self.quant(t)
        return QParams(scales[0], zps[0])


# ---------------------------------------------------------------------------
# Checks per operator: everything wrong is collected
# ---------------------------------------------------------------------------


def check_activation_tensor(g, op, t, what, problems):
    if g.type(t) != INT8:
        problems.append(f"{op.label()}: the {what} is {TYPE_NAMES.get(g.type(t), g.type(t))}, not int8")
        return
    scales, zps, _ = g.quant(t)
    if len(scales) != 1 or len(zps) != 1:
        problems.append(f"{op.label()}: the {what} is not quantised per tensor ({len(scales)} scales)")
        return
    if not (math.isfinite(scales[0]) and scales[0] > 0):
        problems.append(f"{op.label()}: the {what} has scale {scales[0]}")
    if not -128 <= zps[0] <= 127:
        problems.append(f"{op.label()}: the {what} has zero point {zps[0]}")


def check_weights(g, op, t, out_channels, axis, problems):
    if t < 0 or not g.is_const(t):
        problems.append(f"{op.label()}: the weights are not a constant tensor")
        return False
    if g.type(t) != INT8:
        problems.append(f"{op.label()}: the weights are {TYPE_NAMES.get(g.type(t), g.type(t))}, not int8")
        return False
    scales, zps, dim = g.quant(t)
    if len(scales) not in (1, out_channels):
        problems.append(f"{op.label()}: {len(scales)} weight scales for {out_channels} output channels")
        return False
    if len(scales) > 1 and dim != axis:
        problems.append(f"{op.label()}: the weights are quantised along dimension {dim}, not the output channels")
        return False
    if any(z != 0 for z in zps):
        problems.append(f"{op.label()}: the weights are not symmetric (a zero point is not 0)")
        return False
    if not all(math.isfinite(s) and s > 0 for s in scales):
        problems.append(f"{op.label()}: a weight scale is not positive")
        return False
    return True


def check_bias(g, op, out_channels, problems):
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return True
    t = op.inputs[2]
    if not g.is_const(t):
        problems.append(f"{op.label()}: the bias is not a constant tensor")
        return False
    if g.type(t) != INT32:
        problems.append(f"{op.label()}: the bias is {TYPE_NAMES.get(g.type(t), g.type(t))}, not int32")
        return False
    if int(np.prod(g.shape(t))) != out_channels:
        problems.append(f"{op.label()}: the bias has {int(np.prod(g.shape(t)))} values for {out_channels} channels")
        return False
    return True


def check_fused(op, problems):
    act = op.opt("fusedActivationFunction", 0)
    if act not in ACTIVATIONS:
        problems.append(f"{op.label()}: fused activation {ACTIVATION_NAMES.get(act, act)} (typenet fuses NONE, RELU, RELU6)")


def check_op(g, op, problems):
    """The checks of one operator on its own; its place in the graph is checked by the walk."""
    if op.name not in SUPPORTED:
        problems.append(f"{op.label()}: typenet has no int8 layer for this operator")
        return
    if op.name == "QUANTIZE":
        if g.type(op.inputs[0]) != FLOAT32 or op.inputs[0] not in g.inputs:
            problems.append(f"{op.label()}: QUANTIZE is only supported on the model's float32 input")
        check_activation_tensor(g, op, op.outputs[0], "output", problems)
        return
    if op.name == "DEQUANTIZE":
        if g.type(op.outputs[0]) != FLOAT32 or op.outputs[0] not in g.outputs:
            problems.append(f"{op.label()}: DEQUANTIZE is only supported as the model's float32 output")
        check_activation_tensor(g, op, op.inputs[0], "input", problems)
        return
    data_inputs = {"ADD": op.inputs[:2]}.get(op.name, op.inputs[:1])
    for i, t in enumerate(data_inputs):
        if t < 0 or g.is_const(t):
            problems.append(f"{op.label()}: input {i} is a constant (typenet's layers take activations)")
        else:
            check_activation_tensor(g, op, t, "input" if len(data_inputs) == 1 else f"input {i}", problems)
    if len(op.outputs) != 1:
        problems.append(f"{op.label()}: {len(op.outputs)} outputs")
        return
    out = op.outputs[0]
    check_activation_tensor(g, op, out, "output", problems)
    shape_in = g.shape(op.inputs[0]) if op.inputs and op.inputs[0] >= 0 else []
    if shape_in and shape_in[0] != 1:
        problems.append(f"{op.label()}: batch size {shape_in[0]} (typenet's int8 models take one sample)")
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        check_fused(op, problems)
        if len(shape_in) != 4:
            problems.append(f"{op.label()}: input shape {shape_in}, not [1, H, W, C]")
        if op.opt("dilationHFactor", 1) != 1 or op.opt("dilationWFactor", 1) != 1:
            problems.append(
                f"{op.label()}: dilation {op.opt('dilationHFactor')}×{op.opt('dilationWFactor')} (typenet has none)"
            )
        if op.opt("strideH") != op.opt("strideW"):
            problems.append(f"{op.label()}: strides {op.opt('strideH')}×{op.opt('strideW')} differ")
        w_shape = g.shape(op.inputs[1]) if op.inputs[1] >= 0 else []
        if len(w_shape) != 4:
            problems.append(f"{op.label()}: weight shape {w_shape}")
            return
        if w_shape[1] != w_shape[2]:
            problems.append(f"{op.label()}: a {w_shape[1]}×{w_shape[2]} kernel (typenet's are square)")
        depthwise = op.name == "DEPTHWISE_CONV_2D"
        out_channels = w_shape[3] if depthwise else w_shape[0]
        if check_weights(g, op, op.inputs[1], out_channels, 3 if depthwise else 0, problems):
            check_bias(g, op, out_channels, problems)
        if depthwise and len(shape_in) == 4 and out_channels % shape_in[3] != 0:
            problems.append(f"{op.label()}: {out_channels} output channels for {shape_in[3]} input channels")
        if not depthwise and len(shape_in) == 4 and w_shape[3] != shape_in[3]:
            problems.append(f"{op.label()}: grouped convolution ({w_shape[3]} of {shape_in[3]} input channels)")
    elif op.name == "FULLY_CONNECTED":
        check_fused(op, problems)
        if op.opt("weightsFormat", 0) != 0:
            problems.append(f"{op.label()}: shuffled weights format")
        w_shape = g.shape(op.inputs[1]) if op.inputs[1] >= 0 else []
        if len(w_shape) != 2:
            problems.append(f"{op.label()}: weight shape {w_shape}")
            return
        if check_weights(g, op, op.inputs[1], w_shape[0], 0, problems):
            check_bias(g, op, w_shape[0], problems)
        if shape_in and int(np.prod(shape_in)) != w_shape[1]:
            problems.append(f"{op.label()}: input of {int(np.prod(shape_in))} values for {w_shape[1]} weight columns")
        if len(g.shape(out)) != 2 and not (op.opt("keepNumDims") and int(np.prod(g.shape(out)[:-1])) == 1):
            problems.append(f"{op.label()}: output shape {g.shape(out)}")
    elif op.name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        act = op.opt("fusedActivationFunction", 0)
        if act != 0:
            problems.append(f"{op.label()}: fused activation {ACTIVATION_NAMES.get(act, act)} on a pool (typenet's pools have none)")
        if op.opt("filterHeight") != op.opt("filterWidth"):
            problems.append(f"{op.label()}: a {op.opt('filterHeight')}×{op.opt('filterWidth')} window (typenet's are square)")
        if op.opt("strideH") != op.opt("strideW"):
            problems.append(f"{op.label()}: strides {op.opt('strideH')}×{op.opt('strideW')} differ")
        if len(shape_in) == 4:
            for axis in (1, 2):
                k, s = op.opt("filterHeight"), op.opt("strideH")
                o, pad = tflite_padding(op.opt("padding"), shape_in[axis], k, s)
                if pad != 0 or o != (shape_in[axis] - k) // s + 1:
                    problems.append(f"{op.label()}: padded pooling (typenet's pools take no padding)")
                    break
        else:
            problems.append(f"{op.label()}: input shape {shape_in}, not [1, H, W, C]")
        if g.quant(op.inputs[0])[:2] != g.quant(out)[:2]:
            problems.append(f"{op.label()}: the output's quantisation differs from the input's")
    elif op.name == "MEAN":
        axes = op.inputs[1] if len(op.inputs) > 1 else -1
        if axes < 0 or not g.is_const(axes) or sorted(int(a) % 4 for a in g.const(axes).reshape(-1)) != [1, 2]:
            problems.append(f"{op.label()}: MEAN is only supported over the height and width (axes 1 and 2)")
        if len(shape_in) != 4:
            problems.append(f"{op.label()}: input shape {shape_in}, not [1, H, W, C]")
    elif op.name == "ADD":
        check_fused(op, problems)
        if len(op.inputs) >= 2 and op.inputs[1] >= 0 and g.shape(op.inputs[0]) != g.shape(op.inputs[1]):
            problems.append(f"{op.label()}: inputs of shapes {g.shape(op.inputs[0])} and {g.shape(op.inputs[1])} (no broadcasting)")
    elif op.name == "RESHAPE":
        if g.quant(op.inputs[0])[:2] != g.quant(out)[:2]:
            problems.append(f"{op.label()}: the output's quantisation differs from the input's")
        s_out = g.shape(out)
        if len(s_out) != 2 or s_out[0] != 1:
            problems.append(f"{op.label()}: RESHAPE to {s_out} (typenet flattens to [1, N] only)")
    elif op.name == "PAD":
        pads = op.inputs[1] if len(op.inputs) > 1 else -1
        if pads < 0 or not g.is_const(pads):
            problems.append(f"{op.label()}: the paddings are not constant")
        else:
            p = g.const(pads).reshape(-1, 2).tolist()
            if len(p) != 4 or p[0] != [0, 0] or p[3] != [0, 0]:
                problems.append(f"{op.label()}: paddings {p} (only the height and width may be padded)")
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            problems.append(f"{op.label()}: a constant padding value (typenet pads with the zero point)")
        if g.quant(op.inputs[0])[:2] != g.quant(out)[:2]:
            problems.append(f"{op.label()}: the output's quantisation differs from the input's")


# ---------------------------------------------------------------------------
# The walk: operators to typenet layers
# ---------------------------------------------------------------------------


class Walk:
    def __init__(self, g, bad=()):
        self.g = g
        self.bad = set(bad)  # operators check_op refused: walked past, not converted
        self.stop = -1  # the model's last int8 tensor
        self.notes = []  # what the file holds differently from TFLite, for the user
        self.problems = []
        self.visited = set()
        self.flattened = {}  # a RESHAPE's output -> the (C, H, W) it flattened

    def problem(self, op, text):
        self.problems.append(f"{op.label()}: {text}")

    def consumers(self, t):
        return self.g.consumers.get(t, [])

    def joins(self, op):
        """Whether `op` takes two activations: where the branches of a fork meet."""
        data = [t for t in op.inputs if t >= 0 and not self.g.is_const(t)]
        return op.name == "ADD" or len(data) > 1

    def chain(self, t, shape, stop):
        """Layers from tensor `t` (typenet shape `shape`) until `stop` or a join.

        Returns (layers, tensor, shape, join): `join` is the ADD op whose input
        the walk reached (None when it reached `stop`)."""
        layers = []
        while t != stop:
            cons = self.consumers(t)
            if not cons:
                self.problems.append(f"tensor {t} ({self.g.name(t)}) leads nowhere: the graph is not one chain")
                return layers, t, shape, None
            if len(cons) == 1 and self.joins(cons[0]):
                return layers, t, shape, cons[0]
            if len(cons) == 2:
                block, t, shape = self.fork(t, shape, cons)
                if block is None:
                    return layers, t, shape, None
                layers.append(block)
                continue
            if len(cons) > 2:
                self.problems.append(
                    f"tensor {t} ({self.g.name(t)}) feeds {len(cons)} operators "
                    f"({', '.join(c.label() for c in cons)}): typenet's blocks fork in two"
                )
                return layers, t, shape, None
            layer, t, shape = self.step(cons[0], shape)
            if t is None:
                return layers, t, shape, None
            if layer is not None:
                layers.extend(layer if isinstance(layer, list) else [layer])
        return layers, t, shape, None

    def fork(self, t, shape, cons):
        """A residual block from tensor `t` whose two consumers are `cons`."""
        branches = []
        for op in cons:
            if op.name == "ADD":
                branches.append(([], t, shape, op))
                continue
            layers, end, end_shape, join = self.branch(op, shape)
            branches.append((layers, end, end_shape, join))
        joins = {b[3].index if b[3] is not None else None for b in branches}
        add_op = branches[0][3]
        if None in joins or len(joins) != 1 or add_op.name != "ADD":
            where = f"join at {add_op.label()}" if add_op is not None and len(joins) == 1 else "do not join"
            self.problems.append(
                f"tensor {t} ({self.g.name(t)}) forks into {', '.join(c.label() for c in cons)}, "
                f"which {where}: typenet's blocks join at an ADD"
            )
            return None, None, shape
        if add_op.index in self.visited:
            self.problems.append(f"{add_op.label()}: joins more than one fork")
            return None, None, shape
        self.visited.add(add_op.index)
        if {branches[0][1], branches[1][1]} != set(add_op.inputs[:2]) or branches[0][1] == branches[1][1]:
            self.problem(add_op, "does not add the two branches of one fork")
            return None, None, shape
        if branches[0][2] != branches[1][2]:
            self.problem(add_op, f"adds branches of typenet shapes {branches[0][2]} and {branches[1][2]}")
        g = self.g
        out = add_op.outputs[0]
        act = ACTIVATIONS.get(add_op.opt("fusedActivationFunction", 0), "none")
        # The body is the longer branch (the skip when one is empty); on a tie, ADD's first input.
        order = sorted(range(2), key=lambda i: (-len(branches[i][0]), add_op.inputs.index(branches[i][1])))
        body, other = branches[order[0]], branches[order[1]]
        add = Add(add_op, g.qparams(body[1]), g.qparams(other[1]), g.qparams(out), act)
        if not body[0]:
            self.problem(add_op, "adds a tensor to itself")
            return None, None, shape
        if not other[0]:
            block = Residual(add_op, Chain(body[0]), add)
        else:
            block = Projected(add_op, Chain(body[0]), Chain(other[0]), add)
        return block, out, body[2]

    def branch(self, op, shape):
        """The layers from `op` on, until a join."""
        layer, t, shape = self.step(op, shape)
        layers = [] if layer is None else (layer if isinstance(layer, list) else [layer])
        if t is None:
            return layers, None, shape, None
        more, t, shape, join = self.chain(t, shape, stop=self.stop)
        return layers + more, t, shape, join

    def step(self, op, shape):
        """One operator (a PAD with the convolution after it): (layer or None, next tensor, shape)."""
        g = self.g
        if op.index in self.visited:
            self.problem(op, "reached twice: the graph is not a chain of blocks")
            return None, None, shape
        self.visited.add(op.index)
        out = op.outputs[0] if op.outputs else None
        name = op.name
        if op.index in self.bad:
            return None, out, self.shape_after(out, shape)
        if name == "PAD":
            cons = self.consumers(out)
            if len(cons) != 1 or cons[0].name not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                self.problem(op, "PAD is only supported right before a CONV_2D or DEPTHWISE_CONV_2D, which it feeds alone")
                return None, out, self.shape_after(out, shape)
            pads = g.const(op.inputs[1]).reshape(-1, 2).tolist()
            conv = cons[0]
            self.visited.add(conv.index)
            if conv.index in self.bad:
                return None, conv.outputs[0], self.shape_after(conv.outputs[0], shape)
            return self.conv(conv, shape, pads[1], pads[2], pad_op=op)
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            return self.conv(op, shape, [0, 0], [0, 0])
        if name in ("QUANTIZE", "DEQUANTIZE"):
            self.problem(op, f"{name} inside the graph (only the model's input and output may be float)")
            return None, out, self.shape_after(out, shape)
        if name == "FULLY_CONNECTED":
            layers = []
            flattened = self.flattened.get(op.inputs[0])
            if shape is not None and len(shape) == 3:
                layers.append(Flatten(op))
                flattened, shape = shape, [int(np.prod(shape))]
            w = g.const(op.inputs[1]).astype(np.int64)
            o, n = w.shape
            if flattened is not None:
                c, h, wd = flattened
                if c * h * wd == n:
                    # TFLite's columns are in HWC order; typenet's Flatten is [C][H][W].
                    perm = np.array([hh * wd * c + ww * c + cc for cc in range(c) for hh in range(h) for ww in range(wd)])
                    w = w[:, perm]
            if shape is not None and shape != [n]:
                self.problem(op, f"takes {n} values, typenet's previous layer gives {shape}")
            layers.append(Dense(op, w, self.channels(op, o)))
            return layers, out, [o]
        if name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            if shape is None or len(shape) != 3:
                self.problem(op, f"pools a typenet tensor of shape {shape}")
                return None, out, self.shape_after(out, shape)
            k, s = op.opt("filterHeight"), op.opt("strideH")
            c, h, w = shape
            return Pool(op, "max" if name == "MAX_POOL_2D" else "avg", k, s), out, [c, (h - k) // s + 1, (w - k) // s + 1]
        if name == "MEAN":
            if shape is None or len(shape) != 3:
                self.problem(op, f"averages a typenet tensor of shape {shape}")
                return None, out, self.shape_after(out, shape)
            c, h, w = shape
            return GlobalAvgPool(op, g.qparams(op.inputs[0]), g.qparams(out), h * w), out, [c]
        if name == "RESHAPE":
            if shape is not None and len(shape) == 1:
                return None, out, shape  # a vector to [1, N]: nothing to do
            if shape is not None and len(shape) == 3:
                c, h, w = shape
                nxt = self.consumers(out)
                if c > 1 and h * w > 1 and not (len(nxt) == 1 and nxt[0].name == "FULLY_CONNECTED"):
                    self.problem(
                        op,
                        "flattens [H, W, C] in TFLite's order, typenet's Flatten is [C][H][W]: "
                        "only supported before a FULLY_CONNECTED (whose columns are then permuted)",
                    )
                self.flattened[out] = (c, h, w)
                return Flatten(op), out, [c * h * w]
            return None, out, self.shape_after(out, shape)
        if name == "ADD":
            self.problem(op, "ADD that does not join the two branches of a fork")
            return None, out, self.shape_after(out, shape)
        raise AssertionError(name)

    def shape_after(self, t, shape):
        """typenet's shape of TFLite tensor `t`, after something unsupported."""
        if t is None:
            return shape
        s = self.g.shape(t)
        if len(s) == 4:
            return [s[3], s[1], s[2]]
        return [int(np.prod(s[1:]))] if len(s) >= 2 else shape

    def channels(self, op, out_channels):
        g = self.g
        scales, _, _ = g.quant(op.inputs[1])
        if len(scales) == 1 and op.name == "FULLY_CONNECTED" and out_channels > 1:
            self.notes.append(
                f"{op.label()}: weights quantised per tensor; TFLite's kernels derive this layer's multiplier "
                "from the f32 product s_in·s_w, typenet from the f64 product, so an output can differ by one step"
            )
        scales = list(scales) * out_channels if len(scales) == 1 else list(scales)
        if len(op.inputs) > 2 and op.inputs[2] >= 0 and g.is_const(op.inputs[2]):
            bias = g.const(op.inputs[2]).reshape(-1).astype(np.int64)
        else:
            bias = np.zeros(out_channels, dtype=np.int64)
        act = ACTIVATIONS.get(op.opt("fusedActivationFunction", 0), "none")
        return Channels(scales, bias, g.qparams(op.inputs[0]), g.qparams(op.outputs[0]), act)

    def conv(self, op, shape, pad_h, pad_w, pad_op=None):
        """CONV_2D or DEPTHWISE_CONV_2D, after a PAD of `pad_h`, `pad_w` ([before, after])."""
        g = self.g
        out = op.outputs[0]
        w_shape = g.shape(op.inputs[1])
        if shape is None or len(shape) != 3 or len(w_shape) != 4:
            self.problem(op, f"convolves a typenet tensor of shape {shape}")
            return None, out, self.shape_after(out, shape)
        c, h, wd = shape
        k, s = w_shape[1], op.opt("strideH")
        out_shape = g.shape(out)
        lead = []
        for size, pad, out_size in ((h, pad_h, out_shape[1]), (wd, pad_w, out_shape[2])):
            o, p = tflite_padding(op.opt("padding"), size + pad[0] + pad[1], k, s)
            if o != out_size:
                self.problem(op, f"output size {out_size} where TFLite's padding rule gives {o}")
            lead.append(pad[0] + p)
        p = lead[0]
        where = f"{op.label()}" + (f" after {pad_op.label()}" if pad_op is not None else "")
        typenet_out = [(size + 2 * p - k) // s + 1 if size + 2 * p >= k else None for size in (h, wd)]
        if lead[0] != lead[1] or typenet_out != out_shape[1:3]:
            self.problems.append(
                f"{where}: asymmetric padding: TFLite pads {lead[0]} rows and {lead[1]} columns first and "
                f"outputs {out_shape[1]}×{out_shape[2]}, typenet's padding {p} gives "
                f"{typenet_out[0]}×{typenet_out[1]} (for stride 2 build ZeroPadding2D(P) + padding='valid')"
            )
        w = g.const(op.inputs[1]).astype(np.int64)
        if pad_op is not None:
            op.folded = pad_op
        if op.name == "CONV_2D":
            co = w_shape[0]
            weight = w.transpose(0, 3, 1, 2)  # [O][KH][KW][I] -> [O][I][KH][KW]
            layer = Conv2d(op, weight, s, p, self.channels(op, co))
        else:
            co = w_shape[3]
            weight = w[0].transpose(2, 0, 1)  # [1][KH][KW][C·M] -> [C·M][KH][KW]
            layer = DepthwiseConv2d(op, weight, c, s, p, self.channels(op, co))
        return layer, out, [co, out_shape[1], out_shape[2]]


def nest(layers, groups):
    """Top-level layers FIRST..LAST of each group as a nested chain."""
    out, i = [], 0
    groups = sorted(groups)
    for first, last in groups:
        if first < i or last >= len(layers) or first > last:
            raise ValueError(f"--nest {first}-{last}: groups must lie within layers 0-{len(layers) - 1} and not overlap")
        out.extend(layers[i:first])
        out.append(Chain(layers[first : last + 1]))
        i = last + 1
    out.extend(layers[i:])
    return out


def recognise(g, groups=()):
    """The typenet int8 model of graph `g`, or Unsupported with every problem."""
    problems = []
    if g.subgraph_count != 1:
        problems.append(f"the model has {g.subgraph_count} subgraphs (typenet runs one)")
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        problems.append(f"the model has {len(g.inputs)} inputs and {len(g.outputs)} outputs (typenet's have one each)")
        raise Unsupported(problems)
    bad = set()
    for op in g.ops:
        before = len(problems)
        check_op(g, op, problems)
        if len(problems) > before:
            bad.add(op.index)
    start, stop = g.inputs[0], g.outputs[0]
    cons = g.consumers.get(start, [])
    if len(cons) == 1 and cons[0].name == "QUANTIZE":
        start = cons[0].outputs[0]
    elif g.type(start) != INT8:
        problems.append(f"the model's input is {TYPE_NAMES.get(g.type(start))} with no QUANTIZE after it")
    producer = g.producer.get(stop)
    if producer is not None and producer.name == "DEQUANTIZE":
        stop = producer.inputs[0]
    elif g.type(stop) != INT8:
        problems.append(f"the model's output is {TYPE_NAMES.get(g.type(stop))} with no DEQUANTIZE before it")
    s = g.shape(start)
    if len(s) == 4:
        shape = [s[3], s[1], s[2]]
    elif len(s) == 2:
        shape = [s[1]]
    else:
        problems.append(f"the model's input has shape {s} (typenet's: [1, N] or [1, H, W, C])")
        raise Unsupported(problems)
    if s[0] != 1:
        problems.append(f"the model's input has batch size {s[0]}")
    walk = Walk(g, bad)
    for op in g.ops:
        if op.name in ("QUANTIZE", "DEQUANTIZE"):
            walk.visited.add(op.index)
    walk.stop = stop
    layers, end, _, join = walk.chain(start, shape, stop)
    if join is not None:
        walk.problem(join, "joins what is not the two branches of a fork")
    problems.extend(walk.problems)
    for op in g.ops:
        if op.index not in walk.visited and not any(p.startswith(op.label()) for p in problems):
            problems.append(f"{op.label()}: not reached on the chain from the model's input, past the problems above")
    if not layers and not problems:
        problems.append("the model has no layer")
    if problems:
        # Each operator's problems together, in the model's order; the graph's own last.
        def key(p):
            head = p.split(" ", 2)
            return int(head[1]) if head[0] == "operator" else len(g.ops)

        raise Unsupported(sorted(problems, key=key))
    try:
        layers = nest(layers, groups)
    except ValueError as e:
        raise Unsupported([str(e)]) from e
    model = Model(g.qparams(start), g.qparams(stop), Chain(layers), shape)
    model.notes = walk.notes
    return model


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def describe(model):
    """One line per layer: the listing of --print-architecture."""
    lines = [f"input  {model.input_type()}: {model.input}"]

    def walk(layers, indent, numbered):
        for i, layer in enumerate(layers):
            tag = f"{i:>2} " if numbered else "   "
            pad = "  " * indent
            if isinstance(layer, Chain):
                lines.append(f"{tag}{pad}net![")
                walk(layer.layers, indent + 1, False)
                lines.append(f"   {pad}]")
                continue
            if isinstance(layer, (Residual, Projected)):
                lines.append(f"{tag}{pad}{type(layer).__name__}: body")
                walk(layer.body.layers, indent + 1, False)
                if isinstance(layer, Projected):
                    lines.append(f"   {pad}shortcut")
                    walk(layer.shortcut.layers, indent + 1, False)
                a = layer.add
                lines.append(
                    f"   {pad}add ({layer.op.label()}): inputs {a.input1} | {a.input2} -> {a.output}, "
                    f"{a.activation}, clamp {list(a.clamp)}"
                )
                continue
            text = f"{tag}{pad}{layer.int8_type():<44} {layer.op.source()}"
            ch = getattr(layer, "channels", None)
            if ch is not None:
                text += f": in {ch.input} -> out {ch.output}, {ch.activation}, clamp {list(ch.clamp)}"
            elif isinstance(layer, GlobalAvgPool):
                text += f": in {layer.input} -> out {layer.output}, multiplier {layer.multiplier}, shift {layer.shift}"
            lines.append(text)

    walk(model.net.layers, 0, True)
    lines.append(f"output {model.output}")
    return lines


def import_file(tflite_path, out_path, groups=(), print_architecture=False, out=sys.stdout):
    """Reads `tflite_path`, writes `out_path`; returns the Model. Raises Unsupported, NotATfliteModel."""
    with open(tflite_path, "rb") as f:
        g = Graph(f.read())
    model = recognise(g, groups)
    data = model.file_bytes()
    if print_architecture:
        for line in describe(model):
            print(line, file=out)
    with open(out_path, "wb") as f:
        f.write(data)
    for note in model.notes:
        print(f"import_tflite: note: {note}", file=sys.stderr)
    print(f"wrote {out_path}: {len(data)} bytes, signature {model.signature():#010x}", file=out)
    print(f"int8 type:  quant::QuantizedOf<Net, {model.input_type()}> = {model.int8_type()}", file=out)
    print(f"f32 Net:    {model.f32_type()}", file=out)
    return model


def parse_group(text):
    try:
        first, last = text.split("-")
        return int(first), int(last)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not FIRST-LAST (layer numbers, e.g. 1-2)") from None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a full-integer int8 .tflite model")
    ap.add_argument("out", help="the typenet int8 parameter file to write")
    ap.add_argument("--print-architecture", action="store_true", help="list every layer with its quantisation")
    ap.add_argument("--nest", type=parse_group, action="append", default=[], metavar="FIRST-LAST",
                    help="write top-level layers FIRST..LAST as a nested net![...] (repeatable)")
    args = ap.parse_args(argv)
    try:
        import_file(args.model, args.out, args.nest, args.print_architecture)
    except Unsupported as e:
        print(f"import_tflite: {args.model} has what typenet's int8 layers cannot run:", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return 2
    except (NotATfliteModel, OSError) as e:
        print(f"import_tflite: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
