//! Round trips through every format cachesim writes (issue 17, Tests):
//! random batches (seeded) are written with `trace convert`'s writer and
//! read back with the format's reader, and every field the format carries
//! must come back equal. The formats come from `export::WRITABLE`, so a new
//! writable format is covered as soon as it says what it carries
//! ([`carries`]); until then this test fails naming it.

use cachesim::request::Op;
use cachesim::workload::trace::{self, export, TraceFormat};
use cachesim::workload::Batch;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// How a format keeps request times.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Time {
    /// Not at all (the reader numbers the requests).
    No,
    /// As whole seconds, truncated.
    WholeSeconds,
    /// Exactly.
    Exact,
}

/// What a written format carries back to its reader.
#[derive(Debug, Clone, Copy)]
struct Carries {
    time: Time,
    size: bool,
    op: bool,
    ttl: bool,
    tenant: bool,
}

/// What `format` carries (lcs: in the version the writer picks for the
/// batch, which `lcs_writes_the_version_its_fields_need` checks).
fn carries(format: TraceFormat) -> Carries {
    let all = Carries {
        time: Time::Exact,
        size: true,
        op: true,
        ttl: true,
        tenant: true,
    };
    match format.to_string().as_str() {
        "text" => Carries {
            time: Time::No,
            size: false,
            op: false,
            ttl: false,
            tenant: false,
        },
        // csv writes time, key, size and op, and ttl and tenant columns
        // when the trace has them.
        "csv" => all,
        "oracle-general" => Carries {
            time: Time::WholeSeconds,
            op: false,
            ttl: false,
            tenant: false,
            ..all
        },
        "lcs" => Carries {
            time: Time::WholeSeconds,
            ..all
        },
        other => {
            panic!("the round-trip test does not know what '{other}' carries: add it to carries()")
        }
    }
}

/// One generated request: key, time in quarter seconds, size, op (0 get,
/// 1 set, 2 delete), TTL in whole seconds, tenant.
type Req = (u64, u32, u32, u8, u32, u32);

fn batch_of(reqs: &[Req], ops: bool, ttls: bool, tenants: bool) -> Batch {
    let mut b = Batch::new(1000.0, 1);
    for &(key, quarter, size, op, ttl, tenant) in reqs {
        b.keys.push(key);
        b.times.push(f64::from(quarter) / 4.0);
        b.sizes.push(size);
        if ops {
            b.ops.push([Op::Get, Op::Set, Op::Delete][op as usize]);
        }
        if ttls {
            b.ttls.push(ttl as f32);
        }
        if tenants {
            b.tenants.push(tenant);
        }
    }
    b
}

/// Writes `b` as `format` and reads it back.
fn round_trip(b: &Batch, format: TraceFormat) -> Batch {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("round.trip");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    export::write(b, format, &mut out).unwrap();
    drop(out);
    trace::read_all(&path, Some(&format.into()), 1000.0).unwrap_or_else(|e| panic!("{format}: {e}"))
}

/// Every field `format` carries is the same in `back` as in `b`.
fn check(b: &Batch, back: &Batch, format: TraceFormat) -> Result<(), TestCaseError> {
    let c = carries(format);
    prop_assert_eq!(&back.keys, &b.keys, "{} keys", format);
    for i in 0..b.len() {
        let (w, r) = (b.request(i, i as u64), back.request(i, i as u64));
        match c.time {
            Time::No => {}
            Time::WholeSeconds => prop_assert_eq!(r.time, w.time.floor(), "{} time {}", format, i),
            Time::Exact => prop_assert_eq!(r.time, w.time, "{} time {}", format, i),
        }
        if c.size {
            prop_assert_eq!(r.size, w.size, "{} size {}", format, i);
        }
        if c.op {
            prop_assert_eq!(r.op, w.op, "{} op {}", format, i);
        }
        if c.ttl {
            prop_assert_eq!(back.ttl(i), b.ttl(i), "{} ttl {}", format, i);
        }
        if c.tenant {
            prop_assert_eq!(back.tenant(i), b.tenant(i), "{} tenant {}", format, i);
        }
    }
    Ok(())
}

fn reqs() -> impl Strategy<Value = Vec<Req>> {
    prop::collection::vec(
        (
            prop_oneof![0u64..50, any::<u64>()],
            any::<u32>(),
            any::<u32>(),
            0u8..3,
            prop_oneof![Just(0u32), 1u32..100_000],
            prop_oneof![Just(0u32), 0u32..(1 << 24)],
        ),
        1..120,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: RngSeed::Fixed(17),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_writable_format_gives_back_what_it_carries(
        reqs in reqs(),
        ops in any::<bool>(),
        ttls in any::<bool>(),
        tenants in any::<bool>(),
    ) {
        let b = batch_of(&reqs, ops, ttls, tenants);
        for &format in export::WRITABLE {
            check(&b, &round_trip(&b, format), format)?;
        }
    }
}

/// `trace import` warns from `export::keeps_ttls` instead of reading its
/// output back: it must say what the round trip shows.
#[test]
fn keeps_ttls_names_the_formats_whose_round_trip_keeps_them() {
    for &format in export::WRITABLE {
        assert_eq!(export::keeps_ttls(format), carries(format).ttl, "{format}");
    }
}

#[test]
fn lcs_writes_the_version_its_fields_need() {
    let reqs: Vec<Req> = vec![(1, 8, 100, 1, 30, 5), (2, 9, 200, 2, 0, 0)];
    for (ops, ttls, tenants, version) in [
        (false, false, false, 1u64),
        (true, false, false, 2),
        (false, false, true, 2),
        (false, true, false, 3),
        (true, true, true, 3),
    ] {
        let b = batch_of(&reqs, ops, ttls, tenants);
        let mut data = vec![];
        export::write(&b, TraceFormat::parse("lcs").unwrap(), &mut data).unwrap();
        // lcs.h: the version is the u64 after the start magic.
        let got = u64::from_le_bytes(data[8..16].try_into().unwrap());
        assert_eq!(got, version, "ops {ops} ttls {ttls} tenants {tenants}");
    }
}

#[test]
fn cli_converts_to_lcs_detects_it_and_names_a_cut_record() {
    use crate::common::{cachesim, stderr, stdout};
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("in.csv"),
        "time,key,size,op\n1,5,100,get\n2,7,200,set\n3,5,100,delete\n",
    )
    .unwrap();
    let o = cachesim(
        &["trace", "convert", "in.csv", "out.lcs", "--to", "lcs"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let data = std::fs::read(d.path().join("out.lcs")).unwrap();
    // Ops other than get: version 2, 28-byte records after the 8 KB header.
    assert_eq!(data.len(), 8192 + 3 * 28);
    // Detected by content under a name that says nothing.
    std::fs::write(d.path().join("plain.bin"), &data).unwrap();
    let o = cachesim(
        &["trace", "stats", "plain.bin", "--format", "json"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"requests\": 3"), "{}", stdout(&o));
    std::fs::write(d.path().join("cut.lcs"), &data[..data.len() - 3]).unwrap();
    let o = cachesim(&["trace", "stats", "cut.lcs"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("cut.lcs") && e.contains(&format!("byte offset {}", 8192 + 2 * 28)),
        "{e}"
    );
}
