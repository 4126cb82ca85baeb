//! Reads a trace to the end `REPEAT` times and prints requests per second of
//! wall time; run under `/usr/bin/time` to relate it to CPU time on a busy
//! machine. `cargo run --release --example read_trace -- FILE [FORMAT] [REPEAT]`.

use cachesim::workload::trace::{self, TraceSpec};
use cachesim::workload::Batch;
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: read_trace FILE [FORMAT] [REPEAT]");
        std::process::exit(2);
    };
    let format = args
        .get(2)
        .map(|f| TraceSpec::parse(f).unwrap_or_else(|e| panic!("{e}")));
    let repeat: u32 = args
        .get(3)
        .map(|r| r.parse().expect("REPEAT is a number"))
        .unwrap_or(5);
    let start = Instant::now();
    let mut total = 0u64;
    let mut sum = 0u64;
    for _ in 0..repeat {
        let mut r = trace::open(Path::new(path), format.as_ref()).unwrap_or_else(|e| panic!("{e}"));
        let mut b = Batch::new(1000.0, 1);
        while r
            .next_batch(&mut b, 1 << 16)
            .unwrap_or_else(|e| panic!("{e}"))
            > 0
        {
            total += b.len() as u64;
            sum = sum.wrapping_add(b.keys[0]);
        }
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{} requests in {s:.3} s wall = {:.1} M requests/s (checksum {sum})",
        total,
        total as f64 / s / 1e6
    );
}
