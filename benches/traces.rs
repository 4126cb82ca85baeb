//! Trace reading throughput: the readers must never be the bottleneck of a
//! replay. Targets: oracleGeneral and lcs >= 100M records/s from a file in
//! the page cache; ARC `.lis.zst` >= 20M expanded requests/s (zstd decoding
//! included); column-mapped text (`twitter`, Twemcache's layout) >= 5M
//! lines/s.
//!
//! The oracleGeneral and lcs inputs are synthetic files written to a temporary folder
//! (read once before measuring, so it sits in the page cache); the ARC inputs
//! are the real P12 and OLTP traces from `../shared/traces` (or
//! `$CACHESIM_TRACE_DIR`), skipped when absent. Run with
//! `cargo bench --bench traces`.

use cachesim::request::Op;
use cachesim::workload::trace::{self, lcs, oracle_general, TraceFormat, TraceSpec};
use cachesim::workload::Batch;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Write;
use std::path::{Path, PathBuf};

fn drain(path: &Path, format: TraceFormat) -> u64 {
    drain_spec(path, &format.into())
}

fn drain_spec(path: &Path, spec: &TraceSpec) -> u64 {
    let mut r = trace::open(path, Some(spec)).unwrap();
    let mut b = Batch::new(1000.0, 1);
    let mut n = 0u64;
    let mut sum = 0u64;
    while r.next_batch(&mut b, 1 << 16).unwrap() > 0 {
        n += b.len() as u64;
        sum = sum.wrapping_add(b.keys[b.len() - 1]);
    }
    std::hint::black_box(sum);
    n
}

fn trace_dir() -> Option<PathBuf> {
    let d = std::env::var("CACHESIM_TRACE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/traces"));
    d.is_dir().then_some(d)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("trace_read");
    g.sample_size(10);

    // oracleGeneral: 4M records (96 MB), keys from a small LCG.
    let dir = tempfile::tempdir().unwrap();
    let og = dir.path().join("bench.oracleGeneral.bin");
    let n: u64 = 4_000_000;
    let mut batch = Batch::new(1.0, 1);
    let mut x: u64 = 1;
    batch.keys = (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 44
        })
        .collect();
    batch.sizes = (0..n).map(|i| 512 + (i % 4096) as u32).collect();
    let mut w = std::io::BufWriter::new(std::fs::File::create(&og).unwrap());
    oracle_general::write(&batch, &mut w).unwrap();
    drop(w);
    assert_eq!(drain(&og, TraceFormat::OracleGeneral), n);
    g.throughput(Throughput::Elements(n));
    g.bench_function("oracle_general_4M", |b| {
        b.iter(|| drain(&og, TraceFormat::OracleGeneral))
    });

    // lcs: the same 4M requests as version 1 (time, id, size), and as
    // version 3 with ops, TTLs and tenants (36-byte records, 144 MB).
    let plain = dir.path().join("bench_v1.lcs");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&plain).unwrap());
    lcs::write(&batch, &mut w).unwrap();
    drop(w);
    batch.ops = (0..n)
        .map(|i| if i % 10 == 0 { Op::Set } else { Op::Get })
        .collect();
    batch.ttls = (0..n).map(|i| (i % 7) as f32 * 60.0).collect();
    batch.tenants = (0..n).map(|i| (i % 5) as u32).collect();
    let full = dir.path().join("bench_v3.lcs");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&full).unwrap());
    lcs::write(&batch, &mut w).unwrap();
    drop(w);
    drop(batch);
    for (name, p) in [("lcs_v1_4M", &plain), ("lcs_v3_4M", &full)] {
        assert_eq!(drain(p, TraceFormat::Lcs), n);
        g.bench_function(name, |b| b.iter(|| drain(p, TraceFormat::Lcs)));
    }

    // Column-mapped text: 4M lines in Twemcache's layout (string keys,
    // hashed; eight operation names), read with the `twitter` preset.
    let tw = dir.path().join("twitter.csv");
    let n: u64 = 4_000_000;
    let ops = ["get", "get", "get", "gets", "set", "add", "delete", "incr"];
    let mut w = std::io::BufWriter::new(std::fs::File::create(&tw).unwrap());
    let mut x: u64 = 7;
    for i in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let k = x >> 44;
        let op = ops[(x >> 20) as usize % ops.len()];
        let ttl = if op == "set" || op == "add" { 3600 } else { 0 };
        writeln!(
            w,
            "{},nz:u:{k:012x},21,{},{},{op},{ttl}",
            i / 1000,
            10 + (x >> 8) % 5000,
            k % 97
        )
        .unwrap();
    }
    drop(w);
    let spec = TraceSpec::parse("twitter").unwrap();
    assert_eq!(drain_spec(&tw, &spec), n);
    g.throughput(Throughput::Elements(n));
    g.bench_function("csv_twitter_4M", |b| b.iter(|| drain_spec(&tw, &spec)));

    if let Some(d) = trace_dir() {
        for name in ["P12", "OLTP"] {
            let p = d.join(format!("arc/{name}.lis.zst"));
            if !p.is_file() {
                eprintln!("skipped: {} not found", p.display());
                continue;
            }
            let n = drain(&p, TraceFormat::Arc);
            g.throughput(Throughput::Elements(n));
            g.bench_function(format!("arc_{name}_lis_zst"), |b| {
                b.iter(|| drain(&p, TraceFormat::Arc))
            });
        }
        let p = d.join("cloudphysics/w106.trace.xz");
        if p.is_file() {
            let n = drain(&p, TraceFormat::U32Be);
            g.throughput(Throughput::Elements(n));
            g.bench_function("u32be_w106_xz", |b| {
                b.iter(|| drain(&p, TraceFormat::U32Be))
            });
        }
    } else {
        eprintln!("skipped: no trace folder for the ARC benchmarks");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
