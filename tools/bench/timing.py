"""Timing for the peer scripts, as in the bench peers of BENCHMARKS.md:
warm-up, repeats, median with min and max. The clock is perf_counter, or,
with TYPENET_BENCH_CPU_TIME set (as for `cargo bench`), the process's CPU
time, which leaves out the time other processes take from a shared core
(XLA's worker threads are counted: they are the process's)."""
import os
import statistics
import time

CLOCK = time.process_time if os.environ.get("TYPENET_BENCH_CPU_TIME") else time.perf_counter


def time_runs(fn, repeats=5, warmup=1):
    """Calls fn() `warmup` times untimed, then `repeats` times timed;
    returns the elapsed seconds of the timed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = CLOCK()
        fn()
        out.append(CLOCK() - t0)
    return out


def summary(values):
    return statistics.median(values), min(values), max(values)
