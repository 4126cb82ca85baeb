//! `u32be` and `i64be`: raw streams of big-endian keys, one per request, no
//! header, as Java's `DataOutputStream` writes them. Caffeine's simulator
//! keeps several public traces this way: CloudPhysics `w106` and the cache2k
//! traces (32-bit, `readInt`), Scarab's recommendation trace (64-bit signed,
//! `readLong`).
//!
//! Keys: a `u32be` word is read as an unsigned number (a Java `int` that is
//! negative becomes its two's-complement bit pattern, 2^32 - |v|), an `i64be`
//! word is the key's 64-bit pattern, so distinct inputs stay distinct keys.
//! Every request is a get of size 1. A stream whose length is not a multiple
//! of the word size ends in a truncated record: an error naming its byte
//! offset.

use super::records::{Chunk, RecordScanner};
use super::{Claim, Format, TraceError};
use crate::workload::{Batch, RequestSource};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The key width of a raw key stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Width {
    U32,
    I64,
}

impl Width {
    pub(crate) fn bytes(self) -> usize {
        match self {
            Width::U32 => 4,
            Width::I64 => 8,
        }
    }
}

/// `u32be` in the table of trace formats.
pub(crate) static U32BE: Format = Format {
    name: "u32be",
    aliases: &[],
    describe: "raw big-endian 32-bit keys, one per request (w106, cache2k)",
    by_name: |_| false,
    // Any bytes are a key stream: only `--trace-format` can say so.
    by_content: |_| Claim::No,
    lines: false,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(BinaryKeyReader::new(path, input, Width::U32))),
};

/// `i64be` in the table of trace formats.
pub(crate) static I64BE: Format = Format {
    name: "i64be",
    aliases: &[],
    describe: "raw big-endian 64-bit keys, one per request (Scarab)",
    by_name: |_| false,
    by_content: |_| Claim::No,
    lines: false,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(BinaryKeyReader::new(path, input, Width::I64))),
};

pub(crate) struct BinaryKeyReader {
    path: PathBuf,
    width: Width,
    records: RecordScanner,
}

impl BinaryKeyReader {
    pub(crate) fn new(
        path: &Path,
        input: Box<dyn BufRead + Send>,
        width: Width,
    ) -> BinaryKeyReader {
        BinaryKeyReader {
            path: path.to_path_buf(),
            width,
            records: RecordScanner::new(input, width.bytes()),
        }
    }
}

impl RequestSource for BinaryKeyReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        let width = self.width;
        while batch.len() < max {
            let room = max - batch.len();
            let chunk = self
                .records
                .next_records(room, |recs| match width {
                    Width::U32 => batch.keys.extend(
                        recs.chunks_exact(4)
                            .map(|r| u64::from(u32::from_be_bytes([r[0], r[1], r[2], r[3]]))),
                    ),
                    Width::I64 => batch.keys.extend(recs.chunks_exact(8).map(|r| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(r);
                        u64::from_be_bytes(b)
                    })),
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
                            "the stream ends {got} bytes into a {}-byte key",
                            width.bytes()
                        ),
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
    use std::io;

    fn read(data: Vec<u8>, width: Width) -> Result<Vec<u64>, TraceError> {
        let input = Box::new(io::BufReader::with_capacity(3, io::Cursor::new(data)));
        let mut r = BinaryKeyReader::new(Path::new("t.trace"), input, width);
        let mut b = Batch::new(1.0, 1);
        let mut out = vec![];
        while r.next_batch(&mut b, 2)? > 0 {
            out.extend_from_slice(&b.keys);
        }
        Ok(out)
    }

    #[test]
    fn big_endian_words() {
        let mut d = vec![];
        for v in [1u32, 0x0102_0304, u32::MAX] {
            d.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(
            read(d, Width::U32).unwrap(),
            vec![1, 0x0102_0304, u64::from(u32::MAX)]
        );
        let mut d = vec![];
        for v in [5i64, -1, i64::MIN] {
            d.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(read(d, Width::I64).unwrap(), vec![5, u64::MAX, 1 << 63]);
    }

    #[test]
    fn truncated_word_names_offset() {
        let e = read(vec![0; 4 * 3 + 2], Width::U32)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("byte offset 12") && e.contains("2 bytes into a 4-byte key"),
            "{e}"
        );
        let e = read(vec![0; 9], Width::I64).unwrap_err().to_string();
        assert!(e.contains("byte offset 8"), "{e}");
    }
}
