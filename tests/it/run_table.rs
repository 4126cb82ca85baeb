//! The table `cachesim run` prints (issue 18): the mean and p99 latency of
//! each run with units a person reads, and a capacity that says what it is
//! for the Redis strategies. The Redis tests skip (or fail under
//! CACHESIM_REQUIRE_SERVICES=1) when no Redis answers or no redis-server is
//! on PATH.

use crate::common;
use crate::redis::redis_up;
use common::{cachesim, col, parse_csv, stderr, stdout, which};
use std::collections::HashMap;

/// The table's rows as header -> cell. Columns are at least two spaces
/// apart and no cell holds two spaces in a row.
fn table(text: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let cells = |l: &str| -> Vec<String> {
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let mut lines = text.lines();
    let header = cells(lines.next().expect("a header line"));
    let rule = lines.next().expect("a rule under the header");
    assert!(rule.chars().all(|c| c == '-' || c == ' '), "{text}");
    let rows = lines
        .map(|l| {
            let row = cells(l);
            assert_eq!(row.len(), header.len(), "a cell per column: {l}\n{text}");
            header.iter().cloned().zip(row).collect()
        })
        .collect();
    (header, rows)
}

/// A latency cell (`12ns`, `1.9µs`, `818µs`, `2.0ms`, `1.2s`) back in
/// microseconds; panics unless it has a unit and at most three digits, one
/// decimal only below 10.
fn micros(cell: &str) -> f64 {
    let split = cell
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or_else(|| panic!("'{cell}' has no unit"));
    let (num, unit) = cell.split_at(split);
    let scale = match unit {
        "ns" => 1e-3,
        "\u{b5}s" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        _ => panic!("'{cell}': unknown unit '{unit}'"),
    };
    let v: f64 = num.parse().unwrap_or_else(|_| panic!("'{cell}'"));
    let digits = num.chars().filter(char::is_ascii_digit).count();
    assert!(digits <= 3, "'{cell}' has more than three digits");
    if let Some((int, dec)) = num.split_once('.') {
        assert!(
            int.len() == 1 && dec.len() == 1,
            "'{cell}': one decimal below 10 only"
        );
    } else {
        assert!(
            v >= 10.0 || unit == "ns" || v == 0.0,
            "'{cell}': 2.0ms, not 2ms"
        );
    }
    v * scale
}

/// `run -s none,lru` over 20k requests of 2k keys, plus `extra`.
fn none_and_lru(extra: &[&str], cwd: &std::path::Path) -> std::process::Output {
    let base = [
        "run",
        "-s",
        "none,lru",
        "--requests",
        "20k",
        "--keys",
        "2k",
        "-q",
    ];
    cachesim(&[&base[..], extra].concat(), cwd)
}

#[test]
fn runs_with_latency_show_mean_and_p99_with_units() {
    let dir = tempfile::tempdir().unwrap();
    let o = none_and_lru(&["--origin-latency", "2ms", "-o", "r.csv"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let (header, rows) = table(&text);
    assert_eq!(
        header,
        [
            "workload",
            "strategy",
            "capacity",
            "requests",
            "hit ratio",
            "mean",
            "p99",
            "misses",
            "evictions",
            "req/s"
        ],
        "{text}"
    );
    let (none, lru) = (&rows[0], &rows[1]);
    assert_eq!((&*none["strategy"], &*lru["strategy"]), ("none", "lru"));
    // Every get of `none` pays the 2ms origin, and a little for the cache.
    let none_mean = micros(&none["mean"]);
    assert!(
        (1_950.0..=2_200.0).contains(&none_mean),
        "none's mean {}\n{text}",
        none["mean"]
    );
    assert!(none["mean"].ends_with("ms"), "{text}");
    assert!(micros(&none["p99"]) >= none_mean, "{text}");
    // lru hits often: its mean is well under the origin's; its p99 is a miss.
    let lru_mean = micros(&lru["mean"]);
    assert!(
        lru_mean < 0.8 * none_mean,
        "lru {lru_mean}us vs none {none_mean}us\n{text}"
    );
    assert!((1_950.0..=2_200.0).contains(&micros(&lru["p99"])), "{text}");

    // The cells are the saved CSV's numbers, rounded.
    let (h, csv) = parse_csv(&std::fs::read_to_string(dir.path().join("r.csv")).unwrap());
    for (table_row, csv_row) in rows.iter().zip(&csv) {
        for (cell, column) in [("mean", "lat_mean_us"), ("p99", "lat_p99_us")] {
            let exact: f64 = csv_row[col(&h, column)].parse().unwrap();
            let shown = micros(&table_row[cell]);
            assert!(
                (shown - exact).abs() <= 0.05 * exact,
                "{cell} {} vs {column} {exact}",
                table_row[cell]
            );
        }
    }
}

#[test]
fn without_latency_the_table_has_no_latency_columns() {
    let dir = tempfile::tempdir().unwrap();
    let o = none_and_lru(&["--no-latency", "--no-save"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let (header, rows) = table(&text);
    assert_eq!(
        header,
        [
            "workload",
            "strategy",
            "capacity",
            "requests",
            "hit ratio",
            "misses",
            "evictions",
            "req/s"
        ],
        "{text}"
    );
    assert_eq!(rows.len(), 2);
    assert!(!text.contains(" - "), "no empty latency cells: {text}");
}

#[test]
fn fleets_have_no_latency_columns_and_tenant_rows_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    // A fleet records no latency: the table stays without the columns.
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru,shared:lru",
            "--instances",
            "4",
            "--requests",
            "20k",
            "--keys",
            "2k",
            "-q",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = table(&stdout(&o));
    assert!(
        !header.iter().any(|h| h == "mean" || h == "p99"),
        "{header:?}"
    );
    assert_eq!(rows.len(), 2);
    assert!(rows[1]["capacity"].ends_with(" (10%)"), "{rows:?}");
    assert_eq!(rows[0]["capacity"], rows[1]["capacity"]);

    // --group-by tenant: the run's total has the latency, the tenants' rows
    // (which record none) a dash.
    let mut trace = String::from("time,key,tenant\n");
    for i in 0..3000u64 {
        let key = (i * 7919) % 97 % (1 + i % 40);
        trace += &format!("{i},{key},{}\n", key % 3);
    }
    std::fs::write(dir.path().join("t.csv"), trace).unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru",
            "-c",
            "20",
            "--trace",
            "t.csv",
            "--group-by",
            "tenant",
            "-q",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let (_, rows) = table(&text);
    assert_eq!(rows.len(), 4, "{text}");
    assert_eq!(rows[0]["workload"], "t.csv");
    assert!(micros(&rows[0]["mean"]) > 0.0, "{text}");
    for tenant in &rows[1..] {
        assert!(tenant["workload"].starts_with("t.csv [tenant="), "{text}");
        assert_eq!((&*tenant["mean"], &*tenant["p99"]), ("-", "-"), "{text}");
    }
}

#[test]
fn the_shared_redis_capacity_reads_server_not_0b() {
    if !redis_up() {
        skip_or_fail!("no Redis answers on 127.0.0.1:6379");
    }
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru,redis,tiered:lru+redis",
            "--redis-url",
            "redis://127.0.0.1:6379/9",
            "-c",
            "300",
            "--requests",
            "5k",
            "--keys",
            "1k",
            "-q",
            "-o",
            "r.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let (_, rows) = table(&text);
    let cap: Vec<&str> = rows.iter().map(|r| &*r["capacity"]).collect();
    assert_eq!(cap, ["300", "server", "L1 300 + server"], "{text}");
    // Redis rows have latency too.
    assert!(micros(&rows[1]["mean"]) > 0.0, "{text}");
    // The CSV is unchanged: the server's capacity is 0 bytes, spec `server`.
    let (h, csv) = parse_csv(&std::fs::read_to_string(dir.path().join("r.csv")).unwrap());
    let field = |row: usize, name: &str| csv[row][col(&h, name)].clone();
    assert_eq!(
        [
            field(1, "capacity"),
            field(1, "capacity_unit"),
            field(1, "capacity_spec")
        ],
        ["0", "bytes", "server"]
    );
    assert_eq!(
        [field(2, "capacity"), field(2, "capacity_spec")],
        ["300", "l1=300+server"]
    );
}

#[test]
fn a_private_redis_capacity_in_bytes_is_its_maxmemory() {
    if which("redis-server").is_none() {
        skip_or_fail!("no redis-server on PATH");
    }
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "redis-lru,tiered:lru+redis-lru",
            "-c",
            "4MiB",
            "--l1-capacity",
            "100",
            "--requests",
            "5k",
            "--keys",
            "1k",
            "--no-latency",
            "-q",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let (_, rows) = table(&text);
    let cap: Vec<&str> = rows.iter().map(|r| &*r["capacity"]).collect();
    assert_eq!(
        cap,
        ["4MiB (maxmemory)", "L1 100 + L2 4MiB (maxmemory)"],
        "{text}"
    );
}
