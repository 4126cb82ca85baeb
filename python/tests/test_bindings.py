"""cachesim.run / mrc / plot against the CLI: same rows, same defaults, same
errors."""

import csv
import io
import threading

import pytest

import cachesim
from cachesim import _native
from conftest import measured_columns


def cli_rows(cli, *args):
    out = cli(*args, "--format", "csv", "--no-save")
    assert out.returncode == 0, out.stderr
    return list(csv.DictReader(io.StringIO(out.stdout)))


def comparable(rows):
    """Rows as text, without the columns that measure this machine."""
    skip = measured_columns()
    return [
        {k: ("" if v is None else str(v)) for k, v in r.items() if k not in skip} for r in rows
    ]


def as_text(rows):
    """The binding's typed values back as the CSV's text."""
    text = io.StringIO()
    w = csv.DictWriter(text, fieldnames=rows.columns)
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return list(csv.DictReader(io.StringIO(text.getvalue())))


def test_run_rows_equal_the_cli_rows_outside_measured_columns(cli):
    rows = cachesim.run(
        strategy=["lru", "lfu", "s3fifo"],
        workload="zipf",
        capacity=["1%", "10%"],
        requests=50_000,
        seed=3,
        no_latency=True,
    )
    theirs = cli_rows(
        cli, "run", "--strategy", "lru,lfu,s3fifo", "--workload", "zipf",
        "--capacity", "1%,10%", "--requests", "50000", "--seed", "3", "--no-latency",
    )
    assert len(rows) == 6
    assert rows.columns == list(theirs[0].keys())
    assert comparable(as_text(rows)) == comparable(theirs)


def test_defaults_are_the_cli_defaults(cli):
    assert comparable(as_text(cachesim.run())) == comparable(cli_rows(cli, "run"))


def test_values_are_typed():
    r = cachesim.run(requests=10_000, capacity=100, no_latency=True)[0]
    assert isinstance(r["hits"], int) and isinstance(r["hit_ratio"], float)
    assert r["hits"] + r["misses"] == r["requests"] == 10_000
    assert r["capacity"] == 100 and r["strategy"] == "lru"


def error_of(cli, *args):
    out = cli(*args)
    assert out.returncode != 0
    first = out.stderr.split("\n\nFor more information")[0].strip()
    assert first.startswith("error: ")
    return out.returncode, first[len("error: "):]


@pytest.mark.parametrize(
    "kwargs,argv",
    [
        ({"strategy": "nope"}, ["--strategy", "nope"]),
        ({"capacity": "ten"}, ["--capacity", "ten"]),
        ({"requests": -5}, ["--requests", "-5"]),
        ({"no_such_option": 1}, ["--no-such-option", "1"]),
    ],
)
def test_errors_raise_value_error_with_the_cli_message(cli, kwargs, argv):
    code, message = error_of(cli, "run", *argv, "--no-save")
    with pytest.raises(ValueError) as e:
        cachesim.run(**kwargs)
    # clap's usage line echoes the arguments, which are in another order.
    usage = "\n\nUsage: "
    assert str(e.value).split(usage)[0] == message.split(usage)[0]
    assert (usage in str(e.value)) == (usage in message)
    assert e.value.exit_code == code
    assert isinstance(e.value, cachesim.CachesimError)


def test_a_missing_trace_is_a_runtime_error_with_the_cli_message(cli, tmp_path):
    missing = tmp_path / "no-such.csv"
    code, message = error_of(cli, "run", "--no-save", "--trace", missing)
    assert code == 1
    with pytest.raises(ValueError) as e:
        cachesim.run(trace=missing)
    assert str(e.value) == message and e.value.exit_code == 1


def test_out_saves_the_csv_and_rows_match_it(tmp_path):
    out = tmp_path / "r.csv"
    rows = cachesim.run(requests=5_000, out=out, no_latency=True)
    with open(out) as f:
        saved = list(csv.DictReader(f))
    assert comparable(as_text(rows)) == comparable(saved)


def test_the_cli_notes_go_to_python_s_stderr(tmp_path, capsys):
    # A notebook shows sys.stderr under the cell, not the process's stderr.
    out = tmp_path / "r.csv"
    cachesim.run(requests=5_000, out=out, no_latency=True, progress=False)
    err = capsys.readouterr().err
    assert f"saved 1 run(s) to {out}" in err, err
    cachesim.run(requests=5_000, no_latency=True, progress=False)
    assert "saved" not in capsys.readouterr().err


def test_format_is_refused_and_plot_needs_rows():
    with pytest.raises(ValueError, match="format") as e:
        cachesim.run(format="json")
    assert e.value.exit_code == 2
    with pytest.raises(ValueError, match="no rows") as e:
        cachesim.plot([])
    assert e.value.exit_code == 2


def test_to_pandas():
    pandas = pytest.importorskip("pandas")
    rows = cachesim.run(strategy=["lru", "fifo"], requests=5_000, no_latency=True)
    df = rows.to_pandas()
    assert isinstance(df, pandas.DataFrame)
    assert list(df.columns) == rows.columns
    assert list(df["strategy"]) == ["lru", "fifo"]
    assert list(df["hits"]) == [r["hits"] for r in rows]


def test_mrc_rows_equal_the_cli_rows(cli):
    rows = cachesim.mrc(workload="zipf", requests=50_000, capacity=[100, 1000, 5000], compare=True)
    theirs = cli_rows(cli, "mrc", "--workload", "zipf", "--requests", "50000",
                      "--capacity", "100,1000,5000", "--compare")
    assert [r["capacity"] for r in rows] == [100, 1000, 5000]
    assert comparable(as_text(rows)) == comparable(theirs)
    # exact curve: the miss ratio is a full LRU replay's
    assert all(r["abs_error"] < 1e-12 for r in rows)


@pytest.mark.parametrize("source", ["rows", "dataframe", "path"])
def test_plot_writes_the_charts(tmp_path, source):
    rows = cachesim.run(strategy=["lru", "lfu"], capacity=["1%", "5%", "10%"],
                        requests=20_000, no_latency=True, out=tmp_path / "sweep.csv")
    if source == "dataframe":
        pytest.importorskip("pandas")
        results = rows.to_pandas()
    elif source == "path":
        results = tmp_path / "sweep.csv"
    else:
        results = rows
    charts = tmp_path / "charts"
    charts.mkdir()
    written = cachesim.plot(results, out=charts, name="talk", size="800x600")
    pngs = [p for p in written if p.endswith(".png")]
    svgs = [p for p in written if p.endswith(".svg")]
    assert pngs and len(pngs) == len(svgs)
    for p in pngs:
        assert open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        assert p.startswith(str(charts / "talk-"))
    for p in svgs:
        assert b"<svg" in open(p, "rb").read(400)


def test_progress_reaches_the_end():
    calls = []
    _native.run_args(
        ["run", "--requests", "200000", "--no-latency", "--no-save", "--format", "csv"],
        lambda pos, length, prefix: calls.append((pos, length, prefix)),
    )
    assert calls, "the progress callback was never called"
    pos, length, _ = calls[-1]
    assert length > 0 and pos == length
    assert all(p <= n for p, n, _ in calls)


def test_progress_bar_does_not_break_a_run(capsys):
    rows = cachesim.run(requests=20_000, no_latency=True, progress=True)
    assert rows[0]["requests"] == 20_000
    assert "cachesim run" in capsys.readouterr().err


def test_the_gil_is_released_while_a_run_runs():
    """Python code of another thread keeps running while a run is in flight
    (it could not if the run held the interpreter's lock)."""
    done = threading.Event()
    result = {}

    def work():
        result["rows"] = cachesim.run(strategy=["lru", "lfu", "arc"], requests=3_000_000,
                                      no_latency=True, progress=False, threads=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks = 0
    while not done.is_set():
        ticks += 1
    t.join()
    assert result["rows"][0]["requests"] == 3_000_000
    assert ticks > 1000, f"the main thread ran {ticks} times during the run"


def test_a_callback_error_stops_the_run():
    def boom(*_):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        _native.run_args(["run", "--requests", "50000000", "--no-latency", "--no-save"], boom)
    # and the next run is not stopped by it
    assert cachesim.run(requests=1000, no_latency=True)[0]["requests"] == 1000


CTRL_C = """
import sys, cachesim
print("started", flush=True)
try:
    cachesim.run(requests="1G", no_latency=True, progress=False, threads=1)
    print("finished")
except KeyboardInterrupt:
    print("interrupted", flush=True)
print(cachesim.run(requests=1000, no_latency=True, progress=False)[0]["requests"])
"""


def test_ctrl_c_stops_a_run_and_the_next_one_runs():
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "started\n"
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        child.kill()
        raise
    assert child.returncode == 0, err
    assert out.split() == ["interrupted", "1000"], (out, err)
