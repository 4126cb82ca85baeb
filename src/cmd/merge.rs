//! `cachesim merge`: the shards of a sweep (`run --shard I/N`) joined into
//! the unsharded sweep's results, and their timelines into its timeline.

use super::{usage, CliError};
use crate::cli::MergeArgs;
use crate::report::{csv::CsvExporter, Exporter};
use crate::sim::phases;
use crate::sim::shard::{self, ShardFile};

/// Reads every shard (and its timeline, if any), checks that they are the
/// whole of one sweep, and writes the merged results, then the timeline,
/// each atomically: on any error nothing is written (a results file written
/// before a failed timeline is removed).
pub fn merge(a: MergeArgs) -> Result<(), CliError> {
    crate::files::check_file(&a.out).map_err(|e| usage("--out", e))?;
    let timeline_out = phases::timeline_path(&a.out);
    let mut files = Vec::new();
    for path in &a.inputs {
        let rows = crate::sim::result::read_results(path).map_err(runtime)?;
        let tp = phases::timeline_path(path);
        let timeline = if tp.exists() {
            Some((tp.clone(), phases::read_timeline(&tp).map_err(runtime)?))
        } else {
            None
        };
        files.push(ShardFile {
            path: path.clone(),
            rows,
            timeline,
        });
    }
    let shards = files.len();
    let merged = shard::merge(files).map_err(runtime)?;
    if merged.timeline.is_some() {
        crate::files::check_file(&timeline_out)
            .map_err(|e| usage("--out", format!("the timeline: {e}")))?;
    }
    crate::files::write_atomic(&a.out, |w| CsvExporter.write(&merged.rows, w)).map_err(|e| {
        CliError::Runtime(anyhow::Error::new(e).context(format!(
            "cannot write the merged results to '{}'",
            a.out.display()
        )))
    })?;
    if let Some(t) = &merged.timeline {
        if let Err(e) = crate::files::write_atomic(&timeline_out, |w| phases::write_timeline(t, w))
        {
            let _ = std::fs::remove_file(&a.out);
            return Err(CliError::Runtime(anyhow::Error::new(e).context(format!(
                "cannot write the merged timeline to '{}'",
                timeline_out.display()
            ))));
        }
    }
    if !a.quiet {
        crate::cmd::say!(
            "merged {} row(s) of {} shard file(s) into {}",
            merged.rows.len(),
            shards,
            a.out.display()
        );
        if let Some(t) = &merged.timeline {
            crate::cmd::say!(
                "merged the timelines ({} windows) into {}",
                t.len(),
                timeline_out.display()
            );
        }
    }
    Ok(())
}

fn runtime(msg: String) -> CliError {
    CliError::Runtime(anyhow::anyhow!(msg))
}
