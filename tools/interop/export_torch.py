"""Export a PyTorch nn.Sequential's parameters to a typenet parameter file.

Walks ``state_dict()`` in order, which is the order typenet's
``Params::visit_state`` gives for the equivalent network (Linear,
Conv1d/Conv2d, RNN/LSTM/GRU, BatchNorm1d/BatchNorm2d with their running
statistics and ``num_batches_tracked``, an int64 written as a number;
activations, pooling and Flatten have no parameters), and writes a format
version 2 file: the architecture signature (each tensor's role and shape,
``typenet_io.signature``), which typenet checks against the model it loads
into, then the values.

Run with a Python that has this folder's requirements.txt installed
(see README.md beside this file):

    # a state_dict saved with torch.save(model.state_dict(), "model.pt")
    python tools/interop/export_torch.py model.pt model.tnet --dtype f32

    # or a freshly initialised model, seeded (for trying things out)
    python tools/interop/export_torch.py --arch "Linear(4, 8), Tanh(), Linear(8, 3)" \
        --seed 0 model.tnet

It prints the layout (name, shape, count per tensor) and the file size, which
``typenet::io::encoded_len::<Net, f32>()`` must equal. From Python:
``export(model, "model.tnet", "f32")``.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import typenet_io  # noqa: E402


def export(model_or_state_dict, path, dtype="f32", out=sys.stdout):
    """Writes the parameters to ``path`` and prints the layout; returns the byte count."""
    total = 0
    for name, shape, numel in typenet_io.layout(model_or_state_dict):
        print(f"{name:<24} {str(list(shape)):<16} {numel}", file=out)
        total += numel
    size = typenet_io.save_module(model_or_state_dict, path, dtype)
    print(f"wrote {path}: {total} parameters, {dtype}, {size} bytes", file=out)
    return size


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="[STATE_DICT.pt] OUT.tnet")
    parser.add_argument("--arch", help='torch.nn layers, e.g. "Linear(4, 8), Tanh(), Linear(8, 3)"')
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed before building --arch (default 0)")
    parser.add_argument("--dtype", choices=sorted(typenet_io.SCALARS), default="f32")
    args = parser.parse_args(argv)

    import torch

    if len(args.inputs) == 2:
        source, path = args.inputs
        model = torch.load(source, map_location="cpu", weights_only=True)
        if args.arch is not None:  # raises if the state_dict does not fit the architecture
            typenet_io.sequential(args.arch).load_state_dict(model)
    elif len(args.inputs) == 1 and args.arch is not None:
        (path,) = args.inputs
        torch.manual_seed(args.seed)
        model = typenet_io.sequential(args.arch)
    else:
        parser.error("give STATE_DICT.pt OUT.tnet, or --arch and OUT.tnet")
    export(model, path, args.dtype)


if __name__ == "__main__":
    typenet_io.run(main, "export_torch")
