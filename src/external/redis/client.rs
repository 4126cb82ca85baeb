//! One connection's replay: the requests of its share of the stream, its
//! L1 (in a tiered run), its origin and the pipelining of its gets, counted
//! into [`Stats`]. This is the hot path of a Redis run.

use super::backend::Backend;
use super::batch::{check, refused, KeyBuf, Kind, Ops};
use super::cluster::CmdBatch;
use super::resp::{Light, RespError};
use super::tiered::L1;
use crate::request::{Key, Op, Request};
use crate::sim::latency::{new_histogram, ModelOrigin, Origin, OriginError, MAX_NS};
use crate::sim::replay::Counters;
use crate::sim::runner::{OriginSpec, RunError};
use crate::sim::write::{OnWrite, WriteAction};
use hdrhistogram::Histogram;
use rustc_hash::FxHashSet;
use std::time::{Duration, Instant};

/// The origin of one client.
pub(super) enum AnyOrigin {
    None,
    Model(ModelOrigin),
    /// A real origin (a database), through its backend.
    Real(Box<dyn Origin + Send>),
}

impl AnyOrigin {
    pub(super) fn new(spec: &Option<OriginSpec>, seed: u64) -> Result<AnyOrigin, RunError> {
        Ok(match spec {
            None => AnyOrigin::None,
            Some(OriginSpec::Model(m)) => AnyOrigin::Model(ModelOrigin::new(m, seed)),
            Some(o @ OriginSpec::Backend(_)) => AnyOrigin::Real(o.connect(seed)?),
        })
    }

    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError> {
        match self {
            AnyOrigin::None => Ok(0),
            AnyOrigin::Model(m) => m.fetch(key, size),
            AnyOrigin::Real(o) => o.fetch(key, size),
        }
    }
}

/// What one client counted.
pub(super) struct Stats {
    pub(super) c: Counters,
    pub(super) l1_hits: u64,
    pub(super) l2_hits: u64,
    pub(super) misses: Histogram<u64>,
    /// Hit latencies by tier; all hits are both (added at the end).
    pub(super) l1: Histogram<u64>,
    pub(super) l2: Histogram<u64>,
    pub(super) origin_ns: u64,
    /// `SET`s sent, and those the server refused with `-OOM` (at its
    /// memory limit under `noeviction`).
    pub(super) sets_sent: u64,
    pub(super) sets_refused: u64,
}

impl Stats {
    pub(super) fn new() -> Stats {
        Stats {
            c: Counters::default(),
            l1_hits: 0,
            l2_hits: 0,
            misses: new_histogram(),
            l1: new_histogram(),
            l2: new_histogram(),
            origin_ns: 0,
            sets_sent: 0,
            sets_refused: 0,
        }
    }

    pub(super) fn add(&mut self, o: &Stats) {
        let (a, b) = (&mut self.c, &o.c);
        a.requests += b.requests;
        a.gets += b.gets;
        a.hits += b.hits;
        a.misses += b.misses;
        a.sets += b.sets;
        a.deletes += b.deletes;
        a.evictions += b.evictions;
        a.expirations += b.expirations;
        a.bytes_requested += b.bytes_requested;
        a.bytes_missed += b.bytes_missed;
        self.l1_hits += o.l1_hits;
        self.l2_hits += o.l2_hits;
        for (x, y) in [
            (&mut self.misses, &o.misses),
            (&mut self.l1, &o.l1),
            (&mut self.l2, &o.l2),
        ] {
            x.add(y).expect("same bounds");
        }
        self.origin_ns += o.origin_ns;
        self.sets_sent += o.sets_sent;
        self.sets_refused += o.sets_refused;
    }
}

/// Why a client stopped.
pub(super) enum Fail {
    Redis(RespError),
    Origin(OriginError),
    Run(RunError),
}

impl From<crate::workload::trace::TraceError> for Fail {
    fn from(e: crate::workload::trace::TraceError) -> Fail {
        Fail::Run(e.into())
    }
}

impl From<crate::interrupt::Interrupted> for Fail {
    fn from(e: crate::interrupt::Interrupted) -> Fail {
        Fail::Run(e.into())
    }
}

impl From<RespError> for Fail {
    fn from(e: RespError) -> Fail {
        Fail::Redis(e)
    }
}

struct Pending {
    key: Key,
    size: u32,
    /// The `PX` of its fill, if it misses ([`Shared::px_of`]).
    px: u64,
    /// Its TTL in seconds (for the L1's deadlines).
    ttl: f32,
    time: f64,
    vtime: u64,
    kidx: u32,
}

/// Up to this many gets per pipeline a repeated key is found by scanning the
/// batch (cheaper than hashing every key); longer pipelines keep a set.
const SCAN_MAX: usize = 32;

/// What every client of a run shares.
pub(super) struct Shared<'a> {
    pub(super) prefix: &'a [u8],
    pub(super) value_size: Option<u32>,
    pub(super) px: Option<&'a [u8]>,
    /// `px` in milliseconds.
    pub(super) px_ms: Option<u64>,
    /// `--redis-pace`: requests go out at their times divided by this, and
    /// their TTLs are divided by it too.
    pub(super) pace: Option<f64>,
    pub(super) pipeline: usize,
    /// What a `set` request does to the cached copy (`--on-write`).
    pub(super) on_write: OnWrite,
    pub(super) timed: bool,
}

impl Shared<'_> {
    /// The `PX` in milliseconds of a value written by a request with `ttl`
    /// seconds (the trace's TTL: a get's demand fill, a set written
    /// through): the TTL divided by the pace, no longer than the run's
    /// `PX` (`--ttl`, the shared server's `--redis-key-ttl`); 0, the run's
    /// `PX`, when the request has no TTL.
    pub(super) fn px_of(&self, ttl: f32) -> u64 {
        if ttl <= 0.0 {
            return 0;
        }
        let ms = f64::from(ttl) * 1000.0 / self.pace.unwrap_or(1.0);
        let ms = ms.round().clamp(1.0, 1e15) as u64;
        self.px_ms.map_or(ms, |run| ms.min(run))
    }
}

/// One connection's replay state. Its counters go to its thread's [`Stats`].
///
/// Gets gather in `pending` (keys in `kb`) until the batch is full or closed
/// by a repeated key; then it is sent and becomes the batch in `flight`
/// (keys in `fkb`), whose replies [`Client::complete`] reads, counting the
/// hits and setting the misses. Alone on its thread, a client completes
/// each batch at once. When a thread drives several connections (`defer`),
/// a batch stays in flight while the client gathers the next one, and is
/// completed just before that one is sent: the server works on some
/// connections while the thread fills the others, and each key's requests
/// still reach the server in order (a miss's `SET` goes before the next
/// batch). With an L1 the in-flight batch is completed before the client's
/// next request, since that request looks at the L1 first. The misses'
/// `SET`s of a pipelined run go out with the next batch
/// ([`Client::sets_ride_along`]).
pub(super) struct Client {
    be: Backend,
    origin: AnyOrigin,
    pub(super) l1: Option<L1>,
    value: Vec<u8>,
    pub(super) defer: bool,
    kb: KeyBuf,
    pending: Vec<Pending>,
    fkb: KeyBuf,
    flight: Vec<Pending>,
    /// When the batch in flight was sent (timed runs).
    sent_at: Option<Instant>,
    /// `SET`s of misses sent (or queued) and not yet answered: left so when
    /// they ride along with the next batch ([`Client::sets_ride_along`]),
    /// whose replies come after theirs.
    sets: usize,
    sets_at: Instant,
    /// Per miss waiting for its `SET`: its get round trip + origin time.
    set_wait: Vec<u64>,
    in_batch: FxHashSet<Key>,
    items: Vec<(u32, Kind)>,
    out: Vec<Result<Light, RespError>>,
}

#[inline]
fn ns(d: Duration) -> u64 {
    (d.as_nanos() as u64).clamp(1, MAX_NS)
}

impl Client {
    pub(super) fn new(
        be: Backend,
        origin: AnyOrigin,
        l1: Option<L1>,
        value_size: u32,
        sh: &Shared,
    ) -> Client {
        Client {
            be,
            origin,
            l1,
            value: vec![b'x'; value_size as usize],
            defer: false,
            kb: KeyBuf::new(sh.prefix),
            pending: Vec::with_capacity(sh.pipeline),
            fkb: KeyBuf::new(sh.prefix),
            flight: Vec::with_capacity(sh.pipeline),
            sent_at: None,
            sets: 0,
            sets_at: Instant::now(),
            set_wait: Vec::new(),
            in_batch: FxHashSet::default(),
            items: Vec::new(),
            out: Vec::new(),
        }
    }

    fn ensure_value(&mut self, size: u32) {
        if self.value.len() < size as usize {
            self.value.resize(size as usize, b'x');
        }
    }

    /// Replays request `r` (the `vtime`-th of the stream), whose fill
    /// expires after `ttl` seconds (0: never, or the run's `PX`).
    #[inline]
    pub(super) fn request(
        &mut self,
        sh: &Shared,
        st: &mut Stats,
        r: Request,
        ttl: f32,
        vtime: u64,
    ) -> Result<(), Fail> {
        if self.l1.is_some() && !self.flight.is_empty() {
            self.complete(sh, st)?;
        }
        // The value's size: `--value-size`, else the request's.
        let r = Request {
            size: sh.value_size.unwrap_or(r.size),
            ..r
        };
        st.c.requests += 1;
        match r.op {
            Op::Get => self.get(sh, st, r, ttl, vtime),
            Op::Set | Op::Delete => self.write(sh, st, r, ttl, vtime),
        }
    }

    /// A get: an L1 hit is done; otherwise the key joins the pending batch,
    /// which a repeated key closes first and which is sent when full.
    #[inline]
    fn get(
        &mut self,
        sh: &Shared,
        st: &mut Stats,
        r: Request,
        ttl: f32,
        vtime: u64,
    ) -> Result<(), Fail> {
        let px = sh.px_of(ttl);
        let Request {
            key, time, size, ..
        } = r;
        st.c.gets += 1;
        st.c.bytes_requested += u64::from(size);
        if let Some(l1) = &mut self.l1 {
            let t = sh.timed.then(Instant::now);
            if l1.get(key, size, time, vtime) {
                st.c.hits += 1;
                st.l1_hits += 1;
                if let Some(t) = t {
                    let v = ns(t.elapsed());
                    st.l1.saturating_record(v);
                }
                return Ok(());
            }
        }
        let repeated = if sh.pipeline <= SCAN_MAX {
            self.pending.iter().any(|p| p.key == key)
        } else {
            !self.in_batch.insert(key)
        };
        if repeated {
            self.close(sh, st)?;
            if sh.pipeline > SCAN_MAX {
                self.in_batch.insert(key);
            }
        }
        let kidx = self.kb.push(key);
        self.pending.push(Pending {
            key,
            size,
            px,
            ttl,
            time,
            vtime,
            kidx,
        });
        if self.pending.len() >= sh.pipeline {
            self.close(sh, st)?;
        }
        Ok(())
    }

    /// A set or a delete, by the one write rule ([`OnWrite::action`]): the
    /// server decides what fits it (a value it cannot hold is refused with
    /// `-OOM` and not cached), the L1 what fits the L1. Everything on the
    /// wire is completed first, so the write follows every earlier get.
    fn write(
        &mut self,
        sh: &Shared,
        st: &mut Stats,
        r: Request,
        ttl: f32,
        vtime: u64,
    ) -> Result<(), Fail> {
        let px = sh.px_of(ttl);
        let Request {
            key,
            op,
            time,
            size,
        } = r;
        if op == Op::Set {
            st.c.sets += 1;
        } else {
            st.c.deletes += 1;
        }
        let kind = match sh.on_write.action(op, true) {
            // The write goes to the origin only; cached copies stay.
            WriteAction::Keep => return Ok(()),
            WriteAction::Update => Kind::Set(size, px),
            // A delete, or a set under --on-write invalidate.
            WriteAction::Drop => Kind::Del,
        };
        self.flush(sh, st)?;
        self.ensure_value(size);
        if let Some(l1) = &mut self.l1 {
            if let Kind::Set(..) = kind {
                l1.l2_written(key, time, ttl);
            }
            match sh.on_write.action(op, l1.fits(size)) {
                WriteAction::Update => l1.set(key, size, time, vtime, ttl),
                WriteAction::Drop => l1.remove(key),
                WriteAction::Keep => {}
            }
        }
        let (kb, value, out) = (&mut self.kb, &self.value, &mut self.out);
        self.be.exec_one(kb, (key, kind), value, sh.px, out)?;
        check(&self.out)?;
        if let Kind::Set(..) = kind {
            st.sets_sent += 1;
            st.sets_refused += refused(&self.out);
        }
        self.kb.clear();
        Ok(())
    }

    /// Ends the pending batch: sends it, and either waits for it or (when
    /// deferring) leaves it in flight.
    #[inline]
    fn close(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        if !self.flight.is_empty() {
            self.complete(sh, st)?;
        }
        self.send(sh)?;
        if !self.defer {
            self.complete(sh, st)?;
        }
        Ok(())
    }

    /// Completes the batch in flight and sends and completes the pending
    /// one: nothing is left on the wire.
    pub(super) fn flush(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        if !self.flight.is_empty() {
            self.complete(sh, st)?;
        }
        if !self.pending.is_empty() {
            self.send(sh)?;
            self.complete(sh, st)?;
        }
        self.sets_done(sh, st)
    }

    /// Sends the pending gets as one pipeline; they become the batch in
    /// flight. (The previous one must be complete.)
    fn send(&mut self, sh: &Shared) -> Result<(), Fail> {
        debug_assert!(self.flight.is_empty());
        std::mem::swap(&mut self.kb, &mut self.fkb);
        std::mem::swap(&mut self.pending, &mut self.flight);
        self.in_batch.clear();
        self.sent_at = sh.timed.then(Instant::now);
        if let Backend::Single(c) = &mut self.be {
            // The key buffer holds exactly the batch's gets, in order.
            debug_assert_eq!(self.fkb.spans.len(), self.flight.len());
            c.push_encoded(self.fkb.cmds(), self.flight.len());
            c.flush()?;
        } else {
            self.items.clear();
            self.items
                .extend(self.flight.iter().map(|p| (p.kidx, Kind::Get)));
            let ops = Ops {
                keys: &self.fkb,
                items: &self.items,
                value: &self.value,
                px: sh.px,
            };
            self.be.send(&ops, &mut self.out)?;
        }
        Ok(())
    }

    /// Reads the replies of the batch in flight and counts them; the misses
    /// fetch from the origin and are `SET` as a second pipeline, whose
    /// replies are awaited unless the `SET`s ride along with the next batch.
    fn complete(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        self.sets_done(sh, st)?;
        self.be.recv(self.flight.len(), &mut self.out)?;
        let get_ns = self.sent_at.map_or(0, |t| ns(t.elapsed()));
        check(&self.out)?;
        self.items.clear();
        let mut hits = 0;
        for (p, r) in self.flight.iter().zip(&self.out) {
            if matches!(r, Ok(Light::Bulk(_))) {
                hits += 1;
                if let Some(l1) = &mut self.l1 {
                    l1.admit_from_l2(p.key, p.size, p.time, p.vtime, p.ttl);
                }
            } else {
                st.c.misses += 1;
                st.c.bytes_missed += u64::from(p.size);
                let o = self.origin.fetch(p.key, p.size).map_err(Fail::Origin)?;
                st.origin_ns += o;
                self.set_wait.push(get_ns + o);
                self.items.push((p.kidx, Kind::Set(p.size, p.px)));
            }
        }
        st.c.hits += hits;
        st.l2_hits += hits;
        if sh.timed && hits > 0 {
            // Every hit of the batch waited the same round trip.
            st.l2.saturating_record_n(get_ns, hits);
        }
        if !self.items.is_empty() {
            self.set_misses(sh, st)?;
        }
        self.flight.clear();
        self.fkb.clear();
        Ok(())
    }

    /// `SET`s the misses of the batch in flight (in `items`), and admits
    /// them into the L1 once their `SET`s are answered.
    fn set_misses(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        let max = self.items.iter().map(|(_, k)| match k {
            Kind::Set(s, _) => *s,
            _ => 0,
        });
        let max = max.max().unwrap_or(0);
        self.ensure_value(max);
        self.sets_at = Instant::now();
        let ops = Ops {
            keys: &self.fkb,
            items: &self.items,
            value: &self.value,
            px: sh.px,
        };
        self.sets = self.items.len();
        let ride_along = self.sets_ride_along(sh);
        match &mut self.be {
            // Queued only: they go out with the next batch's gets (or
            // when `sets_done` needs their replies).
            Backend::Single(c) if ride_along => {
                for i in 0..ops.len() {
                    ops.write(i, c);
                }
            }
            be => {
                be.send(&ops, &mut self.out)?;
                self.sets_done(sh, st)?;
            }
        }
        if let Some(l1) = &mut self.l1 {
            // (With an L1 the sets were awaited above.)
            let mut j = 0;
            for p in &self.flight {
                if j < self.items.len() && self.items[j].0 == p.kidx {
                    l1.admit_filled(p.key, p.size, p.time, p.vtime, p.ttl);
                    j += 1;
                }
            }
        }
        Ok(())
    }

    /// Whether the misses' `SET`s go out with the next batch's gets rather
    /// than in a round trip of their own: when the run pipelines (or a
    /// thread drives several connections), on a single server, without an
    /// L1 (which admits a miss only once its `SET` is answered). One round
    /// trip fewer per batch with misses; each key's commands still reach
    /// the server in order, so the hits are the same.
    fn sets_ride_along(&self, sh: &Shared) -> bool {
        (sh.pipeline > 1 || self.defer)
            && self.l1.is_none()
            && matches!(self.be, Backend::Single(_))
    }

    /// Reads the replies of the `SET`s in flight and records their misses'
    /// latency: get round trip + origin + the round trip that carried the
    /// `SET`s.
    fn sets_done(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        if self.sets == 0 {
            return Ok(());
        }
        if let Backend::Single(c) = &mut self.be {
            c.flush()?;
        }
        self.be.recv(self.sets, &mut self.out)?;
        check(&self.out)?;
        st.sets_sent += self.sets as u64;
        st.sets_refused += refused(&self.out);
        let set_ns = ns(self.sets_at.elapsed());
        if sh.timed {
            for w in &self.set_wait {
                st.misses.saturating_record((w + set_ns).min(MAX_NS));
            }
        }
        self.sets = 0;
        self.set_wait.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_ttl_becomes_its_px_divided_by_the_pace_and_capped_by_the_runs() {
        let sh = |px_ms, pace| Shared {
            prefix: b"p:",
            value_size: None,
            px: None,
            px_ms,
            pace,
            pipeline: 1,
            on_write: OnWrite::Update,
            timed: false,
        };
        assert_eq!(sh(None, None).px_of(0.0), 0, "no TTL: the run's PX");
        assert_eq!(sh(None, None).px_of(1.5), 1500);
        assert_eq!(sh(None, None).px_of(1e-6), 1, "never 0 (no TTL)");
        assert_eq!(sh(None, Some(4.0)).px_of(1.0), 250);
        assert_eq!(sh(Some(800), None).px_of(1.0), 800);
        assert_eq!(sh(Some(800), None).px_of(0.5), 500);
    }
}
