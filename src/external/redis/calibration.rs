//! How many bytes a key costs on a private server, so that a capacity in
//! objects can be given to Redis, which only knows `maxmemory` in bytes: the
//! bytes per key measured before the run ([`calibrate`]), and the limit kept
//! at the capacity during it ([`Trimmer`]).

use super::batch::{KeyBuf, Kind, Ops};
use super::cluster::CmdBatch;
use super::resp::{itoa, Conn, RespError, Value};
use crate::request::Key;
use crate::sim::runner::Data;
use rustc_hash::FxHashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Most keys written to calibrate bytes per key.
pub(crate) const MAX_CALIBRATION_KEYS: u64 = 1_000_000;

/// Bytes per key of this run's keys and values on the (empty) private
/// server behind `c`: writes `n` keys (`SET` with the run's value sizes and
/// TTL, in pipelines of 50 so the connection's query buffer does not grow),
/// reads `used_memory` from `INFO memory` before and after, divides the
/// difference by `n`, and deletes the keys again. With `n` = the capacity (up
/// to [`MAX_CALIBRATION_KEYS`]) the hash table's size at that count is part
/// of the figure. Returns (used_memory before, bytes per key).
pub(crate) fn calibrate(
    c: &mut Conn,
    prefix: &[u8],
    keys: &[(Key, u32)],
    px: Option<&[u8]>,
) -> Result<(i64, f64), RespError> {
    let before = c.info_field("memory", "used_memory")?;
    let max = keys.iter().map(|k| k.1).max().unwrap_or(0) as usize;
    let value = vec![b'x'; max];
    let mut kb = KeyBuf::new(prefix);
    let mut items = Vec::new();
    for chunk in keys.chunks(50) {
        kb.clear();
        items.clear();
        for &(k, s) in chunk {
            let i = kb.push(k);
            items.push((i, Kind::Set(s)));
        }
        let ops = Ops {
            keys: &kb,
            items: &items,
            value: &value,
            px,
        };
        for i in 0..ops.len() {
            ops.write(i, c);
        }
        c.flush()?;
        for _ in 0..ops.len() {
            c.read_light()?;
        }
    }
    let after = c.info_field("memory", "used_memory")?;
    for chunk in keys.chunks(1000) {
        let mut d = [0u8; 20];
        for &(k, _) in chunk {
            let mut key = prefix.to_vec();
            key.extend_from_slice(itoa(k, &mut d));
            c.push(&[b"DEL", &key]);
        }
        let q = c.queued();
        c.flush()?;
        for _ in 0..q {
            c.read_light()?;
        }
    }
    let per_key = (after - before).max(1) as f64 / keys.len().max(1) as f64;
    Ok((before, per_key))
}

/// Up to `n` distinct keys of the workload with their sizes, padded with
/// synthetic keys (from `u64::MAX` down) when the workload has fewer.
pub(super) fn sample_keys(
    data: &Data,
    n: u64,
    value_size: Option<u32>,
    unit: u32,
) -> Vec<(Key, u32)> {
    let mut seen = FxHashSet::default();
    let mut out = Vec::new();
    if let Data::Memory(b) = data {
        for i in 0..b.len() {
            if out.len() as u64 >= n {
                break;
            }
            let r = b.request(i, i as u64);
            if seen.insert(r.key) {
                out.push((r.key, value_size.unwrap_or(r.size)));
            }
        }
    }
    let mut k = u64::MAX;
    while (out.len() as u64) < n {
        if seen.insert(k) {
            out.push((k, value_size.unwrap_or(unit)));
        }
        k -= 1;
    }
    out
}

/// A count capacity's memory limit, kept at the capacity during the run.
///
/// The limit starts at `used_memory` with every connection open + capacity x
/// bytes per key. Redis counts its clients' buffers in `used_memory` and
/// resizes them as it goes (10-40 KB each, as much as hundreds of small
/// keys), so the trimmer then moves the limit every 100 ms once the server
/// is full, by half of (capacity - resident keys) x bytes per key, keeping
/// the resident keys at the capacity.
pub(super) struct Trimmer {
    /// Its own connection to the private server.
    pub monitor: Conn,
    /// `maxmemory` now.
    pub limit: i64,
    /// The capacity, in keys.
    pub cap: i64,
    pub per_key: f64,
}

impl Trimmer {
    /// Trims until `done` (or until the server stops answering).
    pub(super) fn run(mut self, done: &AtomicBool) {
        let mut evicted = 0;
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            let (Ok(Value::Int(n)), Ok(e), Ok(used)) = (
                self.monitor.cmd(&["DBSIZE"]),
                self.monitor.info_field("stats", "evicted_keys"),
                self.monitor.info_field("memory", "used_memory"),
            ) else {
                return;
            };
            // At the limit: evicting, refusing writes, or over capacity.
            let full = e > evicted || used >= self.limit || n > self.cap;
            evicted = e;
            // Half the gap per step: the clients' buffers move too.
            let step = ((self.cap - n) as f64 * self.per_key / 2.0).round() as i64;
            if full && step != 0 {
                self.limit = (self.limit + step).max(1);
                let v = self.limit.to_string();
                if self
                    .monitor
                    .cmd(&["CONFIG", "SET", "maxmemory", &v])
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}
