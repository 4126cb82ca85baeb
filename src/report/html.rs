//! The one-page HTML report: every chart the results support (inline SVG),
//! the comparison table, every run's parameters and the `cachesim run`
//! commands that reproduce them. One file, no scripts, no external
//! resources, so it opens offline and can be mailed or attached to a talk.

use super::compare::{flat_table, Comparison};
use crate::plot::{self, Dataset, PlotOptions};
use crate::sim::RunResult;
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Quotes a shell word when it holds anything beyond plain characters.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.,:=%/+-@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `--workload`/`--trace` options that produce a `workload` label:
/// `zipf:alpha=0.8:keys=10k` -> `--workload zipf --alpha 0.8 --keys 10k`; a
/// label that is no preset is a trace file name.
pub(crate) fn workload_options(label: &str) -> Vec<String> {
    let mut parts = label.split(':');
    let name = parts.next().unwrap_or_default();
    let is_preset =
        crate::workload::PRESETS.iter().any(|(n, _)| *n == name) || name.ends_with(".toml");
    if !is_preset {
        return vec!["--trace".into(), shell_word(label)];
    }
    let mut o = vec!["--workload".to_string(), shell_word(name)];
    for p in parts {
        match p.split_once('=') {
            Some((k, v)) if ["requests", "keys", "alpha", "rate"].contains(&k) => {
                o.push(format!("--{k}"));
                o.push(shell_word(v));
            }
            _ => o.push(format!("# unknown workload parameter '{p}'")),
        }
    }
    o
}

/// `cachesim run` commands that reproduce `rows`: one per workload and seed
/// and per set of strategies run at the same capacities.
pub(crate) fn reproduce_commands(rows: &[RunResult]) -> Vec<String> {
    let mut keys: Vec<(&str, u64)> = Vec::new();
    for r in rows {
        if !keys.contains(&(r.workload.as_str(), r.seed)) {
            keys.push((r.workload.as_str(), r.seed));
        }
    }
    let mut out = Vec::new();
    for (w, seed) in keys {
        let these: Vec<&RunResult> = rows
            .iter()
            .filter(|r| r.workload == w && r.seed == seed)
            .collect();
        let cap = |r: &RunResult| {
            if r.capacity_spec.is_empty() {
                if r.capacity_unit == "bytes" {
                    format!("{}B", r.capacity)
                } else {
                    r.capacity.to_string()
                }
            } else {
                r.capacity_spec.clone()
            }
        };
        // strategy -> its capacities, in first-seen order.
        let mut per: Vec<(&str, Vec<String>)> = Vec::new();
        for r in &these {
            let c = cap(r);
            match per.iter_mut().find(|(s, _)| *s == r.strategy) {
                Some((_, cs)) => {
                    if !cs.contains(&c) {
                        cs.push(c)
                    }
                }
                None => per.push((&r.strategy, vec![c])),
            }
        }
        // Strategies sharing the same capacity list go in one command.
        let mut done = vec![false; per.len()];
        for i in 0..per.len() {
            if done[i] {
                continue;
            }
            let caps = per[i].1.clone();
            let mut strategies: Vec<&str> = Vec::new();
            for j in i..per.len() {
                if !done[j] && per[j].1 == caps {
                    done[j] = true;
                    strategies.push(per[j].0);
                }
            }
            let mut cmd = vec![
                "cachesim".to_string(),
                "run".into(),
                "--strategy".into(),
                shell_word(&strategies.join(",")),
            ];
            cmd.extend(workload_options(w));
            cmd.push("--capacity".into());
            cmd.push(shell_word(&caps.join(",")));
            cmd.push("--seed".into());
            cmd.push(seed.to_string());
            out.push(cmd.join(" "));
        }
    }
    out
}

/// Inline SVG: drops an XML prolog, if any (not allowed inside HTML).
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0 auto;max-width:1200px;padding:24px;color:#222;background:#fff}
h1{font-size:2em;margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555}
figure{margin:1em 0}figure svg{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{padding:4px 10px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap}
th{background:#f6f6f6}td.l,th.l{text-align:left}
tr.base td{font-weight:600}
pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:.9em}
.note{color:#8a5a00}
";

/// Everything the page shows.
pub(crate) struct ReportInput<'a> {
    pub title: &'a str,
    pub inputs: &'a [String],
    pub data: &'a Dataset,
    pub comparison: Option<&'a Comparison>,
    /// Notes shown above the comparison (e.g. the baseline fell back).
    pub notes: &'a [String],
}

/// Writes the page. Charts are drawn at 1600x900 and scale with the window.
pub(crate) fn render(input: &ReportInput) -> Result<String, plot::PlotError> {
    let mut h = String::new();
    let d = input.data;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(input.title),
        esc(input.title)
    );
    let versions = plot::first_seen(d.rows.iter().map(|r| r.version.as_str())).join(", ");
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} run(s) of {} workload(s) and {} strateg{} from {}; written by cachesim {} (runs made with cachesim {}).</p>",
        d.rows.len(),
        d.workloads().len(),
        d.strategies().len(),
        if d.strategies().len() == 1 { "y" } else { "ies" },
        esc(&input.inputs.join(", ")),
        env!("CARGO_PKG_VERSION"),
        esc(&versions)
    );
    for w in &d.warnings {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(w));
    }

    h.push_str("<h2>Charts</h2>\n");
    let opts = PlotOptions::default();
    for k in plot::KINDS {
        match k.check(d, &opts) {
            Ok(()) => {
                let svg = plot::render_svg(*k, d, &opts, (1600, 900))?;
                let _ = writeln!(
                    h,
                    "<figure id=\"chart-{}\">\n{}\n<figcaption>{}: {}</figcaption>\n</figure>",
                    k.name(),
                    inline_svg(&svg),
                    esc(k.name()),
                    esc(k.summary())
                );
            }
            Err(e) => {
                let _ = writeln!(
                    h,
                    "<p class=\"note\">Not drawn: {}</p>",
                    esc(&e.to_string())
                );
            }
        }
    }

    h.push_str("<h2>Comparison</h2>\n");
    for n in input.notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    if let Some(c) = input.comparison {
        let (header, rows) = flat_table(c);
        h.push_str("<table id=\"comparison\">\n<tr>");
        for (i, th) in header.iter().enumerate() {
            let _ = write!(
                h,
                "<th{}>{}</th>",
                if i < 3 { " class=\"l\"" } else { "" },
                esc(th)
            );
        }
        h.push_str("</tr>\n");
        let mut i = 0;
        for g in &c.groups {
            for l in &g.lines {
                let _ = write!(
                    h,
                    "<tr{}>",
                    if l.is_baseline { " class=\"base\"" } else { "" }
                );
                for (j, td) in rows[i].iter().enumerate() {
                    let _ = write!(
                        h,
                        "<td{}>{}</td>",
                        if j < 3 { " class=\"l\"" } else { "" },
                        esc(td)
                    );
                }
                h.push_str("</tr>\n");
                i += 1;
            }
        }
        h.push_str("</table>\n");
        for n in &c.notes {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
        }
    }

    h.push_str("<h2>How to reproduce</h2>\n<pre id=\"commands\">");
    for c in reproduce_commands(&d.rows) {
        let _ = writeln!(h, "{}", esc(&c));
    }
    h.push_str("</pre>\n<p class=\"meta\">A <code>--trace</code> file is named as in the results: give its path.</p>\n");

    h.push_str("<h2>Runs</h2>\n<table id=\"runs\">\n<tr>");
    let cols = [
        "workload",
        "strategy",
        "capacity",
        "as given",
        "requests",
        "distinct keys",
        "hit ratio",
        "miss ratio",
        "evictions",
        "requests/s",
        "seed",
        "version",
    ];
    for (i, c) in cols.iter().enumerate() {
        let _ = write!(
            h,
            "<th{}>{}</th>",
            if i < 2 { " class=\"l\"" } else { "" },
            c
        );
    }
    h.push_str("</tr>\n");
    for r in &d.rows {
        let cells = [
            r.workload.clone(),
            r.strategy.clone(),
            format!("{} {}", r.capacity, plot::unit_of(r)),
            r.capacity_spec.clone(),
            r.requests.to_string(),
            r.distinct_keys.to_string(),
            format!("{:.4}", r.hit_ratio),
            format!("{:.4}", r.miss_ratio),
            r.evictions.to_string(),
            super::compare::fmt_rate(r.requests_per_s),
            r.seed.to_string(),
            r.version.clone(),
        ];
        h.push_str("<tr>");
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(
                h,
                "<td{}>{}</td>",
                if i < 2 { " class=\"l\"" } else { "" },
                esc(c)
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body>\n</html>\n");
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_labels_become_options() {
        assert_eq!(
            workload_options("zipf:alpha=0.8:keys=10k").join(" "),
            "--workload zipf --alpha 0.8 --keys 10k"
        );
        assert_eq!(
            workload_options("OLTP.lis.zst").join(" "),
            "--trace OLTP.lis.zst"
        );
        assert_eq!(
            workload_options("my trace.txt").join(" "),
            "--trace 'my trace.txt'"
        );
        // A preset file is labelled by its file name (issue 16, item 17).
        assert_eq!(
            workload_options("my.toml:requests=1k").join(" "),
            "--workload my.toml --requests 1k"
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
