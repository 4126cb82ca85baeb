//! `--clients N` against a real server: how the stream is split over the
//! connections (by key, so each key's requests keep their order) and the
//! connections over threads (at most one per core). Redis (`redis::replay`)
//! and memcached (`remote::replay_clients`) split the same way.

use crate::request::Key;
use crate::sim::runner::RunError;

/// Environment variable: the most threads `--clients` uses (Redis's and
/// memcached's connections alike; named when only Redis had them).
pub(crate) const THREADS_ENV: &str = "CACHESIM_REDIS_THREADS";

/// The most threads the clients of a run use: `$CACHESIM_REDIS_THREADS`, or
/// the number of cores.
pub(crate) fn client_threads() -> Result<usize, RunError> {
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
pub(crate) fn client_of(key: Key, clients: usize) -> usize {
    ((key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % clients as u64) as usize
}

/// How `clients` connections are spread over `threads` threads: client `c`
/// (the keys with `client_of(key, clients) == c`) is driven by thread
/// `c % threads`, as its `c / threads`-th connection.
pub(crate) fn thread_of(c: usize, threads: usize) -> (usize, usize) {
    (c % threads, c / threads)
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

    #[test]
    fn threads_take_clients_in_turn() {
        let spread: Vec<_> = (0..5).map(|c| thread_of(c, 2)).collect();
        assert_eq!(spread, [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2)]);
    }
}
