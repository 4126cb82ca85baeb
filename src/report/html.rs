//! The one-page HTML report: one figure per scenario (inline SVG), in the
//! order given, each captioned with its measured takeaway and the commands
//! that reproduce it; then the comparison table, every run's parameters and
//! every `cachesim run` command. One file, no scripts, no external
//! resources, so it opens offline and can be mailed or attached to a talk.

use super::compare::{flat_table, Comparison};
use super::reproduce;
use crate::plot::{self, ChartKind, Dataset, PlotOptions};
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
figure{margin:1.2em 0 2.4em 0}figure svg{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#333;font-size:1em}figcaption .takeaway{font-size:1.15em;font-weight:600;margin:.4em 0}
figcaption pre{margin:.3em 0;white-space:pre-wrap;word-break:break-all}
h2.figure{border:none;margin-bottom:.3em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{padding:4px 10px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap}
th{background:#f6f6f6}td.l,th.l{text-align:left}
tr.base td{font-weight:600}
pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:.9em}
.note{color:#8a5a00}
";

/// One figure of the report: a chart kind drawn from its own data.
pub(crate) struct Figure {
    pub kind: &'static dyn ChartKind,
    /// The rows the figure draws (its inputs, narrowed as plotted).
    pub data: Dataset,
    pub opts: PlotOptions,
    /// The `cachesim plot` command that drew it, when it came from a card.
    pub plot_command: Option<String>,
    /// Where it comes from (the input files), for the caption.
    pub source: String,
}

/// Everything the page shows.
pub(crate) struct ReportInput<'a> {
    pub title: &'a str,
    pub inputs: &'a [String],
    /// Every results row of every input (the comparison and runs tables).
    pub data: &'a Dataset,
    /// The figures, in order.
    pub figures: &'a [Figure],
    /// Charts not drawn, and why (`file: reason`).
    pub skipped: &'a [String],
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

    for (i, f) in input.figures.iter().enumerate() {
        let n = i + 1;
        let title = f.kind.title(&f.data, &f.opts)?;
        let svg = plot::render_svg(f.kind, &f.data, &f.opts, (1600, 900))?;
        let _ = writeln!(
            h,
            "<h2 class=\"figure\">Figure {n}. {}</h2>\n<figure id=\"figure-{n}\" data-kind=\"{}\">\n{}\n<figcaption>",
            esc(&title),
            esc(f.kind.name()),
            inline_svg(&svg)
        );
        if let Some(t) = f.kind.takeaway(&f.data, &f.opts) {
            let _ = writeln!(h, "<p class=\"takeaway\">{}</p>", esc(&t));
        }
        let mut cmds = if matches!(f.kind.name(), "timeline" | "stampede") {
            reproduce::timeline_commands(&f.data.timeline)
        } else {
            reproduce::commands(&f.data.rows, &[])
        };
        cmds.extend(f.plot_command.iter().cloned());
        let _ = writeln!(
            h,
            "<p>{} ({}). Reproduce:</p>\n<pre class=\"reproduce\">{}</pre>\n</figcaption>\n</figure>",
            esc(f.kind.summary()),
            esc(&f.source),
            esc(&cmds.join("\n"))
        );
    }
    if input.figures.is_empty() {
        h.push_str("<p class=\"note\">No figure: the inputs support no chart kind.</p>\n");
    }
    for n in input.skipped {
        let _ = writeln!(h, "<p class=\"note\">Not drawn: {}</p>", esc(n));
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
    for c in reproduce::commands(&d.rows, &[]) {
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
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
