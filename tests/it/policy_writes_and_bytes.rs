//! The shared invariants, by property tests on random streams, for the
//! policies of issue 8 part A (`clock`, `slru`, `2q`, `arc`, `sieve`,
//! `s3fifo`, default and non-default parameters), built through the
//! registry and driven by the real replay loop with gets, sets and deletes,
//! under count and byte capacities:
//! never more than the capacity resident; hits + misses = gets; a key just
//! inserted is found on the next request; the same seed gives the same
//! result. Also: every spec's canonical form spells out its parameters, and
//! bad parameters are rejected with a message naming them.

use cachesim::policy::{build, validate, AnyPolicy, BuildCtx, Policy, StrategySpec};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters, Rules};
use cachesim::sim::write::OnWrite;
use cachesim::workload::{zipf, Batch};
use cachesim::{Op, Request};
use proptest::prelude::*;

const SPECS: [&str; 10] = [
    "clock",
    "clock:bits=3",
    "slru",
    "slru:protected=0.5",
    "2q",
    "2q:kin=0.5:kout=1",
    "arc",
    "sieve",
    "s3fifo",
    "s3fifo:small=0.25:ghost=0.5",
];

fn make(spec: &str, cap: u64) -> AnyPolicy {
    let ctx = BuildCtx {
        capacity: cap,
        seed: 3,
        ttl: None,
    };
    build(&StrategySpec::parse(spec).unwrap(), &ctx)
        .unwrap()
        .policy
}

fn batch(reqs: &[(u64, u32, u8)]) -> Batch {
    let mut b = Batch::new(1.0, 1);
    for (v, &(key, size, op)) in reqs.iter().enumerate() {
        let op = match op {
            0 => Op::Set,
            1 => Op::Delete,
            _ => Op::Get,
        };
        let r = Request {
            time: v as f64,
            key,
            size,
            op,
        };
        b.push(&r, v as u64);
    }
    b
}

/// (key, size, op) with op 0 = set, 1 = delete, else get. A key always has
/// the same size.
fn requests() -> impl Strategy<Value = Vec<(u64, u32, u8)>> {
    prop::collection::vec((0u64..40, 0u8..12), 1..600).prop_map(|v| {
        v.into_iter()
            .map(|(k, op)| (k, 1 + (k * 7 % 13) as u32, op))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn capacity_counts_and_fresh_keys(reqs in requests(), cap in 1u64..48, bytes: bool, which in 0usize..SPECS.len()) {
        let spec = SPECS[which];
        let b = batch(&reqs);
        let charge = ChargeModel { bytes, capacity: cap };
        let mut p = make(spec, cap);
        let mut c = Counters::default();
        for i in 0..b.len() {
            replay_batch(&mut p, &b, i..i + 1, 0, None, Rules::new(charge, OnWrite::Update), &mut c);
            prop_assert!(p.used() <= cap, "{}: {} units resident > {}", spec, p.used(), cap);
            if !bytes {
                prop_assert_eq!(p.used(), p.len() as u64);
            }
            // A get that missed and fit was admitted: the very next request
            // for it hits (checked on a copy, so the stream is unchanged).
            let r = b.request(i, i as u64);
            let fits = !bytes || u64::from(r.size) <= cap;
            if r.op == Op::Get && fits {
                let mut q = Counters::default();
                let mut probe = Batch::new(1.0, 1);
                probe.push(&Request { time: 0.0, ..r }, 0);
                let mut copy = clone(&p);
                replay_batch(&mut copy, &probe, 0..1, i as u64 + 1, None, Rules::new(charge, OnWrite::Update), &mut q);
                prop_assert_eq!(q.hits, 1, "{}: key {} not found right after request {}", spec, r.key, i);
            }
        }
        prop_assert_eq!(c.hits + c.misses, c.gets);
        prop_assert_eq!(c.gets + c.sets + c.deletes, b.len() as u64);
    }
}

/// A deep copy through the concrete type (AnyPolicy is not Clone: not every
/// policy needs to be).
fn clone(p: &AnyPolicy) -> AnyPolicy {
    match p {
        AnyPolicy::Clock(x) => AnyPolicy::Clock(x.clone()),
        AnyPolicy::Slru(x) => AnyPolicy::Slru(x.clone()),
        AnyPolicy::TwoQ(x) => AnyPolicy::TwoQ(x.clone()),
        AnyPolicy::Arc(x) => AnyPolicy::Arc(x.clone()),
        AnyPolicy::Sieve(x) => AnyPolicy::Sieve(x.clone()),
        AnyPolicy::S3Fifo(x) => AnyPolicy::S3Fifo(x.clone()),
        other => panic!("not a policy of this test: {other:?}"),
    }
}

#[test]
fn same_seed_same_result() {
    let keys = zipf::generate(5_000, 0.9, 50_000, 11);
    let other = zipf::generate(5_000, 0.9, 50_000, 12);
    assert_ne!(keys, other);
    for spec in SPECS {
        let run = |keys: &[u64]| {
            let mut b = Batch::new(1.0, 1);
            b.keys = keys.to_vec();
            let mut p = make(spec, 500);
            let mut c = Counters::default();
            let charge = ChargeModel {
                bytes: false,
                capacity: 500,
            };
            cachesim::dispatch!(&mut p, q => replay_batch(q, &b, 0..b.len(), 0, None, Rules::new(charge, OnWrite::Update), &mut c));
            c
        };
        let (a, b) = (run(&keys), run(&keys));
        assert_eq!(a, b, "{spec}");
        assert!(a.hits > 0 && a.evictions > 0, "{spec}: {a:?}");
        assert_eq!(a.hits + a.misses, a.gets);
    }
}

#[test]
fn canonical_specs_spell_out_defaults_and_bad_values_are_named() {
    let canon = |s: &str| validate(&StrategySpec::parse(s).unwrap());
    assert_eq!(canon("clock").unwrap(), "clock:bits=1");
    assert_eq!(canon("slru").unwrap(), "slru:protected=0.8");
    assert_eq!(canon("2q").unwrap(), "2q:kin=0.25:kout=0.5");
    assert_eq!(canon("arc").unwrap(), "arc");
    assert_eq!(canon("sieve").unwrap(), "sieve");
    assert_eq!(canon("s3fifo").unwrap(), "s3fifo:small=0.1:ghost=0.9");
    assert_eq!(
        canon("s3fifo:ghost=0.5").unwrap(),
        "s3fifo:small=0.1:ghost=0.5"
    );
    let err = |s: &str| canon(s).unwrap_err().to_string();
    let e = err("clock:bits=9");
    assert!(e.contains("bits=9") && e.contains("[1, 8]"), "{e}");
    let e = err("slru:protected=1.5");
    assert!(e.contains("protected=1.5"), "{e}");
    let e = err("s3fifo:tiny=1");
    assert!(
        e.contains("unknown parameter 'tiny'") && e.contains("small, ghost"),
        "{e}"
    );
    let e = err("arc:p=3");
    assert!(e.contains("takes no parameters"), "{e}");
}
