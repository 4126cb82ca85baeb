"""Record the key stream of your own Python program, for `cachesim run --trace`.

Pure Python, no dependency (cachetools and redis-py are used only when you
wrap one of theirs):

    from cachesim.capture import lru_cache

    @lru_cache(maxsize=1000, trace="keys.csv")   # behaves as functools.lru_cache
    def user(uid): ...

then `cachesim run -s lru,lfu,s3fifo -c 1000 --trace keys.csv`.

Each call is one row of a CSV whose header cachesim recognises:
`key,time,size` (and `op,ttl` for redis-py). `key` is a stable 64-bit hash
of the cache's key (the same in every process, unlike Python's `hash()`,
and equal exactly when the cache finds two calls' keys equal: for
`lru_cache`, `f(1.0)` and `f(True)` are one key, `f(1)` another); `time` is the cache's
clock when the call returned (a `cachetools` cache's own `timer` when it has
one, else `time.time()`, or `timer=`), in seconds; `size` is the size of the
result in bytes (`len` of bytes and UTF-8 text, else its pickled length;
`size=` replaces the measure). A call that raised records nothing (the cache
kept nothing either). `cache_clear()` is not recorded: a replay of a stream
with clears sees the cache warm where yours was cleared.

The trace is flushed when the program exits and by `fn.cache_trace.flush()`
or `.close()`.
"""

import atexit
import functools
import hashlib
import os
import pickle
import struct
import threading
import time as _time

__all__ = ["lru_cache", "cached", "redis", "Trace", "stable_key"]

# -- a stable hash of cache keys ---------------------------------------------

_KWD_MARK = object()
_FAST = (int, str)


def _encode(obj, out):
    """Appends a canonical encoding of `obj`: equal for objects Python finds
    equal within a cache key (1, 1.0 and True; bytes and bytearray; set and
    frozenset), different otherwise."""
    if obj is None:
        out.append(b"N")
    elif obj is _KWD_MARK:
        out.append(b"K")
    elif isinstance(obj, bool):
        _encode(int(obj), out)
    elif isinstance(obj, int):
        out.append(b"i%d;" % int(obj))
    elif isinstance(obj, float):
        if obj == obj and obj not in (float("inf"), float("-inf")) and obj.is_integer():
            _encode(int(obj), out)
        else:
            out.append(b"f" + repr(obj).encode() + b";")
    elif isinstance(obj, complex):
        if obj.imag == 0:
            _encode(obj.real, out)
        else:
            out.append(b"c" + repr(obj).encode() + b";")
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogatepass")
        out.append(b"s%d:" % len(data) + data)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        out.append(b"b%d:" % len(data) + data)
    elif isinstance(obj, tuple):
        out.append(b"t%d:" % len(obj))
        for x in obj:
            _encode(x, out)
    elif isinstance(obj, list):
        out.append(b"l%d:" % len(obj))
        for x in obj:
            _encode(x, out)
    elif isinstance(obj, (set, frozenset)):
        parts = sorted(_digest(x) for x in obj)
        out.append(b"F%d:" % len(parts) + b"".join(parts))
    elif isinstance(obj, type):
        out.append(b"T" + f"{obj.__module__}.{obj.__qualname__}".encode() + b";")
    else:
        # Enums, dataclasses and other values with a stable repr; an object
        # compared by identity has no stable identity across processes.
        t = type(obj)
        text = f"{t.__module__}.{t.__qualname__}:{obj!r}"
        out.append(b"r%d:" % len(text.encode()) + text.encode())


def _digest(obj):
    parts = []
    _encode(obj, parts)
    return hashlib.blake2b(b"".join(parts), digest_size=8).digest()


def stable_key(obj):
    """A 64-bit key for `obj`, the same in every process and Python version
    (blake2b of a canonical encoding; see `_encode`)."""
    return struct.unpack("<Q", _digest(obj))[0]


def _call_key(args, kwargs, typed):
    """The key `functools.lru_cache` makes of a call: the only argument when
    it is exactly an int or str, else the arguments, a marker, the keyword
    arguments in call order, and with `typed` the values' types."""
    if not kwargs and len(args) == 1 and type(args[0]) in _FAST:
        return args[0] if not typed else [args[0], type(args[0])]
    key = list(args)
    if kwargs:
        key.append(_KWD_MARK)
        for item in kwargs.items():
            key.extend(item)
    if typed:
        key.extend(type(v) for v in args)
        if kwargs:
            key.extend(type(v) for v in kwargs.values())
    return key


# -- the trace -----------------------------------------------------------------


def default_size(value):
    """Bytes of a result: `len` of bytes, UTF-8 length of text, else the
    length of its pickle (`sys.getsizeof` when it does not pickle)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    try:
        return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        import sys

        return sys.getsizeof(value)


_MAX_SIZE = 2**32 - 1


class Trace:
    """A capture file: a CSV with a header row cachesim recognises. Rows are
    appended under a lock (calls from several threads); flushed at exit."""

    def __init__(self, path, columns=("key", "time", "size")):
        self.path = os.fspath(path)
        self.columns = tuple(columns)
        self._lock = threading.Lock()
        self._file = open(self.path, "w", encoding="utf-8", newline="")
        self._file.write(",".join(self.columns) + "\n")
        self.rows = 0
        atexit.register(self.close)

    def write(self, key, time, size, op=None, ttl=None):
        size = min(max(int(size), 0), _MAX_SIZE)
        fields = [str(key), repr(float(time)), str(size)]
        if len(self.columns) > 3:
            fields += [op or "get", "" if not ttl else repr(float(ttl))]
        with self._lock:
            if self._file.closed:
                raise ValueError(f"the trace {self.path} is closed")
            self._file.write(",".join(fields) + "\n")
            self.rows += 1

    def flush(self):
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self):
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def __repr__(self):
        return f"Trace({self.path!r}, rows={self.rows})"


def _trace_of(trace, func, columns=("key", "time", "size")):
    if isinstance(trace, Trace):
        return trace
    if trace is None:
        trace = f"{func.__qualname__.replace('<', '').replace('>', '')}.keys.csv"
    return Trace(trace, columns)


def _recording(func, inner, trace, key_of, clock, size):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        key = stable_key(key_of(args, kwargs))
        result = inner(*args, **kwargs)
        trace.write(key, clock(), size(result))
        return result

    for name in ("cache_info", "cache_clear", "cache_parameters", "cache", "cache_key", "cache_lock"):
        if hasattr(inner, name):
            setattr(wrapper, name, getattr(inner, name))
    wrapper.cache_trace = trace
    wrapper.__wrapped__ = func
    return wrapper


# -- drop-ins ------------------------------------------------------------------


def lru_cache(maxsize=128, typed=False, *, trace=None, timer=None, size=None):
    """`functools.lru_cache` (it is the cache: same results, `cache_info()`,
    `cache_clear()`, `typed=`), recording every call into `trace` (a path,
    default `<function>.keys.csv`, or a shared `Trace`). Replay the trace
    with `cachesim run -s lru -c MAXSIZE --trace FILE`: the same hits."""
    if callable(maxsize) and isinstance(typed, bool):
        func, maxsize = maxsize, 128
        return lru_cache(maxsize, typed, trace=trace, timer=timer, size=size)(func)

    def decorating(func):
        inner = functools.lru_cache(maxsize=maxsize, typed=typed)(func)
        return _recording(
            func,
            inner,
            _trace_of(trace, func),
            lambda a, k: _call_key(a, k, typed),
            timer or _time.time,
            size or default_size,
        )

    return decorating


def cached(cache, *args, trace=None, timer=None, size=None, **kwargs):
    """`cachetools.cached(cache, ...)` (it is the decorator, with every
    argument passed on: `key=`, `lock=`, `info=`...), recording every call's
    key (the `key=` function's, default `cachetools.keys.hashkey`) into
    `trace`. The time is the cache's own `timer()` when it has one (a
    `TTLCache`'s), so a replay with `-s ttl --ttl TTL` expires as it did."""
    import cachetools
    import cachetools.keys

    key = kwargs.get("key", args[0] if args else cachetools.keys.hashkey)
    clock = timer or getattr(cache, "timer", None) or _time.time

    def decorating(func):
        inner = cachetools.cached(cache, *args, **kwargs)(func)
        return _recording(
            func,
            inner,
            _trace_of(trace, func),
            lambda a, k: key(*a, **k),
            clock,
            size or default_size,
        )

    return decorating


# -- redis-py ------------------------------------------------------------------

REDIS_COLUMNS = ("key", "time", "size", "op", "ttl")


def _redis_key(name):
    if isinstance(name, str):
        name = name.encode("utf-8")
    elif isinstance(name, (int, float)):
        name = repr(name).encode() if isinstance(name, float) else str(name).encode()
    return stable_key(bytes(name))


def _ttl_seconds(ex=None, px=None, exat=None, pxat=None, clock=_time.time):
    """The TTL of a SET's expiry options, in seconds (None: no expiry)."""
    import datetime

    if ex is not None:
        return ex.total_seconds() if isinstance(ex, datetime.timedelta) else float(ex)
    if px is not None:
        return (px.total_seconds() if isinstance(px, datetime.timedelta) else px / 1000.0)
    if exat is not None:
        at = exat.timestamp() if isinstance(exat, datetime.datetime) else float(exat)
        return max(at - _time.time(), 0.001)
    if pxat is not None:
        at = pxat.timestamp() if isinstance(pxat, datetime.datetime) else pxat / 1000.0
        return max(at - _time.time(), 0.001)
    return None


class _RedisCapture:
    """A redis-py client that records its gets, sets and deletes (see
    `redis`); every other command goes to the client unrecorded."""

    def __init__(self, client, trace, timer, size):
        self._client, self.cache_trace = client, trace
        self._clock, self._size = timer or _time.time, size or default_size

    def __getattr__(self, name):
        return getattr(self._client, name)

    def _record(self, name, op, size, ttl=None):
        self.cache_trace.write(_redis_key(name), self._clock(), size, op, ttl)

    def _value_size(self, value):
        return 0 if value is None else self._size(value)

    def get(self, name):
        value = self._client.get(name)
        self._record(name, "get", self._value_size(value))
        return value

    def mget(self, keys, *args):
        names = list(keys) if isinstance(keys, (list, tuple)) else [keys]
        names += list(args)
        values = self._client.mget(names)
        for n, v in zip(names, values):
            self._record(n, "get", self._value_size(v))
        return values

    def set(self, name, value, ex=None, px=None, nx=False, xx=False, keepttl=False,
            get=False, exat=None, pxat=None, **kwargs):
        result = self._client.set(name, value, ex=ex, px=px, nx=nx, xx=xx, keepttl=keepttl,
                                  get=get, exat=exat, pxat=pxat, **kwargs)
        written = result if not get else True
        if written is not None and written is not False:
            ttl = _ttl_seconds(ex, px, exat, pxat)
            self._record(name, "set", self._value_size(value), ttl)
        return result

    def setex(self, name, time, value):
        result = self._client.setex(name, time, value)
        self._record(name, "set", self._value_size(value), _ttl_seconds(ex=time))
        return result

    def psetex(self, name, time_ms, value):
        result = self._client.psetex(name, time_ms, value)
        self._record(name, "set", self._value_size(value), _ttl_seconds(px=time_ms))
        return result

    def delete(self, *names):
        result = self._client.delete(*names)
        for n in names:
            self._record(n, "delete", 0)
        return result

    def __repr__(self):
        return f"capture.redis({self._client!r}, trace={self.cache_trace.path!r})"


def redis(client, trace="redis-keys.csv", timer=None, size=None):
    """Wraps a redis-py client (`redis.Redis(...)`): `get`, `mget`, `set`
    (with `ex`/`px`/`exat`/`pxat`), `setex`, `psetex` and `delete` are
    recorded as get/set/delete rows with the value's size and the set's TTL
    in seconds (`key,time,size,op,ttl`); every other command passes through.
    Replay with `cachesim run -s lru -c N --trace FILE`."""
    return _RedisCapture(client, _trace_of(trace, None, REDIS_COLUMNS), timer, size)
