//! Every core strategy against a deliberately naive reference model (plain
//! `Vec`s, linear scans) on random streams of gets, sets and deletes with
//! random capacities: same hit/miss sequence, same final contents.
//!
//! The models transcribe the semantics stated in each policy's doc comment
//! (and cachetools' source), so a disagreement is a bug in one of the two.

use cachesim::policy::{build, AnyPolicy, BuildCtx, Policy, StrategySpec};
use cachesim::rng::SimRng;
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters, Rules};
use cachesim::sim::write::OnWrite;
use cachesim::workload::Batch;
use cachesim::{Op, Request};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
struct Step {
    key: u64,
    op: Op,
    dt: f64,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (0u64..12, 0u8..20, 0u8..4).prop_map(|(key, o, dt)| Step {
            key,
            op: match o {
                0 => Op::Set,
                1 => Op::Delete,
                _ => Op::Get,
            },
            dt: f64::from(dt) * 0.5,
        }),
        1..300,
    )
}

/// The reference models: one per strategy, same interface.
trait Model {
    fn get(&mut self, key: u64, now: f64) -> bool;
    fn insert(&mut self, key: u64, now: f64);
    fn set(&mut self, key: u64, now: f64);
    fn delete(&mut self, key: u64);
    fn keys(&self) -> Vec<u64>;
}

/// LRU and FIFO: a Vec from oldest to newest.
struct OrderModel {
    v: Vec<u64>,
    cap: usize,
    touch_on_get: bool,
}

impl Model for OrderModel {
    fn get(&mut self, key: u64, _: f64) -> bool {
        match self.v.iter().position(|&k| k == key) {
            Some(i) => {
                if self.touch_on_get {
                    let k = self.v.remove(i);
                    self.v.push(k);
                }
                true
            }
            None => false,
        }
    }
    fn insert(&mut self, key: u64, _: f64) {
        if self.v.len() == self.cap {
            self.v.remove(0);
        }
        self.v.push(key);
    }
    fn set(&mut self, key: u64, now: f64) {
        // Both LRUCache and FIFOCache move an updated key to the end.
        match self.v.iter().position(|&k| k == key) {
            Some(i) => {
                let k = self.v.remove(i);
                self.v.push(k);
            }
            None => self.insert(key, now),
        }
    }
    fn delete(&mut self, key: u64) {
        self.v.retain(|&k| k != key);
    }
    fn keys(&self) -> Vec<u64> {
        self.v.clone()
    }
}

/// LFU: (key, count, tick at which it reached that count). With `past`
/// (`history=perfect`), the counts of keys that left the cache.
struct LfuModel {
    v: Vec<(u64, u64, u64)>,
    cap: usize,
    tick: u64,
    past: Option<std::collections::HashMap<u64, u64>>,
}

impl LfuModel {
    fn new(cap: u64, perfect: bool) -> LfuModel {
        LfuModel {
            v: vec![],
            cap: cap as usize,
            tick: 0,
            past: perfect.then(Default::default),
        }
    }

    fn forget(&mut self, i: usize) {
        let (k, n, _) = self.v.remove(i);
        if let Some(p) = &mut self.past {
            p.insert(k, n);
        }
    }
}

impl Model for LfuModel {
    fn get(&mut self, key: u64, _: f64) -> bool {
        self.tick += 1;
        match self.v.iter_mut().find(|e| e.0 == key) {
            Some(e) => {
                e.1 += 1;
                e.2 = self.tick;
                true
            }
            None => false,
        }
    }
    fn insert(&mut self, key: u64, _: f64) {
        self.tick += 1;
        if self.v.len() == self.cap {
            let i = (0..self.v.len())
                .min_by_key(|&i| (self.v[i].1, self.v[i].2))
                .unwrap();
            self.forget(i);
        }
        let n = self
            .past
            .as_mut()
            .and_then(|p| p.remove(&key))
            .map_or(1, |n| n + 1);
        self.v.push((key, n, self.tick));
    }
    fn set(&mut self, key: u64, now: f64) {
        if !self.get(key, now) {
            self.insert(key, now);
        }
    }
    fn delete(&mut self, key: u64) {
        if let Some(i) = self.v.iter().position(|e| e.0 == key) {
            self.forget(i);
        }
    }
    fn keys(&self) -> Vec<u64> {
        let mut v = self.v.clone();
        v.sort_by_key(|e| (e.1, e.2));
        v.into_iter().map(|e| e.0).collect()
    }
}

/// TTL: (key, expires, last use tick); time never goes backwards here, so
/// the expiry order is the insertion order and "purge the expired prefix"
/// is "purge everything expired".
struct TtlModel {
    v: Vec<(u64, f64, u64)>,
    cap: usize,
    ttl: f64,
    tick: u64,
}

impl Model for TtlModel {
    fn get(&mut self, key: u64, now: f64) -> bool {
        self.tick += 1;
        match self.v.iter_mut().find(|e| e.0 == key) {
            Some(e) => {
                e.2 = self.tick;
                now < e.1
            }
            None => false,
        }
    }
    fn insert(&mut self, key: u64, now: f64) {
        self.tick += 1;
        self.v.retain(|e| now < e.1);
        if let Some(e) = self.v.iter_mut().find(|e| e.0 == key) {
            e.1 = now + self.ttl;
            e.2 = self.tick;
            return;
        }
        if self.v.len() == self.cap {
            let i = (0..self.v.len()).min_by_key(|&i| self.v[i].2).unwrap();
            self.v.remove(i);
        }
        self.v.push((key, now + self.ttl, self.tick));
    }
    fn set(&mut self, key: u64, now: f64) {
        self.insert(key, now)
    }
    fn delete(&mut self, key: u64) {
        self.v.retain(|e| e.0 != key);
    }
    fn keys(&self) -> Vec<u64> {
        let mut v = self.v.clone();
        v.sort_by_key(|e| e.2);
        v.into_iter().map(|e| e.0).collect()
    }
}

/// Random replacement: RRCache's array with swap-remove, and the same
/// generator the policy documents (xoshiro256++ seeded with seed ^ 0x5eed_0f77).
struct RandomModel {
    v: Vec<u64>,
    cap: usize,
    rng: SimRng,
}

impl Model for RandomModel {
    fn get(&mut self, key: u64, _: f64) -> bool {
        self.v.contains(&key)
    }
    fn insert(&mut self, key: u64, _: f64) {
        if self.v.len() == self.cap {
            let i = self.rng.below(self.v.len() as u64) as usize;
            self.v.swap_remove(i);
        }
        self.v.push(key);
    }
    fn set(&mut self, key: u64, now: f64) {
        if !self.v.contains(&key) {
            self.insert(key, now);
        }
    }
    fn delete(&mut self, key: u64) {
        if let Some(i) = self.v.iter().position(|&k| k == key) {
            self.v.swap_remove(i);
        }
    }
    fn keys(&self) -> Vec<u64> {
        let mut v = self.v.clone();
        v.sort();
        v
    }
}

fn policy_keys(p: &AnyPolicy) -> Vec<u64> {
    match p {
        AnyPolicy::Lru(x) => x.keys(),
        AnyPolicy::Fifo(x) => x.keys(),
        AnyPolicy::Lfu(x) => x.entries().into_iter().map(|e| e.0).collect(),
        AnyPolicy::Ttl(x) => x.keys(),
        AnyPolicy::Random(x) => x.keys(),
        _ => vec![],
    }
}

/// Replays `steps` through the real loop one request at a time and through
/// the model, comparing every get's outcome and the final contents.
fn check(name: &str, cap: u64, steps: &[Step], model: &mut dyn Model) -> Result<(), TestCaseError> {
    let spec = StrategySpec::parse(name).unwrap();
    let mut p = build(
        &spec,
        &BuildCtx {
            capacity: cap,
            seed: 7,
            ttl: Some(3.0),
        },
    )
    .unwrap()
    .policy;
    let mut now = 0.0;
    let mut c = Counters::default();
    for (v, s) in steps.iter().enumerate() {
        now += s.dt;
        let mut b = Batch::new(1.0, 1);
        let r = Request {
            time: now,
            key: s.key,
            size: 1,
            op: s.op,
        };
        b.push(&r, v as u64);
        let hits_before = c.hits;
        replay_batch(
            &mut p,
            &b,
            0..1,
            v as u64,
            None,
            Rules::new(
                ChargeModel {
                    bytes: false,
                    capacity: cap,
                },
                OnWrite::Update,
            ),
            &mut c,
        );
        match s.op {
            Op::Get => {
                let hit = model.get(s.key, now);
                if !hit {
                    model.insert(s.key, now);
                }
                prop_assert_eq!(
                    c.hits - hits_before == 1,
                    hit,
                    "{} c={} step {}: {:?}",
                    name,
                    cap,
                    v,
                    s
                );
            }
            Op::Set => model.set(s.key, now),
            Op::Delete => model.delete(s.key),
        }
        prop_assert!(p.len() as u64 <= cap);
        prop_assert_eq!(
            p.len(),
            model.keys().len(),
            "{} step {} resident count",
            name,
            v
        );
    }
    prop_assert_eq!(c.hits + c.misses, c.gets);
    prop_assert_eq!(policy_keys(&p), model.keys(), "{} final contents", name);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn lru_matches_model(cap in 1u64..8, s in steps()) {
        check("lru", cap, &s, &mut OrderModel { v: vec![], cap: cap as usize, touch_on_get: true })?;
    }

    #[test]
    fn fifo_matches_model(cap in 1u64..8, s in steps()) {
        check("fifo", cap, &s, &mut OrderModel { v: vec![], cap: cap as usize, touch_on_get: false })?;
    }

    #[test]
    fn lfu_matches_model(cap in 1u64..8, s in steps()) {
        check("lfu", cap, &s, &mut LfuModel::new(cap, false))?;
    }

    #[test]
    fn lfu_perfect_history_matches_model(cap in 1u64..8, s in steps()) {
        check("lfu:history=perfect", cap, &s, &mut LfuModel::new(cap, true))?;
    }

    #[test]
    fn ttl_matches_model(cap in 1u64..8, s in steps()) {
        check("ttl", cap, &s, &mut TtlModel { v: vec![], cap: cap as usize, ttl: 3.0, tick: 0 })?;
    }

    #[test]
    fn random_matches_model(cap in 1u64..8, s in steps()) {
        check("random", cap, &s, &mut RandomModel { v: vec![], cap: cap as usize, rng: SimRng::new(7 ^ 0x5eed_0f77) })?;
    }
}
