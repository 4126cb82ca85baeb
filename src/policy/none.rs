//! `none`: no cache at all. Every get is a miss and goes to the origin; it is
//! the baseline every other strategy is compared against.

use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

/// Stores nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCache;

impl Register for NoCache {
    const INFO: PolicyInfo = PolicyInfo {
        name: "none",
        summary: "no cache: every get is a miss (the baseline)",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, _ctx: &BuildCtx) -> Result<NoCache, SpecError> {
        Ok(NoCache)
    }
}

impl Policy for NoCache {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    fn get(&mut self, _a: &Access) -> bool {
        false
    }
    fn insert(&mut self, _a: &Access, _ev: &mut Evictions) {}
    fn remove(&mut self, _key: Key) -> bool {
        false
    }
    fn len(&self) -> usize {
        0
    }
    fn used(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_hits() {
        let mut c = NoCache;
        let mut ev = Evictions::default();
        for k in [1, 1, 1] {
            let a = Access::simple(k, 0);
            assert!(!c.get(&a));
            c.insert(&a, &mut ev);
        }
        assert_eq!(c.len(), 0);
        assert_eq!(ev, Evictions::default());
    }
}
