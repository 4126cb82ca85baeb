//! `--group-by tenant`: one row of counts per tenant beside the run's total.
//!
//! A trace may say whose each request is (Twemcache's client id, an lcs
//! record's tenant, a `tenant` column). The run still replays one cache in
//! one pass; [`Groups`] splits what the loop counts by the tenant of the
//! request counted, so a tenant's row holds its own gets, hits, misses and
//! bytes, and the evictions and expirations its requests caused. The rows
//! add up to the total.

use super::replay::Counters;
use crate::workload::Batch;
use std::collections::BTreeMap;
use std::fmt;

/// What `--group-by` splits a run's counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The request's tenant (client, use case): the trace's tenant column,
    /// 0 for requests without one.
    Tenant,
}

impl GroupBy {
    /// Parses `--group-by`.
    pub fn parse(s: &str) -> Result<GroupBy, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tenant" | "tenants" | "client" | "use-case" | "usecase" => Ok(GroupBy::Tenant),
            _ => Err(format!(
                "unknown grouping '{s}'; valid: tenant (the trace's tenant, client or use-case column)"
            )),
        }
    }

    /// The `group` column of tenant `t`'s row.
    pub(crate) fn label(self, t: u32) -> String {
        format!("{self}={t}")
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupBy::Tenant => "tenant",
        })
    }
}

/// Counts per tenant.
#[derive(Debug, Default, Clone)]
pub(crate) struct Groups {
    by: BTreeMap<u32, Counters>,
}

impl Groups {
    /// Replays `range` of `batch` in runs of requests of one tenant, each
    /// through `replay(range, counters)` with fresh counters, and adds what
    /// each run counted to its tenant and to `total`.
    pub(crate) fn split<E>(
        &mut self,
        batch: &Batch,
        range: std::ops::Range<usize>,
        total: &mut Counters,
        mut replay: impl FnMut(std::ops::Range<usize>, &mut Counters) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut s = range.start;
        while s < range.end {
            let t = batch.tenant(s);
            let mut e = s + 1;
            while e < range.end && batch.tenant(e) == t {
                e += 1;
            }
            let mut c = Counters::default();
            let done = replay(s..e, &mut c);
            *total += c;
            *self.by.entry(t).or_default() += c;
            done?;
            s = e;
        }
        Ok(())
    }

    /// Each tenant's counts, by tenant.
    pub(crate) fn rows(&self) -> impl Iterator<Item = (u32, &Counters)> {
        self.by.iter().map(|(&t, c)| (t, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Op, Request};
    use crate::sim::replay::{replay_batch, ChargeModel};

    #[test]
    fn tenants_rows_add_up_to_the_total_of_one_shared_cache() {
        // Tenant 1 reads keys 1 and 2 twice (2 misses, 2 hits); tenant 2
        // reads them once (hits: the cache is shared) and key 9 twice (a
        // miss, a hit), then writes key 9.
        let reqs = [
            (1, 1),
            (2, 1),
            (1, 2),
            (1, 1),
            (2, 1),
            (2, 2),
            (9, 2),
            (9, 2),
        ];
        let mut b = Batch::new(1.0, 1);
        for (v, &(k, t)) in reqs.iter().enumerate() {
            b.push(&Request::get(k, v as f64), v as u64);
            b.set_last_tenant(t);
        }
        b.push(
            &Request {
                time: 9.0,
                key: 9,
                size: 1,
                op: Op::Set,
            },
            8,
        );
        b.set_last_tenant(2);
        let rules = ChargeModel {
            bytes: false,
            capacity: 10,
        }
        .into();
        let mut lru = crate::policy::lru::Lru::new(10);
        let mut g = Groups::default();
        let mut total = Counters::default();
        g.split(&b, 0..b.len(), &mut total, |r, c| {
            replay_batch(&mut lru, &b, r, 0, None, rules, c);
            Ok::<(), ()>(())
        })
        .unwrap();
        let rows: Vec<(u32, (u64, u64, u64, u64))> = g
            .rows()
            .map(|(t, c)| (t, (c.requests, c.gets, c.hits, c.sets)))
            .collect();
        assert_eq!(rows, vec![(1, (4, 4, 2, 0)), (2, (5, 4, 3, 1))]);
        let mut whole = crate::policy::lru::Lru::new(10);
        let mut c = Counters::default();
        replay_batch(&mut whole, &b, 0..b.len(), 0, None, rules, &mut c);
        assert_eq!(total, c);
        assert_eq!(GroupBy::parse("Tenant"), Ok(GroupBy::Tenant));
        assert!(GroupBy::parse("op").unwrap_err().contains("valid: tenant"));
        assert_eq!(GroupBy::Tenant.label(7), "tenant=7");
    }
}
