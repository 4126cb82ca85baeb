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
/// reads `used_memory` from `INFO memory` less the clients' buffers
/// ([`client_memory`]) before and after, divides the difference by `n`, and
/// deletes the keys again. With `n` = the capacity (up
/// to [`MAX_CALIBRATION_KEYS`]) the hash table's size at that count is part
/// of the figure. Returns (memory before, less the clients', bytes per key).
pub(crate) fn calibrate(
    c: &mut Conn,
    prefix: &[u8],
    keys: &[(Key, u32)],
    px: Option<&[u8]>,
) -> Result<(i64, f64), RespError> {
    let before = c.info_field("memory", "used_memory")? - client_memory(c)?;
    let max = keys.iter().map(|k| k.1).max().unwrap_or(0) as usize;
    let value = vec![b'x'; max];
    let mut kb = KeyBuf::new(prefix);
    let mut items = Vec::new();
    for chunk in keys.chunks(50) {
        kb.clear();
        items.clear();
        for &(k, s) in chunk {
            let i = kb.push(k);
            items.push((i, Kind::Set(s, 0)));
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
    let after = c.info_field("memory", "used_memory")? - client_memory(c)?;
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

/// Bytes the server's clients hold right now (query and reply buffers,
/// argument vectors): the sum of `tot-mem` over `CLIENT LIST`, which Redis
/// computes when asked, unlike INFO's `mem_clients_normal`, which its cron
/// refreshes ten times a second.
pub(super) fn client_memory(c: &mut Conn) -> Result<i64, RespError> {
    let v = c.cmd(&["CLIENT", "LIST"])?;
    let text = v.text().unwrap_or_default();
    let mut sum = 0;
    for line in text.lines() {
        let field = line.split(' ').find_map(|f| f.strip_prefix("tot-mem="));
        match field.and_then(|n| n.parse::<i64>().ok()) {
            Some(n) => sum += n,
            None => {
                return Err(RespError::Protocol(format!(
                    "CLIENT LIST line without tot-mem: {line}"
                )))
            }
        }
    }
    Ok(sum)
}

/// A count capacity's memory limit, kept at the capacity during the run.
///
/// Redis counts its clients' buffers in `used_memory` and so in `maxmemory`,
/// and resizes them as it goes: a new connection's 16 KB reply buffer shrinks
/// to 1 KB on the server's next cron pass, a query buffer grows on the first
/// command and is freed after 2 s idle. Each such step is worth ~70 keys of
/// ~200 bytes, so a limit set once from the memory at the start held 711 or
/// 276 keys at a 500-key capacity in runs shorter than a second. The limit
/// is therefore `keys` (the memory of everything but the clients, plus
/// capacity x bytes per key) + what the clients hold *now*, re-read every
/// [`TRIM_EVERY`]; and once the server is full, `keys` moves by half of
/// (capacity - resident keys) x bytes per key, for what the calibration
/// missed (the hash table growing, allocator rounding).
pub(super) struct Trimmer {
    /// Its own connection to the private server.
    pub monitor: Conn,
    /// `maxmemory` now.
    pub limit: i64,
    /// Bytes for everything but the clients' buffers.
    pub keys: i64,
    /// The capacity, in keys.
    pub cap: i64,
    pub per_key: f64,
}

/// How often the [`Trimmer`] re-reads the server.
pub(super) const TRIM_EVERY: Duration = Duration::from_millis(20);

impl Trimmer {
    /// Trims until `done` (or until the server stops answering).
    pub(super) fn run(mut self, done: &AtomicBool) {
        let mut evicted = 0;
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(TRIM_EVERY);
            let (Ok(Value::Int(n)), Ok(e), Ok(used), Ok(clients)) = (
                self.monitor.cmd(&["DBSIZE"]),
                self.monitor.info_field("stats", "evicted_keys"),
                self.monitor.info_field("memory", "used_memory"),
                client_memory(&mut self.monitor),
            ) else {
                return;
            };
            // At the limit: evicting, refusing writes, or over capacity.
            let full = e > evicted || used >= self.limit || n > self.cap;
            evicted = e;
            // Half the gap per step: allocations move too.
            let step = ((self.cap - n) as f64 * self.per_key / 2.0).round() as i64;
            if full {
                self.keys += step;
            }
            let limit = (self.keys + clients).max(1);
            if limit != self.limit {
                self.limit = limit;
                let v = limit.to_string();
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
