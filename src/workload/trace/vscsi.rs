//! `vscsi`: CloudPhysics's original block I/O traces (VMware vscsiStats
//! records), as libCacheSim's `vscsiReader` reads them. Two record
//! versions, little-endian with C's natural alignment, told apart by the
//! high byte of a `u16` version field:
//!
//! | version | bytes | layout |
//! |---|---|---|
//! | 1 | 32 | `u32` serial, `u32` length, `u32` scatter-gather count, `u16` cmd, `u16` version (`0x01xx`), `u64` lbn, `u64` timestamp |
//! | 2 | 40 | `u16` cmd, `u16` version (`0x02xx`), `u32` serial, `u32` length, `u32` scatter-gather count, `u64` lbn, `u64` timestamp, `u64` response time |
//!
//! The first record says the version (as libCacheSim does, which checks the
//! first two); every record must then carry it, else an error names the
//! record's byte offset. Kept: the logical block number as the key, the
//! length (bytes) as the size, the timestamp (microseconds) as the time in
//! seconds with its fraction kept (libCacheSim truncates to whole seconds),
//! the SCSI command as the op: READ(6), READ(10), READ(12), READ(16) and
//! 0x2D are gets; WRITE(6/10/12/16), WRITE AND VERIFY(10/12/16) and the
//! other write commands libCacheSim counts (0x3F, 0x9A, 0x9C) are sets (the
//! lists follow libCacheSim's reader, plus WRITE(6) and WRITE AND
//! VERIFY(10)). Any other command is an error naming the record's byte
//! offset. A file ending inside a record is a truncation error naming the
//! byte offset where that record starts.
//!
//! Detection: by name (`vscsi` in it, as in `trace.vscsi` or
//! `w01_vscsi1.vscsitrace`) or by content: at least two whole records in
//! the first 4 KB, every one carrying the same version byte.

use super::oracle_general::{u32_at, u64_at};
use super::records::RecordScanner;
use super::{Claim, Format, TraceError};
use crate::request::Op;
use crate::workload::{Batch, RequestSource};
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

/// `vscsi` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "vscsi",
    aliases: &["vscsitrace"],
    describe: "CloudPhysics vscsi block traces (32-byte v1 or 40-byte v2 records: lbn, length, cmd, time in us)",
    by_name: |stem| stem.contains("vscsi"),
    by_content: |h| Claim::yes_if(h.binary && looks_like(h.bytes)),
    lines: false,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(VscsiReader::open(path, input)?)),
};

/// Where one version's fields sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    version: u8,
    size: usize,
    cmd: usize,
    ver: usize,
    len: usize,
}

const V1: Layout = Layout {
    version: 1,
    size: 32,
    cmd: 12,
    ver: 14,
    len: 4,
};
const V2: Layout = Layout {
    version: 2,
    size: 40,
    cmd: 0,
    ver: 2,
    len: 8,
};
/// Both layouts put the lbn and the timestamp here.
const LBN: usize = 16;
const TS: usize = 24;

impl Layout {
    /// The SCSI command of the record `r`.
    fn cmd_of(self, r: &[u8]) -> u16 {
        u16::from_le_bytes([r[self.cmd], r[self.cmd + 1]])
    }

    /// The version byte of the record `r`.
    fn version_of(self, r: &[u8]) -> u8 {
        r[self.ver + 1]
    }

    /// Whether there are `n` (at least 1) whole records in `head`, and the
    /// first `n` all carry this layout's version.
    fn fits(self, head: &[u8], n: usize) -> bool {
        n >= 1
            && head.len() / self.size >= n
            && head
                .chunks_exact(self.size)
                .take(n)
                .all(|r| self.version_of(r) == self.version)
    }
}

/// The op of SCSI command `cmd`, `None` for a command that neither reads
/// nor writes.
pub(crate) fn op_of(cmd: u16) -> Option<Op> {
    match cmd {
        0x08 | 0x28 | 0x2D | 0x88 | 0xA8 => Some(Op::Get),
        0x0A | 0x2A | 0x2E | 0x3F | 0x8A | 0x8E | 0x9A | 0x9C | 0xAA | 0xAE => Some(Op::Set),
        _ => None,
    }
}

const CMDS_KNOWN: &str = "reads 0x08, 0x28, 0x2d, 0x88, 0xa8; writes 0x0a, 0x2a, 0x2e, 0x3f, \
0x8a, 0x8e, 0x9a, 0x9c, 0xaa, 0xae";

/// Whether `head` (the first bytes of a file) looks like vscsi: at least
/// two whole records of one version, all carrying its version byte.
pub(crate) fn looks_like(head: &[u8]) -> bool {
    [V2, V1]
        .iter()
        .any(|l| l.fits(head, 2) && l.fits(head, head.len() / l.size))
}

pub(crate) struct VscsiReader {
    path: PathBuf,
    layout: Layout,
    records: RecordScanner,
}

impl VscsiReader {
    /// Tells the version from the first records of `input`.
    pub(crate) fn open(
        path: &Path,
        mut input: Box<dyn BufRead + Send>,
    ) -> Result<VscsiReader, TraceError> {
        let mut head = Vec::with_capacity(2 * V2.size);
        (&mut input)
            .take(2 * V2.size as u64)
            .read_to_end(&mut head)
            .map_err(|e| TraceError::read(path, e))?;
        // Two records of one version, else (a file this short) one.
        let found = [(V2, 2), (V1, 2), (V2, 1), (V1, 1)]
            .into_iter()
            .find(|&(l, n)| l.fits(&head, n))
            .map(|(l, _)| l);
        let layout = match found {
            Some(l) => l,
            // Nothing, or a truncated first record: the scanner says which.
            None if head.len() < V1.size => V1,
            None => {
                return Err(TraceError::Format {
                    path: path.to_path_buf(),
                    msg: format!(
                        "byte offset 0: not a vscsi trace: the version byte is {:#04x} where vscsi1 puts it (byte 15) and {:#04x} where vscsi2 does (byte 3); they must be 0x01 and 0x02",
                        head[15], head[3]
                    ),
                })
            }
        };
        let input: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(head).chain(input));
        Ok(VscsiReader {
            path: path.to_path_buf(),
            layout,
            records: RecordScanner::new(input, layout.size),
        })
    }
}

/// The first problem in `recs` (whole records starting at byte offset
/// `base`): another version or a command that neither reads nor writes.
fn check(path: &Path, l: Layout, recs: &[u8], base: u64) -> Option<TraceError> {
    let cmd = |r: &[u8]| l.cmd_of(r);
    let (i, r) = recs
        .chunks_exact(l.size)
        .enumerate()
        .find(|(_, r)| l.version_of(r) != l.version || op_of(cmd(r)).is_none())?;
    let msg = if l.version_of(r) != l.version {
        format!(
            "version byte {:#04x} in a vscsi{} trace (vscsi versions are 1 and 2)",
            l.version_of(r),
            l.version
        )
    } else {
        format!(
            "SCSI command {:#04x} neither reads nor writes; known: {CMDS_KNOWN}",
            cmd(r)
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

impl RequestSource for VscsiReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        let l = self.layout;
        let what = format!("a {}-byte vscsi{} record", l.size, l.version);
        let path = &self.path;
        self.records
            .fill_batch(path, 0, &what, batch, max, |recs, at, batch| {
                if let Some(e) = check(path, l, recs, at) {
                    return Err(e);
                }
                let recs = recs.chunks_exact(l.size);
                batch
                    .times
                    .extend(recs.clone().map(|r| u64_at(r, TS) as f64 / 1e6));
                batch.keys.extend(recs.clone().map(|r| u64_at(r, LBN)));
                batch.sizes.extend(recs.clone().map(|r| u32_at(r, l.len)));
                batch
                    .ops
                    .extend(recs.map(|r| op_of(l.cmd_of(r)).unwrap_or(Op::Get)));
                Ok(())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (cmd, lbn, length, timestamp in microseconds)
    type Rec = (u16, u64, u32, u64);

    const RECS: [Rec; 4] = [
        (0x2A, 42_932_745, 512, 5_633_898_368_802),
        (0x28, 7, 4096, 5_633_898_611_441),
        (0x88, u64::MAX, 0, 5_633_899_000_000),
        (0xAA, 7, u32::MAX, u64::MAX),
    ];

    /// `recs` as vscsi records of `version`, field by field as vscsi.h
    /// lays them out, with `ver` as the version field.
    fn raw(version: u8, recs: &[Rec], ver: u16) -> Vec<u8> {
        let mut d = vec![];
        for (i, &(cmd, lbn, len, ts)) in recs.iter().enumerate() {
            let sn = 0x8000_0000u32 + i as u32;
            if version == 1 {
                d.extend(sn.to_le_bytes());
                d.extend(len.to_le_bytes());
                d.extend(1u32.to_le_bytes()); // nSG
                d.extend(cmd.to_le_bytes());
                d.extend(ver.to_le_bytes());
                d.extend(lbn.to_le_bytes());
                d.extend(ts.to_le_bytes());
            } else {
                d.extend(cmd.to_le_bytes());
                d.extend(ver.to_le_bytes());
                d.extend(sn.to_le_bytes());
                d.extend(len.to_le_bytes());
                d.extend(1u32.to_le_bytes()); // nSG
                d.extend(lbn.to_le_bytes());
                d.extend(ts.to_le_bytes());
                d.extend(250u64.to_le_bytes()); // response time
            }
        }
        d
    }

    fn read_with(data: Vec<u8>, cap: usize, max: usize) -> Result<Batch, TraceError> {
        super::super::read_bytes(data, cap, max, |input| {
            VscsiReader::open(Path::new("t.vscsi"), input)
        })
    }

    fn read(data: Vec<u8>) -> Result<Batch, TraceError> {
        read_with(data, 1 << 16, 1 << 16)
    }

    #[test]
    fn both_versions_read_lbn_length_time_and_command() {
        for (version, size) in [(1u8, 32), (2, 40)] {
            let data = raw(version, &RECS, u16::from(version) << 8);
            assert_eq!(data.len(), RECS.len() * size);
            assert!(looks_like(&data), "v{version}");
            for (cap, max) in [(5, 1), (64, 3), (1 << 16, 1 << 16)] {
                let b = read_with(data.clone(), cap, max).unwrap();
                let ctx = format!("v{version} cap {cap} max {max}");
                assert_eq!(b.keys, [42_932_745, 7, u64::MAX, 7], "{ctx}");
                assert_eq!(b.sizes, [512, 4096, 0, u32::MAX], "{ctx}");
                assert_eq!(
                    b.times,
                    [
                        5_633_898.368802,
                        5_633_898.611441,
                        5_633_899.0,
                        u64::MAX as f64 / 1e6
                    ],
                    "{ctx}"
                );
                assert_eq!(b.ops, [Op::Set, Op::Get, Op::Get, Op::Set], "{ctx}");
            }
            // The low byte of the version field is not looked at.
            let b = read(raw(version, &RECS, u16::from(version) << 8 | 0x5A)).unwrap();
            assert_eq!(b.len(), 4);
            // A file of one record.
            assert_eq!(read(data[..size].to_vec()).unwrap().keys, [42_932_745]);
        }
        assert!(read(vec![]).unwrap().is_empty());
    }

    #[test]
    fn commands_map_reads_to_gets_and_writes_to_sets() {
        for cmd in [0x08, 0x28, 0xA8, 0x88] {
            assert_eq!(op_of(cmd), Some(Op::Get), "{cmd:#x}");
        }
        for cmd in [0x0A, 0x2A, 0xAA, 0x8A, 0x2E, 0xAE, 0x8E] {
            assert_eq!(op_of(cmd), Some(Op::Set), "{cmd:#x}");
        }
        // TEST UNIT READY, INQUIRY, SYNCHRONIZE CACHE: no data moved.
        for cmd in [0x00, 0x12, 0x35, 0x128] {
            assert_eq!(op_of(cmd), None, "{cmd:#x}");
        }
    }

    #[test]
    fn a_truncated_record_names_its_offset() {
        for (version, size) in [(1u8, 32u64), (2, 40)] {
            let mut data = raw(version, &RECS, u16::from(version) << 8);
            data.truncate(3 * size as usize + 9);
            for cap in [5, 1 << 16] {
                match read_with(data.clone(), cap, 2).unwrap_err() {
                    TraceError::Truncated { offset, msg, .. } => {
                        assert_eq!(offset, 3 * size, "v{version}");
                        assert!(msg.contains(&format!("9 bytes into a {size}-byte vscsi{version}")));
                    }
                    e => panic!("v{version}: {e}"),
                }
            }
            // A first record cut short.
            let e = read(data[..20].to_vec()).unwrap_err();
            assert!(matches!(e, TraceError::Truncated { offset: 0, .. }), "{e}");
        }
    }

    #[test]
    fn another_version_or_command_names_its_record() {
        for (version, size) in [(1u8, 32usize), (2, 40)] {
            let mut data = raw(version, &RECS, u16::from(version) << 8);
            let ver_at = if version == 1 { 15 } else { 3 };
            data[2 * size + ver_at] = 3;
            let e = read(data).unwrap_err().to_string();
            assert!(
                e.contains(&format!("record at byte offset {}", 2 * size))
                    && e.contains(&format!("version byte 0x03 in a vscsi{version} trace")),
                "{e}"
            );
            let mut recs = RECS;
            recs[3].0 = 0x35;
            let e = read(raw(version, &recs, u16::from(version) << 8))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("record at byte offset {}", 3 * size))
                    && e.contains("SCSI command 0x35"),
                "{e}"
            );
        }
        let e = read(raw(1, &RECS, 0x0300)).unwrap_err().to_string();
        assert!(e.contains("byte offset 0: not a vscsi trace"), "{e}");
    }

    #[test]
    fn other_binary_data_does_not_look_like_vscsi() {
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(!looks_like(&noise));
        let mut og = Batch::new(1.0, 1);
        og.keys = (0..170).map(|k| k * 7919).collect();
        og.sizes = vec![4096; 170];
        let mut data = vec![];
        super::super::oracle_general::write(&og, &mut data).unwrap();
        assert!(!looks_like(&data));
        // One record is too little to tell.
        assert!(!looks_like(&raw(1, &RECS[..1], 0x0100)));
    }
}
