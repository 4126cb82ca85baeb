//! Synthetic workloads at any scale: `zipf` beyond 4M keys samples by
//! rejection-inversion in constant memory, and `zipf`/`uniform` streams
//! beyond a length are drawn in pieces for each pass; both give the rows
//! the in-memory path gives, and say which sampler ran.

use crate::common;
use common::{col, parse_csv, stderr};
use std::process::Command;

/// `cachesim run ARGS -q -f csv --no-save` with the environment `env`.
fn rows(args: &[&str], env: &[(&str, &str)]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cachesim"));
    c.args(["run", "-q", "-f", "csv", "--no-save"]).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    parse_csv(&String::from_utf8(o.stdout).unwrap())
}

#[test]
fn a_stream_drawn_in_pieces_gives_the_rows_of_one_held_in_memory() {
    let args = [
        "-s",
        "lru,s3fifo",
        "-w",
        "zipf,uniform",
        "--requests",
        "300k",
        "--keys",
        "20k",
        "-c",
        "1%,10%",
        "--write-ratio",
        "0.05",
        "--prefill",
        "top:100",
    ];
    let (h, whole) = rows(&args, &[]);
    let (h2, pieces) = rows(&args, &[("CACHESIM_GENERATE_IN_PIECES_ABOVE", "1000")]);
    assert_eq!(h, h2);
    assert_eq!(whole.len(), 8);
    for (a, b) in whole.iter().zip(&pieces) {
        for (i, name) in h.iter().enumerate() {
            if !cachesim::sim::result::MEASURED_COLUMNS.contains(&name.as_str()) {
                assert_eq!(a[i], b[i], "{name}");
            }
        }
    }
    assert_eq!(whole[0][col(&h, "zipf_sampler")], "alias");
    assert_eq!(whole[4][col(&h, "zipf_sampler")], "");
}

#[test]
fn beyond_4m_keys_zipf_is_sampled_in_constant_memory() {
    // A billion keys: the alias table would take 24 GB.
    let args = [
        "-s",
        "lru",
        "-w",
        "zipf",
        "--keys",
        "1G",
        "--requests",
        "200k",
        "-c",
        "1000",
        "--no-latency",
    ];
    let (h, r) = rows(&args, &[]);
    assert_eq!(r[0][col(&h, "zipf_sampler")], "rejection-inversion");
    let distinct: u64 = r[0][col(&h, "distinct_keys")].parse().unwrap();
    assert!(distinct > 50_000 && distinct < 200_000, "{distinct}");
    let hits: f64 = r[0][col(&h, "hit_ratio")].parse().unwrap();
    assert!(
        hits > 0.1,
        "the head of Zipf(1) over 1G keys still hits: {hits}"
    );
    // Seeded, and the same in pieces.
    let (_, again) = rows(&args, &[("CACHESIM_GENERATE_IN_PIECES_ABOVE", "1000")]);
    assert_eq!(r[0][col(&h, "hits")], again[0][col(&h, "hits")]);
    assert_eq!(
        r[0][col(&h, "distinct_keys")],
        again[0][col(&h, "distinct_keys")]
    );
}

/// Belady on a trace longer than what is held: its future is spilled to a
/// temporary file and read back batch by batch, with the rows of the
/// in-memory run (the threshold lowered so a small trace crosses it).
#[test]
fn belady_on_a_long_trace_reads_its_future_from_disk_with_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    let mut text = String::from("key\n");
    let mut x = 7u64;
    for _ in 0..300_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Skewed: a few hot keys, a long tail.
        let k = (x >> 33) % 5000;
        let k = if k % 3 == 0 { k % 50 } else { k };
        text.push_str(&format!("{k}\n"));
    }
    std::fs::write(&trace, text).unwrap();
    let t = trace.to_str().unwrap();
    let args = ["-s", "belady,lru", "-t", t, "-c", "1%,10%", "--no-latency"];
    let (h, memory) = rows(&args, &[]);
    let (_, spilled) = rows(&args, &[("CACHESIM_GENERATE_IN_PIECES_ABOVE", "1000")]);
    assert_eq!(memory.len(), 4);
    for (a, b) in memory.iter().zip(&spilled) {
        for (i, name) in h.iter().enumerate() {
            if !cachesim::sim::result::MEASURED_COLUMNS.contains(&name.as_str()) {
                assert_eq!(a[i], b[i], "{name} {}", a[col(&h, "strategy")]);
            }
        }
    }
    // Belady beats LRU: the future was read right.
    let hr = |r: &Vec<String>| r[col(&h, "hit_ratio")].parse::<f64>().unwrap();
    assert!(hr(&spilled[0]) > hr(&spilled[2]) + 0.02);
}
