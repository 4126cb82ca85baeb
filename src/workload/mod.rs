//! Where requests come from: synthetic generators (one file each) and trace
//! readers (`trace/`, one file per format), both producing [`Batch`]es of
//! requests in a compact columnar form.
//!
//! A batch stores only the columns a workload has: keys always; times, sizes
//! and ops only when the source has them (a missing time column means "one
//! request every 1/rate seconds", a missing size column means every object has
//! `unit_size` bytes, a missing op column means every request is a get, a
//! missing TTL column means no request sets an expiry, a missing tenant
//! column puts every request in tenant 0). An ARC trace therefore costs 8
//! bytes per request in memory.

pub mod distinct;
pub mod future;
pub mod hotspot;
pub mod preset;
pub mod scan;
pub mod scramble;
pub mod stats;
pub mod trace;
pub mod uniform;
pub mod writes;
pub mod ycsb;
pub mod zipf;
pub mod zipf_scan;
pub mod zipf_shift;

use crate::request::{Key, Op, Request};

pub use preset::{Preset, PRESETS};

/// Requests in columnar form. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The keys requested, in order.
    pub keys: Vec<Key>,
    /// Empty, or one timestamp (seconds) per key.
    pub times: Vec<f64>,
    /// Empty, or one size (bytes) per key.
    pub sizes: Vec<u32>,
    /// Empty, or one op per key.
    pub ops: Vec<Op>,
    /// Empty, or one time-to-live per key, in seconds: how long the object
    /// this request fills (a get's demand fill, a set's write) stays valid;
    /// 0 for no expiry. See [`crate::sim::expiry`].
    pub ttls: Vec<f32>,
    /// Empty, or one tenant (client, use case) per key, for `--group-by`.
    pub tenants: Vec<u32>,
    /// Requests per second, for the time of requests without a timestamp:
    /// request number `v` (from 0) happens at `v / rate`.
    pub rate: f64,
    /// Size of every object when `sizes` is empty.
    pub unit_size: u32,
}

impl Batch {
    /// An empty batch with this rate (requests per second) and object size
    /// (bytes).
    pub fn new(rate: f64, unit_size: u32) -> Batch {
        Batch {
            keys: Vec::new(),
            times: Vec::new(),
            sizes: Vec::new(),
            ops: Vec::new(),
            ttls: Vec::new(),
            tenants: Vec::new(),
            rate,
            unit_size,
        }
    }

    /// Number of requests.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the batch holds no request.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.times.clear();
        self.sizes.clear();
        self.ops.clear();
        self.ttls.clear();
        self.tenants.clear();
    }

    /// The time-to-live request `i` gives the object it fills, in seconds;
    /// 0 for none.
    #[inline]
    pub fn ttl(&self, i: usize) -> f32 {
        if self.ttls.is_empty() {
            0.0
        } else {
            self.ttls[i]
        }
    }

    /// The tenant of request `i` (0 without a tenant column).
    #[inline]
    pub fn tenant(&self, i: usize) -> u32 {
        if self.tenants.is_empty() {
            0
        } else {
            self.tenants[i]
        }
    }

    /// Sets the TTL (seconds, 0 for none) of the request last pushed,
    /// materialising the column the first time one is not 0.
    pub fn set_last_ttl(&mut self, ttl: f32) {
        let n = self.keys.len();
        if self.ttls.is_empty() && ttl != 0.0 {
            self.ttls = vec![0.0; n];
        }
        if let Some(last) = self.ttls.last_mut().filter(|_| n > 0) {
            *last = ttl;
        }
    }

    /// Sets the tenant of the request last pushed, materialising the column
    /// the first time one is not 0.
    pub fn set_last_tenant(&mut self, tenant: u32) {
        let n = self.keys.len();
        if self.tenants.is_empty() && tenant != 0 {
            self.tenants = vec![0; n];
        }
        if let Some(last) = self.tenants.last_mut().filter(|_| n > 0) {
            *last = tenant;
        }
    }

    /// The `i`-th request of this batch, whose stream position is `vtime`.
    #[inline]
    pub fn request(&self, i: usize, vtime: u64) -> Request {
        Request {
            key: self.keys[i],
            time: self.time(i, vtime),
            size: self.size(i),
            op: self.op(i),
        }
    }

    /// The time (seconds) of request `i`, whose stream position is `vtime`.
    #[inline]
    pub fn time(&self, i: usize, vtime: u64) -> f64 {
        if self.times.is_empty() {
            vtime as f64 / self.rate
        } else {
            self.times[i]
        }
    }

    /// The size (bytes) of request `i`.
    #[inline]
    pub fn size(&self, i: usize) -> u32 {
        if self.sizes.is_empty() {
            self.unit_size
        } else {
            self.sizes[i]
        }
    }

    /// The operation of request `i`.
    #[inline]
    pub fn op(&self, i: usize) -> Op {
        if self.ops.is_empty() {
            Op::Get
        } else {
            self.ops[i]
        }
    }

    /// Appends a request, materialising a column the first time a value
    /// differs from the implicit default.
    pub fn push(&mut self, r: &Request, vtime: u64) {
        let n = self.keys.len();
        if !self.times.is_empty() || r.time != vtime as f64 / self.rate {
            if self.times.is_empty() {
                let first = vtime - n as u64;
                self.times = (0..n as u64)
                    .map(|i| (first + i) as f64 / self.rate)
                    .collect();
            }
            self.times.push(r.time);
        }
        if !self.sizes.is_empty() || r.size != self.unit_size {
            if self.sizes.is_empty() {
                self.sizes = vec![self.unit_size; n];
            }
            self.sizes.push(r.size);
        }
        if !self.ops.is_empty() || r.op != Op::Get {
            if self.ops.is_empty() {
                self.ops = vec![Op::Get; n];
            }
            self.ops.push(r.op);
        }
        self.keys.push(r.key);
        // No TTL and tenant 0 until `set_last_ttl`/`set_last_tenant` say
        // otherwise.
        if !self.ttls.is_empty() {
            self.ttls.push(0.0);
        }
        if !self.tenants.is_empty() {
            self.tenants.push(0);
        }
    }

    /// Appends request `i` of `from` (stream position `vtime`), with its
    /// time written out: this batch's positions need not be the stream's
    /// (a share of it, `--clients`). Every column `from` has is kept; mix
    /// no batches whose columns differ.
    pub(crate) fn push_from(&mut self, from: &Batch, i: usize, vtime: u64) {
        self.times.push(from.request(i, vtime).time);
        self.keys.push(from.keys[i]);
        if !from.sizes.is_empty() {
            self.sizes.push(from.sizes[i]);
        }
        if !from.ops.is_empty() {
            self.ops.push(from.ops[i]);
        }
        if !from.ttls.is_empty() {
            self.ttls.push(from.ttls[i]);
        }
        if !from.tenants.is_empty() {
            self.tenants.push(from.tenants[i]);
        }
    }

    /// The number of distinct keys.
    pub fn distinct_keys(&self) -> u64 {
        let mut set = distinct::DistinctKeys::new();
        set.extend(&self.keys);
        set.len()
    }
}

/// Something that yields requests in batches: a trace reader, or a generator.
pub trait RequestSource {
    /// Clears `batch` and fills it with up to `max` requests. Returns the
    /// number added; 0 means the source is exhausted.
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, trace::TraceError>;
}

#[cfg(test)]
impl Batch {
    /// A batch at `rate` of `(key, time, op, ttl)` requests of size 1, for
    /// the tests of the loops' rules.
    pub(crate) fn of_requests(rate: f64, reqs: &[(Key, f64, Op, f32)]) -> Batch {
        let mut b = Batch::new(rate, 1);
        for (v, &(key, time, op, ttl)) in reqs.iter().enumerate() {
            b.push(
                &Request {
                    time,
                    key,
                    size: 1,
                    op,
                },
                v as u64,
            );
            b.set_last_ttl(ttl);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_materialises_columns_only_when_needed() {
        let mut b = Batch::new(10.0, 1);
        b.push(&Request::get(5, 0.0), 0);
        b.push(&Request::get(6, 0.1), 1);
        assert!(b.times.is_empty() && b.sizes.is_empty() && b.ops.is_empty());
        b.push(
            &Request {
                time: 7.0,
                key: 7,
                size: 100,
                op: Op::Set,
            },
            2,
        );
        assert_eq!(b.times, vec![0.0, 0.1, 7.0]);
        assert_eq!(b.sizes, vec![1, 1, 100]);
        assert_eq!(b.ops, vec![Op::Get, Op::Get, Op::Set]);
        assert_eq!(b.request(2, 2).size, 100);
        assert_eq!(b.request(1, 1), Request::get(6, 0.1));
        assert_eq!(b.distinct_keys(), 3);
    }

    #[test]
    fn ttl_and_tenant_columns_appear_with_the_first_value_that_is_not_0() {
        let mut b = Batch::new(1.0, 1);
        b.push(&Request::get(1, 0.0), 0);
        b.set_last_ttl(0.0);
        b.set_last_tenant(0);
        assert!(b.ttls.is_empty() && b.tenants.is_empty());
        b.push(&Request::get(2, 1.0), 1);
        b.set_last_ttl(2.5);
        b.push(&Request::get(3, 2.0), 2);
        b.set_last_tenant(7);
        b.push(&Request::get(4, 3.0), 3);
        assert_eq!(b.ttls, vec![0.0, 2.5, 0.0, 0.0]);
        assert_eq!(b.tenants, vec![0, 0, 7, 0]);
        assert_eq!(
            (b.ttl(1), b.ttl(3), b.tenant(2), b.tenant(0)),
            (2.5, 0.0, 7, 0)
        );
        b.clear();
        assert_eq!((b.ttl(0), b.tenant(0)), (0.0, 0));
    }

    #[test]
    fn a_share_of_a_batch_keeps_each_requests_time_and_columns() {
        let mut b = Batch::new(10.0, 1);
        b.push(&Request::get(1, 0.0), 0);
        b.push(&Request::get(2, 0.1), 1);
        b.set_last_ttl(3.0);
        // No timestamps: request v is at v / rate, here from position 40.
        let mut from = Batch::new(10.0, 1);
        for v in 40..43 {
            from.push(&Request::get(v, v as f64 / 10.0), v);
        }
        assert!(from.times.is_empty());
        let mut share = Batch::new(10.0, 1);
        share.push_from(&from, 1, 41);
        share.push_from(&from, 2, 42);
        assert_eq!(share.keys, vec![41, 42]);
        // Its positions are 0 and 1, its times the stream's.
        assert_eq!(share.request(0, 0), Request::get(41, 4.1));
        assert_eq!(share.request(1, 1), Request::get(42, 4.2));
        let mut share = Batch::new(10.0, 1);
        share.push_from(&b, 1, 1);
        assert_eq!(
            (share.times.clone(), share.ttls.clone()),
            (vec![0.1], vec![3.0])
        );
        assert!(share.sizes.is_empty() && share.ops.is_empty());
    }
}
