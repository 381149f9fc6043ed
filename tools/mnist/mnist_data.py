"""The MNIST data of typenet's examples, in Python: the IDX files of
`data/mnist10k/` and the split of `typenet::data::stratified_split_exact`,
repeated step for step so that both sides train and test on the same digits.

    from mnist_data import load_split
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_split()

Images are float32 arrays of shape (n, 1, 28, 28), pixels byte / 255 (as
`typenet::data::load_idx` reads them) then normalised with MNIST's mean and
standard deviation, (p - 0.1307) / 0.3081 in float32, as the examples'
`common::mnist()` does; labels int64 arrays.
"""
import os
import struct

import numpy as np

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
IMAGES = os.path.join(REPO, "data", "mnist10k", "mnist10k-images.idx3-ubyte")
LABELS = os.path.join(REPO, "data", "mnist10k", "mnist10k-labels.idx1-ubyte")

# The split of every MNIST example: 8,000 / 1,000 / 1,000, drawn from this
# seed whatever the training seed (so every run is tested on the same digits).
SPLIT_SEED = 2026
TRAIN, VAL = 8000, 1000
CLASSES = 10
# MNIST's mean pixel and its standard deviation (of the 60,000 training
# digits, as PyTorch's MNIST example normalises).
MEAN, STD = np.float32(0.1307), np.float32(0.3081)

MASK = (1 << 64) - 1


def read_idx(images_path=IMAGES, labels_path=LABELS):
    """The raw bytes: images uint8 (n, rows, cols), labels uint8 (n,)."""
    with open(images_path, "rb") as f:
        images = f.read()
    with open(labels_path, "rb") as f:
        labels = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", images[:16])
    assert magic == 0x803 and len(images) == 16 + n * rows * cols, images_path
    magic, m = struct.unpack(">II", labels[:8])
    assert magic == 0x801 and len(labels) == 8 + m and m == n, labels_path
    x = np.frombuffer(images, dtype=np.uint8, offset=16).reshape(n, rows, cols)
    y = np.frombuffer(labels, dtype=np.uint8, offset=8)
    return x, y


class SplitMix64:
    """`typenet::data::SplitMix64`: Vigna's splitmix64.c."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        """The high 64 bits of next_u64() * n: a number in 0..n."""
        return (self.next_u64() * n) >> 64


def apportion(counts, total):
    """Largest remainders, ties to the lower class (the Rust `apportion`)."""
    s = sum(counts)
    if s == 0:
        return [0] * len(counts)
    quota = [n * total // s for n in counts]
    rem = [n * total % s for n in counts]
    given = [False] * len(counts)
    for _ in range(total - sum(quota)):
        best = None
        for c in range(len(counts)):
            if not given[c] and (best is None or rem[c] > rem[best]):
                best = c
        given[best] = True
        quota[best] += 1
    return quota


def take_quota(order, labels, start, quota):
    """Moves to position `start` onwards the first quota[c] of each class,
    by the same swaps as the Rust `take_quota`; returns the new end."""
    quota = list(quota)
    end = start
    for i in range(start, len(order)):
        c = labels[order[i]]
        if quota[c] > 0:
            quota[c] -= 1
            order[end], order[i] = order[i], order[end]
            end += 1
    return end


def split_indices(labels, train=TRAIN, val=VAL, seed=SPLIT_SEED, classes=CLASSES):
    """The original indices of the training, validation and test parts, in
    the order `stratified_split_exact` leaves them."""
    labels = [int(v) for v in labels]
    n = len(labels)
    assert train + val <= n
    counts = [0] * classes
    for c in labels:
        counts[c] += 1
    order = list(range(n))
    rng = SplitMix64(seed)
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    train_quota = apportion(counts, train)
    val_quota = apportion([n_c - t for n_c, t in zip(counts, train_quota)], val)
    train_end = take_quota(order, labels, 0, train_quota)
    val_end = take_quota(order, labels, train_end, val_quota)
    return order[:train_end], order[train_end:val_end], order[val_end:]


def fnv1a64(indices):
    """FNV-1a over the indices as little-endian u32: the split's checksum."""
    h = 0xCBF29CE484222325
    for i in indices:
        for b in int(i).to_bytes(4, "little"):
            h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def load_split(seed=SPLIT_SEED):
    """((x, y) training, (x, y) validation, (x, y) test) as numpy arrays."""
    x, y = read_idx()
    x = (x.astype(np.float32) / np.float32(255.0))[:, None, :, :]
    x = (x - MEAN) / STD
    y = y.astype(np.int64)
    return tuple((x[idx], y[idx]) for idx in (np.asarray(p) for p in split_indices(y, seed=seed)))
