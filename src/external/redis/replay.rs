//! `--clients`: the loop that feeds one thread's connections (how the
//! stream is split over connections and threads: `external::clients`).

use super::client::{Client, Fail, Shared, Stats};
use crate::external::clients::client_of;
use crate::sim::runner::Data;
use crate::workload::Batch;
use indicatif::ProgressBar;
use std::time::{Duration, Instant};

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
