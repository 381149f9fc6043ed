"""Q1's peer: int8 inference at batch 1 in LiteRT (XNNPACK, one thread) of
the digits CNN and the DS-CNN, the architectures of benches/workloads.rs,
with random weights, converted to full-integer int8 by TFLiteConverter
calibrated on 64 random samples (the values do not change the work).

    /work/venv-tflite/bin/python tools/bench/int8_litert.py

Prints, per model, the median time per inference (min, max) over repeats of
2,000 (digits CNN) or 200 (DS-CNN) invocations, and MAC/s. With
TYPENET_BENCH_CPU_TIME set the clock is the process's CPU time, as for
`cargo bench`. Needs tools/fixtures/requirements-tflite.txt."""
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from timing import summary, time_runs  # noqa: E402

L = tf.keras.layers


def digits_cnn():
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)),
        L.Conv2D(8, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(16, 3, activation="relu"),
        L.Flatten(),
        L.Dense(10),
    ])


def dscnn():
    def separable(x, cout, stride):
        x = L.ZeroPadding2D(1)(x) if stride == 2 else x
        x = L.DepthwiseConv2D(3, strides=stride, padding="valid" if stride == 2 else "same")(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
        x = L.Conv2D(cout, 1)(x)
        x = L.BatchNormalization()(x)
        return L.ReLU()(x)

    inp = tf.keras.Input((28, 28, 1))
    x = L.ZeroPadding2D(1)(inp)
    x = L.Conv2D(32, 3, strides=2)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    for cout, stride in [(32, 1), (64, 2), (64, 1), (64, 1)]:
        x = separable(x, cout, stride)
    x = L.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inp, L.Dense(10)(x))


def int8_model(model, shape, rng):
    samples = rng.random((64, *shape), dtype=np.float32)

    def representative():
        for s in samples:
            yield [s[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def bench(name, model, shape, macs, calls, rng):
    interpreter = Interpreter(model_content=int8_model(model, shape, rng), num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    interpreter.set_tensor(inp["index"], rng.integers(-128, 128, (1, *shape), dtype=np.int8))

    def run():
        for _ in range(calls):
            interpreter.invoke()

    median, low, high = (t / calls for t in summary(time_runs(run, repeats=7, warmup=1)))
    print(f"{name}: {median * 1e6:.2f} us per inference (min {low * 1e6:.2f}, max {high * 1e6:.2f}); "
          f"{macs / median / 1e9:.2f} GMAC/s; LiteRT {interpreter.__class__.__module__}, XNNPACK, 1 thread")


def main():
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    bench("digits_cnn_int8", digits_cnn(), (8, 8, 1), 9_856, 2000, rng)
    bench("dscnn_int8", dscnn(), (28, 28, 1), 886_560, 200, rng)


if __name__ == "__main__":
    main()
