//! `cachesim mrc` in bytes: byte capacities give LRU's curve from
//! byte-weighted stack distances, equal to `lru` replays at each byte
//! capacity; SHARDS in bytes comes close; what it cannot do is refused.

use crate::common;
use common::{cachesim, col, fails_with, parse_csv, stderr};

/// A trace of 100k gets of Zipf(0.9)-like keys, each with its own size
/// from 100 B to 10 KB.
fn sized_trace(dir: &std::path::Path) -> String {
    let mut text = String::from("key,size\n");
    let mut x = 11u64;
    for _ in 0..100_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        // Inverse of a power law over 10k keys: skewed, no table needed.
        let k = ((10_000f64).powf(u) - 1.0) as u64;
        text.push_str(&format!("{k},{}\n", 100 + (k * 2654435761) % 9901));
    }
    let p = dir.join("sized.csv");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn mrc_csv(dir: &std::path::Path, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut a = vec!["mrc", "-q", "--no-save", "-f", "csv"];
    a.extend(args);
    let o = cachesim(&a, dir);
    assert!(o.status.success(), "{}", stderr(&o));
    parse_csv(&String::from_utf8(o.stdout).unwrap())
}

#[test]
fn the_byte_curve_is_lru_at_every_byte_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let t = sized_trace(dir.path());
    let (h, rows) = mrc_csv(
        dir.path(),
        &["-t", &t, "-c", "256KiB..32MiB:8", "--compare"],
    );
    assert_eq!(rows.len(), 8);
    let mut last = 1.0;
    for r in &rows {
        assert_eq!(r[col(&h, "capacity_unit")], "bytes");
        assert_eq!(r[col(&h, "method")], "exact-bytes");
        assert_eq!(
            r[col(&h, "abs_error")].parse::<f64>().unwrap(),
            0.0,
            "{r:?}"
        );
        let miss: f64 = r[col(&h, "miss_ratio")].parse().unwrap();
        assert!(miss <= last, "a curve falls with size");
        last = miss;
    }
    assert!(last < 0.5, "{last}");
    // SHARDS in bytes at 20%: close to the replays.
    let (h, rows) = mrc_csv(
        dir.path(),
        &[
            "-t",
            &t,
            "-c",
            "1MiB..32MiB:6",
            "--sample",
            "20%",
            "--compare",
        ],
    );
    for r in &rows {
        assert_eq!(r[col(&h, "method")], "shards-bytes");
        let e: f64 = r[col(&h, "abs_error")].parse().unwrap();
        assert!(e < 0.03, "{r:?}");
    }
}

#[test]
fn byte_curves_refuse_what_they_cannot_draw() {
    let dir = tempfile::tempdir().unwrap();
    for (args, option) in [
        (&["-c", "1MiB,1000"][..], "--capacity"),
        (
            &["-c", "1MiB..4MiB:3", "--strategy", "arc"][..],
            "--capacity",
        ),
        (
            &["-c", "1MiB..4MiB:3", "--sample-size", "1000"][..],
            "--sample-size",
        ),
    ] {
        let mut a = vec!["mrc", "-q", "--no-save", "-w", "zipf", "--requests", "1000"];
        a.extend(args);
        let o = cachesim(&a, dir.path());
        fails_with(&o, 2, option, &format!("{args:?}"));
    }
}
