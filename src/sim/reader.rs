//! Reading a trace on a second thread: the replay thread only simulates.
//!
//! A reader thread opens the trace (decompressing it there, if it is
//! compressed), decodes it into batches of requests and hands them over a
//! bounded queue ([`DEPTH`] batches); the replay thread gives each batch
//! back once replayed, so a pass holds at most `DEPTH + 2` batches whatever
//! the trace's length. Batches are cut exactly as a reader on the replay
//! thread would cut them and arrive in order, so results do not depend on
//! thread timing.
//!
//! Asked to, the reader thread also counts the trace's requests and
//! distinct keys as it goes ([`StreamCounts`]): a single run then reads
//! the trace once instead of a counting pass and then the replay.
//!
//! Uncompressed binary traces are read with `read()` into large buffers,
//! not memory-mapped: the copy from the page cache runs on the reader
//! thread, which is not the bottleneck (LRU over a 10M-request
//! oracleGeneral file: 39% of the samples against the replay thread's 61%,
//! the kernel copy 5%), so a map would not shorten the run and would bring
//! `unsafe` and SIGBUS on a file truncated under the reader.
//!
//! Errors of the reader (a malformed line, a truncated record) reach the
//! replay thread in stream order, after the batches before them, and stop
//! the pass with the reader's own error (file and line). A stopped pass
//! (an error, an interrupt) drops its end of the queue; the reader thread
//! then stops at its next batch, on its own.

use crate::workload::distinct::DistinctKeys;
use crate::workload::trace::{self, TraceError, TraceSpec};
use crate::workload::{Batch, RequestSource};
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::OnceLock;

/// Decoded batches queued ahead of the replay: with the one the reader
/// fills and the one replayed, three batches (about 5 MB for 24-byte
/// records) in memory at most; more did not run faster.
const DEPTH: usize = 1;

/// What a whole pass over a trace counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCounts {
    /// Requests in the trace.
    pub requests: u64,
    /// Distinct keys in the trace.
    pub distinct: u64,
}

/// Calls `f(batch, range, vtime_base)` on the batches of at most `chunk`
/// requests of the trace `path`, in order, read and decoded on a second
/// thread. With `count`, and `count` not yet set, the reader also counts
/// the trace's requests and distinct keys and the pass sets `count` once
/// it has read the whole trace (an empty trace is then an error, as the
/// counting pass makes it). Stops with [`crate::interrupt::Interrupted`]
/// at the first batch after a signal.
pub(crate) fn for_each_read<E: From<TraceError> + From<crate::interrupt::Interrupted>>(
    path: &Path,
    format: &TraceSpec,
    rate: f64,
    chunk: usize,
    count: Option<&OnceLock<StreamCounts>>,
    mut f: impl FnMut(&Batch, std::ops::Range<usize>, u64) -> Result<(), E>,
) -> Result<(), E> {
    // Opened here, so an unreadable file fails before any thread starts.
    let source = trace::open(path, Some(format))?;
    let counting = count.is_some_and(|c| c.get().is_none());
    let (full_tx, full_rx) = sync_channel(DEPTH);
    let (free_tx, free_rx) = channel();
    let reader = Reader {
        source,
        rate,
        chunk,
        seen: counting.then(DistinctKeys::new),
        requests: 0,
    };
    let handle = std::thread::Builder::new()
        .name("trace-reader".into())
        .spawn(move || reader.run(full_tx, free_rx))
        .map_err(|err| TraceError::Io {
            path: path.to_path_buf(),
            err,
        })?;
    let mut vtime = 0u64;
    for msg in full_rx.iter() {
        let b = msg?;
        crate::interrupt::check()?;
        f(&b, 0..b.len(), vtime)?;
        vtime += b.len() as u64;
        // The reader may have stopped already; the batch is then dropped.
        let _ = free_tx.send(b);
    }
    // The queue closed without an error: the reader read the whole trace.
    let counted = match handle.join() {
        Ok(c) => c,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if let (Some(cell), Some(c)) = (count, counted) {
        if c.requests == 0 {
            return Err(TraceError::Empty {
                path: path.to_path_buf(),
            }
            .into());
        }
        // Another pass may have counted it first: the same numbers.
        let _ = cell.set(c);
    }
    Ok(())
}

/// The reader thread's state.
struct Reader {
    source: Box<dyn RequestSource + Send>,
    rate: f64,
    chunk: usize,
    /// The keys seen so far, when counting.
    seen: Option<DistinctKeys>,
    requests: u64,
}

impl Reader {
    /// Reads the trace into `full`, reusing the batches that come back on
    /// `free`. Returns the counts after a whole pass when counting; `None`
    /// otherwise, or when the pass stopped (an error sent, the replay
    /// gone).
    fn run(
        mut self,
        full: SyncSender<Result<Batch, TraceError>>,
        free: Receiver<Batch>,
    ) -> Option<StreamCounts> {
        loop {
            let mut b = free.try_recv().unwrap_or_else(|_| Batch::new(self.rate, 1));
            match self.source.next_batch(&mut b, self.chunk) {
                Ok(0) => break,
                Ok(n) => {
                    self.requests += n as u64;
                    if let Some(seen) = &mut self.seen {
                        seen.extend(&b.keys);
                    }
                    if full.send(Ok(b)).is_err() {
                        return None;
                    }
                }
                Err(e) => {
                    let _ = full.send(Err(e));
                    return None;
                }
            }
        }
        self.seen.map(|s| StreamCounts {
            requests: self.requests,
            distinct: s.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::runner::RunError;
    use crate::workload::trace::TraceFormat;
    use std::io::Write;

    /// An oracleGeneral trace of `keys` (time = index, size 7).
    fn oracle(keys: &[u64]) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new()
            .suffix(".oracleGeneral.bin")
            .tempfile()
            .unwrap();
        for (i, &k) in keys.iter().enumerate() {
            f.write_all(&(i as u32).to_le_bytes()).unwrap();
            f.write_all(&k.to_le_bytes()).unwrap();
            f.write_all(&7u32.to_le_bytes()).unwrap();
            f.write_all(&(-1i64).to_le_bytes()).unwrap();
        }
        f.flush().unwrap();
        f
    }

    fn spec() -> TraceSpec {
        TraceSpec::from(TraceFormat::OracleGeneral)
    }

    /// Keys with repeats, and one past 2^32 (the wide set) late.
    fn keys() -> Vec<u64> {
        (0..10_000u64)
            .map(|i| if i == 9_000 { 1 << 40 } else { (i * i) % 777 })
            .collect()
    }

    #[test]
    fn batches_arrive_in_order_as_a_direct_read_cuts_them_and_are_counted() {
        let keys = keys();
        let f = oracle(&keys);
        let mut direct = trace::open(f.path(), Some(&spec())).unwrap();
        let mut b = Batch::new(1.0, 1);
        let mut cuts = Vec::new();
        while direct.next_batch(&mut b, 999).unwrap() > 0 {
            cuts.push((b.keys.clone(), b.sizes.clone()));
        }
        let cell = OnceLock::new();
        let mut seen: Vec<(Vec<u64>, Vec<u32>)> = Vec::new();
        let mut vtime = 0;
        for_each_read(f.path(), &spec(), 1.0, 999, Some(&cell), |b, r, base| {
            assert_eq!((r, base), (0..b.len(), vtime));
            vtime += b.len() as u64;
            seen.push((b.keys.clone(), b.sizes.clone()));
            Ok::<(), RunError>(())
        })
        .unwrap();
        assert_eq!(seen, cuts);
        let distinct = keys.iter().collect::<std::collections::HashSet<_>>().len();
        assert_eq!(
            cell.get(),
            Some(&StreamCounts {
                requests: 10_000,
                distinct: distinct as u64
            })
        );
        // A pass without a cell to fill counts nothing, and still reads all.
        let mut n = 0;
        for_each_read(f.path(), &spec(), 1.0, 999, None, |b, _, _| {
            n += b.len();
            Ok::<(), RunError>(())
        })
        .unwrap();
        assert_eq!(n, 10_000);
    }

    #[test]
    fn a_reader_error_comes_after_the_batches_before_it_and_counts_nothing() {
        let f = oracle(&keys());
        let file = f.as_file();
        file.set_len(5_000 * 24 + 10).unwrap();
        let cell = OnceLock::new();
        let mut read = 0;
        let e = for_each_read(f.path(), &spec(), 1.0, 1_000, Some(&cell), |b, _, _| {
            read += b.len();
            Ok::<(), RunError>(())
        })
        .unwrap_err();
        assert_eq!(read, 5_000);
        assert!(
            matches!(
                e,
                RunError::Trace(TraceError::Truncated {
                    offset: 120_000,
                    ..
                })
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains(&f.path().display().to_string()),
            "{e}"
        );
        assert_eq!(cell.get(), None);
    }

    #[test]
    fn a_stopped_pass_returns_its_own_error_and_counts_nothing() {
        let f = oracle(&keys());
        let cell = OnceLock::new();
        let mut calls = 0;
        let e = for_each_read(f.path(), &spec(), 1.0, 100, Some(&cell), |_, _, _| {
            calls += 1;
            if calls == 3 {
                return Err(RunError::Workload("stop".into()));
            }
            Ok(())
        })
        .unwrap_err();
        assert_eq!((calls, e.to_string()), (3, "stop".to_string()));
        assert_eq!(cell.get(), None);
    }

    #[test]
    fn an_empty_trace_counted_by_its_pass_is_an_error() {
        let f = oracle(&[]);
        let cell = OnceLock::new();
        let e = for_each_read(f.path(), &spec(), 1.0, 100, Some(&cell), |_, _, _| {
            Ok::<(), RunError>(())
        })
        .unwrap_err();
        assert!(
            matches!(e, RunError::Trace(TraceError::Empty { .. })),
            "{e}"
        );
    }
}
