//! The skip rule itself (issue 16, item 18): a conformance test whose trace
//! is missing skips with a printed reason on a developer's machine, and
//! fails under `CACHESIM_REQUIRE_SERVICES=1`, so CI cannot pass by checking
//! nothing. Runs this test binary again on one conformance test with the
//! trace folder pointed at a place that does not exist.

use std::process::{Command, Output};

fn rerun(require: &str) -> Output {
    let exe = std::env::current_exe().expect("the test binary");
    Command::new(exe)
        .args([
            "conformance_arc::arc_matches_table_iv_on_oltp",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("CACHESIM_TRACE_DIR", "/nonexistent/cachesim-traces")
        .env("CACHESIM_REQUIRE_SERVICES", require)
        .output()
        .expect("run the test binary")
}

#[test]
fn a_missing_trace_skips_by_default_and_fails_when_required() {
    let text = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let relaxed = rerun("0");
    let out = text(&relaxed);
    assert!(relaxed.status.success(), "{out}");
    assert!(out.contains("1 passed"), "{out}");
    assert!(
        out.contains("skipped: CACHESIM_TRACE_DIR=/nonexistent/cachesim-traces is not a directory"),
        "{out}"
    );
    let strict = rerun("1");
    let out = text(&strict);
    assert!(!strict.status.success(), "{out}");
    assert!(out.contains("required trace missing"), "{out}");
    assert!(out.contains("1 failed"), "{out}");
}
