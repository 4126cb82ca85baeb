//! The origin of the event mode as a queueing station: at most C fetches in
//! service at once (`--origin-concurrency`, unbounded by default), the
//! others waiting in arrival order (FIFO). It only keeps the queue and its
//! statistics; the simulation ([`super::sim`]) draws service times and
//! schedules completions.

use crate::sim::latency::new_histogram;
use hdrhistogram::Histogram;
use std::collections::VecDeque;

/// The queue in front of the origin and what it saw.
#[derive(Debug)]
pub struct OriginQueue {
    cap: u64,
    busy: u64,
    waiting: VecDeque<u32>,
    /// Fetches issued while counting (after the warm-up).
    pub requests: u64,
    /// Most fetches at the origin at once (in service or waiting), while
    /// counting.
    pub peak: u64,
    /// Time each counted fetch waited before its service began, ns.
    pub waits: Histogram<u64>,
    /// Total service time of counted fetches, ns.
    pub service_ns: u64,
    /// Total wait of counted fetches before service, seconds (the exact
    /// mean; the histogram keeps 3 significant digits).
    pub wait_total_s: f64,
    /// Per timeline window: fetches issued, most waiting, most at the
    /// origin (in service or waiting).
    pub window: [u64; 3],
}

impl OriginQueue {
    /// An idle origin running at most `cap` fetches at once (`None`:
    /// unbounded).
    pub fn new(cap: Option<u64>) -> OriginQueue {
        OriginQueue {
            cap: cap.unwrap_or(u64::MAX),
            busy: 0,
            waiting: VecDeque::new(),
            requests: 0,
            peak: 0,
            waits: new_histogram(),
            service_ns: 0,
            wait_total_s: 0.0,
            window: [0; 3],
        }
    }

    /// Fetches at the origin (in service or waiting).
    pub fn outstanding(&self) -> u64 {
        self.busy + self.waiting.len() as u64
    }

    /// Fetches waiting for a slot.
    pub fn queued(&self) -> u64 {
        self.waiting.len() as u64
    }

    /// A fetch `id` arrives; `true` if it starts at once (a slot is
    /// free), else it waits. `counted` fetches enter the statistics.
    pub fn arrive(&mut self, id: u32, counted: bool) -> bool {
        let start = self.busy < self.cap;
        if start {
            self.busy += 1;
        } else {
            self.waiting.push_back(id);
        }
        let n = self.outstanding();
        let w = &mut self.window;
        w[1] = w[1].max(self.waiting.len() as u64);
        w[2] = w[2].max(n);
        if counted {
            self.requests += 1;
            w[0] += 1;
            self.peak = self.peak.max(n);
        }
        start
    }

    /// A fetch in service finished: the next waiting fetch, if any, takes
    /// its slot (the caller starts it).
    pub fn depart(&mut self) -> Option<u32> {
        match self.waiting.pop_front() {
            Some(id) => Some(id),
            None => {
                self.busy -= 1;
                None
            }
        }
    }

    /// Records a counted fetch's wait before service and its service time.
    pub fn served(&mut self, wait_s: f64, service_ns: u64) {
        self.waits
            .saturating_record((wait_s * 1e9).round().max(0.0) as u64);
        self.service_ns += service_ns;
        self.wait_total_s += wait_s;
    }

    /// Starts the next timeline window: counts from zero, maxima from the
    /// queue as it is now.
    pub fn next_window(&mut self) {
        self.window = [0, self.queued(), self.outstanding()];
    }

    /// Forgets the statistics (the end of the warm-up); the queue stays.
    pub fn reset_stats(&mut self) {
        self.requests = 0;
        self.peak = self.outstanding();
        self.waits.reset();
        self.service_ns = 0;
        self.wait_total_s = 0.0;
        self.next_window();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_c_in_service_and_the_rest_wait_in_arrival_order() {
        let mut q = OriginQueue::new(Some(2));
        assert!(q.arrive(0, true));
        assert!(q.arrive(1, true));
        assert!(!q.arrive(2, true));
        assert!(!q.arrive(3, false));
        assert_eq!(
            (q.outstanding(), q.queued(), q.peak, q.requests),
            (4, 2, 3, 3)
        );
        assert_eq!(q.depart(), Some(2));
        assert_eq!(q.depart(), Some(3));
        assert_eq!(q.depart(), None);
        assert_eq!(q.outstanding(), 1);
        assert_eq!(q.window, [3, 2, 4]);
        let mut u = OriginQueue::new(None);
        assert!((0..1000).all(|i| u.arrive(i, true)));
        assert_eq!(u.peak, 1000);
    }
}
