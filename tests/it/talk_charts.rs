//! The talk's latency, staleness, timeline, fleet and stampede charts rendered from
//! their small fixture CSVs (written by `cachesim run`, see
//! tests/fixtures/README.md): the PNG has the asked size and is not blank,
//! the SVG holds the title, the axis labels and every legend entry, and
//! `cachesim plot` tells a kind the data cannot support apart from a bad
//! option.

use cachesim::plot::{self, theme, Dataset, PlotOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(names: &[&str]) -> Dataset {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    Dataset::load(&paths).unwrap()
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Variance of the pixels' luminance: 0 for a blank image.
fn variance(rgb: &[u8]) -> f64 {
    let lum: Vec<f64> = rgb
        .chunks(3)
        .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64
}

/// The text of every `<text>` element, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let (Some(open_end), Some(close)) = (rest.find('>'), rest.find("</text>")) else {
            break;
        };
        out.push(
            rest[open_end + 1..close]
                .trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        );
        rest = &rest[close..];
    }
    out
}

fn has_text(svg: &str, t: &str) -> bool {
    svg_texts(svg).iter().any(|x| x == t)
}

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// (kind, fixtures, texts the SVG must hold, strategies whose colour it uses)
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    (
        "latency",
        &["latency.csv"],
        &[
            "Request latency \u{2014} zipf:requests=20k:keys=2k, 20% of keys",
            "Every percentile",
            "Percentile",
            "Latency",
            "30%",
            "90%",
            "99.99%",
            // The step from hits to misses, at lru's hit ratio.
            "lru: 70% hits",
            "none",
            "Mean latency",
            "2.0ms",
            "600\u{b5}s",
            "3.3\u{d7} faster",
            "lru",
        ],
        &["none", "lru"],
    ),
    (
        // Figure 7: servers beside local caches, though their capacity
        // reads differently (`server`, `l1=5%+server`).
        "latency",
        &["redis-latency.csv"],
        &[
            "lru: 40% hits",
            "redis: 78% hits",
            "tiered:lru+redis: 78% hits",
            "redis",
            "tiered:",
            "lru+redis",
            "469\u{b5}s",
        ],
        &["none", "lru", "redis"],
    ),
    (
        "invalidation",
        &["invalidation.csv"],
        &[
            "Writes: fresh and stale hits \u{2014} ycsb-b:requests=5k:keys=2k, 5% of keys",
            "Share of reads (light: stale hits)",
            "delete on write",
            "write-through",
            "no invalidation",
            "TTL 1s only",
            "TTL 30s only",
            "39% hits",
            "20% stale",
            "no stale",
        ],
        &["lru", "ttl"],
    ),
    (
        "staleness",
        &["staleness.csv"],
        &[
            "Hits and stale hits vs TTL \u{2014} ycsb-b:requests=5k:keys=2k, 5% of keys",
            "TTL (log scale)",
            "Share of reads",
            "1s",
            "5m",
            "ttl hits",
            "ttl stale hits",
            "lru hits",
            "lru stale hits",
        ],
        &["ttl", "lru"],
    ),
    (
        "timeline",
        &["cold-timeline.csv", "prefill-timeline.csv"],
        &[
            "Warming: hit ratio per 500 requests \u{2014} zipf:requests=5k:keys=2k, 54 objects",
            "Requests",
            "Hit ratio",
            "lru \u{b7} cold",
            "lfu \u{b7} cold",
            "lru \u{b7} prefilled 50",
            "lfu \u{b7} prefilled 50",
        ],
        &["lru", "lfu"],
    ),
    (
        "fleet",
        &["fleet.csv"],
        &[
            "Local caches vs one shared cache \u{2014} zipf:requests=5k:keys=2k:write_ratio=0.05, 5% of keys",
            "Instances",
            "Hit ratio",
            "Stale-hit ratio",
            "1",
            "8",
            "lru",
            "shared:lru",
        ],
        &["lru"],
    ),
    (
        // Figure 11: one event-mode run per defence in one timeline file.
        "stampede",
        &["stampede-timeline.csv"],
        &[
            "Origin requests per window",
            "At the origin at once",
            "Time",
            "prefilled keys expire",
            "3s",
            "no defence",
            "coalesce",
        ],
        &[],
    ),
];

#[test]
fn new_kinds_render_png_of_the_asked_size_and_not_blank() {
    for (name, files, _, _) in CASES {
        let data = load(files);
        let kind = plot::kind(name).unwrap();
        for size in [(1920, 1080), (960, 540)] {
            let png = plot::render_png(kind, &data, &PlotOptions::default(), size).unwrap();
            let (w, h, rgb) = decode(&png);
            assert_eq!((w, h), size, "{name}");
            let v = variance(&rgb);
            assert!(v > 300.0, "{name} at {size:?}: variance {v} looks blank");
        }
    }
}

#[test]
fn new_kinds_svg_holds_title_axis_labels_and_every_legend_entry() {
    for (name, files, texts, colours) in CASES {
        let data = load(files);
        let kind = plot::kind(name).unwrap();
        let svg = plot::render_svg(kind, &data, &PlotOptions::default(), (1920, 1080)).unwrap();
        for t in *texts {
            assert!(
                has_text(&svg, t),
                "{name}: SVG lacks text '{t}'; has {:?}",
                svg_texts(&svg)
            );
        }
        for s in *colours {
            let c = hex(theme::strategy_color(s));
            assert!(svg.contains(&c), "{name}: SVG lacks {s}'s colour {c}");
        }
    }
}

#[test]
fn each_kind_is_supported_only_by_its_data() {
    let o = PlotOptions::default();
    let zipf = load(&["zipf-a0.8.csv"]);
    for name in [
        "latency",
        "staleness",
        "invalidation",
        "timeline",
        "fleet",
        "stampede",
    ] {
        assert!(
            plot::kind(name).unwrap().check(&zipf, &o).is_err(),
            "{name} drawn from data without its columns"
        );
    }
    // A plain loop's timeline is no stampede; an event-mode one is both.
    let plain = load(&["cold-timeline.csv"]);
    assert!(matches!(
        plot::kind("stampede").unwrap().check(&plain, &o),
        Err(plot::PlotError::MissingColumns { .. })
    ));
    let event = load(&["stampede-timeline.csv"]);
    assert!(plot::kind("timeline").unwrap().check(&event, &o).is_ok());
    for (name, files, _, _) in CASES {
        assert!(plot::kind(name).unwrap().check(&load(files), &o).is_ok());
    }
    // A single instance count or TTL is no curve.
    let mut one_k = load(&["fleet.csv"]);
    one_k.rows.retain(|r| r.instances == 2);
    assert!(plot::kind("fleet").unwrap().check(&one_k, &o).is_err());
    let mut one_ttl = load(&["staleness.csv"]);
    one_ttl.rows.retain(|r| r.ttl_s == Some(5.0));
    assert!(plot::kind("staleness")
        .unwrap()
        .check(&one_ttl, &o)
        .is_err());
}

#[test]
fn sweeps_over_ttl_and_instances_are_not_duplicates() {
    let d = load(&["staleness.csv", "fleet.csv"]);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    // lru is repeated once per TTL, and each strategy once per K.
    assert_eq!(d.rows.iter().filter(|r| r.strategy == "lru").count(), 4 + 4);
    // Reading a file twice still keeps one row per measurement.
    let twice = load(&["fleet.csv", "fleet.csv"]);
    assert_eq!(twice.rows.len(), 8);
    assert_eq!(twice.warnings.len(), 1);
}

#[test]
fn results_and_timeline_inputs_mix() {
    let d = load(&["latency.csv", "cold-timeline.csv"]);
    assert_eq!(d.rows.len(), 2);
    assert_eq!(d.timeline.len(), 20);
    assert!(d.timeline.iter().all(|(src, _)| src == "cold"));
    let o = PlotOptions::default();
    assert!(plot::kind("latency").unwrap().check(&d, &o).is_ok());
    assert!(plot::kind("timeline").unwrap().check(&d, &o).is_ok());
}

fn cachesim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn plot_command_draws_a_timeline_beside_results_and_rejects_missing_latency() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let lat = fixture("latency.csv");
    let tl = fixture("cold-timeline.csv");
    let o = cachesim(&[
        "plot",
        lat.to_str().unwrap(),
        tl.to_str().unwrap(),
        "--out",
        out,
        "--size",
        "800x450",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for k in ["latency", "timeline", "bars"] {
        assert!(dir.path().join(format!("latency-{k}.png")).is_file(), "{k}");
    }
    assert!(!dir.path().join("latency-fleet.png").exists());
    // A timeline alone names the charts after its results file.
    let o = cachesim(&["plot", tl.to_str().unwrap(), "--out", out, "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.path().join("cold-timeline.png").is_file());
    assert!(dir.path().join("cold-timeline.svg").is_file());

    // --kind latency on results without latency columns: a clear error, exit 2.
    let zipf = fixture("zipf-a0.8.csv");
    let o = cachesim(&[
        "plot",
        zipf.to_str().unwrap(),
        "--out",
        out,
        "--name",
        "nolat",
        "--kind",
        "latency",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("latency") && err.contains("lat_p50_us") && err.contains("--no-latency"),
        "{err}"
    );
    assert!(!dir.path().join("nolat-latency.png").exists());
}

#[test]
fn other_results_read_first_do_not_hide_the_sweeps() {
    // As in a report over every CSV of a talk: the Zipf results come first.
    let d = load(&["zipf-a0.8.csv", "latency.csv", "fleet.csv", "staleness.csv"]);
    let o = PlotOptions::default();
    for (name, in_title) in [
        ("fleet", "write_ratio=0.05"),
        ("staleness", "ycsb-b"),
        ("latency", "requests=20k:keys=2k, 20%"),
    ] {
        let k = plot::kind(name).unwrap();
        assert!(k.check(&d, &o).is_ok(), "{name}");
        let t = k.title(&d, &o).unwrap();
        assert!(t.contains(in_title), "{name}: {t}");
    }
}

#[test]
fn report_embeds_the_new_charts_and_takes_timelines() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let args: Vec<String> = ["latency.csv", "fleet.csv", "cold-timeline.csv"]
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect();
    let mut full = vec!["report".to_string()];
    full.extend(args);
    full.extend(["-o".to_string(), html.display().to_string()]);
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let o = cachesim(&full);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    for k in ["latency", "timeline", "fleet"] {
        assert!(
            page.contains(&format!("data-kind=\"{k}\"")),
            "{k} not embedded"
        );
    }
    assert!(!page.contains("data-kind=\"staleness\""));
    // One section per input, in order: latency.csv's latency chart comes
    // before fleet.csv's fleet chart and the timeline.
    let at = |k: &str| page.find(&format!("data-kind=\"{k}\"")).unwrap();
    assert!(at("latency") < at("fleet") && at("fleet") < at("timeline"));
}
