//! Throughput of the `disk` strategy (issue 19), warm and cold: a full
//! `cachesim run -s disk` through the library, one file per key under the
//! system temp dir (or `$TMPDIR`), the directory removed afterwards.
//!
//!     cargo run --release --example disk_throughput [requests [keys]]
//!
//! Workload: Zipf(1.0), 1M requests over 10k keys by default (~99% hits).
//! "warm" reads files the page cache holds (a hit is a memcpy from RAM);
//! "cold" runs with `--disk-cold`, which drops each file from the page
//! cache before reading it (and `fdatasync`s it when written), so hits
//! come from the device. The rows are the run's CSV columns: the
//! requests/s of the whole run (misses write files) and the measured hit
//! latency.

use clap::Parser;

fn main() {
    let requests = std::env::args().nth(1).unwrap_or_else(|| "1M".into());
    let keys = std::env::args().nth(2).unwrap_or_else(|| "10k".into());
    let dir = tempfile::tempdir().expect("a temp dir");
    println!("| mode | requests | keys | hit ratio | req/s | hit p50 | hit p99 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (mode, extra) in [("warm", None), ("cold", Some("--disk-cold"))] {
        let out = dir.path().join(format!("{mode}.csv"));
        let mut args = vec![
            "cachesim",
            "run",
            "-s",
            "disk",
            "-w",
            "zipf",
            "--alpha",
            "1.0",
            "--requests",
            &requests,
            "--keys",
            &keys,
            "-q",
            "-f",
            "csv",
            "-o",
        ];
        let o = out.to_str().expect("utf-8 path").to_string();
        args.push(&o);
        args.extend(extra);
        // The run prints its CSV row too; the numbers are read back below.
        let cli = cachesim::cli::Cli::parse_from(&args);
        if let Err(e) = cachesim::cmd::dispatch(cli) {
            eprintln!("{mode}: {e}");
            std::process::exit(1);
        }
        let mut r = csv::Reader::from_path(&out).expect("results");
        let h = r.headers().expect("header").clone();
        let row = r.records().next().expect("a row").expect("a record");
        let get = |k: &str| {
            row.get(h.iter().position(|c| c == k).expect(k))
                .unwrap_or("")
        };
        let f = |k: &str| get(k).parse::<f64>().unwrap_or(f64::NAN);
        println!(
            "| {mode} | {requests} | {keys} | {:.2}% | {:.0} | {:.1}µs | {:.1}µs |",
            100.0 * f("hit_ratio"),
            f("requests_per_s"),
            f("hit_p50_us"),
            f("hit_p99_us"),
        );
    }
}
