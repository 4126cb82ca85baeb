//! Rate and memory of the Zipf generator at any key count: the alias table
//! up to 4M keys, rejection-inversion above (constant memory).
//!
//!     cargo run --release --example zipf_generator [requests]
//!
//! Draws `requests` (default 50M) keys of Zipf(1.0) at each key count and
//! prints keys per second and the growth of this process's peak RSS.

use cachesim::workload::zipf::{sampler_name, ZipfStream};
use std::time::Instant;

/// Peak resident memory of this process so far, kB (Linux).
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let requests: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("requests: a whole number"))
        .unwrap_or(50_000_000);
    println!("| keys | sampler | build s | Mkeys/s | peak RSS MB |");
    println!("|---:|---|---:|---:|---:|");
    for keys in [
        1_000_000u64,
        4_000_000,
        100_000_000,
        1_000_000_000,
        10_000_000_000,
    ] {
        let t0 = Instant::now();
        let mut z = ZipfStream::new(keys, 1.0, 1);
        let build = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let mut x = 0u64;
        for _ in 0..requests {
            x ^= z.next_key();
        }
        let s = t1.elapsed().as_secs_f64();
        std::hint::black_box(x);
        println!(
            "| {keys} | {} | {build:.2} | {:.1} | {} |",
            sampler_name(keys),
            requests as f64 / s / 1e6,
            peak_kb() / 1024
        );
    }
}
