//! The future of a trace too long to hold: its next-use array (see
//! [`crate::workload::future`]) computed in bounded memory and spilled to a
//! temporary file, which each offline run reads as it replays.
//!
//! Pass 1 streams the trace and writes its keys to an unlinked temporary
//! file (8 bytes a request). Pass 2 reads that file backwards in pieces of
//! [`PIECE`] keys, keeps the key -> nearest-future-position table (memory
//! O(distinct keys)), and writes each piece's next uses at its place in a
//! second unlinked file; the keys' file is then closed and gone. A run
//! reads the next uses of each batch it replays with positioned reads, so
//! any number of runs share the file. Memory: the table and two pieces
//! (16 MB); disk: 8 bytes a request.

use super::runner::{Data, RunError};
use crate::workload::future::Backward;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Keys per piece of the backward pass.
const PIECE: usize = 1 << 20;

/// A next-use array on disk.
#[derive(Debug, Clone)]
pub struct SpilledNextUse {
    file: Arc<File>,
    len: u64,
}

/// A new unlinked temporary file (gone when closed).
fn unlinked() -> std::io::Result<File> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = std::env::temp_dir().join(format!(
        "cachesim-future-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&name)?;
    let _ = std::fs::remove_file(&name);
    Ok(f)
}

fn io_err(what: &str, e: std::io::Error) -> RunError {
    RunError::Workload(format!(
        "cannot spill the future of the trace to a temporary file in {} ({what}): {e}",
        std::env::temp_dir().display()
    ))
}

impl SpilledNextUse {
    /// Computes the next uses of `data` (`requests` long) into a file.
    pub(crate) fn build(data: &Data, requests: u64) -> Result<SpilledNextUse, RunError> {
        let keys = unlinked().map_err(|e| io_err("keys", e))?;
        {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, &keys);
            data.for_each_chunk(1 << 16, |b, range, _| -> Result<(), RunError> {
                use std::io::Write;
                for &k in &b.keys[range] {
                    w.write_all(&k.to_le_bytes())
                        .map_err(|e| io_err("keys", e))?;
                }
                Ok(())
            })?;
            std::io::Write::flush(&mut w).map_err(|e| io_err("keys", e))?;
        }
        let out = unlinked().map_err(|e| io_err("next uses", e))?;
        out.set_len(requests * 8)
            .map_err(|e| io_err("next uses", e))?;
        let mut pass = Backward::new(PIECE);
        let mut bytes = vec![0u8; PIECE * 8];
        let mut piece = vec![0u64; PIECE];
        let mut next = vec![0u64; PIECE];
        let mut end = requests;
        while end > 0 {
            crate::interrupt::check()?;
            let start = end.saturating_sub(PIECE as u64);
            let n = (end - start) as usize;
            keys.read_exact_at(&mut bytes[..n * 8], start * 8)
                .map_err(|e| io_err("keys", e))?;
            for (k, c) in piece[..n].iter_mut().zip(bytes.chunks_exact(8)) {
                *k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            }
            pass.scan(&piece[..n], start, &mut next[..n]);
            for (c, v) in bytes.chunks_exact_mut(8).zip(&next[..n]) {
                c.copy_from_slice(&v.to_le_bytes());
            }
            out.write_all_at(&bytes[..n * 8], start * 8)
                .map_err(|e| io_err("next uses", e))?;
            end = start;
        }
        Ok(SpilledNextUse {
            file: Arc::new(out),
            len: requests,
        })
    }

    /// A reader for one run.
    pub(crate) fn reader(&self) -> NextUseReader {
        NextUseReader {
            file: self.file.clone(),
            len: self.len,
            bytes: Vec::new(),
            values: Vec::new(),
        }
    }
}

/// Reads the next uses of one run's batches.
pub(crate) struct NextUseReader {
    file: Arc<File>,
    len: u64,
    bytes: Vec<u8>,
    values: Vec<u64>,
}

impl NextUseReader {
    /// The next uses of stream positions `base..base + n`.
    pub(crate) fn read(&mut self, base: u64, n: usize) -> Result<&[u64], RunError> {
        if base + n as u64 > self.len {
            return Err(RunError::Workload(format!(
                "the trace changed while it was replayed: it is longer than the {} requests its future was computed for",
                self.len
            )));
        }
        self.bytes.resize(n * 8, 0);
        self.file
            .read_exact_at(&mut self.bytes, base * 8)
            .map_err(|e| io_err("next uses", e))?;
        self.values.clear();
        self.values.extend(
            self.bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
        );
        Ok(&self.values)
    }
}

/// Where a run's next uses come from: the array in memory (or none, for
/// an online policy), or the file of a long trace.
pub(crate) enum Future<'a> {
    /// Indexed by the position in the (whole, in-memory) batch.
    Memory(Option<&'a [u64]>),
    /// Read for each batch of the stream.
    File(NextUseReader),
}

impl Future<'_> {
    /// The next uses for a batch of `n` requests starting at stream
    /// position `base`, indexed as the loop indexes the batch.
    pub(crate) fn slice(&mut self, base: u64, n: usize) -> Result<Option<&[u64]>, RunError> {
        match self {
            Future::Memory(m) => Ok(*m),
            Future::File(r) => r.read(base, n).map(Some),
        }
    }
}
