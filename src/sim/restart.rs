//! Restarts (`--restart-every`, `--rolling`): a deploy restarts the
//! application, and every in-process cache starts over empty, while an
//! external cache (a shared cache, the L2 of a tiered fleet, a server) keeps
//! its contents.
//!
//! The schedule is in request time (`30s`: from the first request's time) or
//! in requests (`10k`: stream positions, warm-up included). Restart number
//! `r` (from 1) falls at `r x interval / S`, where `S` is 1, or the number of
//! instances with `--rolling`; it restarts every instance at once, or, when
//! rolling, instance `(r - 1) mod K` alone: instance `i` restarts at
//! `(i + 1) / K` of each interval, one instance at a time, each once per
//! interval. A restart happens before the first request at or past its point.
//! Several points with no request between them are one restart each of the
//! instances they name (an empty cache emptied again changes nothing): a
//! long quiet gap in a trace restarts each instance at most once.
//!
//! The replay loops never see this: [`RestartClock::cut`] cuts the ranges
//! handed to them at the restart points, as windows are cut, so a run
//! without `--restart-every` costs nothing more. What a restart empties is
//! the caller's (a rebuilt policy, the same constructor as a cold cache; its
//! TTL deadlines dropped; versions at the origin kept, since a restart loses
//! copies, not writes).

use crate::units::{parse_count, parse_duration};
use crate::workload::Batch;

/// `--restart-every`: an interval in request time or in requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RestartEvery {
    /// Every N requests of the stream.
    Requests(u64),
    /// Every so many seconds of request time.
    Seconds(f64),
}

impl RestartEvery {
    /// Parses `30s`, `5m`, `1.5h` (a duration: a unit is required; `m` is
    /// minutes) or `10k`, `5M`, `5000` (a number of requests; `M` is
    /// millions).
    pub(crate) fn parse(s: &str) -> Result<RestartEvery, String> {
        let t = s.trim();
        let accepted =
            "expected a duration of request time (30s, 5m, 1h) or a number of requests (10000, 10k, 1M)";
        let count = t
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_digit() || "kKMgGB".contains(c));
        if count {
            return match parse_count(t) {
                Ok(0) => Err(format!(
                    "invalid interval '{s}': must be more than 0; {accepted}"
                )),
                Ok(n) => Ok(RestartEvery::Requests(n)),
                Err(_) => Err(format!("invalid interval '{s}': {accepted}")),
            };
        }
        match parse_duration(t) {
            Ok(d) if d > 0.0 => Ok(RestartEvery::Seconds(d)),
            Ok(_) => Err(format!(
                "invalid interval '{s}': must be more than 0; {accepted}"
            )),
            Err(_) => Err(format!("invalid interval '{s}': {accepted}")),
        }
    }

    /// How the `restart_every` column writes the interval, so that
    /// [`RestartEvery::parse`] reads it back exactly: a number of requests
    /// in full (`100000`), a duration in its largest whole unit (`1h`,
    /// `90s`), or in seconds with every digit when rounding would change it.
    pub fn label(&self) -> String {
        match *self {
            RestartEvery::Requests(n) => n.to_string(),
            RestartEvery::Seconds(d) => {
                let short = crate::units::format_duration(d);
                if crate::units::parse_duration(&short).is_ok_and(|v| v == d) {
                    short
                } else {
                    format!("{d}s")
                }
            }
        }
    }
}

/// `--restart-every` with `--rolling`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Restarts {
    /// The interval.
    pub every: RestartEvery,
    /// One instance at a time (`--rolling`) rather than all at once.
    pub rolling: bool,
}

/// Who a restart empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Every instance (a single cache's run has one).
    All,
    /// Instance `i` alone (`--rolling`).
    Instance(usize),
}

/// The restart schedule of one run, as the stream goes by.
#[derive(Debug, Clone)]
pub(crate) struct RestartClock {
    every: RestartEvery,
    /// Points per interval: the instances when rolling, else 1.
    slots: u64,
    /// The next restart's number (from 1).
    next: u64,
    /// The first request's time, once seen.
    t0: Option<f64>,
}

impl RestartClock {
    /// The schedule of `r` over `instances` instances.
    pub(crate) fn new(r: Restarts, instances: usize) -> RestartClock {
        RestartClock {
            every: r.every,
            slots: if r.rolling {
                instances.max(1) as u64
            } else {
                1
            },
            next: 1,
            t0: None,
        }
    }

    /// Whether restart number `n` is due before the request at stream
    /// position `pos` and time `time`.
    #[inline]
    fn due(&self, n: u64, pos: u64, time: f64) -> bool {
        match self.every {
            RestartEvery::Requests(every) => {
                let point = (u128::from(n) * u128::from(every)).div_ceil(u128::from(self.slots));
                u128::from(pos) >= point
            }
            RestartEvery::Seconds(d) => {
                time >= self.t0.unwrap_or(time) + n as f64 * d / self.slots as f64
            }
        }
    }

    /// The first index `j` of `i..end` (request `j` of `batch` is stream
    /// position `vtime_base + j`) before which a restart is due, or `end`.
    pub(crate) fn cut(&mut self, batch: &Batch, i: usize, end: usize, vtime_base: u64) -> usize {
        if i >= end {
            return end;
        }
        match self.every {
            RestartEvery::Requests(every) => {
                let point =
                    (u128::from(self.next) * u128::from(every)).div_ceil(u128::from(self.slots));
                let pos = u128::from(vtime_base + i as u64);
                if point <= pos {
                    i
                } else {
                    (i as u128 + (point - pos)).min(end as u128) as usize
                }
            }
            RestartEvery::Seconds(_) => {
                let time = |j: usize| batch.request(j, vtime_base + j as u64).time;
                if self.t0.is_none() {
                    self.t0 = Some(time(i));
                }
                (i..end)
                    .find(|&j| self.due(self.next, vtime_base + j as u64, time(j)))
                    .unwrap_or(end)
            }
        }
    }

    /// The restarts due before the request at `pos` and `time` (at least
    /// one, [`RestartClock::cut`] having stopped there): calls `restart` once
    /// per instance emptied, or once with [`Who::All`].
    pub(crate) fn fire(&mut self, pos: u64, time: f64, mut restart: impl FnMut(Who)) {
        let first = self.next;
        while self.due(self.next, pos, time) {
            self.next += 1;
            if self.next - first >= self.slots {
                // Every instance has been named: the rest of the points
                // before this request would empty empty caches again.
                let skip = self.points_before(pos, time);
                self.next = self.next.max(skip);
                break;
            }
        }
        if self.slots == 1 {
            restart(Who::All);
            return;
        }
        let named = (self.next - first).min(self.slots);
        for r in first..first + named {
            restart(Who::Instance(((r - 1) % self.slots) as usize));
        }
    }

    /// The number of the first restart not yet due at `pos` and `time`.
    fn points_before(&self, pos: u64, time: f64) -> u64 {
        let per = match self.every {
            RestartEvery::Requests(every) => {
                (u128::from(pos) * u128::from(self.slots) / u128::from(every)) as u64
            }
            RestartEvery::Seconds(d) => {
                let t0 = self.t0.unwrap_or(time);
                ((time - t0) * self.slots as f64 / d).floor().max(0.0) as u64
            }
        };
        // Rounding: step to the exact first point not due.
        let mut n = per.saturating_sub(1).max(1);
        while self.due(n, pos, time) {
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: u64) -> Batch {
        let mut b = Batch::new(1.0, 1);
        b.keys = (0..n).collect();
        b
    }

    /// The positions of every restart over `n` requests fed in `pieces`.
    fn schedule(r: Restarts, k: usize, b: &Batch, pieces: &[usize]) -> Vec<(u64, Who)> {
        let mut c = RestartClock::new(r, k);
        let mut out = Vec::new();
        let mut start = 0;
        for &end in pieces {
            let mut i = start;
            loop {
                let j = c.cut(b, i, end, 0);
                if j == end {
                    break;
                }
                let t = b.request(j, j as u64).time;
                c.fire(j as u64, t, |w| out.push((j as u64, w)));
                i = j;
            }
            start = end;
        }
        out
    }

    #[test]
    fn parses_durations_and_counts_and_refuses_zero() {
        assert_eq!(
            RestartEvery::parse("10k").unwrap(),
            RestartEvery::Requests(10_000)
        );
        assert_eq!(
            RestartEvery::parse("30s").unwrap(),
            RestartEvery::Seconds(30.0)
        );
        assert_eq!(
            RestartEvery::parse("5m").unwrap(),
            RestartEvery::Seconds(300.0)
        );
        assert_eq!(
            RestartEvery::parse("2M").unwrap(),
            RestartEvery::Requests(2_000_000)
        );
        assert_eq!(
            RestartEvery::parse("500ms").unwrap(),
            RestartEvery::Seconds(0.5)
        );
        for (given, label) in [
            ("10k", "10000"),
            ("1h", "1h"),
            ("90m", "90m"),
            ("500ms", "500ms"),
            ("1.23456789s", "1.23456789s"),
        ] {
            let every = RestartEvery::parse(given).unwrap();
            assert_eq!(every.label(), label, "{given}");
            assert_eq!(RestartEvery::parse(label).unwrap(), every, "{given}");
        }
        for bad in ["0", "0s", "soon", "-5", ""] {
            let e = RestartEvery::parse(bad).unwrap_err();
            assert!(e.contains("30s") && e.contains("10k"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_n_requests_restarts_at_multiples_of_n_whatever_the_pieces() {
        let b = batch(1000);
        let r = Restarts {
            every: RestartEvery::Requests(300),
            rolling: false,
        };
        let want = vec![(300, Who::All), (600, Who::All), (900, Who::All)];
        assert_eq!(schedule(r, 1, &b, &[1000]), want);
        assert_eq!(schedule(r, 1, &b, &[7, 300, 301, 650, 1000]), want);
    }

    #[test]
    fn rolling_restarts_one_instance_at_each_kth_of_the_interval() {
        let b = batch(1000);
        let r = Restarts {
            every: RestartEvery::Requests(400),
            rolling: true,
        };
        let got = schedule(r, 4, &b, &[1000]);
        let want: Vec<(u64, Who)> = (1..=9u64)
            .map(|n| (n * 100, Who::Instance(((n - 1) % 4) as usize)))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn request_time_restarts_from_the_first_request_and_a_gap_restarts_each_instance_once() {
        let mut b = Batch::new(1.0, 1);
        b.keys = vec![1; 6];
        b.times = vec![100.0, 105.0, 110.0, 111.0, 500.0, 501.0];
        let r = Restarts {
            every: RestartEvery::Seconds(10.0),
            rolling: false,
        };
        assert_eq!(schedule(r, 1, &b, &[6]), vec![(2, Who::All), (4, Who::All)]);
        let r = Restarts { rolling: true, ..r };
        // Points every 5 s: 105 (instance 0), 110 (1), 115, 120, ... past
        // 111: the gap to 500 names both instances once.
        assert_eq!(
            schedule(r, 2, &b, &[6]),
            vec![
                (1, Who::Instance(0)),
                (2, Who::Instance(1)),
                (4, Who::Instance(0)),
                (4, Who::Instance(1)),
            ]
        );
        // After the gap the schedule goes on from where it is: 505 next.
        let mut c = RestartClock::new(r, 2);
        c.t0 = Some(100.0);
        c.fire(4, 500.0, |_| {});
        assert!(!c.due(c.next, 5, 504.9) && c.due(c.next, 5, 505.0));
    }
}
