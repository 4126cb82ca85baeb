//! Markdown tables, for slides and READMEs: the run results (an
//! [`Exporter`]) and the comparison of `cachesim compare --export-markdown`.

use super::compare::{flat_table, Comparison};
use std::io::{self, Write};

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table cell: `|` escaped for the table, HTML's special characters as
/// entities ([`super::html::esc`]: Markdown renderers pass raw HTML
/// through, so a strategy or workload named `lfu<script>` must not land as
/// a tag; issue 16, item 16), and newlines as spaces.
fn cell(s: &str) -> String {
    super::html::esc(s)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Writes a GitHub-flavoured Markdown table.
pub(crate) fn write_table(
    header: &[String],
    align: &[Align],
    rows: &[Vec<String>],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "| {} |",
        header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    )?;
    let rule: Vec<&str> = (0..header.len())
        .map(|i| match align.get(i).copied().unwrap_or(Align::Left) {
            Align::Left => ":---",
            Align::Right => "---:",
        })
        .collect();
    writeln!(out, "|{}|", rule.join("|"))?;
    for r in rows {
        writeln!(
            out,
            "| {} |",
            r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        )?;
    }
    Ok(())
}

/// The comparison as one table (workload and capacity on every row, so it
/// can be cut and pasted), followed by its notes.
pub(crate) fn write_comparison(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    let (header, rows) = flat_table(c);
    let align: Vec<Align> = (0..header.len())
        .map(|i| if i < 3 { Align::Left } else { Align::Right })
        .collect();
    write_table(&header, &align, &rows, out)?;
    for n in &c.notes {
        writeln!(out, "\n_Note: {}_", cell(n))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_are_escaped_and_alignment_marked() {
        let mut out = Vec::new();
        write_table(
            &["a".into(), "b".into()],
            &[Align::Left, Align::Right],
            &[vec!["x|y".into(), "1".into()]],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "| a | b |\n|:---|---:|\n| x\\|y | 1 |\n"
        );
    }

    #[test]
    fn html_in_a_cell_is_written_as_text() {
        let mut out = Vec::new();
        write_table(
            &["strategy<b>".into()],
            &[Align::Left],
            &[vec!["lfu<script>alert(1)</script>&x\ny".into()]],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "| strategy&lt;b&gt; |\n|:---|\n| lfu&lt;script&gt;alert(1)&lt;/script&gt;&amp;x y |\n"
        );
    }
}
