//! Column-mapped text and the dataset presets (issue 17, items 1 and 2):
//! a small file in each published layout (written here, from the layouts
//! the datasets' READMEs give), every field checked after reading; errors
//! that name `file:line` and the column; `cachesim run` end to end.

use crate::common;
use cachesim::request::Op;
use cachesim::workload::trace::{read_all, TraceSpec};
use cachesim::workload::Batch;
use common::{cachesim, col, fails_with, parse_csv, stderr};
use std::path::{Path, PathBuf};

/// FNV-1a 64 written out again here, so expected keys do not come from
/// the code under test.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Reads `text` as `spec`.
fn read(spec: &str, text: &str) -> Batch {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "t.trace", text);
    read_all(&p, Some(&TraceSpec::parse(spec).unwrap()), 1000.0)
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// The error reading `text` as `spec`, with the temp folder cut off.
fn error(spec: &str, text: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "t.trace", text);
    let e = read_all(&p, Some(&TraceSpec::parse(spec).unwrap()), 1000.0)
        .err()
        .unwrap_or_else(|| panic!("{spec}: read without error"))
        .to_string();
    e.replace(&format!("{}/", d.path().display()), "")
}

#[test]
fn twitter_every_field_lands() {
    let b = read(
        "twitter",
        "0,nz:u:eeW511W3dcH3de3d15ec,20,300,12,get,0\n\
         1,nz:u:x,20,0,12,gets,0\n\
         3,5,10,90,7,set,3600\n\
         4,5,10,90,7,cas,60\n\
         4,5,10,90,7,delete,0\n\
         5,5,10,90,7,incr,0\n\
         6,5,10,90,7,add,0\n",
    );
    assert_eq!(
        b.keys,
        vec![
            fnv("nz:u:eeW511W3dcH3de3d15ec"),
            fnv("nz:u:x"),
            5,
            5,
            5,
            5,
            5
        ]
    );
    assert_eq!(b.times, vec![0.0, 1.0, 3.0, 4.0, 4.0, 5.0, 6.0]);
    assert_eq!(b.sizes, vec![320, 20, 100, 100, 100, 100, 100]);
    use Op::*;
    assert_eq!(b.ops, vec![Get, Get, Set, Set, Delete, Set, Set]);
    assert_eq!(b.ttls, vec![0.0, 0.0, 3600.0, 60.0, 0.0, 0.0, 0.0]);
    assert_eq!(b.tenants, vec![12, 12, 7, 7, 7, 7, 7]);
}

#[test]
fn meta_kv_2022_and_2024_layouts_and_op_count() {
    // 2022: key,op,size,op_count,key_size; size = key_size + size.
    let b = read(
        "meta-kv",
        "key,op,size,op_count,key_size\n8ab1,GET,100,3,20\n8ab2,SET,50,1,10\n",
    );
    assert_eq!(
        b.keys,
        vec![fnv("8ab1"), fnv("8ab1"), fnv("8ab1"), fnv("8ab2")]
    );
    assert_eq!(b.sizes, vec![120, 120, 120, 60]);
    assert_eq!(b.ops, vec![Op::Get, Op::Get, Op::Get, Op::Set]);
    assert!(b.times.is_empty() && b.ttls.is_empty());
    // 2024: op_time,key,key_size,op,op_count,size,cache_hits,ttl,usecase,
    // sub_usecase; a get may leave the TTL empty or out.
    let b = read(
        "meta-kv",
        "op_time,key,key_size,op,op_count,size,cache_hits,ttl,usecase,sub_usecase\n\
         564726470,k1,7,GET_LEASE,2,0,1,,5,3\n\
         564726471,k2,20,SET_LEASE,1,100,0,3600,5,3\n\
         564726472,k3,20,DELETE,1,0,0\n",
    );
    assert_eq!(b.keys, vec![fnv("k1"), fnv("k1"), fnv("k2"), fnv("k3")]);
    assert_eq!(
        b.times,
        vec![564726470.0, 564726470.0, 564726471.0, 564726472.0]
    );
    assert_eq!(b.sizes, vec![7, 7, 120, 20]);
    assert_eq!(b.ops, vec![Op::Get, Op::Get, Op::Set, Op::Delete]);
    assert_eq!(b.ttls, vec![0.0, 0.0, 3600.0, 0.0]);
    assert_eq!(b.tenants, vec![5, 5, 5, 0]);
    // An op_count of N is N requests.
    for n in [1u64, 7, 1000] {
        let b = read(
            "meta-kv",
            &format!("key,op,size,op_count,key_size\n1,GET,10,{n},2\n2,GET,10,1,2\n"),
        );
        assert_eq!(b.keys.iter().filter(|&&k| k == 1).count() as u64, n);
        assert_eq!(b.len() as u64, n + 1);
    }
}

#[test]
fn meta_cdn_wiki_cdn_and_tencent_photo() {
    let b = read(
        "meta-cdn",
        "timestamp,cacheKey,OpType,objectSize,responseSize,responseHeaderSize,rangeStart,rangeEnd,TTL,SamplingRate,cache_hit,item_value,RequestHandler,cdn_content_type_id,vip_type\n\
         1679000000,abc123,1,5000,5200,200,-1,-1,86400,0.01,1,0,h,3,v\n\
         1679000001,77,1,70,300,230,0,69,600,0.01,0,1,h,-,v\n",
    );
    assert_eq!(b.keys, vec![fnv("abc123"), 77]);
    assert_eq!(b.times, vec![1679000000.0, 1679000001.0]);
    assert_eq!(b.sizes, vec![5000, 70]);
    assert_eq!(b.ttls, vec![86400.0, 600.0]);
    assert!(b.ops.is_empty(), "every request a get");

    let b = read(
        "wiki-cdn",
        "0\t-8903217372183747\tjpeg\t12345\t0.01\n3\t1234\tpng\t99\t0.2\n",
    );
    assert_eq!(b.keys, vec![fnv("-8903217372183747"), 1234]);
    assert_eq!(b.times, vec![0.0, 3.0]);
    assert_eq!(b.sizes, vec![12345, 99]);
    assert_eq!(b.tenants, vec![fnv("jpeg") as u32, fnv("png") as u32]);

    // 2016-02-01 00:00:01 UTC is Unix 1454284801.
    let b = read(
        "tencent-photo",
        "20160201000001 3338e1ae9e10 0 m 7409 1 PHONE 0\n20160201000102  3338e1ae9e10\t5 l 1200 0 PC 12\n",
    );
    assert_eq!(
        b.keys,
        vec![
            fnv("3338e1ae9e10\u{1f}0\u{1f}m"),
            fnv("3338e1ae9e10\u{1f}5\u{1f}l")
        ]
    );
    assert_eq!(b.times, vec![1454284801.0, 1454284862.0]);
    assert_eq!(b.sizes, vec![7409, 1200]);
    assert_eq!(b.tenants, vec![fnv("PHONE") as u32, fnv("PC") as u32]);
}

/// The key of page `page` of the volume whose id (or 24-bit hash) is `v`.
fn page_key(v: u64, page: u64) -> u64 {
    (v & 0xff_ffff) << 40 | page
}

#[test]
fn block_presets_expand_requests_into_pages() {
    // MSR: filetime, host + disk as the volume, bytes.
    let msr = "128166372003061629,hm,0,Read,3472883712,4096,19726\n\
               128166372013061629,hm,0,Write,8192,8193,2000\n";
    let b = read("msr", msr);
    let v = fnv("hm\u{1f}0");
    // 3472883712 = 847872 pages of 4096; 8192..=16384 is pages 2, 3, 4.
    assert_eq!(
        b.keys,
        vec![
            page_key(v, 847872),
            page_key(v, 2),
            page_key(v, 3),
            page_key(v, 4)
        ]
    );
    assert_eq!(b.sizes, vec![4096; 4]);
    assert_eq!(b.ops, vec![Op::Get, Op::Set, Op::Set, Op::Set]);
    let t0 = 128166372003061629.0 / 1e7;
    assert!((b.times[0] - t0).abs() < 1e-5 && (b.times[1] - t0 - 1.0).abs() < 1e-5);
    // 8 KiB pages: 8192..=16384 is pages 1 and 2.
    let b = read("msr:page=8KiB", msr);
    assert_eq!(
        b.keys,
        vec![page_key(v, 423936), page_key(v, 1), page_key(v, 2)]
    );
    assert_eq!(b.sizes, vec![8192; 3]);

    // Alibaba: device_id,opcode,offset,length,timestamp(µs).
    let b = read(
        "alibaba-block",
        "0,R,126703644672,4096,1577808000000626\n999,W,4096,12288,1577808000001626\n",
    );
    assert_eq!(
        b.keys,
        vec![
            30933507,
            page_key(999, 1),
            page_key(999, 2),
            page_key(999, 3)
        ]
    );
    assert_eq!(b.ops, vec![Op::Get, Op::Set, Op::Set, Op::Set]);
    assert!((b.times[0] - 1577808000.000626).abs() < 1e-5);
    assert!((b.times[3] - 1577808000.001626).abs() < 1e-5);

    // Tencent CBS: Timestamp,Offset,Size (512-byte sectors),IOType,VolumeID.
    let b = read(
        "tencent-cbs",
        "1538323200,16,8,0,1043\n1538323201,0,1,1,1043\n1538323202,7,2,0,1043\n",
    );
    // Sectors 16..24 are bytes 8192..12288: page 2; sector 0 is page 0;
    // sectors 7..9 straddle pages 0 and 1.
    assert_eq!(
        b.keys,
        vec![
            page_key(1043, 2),
            page_key(1043, 0),
            page_key(1043, 0),
            page_key(1043, 1)
        ]
    );
    assert_eq!(b.ops, vec![Op::Get, Op::Set, Op::Get, Op::Get]);
    assert_eq!(
        b.times,
        vec![1538323200.0, 1538323201.0, 1538323202.0, 1538323202.0]
    );
    let e = error("tencent-cbs", "1538323200,16,8,2,1043\n");
    assert!(
        e.starts_with("t.trace:1: op '2' in column 4 is not an operation code of ops=; known: 0 (get), 1 (set)"),
        "{e}"
    );
}

#[test]
fn bad_lines_name_file_line_and_column() {
    let e = error(
        "msr",
        "128166372003061629,hm,0,Read,0,4096,1\n128166372003061630,hm,0,Read,x,4096,1\n",
    );
    assert_eq!(
        e,
        "t.trace:2: offset 'x' in column 5 is not a whole number of bytes"
    );
    let e = error("twitter", "0,k,1,2,3,get,0\n1,k,1,2,3,touch,0\n");
    assert!(
        e.starts_with("t.trace:2: op 'touch' in column 6 is not an operation cachesim knows; known: get (get, gets,")
            && e.contains("delete (delete,"),
        "{e}"
    );
    let e = error("twitter", "0,k,1,2,3\n");
    assert_eq!(
        e,
        "t.trace:1: missing 'op' field (column 6; the row has 5 fields)"
    );
    // A preset's row may stop before its TTL: none.
    assert_eq!(read("twitter", "0,k,1,2,3,get\n").ttls, Vec::<f32>::new());
    let e = error("alibaba-block", "0,R,0,4096,soon\n");
    assert_eq!(
        e,
        "t.trace:1: time 'soon' in column 5 is not a number >= 0 (is line 1 a header? add :header=1 to the trace format)"
    );
    let e = error("csv:key=2,time=1:sep=tab", "1\tk\n2\tk\n3\n");
    assert_eq!(
        e,
        "t.trace:3: missing 'key' field (column 2; the row has 1 fields)"
    );
}

#[test]
fn specs_are_checked_when_the_command_line_is_read() {
    for (spec, want) in [
        (
            "csv:key=2,colour=3",
            "unknown name 'colour'; fields: key, time",
        ),
        ("csv:key=0", "key=0: expected a column number from 1"),
        ("csv:key=1,time=1", "column 1 is mapped twice"),
        ("csv:time=1", "no key column"),
        ("msr:page=0", "page=0"),
        ("twitter:sep=ab", "sep=ab"),
    ] {
        let e = TraceSpec::parse(spec).unwrap_err();
        assert!(e.contains(want), "{spec}: {e}");
    }
    // A preset's parameters replace its own.
    let b = read(
        "wiki-cdn:header=1",
        "relative_unix\thashed_path_query\n0\t5\tjpeg\t10\t0.1\n",
    );
    assert_eq!(b.keys, vec![5]);
}

#[test]
fn run_end_to_end_records_the_spec_as_written() {
    let d = tempfile::tempdir().unwrap();
    let text: String = (0..200).map(|i| format!("{}\tk{}\n", i, i % 17)).collect();
    write(d.path(), "t.tsv", &text);
    let spec = "csv:key=2,time=1:sep=tab";
    let o = cachesim(
        &[
            "run",
            "--strategy",
            "lru",
            "-c",
            "10",
            "--trace",
            "t.tsv",
            "--trace-format",
            spec,
            "-o",
            "r.csv",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&std::fs::read_to_string(d.path().join("r.csv")).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&h, "trace_format")], spec);
    assert_eq!(rows[0][col(&h, "requests")], "200");

    // --page-size is :page=SIZE, recorded so; refused for other formats.
    write(d.path(), "a.csv", "1,R,0,16384,1\n1,W,8192,4096,2\n");
    let o = cachesim(
        &[
            "run",
            "-c",
            "10",
            "--trace",
            "a.csv",
            "--trace-format",
            "alibaba-block",
            "--page-size",
            "8KiB",
            "-o",
            "b.csv",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&std::fs::read_to_string(d.path().join("b.csv")).unwrap());
    assert_eq!(rows[0][col(&h, "trace_format")], "alibaba-block:page=8KiB");
    assert_eq!(rows[0][col(&h, "requests")], "3");
    let o = cachesim(
        &[
            "run",
            "--trace",
            "t.tsv",
            "--trace-format",
            spec,
            "--page-size",
            "8KiB",
            "--no-save",
        ],
        d.path(),
    );
    fails_with(&o, 2, "--page-size", "page size for a key trace");
    fails_with(
        &o,
        2,
        "only applies to block traces (msr, alibaba-block, tencent-cbs",
        "page size for a key trace",
    );
    let o = cachesim(
        &[
            "trace",
            "stats",
            "a.csv",
            "--trace-format",
            "alibaba-block:page=8KiB",
            "--page-size",
            "4KiB",
        ],
        d.path(),
    );
    fails_with(&o, 2, "gives page= already", "page size twice");
    let o = cachesim(
        &[
            "trace",
            "stats",
            "a.csv",
            "--trace-format",
            "alibaba-block",
            "--page-size",
            "8KiB",
            "--format",
            "json",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let stats: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(stats["requests"], 3, "{stats}");
    let o = cachesim(
        &[
            "run",
            "--trace",
            "a.csv",
            "--page-size",
            "8KiB",
            "--no-save",
        ],
        d.path(),
    );
    fails_with(
        &o,
        2,
        "only applies to block traces, named with --trace-format",
        "no format",
    );
    let o = cachesim(
        &[
            "run",
            "--trace",
            "t.tsv",
            "--trace-format",
            "csv:key=2,tim=1",
            "--no-save",
        ],
        d.path(),
    );
    fails_with(&o, 2, "unknown name 'tim'", "a bad spec");
}
