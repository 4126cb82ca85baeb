//! `lirs`: Low Inter-reference Recency Set, after Jiang & Zhang, "LIRS: An
//! Efficient Low Inter-reference Recency Set Replacement Policy to Improve
//! Buffer Cache Performance", SIGMETRICS 2002, section 3 (the basic algorithm
//! with stack S and list Q).
//!
//! The cache is split into an LIR part of `c - Lhirs` and an HIR part of
//! `Lhirs = max(1, round(c x hir))` (the paper's 1% default). Blocks are LIR,
//! resident HIR, or non-resident HIR (history only).
//! - Stack S orders LIR blocks and recently seen HIR blocks (resident or not)
//!   by recency; its bottom is always an LIR block: *pruning* removes HIR
//!   blocks from the bottom until an LIR block is there.
//! - Queue Q holds the resident HIR blocks; its front is the next victim.
//!
//! Per access of X (the paper's three cases):
//! - LIR (hit): X goes to the top of S; if it was at the bottom, S is pruned.
//! - resident HIR (hit): X goes to the top of S. If it was in S it becomes
//!   LIR and leaves Q, and the bottom LIR block of S becomes HIR and goes to
//!   the end of Q (then prune). If it was not in S it stays HIR and moves to
//!   the end of Q.
//! - miss: the front of Q is evicted (it stays in S as non-resident HIR if it
//!   was there). Then X goes to the top of S: if X was in S (a non-resident
//!   HIR block) it becomes LIR and the bottom LIR block is demoted to the end
//!   of Q (then prune); otherwise it becomes a resident HIR block at the end
//!   of Q. While the LIR part is not full (warm-up), a new block becomes LIR.
//!
//! Bounded history (`ghost`, default 2): the paper bounds S only implicitly
//! (and discusses limiting it in its section 5.3); like Caffeine's simulator
//! (non-resident multiplier 2) at most `ghost x c` non-resident HIR blocks are
//! kept in S. Past the bound, the block that became non-resident the longest
//! ago is dropped from S (it never sits at the bottom, which is LIR).
//!
//! Parameters: `hir=0.01`, `ghost=2`. With byte capacities the parts are
//! measured in bytes: LIR blocks are demoted from the bottom of S while the
//! LIR part exceeds its share, and a miss evicts from Q (demoting LIR blocks
//! when Q is empty) until the object fits.

use super::common::{LinkedSlab, List};
use super::{Access, Evictions, Params, Policy, SpecError};
use crate::request::Key;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Lir,
    /// Resident HIR (also in Q).
    Hir,
    /// Non-resident HIR (also on the history list).
    Ghost,
}

#[derive(Debug, Clone, Copy)]
struct SEntry {
    state: State,
    charge: u32,
}

#[derive(Debug, Clone, Copy)]
struct QEntry {
    /// Resident (on Q) or not (on the history list).
    resident: bool,
    charge: u32,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Lirs {
    /// Stack S: bottom at the front, top at the back.
    s: LinkedSlab<SEntry>,
    s_list: List,
    /// Resident HIR blocks (list `q`) and non-resident HIR blocks of S in the
    /// order they became non-resident (list `ghosts`).
    q: LinkedSlab<QEntry>,
    q_list: List,
    ghosts: List,
    lir_count: usize,
    lir_used: u64,
    hir_used: u64,
    lir_cap: u64,
    capacity: u64,
    max_ghosts: usize,
}

impl Lirs {
    pub fn new(capacity: u64, hir: f64, ghost: f64) -> Lirs {
        let hir_cap = ((capacity as f64 * hir).round() as u64).clamp(1.min(capacity), capacity);
        let entries = capacity.min(1 << 24) as usize;
        Lirs {
            s: LinkedSlab::with_capacity(entries * 2),
            s_list: List::default(),
            q: LinkedSlab::with_capacity(entries / 8 + 16),
            q_list: List::default(),
            ghosts: List::default(),
            lir_count: 0,
            lir_used: 0,
            hir_used: 0,
            lir_cap: capacity - hir_cap,
            capacity,
            max_ghosts: (capacity as f64 * ghost).min(1e12) as usize,
        }
    }

    pub fn from_params(p: &mut Params, capacity: u64) -> Result<Lirs, SpecError> {
        let hir = p.f64_in("hir", 0.01, 0.0, 1.0)?;
        let ghost = p.f64_in("ghost", 2.0, 0.0, 1000.0)?;
        Ok(Lirs::new(capacity, hir, ghost))
    }

    /// Removes HIR blocks from the bottom of S until an LIR block is there.
    fn prune(&mut self) {
        while let Some(b) = self.s_list.front() {
            let e = *self.s.data(b);
            if e.state == State::Lir {
                break;
            }
            self.s.unlink(&mut self.s_list, b);
            let key = self.s.remove(b);
            if e.state == State::Ghost {
                let qi = self.q.find(key).expect("ghost on the history list");
                self.q.unlink(&mut self.ghosts, qi);
                self.q.remove(qi);
            }
        }
    }

    /// Turns the bottom LIR block of S into a resident HIR block at the end
    /// of Q, then prunes. S must hold an LIR block.
    fn demote_bottom(&mut self) {
        self.prune();
        let b = self.s_list.front().expect("an LIR block in S");
        let charge = self.s.data(b).charge;
        self.s.unlink(&mut self.s_list, b);
        let key = self.s.remove(b);
        self.lir_count -= 1;
        self.lir_used -= u64::from(charge);
        let qi = self.q.insert(
            key,
            QEntry {
                resident: true,
                charge,
            },
        );
        self.q.push_back(&mut self.q_list, qi);
        self.hir_used += u64::from(charge);
        self.prune();
    }

    fn balance_lir(&mut self) {
        while self.lir_used > self.lir_cap && self.lir_count > 0 {
            self.demote_bottom();
        }
    }

    /// Evicts the front of Q; it stays in S as non-resident if it is there.
    fn evict_front(&mut self) {
        let qi = self.q_list.front().expect("non-empty Q");
        self.q.unlink(&mut self.q_list, qi);
        self.hir_used -= u64::from(self.q.data(qi).charge);
        let key = self.q.key(qi);
        match self.s.find(key) {
            Some(si) => {
                self.s.data_mut(si).state = State::Ghost;
                self.q.data_mut(qi).resident = false;
                self.q.push_back(&mut self.ghosts, qi);
            }
            None => {
                self.q.remove(qi);
            }
        }
    }

    fn trim_ghosts(&mut self) {
        while self.ghosts.len() > self.max_ghosts {
            let qi = self.ghosts.front().expect("non-empty");
            self.q.unlink(&mut self.ghosts, qi);
            let key = self.q.remove(qi);
            let si = self.s.find(key).expect("ghost in S");
            self.s.unlink(&mut self.s_list, si);
            self.s.remove(si);
        }
    }

    /// (LIR keys, resident HIR keys in Q order, S from bottom to top as
    /// (key, state letter)). For tests.
    pub fn state(&self) -> (Vec<Key>, Vec<Key>, Vec<(Key, char)>) {
        let s: Vec<(Key, char)> = self
            .s
            .iter(&self.s_list)
            .map(|i| {
                let c = match self.s.data(i).state {
                    State::Lir => 'L',
                    State::Hir => 'H',
                    State::Ghost => 'G',
                };
                (self.s.key(i), c)
            })
            .collect();
        let mut lir: Vec<Key> = s.iter().filter(|e| e.1 == 'L').map(|e| e.0).collect();
        lir.sort_unstable();
        let q = self.q.iter(&self.q_list).map(|i| self.q.key(i)).collect();
        (lir, q, s)
    }

    #[cfg(test)]
    pub fn validate(&self) {
        let n_s = self.s.check_list(&self.s_list);
        assert_eq!(n_s, self.s.len());
        let n_q = self.q.check_list(&self.q_list) + self.q.check_list(&self.ghosts);
        assert_eq!(n_q, self.q.len());
        if let Some(b) = self.s_list.front() {
            assert_eq!(self.s.data(b).state, State::Lir, "bottom of S is LIR");
        }
        let (mut lir_n, mut lir_used) = (0, 0);
        for i in self.s.iter(&self.s_list) {
            let e = self.s.data(i);
            let key = self.s.key(i);
            match e.state {
                State::Lir => {
                    lir_n += 1;
                    lir_used += u64::from(e.charge);
                    assert!(self.q.find(key).is_none());
                }
                State::Hir => assert!(self.q.data(self.q.find(key).unwrap()).resident),
                State::Ghost => assert!(!self.q.data(self.q.find(key).unwrap()).resident),
            }
        }
        assert_eq!((lir_n, lir_used), (self.lir_count, self.lir_used));
        let hir: u64 = self
            .q
            .iter(&self.q_list)
            .map(|i| u64::from(self.q.data(i).charge))
            .sum();
        assert_eq!(hir, self.hir_used);
        for i in self.q.iter(&self.ghosts) {
            let si = self.s.find(self.q.key(i)).expect("ghost in S");
            assert_eq!(self.s.data(si).state, State::Ghost);
        }
        assert!(self.ghosts.len() <= self.max_ghosts);
        assert!(self.lir_used <= self.lir_cap);
        assert!(self.used() <= self.capacity);
    }
}

impl Policy for Lirs {
    fn get(&mut self, a: &Access) -> bool {
        if let Some(si) = self.s.find(a.key) {
            match self.s.data(si).state {
                State::Lir => {
                    let was_bottom = self.s_list.front() == Some(si);
                    self.s.move_to_back(&mut self.s_list, si);
                    if was_bottom {
                        self.prune();
                    }
                    true
                }
                State::Hir => {
                    let charge = self.s.data(si).charge;
                    self.s.data_mut(si).state = State::Lir;
                    self.s.move_to_back(&mut self.s_list, si);
                    let qi = self.q.find(a.key).expect("resident HIR in Q");
                    self.q.unlink(&mut self.q_list, qi);
                    self.q.remove(qi);
                    self.hir_used -= u64::from(charge);
                    self.lir_used += u64::from(charge);
                    self.lir_count += 1;
                    self.balance_lir();
                    self.prune();
                    true
                }
                State::Ghost => false,
            }
        } else if let Some(qi) = self.q.find(a.key) {
            // Resident HIR not in S (a ghost is always in S).
            let charge = self.q.data(qi).charge;
            self.q.move_to_back(&mut self.q_list, qi);
            let si = self.s.insert(
                a.key,
                SEntry {
                    state: State::Hir,
                    charge,
                },
            );
            self.s.push_back(&mut self.s_list, si);
            // Without any LIR block S is empty (all of it would be pruned).
            self.prune();
            true
        } else {
            false
        }
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        while self.used() + a.charge > self.capacity {
            if !self.q_list.is_empty() {
                self.evict_front();
                ev.evicted += 1;
            } else if self.lir_count > 0 {
                self.demote_bottom();
            } else {
                break;
            }
        }
        let charge = a.charge as u32;
        match self.s.find(a.key) {
            Some(si) => {
                // A non-resident HIR block in S: its IRR beats the bottom LIR
                // block's recency, so it becomes LIR.
                debug_assert_eq!(self.s.data(si).state, State::Ghost);
                let qi = self.q.find(a.key).expect("ghost on the history list");
                self.q.unlink(&mut self.ghosts, qi);
                self.q.remove(qi);
                *self.s.data_mut(si) = SEntry {
                    state: State::Lir,
                    charge,
                };
                self.s.move_to_back(&mut self.s_list, si);
                self.lir_count += 1;
                self.lir_used += a.charge;
                self.balance_lir();
                self.prune();
            }
            None if self.lir_used + a.charge <= self.lir_cap => {
                let si = self.s.insert(
                    a.key,
                    SEntry {
                        state: State::Lir,
                        charge,
                    },
                );
                self.s.push_back(&mut self.s_list, si);
                self.lir_count += 1;
                self.lir_used += a.charge;
            }
            None => {
                let si = self.s.insert(
                    a.key,
                    SEntry {
                        state: State::Hir,
                        charge,
                    },
                );
                self.s.push_back(&mut self.s_list, si);
                let qi = self.q.insert(
                    a.key,
                    QEntry {
                        resident: true,
                        charge,
                    },
                );
                self.q.push_back(&mut self.q_list, qi);
                self.hir_used += a.charge;
                self.prune();
            }
        }
        self.trim_ghosts();
    }

    fn remove(&mut self, key: Key) -> bool {
        if let Some(si) = self.s.find(key) {
            let e = *self.s.data(si);
            match e.state {
                State::Ghost => return false,
                State::Lir => {
                    self.s.unlink(&mut self.s_list, si);
                    self.s.remove(si);
                    self.lir_count -= 1;
                    self.lir_used -= u64::from(e.charge);
                    self.prune();
                    return true;
                }
                State::Hir => {
                    self.s.unlink(&mut self.s_list, si);
                    self.s.remove(si);
                }
            }
        }
        match self.q.find(key) {
            Some(qi) if self.q.data(qi).resident => {
                self.q.unlink(&mut self.q_list, qi);
                self.hir_used -= u64::from(self.q.data(qi).charge);
                self.q.remove(qi);
                self.prune();
                true
            }
            _ => false,
        }
    }

    fn len(&self) -> usize {
        self.lir_count + self.q_list.len()
    }

    fn used(&self) -> u64 {
        self.lir_used + self.hir_used
    }

    fn heap_bytes(&self) -> usize {
        self.s.heap_bytes() + self.q.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn step(p: &mut Lirs, k: Key, t: u64) -> bool {
        let a = Access::simple(k, t);
        let hit = p.get(&a);
        if !hit {
            p.insert(&a, &mut Evictions::default());
        }
        p.validate();
        hit
    }

    #[test]
    fn hand_worked_sequence() {
        // c = 3 with Llirs = 2, Lhirs = 1 (hir = 1/3), as in the paper's
        // example of section 3.3.
        let mut p = Lirs::new(3, 0.34, 2.0);
        let seq = [1, 2, 3, 1, 4, 3, 2, 4, 1, 3];
        let mut hits = vec![];
        for (t, &k) in seq.iter().enumerate() {
            hits.push(step(&mut p, k, t as u64));
            if t == 5 {
                // 3 was a ghost in S: it became LIR and demoted 2, the bottom.
                assert_eq!(
                    p.state(),
                    (vec![1, 3], vec![2], vec![(1, 'L'), (4, 'G'), (3, 'L')])
                );
            }
            if t == 7 {
                assert_eq!(
                    p.state(),
                    (vec![3, 4], vec![1], vec![(3, 'L'), (2, 'G'), (4, 'L')])
                );
            }
        }
        assert_eq!(
            hits,
            [false, false, false, true, false, false, true, false, true, true]
        );
        // The last access of 3 (the bottom) pruned the ghost 2.
        assert_eq!(
            p.state(),
            (vec![3, 4], vec![1], vec![(4, 'L'), (1, 'H'), (3, 'L')])
        );
    }

    #[test]
    fn a_scan_does_not_flush_the_lir_set() {
        // LIR blocks 1..=9 stay resident through a long one-time scan; LRU of
        // the same size would have lost all of them.
        let mut p = Lirs::new(10, 0.1, 2.0);
        let mut t = 0;
        for _ in 0..2 {
            for k in 1..=9 {
                step(&mut p, k, t);
                t += 1;
            }
        }
        for k in 1000..1100 {
            assert!(!step(&mut p, k, t));
            t += 1;
        }
        for k in 1..=9 {
            assert!(step(&mut p, k, t), "{k} still resident");
            t += 1;
        }
        // History is bounded: at most 2 x c non-resident blocks.
        assert!(p.ghosts.len() <= 20);
    }

    /// LIRS from its definitions, with lists instead of a stack: a block is
    /// "in S" when it is LIR or was last accessed after the least recently
    /// accessed LIR block; pruning is implicit. Unbounded history.
    struct Naive {
        c: usize,
        lir_cap: usize,
        st: HashMap<Key, (char, u64)>,
        q: Vec<Key>,
    }

    impl Naive {
        fn min_lir(&self) -> u64 {
            self.st
                .values()
                .filter(|v| v.0 == 'L')
                .map(|v| v.1)
                .min()
                .unwrap_or(u64::MAX)
        }
        fn in_s(&self, k: Key) -> bool {
            self.st
                .get(&k)
                .is_some_and(|v| v.0 == 'L' || v.1 > self.min_lir())
        }
        fn demote_excess(&mut self) {
            while self.st.values().filter(|v| v.0 == 'L').count() > self.lir_cap {
                let m = self.min_lir();
                let (&k, _) = self
                    .st
                    .iter()
                    .find(|(_, v)| v.0 == 'L' && v.1 == m)
                    .unwrap();
                self.st.get_mut(&k).unwrap().0 = 'H';
                self.q.push(k);
            }
        }
        fn access(&mut self, k: Key, t: u64) -> bool {
            let cur = self.st.get(&k).map(|v| v.0);
            let in_s = self.in_s(k);
            match cur {
                Some('L') => {
                    self.st.insert(k, ('L', t));
                    true
                }
                Some('H') => {
                    if in_s {
                        self.st.insert(k, ('L', t));
                        self.q.retain(|&x| x != k);
                        self.demote_excess();
                    } else {
                        self.st.insert(k, ('H', t));
                        self.q.retain(|&x| x != k);
                        self.q.push(k);
                    }
                    true
                }
                _ => {
                    let resident = self.st.values().filter(|v| v.0 != 'G').count();
                    if resident == self.c {
                        let v = self.q.remove(0);
                        self.st.get_mut(&v).unwrap().0 = 'G';
                    }
                    let lirs = self.st.values().filter(|v| v.0 == 'L').count();
                    if cur == Some('G') && self.in_s(k) {
                        self.st.insert(k, ('L', t));
                        self.demote_excess();
                    } else if lirs < self.lir_cap {
                        self.st.insert(k, ('L', t));
                    } else {
                        self.st.insert(k, ('H', t));
                        self.q.push(k);
                    }
                    false
                }
            }
        }
    }

    #[test]
    fn matches_the_naive_model_on_random_streams() {
        let mut x = 7u64;
        for round in 0..300u64 {
            let c = 1 + round % 7;
            let hir = [0.01, 0.3, 0.5][(round % 3) as usize];
            let mut p = Lirs::new(c, hir, 1000.0);
            let mut n = Naive {
                c: c as usize,
                lir_cap: p.lir_cap as usize,
                st: HashMap::new(),
                q: vec![],
            };
            let keys = 2 + round % 13;
            for t in 0..200 {
                x = crate::rng::splitmix(x);
                let k = x % keys;
                assert_eq!(
                    step(&mut p, k, t),
                    n.access(k, t),
                    "round {round} t {t} key {k}"
                );
                assert_eq!(p.state().1, n.q, "Q at round {round} t {t}");
            }
        }
    }

    #[test]
    fn byte_charges_fit() {
        let mut p = Lirs::new(100, 0.1, 2.0);
        let mut ev = Evictions::default();
        for (t, (k, size)) in [(1, 40), (2, 40), (3, 30), (1, 40), (4, 60), (5, 90)]
            .into_iter()
            .enumerate()
        {
            let a = Access {
                charge: size,
                ..Access::simple(k, t as u64)
            };
            if !p.get(&a) {
                p.insert(&a, &mut ev);
            }
            p.validate();
        }
        assert!(p.used() <= 100);
        assert!(p.get(&Access {
            charge: 90,
            ..Access::simple(5, 9)
        }));
    }
}
