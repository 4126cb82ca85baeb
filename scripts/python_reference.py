#!/usr/bin/env python3
"""Replay a key stream through the Python caches cachesim's core strategies
are pinned to, and print the number of hits.

    python3 scripts/python_reference.py STRATEGY CAPACITY KEYS_FILE [TTL_SECONDS RATE]

STRATEGY is one of: functools-lru, lru, fifo, lfu, ttl. KEYS_FILE holds one
integer key per line (as written by `cachesim workload export --to text` or by
the parity test). Request i (from 0) happens at time i / RATE, as in cachesim.
Every request is a get with demand fill, the way the `cached` decorator and
`functools.lru_cache` use a cache.
"""
import functools
import sys


def main():
    strategy, capacity, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path) as f:
        keys = [int(line) for line in f if line.strip()]

    if strategy == "functools-lru":
        misses = 0

        @functools.lru_cache(maxsize=capacity)
        def fetch(k):
            nonlocal misses
            misses += 1
            return k

        for k in keys:
            fetch(k)
        print(len(keys) - misses)
        return

    import cachetools

    now = [0.0]
    if strategy == "lru":
        cache = cachetools.LRUCache(maxsize=capacity)
    elif strategy == "fifo":
        cache = cachetools.FIFOCache(maxsize=capacity)
    elif strategy == "lfu":
        cache = cachetools.LFUCache(maxsize=capacity)
    elif strategy == "ttl":
        ttl, rate = float(sys.argv[4]), float(sys.argv[5])
        cache = cachetools.TTLCache(maxsize=capacity, ttl=ttl, timer=lambda: now[0])
    else:
        sys.exit(f"unknown strategy {strategy}")
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 1000.0
    hits = 0
    for i, k in enumerate(keys):
        now[0] = i / rate
        try:
            cache[k]
            hits += 1
        except KeyError:
            cache[k] = k
    print(hits)


if __name__ == "__main__":
    main()
