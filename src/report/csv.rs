//! CSV: one row per run, the columns of [`crate::sim::result::COLUMNS`].

use super::Exporter;
use crate::sim::RunResult;
use std::io::{self, Write};
use std::path::Path;

pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn write(&self, results: &[RunResult], out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        if results.is_empty() {
            w.write_record(crate::sim::result::COLUMNS)?;
        }
        for r in results {
            w.serialize(r)?;
        }
        w.flush()
    }
}

/// Reads results back from a CSV file written by cachesim (so charts and
/// comparisons never need a rerun).
pub fn read_results(path: &Path) -> Result<Vec<RunResult>, String> {
    let mut rdr = csv::Reader::from_path(path)
        .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, row) in rdr.deserialize().enumerate() {
        let r: RunResult = row.map_err(|e| format!("{}:{}: {e}", path.display(), i + 2))?;
        out.push(r);
    }
    Ok(out)
}
