//! `ycsb`: the YCSB core workload (Cooper et al., "Benchmarking Cloud Serving
//! Systems with YCSB", SoCC 2010; `site.ycsb.workloads.CoreWorkload`) as a
//! stream of cache requests. Presets `ycsb-a` .. `ycsb-f` set the mixes of
//! the standard workloads A-F.
//!
//! Records are keys `0 .. keys`; each operation is drawn by its proportion:
//! - **read**: a get of a key chosen by `request_distribution`;
//! - **update**: a write (`set`) of a chosen key;
//! - **insert**: a write of a new key (`keys`, `keys + 1`, ...), which grows
//!   the record count;
//! - **scan**: a scan of length `L`, uniform in `1 ..= max_scan_length`,
//!   starting at a chosen key, replayed as `L` gets of the consecutive keys
//!   `start, start + 1, ...` (cut at the last record, as YCSB's ordered scan);
//! - **read-modify-write**: a get then a write of the same chosen key.
//!
//! `request_distribution`: `zipfian` (YCSB's scrambled Zipfian: Zipf with
//! constant `alpha`, 0.99 by default, over the initial records, ranks spread
//! over the key space by the fixed scramble), `latest` (YCSB's skewed-latest:
//! the most recently inserted record is the most popular: key = newest -
//! rank, rank Zipf(alpha)) or `uniform` (over the current records).
//!
//! Deviations from YCSB, for an O(1) sampler: Zipfian ranks are drawn over the
//! initial record count (YCSB's generator also covers the records expected to
//! be inserted), so `zipfian` never picks an inserted record (scans may run
//! into them) and `latest`'s ranks reach back at most `keys` records.
//! `requests` counts cache requests, not YCSB operations: a scan of `L` counts
//! `L`, a read-modify-write 2; the stream is cut at `requests`.

use super::scramble::Scramble;
use super::zipf::{zipf_weights, AliasTable};
use crate::request::Op;
use crate::rng::SimRng;

/// Operation proportions (they need not sum to 1: they are normalised).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// Proportion of reads.
    pub read: f64,
    /// Proportion of updates.
    pub update: f64,
    /// Proportion of inserts.
    pub insert: f64,
    /// Proportion of scans.
    pub scan: f64,
    /// Proportion of read-modify-writes.
    pub read_modify_write: f64,
}

impl Mix {
    fn total(&self) -> f64 {
        self.read + self.update + self.insert + self.scan + self.read_modify_write
    }

    /// The expected share of writes among the requests, for scans of mean
    /// length `(1 + max_scan_length) / 2` (ignoring scans cut at the end).
    pub fn expected_write_share(&self, max_scan_length: u64) -> f64 {
        let mean_scan = (1 + max_scan_length) as f64 / 2.0;
        let writes = self.update + self.insert + self.read_modify_write;
        let requests = self.read
            + self.update
            + self.insert
            + self.scan * mean_scan
            + 2.0 * self.read_modify_write;
        writes / requests
    }
}

/// How operations choose their record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dist {
    Zipfian,
    Latest,
    Uniform,
}

impl Dist {
    pub(crate) const NAMES: &'static str = "zipfian, latest, uniform";

    pub(crate) fn parse(s: &str) -> Option<Dist> {
        match s {
            "zipfian" => Some(Dist::Zipfian),
            "latest" => Some(Dist::Latest),
            "uniform" => Some(Dist::Uniform),
            _ => None,
        }
    }
}

struct Chooser {
    dist: Dist,
    table: AliasTable,
    scr: Scramble,
    n: u64,
}

impl Chooser {
    #[inline]
    fn choose(&self, rng: &mut SimRng, records: u64) -> u64 {
        match self.dist {
            Dist::Zipfian => self.scr.key(self.table.sample(rng) as u64),
            Dist::Latest => records - 1 - (self.table.sample(rng) as u64).min(records - 1),
            Dist::Uniform => rng.below(records),
        }
    }
}

/// Generates `requests` requests (keys and ops).
pub(crate) fn generate(
    n: u64,
    mix: Mix,
    dist: Dist,
    alpha: f64,
    max_scan_length: u64,
    requests: u64,
    seed: u64,
) -> (Vec<u64>, Vec<Op>) {
    let ch = Chooser {
        dist,
        table: AliasTable::new(&zipf_weights(n, alpha)),
        scr: Scramble::new(n),
        n,
    };
    let total = mix.total();
    let cut = [
        mix.read / total,
        (mix.read + mix.update) / total,
        (mix.read + mix.update + mix.insert) / total,
        (mix.read + mix.update + mix.insert + mix.scan) / total,
    ];
    let mut rng = SimRng::new(seed);
    let mut records = ch.n;
    let cap = requests as usize;
    let mut keys = Vec::with_capacity(cap);
    let mut ops = Vec::with_capacity(cap);
    while keys.len() < cap {
        let u = rng.f64();
        if u < cut[0] {
            keys.push(ch.choose(&mut rng, records));
            ops.push(Op::Get);
        } else if u < cut[1] {
            keys.push(ch.choose(&mut rng, records));
            ops.push(Op::Set);
        } else if u < cut[2] {
            keys.push(records);
            ops.push(Op::Set);
            records += 1;
        } else if u < cut[3] {
            let start = ch.choose(&mut rng, records);
            let len = 1 + rng.below(max_scan_length.max(1));
            let end = (start + len).min(records);
            for k in start..end {
                if keys.len() == cap {
                    break;
                }
                keys.push(k);
                ops.push(Op::Get);
            }
        } else {
            let k = ch.choose(&mut rng, records);
            keys.push(k);
            ops.push(Op::Get);
            if keys.len() < cap {
                keys.push(k);
                ops.push(Op::Set);
            }
        }
    }
    (keys, ops)
}

/// The `k` most popular records at the start, most popular first.
pub(crate) fn popular(n: u64, dist: Dist, k: u64) -> Vec<u64> {
    let k = k.min(n);
    match dist {
        Dist::Zipfian => {
            let scr = Scramble::new(n);
            (0..k).map(|r| scr.key(r)).collect()
        }
        Dist::Latest => (0..k).map(|r| n - 1 - r).collect(),
        Dist::Uniform => (0..k).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RMW: Mix = Mix {
        read: 0.5,
        update: 0.0,
        insert: 0.0,
        scan: 0.0,
        read_modify_write: 0.5,
    };

    #[test]
    fn read_modify_write_is_a_get_then_a_set_of_the_same_key() {
        let (keys, ops) = generate(1000, RMW, Dist::Zipfian, 0.99, 100, 10_000, 1);
        for i in 1..keys.len() {
            if ops[i] == Op::Set {
                assert_eq!((ops[i - 1], keys[i - 1]), (Op::Get, keys[i]));
            }
        }
        let w = ops.iter().filter(|&&o| o == Op::Set).count() as f64 / 1e4;
        assert!((w - RMW.expected_write_share(100)).abs() < 0.01, "{w}");
    }

    #[test]
    fn latest_reads_the_newest_inserts() {
        let mix = Mix {
            read: 0.95,
            update: 0.0,
            insert: 0.05,
            scan: 0.0,
            read_modify_write: 0.0,
        };
        let (keys, ops) = generate(1000, mix, Dist::Latest, 0.99, 100, 20_000, 1);
        let inserted = ops.iter().filter(|&&o| o == Op::Set).count() as u64;
        let newest = 1000 + inserted - 1;
        assert_eq!(*keys.iter().max().unwrap(), newest);
        let reads_of_new = keys
            .iter()
            .zip(&ops)
            .filter(|(&k, &o)| o == Op::Get && k >= 1000)
            .count();
        assert!(reads_of_new > 10_000, "{reads_of_new}");
    }

    #[test]
    fn scans_are_consecutive_keys() {
        let mix = Mix {
            read: 0.0,
            update: 0.0,
            insert: 0.0,
            scan: 1.0,
            read_modify_write: 0.0,
        };
        let (keys, _) = generate(100_000, mix, Dist::Uniform, 0.99, 10, 10_000, 2);
        let consecutive = keys.windows(2).filter(|w| w[1] == w[0] + 1).count() as f64;
        // Mean length 5.5: 4.5 of every 5.5 steps are inside a scan.
        assert!(
            (consecutive / 10_000.0 - 4.5 / 5.5).abs() < 0.02,
            "{consecutive}"
        );
    }
}
