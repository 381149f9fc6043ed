#!/usr/bin/env python3
"""JAX peer of the DS-CNN training workload: batches of 32 MNIST digits
(28×28, the training part of the examples' split), one step = forward,
backward and the optimiser's update, float32, one thread.

The network is `tools/mnist/train.py`'s reference DS-CNN written in
jax.numpy/lax: batch norm in training mode (biased batch variance to
normalise, running statistics updated with the unbiased one, momentum 0.1,
eps 1e-5). Two ways of running it: a whole epoch of 250 steps as one jitted
`lax.scan` (no Python per step), and a Python loop calling one jitted step
(XLA's CPU backend runs the scan's body about 3× slower than the same step
jitted alone); each figure is the median of the timed epochs after a
compiling, warm-up one.
Plain SGD (lr 0.01) and Adam (lr 1e-3, PyTorch's formula), in the layout
XLA's CPU backend prefers (NHWC; `--layout nchw` for PyTorch's), the
depthwise convolutions written as nine shifted multiply-adds (`--depthwise
conv` for lax's grouped convolution, which XLA's CPU backend runs about 100×
slower: 256 ms a step).
`--check` first checks the model against PyTorch's on the same weights
(logits, loss, the parameters after one SGD step, the running statistics).

XLA sizes its thread pool from the CPU affinity, so pin it to one CPU:

    taskset -c 0 python tools/bench/dscnn_jax.py [--runs=5] [--layout nhwc|nchw] [--check]

Ends with one line:
    dscnn_jax: sgd_scan_ms_per_step=... sgd_scan_gflops=... sgd_loop_ms_per_step=... ... layout=nhwc depthwise=taps cpus=1
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

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

BATCH = 32
EPS = 1e-5
MOMENTUM = 0.1


class Layout:
    def __init__(self, name):
        self.name = name
        self.nchw = name == "nchw"
        self.dims = ("NCHW", "OIHW", "NCHW") if self.nchw else ("NHWC", "HWIO", "NHWC")
        self.reduce = (0, 2, 3) if self.nchw else (0, 1, 2)
        self.spatial = (2, 3) if self.nchw else (1, 2)

    def weight(self, w_oihw):
        """A PyTorch OIHW weight in this layout."""
        return w_oihw if self.nchw else np.transpose(w_oihw, (2, 3, 1, 0))

    def channel(self, v):
        return v[None, :, None, None] if self.nchw else v


def conv_specs():
    """(name, cin, cout, k, stride, padding, groups) of flops.py, in order."""
    specs = [flops.STEM]
    for i, (cin, cout, stride) in enumerate(flops.BLOCKS, 1):
        specs.append((f"block{i}.depthwise", cin, cin, 3, stride, 1, cin))
        specs.append((f"block{i}.pointwise", cin, cout, 1, 1, 0, 1))
    return specs


def init(layout, rng):
    """PyTorch's default initialisation: U(±1/√fan_in); BN weight 1, bias 0."""
    params, state = {"convs": [], "bns": []}, []
    for _, cin, cout, k, _, _, groups in conv_specs():
        bound = 1 / np.sqrt(cin // groups * k * k)
        w = rng.uniform(-bound, bound, (cout, cin // groups, k, k)).astype(np.float32)
        params["convs"].append(jnp.asarray(layout.weight(w)))
        params["bns"].append((jnp.ones(cout, jnp.float32), jnp.zeros(cout, jnp.float32)))
        state.append((jnp.zeros(cout, jnp.float32), jnp.ones(cout, jnp.float32)))
    c = flops.BLOCKS[-1][1]
    bound = 1 / np.sqrt(c)
    params["dense"] = (jnp.asarray(rng.uniform(-bound, bound, (flops.CLASSES, c)).astype(np.float32)),
                       jnp.asarray(rng.uniform(-bound, bound, flops.CLASSES).astype(np.float32)))
    return params, state


def depthwise_taps(layout, x, w, stride):
    """A depthwise 3×3 convolution (padding 1) as nine shifted, strided
    multiply-adds of the whole batch: what XLA's CPU backend runs fast (its
    grouped convolution takes 100× longer, see the README)."""
    if layout.nchw:
        xp = jnp.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        h, wd = x.shape[2], x.shape[3]
    else:
        xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        h, wd = x.shape[1], x.shape[2]
    ho, wo = (h - 1) // stride + 1, (wd - 1) // stride + 1
    out = 0
    for i in range(3):
        for j in range(3):
            rows, cols = slice(i, i + stride * (ho - 1) + 1, stride), slice(j, j + stride * (wo - 1) + 1, stride)
            if layout.nchw:
                out = out + xp[:, :, rows, cols] * w[:, 0, i, j][None, :, None, None]
            else:
                out = out + xp[:, rows, cols, :] * w[i, j, 0]
    return out


def forward(layout, params, state, x, depthwise="taps"):
    """Training-mode forward: logits and the new running statistics."""
    new_state = []
    for (_, _, _, _, stride, pad, groups), w, (g, b), (rm, rv) in zip(
            conv_specs(), params["convs"], params["bns"], state):
        if groups > 1 and depthwise == "taps":
            z = depthwise_taps(layout, x, w, stride)
        else:
            z = lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad), (pad, pad)],
                                         dimension_numbers=layout.dims, feature_group_count=groups)
        mean = jnp.mean(z, axis=layout.reduce)
        var = jnp.mean(jnp.square(z - layout.channel(mean)), axis=layout.reduce)
        n = z.size // mean.size
        x = jax.nn.relu((z - layout.channel(mean)) * layout.channel(g * lax.rsqrt(var + EPS)) + layout.channel(b))
        new_state.append(((1 - MOMENTUM) * rm + MOMENTUM * lax.stop_gradient(mean),
                          (1 - MOMENTUM) * rv + MOMENTUM * lax.stop_gradient(var) * n / (n - 1)))
    pooled = jnp.mean(x, axis=layout.spatial)
    w, b = params["dense"]
    return pooled @ w.T + b, new_state


def loss_fn(layout, params, state, x, y, depthwise="taps"):
    logits, new_state = forward(layout, params, state, x, depthwise)
    loss = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))
    return loss, (new_state, logits)


def sgd(lr):
    def init_opt(params):
        return ()

    def update(params, grads, opt):
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), opt
    return init_opt, update


def adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    def init_opt(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return zeros, zeros, jnp.zeros((), jnp.float32)

    def update(params, grads, opt):
        m, v, t = opt
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
        return params, (m, v, t)
    return init_opt, update


def make_runs(layout, update, depthwise):
    """(epoch, step): a whole epoch as one jitted lax.scan, and one jitted
    step (for a Python loop), each gathering its batches by index."""
    grad_fn = jax.grad(lambda p, s, x, y: loss_fn(layout, p, s, x, y, depthwise), has_aux=True)

    def train_step(carry, X, Y, i):
        params, state, opt = carry
        grads, (state, _) = grad_fn(params, state, X[i], Y[i])
        params, opt = update(params, grads, opt)
        return params, state, opt

    @jax.jit
    def epoch(carry, X, Y, perm):
        idx = perm[: (X.shape[0] // BATCH) * BATCH].reshape(-1, BATCH)
        carry, _ = lax.scan(lambda c, i: (train_step(c, X, Y, i), None), carry, idx)
        return carry

    return epoch, jax.jit(train_step)


def check_against_torch(x, y):
    """The NCHW and NHWC models against PyTorch's on the same weights."""
    import torch
    import train
    torch.manual_seed(0)
    model = train.dscnn()
    model.train()
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    dense = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][0]
    xb, yb = x[:BATCH], y[:BATCH]
    logits_t = model(torch.from_numpy(xb))
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.from_numpy(yb))
    loss_t.backward()
    lr = 0.01
    with torch.no_grad():
        stepped = [(c.weight - lr * c.weight.grad).numpy() for c in convs]
    for name, depthwise in [("nchw", "conv"), ("nhwc", "conv"), ("nchw", "taps"), ("nhwc", "taps")]:
        layout = Layout(name)
        params, state = init(layout, np.random.default_rng(0))
        params["convs"] = [jnp.asarray(layout.weight(c.weight.detach().numpy())) for c in convs]
        params["dense"] = (jnp.asarray(dense.weight.detach().numpy()), jnp.asarray(dense.bias.detach().numpy()))
        xj = jnp.asarray(xb if layout.nchw else np.transpose(xb, (0, 2, 3, 1)))
        yj = jnp.asarray(yb.astype(np.int32))
        grads, (new_state, logits) = jax.grad(
            lambda p: loss_fn(layout, p, state, xj, yj, depthwise), has_aux=True)(params)
        loss = loss_fn(layout, params, state, xj, yj, depthwise)[0]
        d_logits = np.abs(np.asarray(logits) - logits_t.detach().numpy()).max()
        d_loss = abs(float(loss) - loss_t.item())
        d_step = max(np.abs(np.asarray(layout.weight(s)) - np.asarray(p - lr * g)).max()
                     for s, p, g in zip(stepped, params["convs"], grads["convs"]))
        bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        d_running = max(max(np.abs(np.asarray(rm) - b.running_mean.numpy()).max(),
                            np.abs(np.asarray(rv) - b.running_var.numpy()).max())
                        for (rm, rv), b in zip(new_state, bns))
        print(f"check {name}, depthwise as {depthwise}, against PyTorch: logits {d_logits:.1e}, loss {d_loss:.1e}, "
              f"weights after an SGD step {d_step:.1e}, running statistics {d_running:.1e}", flush=True)
        assert max(d_logits, d_loss, d_step, d_running) < 1e-4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--layout", choices=["nhwc", "nchw"], default="nhwc")
    ap.add_argument("--depthwise", choices=["taps", "conv"], default="taps",
                    help="depthwise convolutions as 9 multiply-adds (taps) or lax's grouped convolution")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    (x, y), _, _ = mnist_data.load_split()
    if args.check:
        check_against_torch(x, y)
    layout = Layout(args.layout)
    X = jnp.asarray(x if layout.nchw else np.transpose(x, (0, 2, 3, 1)))
    Y = jnp.asarray(y.astype(np.int32))
    steps = len(x) // BATCH
    step_flops = flops.dscnn_step_flops(BATCH)
    cpus = len(os.sched_getaffinity(0))
    print(f"jax {jax.__version__} {jax.devices()}, affinity {sorted(os.sched_getaffinity(0))}; "
          f"layout {layout.name}, depthwise as {args.depthwise}; FLOPs per step of {BATCH}: {step_flops:,} (flops.py)", flush=True)
    figures = {}
    for name, (init_opt, update) in [("sgd", sgd(0.01)), ("adam", adam(1e-3))]:
        epoch, step = make_runs(layout, update, args.depthwise)
        for variant in ("scan", "loop"):
            params, state = init(layout, np.random.default_rng(0))
            carry = [(params, state, init_opt(params))]
            perms = np.random.default_rng(1)

            def run():
                perm = jnp.asarray(perms.permutation(len(x)))
                if variant == "scan":
                    carry[0] = epoch(carry[0], X, Y, perm)
                else:
                    idx = perm[: steps * BATCH].reshape(steps, BATCH)
                    for i in range(steps):
                        carry[0] = step(carry[0], X, Y, idx[i])
                jax.tree_util.tree_map(lambda a: a.block_until_ready(), carry[0])

            seconds = time_runs(run, repeats=args.runs, warmup=1)
            per_step = [s / steps for s in seconds]
            med, lo, hi = summary(per_step)
            gflops = step_flops / med / 1e9
            figures[name, variant] = (med, gflops)
            what = "one lax.scan per epoch" if variant == "scan" else "a Python loop of jitted steps"
            print(f"DS-CNN training, {name}, {what}: {med * 1e3:.3f} ms/step ({lo * 1e3:.3f}-{hi * 1e3:.3f}, "
                  f"{args.runs} epochs of {steps} steps), {BATCH / med:,.0f} samples/s, {gflops:.2f} GFLOP/s",
                  flush=True)
    line = " ".join(f"{name}_{variant}_ms_per_step={figures[name, variant][0] * 1e3:.3f} "
                    f"{name}_{variant}_gflops={figures[name, variant][1]:.2f}"
                    for name in ("sgd", "adam") for variant in ("scan", "loop"))
    print(f"dscnn_jax: {line} layout={layout.name} depthwise={args.depthwise} cpus={cpus}")

if __name__ == "__main__":
    main()
