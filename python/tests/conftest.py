"""Shared fixtures of the binding's tests: the repository, the CLI binary
the rows are compared with, and what a test does when something it needs is
missing (skip with a reason; fail under CACHESIM_REQUIRE_SERVICES=1, as the
Rust tests do in CI)."""

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def services_required():
    return os.environ.get("CACHESIM_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason):
    if services_required():
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def source_hash():
    """The hash `python/build.rs` stamps into the binding, over this
    checkout: 64-bit FNV-1a of each file's path from the root, NUL, bytes,
    NUL, in path order."""
    files = [ROOT / "Cargo.toml", ROOT / "Cargo.lock"]
    files += [ROOT / "python" / "Cargo.toml", ROOT / "python" / "pyproject.toml"]
    files += sorted((ROOT / "src").rglob("*.rs"))
    files += sorted((ROOT / "python" / "src").rglob("*.rs"))
    files += sorted((ROOT / "python" / "cachesim").rglob("*.py"))
    named = sorted((p.relative_to(ROOT).as_posix(), p) for p in files)
    h = 0xCBF29CE484222325
    mask = (1 << 64) - 1
    for rel, p in named:
        for chunk in (rel.encode(), b"\0", p.read_bytes(), b"\0"):
            for b in chunk:
                h = ((h ^ b) * 0x100000001B3) & mask
    return f"{h:016x}"


def pytest_sessionstart(session):
    """A wheel built from other sources than this checkout tests old code:
    refuse to run it (set CACHESIM_ALLOW_STALE=1 to run anyway)."""
    import cachesim

    if os.environ.get("CACHESIM_ALLOW_STALE") == "1":
        return
    built, here = cachesim._native.source_hash(), source_hash()
    if built != here:
        raise pytest.UsageError(
            f"the installed cachesim wheel was built from other sources ({built}) "
            f"than this checkout ({here}): rebuild it with `pip install ./python`"
        )


MEASURED = None


def measured_columns():
    """MEASURED_COLUMNS of src/sim/result.rs: the columns that measure this
    machine rather than the simulation."""
    global MEASURED
    if MEASURED is None:
        text = (ROOT / "src" / "sim" / "result.rs").read_text()
        body = re.search(r"pub const MEASURED_COLUMNS: &\[&str\] = &\[(.*?)\];", text, re.S)
        MEASURED = set(re.findall(r'"([^"]+)"', body.group(1)))
    return MEASURED


@pytest.fixture(scope="session")
def cli():
    """Runs the cachesim binary ($CACHESIM_BIN, else target/release/cachesim)."""
    exe = Path(os.environ.get("CACHESIM_BIN", ROOT / "target" / "release" / "cachesim"))
    if not exe.is_file():
        skip_or_fail(f"no cachesim binary at {exe} (cargo build --release)")

    def run(*args, cwd=None):
        return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd)

    return run


@pytest.fixture(scope="session")
def redis_url():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        skip_or_fail("no Redis answers on 127.0.0.1:6379")
    try:
        import redis  # noqa: F401
    except ImportError:
        skip_or_fail("redis-py is not installed (pip install redis)")
    return "redis://127.0.0.1:6379/0"
