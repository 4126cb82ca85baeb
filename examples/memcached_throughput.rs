//! Throughput of the `memcached` strategy on one connection (issue 19),
//! by pipeline depth: a full `cachesim run -s memcached` through the
//! library against the server at `$MEMCACHED_URL` (else 127.0.0.1:11211),
//! the run's keys deleted afterwards.
//!
//!     cargo run --release --example memcached_throughput [requests [keys]]
//!
//! Workload: Zipf(1.0), 1M requests over 100k keys, 100-byte values. The
//! rows are the run's CSV columns: requests/s of the whole run (gets, the
//! misses' sets, the origin model's bookkeeping) and the latency each get
//! is charged (its batch's round trip).

use clap::Parser;

fn main() {
    let requests = std::env::args().nth(1).unwrap_or_else(|| "1M".into());
    let keys = std::env::args().nth(2).unwrap_or_else(|| "100k".into());
    let dir = tempfile::tempdir().expect("a temp dir");
    println!("| pipeline | requests | hit ratio | req/s | hit p50 | hit p99 |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for depth in ["1", "16", "64", "256"] {
        let out = dir.path().join(format!("p{depth}.csv"));
        let o = out.to_str().expect("utf-8 path").to_string();
        let args = [
            "cachesim",
            "run",
            "-s",
            "memcached",
            "-w",
            "zipf",
            "--alpha",
            "1.0",
            "--requests",
            &requests,
            "--keys",
            &keys,
            "--value-size",
            "100",
            "--pipeline",
            depth,
            "-q",
            "-f",
            "csv",
            "-o",
            &o,
        ];
        if let Err(e) = cachesim::cmd::dispatch(cachesim::cli::Cli::parse_from(args)) {
            eprintln!("pipeline {depth}: {e}");
            std::process::exit(1);
        }
        let mut r = csv::Reader::from_path(&out).expect("results");
        let names = r.headers().expect("header").clone();
        let rec = r.records().next().expect("a row").expect("a record");
        let col = |k: &str| -> f64 {
            let i = names.iter().position(|c| c == k).expect(k);
            rec.get(i).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
        };
        println!(
            "| {depth} | {requests} | {:.2}% | {:.0} | {:.1}µs | {:.1}µs |",
            100.0 * col("hit_ratio"),
            col("requests_per_s"),
            col("hit_p50_us"),
            col("hit_p99_us"),
        );
    }
}
