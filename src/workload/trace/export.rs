//! Writing requests as a trace file (`trace convert`, `workload export`), in
//! the formats cachesim reads back: `text` (one decimal key per line), `csv`
//! (`time,key,size` header, plus `op` when some request is not a get) and
//! `oracle-general` (with `next_access_vtime` computed). Reading a written
//! file back yields the same keys, sizes and ops; times survive exactly in
//! csv and as whole seconds in oracle-general.

use super::{lcs, oracle_general, TraceFormat};
use crate::request::Op;
use crate::workload::Batch;
use std::io::{self, Write};

/// The formats [`write`] writes (and `trace convert --to` offers).
pub const WRITABLE: &[TraceFormat] = &[
    TraceFormat::OracleGeneral,
    TraceFormat::Lcs,
    TraceFormat::Csv,
    TraceFormat::Text,
];

/// Writes `batch` to `w` as `format`. Errors for a format it cannot write.
pub fn write(batch: &Batch, format: TraceFormat, w: &mut dyn Write) -> io::Result<()> {
    match format {
        TraceFormat::OracleGeneral => oracle_general::write(batch, w),
        TraceFormat::Lcs => lcs::write(batch, w),
        TraceFormat::Text => {
            for &k in &batch.keys {
                writeln!(w, "{k}")?;
            }
            Ok(())
        }
        TraceFormat::Csv => {
            let with_ops = batch.ops.iter().any(|&o| o != Op::Get);
            w.write_all(if with_ops {
                b"time,key,size,op\n"
            } else {
                b"time,key,size\n"
            })?;
            for i in 0..batch.len() {
                let r = batch.request(i, i as u64);
                if with_ops {
                    writeln!(w, "{},{},{},{}", r.time, r.key, r.size, r.op.as_str())?;
                } else {
                    writeln!(w, "{},{},{}", r.time, r.key, r.size)?;
                }
            }
            Ok(())
        }
        other => Err(io::Error::other(format!(
            "cannot write the '{other}' format; writable formats: {}",
            WRITABLE
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
