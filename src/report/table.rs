//! The readable table printed by default: one line per run, the numbers a
//! person looks at first.

use super::Exporter;
use crate::sim::capacity::Capacity;
use crate::sim::RunResult;
use crate::units::{format_bytes, format_us};
use std::io::{self, Write};

pub(crate) struct TableExporter;

fn human(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.2}G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

/// A capacity of `n` `unit`s given as `spec`: `64MiB`, `2436 (10%)`, `1000`.
fn plain_capacity(n: u64, unit: &str, spec: &str) -> String {
    if unit == "bytes" {
        format_bytes(n)
    } else if spec.ends_with('%') {
        format!("{n} ({spec})")
    } else {
        n.to_string()
    }
}

/// The capacity cell. The CSV's `capacity` of a Redis run is not a cache
/// size the way an in-process cache's is, so the table says what it is:
/// - `redis` (spec `server`): `server`, the server's own memory and
///   eviction; cachesim sets no limit (the CSV's 0 bytes).
/// - a private `redis-*` server sized in bytes: `64MiB (maxmemory)`, its
///   `maxmemory`, which holds Redis's overhead too, so fewer values than an
///   in-process `64MiB`. Sized in objects, the count is what the run holds
///   the server's keys at (`2436 (10%)`, as for a local cache).
/// - `tiered:*` (spec `l1=L1+server` or `l1=L1+l2=L2`): `L1 1000 + server`,
///   `L1 2436 (10%) + L2 64MiB (maxmemory)`.
fn capacity_cell(r: &RunResult) -> String {
    let strategy = r.strategy.strip_prefix("shared:").unwrap_or(&r.strategy);
    let private_server = |cell: String, bytes: bool| {
        if bytes {
            format!("{cell} (maxmemory)")
        } else {
            cell
        }
    };
    if r.capacity_spec == "server" {
        return "server".to_string();
    }
    // A cache directory without `limit=` never evicts (joblib's default).
    if r.capacity_spec == "disk" {
        return "disk, no limit".to_string();
    }
    if strategy.starts_with("tiered:") {
        if let Some((l1, l2)) = r
            .capacity_spec
            .strip_prefix("l1=")
            .and_then(|s| s.split_once('+'))
        {
            let l1 = plain_capacity(r.capacity, &r.capacity_unit, l1);
            let l2 = match l2.strip_prefix("l2=") {
                None => l2.to_string(),
                Some(label) => match Capacity::parse(label) {
                    Ok(cap) => {
                        let bytes = matches!(cap, Capacity::Bytes(_));
                        let unit = if bytes { "bytes" } else { "objects" };
                        let cell = plain_capacity(cap.resolve(r.distinct_keys), unit, label);
                        format!("L2 {}", private_server(cell, bytes))
                    }
                    Err(_) => format!("L2 {label}"),
                },
            };
            return format!("L1 {l1} + {l2}");
        }
    }
    let cell = plain_capacity(r.capacity, &r.capacity_unit, &r.capacity_spec);
    if strategy.starts_with("redis-") {
        private_server(cell, r.capacity_unit == "bytes")
    } else {
        cell
    }
}

/// A latency cell: `1.9µs`, `2.0ms`; `-` for a row that recorded none.
fn latency_cell(us: Option<f64>) -> String {
    us.map_or_else(|| "-".to_string(), |v| format_us(v, false))
}

impl Exporter for TableExporter {
    fn write(&self, results: &[RunResult], out: &mut dyn Write) -> io::Result<()> {
        // The latency columns only when some row has a latency (not with
        // `--no-latency`, nor for fleets, which record none).
        let latency = results
            .iter()
            .any(|r| r.lat_mean_us.is_some() || r.lat_p99_us.is_some());
        let mut header = vec!["workload", "strategy", "capacity", "requests", "hit ratio"];
        if latency {
            header.extend(["mean", "p99"]);
        }
        header.extend(["misses", "evictions"]);
        // The event mode's origin: what the defences change.
        let events = results.iter().any(|r| !r.arrivals.is_empty());
        if events {
            header.extend(["defences", "origin reqs", "dup fetches", "origin peak"]);
        }
        header.push("req/s");
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                let mut row = vec![
                    if r.group.is_empty() {
                        r.workload.clone()
                    } else {
                        format!("{} [{}]", r.workload, r.group)
                    },
                    r.strategy.clone(),
                    capacity_cell(r),
                    r.requests.to_string(),
                    format!("{:.2}%", r.hit_ratio * 100.0),
                ];
                if latency {
                    row.extend([latency_cell(r.lat_mean_us), latency_cell(r.lat_p99_us)]);
                }
                row.extend([r.misses.to_string(), r.evictions.to_string()]);
                if events {
                    let dash = |v: &str| {
                        if v.is_empty() {
                            "-".into()
                        } else {
                            v.to_string()
                        }
                    };
                    row.extend([
                        dash(&r.defences),
                        r.origin_requests.to_string(),
                        r.duplicate_fetches.to_string(),
                        r.origin_peak_concurrency
                            .map_or_else(|| "-".into(), |p| p.to_string()),
                    ]);
                }
                row.push(human(r.requests_per_s));
                row
            })
            .collect();
        let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < 2 {
                        format!("{c:<w$}", w = width[i])
                    } else {
                        format!("{c:>w$}", w = width[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let header: Vec<String> = header.into_iter().map(String::from).collect();
        writeln!(out, "{}", line(&header))?;
        writeln!(
            out,
            "{}",
            width
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ")
        )?;
        for row in &rows {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(strategy: &str, capacity: u64, unit: &str, spec: &str) -> RunResult {
        RunResult {
            workload: "zipf".into(),
            strategy: strategy.into(),
            capacity,
            capacity_unit: unit.into(),
            capacity_spec: spec.into(),
            distinct_keys: 24_360,
            requests: 1000,
            ..Default::default()
        }
    }

    fn table(rows: &[RunResult]) -> Vec<String> {
        let mut out = Vec::new();
        TableExporter.write(rows, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    fn cells(line: &str) -> Vec<&str> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }

    #[test]
    fn servers_say_what_their_capacity_is() {
        let cell = |s, c, u, spec| capacity_cell(&row(s, c, u, spec));
        // In-process caches as before.
        assert_eq!(cell("lru", 2436, "objects", "10%"), "2436 (10%)");
        assert_eq!(cell("lru", 1000, "objects", "1000"), "1000");
        assert_eq!(cell("lru", 64 << 20, "bytes", "64MiB"), "64MiB");
        assert_eq!(cell("shared:lru", 2436, "objects", "10%"), "2436 (10%)");
        // The shared server: its own memory, no limit from cachesim (not 0B).
        assert_eq!(cell("redis", 0, "bytes", "server"), "server");
        assert_eq!(cell("disk", 0, "bytes", "disk"), "disk, no limit");
        // A private server: in bytes its maxmemory; in objects the count.
        assert_eq!(
            cell("redis-lru:samples=5", 64 << 20, "bytes", "64MiB"),
            "64MiB (maxmemory)"
        );
        assert_eq!(
            cell("shared:redis-lfu:samples=5", 1 << 30, "bytes", "1GiB"),
            "1GiB (maxmemory)"
        );
        assert_eq!(
            cell("redis-lru:samples=5", 2436, "objects", "10%"),
            "2436 (10%)"
        );
        // Tiered: the L1, then the server or the private L2.
        assert_eq!(
            cell("tiered:lru+redis", 1000, "objects", "l1=1000+server"),
            "L1 1000 + server"
        );
        assert_eq!(
            cell("tiered:lru+redis", 2436, "objects", "l1=10%+server"),
            "L1 2436 (10%) + server"
        );
        assert_eq!(
            cell(
                "tiered:lru+redis-lru:samples=5",
                244,
                "objects",
                "l1=1%+l2=64MiB"
            ),
            "L1 244 (1%) + L2 64MiB (maxmemory)"
        );
        assert_eq!(
            cell(
                "tiered:lru+redis-lru:samples=5",
                100,
                "objects",
                "l1=100+l2=10%"
            ),
            "L1 100 + L2 2436 (10%)"
        );
        assert_eq!(
            cell(
                "tiered:lru+redis-lru:samples=5",
                4 << 20,
                "bytes",
                "l1=4MiB+l2=5000"
            ),
            "L1 4MiB + L2 5000"
        );
    }

    #[test]
    fn latency_columns_come_with_latency_and_dashes_where_none() {
        let mut none = row("none", 2436, "objects", "10%");
        none.lat_mean_us = Some(2000.3855);
        none.lat_p99_us = Some(2000.895);
        let mut lru = row("lru", 2436, "objects", "10%");
        lru.lat_mean_us = Some(817.98);
        lru.lat_p99_us = Some(2000.895);
        let mut group = lru.clone();
        group.group = "tenant=1".into();
        group.lat_mean_us = None;
        group.lat_p99_us = None;
        let lines = table(&[none, lru, group]);
        assert_eq!(
            cells(&lines[0]),
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
            ]
        );
        assert_eq!(cells(&lines[2])[5..7], ["2.0ms", "2.0ms"]);
        assert_eq!(cells(&lines[3])[5..7], ["818\u{b5}s", "2.0ms"]);
        assert_eq!(cells(&lines[4])[0], "zipf [tenant=1]");
        assert_eq!(cells(&lines[4])[5..7], ["-", "-"]);
        // Every line as wide as the header: the columns line up.
        let width = lines[0].chars().count();
        assert!(
            lines.iter().all(|l| l.chars().count() == width),
            "{lines:#?}"
        );
    }

    #[test]
    fn event_mode_rows_add_the_origin_columns() {
        let mut a = row("lru", 10, "objects", "10");
        a.arrivals = "closed".into();
        a.defences = "coalesce".into();
        a.origin_requests = 42;
        a.duplicate_fetches = 0;
        a.origin_peak_concurrency = Some(7);
        let b = row("lfu", 10, "objects", "10");
        let t = table(&[a, b]);
        assert!(
            t[0].contains("defences") && t[0].contains("dup fetches"),
            "{}",
            t[0]
        );
        let ca = cells(&t[2]);
        assert!(
            ca.contains(&"coalesce") && ca.contains(&"42") && ca.contains(&"7"),
            "{ca:?}"
        );
        // A plain row beside it shows dashes where the mode has values.
        assert!(cells(&t[3]).contains(&"-"), "{}", t[3]);
        assert!(!table(&[row("lru", 10, "objects", "10")])[0].contains("defences"));
    }

    #[test]
    fn without_latency_the_table_is_the_old_one() {
        let lines = table(&[row("lru", 2436, "objects", "10%")]);
        assert_eq!(
            lines[0],
            "workload  strategy    capacity  requests  hit ratio  misses  evictions  req/s"
        );
        assert_eq!(
            cells(&lines[2]),
            ["zipf", "lru", "2436 (10%)", "1000", "0.00%", "0", "0", "0"]
        );
    }
}
