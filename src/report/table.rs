//! The readable table printed by default: one line per run, the numbers a
//! person looks at first.

use super::Exporter;
use crate::sim::RunResult;
use std::io::{self, Write};

pub(crate) struct TableExporter;

fn human(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.2}G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

impl Exporter for TableExporter {
    fn write(&self, results: &[RunResult], out: &mut dyn Write) -> io::Result<()> {
        let header = [
            "workload",
            "strategy",
            "capacity",
            "requests",
            "hit ratio",
            "misses",
            "evictions",
            "req/s",
        ];
        let rows: Vec<[String; 8]> = results
            .iter()
            .map(|r| {
                let cap = if r.capacity_unit == "bytes" {
                    crate::units::format_bytes(r.capacity)
                } else if r.capacity_spec.ends_with('%') {
                    format!("{} ({})", r.capacity, r.capacity_spec)
                } else {
                    r.capacity.to_string()
                };
                [
                    if r.group.is_empty() {
                        r.workload.clone()
                    } else {
                        format!("{} [{}]", r.workload, r.group)
                    },
                    r.strategy.clone(),
                    cap,
                    r.requests.to_string(),
                    format!("{:.2}%", r.hit_ratio * 100.0),
                    r.misses.to_string(),
                    r.evictions.to_string(),
                    human(r.requests_per_s),
                ]
            })
            .collect();
        let mut width = header.map(str::len);
        for row in &rows {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < 2 {
                        format!("{c:<w$}", w = width[i])
                    } else {
                        format!("{c:>w$}", w = width[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        writeln!(out, "{}", line(&header.map(String::from)))?;
        writeln!(
            out,
            "{}",
            width
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ")
        )?;
        for row in &rows {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }
}
