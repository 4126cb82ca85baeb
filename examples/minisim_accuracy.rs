//! How close mini-simulations (`cachesim::mrc::minisim`) come to full
//! simulations of a policy on a trace, and whether an error is the pinned
//! hash's luck or a bias of the method: per size, the error with the pinned
//! sampling hash, and the mean and standard deviation of the error over
//! MEMBERS members of its family (the keys relabelled `key + offset`,
//! random offsets, which changes which keys are sampled but not the full
//! simulation of a policy that ignores key values). A mean near the pinned
//! error, far from 0, is a bias; a mean near 0 with a wide spread is luck.
//!
//! Run: `cargo run --release --example minisim_accuracy -- TRACE.lis.zst RATE POLICIES SIZES [MEMBERS]`
//! e.g. `... OLTP.lis.zst 0.1 lru,sieve 1000,3008,9046 8` (ARC traces;
//! MEMBERS defaults to 8; member 0 is the pinned hash).

use cachesim::mrc::minisim::{replay_all, scaled_capacity, Sample};
use cachesim::mrc::shards::{hash_mod_p, threshold, P};
use cachesim::policy::StrategySpec;
use cachesim::rng::splitmix;
use cachesim::workload::Batch;
use std::path::Path;

#[path = "shared/mod.rs"]
mod shared;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 5 {
        eprintln!("usage: minisim_accuracy TRACE RATE POLICIES SIZES [MEMBERS]");
        std::process::exit(2);
    }
    let b = shared::read_lis_zst(Path::new(&a[1]));
    let rate: f64 = a[2].parse().expect("RATE");
    let sizes: Vec<u64> = a[4].split(',').map(|s| s.parse().expect("SIZES")).collect();
    let members: u64 = a.get(5).and_then(|m| m.parse().ok()).unwrap_or(8);
    // MINISIM_GROUP_BITS=g samples groups of 2^g consecutive keys together
    // (hash of key >> g): an experiment on correlated neighbours.
    let group: u32 = std::env::var("MINISIM_GROUP_BITS")
        .ok()
        .and_then(|g| g.parse().ok())
        .unwrap_or(0);
    let t = threshold(rate);
    let samples: Vec<Sample> = (0..members)
        .map(|m| {
            let off = if m == 0 { 0 } else { splitmix(m) };
            if group == 0 {
                let mut r = b.clone();
                r.keys.iter_mut().for_each(|k| *k = k.wrapping_add(off));
                return Sample::of_batch(&r, rate);
            }
            let mut kept = Batch::new(b.rate, b.unit_size);
            for (i, &k) in b.keys.iter().enumerate() {
                if hash_mod_p((k >> group).wrapping_add(off)) < t {
                    kept.push(&b.request(i, i as u64), i as u64);
                }
            }
            let mut s = Sample::of_batch(&kept, 1.0);
            s.rate = t as f64 / P as f64;
            s.gets = b.len() as u64;
            s
        })
        .collect();
    println!(
        "{}: {} requests, rate {rate}, {members} hashes",
        a[1],
        b.len()
    );
    for name in a[3].split(',') {
        let spec = StrategySpec::parse(name).unwrap();
        for &c in &sizes {
            let n = replay_all(&b, None, &spec, c, 1).unwrap();
            let full = n.misses as f64 / n.gets as f64;
            let errs: Vec<(f64, f64)> = samples
                .iter()
                .map(|s| {
                    let m = s.simulate(&spec, c, 1).unwrap();
                    (
                        s.miss_ratio(&m, true) - full,
                        s.miss_ratio(&m, false) - full,
                    )
                })
                .collect();
            let stats = |f: &dyn Fn(&(f64, f64)) -> f64| {
                let k = errs.len() as f64;
                let mean = errs.iter().map(f).sum::<f64>() / k;
                let var =
                    errs.iter().map(|e| (f(e) - mean).powi(2)).sum::<f64>() / (k - 1.0).max(1.0);
                (mean, var.sqrt())
            };
            let (am, asd) = stats(&|e| e.0);
            let (pm, psd) = stats(&|e| e.1);
            println!(
                "{name:<7} c={c:<8} scaled={:<6} full={full:.4}  adj: pinned {:+.4} mean {am:+.4} sd {asd:.4}  plain: pinned {:+.4} mean {pm:+.4} sd {psd:.4}",
                scaled_capacity(c, samples[0].rate),
                errs[0].0,
                errs[0].1
            );
        }
    }
}
