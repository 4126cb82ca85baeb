//! CSV: one row per run, the columns of [`crate::sim::result::COLUMNS`].

use super::Exporter;
use crate::sim::RunResult;
use std::io::{self, Write};

pub(crate) struct CsvExporter;

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
