//! Fixed-size binary records for the binary readers (`oracle-general`,
//! `u32be`, `i64be`): hands out runs of whole records borrowed straight from
//! the reader's buffer, so decoding is a tight loop over a slice with no copy
//! and no allocation. A record split across buffer fills is assembled in a
//! small carry buffer; a file that ends inside a record is reported with the
//! byte offset (in the decompressed stream) where that record starts.

use super::TraceError;
use crate::workload::Batch;
use std::io::{self, BufRead};
use std::path::Path;

pub(crate) struct RecordScanner {
    input: Box<dyn BufRead + Send>,
    size: usize,
    /// Decompressed bytes handed out so far (whole records).
    offset: u64,
    carry: Vec<u8>,
}

/// How a call to [`RecordScanner::next_records`] ended.
pub(crate) enum Chunk {
    /// This many records were handed out (0: end of input).
    Records(usize),
    /// The input ended inside a record starting at `offset`, after `got` bytes.
    Truncated { offset: u64, got: usize },
}

impl RecordScanner {
    pub(crate) fn new(input: Box<dyn BufRead + Send>, size: usize) -> RecordScanner {
        assert!(size > 0);
        RecordScanner {
            input,
            size,
            offset: 0,
            carry: Vec::with_capacity(size),
        }
    }

    /// Calls `f` once with up to `max` whole records (a slice whose length is
    /// a multiple of the record size), or not at all at the end of input.
    pub(crate) fn next_records(
        &mut self,
        max: usize,
        mut f: impl FnMut(&[u8]),
    ) -> io::Result<Chunk> {
        let size = self.size;
        loop {
            if !self.carry.is_empty() {
                let buf = self.input.fill_buf()?;
                if buf.is_empty() {
                    return Ok(Chunk::Truncated {
                        offset: self.offset,
                        got: self.carry.len(),
                    });
                }
                let take = (size - self.carry.len()).min(buf.len());
                self.carry.extend_from_slice(&buf[..take]);
                self.input.consume(take);
                if self.carry.len() == size {
                    f(&self.carry);
                    self.carry.clear();
                    self.offset += size as u64;
                    return Ok(Chunk::Records(1));
                }
                continue;
            }
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(Chunk::Records(0));
            }
            let whole = (buf.len() / size).min(max.max(1));
            if whole == 0 {
                let n = buf.len();
                self.carry.extend_from_slice(buf);
                self.input.consume(n);
                continue;
            }
            let bytes = whole * size;
            f(&buf[..bytes]);
            self.input.consume(bytes);
            self.offset += bytes as u64;
            return Ok(Chunk::Records(whole));
        }
    }
}

impl RecordScanner {
    /// Clears `batch` and reads whole records into it until it holds `max`
    /// requests or the input ends; returns how many it holds.
    /// `decode(records, offset, batch)` appends a run of records whose first
    /// one starts at byte `offset` of the file (`skip`, the bytes before the
    /// scanner's input, included), or returns the error that stops reading.
    /// An input ending inside a record is [`TraceError::Truncated`], `what`
    /// naming the record ("a 36-byte lcs record").
    pub(crate) fn fill_batch(
        &mut self,
        path: &Path,
        skip: u64,
        what: &str,
        batch: &mut Batch,
        max: usize,
        mut decode: impl FnMut(&[u8], u64, &mut Batch) -> Result<(), TraceError>,
    ) -> Result<usize, TraceError> {
        batch.clear();
        while batch.len() < max {
            let room = max - batch.len();
            let at = skip + self.offset;
            let mut result = Ok(());
            let chunk = self
                .next_records(room, |recs| result = decode(recs, at, batch))
                .map_err(|err| TraceError::read(path, err))?;
            result?;
            match chunk {
                Chunk::Records(0) => break,
                Chunk::Records(_) => {}
                Chunk::Truncated { offset, got } => {
                    return Err(TraceError::Truncated {
                        path: path.to_path_buf(),
                        offset: skip + offset,
                        msg: format!("the file ends {got} bytes into {what}"),
                    })
                }
            }
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_across_buffer_fills_and_truncation_offset() {
        let data: Vec<u8> = (0..23u8).collect();
        for cap in [1, 3, 5, 8, 64] {
            let input = io::BufReader::with_capacity(cap, io::Cursor::new(data.clone()));
            let mut s = RecordScanner::new(Box::new(input), 5);
            let mut got = vec![];
            let end = loop {
                match s.next_records(2, |r| got.extend_from_slice(r)).unwrap() {
                    Chunk::Records(0) => break None,
                    Chunk::Records(n) => assert!(n <= 2),
                    Chunk::Truncated { offset, got } => break Some((offset, got)),
                }
            };
            assert_eq!(got, (0..20u8).collect::<Vec<_>>(), "cap {cap}");
            assert_eq!(end, Some((20, 3)), "cap {cap}");
        }
    }
}
