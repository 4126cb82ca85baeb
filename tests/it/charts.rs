//! Every chart kind rendered from the fixture CSVs (written once by
//! `cachesim run`, see tests/fixtures/README.md): the PNG has the asked size
//! and is not blank, the SVG holds the title, the axis labels and every
//! legend entry, and `cachesim plot` writes what it says.

use cachesim::plot::{self, theme, Dataset, PlotOptions, YMetric};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn zipf() -> Dataset {
    Dataset::load(&[fixture("zipf-a0.8.csv"), fixture("zipf-a1.2.csv")]).unwrap()
}

/// Decodes a PNG: (width, height, RGB bytes).
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
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

/// Dark pixels (text, axes) in rows `y0..y1`.
fn dark_pixels(rgb: &[u8], width: u32, y0: u32, y1: u32) -> usize {
    let row = width as usize * 3;
    rgb[y0 as usize * row..y1 as usize * row]
        .chunks(3)
        .filter(|p| p.iter().all(|&c| c < 100))
        .count()
}

/// The text of every `<text>` element, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let Some(close) = rest.find("</text>") else {
            break;
        };
        let t = rest[open_end + 1..close].trim();
        out.push(
            t.replace("&lt;", "<")
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

#[test]
fn every_kind_renders_png_of_the_asked_size_and_not_blank() {
    let data = zipf();
    // The kinds the Zipf fixtures support; the others have their own
    // fixtures in tests/charts_more.rs.
    for kind in plot::KINDS
        .iter()
        .filter(|k| k.check(&data, &PlotOptions::default()).is_ok())
    {
        for size in [(1920, 1080), (960, 540)] {
            let png = plot::render_png(*kind, &data, &PlotOptions::default(), size).unwrap();
            let (w, h, rgb) = decode(&png);
            assert_eq!((w, h), size, "{}", kind.name());
            let v = variance(&rgb);
            assert!(
                v > 300.0,
                "{} at {size:?}: variance {v} looks blank",
                kind.name()
            );
            // The title band holds text drawn with the embedded font.
            let band = (100.0 * h as f64 / 1080.0) as u32;
            assert!(
                dark_pixels(&rgb, w, 0, band) > 200,
                "{}: no title text drawn",
                kind.name()
            );
        }
    }
}

#[test]
fn svg_holds_title_axis_labels_and_every_legend_entry() {
    let data = zipf();
    // Legends show names without default parameters (`ttl`, not `ttl:ttl=1m`).
    let strategies = ["none", "lru", "lfu", "fifo", "ttl", "random"];
    let expect: &[(&str, &[&str])] = &[
        (
            "mrc",
            &[
                "Hit ratio vs cache size \u{2014} zipf:requests=20k:keys=2k",
                "Cache size (objects)",
                "Hit ratio",
                "alpha=0.8",
                "alpha=1.2",
            ],
        ),
        (
            "bars",
            &[
                "Hit ratio at 1% of keys \u{2014} zipf:requests=20k:keys=2k",
                "Hit ratio",
                "alpha=0.8",
                "alpha=1.2",
            ],
        ),
    ];
    for (name, texts) in expect {
        let kind = plot::kind(name).unwrap();
        let svg = plot::render_svg(kind, &data, &PlotOptions::default(), (1920, 1080)).unwrap();
        assert!(
            svg.starts_with("<svg") || svg.contains("<svg"),
            "{name}: not SVG"
        );
        assert!(
            svg.contains("width=\"1920\"") && svg.contains("height=\"1080\""),
            "{name}: size"
        );
        for t in *texts {
            assert!(has_text(&svg, t), "{name}: SVG lacks text '{t}'");
        }
        for s in strategies {
            assert!(has_text(&svg, s), "{name}: SVG lacks legend entry '{s}'");
            // The strategy's fixed colour is used.
            let c = theme::strategy_color(s);
            let hex = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
            assert!(svg.contains(&hex), "{name}: SVG lacks {s}'s colour {hex}");
        }
    }
}

#[test]
fn miss_axis_and_chosen_capacity_change_labels() {
    let data = zipf();
    let opts = PlotOptions {
        y: YMetric::Miss,
        capacity: Some("10%".into()),
        title: None,
        overlay: false,
        highlight: Vec::new(),
    };
    let svg = plot::render_svg(plot::kind("bars").unwrap(), &data, &opts, (1280, 720)).unwrap();
    assert!(
        has_text(
            &svg,
            "Miss ratio at 10% of keys \u{2014} zipf:requests=20k:keys=2k"
        ),
        "bars title"
    );
    // The miss ratio of lru at 10% of the alpha=0.8 fixture is on its bar.
    let lru = data
        .rows
        .iter()
        .find(|r| {
            r.strategy == "lru" && r.capacity_spec == "10%" && r.workload.ends_with("alpha=0.8")
        })
        .unwrap();
    // With one decimal, or none where bars are too narrow for it at the
    // smallest text size.
    assert!(
        has_text(&svg, &format!("{:.1}%", lru.miss_ratio * 100.0))
            || has_text(&svg, &format!("{:.0}%", lru.miss_ratio * 100.0)),
        "value label of lru"
    );
    let svg = plot::render_svg(plot::kind("mrc").unwrap(), &data, &opts, (1280, 720)).unwrap();
    assert!(has_text(
        &svg,
        "Miss ratio vs cache size \u{2014} zipf:requests=20k:keys=2k"
    ));
    assert!(has_text(&svg, "Miss ratio"));
    // Absolute capacities select too; an absent one is an error naming the option.
    let at = PlotOptions {
        capacity: Some(lru.capacity.to_string()),
        ..Default::default()
    };
    assert!(plot::render_svg(plot::kind("bars").unwrap(), &data, &at, (800, 450)).is_ok());
    let none = PlotOptions {
        capacity: Some("3%".into()),
        ..Default::default()
    };
    let e = plot::render_svg(plot::kind("bars").unwrap(), &data, &none, (800, 450))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--capacity") && e.contains("3%") && e.contains("1% of keys"),
        "{e}"
    );
}

#[test]
fn a_single_capacity_supports_bars_but_not_a_curve() {
    let data = Dataset::load(&[fixture("one-capacity.csv")]).unwrap();
    let o = PlotOptions::default();
    assert!(plot::kind("bars").unwrap().check(&data, &o).is_ok());
    let e = plot::kind("mrc")
        .unwrap()
        .check(&data, &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("two capacities"), "{e}");
}

fn cachesim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn plot_command_writes_png_and_svg_per_supported_kind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let a = fixture("zipf-a0.8.csv");
    let b = fixture("zipf-a1.2.csv");
    let o = cachesim(&[
        "plot",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out,
        "--size",
        "800x450",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed = String::from_utf8_lossy(&o.stdout);
    for k in ["mrc", "bars"] {
        for ext in ["png", "svg"] {
            let p = dir.path().join(format!("zipf-a0.8-{k}.{ext}"));
            assert!(p.is_file(), "{} missing", p.display());
            assert!(
                listed.contains(p.to_str().unwrap()),
                "not listed: {}",
                p.display()
            );
        }
        let (w, h, _) =
            decode(&std::fs::read(dir.path().join(format!("zipf-a0.8-{k}.png"))).unwrap());
        assert_eq!((w, h), (800, 450));
    }

    // Only what the data supports: one capacity gives bars, and says why not mrc.
    let one = fixture("one-capacity.csv");
    let o = cachesim(&["plot", one.to_str().unwrap(), "--out", out, "--name", "one"]);
    assert!(o.status.success());
    assert!(dir.path().join("one-bars.png").is_file());
    assert!(!dir.path().join("one-mrc.png").exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("skipped: cannot draw 'mrc'"));
    // Asking for it is an error (exit 1) and writes nothing.
    let o = cachesim(&[
        "plot",
        one.to_str().unwrap(),
        "--out",
        out,
        "--name",
        "one",
        "--kind",
        "mrc",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("one-mrc.png").exists());
}

#[test]
fn plot_command_rejects_bad_options_with_exit_2() {
    let a = fixture("zipf-a0.8.csv");
    let a = a.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    for (args, needle) in [
        (
            vec!["--kind", "pie"],
            "'--kind': 'pie' is not a chart kind; valid kinds: mrc, bars, latency, staleness, invalidation, timeline, fleet, stampede",
        ),
        (vec!["--size", "big"], "'--size'"),
        (vec!["--capacity", "lots"], "'--capacity'"),
        (
            vec!["--strategy", "arc"],
            "'--strategy': 'arc' is not in the results",
        ),
        (
            vec!["--workload", "nope"],
            "'--workload': 'nope' is not in the results",
        ),
    ] {
        let mut full = vec!["plot", a, "--out", out];
        full.extend(args);
        let o = cachesim(&full);
        assert_eq!(o.status.code(), Some(2), "{full:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{full:?}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a failed plot wrote files"
    );
    let o = cachesim(&["plot", "/nonexistent/x.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.csv"));
}

#[test]
fn strategy_filter_keeps_only_the_asked_lines() {
    let data = {
        let mut d = zipf();
        d.retain(&["lru".into(), "ttl".into()], &[]).unwrap();
        d
    };
    let svg = plot::render_svg(
        plot::kind("mrc").unwrap(),
        &data,
        &PlotOptions::default(),
        (960, 540),
    )
    .unwrap();
    assert!(has_text(&svg, "lru") && has_text(&svg, "ttl"));
    assert!(!has_text(&svg, "lfu") && !has_text(&svg, "none"));
}

#[test]
fn overlay_draws_workloads_in_one_panel() {
    let mut data = zipf();
    data.retain(&["lru".into()], &[]).unwrap();
    let opts = PlotOptions {
        overlay: true,
        ..Default::default()
    };
    let svg = plot::render_svg(plot::kind("mrc").unwrap(), &data, &opts, (1280, 720)).unwrap();
    assert!(has_text(
        &svg,
        "Hit ratio vs cache size \u{2014} zipf:requests=20k:keys=2k (lru)"
    ));
    // One legend entry per workload; one x axis title (one panel).
    assert!(has_text(&svg, "alpha=0.8") && has_text(&svg, "alpha=1.2"));
    let axis_titles = svg_texts(&svg)
        .iter()
        .filter(|t| *t == "Cache size (objects)")
        .count();
    assert_eq!(axis_titles, 1);
    let without = plot::render_svg(
        plot::kind("mrc").unwrap(),
        &data,
        &PlotOptions::default(),
        (1280, 720),
    )
    .unwrap();
    assert_eq!(
        svg_texts(&without)
            .iter()
            .filter(|t| *t == "Cache size (objects)")
            .count(),
        2
    );
}
