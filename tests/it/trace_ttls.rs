//! What traces carry besides keys (issue 17 item 4): a request's TTL
//! expires the object it fills, for every strategy; `--group-by tenant`
//! adds a row per tenant beside the total.

use crate::common::*;
use std::fs;

/// Eight requests by two tenants, worked out by hand in the comments.
const TRACE: &str = "\
time,key,op,ttl,tenant
0,1,get,10,1
1,2,get,0,2
2,1,get,0,2
10,1,get,0,1
11,1,get,0,1
12,2,set,1,2
13,2,get,3,2
16,2,get,0,1
";

fn counts(row: &serde_json::Value) -> [u64; 6] {
    ["requests", "gets", "hits", "misses", "expirations", "sets"].map(|k| u(row, k))
}

#[test]
fn ttls_expire_and_tenants_get_rows_that_add_up_to_the_total() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), TRACE).unwrap();
    // Under invalidate: key 1 fills until 10 and expires at 10 (tenant 1);
    // the set drops key 2, whose refill at 13 (TTL 3) expires at 16
    // (tenant 1 again).
    let base =
        "run -s lru -c 100 --trace t.csv --no-latency --no-save -f json -q --group-by tenant";
    for (on_write, total, t1, t2) in [
        (
            "invalidate",
            [8, 7, 2, 5, 2, 1],
            [4, 4, 1, 3, 2, 0],
            [4, 3, 1, 2, 0, 1],
        ),
        // Under update the set writes key 2 through with TTL 1 (until 13):
        // the get at 13 finds it expired (tenant 2), refills until 16.
        (
            "update",
            [8, 7, 2, 5, 3, 1],
            [4, 4, 1, 3, 2, 0],
            [4, 3, 1, 2, 1, 1],
        ),
    ] {
        let rows = json(&cachesim_line(
            &format!("{base} --on-write {on_write}"),
            dir.path(),
        ));
        let groups: Vec<&str> = rows.iter().map(|r| r["group"].as_str().unwrap()).collect();
        assert_eq!(groups, ["", "tenant=1", "tenant=2"], "{on_write}");
        assert_eq!(counts(&rows[0]), total, "{on_write} total");
        assert_eq!(counts(&rows[1]), t1, "{on_write} tenant 1");
        assert_eq!(counts(&rows[2]), t2, "{on_write} tenant 2");
        for r in &rows[1..] {
            assert_eq!(r["strategy"], rows[0]["strategy"]);
            assert_eq!(r["workload"], rows[0]["workload"]);
        }
    }
    // Every strategy expires: with nothing evicted at capacity 100, they
    // all see the same expirations.
    for s in ["fifo", "s3fifo", "arc", "sieve", "belady", "sampled-lru"] {
        let line = format!("run -s {s} -c 100 --trace t.csv --no-latency --no-save -f json -q");
        let rows = json(&cachesim_line(&line, dir.path()));
        assert_eq!(counts(&rows[0]), [8, 7, 2, 5, 2, 1], "{s}");
    }
}

#[test]
fn a_csv_results_file_keeps_the_group_column_and_compare_reads_totals() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), TRACE).unwrap();
    let o = cachesim_line(
        "run -s lru,fifo -c 100 --trace t.csv --no-latency -o r.csv -q --group-by tenant",
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(dir.path().join("r.csv")).unwrap();
    let (header, rows) = parse_csv(&text);
    let g = col(&header, "group");
    let groups: Vec<&str> = rows.iter().map(|r| r[g].as_str()).collect();
    assert_eq!(
        groups,
        ["", "tenant=1", "tenant=2", "", "tenant=1", "tenant=2"]
    );
    // `compare` sees the two runs, not six.
    let o = cachesim_line("compare r.csv", dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("tenant="), "{out}");
}

#[test]
fn group_by_is_refused_where_there_are_no_tenants_or_no_single_cache() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), TRACE).unwrap();
    let o = run_small(
        dir.path(),
        &["-s", "lru", "-c", "10", "--group-by", "tenant"],
    );
    fails_with(&o, 2, "--group-by", "synthetic workload");
    assert!(stderr(&o).contains("--trace"), "{}", stderr(&o));
    let o = cachesim_line(
        "run -s lru -c 10 --trace t.csv --no-save -q --group-by tenant --instances 2",
        dir.path(),
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("--group-by"), "{}", stderr(&o));
    let o = cachesim_line(
        "run -s lru -c 10 --trace t.csv --no-save -q --group-by op",
        dir.path(),
    );
    fails_with(&o, 2, "valid: tenant", "unknown grouping");
}
