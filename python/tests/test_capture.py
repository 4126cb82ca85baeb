"""cachesim.capture: the drop-ins behave as the caches they wrap, the keys
are stable, and a replay of the capture gives exactly the hits the cache
reported (issue 22, item 3)."""

import csv
import functools
import os
import random
import subprocess
import sys
import time

import pytest

import cachesim
from cachesim import capture

CAP = 100


def stream(n=20_000, keys=3_000, seed=22):
    """A seeded skewed key stream (Zipf-like over `keys` keys)."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(keys)]
    return rng.choices(range(keys), weights=weights, k=n)


def replay_hits(cli, strategy, trace, *extra):
    """Hits of `cachesim run -s STRATEGY -c CAP --trace TRACE`, by the binary
    and by the binding (both must agree)."""
    out = cli("run", "-s", strategy, "-c", CAP, "--trace", trace, *extra,
              "--no-latency", "--format", "csv", "--no-save")
    assert out.returncode == 0, out.stderr
    (row,) = list(csv.DictReader(out.stdout.splitlines()))
    options = {"strategy": strategy, "capacity": CAP, "trace": trace, "no_latency": True}
    for flag, value in zip(extra[::2], extra[1::2]):
        options[flag.lstrip("-").replace("-", "_")] = value
    (mine,) = cachesim.run(**options)
    assert mine["hits"] == int(row["hits"])
    assert mine["requests"] == int(row["requests"])
    return int(row["hits"]), int(row["requests"])


def read_trace(path):
    with open(path) as f:
        return list(csv.DictReader(f))


# -- item 3: the end-to-end checks ----------------------------------------------


def test_lru_cache_capture_replays_to_the_same_hits(cli, tmp_path):
    trace = tmp_path / "lru.csv"

    @capture.lru_cache(maxsize=CAP, trace=trace)
    def fetch(k):
        return "v" * (k % 97)

    keys = stream()
    for k in keys:
        fetch(k)
    fetch.cache_trace.close()
    info = fetch.cache_info()
    assert 0 < info.hits < len(keys)
    assert replay_hits(cli, "lru", trace) == (info.hits, len(keys))


def test_cachetools_lru_fifo_and_lfu_captures_replay_to_the_same_hits(cli, tmp_path):
    cachetools = pytest.importorskip("cachetools")
    for strategy, cache in [
        ("lru", cachetools.LRUCache(maxsize=CAP)),
        ("fifo", cachetools.FIFOCache(maxsize=CAP)),
        ("lfu", cachetools.LFUCache(maxsize=CAP)),
    ]:
        trace = tmp_path / f"{strategy}.csv"

        @capture.cached(cache, info=True, trace=trace)
        def fetch(k, region="eu"):
            return [k, region]

        keys = stream(seed=len(strategy))
        for k in keys:
            fetch(k, region="us")
        fetch.cache_trace.close()
        info = fetch.cache_info()
        assert 0 < info.hits < len(keys)
        assert replay_hits(cli, strategy, trace) == (info.hits, len(keys)), strategy


def test_cachetools_ttl_capture_replays_with_its_timer(cli, tmp_path):
    cachetools = pytest.importorskip("cachetools")
    now = [1_700_000_000.0]
    ttl = 3
    cache = cachetools.TTLCache(maxsize=CAP, ttl=ttl, timer=lambda: now[0])
    trace = tmp_path / "ttl.csv"

    @capture.cached(cache, info=True, trace=trace)
    def fetch(k):
        return k

    rng = random.Random(5)
    keys = stream(seed=5)
    for k in keys:
        now[0] += rng.choice([0.001, 0.01, 0.05, 0.3])
        fetch(k)
    fetch.cache_trace.close()
    info = fetch.cache_info()
    times = [float(r["time"]) for r in read_trace(trace)]
    assert times == sorted(times) and times[-1] - times[0] > 10 * ttl
    # a TTL that matters: an LRU of the same size without expiry hits more
    lru_hits, _ = replay_hits(cli, "lru", trace)
    assert info.hits < lru_hits
    assert replay_hits(cli, "ttl", trace, "--ttl", f"{ttl}s") == (info.hits, len(keys))


# -- drop-in behaviour -----------------------------------------------------------


def calls():
    return [((1,), {}), ((1.0,), {}), ((True,), {}), (("1",), {}), ((1, 2), {}),
            ((1,), {"b": 2}), ((), {"a": 1, "b": 2}), ((), {"b": 2, "a": 1}),
            (((1, 2),), {}), ((None,), {}), ((b"x",), {}), ((frozenset({1, 2}),), {}),
            ((2.5,), {}), ((1,), {"b": 2.0})]


@pytest.mark.parametrize("typed", [False, True])
def test_lru_cache_behaves_as_functools(tmp_path, typed):
    def work(*args, **kwargs):
        return repr((args, sorted(kwargs.items())))

    theirs = functools.lru_cache(maxsize=4, typed=typed)(work)
    mine = capture.lru_cache(maxsize=4, typed=typed, trace=tmp_path / "t.csv")(work)
    seq = calls() * 3
    random.Random(1).shuffle(seq)
    for a, k in seq:
        assert mine(*a, **k) == theirs(*a, **k)
        assert mine.cache_info() == theirs.cache_info()
    assert mine.cache_parameters() == theirs.cache_parameters()
    mine.cache_clear()
    theirs.cache_clear()
    assert mine.cache_info() == theirs.cache_info()
    assert mine.__wrapped__ is work and mine.__name__ == "work"
    mine.cache_trace.close()
    assert len(read_trace(tmp_path / "t.csv")) == len(seq)


@pytest.mark.parametrize("typed", [False, True])
def test_keys_are_equal_exactly_when_lru_cache_finds_them_equal(tmp_path, typed):
    for i, (a1, k1) in enumerate(calls()):
        for a2, k2 in calls()[i:]:
            probe = functools.lru_cache(maxsize=None, typed=typed)(lambda *a, **k: None)
            probe(*a1, **k1)
            probe(*a2, **k2)
            same = probe.cache_info().currsize == 1
            key1 = capture.stable_key(capture._call_key(a1, k1, typed))
            key2 = capture.stable_key(capture._call_key(a2, k2, typed))
            assert (key1 == key2) == same, (a1, k1, a2, k2)


def test_bare_decorator_and_default_trace_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    @capture.lru_cache
    def square(x):
        return x * x

    assert square(3) == 9 and square(3) == 9
    assert square.cache_info().hits == 1 and square.cache_info().maxsize == 128
    square.cache_trace.close()
    assert len(read_trace(tmp_path / "test_bare_decorator_and_default_trace_name.<locals>.square.keys.csv".replace("<", "").replace(">", ""))) == 2


def test_a_call_that_raises_records_nothing(tmp_path):
    @capture.lru_cache(maxsize=2, trace=tmp_path / "t.csv")
    def f(x):
        if x < 0:
            raise ValueError("negative")
        return x

    f(1)
    with pytest.raises(ValueError):
        f(-1)
    f(1)
    f.cache_trace.close()
    rows = read_trace(tmp_path / "t.csv")
    assert len(rows) == 2 and rows[0]["key"] == rows[1]["key"]


def test_trace_rows_hold_key_time_and_size(tmp_path):
    clock = iter([10.0, 10.25, 11.5])

    @capture.lru_cache(maxsize=8, trace=tmp_path / "t.csv", timer=lambda: next(clock))
    def f(x):
        return b"x" * x

    f(3), f(70000), f(3)
    f.cache_trace.close()
    rows = read_trace(tmp_path / "t.csv")
    assert list(rows[0].keys()) == ["key", "time", "size"]
    assert [float(r["time"]) for r in rows] == [10.0, 10.25, 11.5]
    assert [int(r["size"]) for r in rows] == [3, 70000, 3]
    assert rows[0]["key"] == rows[2]["key"] != rows[1]["key"]
    assert int(rows[0]["key"]) == capture.stable_key(3)


def test_sizes_of_results():
    assert capture.default_size(b"abc") == 3
    assert capture.default_size("é") == 2
    big = capture.default_size(list(range(1000)))
    assert big > capture.default_size(list(range(10))) > 0


STABLE = """
import sys; sys.path.insert(0, {path!r})
from cachesim import capture
print([capture.stable_key(capture._call_key(a, k, t)) for a, k in {calls!r} for t in (False, True)])
"""


def test_keys_are_stable_across_processes():
    """Python's hash() of a str changes with PYTHONHASHSEED; the capture's
    keys do not."""
    code = STABLE.format(path=os.path.dirname(os.path.dirname(capture.__file__)), calls=calls())
    outs = set()
    for seed in ("1", "2", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        outs.add(out.stdout)
    here = [capture.stable_key(capture._call_key(a, k, t)) for a, k in calls() for t in (False, True)]
    assert outs == {f"{here}\n"}


def test_traces_flush_at_exit(tmp_path):
    trace = tmp_path / "exit.csv"
    code = (
        "from cachesim.capture import lru_cache\n"
        f"f = lru_cache(maxsize=2, trace={str(trace)!r})(lambda x: x)\n"
        "[f(i % 3) for i in range(10)]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert len(read_trace(trace)) == 10


# -- redis-py --------------------------------------------------------------------


def test_redis_capture_records_gets_sets_and_ttls(cli, redis_url, tmp_path):
    import redis as redis_py

    client = redis_py.Redis.from_url(redis_url)
    prefix = f"cachesim-capture-test:{os.getpid()}:{time.time_ns()}:"
    trace = tmp_path / "redis.csv"
    r = capture.redis(client, trace=trace)
    served = 0
    try:
        for i in range(50):
            r.set(prefix + str(i), "v" * (i + 1), ex=600)
        rng = random.Random(9)
        for n in range(300):
            served += r.get(prefix + str(rng.randrange(50))) is not None
        for i in range(50, 60):  # never set: a miss each, once
            served += r.get(prefix + str(i)) is not None
        r.setex(prefix + "short", 1, b"abc")
        r.psetex(prefix + "tiny", 50, b"abcd")
        r.delete(prefix + "0")
        served += r.get(prefix + "0") is not None
        time.sleep(0.2)
        served += r.get(prefix + "tiny") is not None  # expired in Redis
        served += r.get(prefix + "short") is not None  # still there
        values = r.mget([prefix + "1", prefix + "2"])
        served += sum(v is not None for v in values)
        assert r.ping()  # other commands pass through
    finally:
        keys = client.keys(prefix + "*")
        if keys:
            client.delete(*keys)
    r.cache_trace.close()

    rows = read_trace(trace)
    assert list(rows[0].keys()) == ["key", "time", "size", "op", "ttl"]
    ops = [row["op"] for row in rows]
    assert ops.count("set") == 52 and ops.count("delete") == 1 and ops.count("get") == 300 + 10 + 1 + 2 + 2
    assert [float(row["ttl"]) for row in rows[:50]] == [600.0] * 50
    assert {row["ttl"] for row in rows if row["op"] == "get"} == {""}
    by_op = {(row["op"], row["ttl"]) for row in rows if row["op"] == "set"}
    assert ("set", "1.0") in by_op and ("set", "0.05") in by_op
    assert [int(row["size"]) for row in rows[:3]] == [1, 2, 3]
    # cachesim replays it: a cache as large as the key space, writes stored
    # (--on-write update), expiry from the TTL column: the hits are the gets
    # Redis answered.
    out = cli("run", "-s", "lru", "-c", "1000", "--trace", trace, "--on-write", "update",
              "--no-latency", "--format", "csv", "--no-save")
    assert out.returncode == 0, out.stderr
    (row,) = list(csv.DictReader(out.stdout.splitlines()))
    assert int(row["requests"]) == len(rows)
    assert int(row["sets"]) == 52 and int(row["deletes"]) == 1
    assert int(row["hits"]) == served
