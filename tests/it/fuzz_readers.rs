//! Fuzz-style property tests of every trace reader (issue 16, Tests): valid
//! traces of each format, mutated at random (bytes changed, inserted,
//! deleted, duplicated, the end cut), a bounded number of seeded cases each,
//! plus compressed files whose compressed bytes are mutated. Properties: no
//! panic; the requests read are bounded by the input (lines, records, or
//! lines × the ARC per-line maximum); an error names the file, and a line
//! error a line that exists.

use crate::common::Fuzz;
use cachesim::workload::trace::{self, TraceError, TraceFormat};
use cachesim::workload::Batch;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::Path;

/// Cases per reader.
const CASES: usize = 200;

/// The ARC reader's documented maximum of blocks per line.
const ARC_MAX_PER_LINE: u64 = 1 << 20;

const ALPHABET: &[&[u8]] = &[
    b"0",
    b"7",
    b"9",
    b" ",
    b"\n",
    b"\r\n",
    b",",
    b"#",
    b"*",
    b"-",
    b"\0",
    b"\xff",
    b"18446744073709551615",
    b"18446744073709551616",
    b"key",
    b"get",
    b"set",
    b"1.5",
    b"\"",
];

/// A valid trace of `format`, of a few dozen requests.
fn valid(format: TraceFormat, f: &mut Fuzz) -> Vec<u8> {
    let n = 1 + f.below(40);
    let mut out = Vec::new();
    match format.to_string().as_str() {
        "text" => {
            out.extend_from_slice(b"# keys\n");
            for i in 0..n {
                match f.below(4) {
                    0 => writeln!(out, "user:{}", f.below(20)).unwrap(),
                    1 => writeln!(out).unwrap(),
                    _ => writeln!(out, "{}", f.below(30) + i % 3).unwrap(),
                }
            }
        }
        "csv" => {
            out.extend_from_slice(b"time,key,size,op\n");
            for i in 0..n {
                let op = f.pick(&["get", "set", "delete"]);
                writeln!(out, "{}.5,{},{},{op}", i, f.below(30), f.below(1000)).unwrap();
            }
        }
        "arc" => {
            for i in 0..n.min(8) {
                writeln!(out, "{} {} 0 {i}", f.below(1000), 1 + f.below(50)).unwrap();
            }
        }
        "lirs" => {
            for _ in 0..n {
                if f.below(8) == 0 {
                    out.extend_from_slice(b"*\n");
                } else {
                    writeln!(out, "{}", f.below(100)).unwrap();
                }
            }
        }
        "oracle-general" => {
            for i in 0..n {
                out.extend_from_slice(&(i as u32).to_le_bytes());
                out.extend_from_slice(&(f.below(30) as u64).to_le_bytes());
                out.extend_from_slice(&(1 + f.below(4096) as u32).to_le_bytes());
                out.extend_from_slice(&(-1i64).to_le_bytes());
            }
        }
        "lcs" => {
            // libCacheSim's lcs.h: 8 KB header, then records of the version.
            let version = 1 + f.below(8) as u64;
            out.extend_from_slice(&0x1234_5678_9abc_def0u64.to_le_bytes());
            out.extend_from_slice(&version.to_le_bytes());
            out.resize(8192 - 8, 0);
            out.extend_from_slice(&0x1234_5678_9abc_def0u64.to_le_bytes());
            let features = [0, 0, 0, 0, 1, 2, 4, 8, 16][version as usize];
            for i in 0..n {
                out.extend_from_slice(&(i as u32).to_le_bytes());
                out.extend_from_slice(&(f.below(30) as u64).to_le_bytes());
                let size = 1 + f.below(4096) as u32;
                let op_tenant = [0u32, 1, 3, 9][f.below(4)] | (f.below(3) as u32) << 8;
                if version < 3 {
                    out.extend_from_slice(&size.to_le_bytes());
                } else {
                    out.extend_from_slice(&i64::from(size).to_le_bytes());
                }
                if version >= 2 {
                    out.extend_from_slice(&op_tenant.to_le_bytes());
                }
                if version >= 3 {
                    out.extend_from_slice(&(f.below(100) as u32).to_le_bytes());
                }
                out.extend_from_slice(&(-1i64).to_le_bytes());
                out.resize(out.len() + 4 * features, 0);
            }
        }
        "vscsi" => {
            // libCacheSim's vscsi.h: 32-byte v1 or 40-byte v2 records.
            let v2 = f.below(2) == 1;
            for i in 0..n {
                let cmd: u16 = [0x28, 0x2A][f.below(2)];
                let (lbn, len, ts) = (f.below(30) as u64, 512 * f.below(9) as u32, 1000 * i as u64);
                if v2 {
                    out.extend_from_slice(&cmd.to_le_bytes());
                    out.extend_from_slice(&0x0200u16.to_le_bytes());
                    out.extend_from_slice(&[0; 4]);
                    out.extend_from_slice(&len.to_le_bytes());
                    out.extend_from_slice(&[0; 4]);
                } else {
                    out.extend_from_slice(&[0; 4]);
                    out.extend_from_slice(&len.to_le_bytes());
                    out.extend_from_slice(&[0; 4]);
                    out.extend_from_slice(&cmd.to_le_bytes());
                    out.extend_from_slice(&0x0100u16.to_le_bytes());
                }
                out.extend_from_slice(&lbn.to_le_bytes());
                out.extend_from_slice(&ts.to_le_bytes());
                if v2 {
                    out.extend_from_slice(&[0; 8]);
                }
            }
        }
        "u32be" => (0..n).for_each(|_| out.extend_from_slice(&(f.below(30) as u32).to_be_bytes())),
        "i64be" => (0..n).for_each(|_| out.extend_from_slice(&(f.below(30) as i64).to_be_bytes())),
        "twitter" => {
            for i in 0..n {
                let op = f.pick(&["get", "gets", "set", "cas", "delete", "incr"]);
                let (k, v, c) = (f.below(30), f.below(900), f.below(5));
                writeln!(
                    out,
                    "{i},nz:{k},{},{v},{c},{op},{}",
                    3 + k % 4,
                    f.below(2) * 60
                )
                .unwrap();
            }
        }
        "meta-kv" => {
            out.extend_from_slice(
                b"op_time,key,key_size,op,op_count,size,cache_hits,ttl,usecase\n",
            );
            for i in 0..n {
                let op = f.pick(&["GET", "GET_LEASE", "SET", "DELETE"]);
                let (k, c) = (f.below(30), 1 + f.below(3));
                writeln!(
                    out,
                    "{i},{k},8,{op},{c},{},0,{},{}",
                    f.below(500),
                    f.below(100),
                    f.below(4)
                )
                .unwrap();
            }
        }
        "meta-cdn" => {
            out.extend_from_slice(b"timestamp,cacheKey,OpType,objectSize,responseSize,responseHeaderSize,rangeStart,rangeEnd,TTL,SamplingRate,cache_hit,item_value,RequestHandler,cdn_content_type_id,vip_type\n");
            for i in 0..n {
                writeln!(
                    out,
                    "{i},c{},1,{},300,200,-1,-1,{},0.1,1,0,h,{},v",
                    f.below(30),
                    f.below(5000),
                    f.below(900),
                    f.below(4)
                )
                .unwrap();
            }
        }
        "wiki-cdn" => {
            for i in 0..n {
                let t = f.pick(&["jpeg", "png", "webp"]);
                writeln!(
                    out,
                    "{i}\t{}\t{t}\t{}\t0.01",
                    f.below(30) as i64 - 10,
                    f.below(9000)
                )
                .unwrap();
            }
        }
        "tencent-photo" => {
            for i in 0..n {
                let (fmt, tier) = (f.pick(&["0", "5"]), f.pick(&["l", "a", "m"]));
                let term = f.pick(&["PHONE", "PC"]);
                writeln!(
                    out,
                    "201602010000{:02} p{} {fmt} {tier} {} 1 {term} 0",
                    i % 60,
                    f.below(30),
                    f.below(9000)
                )
                .unwrap();
            }
        }
        "msr" => {
            for i in 0..n {
                let op = f.pick(&["Read", "Write"]);
                writeln!(
                    out,
                    "{},hm,0,{op},{},{},10",
                    128166372003061629u64 + i as u64,
                    f.below(1 << 20),
                    f.below(20000)
                )
                .unwrap();
            }
        }
        "alibaba-block" => {
            for i in 0..n {
                let op = f.pick(&["R", "W"]);
                writeln!(
                    out,
                    "{},{op},{},{},{}",
                    f.below(5),
                    f.below(1 << 20),
                    f.below(20000),
                    1577808000000000u64 + i as u64
                )
                .unwrap();
            }
        }
        "tencent-cbs" => {
            for i in 0..n {
                writeln!(
                    out,
                    "{},{},{},{},{}",
                    1538323200 + i,
                    f.below(4096),
                    f.below(64),
                    f.below(2),
                    f.below(5)
                )
                .unwrap();
            }
        }
        "redis-monitor" => {
            out.extend_from_slice(b"OK\n");
            for i in 0..n {
                let k = f.below(30);
                // The first a get: a valid trace is never empty.
                let cmd = match if i == 0 { 0 } else { f.below(6) } {
                    0 => format!("\"GET\" \"user:{k}\""),
                    1 => format!(
                        "\"SET\" \"{k}\" \"v\\x00\\\"\" \"PX\" \"{}\"",
                        1 + f.below(900)
                    ),
                    2 => format!("\"MGET\" \"{k}\" \"a\\nb\""),
                    3 => format!("\"EXPIRE\" \"{k}\" \"{}\"", f.below(5)),
                    4 => format!("\"DEL\" \"{k}\""),
                    _ => "\"PING\"".to_string(),
                };
                writeln!(out, "1712345678.{i:06} [0 127.0.0.1:5000] {cmd}").unwrap();
            }
        }
        other => panic!("no generator for trace format {other}: add one"),
    }
    out
}

/// The most requests `data` (decompressed) may hold in `format`.
fn bound(format: TraceFormat, data: &[u8]) -> u64 {
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    match format.to_string().as_str() {
        "arc" => lines * ARC_MAX_PER_LINE,
        "oracle-general" => data.len() as u64 / 24,
        "lcs" => data.len().saturating_sub(8192) as u64 / 24,
        "vscsi" => data.len() as u64 / 32,
        "u32be" => data.len() as u64 / 4,
        "i64be" => data.len() as u64 / 8,
        // Rows repeated by op_count; block requests split into pages.
        "meta-kv" => lines * 1_000_000,
        "msr" | "alibaba-block" | "tencent-cbs" => lines * (1 << 20),
        // At most two requests per quoted argument (`GETDEL k`).
        "redis-monitor" => data.iter().filter(|&&b| b == b'"').count() as u64,
        _ => lines,
    }
}

/// Reads `path` whole as `format`: the number of requests, or the error.
/// A panic fails the test naming the case.
fn read(path: &Path, format: TraceFormat, limit: u64, case: &str) -> Result<u64, TraceError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut r = trace::open(path, Some(&format.into()))?;
        let mut b = Batch::new(1000.0, 1);
        let mut n = 0u64;
        loop {
            let got = r.next_batch(&mut b, 4096)? as u64;
            if got == 0 {
                return Ok(n);
            }
            n += got;
            assert!(
                n <= limit,
                "{case}: {n} requests from input bounded by {limit}"
            );
        }
    }))
    .unwrap_or_else(|_| panic!("{case}: the reader panicked"))
}

/// Checks the error of a case: it names the file, and a line that exists.
fn check_error(e: &TraceError, name: &str, data: &[u8], case: &str) {
    let msg = e.to_string();
    assert!(
        msg.contains(name),
        "{case}: the error does not name {name}: {msg}"
    );
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    match e {
        TraceError::Line { line, .. } => {
            assert!(
                *line >= 1 && *line <= lines,
                "{case}: line {line} of {lines}: {msg}"
            )
        }
        TraceError::Truncated { offset, .. } => {
            assert!(
                *offset < data.len() as u64,
                "{case}: offset {offset}: {msg}"
            )
        }
        _ => {}
    }
}

#[test]
fn every_reader_survives_mutated_traces() {
    let d = tempfile::tempdir().unwrap();
    let mut fuzz = Fuzz::new(1616);
    for &format in TraceFormat::all() {
        let path = d.path().join("case.bin");
        for i in 0..CASES {
            let good = valid(format, &mut fuzz);
            let data = if i == 0 {
                good
            } else {
                fuzz.mutate(&good, ALPHABET)
            };
            std::fs::write(&path, &data).unwrap();
            let case = format!("{format} case {i} ({:?})", String::from_utf8_lossy(&data));
            match read(&path, format, bound(format, &data), &case) {
                Ok(n) => assert!(i > 0 || n > 0, "{case}: a valid trace read empty"),
                Err(e) => {
                    assert!(i > 0, "{case}: a valid trace refused: {e}");
                    check_error(&e, "case.bin", &data, &case);
                }
            }
        }
    }
}

#[test]
fn compressed_traces_with_mutated_bytes_fail_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let mut fuzz = Fuzz::new(1617);
    let path = d.path().join("case.txt");
    for i in 0..3 * CASES {
        let plain = valid(TraceFormat::parse("text").unwrap(), &mut fuzz);
        let packed = match i % 3 {
            0 => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&plain).unwrap();
                e.finish().unwrap()
            }
            1 => zstd::encode_all(&plain[..], 3).unwrap(),
            _ => {
                let mut e = xz2::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(&plain).unwrap();
                e.finish().unwrap()
            }
        };
        // Keep the magic bytes, so the decompressor (not detection) meets
        // the damage.
        let mut data = fuzz.mutate(&packed[6..], ALPHABET);
        data.splice(0..0, packed[..6].iter().copied());
        std::fs::write(&path, &data).unwrap();
        let case = format!("compressed case {i}");
        // Decompressed, the text is at most 64 KiB a line; bounded anyway
        // by what a decompressor may expand: no more lines than bytes out.
        if let Err(e) = read(&path, TraceFormat::parse("text").unwrap(), u64::MAX, &case) {
            assert!(e.to_string().contains("case.txt"), "{case}: {e}");
        }
    }
}
