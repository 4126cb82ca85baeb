//! `memcached-sim`: memcached 1.6's memory and eviction modelled in-process,
//! to run at simulation speed where the `memcached-lru` backend measures a
//! real server (issue 19).
//!
//! Follows memcached 1.6.18 with its defaults (`slabs.c`: `slabs_init`,
//! `slabs_clsid`, `do_slabs_newslab`, `do_slabs_alloc`; `items.c`:
//! `do_item_alloc`, `do_item_alloc_pull`, `lru_pull_tail`, `do_item_bump`,
//! `do_item_update`, `lru_maintainer_juggle`; `memcached.c`: the settings
//! defaults; `memcached.h`: the item header):
//!
//! - **Item size.** An item takes `ITEM_ntotal` bytes: the 48-byte header
//!   (`sizeof(item)` on 64-bit), the 8-byte CAS, the key and its NUL, the
//!   value and its `\r\n` (flags are 0, so no flags field). The key is the
//!   one the real backend sends, `cachesim:` + 16 hex digits + `:` + the
//!   decimal key: `prefix` bytes (26) + the key's decimal digits. The value
//!   length is the access's charge, so the policy needs a **byte capacity**
//!   (`-c 4MiB`); the runner refuses a count capacity for it
//!   ([`Register::BYTES_ONLY`]), since with a charge of 1 per object it
//!   could not know any size.
//! - **Slab classes.** Chunk sizes start at 96 bytes (header + `-n 48`),
//!   grow by the factor 1.25 (truncated to whole bytes) and are aligned to
//!   8, up to the last class, whose chunks are `slab_chunk_max` (512 KiB).
//!   An item goes to the smallest class whose chunks hold it. Items above
//!   `slab_chunk_max` (values above about 512 KiB), which memcached stores
//!   as chunked items spread over several classes, are not modelled: they
//!   are not stored (as memcached does for items above `-I`, 1 MiB).
//! - **Pages.** Memory is taken in 1 MiB pages, on demand, by the class that
//!   has no free chunk, while the pages taken plus one more fit in the
//!   limit; as in memcached, a class that has no page yet always gets its
//!   first one, even beyond the limit. After that a class only reuses its
//!   own chunks: it evicts from its own LRU. Pages are never moved between
//!   classes (the slab automover needs 30 seconds of history before its
//!   first move; see Not modelled).
//! - **Memory limit.** The capacity in bytes is memcached's `-m` times
//!   1 MiB; a limit that is not a whole number of MiB acts as the whole
//!   MiB below it (a page is taken only if it fits entirely). memcached
//!   itself takes whole MiB, refuses `-m 1` (`-I` 1 MiB must be at most
//!   half of it) and reads `-m 0` as no limit; the model takes any
//!   capacity literally.
//! - **Segmented LRU per class.** HOT, WARM and COLD lists. A new item
//!   goes to the head of HOT, not yet FETCHED. A hit marks an item FETCHED;
//!   a hit on a FETCHED item marks it ACTIVE (and, outside COLD, refreshes
//!   its time); ACTIVE is not refreshed by further hits. A hit that makes a
//!   COLD item ACTIVE bumps it to the head of WARM (ACTIVE cleared), as the
//!   LRU maintainer does with the worker's asynchronous bump.
//! - **Allocation** (`do_item_alloc_pull`), up to 10 tries: take a free
//!   chunk of the class (a new page if there is none and one may be
//!   taken); else evict the COLD tail, whatever its flags; if COLD is
//!   empty, move the HOT tail to COLD (to WARM if it is ACTIVE). No free
//!   chunk after 10 tries: the item is not stored (`outofmemory`).
//! - **The LRU maintainer** (`lru_maintainer_juggle`) is a background
//!   thread that juggles every class every millisecond or so while it finds
//!   work. The model runs it deterministically on the class an access
//!   touched, after every access: with `total` the class's item bytes and
//!   `cold_age` the seconds since the COLD tail was last used, until no
//!   list moves (at most 500 rounds): the HOT tail goes to WARM if ACTIVE,
//!   else to COLD if HOT holds more than 20% of `total` or the tail is older
//!   than `0.2 x cold_age`; only if HOT moved nothing, the WARM tail, if
//!   ACTIVE, goes back to the head of WARM, else to COLD if WARM holds more
//!   than 40% or the tail is older than `2 x cold_age`; and an ACTIVE COLD
//!   tail goes to WARM.
//! - **Clock.** memcached's clock counts whole seconds; the model's is the
//!   request time (`--rate`, or the trace's timestamps), in whole seconds.
//!   The age rules above make the split between the lists depend on it: run
//!   the model with `--rate` = the real run's requests per second.
//! - **Writes.** A set allocates the new item first (which may evict, even
//!   the old copy), then unlinks the old copy and links the new one at the
//!   head of HOT, unfetched: a set is not a use.
//!
//! Resident items are [`Policy::len`]; [`Policy::used`] is the sum of the
//! resident items' charges (their value bytes), which the pages' overheads
//! keep below the limit except when first pages were taken beyond it.
//!
//! Parameters: `prefix=26`, the length of the key prefix the backend puts
//! before the decimal key (0 to 230: memcached keys are at most 250 bytes).
//!
//! Not modelled: expiry (items are stored with exptime 0), the LRU crawler
//! (it only reclaims expired items), the slab automover and the global
//! page pool (slab_automove=1 first moves a page after its 30-second
//! window has filled once), chunked items, the juggling of classes not
//! touched by the access (their lists only matter when next touched), and
//! the interleaving of the maintainer with the worker threads.

use super::common::{LinkedSlab, List};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

/// `sizeof(item)` on 64-bit platforms: three pointers, two `rel_time_t`,
/// `nbytes`, `refcount`, `it_flags`, `slabs_clsid`, `nkey`, padded to 8.
pub(crate) const ITEM_HEADER: u64 = 48;
/// The CAS value stored in every item (`-C` not given).
const CAS_BYTES: u64 = 8;
/// `settings.chunk_size`: room for a small key and value in class 1.
const CHUNK_SIZE: u64 = 48;
/// `settings.factor`.
const FACTOR: f64 = 1.25;
/// `CHUNK_ALIGN_BYTES`.
const CHUNK_ALIGN: u64 = 8;
/// `settings.slab_page_size`.
pub(crate) const PAGE: u64 = 1 << 20;
/// `settings.slab_chunk_size_max`: half a page.
const SLAB_CHUNK_MAX: u64 = PAGE / 2;
/// `settings.hot_lru_pct`, `settings.warm_lru_pct`.
const HOT_LRU_PCT: u64 = 20;
const WARM_LRU_PCT: u64 = 40;
/// `settings.hot_max_factor`, `settings.warm_max_factor`.
const HOT_MAX_FACTOR: f64 = 0.2;
const WARM_MAX_FACTOR: f64 = 2.0;
/// `KEY_MAX_LENGTH`.
const KEY_MAX: u64 = 250;

/// The sub-LRUs of a class.
const HOT: usize = 0;
const WARM: usize = 1;
const COLD: usize = 2;

/// `ITEM_FETCHED`, `ITEM_ACTIVE`.
const FETCHED: u8 = 1;
const ACTIVE: u8 = 2;

/// The chunk sizes of memcached's slab classes 1.. for the default settings
/// (`slabs_init` without `-o slab_sizes`).
pub(crate) fn chunk_sizes() -> Vec<u64> {
    let mut out = Vec::new();
    let mut size = ITEM_HEADER + CHUNK_SIZE;
    // memcached stops one class short of 255 at most; the default table has 39.
    while out.len() < 253 && (size as f64) < SLAB_CHUNK_MAX as f64 / FACTOR {
        if size % CHUNK_ALIGN != 0 {
            size += CHUNK_ALIGN - size % CHUNK_ALIGN;
        }
        out.push(size);
        // `size *= factor` on an unsigned int: truncated.
        size = (size as f64 * FACTOR) as u64;
    }
    out.push(SLAB_CHUNK_MAX);
    out
}

/// `ITEM_ntotal` of an item with a `key_len`-byte key and a `value_len`-byte
/// value, flags 0, CAS on.
pub(crate) fn item_total(key_len: u64, value_len: u64) -> u64 {
    ITEM_HEADER + CAS_BYTES + key_len + 1 + value_len + 2
}

/// Decimal digits of `k`.
fn digits(k: Key) -> u64 {
    u64::from(k.checked_ilog10().unwrap_or(0)) + 1
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Index into `classes`.
    class: u8,
    /// HOT, WARM or COLD.
    lru: u8,
    /// FETCHED | ACTIVE.
    flags: u8,
    /// `ITEM_ntotal`.
    ntotal: u32,
    /// The access's charge (value bytes).
    charge: u32,
    /// Last use, whole seconds of request time.
    time: u32,
}

#[derive(Debug, Clone)]
struct Class {
    chunk: u64,
    perslab: u64,
    pages: u64,
    free: u64,
    lists: [List; 3],
    /// `sizes_bytes` of HOT, WARM, COLD.
    bytes: [u64; 3],
}

/// memcached's slab allocator and segmented LRU. See the module
/// documentation.
#[derive(Debug, Clone)]
pub struct MemcachedSim {
    slab: LinkedSlab<Meta>,
    classes: Vec<Class>,
    limit: u64,
    malloced: u64,
    prefix: u64,
    used: u64,
}

impl MemcachedSim {
    /// An empty server with a memory limit of `limit` bytes, keys of
    /// `prefix` bytes + the decimal key.
    pub fn new(limit: u64, prefix: u64) -> MemcachedSim {
        let classes = chunk_sizes()
            .into_iter()
            .map(|chunk| Class {
                chunk,
                perslab: PAGE / chunk,
                pages: 0,
                free: 0,
                lists: [List::default(); 3],
                bytes: [0; 3],
            })
            .collect();
        MemcachedSim {
            slab: LinkedSlab::with_capacity((limit / 128) as usize),
            classes,
            limit,
            malloced: 0,
            prefix,
            used: 0,
        }
    }

    /// `slabs_clsid`: the index of the smallest class holding `ntotal`
    /// bytes, `None` above `slab_chunk_max` (chunked items: not modelled).
    fn class_of(&self, ntotal: u64) -> Option<usize> {
        self.classes.iter().position(|c| ntotal <= c.chunk)
    }

    /// `do_slabs_newslab`: gives class `id` a page if it may take one.
    fn new_page(&mut self, id: usize) -> bool {
        let c = &mut self.classes[id];
        if self.malloced + PAGE > self.limit && c.pages > 0 {
            return false;
        }
        self.malloced += PAGE;
        c.pages += 1;
        c.free += c.perslab;
        true
    }

    /// `do_slabs_alloc`: takes a free chunk of class `id`.
    fn slabs_alloc(&mut self, id: usize) -> bool {
        if self.classes[id].free == 0 {
            self.new_page(id);
        }
        let c = &mut self.classes[id];
        if c.free > 0 {
            c.free -= 1;
            true
        } else {
            false
        }
    }

    fn unlink(&mut self, idx: u32) {
        let m = *self.slab.data(idx);
        let c = &mut self.classes[m.class as usize];
        self.slab.unlink(&mut c.lists[m.lru as usize], idx);
        c.bytes[m.lru as usize] -= u64::from(m.ntotal);
    }

    /// Links `idx` at the head of list `lru` of its class.
    fn link(&mut self, idx: u32, lru: usize) {
        let m = self.slab.data_mut(idx);
        m.lru = lru as u8;
        let (class, ntotal) = (m.class as usize, u64::from(m.ntotal));
        let c = &mut self.classes[class];
        self.slab.push_back(&mut c.lists[lru], idx);
        c.bytes[lru] += ntotal;
    }

    /// Unlinks and frees `idx`: its chunk goes back to its class.
    fn free(&mut self, idx: u32) {
        self.unlink(idx);
        let m = *self.slab.data(idx);
        self.classes[m.class as usize].free += 1;
        self.used -= u64::from(m.charge);
        self.slab.remove(idx);
    }

    /// `lru_pull_tail` with `LRU_PULL_EVICT` on COLD: evicts the tail of
    /// class `id`'s COLD, whatever its flags; whether there was one.
    fn evict_cold_tail(&mut self, id: usize, ev: &mut Evictions) -> bool {
        match self.classes[id].lists[COLD].front() {
            Some(idx) => {
                self.free(idx);
                ev.evicted += 1;
                true
            }
            None => false,
        }
    }

    /// `lru_pull_tail` without eviction on list `lru` of class `id`, with
    /// the `total` bytes and `max_age` the maintainer passes (0 and 0 from
    /// `do_item_alloc_pull`); returns whether it moved an item.
    fn pull_tail(&mut self, id: usize, lru: usize, total: u64, max_age: u32, now: u32) -> bool {
        let Some(idx) = self.classes[id].lists[lru].front() else {
            return false;
        };
        let m = *self.slab.data(idx);
        let to = if m.flags & ACTIVE != 0 {
            // ACTIVE items are rescued: HOT's and COLD's to WARM, WARM's
            // back to WARM's head.
            self.slab.data_mut(idx).flags &= !ACTIVE;
            WARM
        } else if lru == COLD {
            return false;
        } else {
            let limit = match lru {
                HOT if total * HOT_LRU_PCT / 100 != 0 => total * HOT_LRU_PCT / 100,
                _ => total * WARM_LRU_PCT / 100,
            };
            if self.classes[id].bytes[lru] > limit || now.saturating_sub(m.time) > max_age {
                COLD
            } else {
                return false;
            }
        };
        self.unlink(idx);
        self.link(idx, to);
        true
    }

    /// `do_item_alloc_pull`: a chunk of class `id`, evicting as memcached
    /// does; `false` if none after 10 tries.
    fn alloc(&mut self, id: usize, now: u32, ev: &mut Evictions) -> bool {
        for _ in 0..10 {
            if self.slabs_alloc(id) {
                return true;
            }
            if !self.evict_cold_tail(id, ev) {
                self.pull_tail(id, HOT, 0, 0, now);
            }
        }
        false
    }

    /// `lru_maintainer_juggle` of class `id` at `now`.
    fn juggle(&mut self, id: usize, now: u32) {
        let c = &self.classes[id];
        let cold_age = c.lists[COLD]
            .front()
            .map_or(0, |t| now.saturating_sub(self.slab.data(t).time));
        let hot_age = (f64::from(cold_age) * HOT_MAX_FACTOR) as u32;
        let warm_age = (f64::from(cold_age) * WARM_MAX_FACTOR) as u32;
        let total = c.bytes.iter().sum::<u64>();
        for _ in 0..500 {
            let mut more = self.pull_tail(id, HOT, total, hot_age, now)
                || self.pull_tail(id, WARM, total, warm_age, now);
            more |= self.pull_tail(id, COLD, total, 0, now);
            if !more {
                break;
            }
        }
    }

    /// memcached's clock at request time `t`: whole seconds.
    fn clock(t: f64) -> u32 {
        t as u32
    }

    /// Allocates and links a new item for `a`; a resident copy is unlinked
    /// after the allocation, as `do_store_item` replaces it (or when the
    /// allocation fails, as `process_update_command`).
    fn store(&mut self, a: &Access, ev: &mut Evictions) {
        let now = Self::clock(a.time);
        let key_len = self.prefix + digits(a.key);
        let ntotal = item_total(key_len, a.charge);
        let id = match self.class_of(ntotal) {
            Some(id) if key_len <= KEY_MAX => id,
            // Too large (chunked items are not modelled) or key too long:
            // not stored, and, as `process_update_command` does when an
            // allocation fails, the old copy is unlinked.
            _ => {
                if let Some(old) = self.slab.find(a.key) {
                    self.free(old);
                }
                return;
            }
        };
        let ok = self.alloc(id, now, ev);
        if let Some(old) = self.slab.find(a.key) {
            self.free(old);
        }
        if ok {
            let idx = self.slab.insert(
                a.key,
                Meta {
                    class: id as u8,
                    lru: HOT as u8,
                    flags: 0,
                    ntotal: ntotal as u32,
                    charge: a.charge as u32,
                    time: now,
                },
            );
            self.link(idx, HOT);
            self.used += a.charge;
        }
        self.juggle(id, now);
    }

    /// (HOT, WARM, COLD) keys of class index `id`, tail (oldest) first.
    /// For tests.
    #[cfg(test)]
    fn lists(&self, id: usize) -> [Vec<Key>; 3] {
        let c = &self.classes[id];
        c.lists
            .map(|l| self.slab.iter(&l).map(|i| self.slab.key(i)).collect())
    }

    #[cfg(test)]
    fn validate(&self) {
        let mut n = 0;
        let mut used = 0;
        for (id, c) in self.classes.iter().enumerate() {
            let mut items = 0;
            for lru in [HOT, WARM, COLD] {
                n += self.slab.check_list(&c.lists[lru]);
                let mut bytes = 0;
                for i in self.slab.iter(&c.lists[lru]) {
                    let m = self.slab.data(i);
                    assert_eq!((m.class as usize, m.lru as usize), (id, lru));
                    bytes += u64::from(m.ntotal);
                    used += u64::from(m.charge);
                    items += 1;
                }
                assert_eq!(bytes, c.bytes[lru]);
            }
            assert_eq!(items + c.free, c.pages * c.perslab, "class {id}");
        }
        assert_eq!(n, self.slab.len());
        assert_eq!(used, self.used);
        let pages: u64 = self.classes.iter().map(|c| c.pages).sum();
        assert_eq!(pages * PAGE, self.malloced);
    }
}

impl Register for MemcachedSim {
    const INFO: PolicyInfo = PolicyInfo {
        name: "memcached-sim",
        summary: "model of memcached 1.6: slab classes, 1 MiB pages, HOT/WARM/COLD LRU per class",
        params: "prefix=26",
        kind: Kind::Online,
    };
    const BYTES_ONLY: bool = true;

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<MemcachedSim, SpecError> {
        let prefix = p.u64_in("prefix", 26, 0, KEY_MAX - 20)?;
        Ok(MemcachedSim::new(ctx.capacity, prefix))
    }
}

impl Policy for MemcachedSim {
    super::common::prefetch::prefetch_through!(slab);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        let Some(idx) = self.slab.find(a.key) else {
            return false;
        };
        let now = Self::clock(a.time);
        let m = self.slab.data_mut(idx);
        let class = m.class as usize;
        // `do_item_bump`.
        if m.flags & ACTIVE == 0 {
            if m.flags & FETCHED == 0 {
                m.flags |= FETCHED;
            } else if m.lru as usize != COLD {
                m.flags |= ACTIVE;
                m.time = now;
            } else {
                // The asynchronous bump, done by the maintainer
                // (`do_item_update`): to the head of WARM, ACTIVE cleared.
                m.time = now;
                self.unlink(idx);
                self.link(idx, WARM);
            }
        }
        self.juggle(class, now);
        true
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        self.store(a, ev);
    }

    fn set(&mut self, a: &Access, ev: &mut Evictions) {
        self.store(a, ev);
    }

    fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(idx) => {
                self.free(idx);
                true
            }
            None => false,
        }
    }

    fn len(&self) -> usize {
        self.slab.len()
    }

    fn used(&self) -> u64 {
        self.used
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.classes.capacity() * std::mem::size_of::<Class>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slab classes memcached 1.6.18 prints at startup with the default
    /// settings (`memcached -vv -u root -U 0`, "slab class N: chunk size C
    /// perslab P", run on this machine): class 1 to 39.
    const SERVER_CLASSES: [(u64, u64); 39] = [
        (96, 10922),
        (120, 8738),
        (152, 6898),
        (192, 5461),
        (240, 4369),
        (304, 3449),
        (384, 2730),
        (480, 2184),
        (600, 1747),
        (752, 1394),
        (944, 1110),
        (1184, 885),
        (1480, 708),
        (1856, 564),
        (2320, 451),
        (2904, 361),
        (3632, 288),
        (4544, 230),
        (5680, 184),
        (7104, 147),
        (8880, 118),
        (11104, 94),
        (13880, 75),
        (17352, 60),
        (21696, 48),
        (27120, 38),
        (33904, 30),
        (42384, 24),
        (52984, 19),
        (66232, 15),
        (82792, 12),
        (103496, 10),
        (129376, 8),
        (161720, 6),
        (202152, 5),
        (252696, 4),
        (315872, 3),
        (394840, 2),
        (524288, 2),
    ];

    fn acc(key: Key, value: u64, time: f64) -> Access {
        Access {
            key,
            charge: value,
            time,
            vtime: 0,
            next_vtime: u64::MAX,
        }
    }

    /// Get with demand fill at time 0; returns whether it hit.
    fn touch(m: &mut MemcachedSim, key: Key, value: u64, ev: &mut Evictions) -> bool {
        let a = acc(key, value, 0.0);
        let hit = m.get(&a);
        if !hit {
            m.insert(&a, ev);
        }
        m.validate();
        hit
    }

    /// The class number (1-based, as memcached counts) holding `key`.
    fn class_no(m: &MemcachedSim, key: Key) -> usize {
        m.slab.data(m.slab.find(key).unwrap()).class as usize + 1
    }

    #[test]
    fn slab_classes_are_memcacheds() {
        let m = MemcachedSim::new(64 * PAGE, 26);
        let got: Vec<(u64, u64)> = m.classes.iter().map(|c| (c.chunk, c.perslab)).collect();
        assert_eq!(got, SERVER_CLASSES);
    }

    #[test]
    fn item_size_and_class_are_memcacheds() {
        // "cachesim:0123456789abcdef:1": 27 bytes. 48 header + 8 CAS + 27 +
        // 1 NUL + 106 + 2 CRLF = 192, the last size class 4 holds.
        assert_eq!(item_total(27, 106), 192);
        let mut m = MemcachedSim::new(64 * PAGE, 26);
        let mut ev = Evictions::default();
        // Checked against memcached 1.6.18 (`stats items` after these sets
        // with the backend's key format): classes 4, 5, 1 and 12.
        for (key, value, class) in [(1, 106, 4), (2, 107, 5), (3, 10, 1), (123_456, 1040, 12)] {
            touch(&mut m, key, value, &mut ev);
            assert_eq!(class_no(&m, key), class, "key {key} value {value}");
        }
        // A longer prefix is a longer key: 107 + 5 more bytes is class 5.
        let mut m = MemcachedSim::new(64 * PAGE, 31);
        touch(&mut m, 1, 106, &mut ev);
        assert_eq!(class_no(&m, 1), 5);
        // Above slab_chunk_max (chunked in memcached): not stored.
        touch(&mut m, 9, SLAB_CHUNK_MAX, &mut ev);
        assert!(m.slab.find(9).is_none());
        assert_eq!(ev.evicted, 0);
    }

    #[test]
    fn hot_tail_goes_to_cold_or_warm_and_cold_tail_is_evicted() {
        // One page of class 32 (103496-byte chunks, 10 a page): values of
        // 100000 bytes, so n = 48 + 8 + 27 + 1 + 100002 = 100086 per item
        // with a one-digit key. Everything at time 0 (no age rule fires).
        let n = item_total(27, 100_000);
        let mut m = MemcachedSim::new(PAGE, 26);
        let mut ev = Evictions::default();
        for k in 0..10 {
            assert!(!touch(&mut m, k, 100_000, &mut ev));
        }
        // HOT may hold 20% of the class's bytes: with k items, a new item
        // stays in HOT only once 5n <= total; then HOT keeps its newest.
        assert_eq!(m.lists(31), [vec![8, 9], vec![], (0..8).collect()]);
        assert_eq!(m.classes[31].bytes[HOT], 2 * n);
        // 8 hit twice: ACTIVE, and the maintainer rescues an ACTIVE HOT
        // tail to WARM at once, though HOT is within its share. 9 hit once:
        // FETCHED only, it stays.
        assert!(touch(&mut m, 8, 100_000, &mut ev));
        assert_eq!(m.lists(31), [vec![8, 9], vec![], (0..8).collect()]);
        assert!(touch(&mut m, 8, 100_000, &mut ev));
        assert!(touch(&mut m, 9, 100_000, &mut ev));
        assert_eq!(m.lists(31), [vec![9], vec![8], (0..8).collect()]);
        // 10 needs a chunk: no page left, so COLD's tail (0) is evicted.
        // Then HOT (9, 10) is over 20% of 10n + 1 bytes: its tail 9, not
        // ACTIVE, goes to COLD.
        assert!(!touch(&mut m, 10, 100_000, &mut ev));
        assert_eq!(ev.evicted, 1);
        assert_eq!(
            m.lists(31),
            [vec![10], vec![8], vec![1, 2, 3, 4, 5, 6, 7, 9]]
        );
        // A COLD item hit twice is bumped to WARM; then evictions take COLD's
        // tail, never WARM's items.
        assert!(touch(&mut m, 3, 100_000, &mut ev));
        assert!(touch(&mut m, 3, 100_000, &mut ev));
        assert_eq!(m.lists(31)[WARM], vec![8, 3]);
        assert!(!touch(&mut m, 11, 100_000, &mut ev));
        assert_eq!(
            m.lists(31),
            [vec![11], vec![8, 3], vec![2, 4, 5, 6, 7, 9, 10]]
        );
        assert_eq!(ev.evicted, 2);
        assert_eq!(m.len(), 10);
        assert_eq!(m.used(), 10 * 100_000);
    }

    #[test]
    fn warm_over_its_share_and_old_items_drain_to_cold() {
        // Same class as above. With every item hit into WARM, WARM is held
        // to 40% of the class's bytes.
        let mut m = MemcachedSim::new(PAGE, 26);
        let mut ev = Evictions::default();
        for k in 0..10 {
            touch(&mut m, k, 100_000, &mut ev);
        }
        for k in 0..8 {
            touch(&mut m, k, 100_000, &mut ev);
            touch(&mut m, k, 100_000, &mut ev);
        }
        let [hot, warm, cold] = m.lists(31);
        assert_eq!(hot, vec![8, 9]);
        // 4 of 10 items is 40%, not over it: WARM keeps its 4 newest.
        assert_eq!(warm, vec![4, 5, 6, 7]);
        assert_eq!(cold, vec![0, 1, 2, 3]);
        // Time passes: the COLD tail was used at 0, so at 10 s its age is
        // 10 s, HOT items older than 2 s and WARM items older than 20 s go
        // to COLD; touching 9 (a hit) runs the maintainer.
        let a = acc(9, 100_000, 10.0);
        assert!(m.get(&a));
        m.validate();
        let [hot, warm, _] = m.lists(31);
        assert!(hot.is_empty(), "{hot:?}");
        assert_eq!(warm, vec![4, 5, 6, 7]);
    }

    #[test]
    fn a_class_takes_pages_until_the_limit_then_evicts_only_its_own() {
        // 3 MiB. Class 32 (values of 100000, 10 a page) takes one page.
        let mut m = MemcachedSim::new(3 * PAGE, 26);
        let mut ev = Evictions::default();
        for k in 0..10 {
            touch(&mut m, k, 100_000, &mut ev);
        }
        // Class 35 (values of 200000, 202152-byte chunks, 5 a page) takes
        // the two pages left.
        for k in 100..110 {
            touch(&mut m, k, 200_000, &mut ev);
        }
        assert_eq!((m.classes[31].pages, m.classes[34].pages), (1, 2));
        assert_eq!(ev.evicted, 0);
        // The limit is reached: class 35 evicts its own items...
        for k in 110..115 {
            touch(&mut m, k, 200_000, &mut ev);
        }
        assert_eq!(ev.evicted, 5);
        assert_eq!((m.classes[31].pages, m.classes[34].pages), (1, 2));
        assert!((0..10).all(|k| m.slab.find(k).is_some()));
        assert!((100..105).all(|k| m.slab.find(k).is_none()));
        // ...and so does class 32, though class 35's items are older.
        touch(&mut m, 10, 100_000, &mut ev);
        assert_eq!(ev.evicted, 6);
        assert!(m.slab.find(0).is_none());
        assert!((105..115).all(|k| m.slab.find(k).is_some()));
        assert_eq!(m.len(), 20);
    }

    #[test]
    fn every_class_gets_its_first_page_beyond_the_limit() {
        // memcached's `do_slabs_newslab` refuses a page over the limit only
        // to a class that has one: at 1 MiB, a second class still gets one.
        let mut m = MemcachedSim::new(PAGE, 26);
        let mut ev = Evictions::default();
        for k in 0..11 {
            touch(&mut m, k, 100_000, &mut ev);
        }
        assert_eq!(ev.evicted, 1);
        touch(&mut m, 100, 200_000, &mut ev);
        assert_eq!(m.classes[34].pages, 1);
        assert_eq!(m.malloced, 2 * PAGE);
        assert_eq!(ev.evicted, 1);
        // A limit that is not a whole number of MiB acts as the MiB below.
        let mut m = MemcachedSim::new(2 * PAGE - 1, 26);
        for k in 0..20 {
            touch(&mut m, k, 100_000, &mut ev);
        }
        assert_eq!(m.classes[31].pages, 1);
    }

    #[test]
    fn a_set_replaces_the_item_possibly_in_another_class() {
        let mut m = MemcachedSim::new(4 * PAGE, 26);
        let mut ev = Evictions::default();
        touch(&mut m, 1, 100, &mut ev);
        assert!(touch(&mut m, 1, 100, &mut ev));
        assert_eq!(class_no(&m, 1), 4);
        m.set(&acc(1, 1000, 0.0), &mut ev);
        m.validate();
        assert_eq!(class_no(&m, 1), 12);
        assert_eq!((m.len(), m.used()), (1, 1000));
        // The old chunk is free again; the new item is unfetched in HOT.
        assert_eq!(m.classes[3].free, m.classes[3].perslab);
        // (Alone in its class, it is over HOT's share and went to COLD.)
        let idx = m.slab.find(1).unwrap();
        assert_eq!(
            (m.slab.data(idx).lru as usize, m.slab.data(idx).flags),
            (COLD, 0)
        );
        assert!(m.remove(1));
        assert!(!m.remove(1));
        m.validate();
        assert_eq!((m.len(), m.used()), (0, 0));
    }

    #[test]
    fn random_streams_keep_the_books() {
        let mut rng = crate::rng::SimRng::new(9);
        let mut m = MemcachedSim::new(2 * PAGE, 26);
        let mut ev = Evictions::default();
        let sizes = [10, 100, 400, 1500, 30_000];
        for i in 0..60_000u64 {
            let key = rng.below(5000);
            let a = acc(key, sizes[(key % 5) as usize], i as f64 / 5000.0);
            match rng.below(20) {
                0 => m.set(&a, &mut ev),
                1 => {
                    m.remove(key);
                }
                _ => {
                    if !m.get(&a) {
                        m.insert(&a, &mut ev);
                    }
                }
            }
            if i % 997 == 0 {
                m.validate();
            }
        }
        m.validate();
        assert!(ev.evicted > 0);
        // Two pages under the limit, plus the first page of each other class
        // (six classes: the keys' digits move some items up a class).
        let pages: Vec<u64> = m
            .classes
            .iter()
            .map(|c| c.pages)
            .filter(|&p| p > 0)
            .collect();
        assert_eq!(pages.len(), 6);
        assert!(m.malloced <= (2 + 6 - 1) * PAGE, "{pages:?}");
    }
}
