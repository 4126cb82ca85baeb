//! JSON: an array with one object per run, the same names as the CSV columns.

use super::Exporter;
use crate::sim::RunResult;
use std::io::{self, Write};

pub(crate) struct JsonExporter;

impl Exporter for JsonExporter {
    fn write(&self, results: &[RunResult], out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, results)?;
        writeln!(out)
    }
}
