#!/usr/bin/env python3
"""The binding's overhead: `cachesim.run(...)` on 10M requests against the
CLI binary with the same arguments, best of 3 wall-clock times each.

    python3 python/bench/run_10m.py [PATH/TO/cachesim] [--strategy lru] [--threads 1]

The binding must stay within 10% of the CLI (issue 22). The CLI's time
includes starting the process; the binding's includes turning the rows of
the CSV into Python values.
"""

import argparse
import os
import subprocess
import time

import cachesim


def best(f, n=3):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_bin = os.path.join(here, "..", "..", "target", "release", "cachesim")
    p = argparse.ArgumentParser()
    p.add_argument("binary", nargs="?", default=default_bin)
    p.add_argument("--strategy", default="lru")
    p.add_argument("--threads", default="1")
    p.add_argument("--capacity", default="1%")
    a = p.parse_args()
    options = dict(strategy=a.strategy, workload="zipf", requests="10M", capacity=a.capacity,
                   threads=a.threads, no_latency=True, seed=1)
    argv = [a.binary, "run", "--strategy", a.strategy, "--workload", "zipf", "--requests", "10M",
            "--capacity", a.capacity, "--threads", a.threads, "--no-latency", "--seed", "1",
            "--format", "csv", "--no-save", "--quiet"]
    rows = cachesim.run(progress=False, **options)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    hits = [r["hits"] for r in rows]
    assert str(hits[0]) in out, "the binding and the CLI disagree"

    cli = best(lambda: subprocess.run(argv, capture_output=True, check=True))
    binding = best(lambda: cachesim.run(progress=False, **options))
    print(f"args: {' '.join(argv[1:])}")
    print(f"CLI     best of 3: {cli:.3f} s")
    print(f"binding best of 3: {binding:.3f} s  ({100 * (binding / cli - 1):+.1f}% vs the CLI)")


if __name__ == "__main__":
    main()
