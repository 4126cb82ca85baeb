//! The Python binding's own tests (`python/tests`, pytest: `cachesim.run`,
//! `mrc` and `plot` against this binary, the capture drop-ins, and the
//! end-to-end replays of captured key streams), run from `cargo test` so
//! that the README's test command covers them.
//!
//! Needs `python3` with pytest and the binding built from this checkout
//! (`pip install ./python`; `.ci/run` does both). Skipped with a printed
//! reason otherwise, and a failure under `CACHESIM_REQUIRE_SERVICES=1`;
//! a wheel built from other sources than the checkout's (a hash stamped by
//! `python/build.rs`, recomputed by `python/tests/conftest.py`) counts as
//! missing: it would test old code.

use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn python(args: &[&str]) -> Option<Output> {
    Command::new("python3")
        .args(args)
        .current_dir(ROOT)
        .env("CACHESIM_BIN", env!("CARGO_BIN_EXE_cachesim"))
        .output()
        .ok()
}

fn succeeds(code: &str) -> bool {
    python(&["-c", code]).is_some_and(|o| o.status.success())
}

#[test]
fn python_binding_tests_pass() {
    if !succeeds("import pytest") {
        skip_or_fail!("python3 with pytest not available (pip install pytest)");
    }
    if !succeeds("import cachesim._native") {
        skip_or_fail!("the Python binding is not installed (pip install ./python)");
    }
    let fresh = "import sys; sys.path.insert(0, 'python/tests'); import conftest, cachesim; \
                 sys.exit(conftest.source_hash() != cachesim._native.source_hash())";
    if !succeeds(fresh) {
        skip_or_fail!(
            "the installed Python binding was built from other sources than {ROOT}: rebuild it (pip install ./python)"
        );
    }
    assert!(Path::new(ROOT).join("python/tests").is_dir());
    let out = python(&[
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "python/tests",
    ])
    .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "pytest failed:\n{text}");
    assert!(text.contains(" passed"), "{text}");
}
