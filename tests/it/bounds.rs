//! Count options with a bound (issue 16, item 2): beyond it a usage error
//! (exit 2) that names the option and the value that would fit, before the
//! memory is spent.

use crate::common;
use common::{cachesim_line, fails_with, stderr};

#[test]
fn window_past_a_million_timeline_rows_is_a_usage_error_naming_the_window_that_fits() {
    let d = tempfile::tempdir().unwrap();
    let o = cachesim_line("run -s lru,lfu --requests 2M --window 1 -o w.csv", d.path());
    fails_with(
        &o,
        2,
        "invalid value for '--window': 1 cuts the 2000000 counted requests of 'zipf:requests=2M' into 2000000 windows per run, 4000000 timeline rows over the 2 runs; at most 1000000 are kept",
        "window 1",
    );
    assert!(
        stderr(&o).contains("use --window 4 or more"),
        "{}",
        stderr(&o)
    );
    assert!(!d.path().join("w.csv").exists());
    assert!(!d.path().join("w-timeline.csv").exists());
    // The window it names fits; the warm-up is not cut into windows.
    let fits = "run -s lru,lfu --requests 2M --window 4 --warmup 1M -o w.csv -q";
    let o = cachesim_line(fits, d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let tl = std::fs::read_to_string(d.path().join("w-timeline.csv")).unwrap();
    assert_eq!(tl.lines().count(), 1 + 2 * 250_000);
    // A trace's requests are known after its counting pass: the same error.
    let keys: String = (0..1_000_001).map(|i| format!("{}\n", i % 100)).collect();
    std::fs::write(d.path().join("k.txt"), keys).unwrap();
    let o = cachesim_line("run -t k.txt --window 1 -o t.csv", d.path());
    fails_with(&o, 2, "into 1000001 windows per run", "trace");
}

#[test]
fn a_sweep_past_100k_runs_is_a_usage_error_naming_its_axes() {
    let d = tempfile::tempdir().unwrap();
    let sweep = "run --requests 100 --keys 10 -c 1..1000:100000 --seeds 1..10000 --no-save";
    fails_with(
        &cachesim_line(sweep, d.path()),
        2,
        "the sweep has 10000000 runs (1 workloads × 10000 seeds × 1 strategies × 1000 capacities × 1 TTLs × 1 write policies); at most 100000",
        "sweep",
    );
}

#[test]
fn four_thousand_threads_on_two_runs_finish() {
    let d = tempfile::tempdir().unwrap();
    let args: Vec<&str> = "run -s lru,lfu -j 4000 --requests 10k --no-save"
        .split(' ')
        .collect();
    let child = common::spawn_cachesim(&args, d.path());
    let (status, err) = common::wait_within(child, 60, "-j 4000 on two runs");
    assert!(status.success(), "{err}");
    assert!(
        err.contains("--threads 4000 lowered to 2 (at most one per run"),
        "{err}"
    );
}
