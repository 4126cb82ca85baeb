"""cachesim from Python: which caching strategy should I use for this workload?

    import cachesim
    rows = cachesim.run(strategy=["lru", "lfu"], workload="zipf", capacity=["1%", "10%"])
    rows.to_pandas()                      # a DataFrame, when pandas is installed
    cachesim.plot(rows, out="charts")     # the CLI's charts, PNG and SVG
    cachesim.mrc(workload="zipf", capacity="0.1%..100%:30")

`run`, `mrc` and `plot` take the options of `cachesim run`, `cachesim mrc`
and `cachesim plot` as keyword arguments (`no_latency=True` is
`--no-latency`, a list is comma separated), with the CLI's defaults, and run
the same library code; they return the rows of the CLI's CSV. An error
raises `CachesimError`, a `ValueError` carrying the CLI's message.

`cachesim.capture` records the key stream of your own program (drop-ins for
`functools.lru_cache`, `cachetools.cached` and a redis-py client) into a
trace `cachesim run --trace` reads.
"""

import csv
import io
import os
import sys
import tempfile

from . import _native
from ._native import CachesimError

__all__ = ["run", "mrc", "plot", "Rows", "CachesimError", "capture"]
__version__ = _native.__version__


class Rows(list):
    """The rows of the CLI's CSV, one dict per row (numbers as int or float,
    empty fields as None), in the CSV's column order (`columns`)."""

    def __init__(self, rows=(), columns=()):
        super().__init__(rows)
        self.columns = list(columns)

    def to_pandas(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError as e:  # pragma: no cover - depends on the machine
            raise ImportError("to_pandas() needs pandas: pip install pandas") from e
        return pandas.DataFrame(list(self), columns=self.columns or None)


def _value(text):
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _rows(csv_text):
    reader = csv.DictReader(io.StringIO(csv_text))
    rows = [{k: _value(v) for k, v in r.items()} for r in reader]
    return Rows(rows, reader.fieldnames or [])


def _word(value):
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _argv(options):
    """Keyword arguments as the command line: `no_latency=True` is
    `--no-latency`, `False`/`None` leave the option out, a list or tuple is
    comma separated (`strategy=["lru", "lfu"]` is `--strategy lru,lfu`)."""
    argv = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv += [flag, ",".join(_word(v) for v in value)]
        else:
            argv += [flag, _word(value)]
    return argv


def _in_notebook():
    return "ipykernel" in sys.modules


class _Bar:
    """A progress bar for the notebook (tqdm.auto when installed) or the
    terminal's stderr; drawn only once a command has shown progress."""

    def __init__(self, desc):
        self.desc, self.bar, self.last = desc, None, None

    def __call__(self, position, length, prefix):
        if length == 0:
            return
        if self.bar is None:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=length, desc=self.desc, unit="req", unit_scale=True)
            except ImportError:
                self.bar = False
        if self.bar:
            self.bar.total = length
            self.bar.n = position
            if prefix:
                self.bar.set_postfix_str(prefix, refresh=False)
            self.bar.refresh()
        elif (position, length) != self.last:
            pct = 100.0 * position / length
            sys.stderr.write(f"\r{self.desc}: {pct:5.1f}% {position}/{length} requests {prefix}")
            sys.stderr.flush()
        self.last = (position, length)

    def close(self):
        if self.bar:
            self.bar.close()
        elif self.last is not None:
            sys.stderr.write("\n")


def _command(words, progress, desc):
    """Runs `cachesim WORDS...` in the library, returns its stdout as text."""
    if progress is None:
        progress = _in_notebook() or sys.stderr.isatty()
    bar = _Bar(desc) if progress else None
    try:
        out = _native.run_args([str(w) for w in words], bar)
    finally:
        if bar:
            bar.close()
    return out.decode("utf-8")


def _usage(message):
    """A usage error raised on the Python side, shaped as the CLI's."""
    e = CachesimError(message)
    e.exit_code = 2
    return e


def _refuse(options, names, why):
    for n in names:
        if options.get(n) not in (None, False):
            raise _usage(f"{n}= is not an option here: {why}")


def _results(command, options, progress):
    _refuse(options, ["format"], f"{command}() returns the CSV's rows")
    out = options.pop("out", None)
    argv = [command] + _argv(options) + ["--format", "csv"]
    argv += ["--out", os.fspath(out)] if out is not None else ["--no-save"]
    return _rows(_command(argv, progress, f"cachesim {command}"))


def run(progress=None, **options):
    """`cachesim run` with the options as keyword arguments; the CLI's
    defaults (strategy lru, workload zipf, capacity 10%, ...).

    Returns the rows of the results CSV (`Rows`, a list of dicts with
    `.to_pandas()`). Nothing is saved unless `out="file.csv"` is given.
    `progress`: a progress bar (default: in a notebook or on a terminal).
    Raises `CachesimError` (a `ValueError`) with the CLI's message.
    """
    return _results("run", options, progress)


def mrc(progress=None, **options):
    """`cachesim mrc` with the options as keyword arguments: the rows of
    the miss-ratio curve's CSV (see `run`)."""
    return _results("mrc", options, progress)


def plot(results, progress=False, **options):
    """`cachesim plot`: the CLI's charts (PNG and SVG) of `results`, which
    is the rows of `run` (a list of dicts or a DataFrame) or one or more
    results CSV paths. Returns the paths written. Rows are plotted from a
    temporary CSV: then `out` defaults to the current directory and `name`
    to "cachesim"."""
    _refuse(options, ["quiet"], "plot() returns the paths it wrote")
    with tempfile.TemporaryDirectory(prefix="cachesim-plot-") as tmp:
        if isinstance(results, (str, os.PathLike)):
            inputs = [os.fspath(results)]
        elif isinstance(results, (list, tuple)) and results and all(
            isinstance(r, (str, os.PathLike)) for r in results
        ):
            inputs = [os.fspath(r) for r in results]
        else:
            path = os.path.join(tmp, "results.csv")
            _write_csv(results, path)
            inputs = [path]
            options.setdefault("out", ".")
            options.setdefault("name", "cachesim")
        text = _command(["plot"] + inputs + _argv(options), progress, "cachesim plot")
    return [line for line in text.splitlines() if line]


def _write_csv(results, path):
    if hasattr(results, "to_csv") and hasattr(results, "columns"):  # a DataFrame
        results.to_csv(path, index=False)
        return
    rows = list(results)
    if not rows:
        raise _usage("plot() got no rows to draw")
    columns = getattr(results, "columns", None) or list(rows[0].keys())
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})


from . import capture  # noqa: E402  (capture needs nothing above; listed last)
