//! `oracle-general`: libCacheSim's `oracleGeneral` binary format, the common
//! currency of recent cache research (Twitter, Meta, CloudPhysics and Wiki
//! traces are published in it). Each request is one 24-byte little-endian
//! record:
//!
//! | bytes | field | kept as |
//! |---|---|---|
//! | 0..4 | `u32` timestamp (seconds) | the request's time |
//! | 4..12 | `u64` object id | the key |
//! | 12..16 | `u32` object size (bytes) | the request's size |
//! | 16..24 | `i64` next access vtime (`-1`: never again) | not kept (an offline policy recomputes it) |
//!
//! Every request is a get. A file whose length is not a multiple of 24 bytes
//! ends in a truncated record: an error naming the byte offset where that
//! record starts. [`write`] produces the format (used by `trace convert` and
//! `workload export`), with `next_access_vtime` computed from the stream as
//! libCacheSim's `traceConv` writes it: the position of the next request for
//! the same object counting requests from **1** (the first record is
//! request 1, so a record at 0-based index `i` whose object comes back at
//! 0-based index `j` holds `j + 1`), or -1 when the object is never
//! requested again. libCacheSim's reader also takes `INT64_MAX` for
//! "never"; its writer, and so ours, writes -1. Converting libCacheSim's own
//! `cloudPhysicsIO.oracleGeneral.bin` gives the same bytes back (tested).

use super::records::{Chunk, RecordScanner};
use super::{Claim, Format, TraceError};
use crate::workload::{Batch, RequestSource};
use rustc_hash::FxHashMap;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

/// Bytes per record.
pub(crate) const RECORD: usize = 24;

/// `oracle-general` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "oracle-general",
    aliases: &["oraclegeneral", "oracle_general"],
    describe: "libCacheSim oracleGeneral: 24-byte LE records (u32 time, u64 id, u32 size, i64 next access)",
    by_name: |stem| stem.contains("oraclegeneral"),
    by_content: |h| Claim::yes_if(h.binary && looks_like(h.bytes)),
    lines: false,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(OracleGeneralReader::new(path, input))),
};

pub(crate) struct OracleGeneralReader {
    path: PathBuf,
    records: RecordScanner,
}

impl OracleGeneralReader {
    pub(crate) fn new(path: &Path, input: Box<dyn BufRead + Send>) -> OracleGeneralReader {
        OracleGeneralReader {
            path: path.to_path_buf(),
            records: RecordScanner::new(input, RECORD),
        }
    }
}

#[inline(always)]
pub(crate) fn u32_at(r: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]])
}

#[inline(always)]
pub(crate) fn u64_at(r: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&r[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Decodes one record: `(time, id, size, next_access_vtime)`.
pub(crate) fn decode(r: &[u8]) -> (u32, u64, u32, i64) {
    (
        u32_at(r, 0),
        u64_at(r, 4),
        u32_at(r, 12),
        u64_at(r, 16) as i64,
    )
}

impl RequestSource for OracleGeneralReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        while batch.len() < max {
            let room = max - batch.len();
            let chunk = self
                .records
                .next_records(room, |recs| {
                    let recs = recs.chunks_exact(RECORD);
                    batch
                        .times
                        .extend(recs.clone().map(|r| f64::from(u32_at(r, 0))));
                    batch.keys.extend(recs.clone().map(|r| u64_at(r, 4)));
                    batch.sizes.extend(recs.map(|r| u32_at(r, 12)));
                })
                .map_err(|err| TraceError::read(&self.path, err))?;
            match chunk {
                Chunk::Records(0) => break,
                Chunk::Records(_) => {}
                Chunk::Truncated { offset, got } => {
                    return Err(TraceError::Truncated {
                        path: self.path.clone(),
                        offset,
                        msg: format!(
                            "the file ends {got} bytes into a {RECORD}-byte oracleGeneral record (is this really an oracleGeneral trace?)"
                        ),
                    })
                }
            }
        }
        Ok(batch.len())
    }
}

/// For each request, libCacheSim's `next_access_vtime`: the 1-based
/// position of the next request for the same key (0-based index + 1), or -1.
pub(crate) fn next_access(keys: &[u64]) -> Vec<i64> {
    let mut next = vec![-1i64; keys.len()];
    let mut last: FxHashMap<u64, usize> = FxHashMap::default();
    for (i, &k) in keys.iter().enumerate().rev() {
        if let Some(j) = last.insert(k, i) {
            next[i] = j as i64 + 1;
        }
    }
    next
}

/// A time as the `u32` whole seconds the binary formats hold: truncated,
/// saturating at `u32::MAX`, 0 for a negative or non-finite time.
pub(crate) fn whole_seconds(t: f64) -> u32 {
    if t.is_finite() && t > 0.0 {
        t.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

/// Writes `batch` as oracleGeneral records. Times are truncated to whole
/// seconds (saturating at `u32::MAX`), sizes are the batch's sizes (its
/// `unit_size` when it has none).
pub fn write(batch: &Batch, w: &mut dyn Write) -> io::Result<()> {
    let next = next_access(&batch.keys);
    let mut rec = [0u8; RECORD];
    for (i, &nv) in next.iter().enumerate() {
        let r = batch.request(i, i as u64);
        let t = whole_seconds(r.time);
        rec[0..4].copy_from_slice(&t.to_le_bytes());
        rec[4..12].copy_from_slice(&r.key.to_le_bytes());
        rec[12..16].copy_from_slice(&r.size.to_le_bytes());
        rec[16..24].copy_from_slice(&nv.to_le_bytes());
        w.write_all(&rec)?;
    }
    Ok(())
}

/// Whether `head` (the first bytes of a file) looks like oracleGeneral: at
/// least two whole records, timestamps never decreasing, and every
/// next-access vtime either -1 or later than its own record. Random binary
/// data fails this almost surely. "Later" is `> i` for the record at 0-based
/// index `i`, which libCacheSim's 1-based values (`>= i + 2`) pass with room,
/// and so do files written with 0-based values (by cachesim before it
/// followed libCacheSim, or by other tools).
pub(crate) fn looks_like(head: &[u8]) -> bool {
    let n = head.len() / RECORD;
    if n < 2 {
        return false;
    }
    let mut prev_t = 0u32;
    for (i, r) in head.chunks_exact(RECORD).enumerate() {
        let (t, _, _, nv) = decode(r);
        let never = nv == -1 || nv == i64::MAX;
        if t < prev_t || !(never || (nv > i as i64 && nv < 1 << 48)) {
            return false;
        }
        prev_t = t;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Request;

    fn bytes_of(b: &Batch) -> Vec<u8> {
        let mut out = vec![];
        write(b, &mut out).unwrap();
        out
    }

    fn read(data: Vec<u8>, max: usize) -> Result<Batch, TraceError> {
        let input = Box::new(io::BufReader::with_capacity(7, io::Cursor::new(data)));
        let mut r = OracleGeneralReader::new(Path::new("t.oracleGeneral"), input);
        let mut all = Batch::new(1.0, 1);
        let mut b = Batch::new(1.0, 1);
        while r.next_batch(&mut b, max)? > 0 {
            crate::workload::trace::append(&mut all, &b);
        }
        Ok(all)
    }

    #[test]
    fn round_trip_keeps_time_key_size_and_computes_next_access() {
        let mut b = Batch::new(1.0, 1);
        for (v, (t, k, s)) in [
            (0.0, 7u64, 100u32),
            (1.0, 8, 200),
            (2.5, 7, 300),
            (3.0, u64::MAX, 1),
        ]
        .into_iter()
        .enumerate()
        {
            b.push(
                &Request {
                    time: t,
                    key: k,
                    size: s,
                    op: crate::request::Op::Get,
                },
                v as u64,
            );
        }
        let data = bytes_of(&b);
        assert_eq!(data.len(), 4 * RECORD);
        let recs: Vec<_> = data.chunks_exact(RECORD).map(decode).collect();
        // Key 7 comes back at the third request: libCacheSim numbers
        // requests from 1, so its next access vtime is 3.
        assert_eq!(recs[0], (0, 7, 100, 3));
        assert_eq!(recs[1], (1, 8, 200, -1));
        assert_eq!(recs[2], (2, 7, 300, -1));
        assert!(looks_like(&data));
        for max in [1, 3, 100] {
            let back = read(data.clone(), max).unwrap();
            assert_eq!(back.keys, vec![7, 8, 7, u64::MAX]);
            assert_eq!(back.times, vec![0.0, 1.0, 2.0, 3.0]);
            assert_eq!(back.sizes, vec![100, 200, 300, 1]);
        }
    }

    #[test]
    fn next_access_counts_requests_from_one() {
        assert_eq!(next_access(&[5, 5, 6, 5, 6]), vec![2, 4, 5, -1, -1]);
        assert_eq!(next_access(&[]), Vec::<i64>::new());
    }

    #[test]
    fn reading_and_writing_again_gives_the_same_bytes() {
        // Records as libCacheSim writes them (1-based next access, -1 for
        // never), with sizes 0 and u32::MAX, a repeated timestamp and
        // extreme ids: read, write, compare bytes.
        let recs: [(u32, u64, u32); 6] = [
            (10, 3, 512),
            (10, u64::MAX, 0),
            (11, 3, 4096),
            (u32::MAX - 1, 0, u32::MAX),
            (u32::MAX, u64::MAX, 1),
            (u32::MAX, 3, 7),
        ];
        let next = [3i64, 5, 6, -1, -1, -1];
        let mut data = vec![];
        for ((t, k, s), nv) in recs.into_iter().zip(next) {
            data.extend(t.to_le_bytes());
            data.extend(k.to_le_bytes());
            data.extend(s.to_le_bytes());
            data.extend(nv.to_le_bytes());
        }
        for max in [1, 4, 100] {
            assert_eq!(bytes_of(&read(data.clone(), max).unwrap()), data);
        }
    }

    #[test]
    fn int64_max_for_never_is_recognised() {
        let mut b = Batch::new(1.0, 1);
        b.keys = vec![1, 2, 3];
        let mut data = bytes_of(&b);
        for r in data.chunks_exact_mut(RECORD) {
            r[16..24].copy_from_slice(&i64::MAX.to_le_bytes());
        }
        assert!(looks_like(&data));
    }

    #[test]
    fn truncated_record_names_its_offset() {
        let mut b = Batch::new(1.0, 1);
        b.keys = vec![1, 2, 3];
        let mut data = bytes_of(&b);
        data.truncate(2 * RECORD + 10);
        let e = read(data, 100).unwrap_err().to_string();
        assert!(
            e.contains("byte offset 48") && e.contains("10 bytes into"),
            "{e}"
        );
    }

    #[test]
    fn random_bytes_do_not_look_like_oracle_general() {
        let data: Vec<u8> = (0..480u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(!looks_like(&data));
        assert!(!looks_like(&[]));
    }
}
