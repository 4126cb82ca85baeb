//! Speed of mini-simulations (`cachesim mrc --strategy X --sample R`,
//! `cachesim::mrc::minisim`) against full simulations, at 20 sizes
//! log-spaced from the smallest whose scaled capacity holds 100 objects
//! (`100 / R`) to the working set, one thread for both:
//!
//! - full: one replay of the whole workload per size;
//! - mini: one sampling pass over the workload (included in the time),
//!   then one replay of the sample per size at `round(C * R)`.
//!
//! Prints both wall times, the speed-up and the largest miss-ratio error.
//!
//! Run: `cargo run --release --example minisim_speed [-- PATH/P12.lis.zst [RATE [POLICIES]]]`
//! (an empty PATH, `""`, for the default)
//! (default: ../shared/traces/arc/P12.lis.zst or $CACHESIM_TRACE_DIR, rate
//! 0.01, policy arc; POLICIES comma separated). When the trace is absent,
//! 10M requests of Zipf(1.0) over 1M keys.

use cachesim::mrc::minisim::{effective_rate, replay_all, Sample, MIN_SCALED_OBJECTS};
use cachesim::policy::StrategySpec;
use cachesim::sim::runner::Data;
use cachesim::workload::{zipf, Batch};
use std::path::PathBuf;
use std::time::Instant;

#[path = "shared/mod.rs"]
mod shared;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| shared::default_trace("arc/P12.lis.zst"));
    let rate: f64 = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(0.01);
    let policies = args.get(3).map(String::as_str).unwrap_or("arc");
    let b = if path.is_file() {
        let b = shared::read_lis_zst(&path);
        println!("{}: {} requests", path.display(), b.len());
        b
    } else {
        println!(
            "{} absent: 10M requests of Zipf(1.0) over 1M keys",
            path.display()
        );
        let mut b = Batch::new(1000.0, 1);
        b.keys = zipf::generate(1_000_000, 1.0, 10_000_000, 42);
        b
    };
    let distinct = b.distinct_keys();
    let r = effective_rate(rate);
    let lo = (MIN_SCALED_OBJECTS as f64 / r).ceil() as u64;
    let (a, z) = ((lo as f64).ln(), (distinct as f64).ln());
    let sizes: Vec<u64> = (0..20)
        .map(|i| (a + (z - a) * i as f64 / 19.0).exp().round() as u64)
        .collect();
    println!(
        "{distinct} distinct keys; rate {rate}; sizes {}..{}",
        sizes[0], sizes[19]
    );
    let data = Data::Memory(b);
    let Data::Memory(b) = &data else {
        unreachable!()
    };
    for name in policies.split(',') {
        let spec = StrategySpec::parse(name).unwrap();
        let t = Instant::now();
        let full: Vec<f64> = sizes
            .iter()
            .map(|&c| {
                let n = replay_all(b, None, &spec, c, 1).unwrap();
                n.misses as f64 / n.gets as f64
            })
            .collect();
        let full_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let sample = Sample::of_data(&data, rate, &indicatif::ProgressBar::hidden()).unwrap();
        let sample_s = t.elapsed().as_secs_f64();
        let mini: Vec<f64> = sizes
            .iter()
            .map(|&c| {
                let t = Instant::now();
                let m = sample.miss_ratio(&sample.simulate(&spec, c, 1).unwrap(), true);
                if std::env::var_os("MINISIM_VERBOSE").is_some() {
                    println!("  c={c} {:.4}s", t.elapsed().as_secs_f64());
                }
                m
            })
            .collect();
        let mini_s = t.elapsed().as_secs_f64();
        let err = full
            .iter()
            .zip(&mini)
            .map(|(f, m)| (f - m).abs())
            .fold(0.0, f64::max);
        println!(
            "{name:<8} full {full_s:8.3}s  mini {mini_s:7.3}s (sampling {sample_s:.3}s, {} requests)  speed-up {:6.1}x  max error {err:.4}",
            sample.batch.len(),
            full_s / mini_s
        );
    }
}
