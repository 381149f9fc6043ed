"""BENCHMARKS.md's table rows from a log of tools/bench/side_by_side.sh.

    python3 tools/bench/side_by_side_table.py LOG

Each side's figure is the median over the log's runs (typenet's criterion
medians; the peers' own medians, one per run or round), with typenet's
range in brackets; the SGEMM peak is the median of the log's `peak.py`
runs. GFLOP/s count the peers' README's FLOPs per sample. Rows of
workloads the log does not hold are left out (a W3-rounds log gives the
two W3 rows). For a W3-rounds log it also prints each round's ratio of
typenet to JAX's `lax.scan` and their median: the sides of one round ran
within a minute of each other, so the ratio drifts less than either side.
"""
import collections
import re
import statistics
import sys

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0,
         "elem/s": 1.0, "Kelem/s": 1e3, "Melem/s": 1e6}

# label, typenet's bench name, time or throughput, the peers' workload, batch,
# FLOPs per sample, typenet's figure per peer figure (W1's iteration is 4 steps)
ROWS = [
    ("W1 XOR 2-4-1 step", "W1_xor/step_x4", "time", "W1_xor_step", "1", 56, 0.25),
    ("W2 digits bs 1", "W2_digits/batch1", "thrpt", "W2_digits_mlp", "1", 10112, 1),
    ("W2 digits bs 32", "W2_digits/batch32", "thrpt", "W2_digits_mlp", "32", 10112, 1),
    ("W3 784-128-10 bs 32", "W3_mlp784/batch32", "thrpt", "W3_synth_mlp784", "32", 409000, 1),
    ("W3 784-128-10 bs 64", "W3_mlp784/batch64", "thrpt", "W3_synth_mlp784", "64", 409000, 1),
    ("W4 digits CNN bs 32", "W4_cnn/batch32", "thrpt", "W4_digits_cnn", "32", 14688, 1),
    ("W5 inference bs 1", "W5_infer", "time", "W5_infer_mlp64", "1", 4736, 1),
]
PEERS = ["numpy", "torch", "jax", "jax-scan", "dfdx-0.13"]


def parse(path):
    typenet, peers, peaks = collections.defaultdict(list), collections.defaultdict(list), []
    rounds = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("-- round "):
            rounds.append({})
        m = re.match(r"typenet W3_mlp784/batch(\d+) thrpt (\S+) (\S+)", line)
        if m and rounds:
            rounds[-1][("typenet", m[1])] = float(m[2]) * UNITS[m[3]]
        m = re.match(r"W3_synth_mlp784\s+jax-scan\s+thr=1 bs=(\d+)\s+(\S+) ", line)
        if m and rounds:
            rounds[-1][("jax-scan", m[1])] = float(m[2])
        m = re.match(r"typenet (\S+) (time|thrpt) (\S+) (\S+)", line)
        if m:
            typenet[(m[1], m[2])].append(float(m[3]) * UNITS[m[4]])
        m = re.match(r"(W\d\w*)\s+(\S+)\s+thr=1 bs=(\S+)\s+(\S+) ", line)
        if m:
            peers[(m[1], m[2], m[3])].append(float(m[4]))
        m = re.match(r"peak_gemm_2048\s+\S+\s+thr=1 bs=-\s+(\S+)", line)
        if m:
            peaks.append(float(m[1]))
    return typenet, peers, statistics.median(peaks), rounds


def rate(r):
    return f"{r / 1e6:.2f} M/s" if r >= 1e6 else f"{r / 1e3:.0f} k/s" if r >= 1e5 else f"{r / 1e3:.1f} k/s"


def duration(s):
    return f"{s * 1e9:.0f} ns" if s < 1e-6 else f"{s * 1e6:.2f} µs"


def main(path):
    typenet, peers, peak, rounds = parse(path)
    print(f"SGEMM peak {peak:.1f} GFLOP/s (median of the log's peak.py runs)")
    print("| workload | typenet | numpy | torch | jax | jax-scan | dfdx | best peer | typenet ÷ best | GFLOP/s (% of SGEMM peak) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, key, kind, workload, batch, flops, scale in ROWS:
        ours = [v * scale for v in typenet.get((key, kind), [])]
        if not ours:
            continue
        med, lo, hi = statistics.median(ours), min(ours), max(ours)
        is_time = kind == "time"
        show = duration if is_time else rate
        cells, best = [], None
        for peer in PEERS:
            runs = peers.get((workload, peer, batch))
            if not runs:
                cells.append("–")
                continue
            value = statistics.median(runs) * (1e-6 if is_time else 1)
            cells.append(show(value))
            if best is None or (value < best[1] if is_time else value > best[1]):
                best = (peer.replace("-0.13", ""), value)
        ours_cell = f"**{show(med)}**" + (f" ({show(lo)}–{show(hi)})" if len(ours) > 1 else "")
        if best is None:
            ratio_cell, best_cell = "–", "–"
        else:
            ratio = best[1] / med if is_time else med / best[1]
            ratio_cell = f"**{ratio:.0f}×** faster" if is_time and ratio >= 2 else f"**{ratio:.2f}×**"
            best_cell = f"{best[0]} {show(best[1])}" if is_time else best[0]
        gflops = flops / med / 1e9 if is_time else flops * med / 1e9
        print(f"| {label} | {ours_cell} | " + " | ".join(cells)
              + f" | {best_cell} | {ratio_cell} | {gflops:.1f} ({100 * gflops / peak:.0f}%) |")
    for batch in ("32", "64"):
        ratios = [r[("typenet", batch)] / r[("jax-scan", batch)] for r in rounds
                  if ("typenet", batch) in r and ("jax-scan", batch) in r]
        if ratios:
            each = ", ".join(f"{x:.2f}" for x in ratios)
            print(f"W3 batch {batch}, typenet ÷ jax-scan by round: {each}; median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
