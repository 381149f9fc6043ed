"""PyTorch's depthwise and pointwise convolutions, forward + backward, one thread.

The peer of `benches/workloads.rs`'s `L1_separable` group (and of the quick harness
`cargo run --release --example separable_timing`): a block of 32 samples through

- depthwise 3×3, stride 1, padding 1, on 32×14×14 and 64×14×14
  (`nn.Conv2d(C, C, 3, padding=1, groups=C)`), and stride 2 on 32×14×14;
- pointwise 32→64 on 14×14 (`nn.Conv2d(32, 64, 1)`), stride 1 and 2;

each timed as one forward and one backward pass (input gradient, weight and bias
gradients), float32, `torch.set_num_threads(1)`. Prints the median time per block
on the thread's CPU clock (other processes on a shared core do not count; the
wall clock's median and minimum beside it) and GFLOP/s from the CPU time,
counting 2 FLOPs per multiply-add of the forward pass, the weight gradient and
the input gradient (three times the forward's products; the bias gradient is
not counted). Pin it to one core: `taskset -c 1`.

    /work/venv-tools/bin/python tools/bench/separable_torch.py [--repeats=N]
"""

import statistics
import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)
BLOCK = 32
REPEATS = 200
for a in sys.argv[1:]:
    if a.startswith("--repeats="):
        REPEATS = int(a.split("=", 1)[1])

CASES = [
    # name, C_in, C_out, K, stride, padding, groups, H
    ("depthwise 3x3 s1 32x14x14", 32, 32, 3, 1, 1, 32, 14),
    ("depthwise 3x3 s1 64x14x14", 64, 64, 3, 1, 1, 64, 14),
    ("depthwise 3x3 s2 32x14x14", 32, 32, 3, 2, 1, 32, 14),
    ("pointwise 32->64 s1 14x14", 32, 64, 1, 1, 0, 1, 14),
    ("pointwise 32->64 s2 14x14", 32, 64, 1, 2, 0, 1, 14),
]


def flops(c_in, c_out, k, stride, padding, groups, h):
    out = (h + 2 * padding - k) // stride + 1
    return 3 * 2 * c_out * (c_in // groups) * k * k * out * out * BLOCK


def main():
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, block {BLOCK}")
    for name, c_in, c_out, k, s, p, g, h in CASES:
        conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=p, groups=g)
        x = torch.randn(BLOCK, c_in, h, h, requires_grad=True)
        with torch.no_grad():
            dy = torch.randn_like(conv(x))

        def step():
            conv.weight.grad = conv.bias.grad = x.grad = None
            conv(x).backward(dy)

        for _ in range(20):
            step()
        cpu, wall = [], []
        for _ in range(REPEATS):
            t0, c0 = time.perf_counter(), time.thread_time()
            step()
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - t0)
        med = statistics.median(cpu)
        f = flops(c_in, c_out, k, s, p, g, h)
        print(
            f"{name:<28} {med * 1e6:9.1f} µs CPU per block  {f / med / 1e9:6.2f} GFLOP/s"
            f"  (wall median {statistics.median(wall) * 1e6:.1f} µs, min {min(wall) * 1e6:.1f} µs)"
        )


if __name__ == "__main__":
    main()
