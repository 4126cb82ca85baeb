//! `cachesim compare` and `cachesim report` on the fixture CSVs, and reading
//! back CSVs written before later columns existed.

use cachesim::sim::result::read_results;
use cachesim::sim::result::COLUMNS;
use cachesim::sim::RunResult;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn cachesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .output()
        .unwrap()
}

fn f(name: &str) -> String {
    fixture(name).to_str().unwrap().to_string()
}

#[test]
fn csvs_without_later_columns_still_read_back() {
    let full = read_results(&fixture("zipf-a0.8.csv")).unwrap();
    let old = read_results(&fixture("before-bytes-columns.csv")).unwrap();
    assert_eq!(old.len(), full.len());
    for (o, n) in old.iter().zip(&full) {
        assert_eq!(
            (&o.workload, &o.strategy, o.capacity, o.hits),
            (&n.workload, &n.strategy, n.capacity, n.hits)
        );
        assert_eq!(o.capacity_spec, "");
    }
    // Every column after `version` may be missing: a column appended later
    // must carry #[serde(default)] too, or this fails.
    let text = std::fs::read_to_string(fixture("zipf-a0.8.csv")).unwrap();
    let first_optional = COLUMNS.iter().position(|c| *c == "version").unwrap() + 1;
    let dir = tempfile::tempdir().unwrap();
    for keep in first_optional..=COLUMNS.len() {
        let cut: String = text
            .lines()
            .map(|l| l.split(',').take(keep).collect::<Vec<_>>().join(",") + "\n")
            .collect();
        let p = dir.path().join(format!("cut-{keep}.csv"));
        std::fs::write(&p, cut).unwrap();
        let rows = read_results(&p).unwrap_or_else(|e| panic!("{keep} columns: {e}"));
        assert_eq!(rows.len(), full.len());
    }
}

fn rows_of(name: &str) -> Vec<RunResult> {
    read_results(&fixture(name)).unwrap()
}

#[test]
fn compare_lines_up_by_workload_and_capacity_against_lru() {
    let o = cachesim(&["compare", &f("zipf-a0.8.csv"), &f("zipf-a1.2.csv")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let rows: Vec<RunResult> = rows_of("zipf-a0.8.csv")
        .into_iter()
        .chain(rows_of("zipf-a1.2.csv"))
        .collect();
    // One block per (workload, capacity), lru first with 1.00.
    let blocks: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(blocks.len(), 8, "{out}");
    for b in &blocks {
        let lines: Vec<&str> = b.lines().collect();
        assert!(
            lines[1].contains("hits vs lru") && lines[1].contains("misses vs lru"),
            "{b}"
        );
        assert!(lines[2].trim_start().starts_with("lru "), "{b}");
        let cells: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(cells[cells.len() - 2..], ["1.00", "1.00"], "{b}");
        assert_eq!(lines.len(), 2 + 6, "{b}");
    }
    // The relative column is lfu's hit ratio over lru's, from the CSV.
    let at = |s: &str| {
        rows.iter()
            .find(|r| {
                r.strategy == s && r.capacity_spec == "5%" && r.workload.ends_with("alpha=0.8")
            })
            .unwrap()
            .clone()
    };
    let (lru, lfu) = (at("lru"), at("lfu"));
    let block = blocks
        .iter()
        .find(|b| {
            b.starts_with(&format!(
                "{} at {} objects (5%)",
                lru.workload, lru.capacity
            ))
        })
        .unwrap();
    let lfu_line = block
        .lines()
        .find(|l| l.trim_start().starts_with("lfu "))
        .unwrap();
    let rel = format!("{:.2}", lfu.hit_ratio / lru.hit_ratio);
    let rel_m = format!("{:.2}", lfu.miss_ratio / lru.miss_ratio);
    let cells: Vec<&str> = lfu_line.split_whitespace().collect();
    assert_eq!(
        cells[cells.len() - 2..],
        [rel.as_str(), rel_m.as_str()],
        "{lfu_line}"
    );
    assert_eq!(cells[1], format!("{:.2}%", lfu.hit_ratio * 100.0));
}

#[test]
fn compare_exports_markdown_and_takes_another_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("cmp.md");
    let o = cachesim(&[
        "compare",
        &f("zipf-a0.8.csv"),
        "--baseline",
        "fifo",
        "--export-markdown",
        md.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&md).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "| workload | capacity | strategy | hit ratio | miss ratio | requests/s | hits vs fifo | misses vs fifo |"
    );
    assert_eq!(lines[1], "|:---|:---|:---|---:|---:|---:|---:|---:|");
    assert_eq!(lines.len(), 2 + rows_of("zipf-a0.8.csv").len());
    assert!(
        lines[2].contains("| fifo |") && lines[2].ends_with("| 1.00 | 1.00 |"),
        "{}",
        lines[2]
    );
    // `none` never hits: relative hits 0.00 against fifo.
    assert!(lines
        .iter()
        .any(|l| l.contains("| none |") && l.contains("| 0.00 |")));
}

#[test]
fn compare_with_a_missing_baseline_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("cmp.md");
    let o = cachesim(&[
        "compare",
        &f("one-capacity.csv"),
        "--baseline",
        "lfu",
        "--export-markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid value for '--baseline': strategy 'lfu' is not in the results; strategies present: lru, fifo, random"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    assert!(!md.exists(), "a failed compare wrote the export");
    // The default baseline, lru, is there: fine.
    assert!(cachesim(&["compare", &f("one-capacity.csv")])
        .status
        .success());
}

#[test]
fn report_is_one_self_contained_page_with_charts_table_and_commands() {
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("r.html");
    let o = cachesim(&[
        "report",
        &f("zipf-a0.8.csv"),
        &f("zipf-a1.2.csv"),
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // One section per input file, each with every chart its rows support.
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "an inline SVG per chart kind per file"
    );
    assert_eq!(html.matches("data-kind=\"mrc\"").count(), 2);
    assert_eq!(html.matches("data-kind=\"bars\"").count(), 2);
    assert!(html.contains("id=\"figure-1\"") && html.contains("id=\"figure-4\""));
    // Nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere.
    for bad in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(!html.contains(bad), "report references '{bad}'");
    }
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    assert!(html.contains("<table id=\"comparison\">") && html.contains("hits vs lru"));
    // Every run is listed.
    let n = rows_of("zipf-a0.8.csv").len() + rows_of("zipf-a1.2.csv").len();
    let runs = &html[html.find("<table id=\"runs\">").unwrap()..];
    assert_eq!(runs.matches("<tr>").count(), n + 1);
    // Nothing left behind but the report.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// The report's commands, run again, give the fixture's numbers.
#[test]
fn report_commands_reproduce_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("r.html");
    assert!(cachesim(&[
        "report",
        &f("zipf-a1.2.csv"),
        "-o",
        html_path.to_str().unwrap()
    ])
    .status
    .success());
    let html = std::fs::read_to_string(&html_path).unwrap();
    let cmds = crate::common::report_commands(&html);
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    let words: Vec<&str> = cmds[0].split_whitespace().collect();
    assert_eq!(&words[..2], ["cachesim", "run"]);
    let out = dir.path().join("again.csv");
    let mut args: Vec<&str> = words[1..].to_vec();
    args.extend(["-q", "-f", "csv", "-o", out.to_str().unwrap()]);
    let o = cachesim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again = read_results(&out).unwrap();
    let orig = rows_of("zipf-a1.2.csv");
    assert_eq!(again.len(), orig.len());
    for (a, b) in again.iter().zip(&orig) {
        assert_eq!(
            (&a.workload, &a.strategy, a.capacity, a.hits, a.misses),
            (&b.workload, &b.strategy, b.capacity, b.hits, b.misses)
        );
    }
}

#[test]
fn report_falls_back_when_lru_is_absent_but_not_when_a_baseline_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.html");
    let rows: Vec<RunResult> = rows_of("one-capacity.csv")
        .into_iter()
        .filter(|r| r.strategy != "lru")
        .collect();
    let csv_path = dir.path().join("no-lru.csv");
    let mut w = csv::Writer::from_path(&csv_path).unwrap();
    for r in &rows {
        w.serialize(r).unwrap();
    }
    w.flush().unwrap();
    let o = cachesim(&[
        "report",
        csv_path.to_str().unwrap(),
        "-o",
        p.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&p).unwrap();
    assert!(
        html.contains("No &#39;lru&#39; run in the results: relative to &#39;fifo&#39; instead.")
    );
    assert!(html.contains("hits vs fifo"));
    // mrc needs two capacities: the page says so instead of a chart.
    assert!(html.contains(&format!(
        "Not drawn: {}: cannot draw &#39;mrc&#39;",
        csv_path.display()
    )));
    let o = cachesim(&[
        "report",
        csv_path.to_str().unwrap(),
        "-o",
        p.to_str().unwrap(),
        "--baseline",
        "lru",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 16, item 15 and 4: a directory, binary data or a file of something
/// else is named for what it is, from its first 4 KB, by compare, plot and
/// report alike (they said "no results", after reading it whole).
#[test]
fn inputs_that_are_not_results_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("data.bin");
    std::fs::write(&bin, [0u8, 1, 2, 3, 255, 0]).unwrap();
    let other = dir.path().join("other.csv");
    // One long line of something else: only its first 80 characters show.
    std::fs::write(&other, format!("a,b,c{}\n1,2,3\n", "x".repeat(100_000))).unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let out = dir.path().join("x.png").to_str().unwrap().to_string();
    let cases = [
        (d.clone(), "is a directory"),
        (bin.to_str().unwrap().to_string(), "binary data"),
        (
            other.to_str().unwrap().to_string(),
            "not a cachesim results CSV",
        ),
    ];
    for (input, needle) in &cases {
        for cmd in [
            vec!["compare", input.as_str()],
            vec!["plot", input.as_str(), "-o", out.as_str()],
        ] {
            let o = cachesim(&cmd);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_ne!(o.status.code(), Some(0), "{cmd:?}");
            assert!(
                err.to_lowercase().contains(&needle.to_lowercase()) && err.contains(input.as_str()),
                "{cmd:?}: {err}"
            );
            assert!(err.len() < 1000, "{cmd:?}: {err}");
        }
    }
}
