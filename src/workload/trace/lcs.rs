//! `lcs`: libCacheSim's own binary trace format (`lcs.h` in its
//! `traceReader`), versions 1 to 8. A file is an 8192-byte header followed
//! by fixed-size little-endian request records whose layout the header's
//! version chooses.
//!
//! The header: `u64` start magic `0x123456789abcdef0` at byte 0, `u64`
//! version at 8, an 8000-byte block of trace statistics at 16 (its own
//! version, then `n_req`, `n_obj`, `n_req_byte`, `n_obj_byte`, first and
//! last timestamp, read/write/delete counts, smallest and largest object
//! size, ..., tenant and TTL counts), reserved bytes, and the end magic (the
//! same value) at 8184. The reader checks both magics, the version and that
//! the request and object counts are not negative; it reads nothing else
//! from the statistics (never allocates from them).
//!
//! The records (every field little-endian, no padding):
//!
//! | version | bytes | layout |
//! |---|---|---|
//! | 1 | 24 | `u32` time, `u64` id, `u32` size, `i64` next access vtime (as oracleGeneral) |
//! | 2 | 28 | `u32` time, `u64` id, `u32` size, `u32` op (low 8 bits) and tenant (high 24), `i64` next access vtime |
//! | 3 | 36 | `u32` time, `u64` id, `i64` size, `u32` op and tenant, `u32` TTL, `i64` next access vtime |
//! | 4..8 | 36 + 4n | a version-3 record, then n = 1, 2, 4, 8, 16 `u32` features |
//!
//! Kept: time (seconds) as the request's time, id as the key, size, op,
//! tenant, TTL (seconds, 0 for none). Not kept: the next access vtime (an
//! offline policy recomputes it) and the features (read past and dropped:
//! no cachesim policy uses them). A version-3+ size above `u32::MAX` (or
//! negative) is an error naming the record's byte offset.
//!
//! Ops are libCacheSim's `req_op_e` codes: `get` (1), `gets` (2) and
//! `read` (12) are gets; `set` (3), `add`, `cas`, `replace`, `append`,
//! `prepend`, `incr`, `decr` (4 to 8, 10, 11), `write` (13) and `update`
//! (14) are sets; `delete` (9) is a delete. Code 0, `nop`, is a get:
//! libCacheSim's converters write it for requests of traces that carry no
//! op, and its simulator replays those as reads. Any other code (15,
//! `invalid`, and above) is an error naming the record's byte offset.
//!
//! [`write`] (used by `trace convert --to lcs` and `workload export`)
//! writes the lowest version that carries what the requests have: 1 when
//! every request is a get with no TTL and tenant 0, 2 when some op or
//! tenant says more, 3 when some request has a TTL. It fills the header's
//! counts as libCacheSim's `traceConv` does (requests, objects, bytes,
//! first and last timestamp, reads, writes, deletes, smallest and largest
//! object size, tenant and TTL counts and TTL range; an object's size is
//! that of its last request) and leaves the "most common" tables and the
//! skewness at 0. Next access vtimes are 1-based request positions, and
//! `i64::MAX` for never, as `traceConv` writes them.

use super::oracle_general::{self, u32_at, u64_at};
use super::records::RecordScanner;
use super::{Claim, Format, TraceError};
use crate::request::Op;
use crate::workload::{Batch, RequestSource};
use rustc_hash::{FxHashMap, FxHashSet};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

/// Bytes of the header.
pub(crate) const HEADER: usize = 8192;
/// The start and end magic.
pub(crate) const MAGIC: u64 = 0x1234_5678_9abc_def0;
/// Where the end magic sits.
const END_MAGIC_AT: usize = HEADER - 8;
/// Where the statistics block starts.
const STAT: usize = 16;

/// `lcs` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "lcs",
    aliases: &[],
    describe: "libCacheSim lcs v1..v8: 8 KB header, then records with time, id, size (op, tenant, TTL from v2/v3)",
    by_name: |stem| stem.ends_with(".lcs"),
    by_content: |h| Claim::yes_if(h.bytes.len() >= 8 && u64_at(h.bytes, 0) == MAGIC),
    lines: false,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(LcsReader::open(path, input)?)),
};

/// The record size of `version`, or `None` for an unknown version.
pub(crate) fn record_size(version: u64) -> Option<usize> {
    let features = match version {
        1 => return Some(24),
        2 => return Some(28),
        3 => 0,
        4 => 1,
        5 => 2,
        6 => 4,
        7 => 8,
        8 => 16,
        _ => return None,
    };
    Some(36 + 4 * features)
}

/// Where the fields sit in one version's record.
#[derive(Debug, Clone, Copy)]
struct Layout {
    size: usize,
    /// Offset of the `u32` op+tenant word (v2 and later).
    op_tenant: Option<usize>,
    /// The size is an `i64` (v3 and later) rather than a `u32`.
    wide_size: bool,
    /// Offset of the `u32` TTL (v3 and later).
    ttl: Option<usize>,
}

impl Layout {
    fn of(version: u64) -> Option<Layout> {
        let size = record_size(version)?;
        Some(match version {
            1 => Layout {
                size,
                op_tenant: None,
                wide_size: false,
                ttl: None,
            },
            2 => Layout {
                size,
                op_tenant: Some(16),
                wide_size: false,
                ttl: None,
            },
            _ => Layout {
                size,
                op_tenant: Some(20),
                wide_size: true,
                ttl: Some(24),
            },
        })
    }
}

/// The cachesim op of libCacheSim op code `code`, `None` for codes that
/// name no request (see the module documentation).
pub(crate) const fn op_of(code: u8) -> Option<Op> {
    Some(match code {
        0..=2 | 12 => Op::Get,
        3..=8 | 10 | 11 | 13 | 14 => Op::Set,
        9 => Op::Delete,
        _ => return None,
    })
}

/// [`op_of`] as a table, for the decoding loops.
const OPS: [Option<Op>; 256] = {
    let mut t = [None; 256];
    let mut code = 0;
    while code < 256 {
        t[code] = op_of(code as u8);
        code += 1;
    }
    t
};

/// The libCacheSim op code [`write`] uses for `op`.
fn code_of(op: Op) -> u8 {
    match op {
        Op::Get => 1,
        Op::Set => 3,
        Op::Delete => 9,
    }
}

const OP_CODES_KNOWN: &str = "0 nop (read as get), 1 get, 2 gets, 3 set, 4 add, 5 cas, 6 replace, \
7 append, 8 prepend, 9 delete, 10 incr, 11 decr, 12 read, 13 write, 14 update";

pub(crate) struct LcsReader {
    path: PathBuf,
    layout: Layout,
    records: RecordScanner,
}

/// Reads into `buf` until it is full or the input ends; returns the bytes read.
fn read_up_to(input: &mut dyn BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl LcsReader {
    /// Reads and checks the header of `input`.
    pub(crate) fn open(
        path: &Path,
        mut input: Box<dyn BufRead + Send>,
    ) -> Result<LcsReader, TraceError> {
        let mut header = vec![0u8; HEADER];
        let got = read_up_to(&mut input, &mut header).map_err(|e| TraceError::read(path, e))?;
        let format = |msg: String| TraceError::Format {
            path: path.to_path_buf(),
            msg,
        };
        if got == 0 {
            return Err(TraceError::Empty {
                path: path.to_path_buf(),
            });
        }
        if got < HEADER {
            return Err(TraceError::Truncated {
                path: path.to_path_buf(),
                offset: 0,
                msg: format!(
                    "the file ends {got} bytes into the {HEADER}-byte lcs header (is this really an lcs trace?)"
                ),
            });
        }
        for (at, what) in [(0, "start"), (END_MAGIC_AT, "end")] {
            let m = u64_at(&header, at);
            if m != MAGIC {
                return Err(format(format!(
                    "byte offset {at}: the lcs header's {what} magic is {m:#018x}, not {MAGIC:#018x} (is this really an lcs trace?)"
                )));
            }
        }
        let version = u64_at(&header, 8);
        let layout = Layout::of(version).ok_or_else(|| {
            format(format!(
                "byte offset 8: unknown lcs version {version}; cachesim reads versions 1 to 8"
            ))
        })?;
        for (at, what) in [(8, "request"), (16, "object")] {
            let n = u64_at(&header, STAT + at) as i64;
            if n < 0 {
                return Err(format(format!(
                    "byte offset {}: the lcs header's {what} count is negative ({n})",
                    STAT + at
                )));
            }
        }
        Ok(LcsReader {
            path: path.to_path_buf(),
            layout,
            records: RecordScanner::new(input, layout.size),
        })
    }

    /// Appends the whole records `recs` (already checked) to `batch`.
    /// Appends the records (already checked by [`check`]) to `batch`.
    fn decode(l: Layout, recs: &[u8], batch: &mut Batch) {
        if let (Some(ot), Some(tt)) = (l.op_tenant, l.ttl) {
            // Versions 3 and up: every column in one pass.
            let n = recs.len() / l.size;
            let old = batch.keys.len();
            batch.times.resize(old + n, 0.0);
            batch.keys.resize(old + n, 0);
            batch.sizes.resize(old + n, 0);
            batch.ops.resize(old + n, Op::Get);
            batch.tenants.resize(old + n, 0);
            batch.ttls.resize(old + n, 0.0);
            let cols = batch.times[old..]
                .iter_mut()
                .zip(&mut batch.keys[old..])
                .zip(&mut batch.sizes[old..])
                .zip(&mut batch.ops[old..])
                .zip(&mut batch.tenants[old..])
                .zip(&mut batch.ttls[old..]);
            for (r, (((((t, k), s), o), te), tl)) in recs.chunks_exact(l.size).zip(cols) {
                *t = f64::from(u32_at(r, 0));
                *k = u64_at(r, 4);
                // A wide size was checked to fit: its low half is the size.
                *s = u32_at(r, 12);
                let w = u32_at(r, ot);
                *o = OPS[(w & 0xff) as usize].unwrap_or(Op::Get);
                *te = w >> 8;
                *tl = u32_at(r, tt) as f32;
            }
            return;
        }
        let recs = recs.chunks_exact(l.size);
        batch
            .times
            .extend(recs.clone().map(|r| f64::from(u32_at(r, 0))));
        batch.keys.extend(recs.clone().map(|r| u64_at(r, 4)));
        // A wide size was checked to fit: its low half is the size.
        batch.sizes.extend(recs.clone().map(|r| u32_at(r, 12)));
        if let Some(at) = l.op_tenant {
            batch
                .ops
                .extend(recs.clone().map(|r| OPS[r[at] as usize].unwrap_or(Op::Get)));
            batch
                .tenants
                .extend(recs.clone().map(|r| u32_at(r, at) >> 8));
        }
        if let Some(at) = l.ttl {
            batch.ttls.extend(recs.map(|r| u32_at(r, at) as f32));
        }
    }
}

impl RequestSource for LcsReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        let l = self.layout;
        let what = format!("a {}-byte lcs record", l.size);
        let path = &self.path;
        self.records
            .fill_batch(
                path,
                HEADER as u64,
                &what,
                batch,
                max,
                |recs, at, batch| match check(path, l, recs, at) {
                    Some(e) => Err(e),
                    None => {
                        LcsReader::decode(l, recs, batch);
                        Ok(())
                    }
                },
            )?;
        // Columns that say nothing (every op a get, no TTL, tenant 0) are
        // dropped, so the replay takes its plain paths.
        if batch.ops.iter().all(|&o| o == Op::Get) {
            batch.ops.clear();
        }
        if batch.tenants.iter().all(|&t| t == 0) {
            batch.tenants.clear();
        }
        if batch.ttls.iter().all(|&t| t == 0.0) {
            batch.ttls.clear();
        }
        Ok(batch.len())
    }
}

/// The first problem in `recs` (whole records starting at byte offset
/// `base`): an op code that names no request or a size that does not fit
/// 32 bits.
fn check(path: &Path, l: Layout, recs: &[u8], base: u64) -> Option<TraceError> {
    let op_at = l.op_tenant?;
    // The common case in one branch-free pass: every op known, and every
    // wide size's high half 0.
    let wide = if l.wide_size { u32::MAX } else { 0 };
    let flags = recs.chunks_exact(l.size).fold(0u32, |acc, r| {
        acc | u32::from(OPS[r[op_at] as usize].is_none()) | (u32_at(r, 16) & wide)
    });
    if flags == 0 {
        return None;
    }
    let bad_size = |r: &[u8]| l.wide_size && u64_at(r, 12) > u64::from(u32::MAX);
    let (i, r) = recs
        .chunks_exact(l.size)
        .enumerate()
        .find(|(_, r)| op_of(r[op_at]).is_none() || bad_size(r))?;
    let msg = if bad_size(r) {
        format!(
            "the object size {} does not fit 32 bits (cachesim sizes are at most {})",
            u64_at(r, 12) as i64,
            u32::MAX
        )
    } else {
        format!(
            "unknown op code {}; known codes: {OP_CODES_KNOWN}",
            r[op_at]
        )
    };
    Some(TraceError::Format {
        path: path.to_path_buf(),
        msg: format!(
            "record at byte offset {}: {msg}",
            base + (i * l.size) as u64
        ),
    })
}

/// The version [`write`] uses for `batch`: see the module documentation.
pub(crate) fn version_for(batch: &Batch) -> u64 {
    if batch.ttls.iter().any(|&t| t != 0.0) {
        3
    } else if batch.ops.iter().any(|&o| o != Op::Get) || batch.tenants.iter().any(|&t| t != 0) {
        2
    } else {
        1
    }
}

/// A TTL as the whole seconds lcs holds: a fraction rounds up (so a
/// TTL never becomes "none"), saturating at `u32::MAX`; 0 for none.
fn ttl_seconds(ttl: f32) -> u32 {
    if ttl.is_finite() && ttl > 0.0 {
        f64::from(ttl).ceil().min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

/// The header [`write`] puts before `batch`'s records in `version`.
fn header(batch: &Batch, version: u64) -> Vec<u8> {
    let mut h = vec![0u8; HEADER];
    let mut put = |at: usize, v: u64| h[at..at + 8].copy_from_slice(&v.to_le_bytes());
    put(0, MAGIC);
    put(8, version);
    put(END_MAGIC_AT, MAGIC);
    let n = batch.len();
    // An object's size is that of its last request, as traceConv counts it.
    let mut objects: FxHashMap<u64, u32> = FxHashMap::default();
    let (mut req_bytes, mut rw) = (0u64, [0u64; 3]);
    for i in 0..n {
        let r = batch.request(i, i as u64);
        objects.insert(r.key, r.size);
        req_bytes += u64::from(r.size);
        rw[match r.op {
            Op::Get => 0,
            Op::Set => 1,
            Op::Delete => 2,
        }] += 1;
    }
    let sizes = objects.values().map(|&s| u64::from(s));
    let first_last = |i: usize| {
        u64::from(oracle_general::whole_seconds(
            batch.request(i, i as u64).time,
        ))
    };
    let stat = [
        (0, 1), // the statistics' own version
        (8, n as u64),
        (16, objects.len() as u64),
        (24, req_bytes),
        (32, sizes.clone().sum()),
        (40, if n > 0 { first_last(0) } else { 0 }),
        (48, if n > 0 { first_last(n - 1) } else { 0 }),
        (56, rw[0]),
        (64, rw[1]),
        (72, rw[2]),
        (80, sizes.clone().min().unwrap_or(0)),
        (88, sizes.max().unwrap_or(0)),
    ];
    for (at, v) in stat {
        put(STAT + at, v);
    }
    let tenants: FxHashSet<u32> = (0..n).map(|i| batch.tenant(i)).collect();
    let ttls: FxHashSet<u32> = (0..n).map(|i| ttl_seconds(batch.ttl(i))).collect();
    let mut put32 =
        |at: usize, v: u32| h[STAT + at..STAT + at + 4].copy_from_slice(&v.to_le_bytes());
    put32(552, tenants.len() as u32);
    put32(684, ttls.len() as u32);
    put32(688, ttls.iter().copied().min().unwrap_or(0));
    put32(692, ttls.iter().copied().max().unwrap_or(0));
    h
}

/// Writes `batch` as an lcs trace, in the lowest version that carries its
/// ops, tenants and TTLs ([`version_for`]). Times are truncated to whole
/// seconds as in oracleGeneral; a TTL's fraction of a second rounds up. A
/// tenant above 2^24 - 1 (lcs keeps 24 bits) is an error.
pub fn write(batch: &Batch, w: &mut dyn Write) -> io::Result<()> {
    let version = version_for(batch);
    if let Some(t) = batch.tenants.iter().find(|&&t| t > 0x00ff_ffff) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("tenant {t} does not fit lcs's 24-bit tenant field (at most 16777215)"),
        ));
    }
    w.write_all(&header(batch, version))?;
    let next = oracle_general::next_access(&batch.keys);
    let mut rec = Vec::with_capacity(36);
    for (i, &nv) in next.iter().enumerate() {
        let r = batch.request(i, i as u64);
        let nv = if nv < 0 { i64::MAX } else { nv };
        rec.clear();
        rec.extend(oracle_general::whole_seconds(r.time).to_le_bytes());
        rec.extend(r.key.to_le_bytes());
        if version == 1 {
            rec.extend(r.size.to_le_bytes());
        } else {
            let op_tenant = u32::from(code_of(r.op)) | batch.tenant(i) << 8;
            if version == 2 {
                rec.extend(r.size.to_le_bytes());
                rec.extend(op_tenant.to_le_bytes());
            } else {
                rec.extend(i64::from(r.size).to_le_bytes());
                rec.extend(op_tenant.to_le_bytes());
                rec.extend(ttl_seconds(batch.ttl(i)).to_le_bytes());
            }
        }
        rec.extend(nv.to_le_bytes());
        w.write_all(&rec)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One request as the tests build it: time, id, size, op code, tenant,
    /// TTL.
    type Rec = (u32, u64, u32, u8, u32, u32);

    /// A header built field by field from `lcs.h`: magics, version, and
    /// `n_req` in the statistics.
    fn raw_header(version: u64, n_req: i64) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER);
        h.extend(0x1234_5678_9abc_def0u64.to_le_bytes());
        h.extend(version.to_le_bytes());
        h.extend(1i64.to_le_bytes()); // stat version
        h.extend(n_req.to_le_bytes());
        h.resize(HEADER - 8, 0);
        h.extend(0x1234_5678_9abc_def0u64.to_le_bytes());
        h
    }

    /// `recs` as `version` records, field by field, features 0xAA.. after
    /// a version-3 record for versions 4 to 8.
    fn raw_file(version: u64, recs: &[Rec]) -> Vec<u8> {
        let mut d = raw_header(version, recs.len() as i64);
        for (i, &(t, id, size, op, tenant, ttl)) in recs.iter().enumerate() {
            d.extend(t.to_le_bytes());
            d.extend(id.to_le_bytes());
            let op_tenant = (u32::from(op) | tenant << 8).to_le_bytes();
            match version {
                1 => d.extend(size.to_le_bytes()),
                2 => {
                    d.extend(size.to_le_bytes());
                    d.extend(op_tenant);
                }
                _ => {
                    d.extend(i64::from(size).to_le_bytes());
                    d.extend(op_tenant);
                    d.extend(ttl.to_le_bytes());
                }
            }
            d.extend((i as i64 + 7).to_le_bytes());
            let features = [0, 0, 0, 0, 1, 2, 4, 8, 16][version as usize];
            for f in 0..features {
                d.extend((0xAA00_0000u32 + f).to_le_bytes());
            }
        }
        d
    }

    fn read_with(data: Vec<u8>, cap: usize, max: usize) -> Result<Batch, TraceError> {
        super::super::read_bytes(data, cap, max, |input| {
            LcsReader::open(Path::new("t.lcs"), input)
        })
    }

    fn read(data: Vec<u8>) -> Result<Batch, TraceError> {
        read_with(data, 1 << 16, 1 << 16)
    }

    const RECS: [Rec; 4] = [
        (10, 1, 100, 1, 0, 0),
        (11, u64::MAX, 4096, 3, 7, 60),
        (11, 1, 0, 9, 0x00ff_ffff, 0),
        (u32::MAX, 2, u32::MAX, 0, 1, 3600),
    ];

    #[test]
    fn record_sizes_follow_lcs_h() {
        let sizes: Vec<_> = (0..=9).map(record_size).collect();
        assert_eq!(
            sizes,
            [
                None,
                Some(24),
                Some(28),
                Some(36),
                Some(40),
                Some(44),
                Some(52),
                Some(68),
                Some(100),
                None
            ]
        );
    }

    #[test]
    fn every_version_reads_what_it_carries() {
        for version in 1..=8u64 {
            let data = raw_file(version, &RECS);
            assert_eq!(
                data.len(),
                HEADER + RECS.len() * record_size(version).unwrap()
            );
            for (cap, max) in [(7, 1), (100, 3), (1 << 16, 1 << 16)] {
                let b = read_with(data.clone(), cap, max).unwrap();
                let ctx = format!("v{version} cap {cap} max {max}");
                assert_eq!(b.keys, [1, u64::MAX, 1, 2], "{ctx}");
                assert_eq!(b.times, [10.0, 11.0, 11.0, f64::from(u32::MAX)], "{ctx}");
                assert_eq!(b.sizes, [100, 4096, 0, u32::MAX], "{ctx}");
                if version == 1 {
                    assert!(b.ops.is_empty() && b.tenants.is_empty() && b.ttls.is_empty());
                    continue;
                }
                assert_eq!(b.ops, [Op::Get, Op::Set, Op::Delete, Op::Get], "{ctx}");
                assert_eq!(b.tenants, [0, 7, 0x00ff_ffff, 1], "{ctx}");
                if version == 2 {
                    assert!(b.ttls.is_empty(), "{ctx}");
                } else {
                    assert_eq!(b.ttls, [0.0, 60.0, 0.0, 3600.0], "{ctx}");
                }
            }
        }
    }

    #[test]
    fn op_codes_map_as_libcachesim_names_them() {
        let names = [
            "nop", "get", "gets", "set", "add", "cas", "replace", "append", "prepend", "delete",
            "incr", "decr", "read", "write", "update",
        ];
        for (code, name) in names.iter().enumerate() {
            let want = match *name {
                "nop" => Op::Get,
                n => Op::parse(n).unwrap(),
            };
            assert_eq!(op_of(code as u8), Some(want), "{name}");
        }
        for code in 15..=255u8 {
            assert_eq!(op_of(code), None);
        }
    }

    #[test]
    fn an_unknown_op_names_its_record() {
        let mut recs = RECS.to_vec();
        recs[2].3 = 15;
        let e = read(raw_file(3, &recs)).unwrap_err().to_string();
        assert!(
            e.contains(&format!("byte offset {}", HEADER + 2 * 36))
                && e.contains("unknown op code 15")
                && e.contains("14 update"),
            "{e}"
        );
    }

    #[test]
    fn a_size_beyond_32_bits_names_its_record() {
        let mut data = raw_file(6, &RECS);
        let at = HEADER + 52 + 12;
        data[at..at + 8].copy_from_slice(&(1i64 << 32).to_le_bytes());
        let e = read(data.clone()).unwrap_err().to_string();
        assert!(
            e.contains(&format!("byte offset {}", HEADER + 52)) && e.contains("4294967296"),
            "{e}"
        );
        data[at..at + 8].copy_from_slice(&(-1i64).to_le_bytes());
        let e = read(data).unwrap_err().to_string();
        assert!(e.contains("size -1 does not fit"), "{e}");
    }

    #[test]
    fn bad_headers_are_refused() {
        let good = raw_file(2, &RECS);
        let mut bad = good.clone();
        bad[0] ^= 1;
        let e = read(bad).unwrap_err().to_string();
        assert!(
            e.contains("byte offset 0") && e.contains("start magic"),
            "{e}"
        );
        let mut bad = good.clone();
        bad[HEADER - 1] = 0;
        let e = read(bad).unwrap_err().to_string();
        assert!(
            e.contains("byte offset 8184") && e.contains("end magic"),
            "{e}"
        );
        for v in [0u64, 9, 1 << 40] {
            let mut bad = good.clone();
            bad[8..16].copy_from_slice(&v.to_le_bytes());
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("unknown lcs version {v}")), "{e}");
        }
        let mut bad = good.clone();
        bad[24..32].copy_from_slice(&(-5i64).to_le_bytes());
        let e = read(bad).unwrap_err().to_string();
        assert!(e.contains("request count is negative (-5)"), "{e}");
        assert!(matches!(read(vec![]), Err(TraceError::Empty { .. })));
        for cut in [1, 100, HEADER - 1] {
            let e = read(good[..cut].to_vec()).unwrap_err();
            assert!(
                matches!(e, TraceError::Truncated { offset: 0, .. }),
                "{cut}: {e}"
            );
            assert!(e.to_string().contains(&format!("ends {cut} bytes into")));
        }
        // A header alone is an empty trace, not an error.
        assert!(read(raw_header(1, 0)).unwrap().is_empty());
    }

    #[test]
    fn a_truncated_record_names_its_offset() {
        for version in 1..=8 {
            let size = record_size(version).unwrap();
            let mut data = raw_file(version, &RECS);
            data.truncate(HEADER + 2 * size + 5);
            for cap in [7, 1 << 16] {
                match read_with(data.clone(), cap, 1 << 16).unwrap_err() {
                    TraceError::Truncated { offset, msg, .. } => {
                        assert_eq!(offset, (HEADER + 2 * size) as u64, "v{version}");
                        assert!(msg.contains(&format!("5 bytes into a {size}-byte")));
                    }
                    e => panic!("v{version}: {e}"),
                }
            }
        }
    }

    fn batch_of(recs: &[Rec], ops: bool, tenants: bool, ttls: bool) -> Batch {
        let mut b = Batch::new(1.0, 1);
        for &(t, k, s, op, tenant, ttl) in recs {
            b.keys.push(k);
            b.times.push(f64::from(t) + 0.75);
            b.sizes.push(s);
            if ops {
                b.ops.push(op_of(op).unwrap());
            }
            if tenants {
                b.tenants.push(tenant);
            }
            if ttls {
                b.ttls.push(ttl as f32);
            }
        }
        b
    }

    #[test]
    fn the_writer_picks_the_lowest_version_and_reads_back() {
        let recs = &RECS[..3];
        for (ops, tenants, ttls, version) in [
            (false, false, false, 1),
            (true, false, false, 2),
            (false, true, false, 2),
            (false, false, true, 3),
            (true, true, true, 3),
        ] {
            let b = batch_of(recs, ops, tenants, ttls);
            let mut data = vec![];
            write(&b, &mut data).unwrap();
            assert_eq!(u64_at(&data, 8), version);
            let size = record_size(version).unwrap();
            assert_eq!(data.len(), HEADER + recs.len() * size);
            let back = read(data.clone()).unwrap();
            assert_eq!(back.keys, b.keys);
            assert_eq!(back.sizes, b.sizes);
            // Whole seconds, truncated.
            assert_eq!(back.times, [10.0, 11.0, 11.0]);
            let want_ops = if ops {
                vec![Op::Get, Op::Set, Op::Delete]
            } else {
                vec![]
            };
            assert_eq!(back.ops, want_ops);
            assert_eq!(back.tenants, b.tenants);
            assert_eq!(back.ttls, b.ttls);
            // Next access vtimes: key 1 comes back as request 3 (1-based);
            // the others never (i64::MAX).
            let nv = |i: usize| u64_at(&data, HEADER + i * size + size - 8) as i64;
            assert_eq!([nv(0), nv(1), nv(2)], [3, i64::MAX, i64::MAX]);
        }
    }

    #[test]
    fn the_header_counts_what_libcachesim_counts() {
        let b = batch_of(&RECS, true, true, true);
        let mut data = vec![];
        write(&b, &mut data).unwrap();
        let stat = |at: usize| u64_at(&data, STAT + at);
        let stat32 = |at: usize| u32_at(&data, STAT + at);
        assert_eq!(stat(0), 1);
        assert_eq!(stat(8), 4, "n_req");
        assert_eq!(stat(16), 3, "n_obj");
        assert_eq!(stat(24), 100 + 4096 + u64::from(u32::MAX), "n_req_byte");
        // Key 1's size is that of its last request (0).
        assert_eq!(stat(32), 4096 + u64::from(u32::MAX), "n_obj_byte");
        assert_eq!((stat(40), stat(48)), (10, u64::from(u32::MAX)));
        assert_eq!(
            (stat(56), stat(64), stat(72)),
            (2, 1, 1),
            "reads, writes, deletes"
        );
        assert_eq!((stat(80), stat(88)), (0, u64::from(u32::MAX)));
        assert_eq!(stat32(552), 4, "tenants 0, 7, 2^24-1, 1");
        assert_eq!(stat32(684), 3, "ttls 0, 60, 3600");
        assert_eq!((stat32(688), stat32(692)), (0, 3600));
        assert_eq!(u64_at(&data, END_MAGIC_AT), MAGIC);
    }

    #[test]
    fn ttls_round_up_and_wide_tenants_are_refused() {
        assert_eq!(
            [0.0, 0.2, 1.0, 1.5, -3.0, f32::NAN].map(ttl_seconds),
            [0, 1, 1, 2, 0, 0]
        );
        let mut b = batch_of(&RECS, false, true, false);
        b.tenants[1] = 1 << 24;
        let e = write(&b, &mut vec![]).unwrap_err().to_string();
        assert!(e.contains("tenant 16777216"), "{e}");
    }

    #[test]
    fn detection_by_name_and_magic() {
        assert!((FORMAT.by_name)("x.lcs"));
        assert!(!(FORMAT.by_name)("x.lcs.txt"));
        let data = raw_header(1, 0);
        let head = |bytes| super::super::Head {
            bytes,
            binary: true,
            lines: vec![],
            first: "",
            dot_trace: false,
        };
        assert_eq!((FORMAT.by_content)(&head(&data)), Claim::Yes);
        assert_eq!((FORMAT.by_content)(&head(&data[1..])), Claim::No);
        assert_eq!(
            super::super::detect_content(&data[..4096], false),
            Some(super::super::TraceFormat::Lcs)
        );
    }
}
