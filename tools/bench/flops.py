"""FLOPs of a training step of the DS-CNN workload, counted analytically.

The count follows BENCHMARKS.md: only the multiply-adds of convolutions and
dense layers count, two FLOPs each; batch norm, ReLU, pooling, the loss and
the optimiser's update do not (they are element-wise, a few percent here).
For a layer of M multiply-adds per sample:

    forward           2·M
    weight gradient   2·M   (every layer)
    input gradient    2·M   (every layer but the first: the images need none)

A convolution of Cin → Cout channels, k×k kernel, `groups` groups, producing
Hout×Wout has M = Cout·Hout·Wout·(Cin/groups)·k·k (depthwise: groups = Cin,
so M = C·Hout·Wout·k·k); a dense layer In → Out has M = In·Out. The layers
are the reference DS-CNN of tools/mnist/README.md (`train.py --model dscnn`),
and dscnn_torch.py checks the forward count against
torch.utils.flop_counter (whose backward formula ignores `groups`).

    python tools/bench/flops.py     # prints the table
"""

# (name, cin, cout, kernel, stride, padding, groups); then global average
# pooling and the dense layer.
STEM = ("stem", 1, 32, 3, 2, 1, 1)
BLOCKS = [(32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 64, 1)]
CLASSES = 10
SIDE = 28


def dscnn_layers():
    """[(name, multiply-adds per sample, parameters)] in order."""
    layers = []
    side = SIDE

    def conv(name, cin, cout, k, stride, pad, groups):
        nonlocal side
        side = (side + 2 * pad - k) // stride + 1
        macs = cout * side * side * (cin // groups) * k * k
        layers.append((name, macs, cout * (cin // groups) * k * k))

    conv(*STEM)
    for i, (cin, cout, stride) in enumerate(BLOCKS, 1):
        conv(f"block{i}.depthwise", cin, cin, 3, stride, 1, cin)
        conv(f"block{i}.pointwise", cin, cout, 1, 1, 0, 1)
    cout = BLOCKS[-1][1]
    layers.append(("dense", cout * CLASSES, cout * CLASSES + CLASSES))
    return layers


def dscnn_flops():
    """(forward, backward) FLOPs per sample."""
    layers = dscnn_layers()
    forward = sum(2 * m for _, m, _ in layers)
    backward = sum(2 * m for _, m, _ in layers) + sum(2 * m for _, m, _ in layers[1:])
    return forward, backward


def dscnn_step_flops(batch=32):
    forward, backward = dscnn_flops()
    return batch * (forward + backward)


if __name__ == "__main__":
    for name, macs, params in dscnn_layers():
        print(f"{name:<20} {macs:>9,} multiply-adds {params:>6,} weights")
    f, b = dscnn_flops()
    print(f"per sample: forward {f:,} FLOPs, backward {b:,}, training {f + b:,}")
    print(f"per step of 32: {dscnn_step_flops(32):,} FLOPs")
