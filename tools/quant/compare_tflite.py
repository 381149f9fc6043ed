#!/usr/bin/env python3
"""typenet's int8 accuracy beside TFLite's post-training quantisation of the same model.

For each example model (the digits MLP and CNN, the MNIST DS-CNN and ResNet-8)
prints the test accuracy of

- typenet f32: the trained model (the example's `test_accuracy`);
- typenet int8: typenet's own calibration and conversion (`typenet::quant`,
  the example's `int8_test_accuracy`);
- TFLite PTQ: the same f32 model built in Keras from the example's
  `out/<name>/model_f32.tnet`, converted by `tf.lite.TFLiteConverter` to a
  full-integer model calibrated on the same samples (all training digits for
  the digits models, the first 1,000 training digits for MNIST), run on the
  whole test split by LiteRT's reference kernels (BUILTIN_REF), by LiteRT's
  default kernels (XNNPACK) and by TFLite Micro (whose int8 logits typenet
  reproduces bit for bit from the imported file: tests/integration/int8_models.rs).

The examples' accuracies come from running them (`cargo run --release
--example <name>`, a few minutes for all four) or, with `--log FILE`, from a
saved log of those runs (their last lines). The Keras builders and the data
are tools/fixtures/gen_int8_models.py's.

    python tools/quant/compare_tflite.py [--log examples.log]

Needs the environment of requirements.txt beside this file.
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))
import gen_int8_models as gm  # noqa: E402

LINE = re.compile(r"^(\w+): test_accuracy=([0-9.]+) .*int8_test_accuracy=([0-9.]+)")


def example_accuracies(log_path=None):
    """{name: (f32 accuracy, int8 accuracy)} from the examples' last lines."""
    if log_path is not None:
        text = pathlib.Path(log_path).read_text()
    else:
        text = ""
        for name in gm.MODELS:
            print(f"running examples/{name}.rs ...", file=sys.stderr)
            run = subprocess.run(
                ["cargo", "run", "--release", "--quiet", "--example", name],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            text += run.stdout
    found = {}
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if m and m.group(1) in gm.MODELS:
            found[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    missing = [n for n in gm.MODELS if n not in found]
    if missing:
        sys.exit(f"compare_tflite: no result line for {', '.join(missing)}")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", help="a saved log of the four examples' runs instead of running them")
    args = ap.parse_args()

    accuracies = example_accuracies(args.log)
    import keras
    import tensorflow as tf
    from ai_edge_litert.interpreter import OpResolverType

    rows = []
    for name, spec in gm.MODELS.items():
        start = time.time()
        _, values = gm.typenet_io.read(ROOT / "out" / name / "model_f32.tnet", dtype="f32")
        committed = gm.OUT_DIR / f"{name}_f32.tnet"
        same = committed.exists() and committed.read_bytes() == (ROOT / "out" / name / "model_f32.tnet").read_bytes()
        params, _ = gm.read_params(spec["layers"], values)
        calibration, _, test_x, test_y = gm.dataset(spec["dataset"])
        calibration, test_x = gm.shaped(calibration, spec["input"]), gm.shaped(test_x, spec["input"])
        keras.backend.clear_session()
        inp = keras.Input(gm.nhwc(np.zeros((1,) + spec["input"]))[0].shape, batch_size=1, name="x")
        y, _ = gm.keras_build(spec["layers"], params, inp, spec["input"], keras)
        model = keras.Model(inp, y)
        keras_acc = float(np.mean(np.argmax(np.array(model.predict(gm.nhwc(test_x), verbose=0)), axis=1) == test_y))
        fb = gm.convert(model, calibration, tf)
        g = gm.import_tflite.Graph(fb)
        x8 = gm.nhwc(gm.quantize_inputs(test_x, gm.import_tflite.Graph.qparams(g, g.inputs[0])))

        def acc(logits):
            return float(np.mean(np.argmax(logits, axis=1) == test_y))

        # typenet's own int8 file beside TFLite's, imported: the same layout, value for value.
        imported = gm.import_tflite.recognise(g, spec["nest"]).file_bytes()
        own = (ROOT / "out" / name / "model_int8.tnet").read_bytes()
        differ = sum(a != b for a, b in zip(own[20:], imported[20:])) if len(own) == len(imported) else None
        ref = acc(gm.run_litert(fb, x8, OpResolverType.BUILTIN_REF))
        xnn = acc(gm.run_litert(fb, x8, OpResolverType.BUILTIN))
        tflm = acc(gm.run_tflm(fb, x8))
        f32, int8 = accuracies[name]
        rows.append((name, len(test_y), f32, keras_acc, int8, ref, xnn, tflm, same, differ, len(own) - 20))
        print(f"{name}: {time.time() - start:.1f} s", file=sys.stderr)

    def pts(a, b):
        # The examples print four decimals: compare at that precision.
        return f"{100 * (round(a, 4) - round(b, 4)):+.2f}"

    print(
        "| model | test samples | typenet f32 | typenet int8 | int8 − f32 (points) | TFLite PTQ, LiteRT BUILTIN_REF "
        "| TFLite PTQ, LiteRT XNNPACK | TFLite PTQ, TFLite Micro | typenet int8 − TFLite BUILTIN_REF (points) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, n, f32, _, int8, ref, xnn, tflm, *_ in rows:
        print(
            f"| {name} | {n} | {f32:.4f} | {int8:.4f} | {pts(int8, f32)} | {ref:.4f} | {xnn:.4f} | {tflm:.4f} "
            f"| {pts(int8, ref)} |"
        )
    print()
    for name, _, f32, keras_acc, *_, same, differ, size in rows:
        note = "" if same else " (out/ differs from the committed tests/fixtures/int8_models copy)"
        print(f"{name}: the Keras float model scores {keras_acc:.4f} (typenet f32: {f32:.4f}){note}; typenet's own "
              f"int8 file and TFLite's, imported, differ in {differ} of their {size} payload bytes")


if __name__ == "__main__":
    main()
