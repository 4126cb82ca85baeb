//! `cachesim._native`: the command line of the `cachesim` library, run from
//! Python. The Python package (`cachesim/__init__.py`) turns keyword
//! arguments into the command line, so options, defaults and messages are
//! the binary's; this module runs it off the interpreter's lock, reports the
//! progress to a Python callback from the calling thread, and turns the
//! CLI's errors into `CachesimError` (a `ValueError`).

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::mpsc;
use std::time::Duration;

pyo3::create_exception!(
    _native,
    CachesimError,
    PyValueError,
    "An error of the cachesim command line: its message is the one the binary prints after `error: `; `exit_code` is the binary's exit status (2 bad usage, 1 failure at run time)."
);

/// How often the progress callback is called while a command runs.
const POLL: Duration = Duration::from_millis(100);

/// What a command's thread hands back: its stdout, or (exit status,
/// message); and its notes for stderr, either way.
type Outcome = (Result<Vec<u8>, (i32, String)>, String);

/// Runs `cachesim ARGS...` (without the program name) and returns what it
/// printed on stdout; its notes (warnings, `saved ...`) go to Python's
/// `sys.stderr`, which a notebook shows under the cell. The interpreter's lock is released while it runs;
/// every 100 ms the calling thread takes it back to call
/// `progress(position, length, prefix)` (if given) and to check for Ctrl-C,
/// which stops the run (`KeyboardInterrupt`).
#[pyfunction]
#[pyo3(signature = (args, progress=None))]
fn run_args<'py>(
    py: Python<'py>,
    args: Vec<String>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (tx, mut rx) = mpsc::channel::<Outcome>();
    cachesim::progress::observe(true);
    cachesim::interrupt::clear();
    let worker = std::thread::spawn(move || {
        let r = cachesim::cmd::run_args(args).map_err(|e| (e.exit_code(), e.to_string()));
        let _ = tx.send((r, cachesim::cmd::take_notes()));
    });
    let outcome = loop {
        // The receiver is `Send`, not `Sync`: it goes to the detached
        // closure and comes back.
        let (got, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match got {
            Ok(r) => break Some(r),
            Err(mpsc::RecvTimeoutError::Disconnected) => break None,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let checked =
            py.check_signals()
                .and_then(|()| match (&progress, cachesim::progress::observed()) {
                    (Some(cb), Some(p)) => cb.call1((p.position, p.length, p.prefix)).map(drop),
                    _ => Ok(()),
                });
        if let Err(e) = checked {
            // Ctrl-C, or the callback raised: stop the run, wait for it.
            cachesim::interrupt::request_stop();
            py.detach(move || drop(rx.recv()));
            let _ = worker.join();
            finish();
            return Err(e);
        }
    };
    if let (Some(cb), Some(p)) = (&progress, cachesim::progress::observed()) {
        // The last position, so that a notebook bar ends full.
        let _ = cb.call1((p.position, p.length, p.prefix));
    }
    finish();
    let panicked = worker.join().is_err();
    if let Some((_, notes)) = &outcome {
        if !notes.is_empty() {
            // Python's stderr, which a notebook shows under the cell.
            let err = py.import("sys")?.getattr("stderr")?;
            err.call_method1("write", (notes,))?;
            err.call_method0("flush")?;
        }
    }
    match outcome.map(|(r, _)| r) {
        Some(Ok(out)) => Ok(PyBytes::new(py, &out)),
        Some(Err((code, msg))) => {
            let err = CachesimError::new_err(msg);
            err.value(py).setattr("exit_code", code)?;
            Err(err)
        }
        None if panicked => Err(PyRuntimeError::new_err(
            "cachesim panicked (a bug: please report it with the arguments)",
        )),
        None => Err(PyRuntimeError::new_err("cachesim stopped without a result")),
    }
}

/// Back to the binary's behaviour once a command returned: bars drawn as
/// usual, no stop pending.
fn finish() {
    cachesim::progress::observe(false);
    cachesim::interrupt::clear();
}

/// The hash of the sources this module was built from (see `build.rs`).
#[pyfunction]
fn source_hash() -> &'static str {
    env!("CACHESIM_SOURCE_HASH")
}

/// The native half of the `cachesim` Python package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_args, m)?)?;
    m.add_function(wrap_pyfunction!(source_hash, m)?)?;
    m.add("CachesimError", m.py().get_type::<CachesimError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
