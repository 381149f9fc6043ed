"""Import a typenet parameter file into a PyTorch nn.Sequential.

Reads the file (checking magic, version, scalar, the architecture signature
of a version 2 file against ``--arch``, count, length, checksum and finite
values, as the crate does; a version 1 file has no signature, and a note
says so), fills the parameters of the given architecture in
``state_dict()`` order, and optionally saves the state_dict
and prints the model's outputs. The model computes in the file's scalar type
(f64 files give a ``.double()`` model).

Run with a Python that has this folder's requirements.txt installed
(see README.md beside this file):

    python tools/interop/import_torch.py model.tnet \
        --arch "Linear(4, 8), Tanh(), Linear(8, 3)" --out model.pt --input 0.5,-1,0.25,2

Each ``--input`` (comma-separated numbers, flat; reshaped to the first
layer's input shape with ``--shape``, e.g. ``--shape 1,28,28``) runs as a
batch of one through the model in ``eval()`` mode (batch norm with its
running statistics, as typenet's ``Layer::forward``) and prints one line
``output: v0 v1 ...``. From Python: ``import_into(model, "model.tnet")``.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import typenet_io  # noqa: E402


def import_into(model, path):
    """Loads the file at ``path`` into ``model``; returns the file's scalar name."""
    dtype, _ = typenet_io.load_module(model, path)
    return dtype


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", metavar="IN.tnet")
    parser.add_argument("--arch", required=True, help='torch.nn layers, e.g. "Linear(4, 8), Tanh(), Linear(8, 3)"')
    parser.add_argument("--out", help="save the state_dict here (torch.save)")
    parser.add_argument("--input", action="append", default=[], help="an input, comma-separated; repeatable")
    parser.add_argument("--shape", help="the shape of one input, comma-separated (default: flat)")
    args = parser.parse_args(argv)

    import torch

    with open(args.path, "rb") as f:
        data = f.read()
    dtype, _ = typenet_io.decode(data)
    torch_dtype = {"f32": torch.float32, "f64": torch.float64}[dtype]
    model = typenet_io.sequential(args.arch).to(torch_dtype)
    typenet_io.load_module(model, data)
    count = sum(t.numel() for t in model.state_dict().values())
    print(f"read {args.path}: {count} parameters, {dtype}")
    if typenet_io.file_signature(data) is None:
        print(
            f"note: {args.path} is a version 1 file, with no architecture to check: only its count matched",
            file=sys.stderr,
        )
    if args.out:
        torch.save(model.state_dict(), args.out)
        print(f"wrote {args.out}")
    shape = [int(s) for s in args.shape.split(",")] if args.shape else [-1]
    model.eval()
    with torch.no_grad():
        for text in args.input:
            x = torch.tensor([float(v) for v in text.split(",")], dtype=torch_dtype).reshape([1] + shape)
            y = model(x)
            # Shortest text that reads back to the same value, in the model's type.
            print("output: " + " ".join(str(v) for v in y.reshape(-1).numpy()))


if __name__ == "__main__":
    typenet_io.run(main, "import_torch")
