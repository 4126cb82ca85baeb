//! `cachesim trace stats FILE`, `cachesim trace convert IN OUT --to F` and
//! `cachesim trace import SOURCE FILE -o OUT`: look inside a trace before
//! replaying it, hand it to other tools, and make one from a capture.

use super::{usage, CliError};
use crate::cli::{
    ImportSource, StatsFormat, TraceCommand, TraceConvertArgs, TraceImportArgs, TraceOutFormat,
    TraceStatsArgs,
};
use crate::units::format_bytes;
use crate::workload::stats::{self, TraceStats};
use crate::workload::trace::{self, export, TraceFormat, TraceSpec};
use anyhow::Context;
use std::io::Write;

/// Runs `cachesim trace stats` or `cachesim trace convert`.
pub fn trace(c: TraceCommand) -> Result<(), CliError> {
    match c {
        TraceCommand::Stats(a) => stats_cmd(a),
        TraceCommand::Convert(a) => convert(a),
        TraceCommand::Import(a) => import(a),
    }
}

fn reader_format(
    f: &Option<String>,
    page_size: &Option<String>,
) -> Result<Option<TraceSpec>, CliError> {
    let spec = f
        .as_deref()
        .map(|f| TraceSpec::parse(f).map_err(|e| usage("--trace-format", e)))
        .transpose()?;
    super::inputs::page_size(spec, page_size)
}

/// The library format for an output format choice.
pub fn out_format(f: TraceOutFormat) -> TraceFormat {
    match f {
        TraceOutFormat::OracleGeneral => TraceFormat::OracleGeneral,
        TraceOutFormat::Lcs => TraceFormat::Lcs,
        TraceOutFormat::Csv => TraceFormat::Csv,
        TraceOutFormat::Text => TraceFormat::Text,
    }
}

fn stats_cmd(a: TraceStatsArgs) -> Result<(), CliError> {
    let format = reader_format(&a.trace_format, &a.page_size)?;
    let mut reader = trace::open(&a.file, format.as_ref()).map_err(anyhow::Error::new)?;
    let st = stats::compute(reader.as_mut(), &a.file).map_err(anyhow::Error::new)?;
    super::to_stdout(|out| match a.format {
        StatsFormat::Json => serde_json::to_writer_pretty(&mut *out, &st)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        StatsFormat::Table => write_table(&st, &a.file.display().to_string(), out),
    })
}

fn write_table(st: &TraceStats, name: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let pct = |v: f64| format!("{:.2}%", v * 100.0);
    writeln!(out, "trace              {name}")?;
    writeln!(out, "requests           {}", st.requests)?;
    writeln!(out, "distinct keys      {}", st.distinct_keys)?;
    writeln!(
        out,
        "total bytes        {} ({})",
        st.total_bytes,
        format_bytes(st.total_bytes)
    )?;
    writeln!(
        out,
        "distinct bytes     {} ({})",
        st.distinct_bytes,
        format_bytes(st.distinct_bytes)
    )?;
    writeln!(
        out,
        "one-hit wonders    {} ({} of distinct keys)",
        st.one_hit_wonders,
        pct(st.one_hit_wonder_fraction)
    )?;
    match &st.zipf {
        Some(z) => writeln!(
            out,
            "zipf alpha         {:.4} (least squares on ln count vs ln rank, ranks {}..={}, R^2 {:.3})",
            z.alpha, z.rank_from, z.rank_to, z.r_squared
        )?,
        None => writeln!(out, "zipf alpha         - (fewer than two distinct keys)")?,
    }
    writeln!(
        out,
        "reuse distance     over {} re-requests (distinct keys between two requests of a key)",
        st.reuses
    )?;
    for p in &st.reuse_distance {
        let label = if p.p == 100.0 {
            "max".to_string()
        } else {
            format!("p{}", p.p)
        };
        writeln!(out, "  {label:<6}           {}", p.value)?;
    }
    writeln!(
        out,
        "operations         {} gets, {} sets, {} deletes",
        st.gets, st.sets, st.deletes
    )?;
    match (st.ttl_min_s, st.ttl_max_s) {
        (Some(lo), Some(hi)) => writeln!(
            out,
            "TTLs               {} requests ({}) give one, {} .. {}",
            st.with_ttl,
            pct(st.with_ttl as f64 / st.requests.max(1) as f64),
            crate::units::format_duration(lo),
            crate::units::format_duration(hi)
        )?,
        _ => writeln!(out, "TTLs               none")?,
    }
    writeln!(out, "tenants            {}", st.tenants)?;
    if let (Some(t0), Some(t1)) = (st.first_time_s, st.last_time_s) {
        writeln!(
            out,
            "time span          {} (from {t0} s to {t1} s)",
            crate::units::format_duration(t1 - t0)
        )?;
    }
    writeln!(out, "top keys           (key: requests)")?;
    for k in &st.top_keys {
        writeln!(out, "  {:<20} {}", k.key, k.count)?;
    }
    Ok(())
}

fn convert(a: TraceConvertArgs) -> Result<(), CliError> {
    let format = reader_format(&a.trace_format, &a.page_size)?;
    let batch = trace::read_all(
        &a.input,
        format.as_ref(),
        crate::workload::preset::DEFAULT_RATE,
    )
    .map_err(anyhow::Error::new)?;
    let to = out_format(a.to);
    crate::files::write_atomic(&a.output, |w| export::write(&batch, to, w))
        .with_context(|| format!("cannot write '{}'", a.output.display()))?;
    crate::cmd::say!(
        "wrote {} requests to {} ({})",
        batch.len(),
        a.output.display(),
        to.name()
    );
    Ok(())
}

/// `trace import`: reads the whole capture (so that a bad line writes no
/// file), writes it as `--to`, says what was skipped, and warns when the
/// written format drops the requests' TTLs.
fn import(a: TraceImportArgs) -> Result<(), CliError> {
    let ImportSource::RedisMonitor = a.source;
    let input = trace::open_decompressed(&a.input).map_err(anyhow::Error::new)?;
    let mut reader = trace::redis_monitor::MonitorReader::new(&a.input, input);
    let rate = crate::workload::preset::DEFAULT_RATE;
    let all = trace::read_rest(&mut reader, &a.input, rate);
    // What was skipped, unless a bad line stopped the reading.
    if let (Ok(_) | Err(trace::TraceError::Empty { .. }), Some(s)) = (&all, reader.summary()) {
        crate::cmd::say!("{}: {s}", a.input.display());
    }
    let all = all.map_err(anyhow::Error::new)?;
    let to = out_format(a.to);
    crate::files::write_atomic(&a.output, |w| export::write(&all, to, w))
        .with_context(|| format!("cannot write '{}'", a.output.display()))?;
    let count = |op| all.ops.iter().filter(|&&o| o == op).count();
    let gets = if all.ops.is_empty() {
        all.len()
    } else {
        count(crate::request::Op::Get)
    };
    let with_ttl = all.ttls.iter().filter(|&&t| t > 0.0).count();
    crate::cmd::say!(
        "wrote {} requests ({gets} gets, {} sets, {} deletes; {with_ttl} with a TTL) to {} ({})",
        all.len(),
        count(crate::request::Op::Set),
        count(crate::request::Op::Delete),
        a.output.display(),
        to.name()
    );
    if with_ttl > 0 && !export::keeps_ttls(to) {
        crate::cmd::say!(
                "warning: the {} format does not keep the requests' TTLs; replay {} with --trace-format redis-monitor to keep them",
                to.name(),
                a.input.display()
            );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_writable_format_is_offered_and_no_other() {
        let offered: Vec<TraceFormat> = TraceOutFormat::value_variants()
            .iter()
            .map(|&f| out_format(f))
            .collect();
        let mut a: Vec<&str> = offered.iter().map(|f| f.name()).collect();
        let mut b: Vec<&str> = export::WRITABLE.iter().map(|f| f.name()).collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }
}
