//! `cachesim run --instances K`: local caches per instance against one shared
//! cache, through the real binary.

use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(["run", "--requests", "100k", "--no-save", "-q", "-f", "json"])
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let v = serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    (
        o.status.code(),
        v,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn shared_cache_beats_local_caches_at_equal_memory() {
    let (code, rows, err) = run(&["-s", "lru,shared:lru", "--instances", "4", "-c", "1%"]);
    assert_eq!(code, Some(0), "{err}");
    let (local, shared) = (&rows[0], &rows[1]);
    assert_eq!(local["strategy"], "lru");
    assert_eq!(shared["strategy"], "shared:lru");
    for r in &rows {
        assert_eq!(r["instances"], 4);
        assert_eq!(r["balance"], "random");
        assert_eq!(
            r["hits"].as_u64().unwrap() + r["misses"].as_u64().unwrap(),
            r["gets"].as_u64().unwrap()
        );
    }
    assert_eq!(local["memory_objects"], shared["memory_objects"]);
    assert_eq!(
        local["memory_objects"].as_u64().unwrap(),
        4 * local["capacity"].as_u64().unwrap()
    );
    assert!(shared["hit_ratio"].as_f64().unwrap() > local["hit_ratio"].as_f64().unwrap() + 0.05);
}

#[test]
fn one_instance_is_the_plain_run() {
    let (_, plain, _) = run(&["-s", "lru", "-c", "5%", "--no-latency"]);
    let (_, one, _) = run(&["-s", "shared:lru", "--instances", "1", "-c", "5%"]);
    assert_eq!(plain[0]["hits"], one[0]["hits"]);
    assert_eq!(plain[0]["evictions"], one[0]["evictions"]);
    assert_eq!(one[0]["instances"], 1);
}

#[test]
fn key_hash_routing_is_sticky() {
    let (_, rows, _) = run(&[
        "-s",
        "lru",
        "--instances",
        "4",
        "--balance",
        "key-hash",
        "-c",
        "1%",
    ]);
    let (_, shared, _) = run(&["-s", "lru", "--instances", "4", "--shared", "-c", "1%"]);
    // Sticky routing splits the key space, so K local caches act like one
    // cache of K x c, up to how evenly the hash splits hot keys.
    let (k, s) = (
        rows[0]["hit_ratio"].as_f64().unwrap(),
        shared[0]["hit_ratio"].as_f64().unwrap(),
    );
    assert!((k - s).abs() < 0.02, "key-hash {k} vs shared {s}");
}

#[test]
fn bad_fleet_options_are_usage_errors() {
    for (args, needle) in [
        (&["--instances", "0"][..], "--instances"),
        (&["--balance", "weighted"][..], "round-robin, key-hash"),
        (
            &["--broadcast-invalidation", "--invalidation-delay", "soon"][..],
            "--invalidation-delay",
        ),
        (&["-s", "shared:lrux"][..], "unknown strategy 'lrux'"),
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn writes_leave_stale_copies_in_other_instances_unless_broadcast() {
    let base = [
        "-s",
        "lru",
        "--instances",
        "4",
        "-c",
        "5%",
        "--write-ratio",
        "0.05",
    ];
    let (code, silent, err) = run(&base);
    assert_eq!(code, Some(0), "{err}");
    let (_, told, _) = run(&[&base[..], &["--broadcast-invalidation"]].concat());
    let (_, one, _) = run(&[
        "-s",
        "lru",
        "--instances",
        "1",
        "-c",
        "5%",
        "--write-ratio",
        "0.05",
    ]);
    assert!(silent[0]["writes"].as_u64().unwrap() > 0);
    assert!(
        silent[0]["stale_hits"].as_u64().unwrap() > 0,
        "{:?}",
        silent[0]
    );
    assert!(silent[0]["stale_age_max_s"].as_f64().unwrap() > 0.0);
    assert_eq!(told[0]["stale_hits"], 0);
    assert_eq!(
        one[0]["stale_hits"], 0,
        "one instance invalidates its own copy"
    );
}

#[test]
fn tiered_local_fleet_puts_an_l1_per_instance_in_front_of_a_shared_l2() {
    let (code, rows, err) = run(&[
        "-s",
        "tiered-local:lru+lru",
        "--instances",
        "4",
        "--l1-capacity",
        "50",
        "-c",
        "1%",
        "--write-ratio",
        "0.05",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let r = &rows[0];
    assert_eq!(r["strategy"], "tiered-local:lru+lru");
    let (l1, l2, hits) = (
        r["l1_hits"].as_u64().unwrap(),
        r["l2_hits"].as_u64().unwrap(),
        r["hits"].as_u64().unwrap(),
    );
    assert_eq!(l1 + l2, hits);
    assert!(l1 > 0 && l2 > 0);
    assert_eq!(
        r["memory_objects"].as_u64().unwrap(),
        4 * 50 + r["capacity"].as_u64().unwrap()
    );
    assert!(
        r["stale_hits"].as_u64().unwrap() > 0,
        "other instances' L1 copies go stale"
    );
    let (code, _, err) = run(&["-s", "tiered-local:lru+lru", "--instances", "4"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--l1-capacity"), "{err}");
}

/// Issue 16, item 15: an offline strategy in a fleet is a usage error found
/// before any run (it exited 1 once the run started).
#[test]
fn an_offline_strategy_in_a_fleet_is_a_usage_error() {
    for (args, option) in [
        (
            &["-s", "lru,belady", "--instances", "2"][..],
            "'--instances'",
        ),
        (&["-s", "belady", "--shared"][..], "'--shared'"),
        (&["-s", "shared:belady-size"][..], "'--strategy'"),
    ] {
        let (code, rows, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(rows.is_empty(), "{args:?}");
        assert!(
            err.contains("offline") && err.contains(option),
            "{args:?}: {err}"
        );
    }
}
