//! Writing requests as a trace file (`trace convert`, `workload export`), in
//! the formats cachesim reads back: `text` (one decimal key per line), `csv`
//! (`time,key,size` header, plus `op` when some request is not a get) and
//! `oracle-general` (with `next_access_vtime` computed). Reading a written
//! file back yields the same keys, sizes and ops; times survive exactly in
//! csv and as whole seconds in oracle-general; csv adds `ttl` and `tenant`
//! columns when some request has one, so they survive too.

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

/// Whether [`write`] keeps the requests' TTLs in `format` (csv as a `ttl`
/// column, lcs from version 3), so that reading the file back gives them.
pub fn keeps_ttls(format: TraceFormat) -> bool {
    matches!(format, TraceFormat::Csv | TraceFormat::Lcs)
}

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
            let with_ttls = batch.ttls.iter().any(|&t| t != 0.0);
            let with_tenants = batch.tenants.iter().any(|&t| t != 0);
            let mut header = String::from("time,key,size");
            for (with, name) in [
                (with_ops, ",op"),
                (with_ttls, ",ttl"),
                (with_tenants, ",tenant"),
            ] {
                if with {
                    header += name;
                }
            }
            writeln!(w, "{header}")?;
            for i in 0..batch.len() {
                let r = batch.request(i, i as u64);
                write!(w, "{},{},{}", r.time, r.key, r.size)?;
                if with_ops {
                    write!(w, ",{}", r.op.as_str())?;
                }
                if with_ttls {
                    write!(w, ",{}", batch.ttl(i))?;
                }
                if with_tenants {
                    write!(w, ",{}", batch.tenant(i))?;
                }
                writeln!(w)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::trace::csv::CsvReader;
    use crate::workload::RequestSource;

    #[test]
    fn csv_round_trips_ttls_and_tenants() {
        let mut b = Batch::new(1.0, 1);
        b.keys = vec![1, 2, 3];
        b.times = vec![0.5, 1.0, 2.25];
        b.sizes = vec![10, 20, 30];
        b.ops = vec![Op::Get, Op::Set, Op::Delete];
        b.ttls = vec![0.0, 30.5, 0.0];
        b.tenants = vec![4, 0, 9];
        let mut out = Vec::new();
        write(&b, TraceFormat::Csv, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("time,key,size,op,ttl,tenant\n"), "{text}");
        let input: Box<dyn std::io::BufRead + Send> = Box::new(std::io::Cursor::new(out));
        let mut r = CsvReader::new(std::path::Path::new("t.csv"), input, &[], &[], true).unwrap();
        let mut back = Batch::new(1.0, 1);
        r.next_batch(&mut back, 10).unwrap();
        assert_eq!(
            (
                back.keys,
                back.times,
                back.sizes,
                back.ops,
                back.ttls,
                back.tenants
            ),
            (b.keys, b.times, b.sizes, b.ops, b.ttls, b.tenants)
        );
    }
}
