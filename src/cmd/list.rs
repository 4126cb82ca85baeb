//! `cachesim list`: every strategy and workload preset, one line each.

use super::CliError;
use crate::cli::ListArgs;
use crate::workload::trace::{mapping, TraceFormat};
use crate::workload::{Preset, PRESETS};

/// Runs `cachesim list`: prints every strategy, workload preset and trace
/// format.
pub fn list(_args: ListArgs) -> Result<(), CliError> {
    let text = listing()?;
    super::to_stdout(|out| out.write_all(text.as_bytes()))
}

/// What `cachesim list` prints. `scripts/talk.sh` reads the names off the
/// first column of the strategy and trace format sections.
fn listing() -> Result<String, CliError> {
    let mut out = String::new();
    out += "Strategies (--strategy NAME[:key=value...]):\n";
    let w = crate::cli::strategies()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    for s in crate::cli::strategies() {
        out += &format!("  {:<w$}  {}", s.name, s.summary);
        if !s.params.is_empty() {
            out += &format!(" [{}]", s.params);
        }
        out += "\n";
    }
    out += "\nWorkload presets (--workload NAME):\n";
    let w = PRESETS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, _) in PRESETS {
        let p = Preset::load(name).map_err(CliError::Usage)?;
        out += &format!("  {:<w$}  {} ({})\n", name, p.description, p.summary());
    }
    out += "\nTrace formats (--trace FILE [--trace-format NAME]):\n";
    let w = TraceFormat::ALL
        .iter()
        .map(|f| f.name().len())
        .max()
        .unwrap_or(0);
    for f in TraceFormat::ALL {
        out += &format!("  {:<w$}  {}\n", f.name(), f.describe());
    }
    out += "\nColumn-mapped text (--trace-format csv:..., or a dataset above with :NAME=VALUE added):\n";
    out += &format!("  {}\n", mapping::GRAMMAR);
    out += "  block traces (offset, length): one request per page touched, --page-size SIZE or :page=SIZE [default: 4KiB]\n";
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::POLICIES;

    /// The lines of the section headed `title`, as talk.sh's awk cuts them.
    fn section<'a>(listing: &'a str, title: &str) -> Vec<&'a str> {
        listing
            .split("\n\n")
            .find(|s| s.starts_with(title))
            .unwrap_or_else(|| panic!("no section {title}"))
            .lines()
            .skip(1)
            .collect()
    }

    #[test]
    fn every_registered_policy_is_listed_with_its_parameters() {
        let out = listing().unwrap();
        let lines = section(&out, "Strategies");
        assert_eq!(lines.len(), crate::cli::strategies().count());
        for p in POLICIES {
            let line = lines
                .iter()
                .find(|l| l.split_whitespace().next() == Some(p.name))
                .unwrap_or_else(|| panic!("{} is not in `cachesim list`", p.name));
            assert!(line.contains(p.summary), "{line}");
            if !p.params.is_empty() {
                assert!(line.ends_with(&format!(" [{}]", p.params)), "{line}");
            }
        }
    }

    #[test]
    fn every_trace_format_is_listed() {
        let out = listing().unwrap();
        let names: Vec<&str> = section(&out, "Trace formats")
            .iter()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let want: Vec<&str> = TraceFormat::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, want);
        for p in ["twitter", "meta-kv", "msr", "alibaba-block", "tencent-cbs"] {
            assert!(names.contains(&p), "{p} is not listed");
        }
    }

    #[test]
    fn the_column_grammar_is_listed() {
        let out = listing().unwrap();
        let lines = section(&out, "Column-mapped text");
        assert!(lines[0].contains(mapping::GRAMMAR), "{lines:?}");
        for name in mapping::FIELDS.iter().chain(mapping::OPTIONS) {
            assert!(lines[0].contains(name), "{name} is not in the grammar");
        }
        assert!(lines[1].contains("--page-size"), "{lines:?}");
    }
}
