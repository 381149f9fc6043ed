#!/usr/bin/env python3
"""PyTorch peer of the DS-CNN training workload: batches of 32 MNIST digits
(28×28, the training part of the examples' split), one step = forward,
backward and the optimiser's update, eager mode, float32, one thread.

The network is `tools/mnist/train.py`'s reference DS-CNN (BN in training
mode). Runs plain SGD (lr 0.01, the bench peers' convention) and Adam
(lr 1e-3, the examples'); each timed run is one epoch of 250 steps, after a
warm-up epoch; the figure is the median of the runs. FLOPs per step from
flops.py, whose forward count is checked here against torch.utils.flop_counter.

    python tools/bench/dscnn_torch.py [--threads=1] [--runs=5]

Ends with one line:
    dscnn_torch: sgd_ms_per_step=... sgd_gflops=... adam_ms_per_step=... adam_gflops=... threads=1
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "mnist"))
import flops  # noqa: E402
import mnist_data  # noqa: E402
from timing import summary, time_runs  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import train  # noqa: E402  (tools/mnist/train.py: the model definitions)

BATCH = 32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    (x, y), _, _ = (tuple(torch.from_numpy(a) for a in part) for part in mnist_data.load_split())
    steps = len(x) // BATCH
    batches = [(x[i * BATCH:(i + 1) * BATCH].contiguous(), y[i * BATCH:(i + 1) * BATCH].contiguous())
               for i in range(steps)]

    model = train.dscnn()
    params = sum(p.numel() for p in model.parameters())
    expected_params = sum(p for _, _, p in flops.dscnn_layers()) + sum(
        2 * m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert params == expected_params, (params, expected_params)
    step_flops = flops.dscnn_step_flops(BATCH)
    # torch's counter agrees on the forward pass; its backward formula for
    # convolutions ignores `groups` (it counts a depthwise convolution's
    # gradients as if each output channel saw every input channel), so only
    # the forward is compared.
    with FlopCounterMode(display=False) as counter:
        model(batches[0][0])
    counted = counter.get_total_flops()
    assert counted == BATCH * flops.dscnn_flops()[0], (counted, flops.dscnn_flops())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}; DS-CNN {params} parameters; "
          f"FLOPs per step of {BATCH}: {step_flops:,} (flops.py; its forward {counted:,} "
          f"is torch.utils.flop_counter's)", flush=True)

    figures = {}
    for name, make in [("sgd", lambda p: torch.optim.SGD(p, lr=0.01)),
                       ("adam", lambda p: torch.optim.Adam(p, lr=1e-3))]:
        model = train.dscnn()
        model.train()
        opt = make(model.parameters())

        def epoch():
            for xb, yb in batches:
                opt.zero_grad(set_to_none=True)
                nn.functional.cross_entropy(model(xb), yb).backward()
                opt.step()

        seconds = time_runs(epoch, repeats=args.runs, warmup=1)
        per_step = [s / steps for s in seconds]
        med, lo, hi = summary(per_step)
        gflops = step_flops / med / 1e9
        figures[name] = (med, gflops)
        print(f"DS-CNN training, {name}: {med * 1e3:.3f} ms/step ({lo * 1e3:.3f}-{hi * 1e3:.3f}, "
              f"{args.runs} epochs of {steps} steps), {BATCH / med:,.0f} samples/s, {gflops:.2f} GFLOP/s",
              flush=True)
    print(f"dscnn_torch: sgd_ms_per_step={figures['sgd'][0] * 1e3:.3f} sgd_gflops={figures['sgd'][1]:.2f} "
          f"adam_ms_per_step={figures['adam'][0] * 1e3:.3f} adam_gflops={figures['adam'][1]:.2f} "
          f"threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
