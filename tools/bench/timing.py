"""Timing for the peer scripts, as in the bench peers of BENCHMARKS.md:
perf_counter, warm-up, repeats, median with min and max."""
import statistics
import time


def time_runs(fn, repeats=5, warmup=1):
    """Calls fn() `warmup` times untimed, then `repeats` times timed;
    returns the elapsed seconds of the timed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def summary(values):
    return statistics.median(values), min(values), max(values)
