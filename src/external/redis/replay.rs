//! `--clients`: how the stream is split over connections (by key, so each
//! key's requests keep their order) and the connections over threads (at
//! most one per core), and the loop that feeds one thread's connections.

use super::client::{Client, Fail, Shared, Stats};
use crate::request::Key;
use crate::sim::runner::{Data, RunError};
use crate::workload::Batch;
use indicatif::ProgressBar;
use std::time::{Duration, Instant};

/// Environment variable: the most threads `--clients` uses.
pub(crate) const THREADS_ENV: &str = "CACHESIM_REDIS_THREADS";

/// The most threads the clients of a run use: `$CACHESIM_REDIS_THREADS`, or
/// the number of cores.
pub(super) fn client_threads() -> Result<usize, RunError> {
    match std::env::var(THREADS_ENV) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(RunError::Workload(format!(
                "{THREADS_ENV}='{v}' is not a positive number of threads"
            ))),
        },
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// Which of `clients` clients serves `key`.
#[inline]
pub(super) fn client_of(key: Key, clients: usize) -> usize {
    ((key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % clients as u64) as usize
}

/// How `clients` connections are spread over `threads` threads: client `c`
/// (the keys with `client_of(key, clients) == c`) is driven by thread
/// `c % threads`, as its `c / threads`-th connection.
pub(super) fn thread_of(c: usize, threads: usize) -> (usize, usize) {
    (c % threads, c / threads)
}

/// Replays the requests of `data` that belong to the clients of thread `me`
/// (`local[c]`: client `c`'s index in `cls`, or `usize::MAX` for another
/// thread's client).
pub(super) fn replay(
    cls: &mut [Client],
    local: &[usize],
    sh: &Shared,
    st: &mut Stats,
    data: &Data,
    pb: &ProgressBar,
) -> Result<(), Fail> {
    let clients = local.len();
    // `--redis-pace`: the first request's wall and trace times.
    let mut start: Option<(Instant, f64)> = None;
    let mut run = |b: &Batch, range: std::ops::Range<usize>, base: u64| -> Result<(), Fail> {
        let mut n = 0;
        for i in range {
            let key = b.keys[i];
            let c = if clients > 1 {
                local[client_of(key, clients)]
            } else {
                0
            };
            let r = b.request(i, base + i as u64);
            if let Some(pace) = sh.pace {
                let (t0, at) = *start.get_or_insert((Instant::now(), r.time));
                let delay = Duration::try_from_secs_f64(((r.time - at) / pace).max(0.0));
                let due = delay.ok().and_then(|d| t0.checked_add(d));
                if let Some(wait) = due.and_then(|d| d.checked_duration_since(Instant::now())) {
                    // Nothing earlier waits in a pipeline meanwhile.
                    for cl in cls.iter_mut() {
                        cl.flush(sh, st)?;
                    }
                    std::thread::sleep(wait);
                }
            }
            let Some(cl) = cls.get_mut(c) else { continue };
            cl.request(sh, st, r, b.ttl(i), base + i as u64)?;
            n += 1;
        }
        pb.inc(n);
        Ok(())
    };
    const CHUNK: usize = 1 << 14;
    data.for_each_chunk(CHUNK, &mut run)?;
    for cl in cls.iter_mut() {
        cl.flush(sh, st)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_split_keys() {
        let mut per = [0u32; 4];
        for k in 0..4000u64 {
            per[client_of(k, 4)] += 1;
        }
        assert!(per.iter().all(|&n| n > 800), "{per:?}");
    }
}
