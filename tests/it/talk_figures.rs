//! The talk's figures end to end (issue 18): the latency spectrum recorded
//! per run, `--on-write` as an axis, figure cards that `cachesim report`
//! redraws in the order given with a takeaway and commands that reproduce
//! the figure, the stampede figure from real event-mode runs, and
//! `scripts/talk.sh` drawing every figure of the talk.

use cachesim::sim::latency::{spectrum_quantile, SPECTRUM_POINTS};
use cachesim::sim::phases::read_timeline;
use cachesim::sim::result::read_results;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn cachesim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn every_run_records_the_whole_latency_spectrum_with_the_step_at_its_hit_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lat.csv");
    ok(&cachesim(&[
        "run",
        "-q",
        "-s",
        "none,lru",
        "-w",
        "zipf",
        "--keys",
        "5k",
        "--requests",
        "50k",
        "-c",
        "10%",
        "--origin-latency",
        "2ms",
        "-o",
        out.to_str().unwrap(),
    ]));
    let rows = read_results(&out).unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let v: Vec<f64> = r
            .lat_spectrum_us
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(v.len(), SPECTRUM_POINTS, "{}", r.strategy);
        assert!(v.windows(2).all(|w| w[0] <= w[1]), "{v:?} not sorted");
        // The spectrum agrees with the percentile columns (4 digits).
        let near = |a: f64, b: f64| (a - b).abs() <= 1e-3 * b.max(1e-3);
        let at = |p: f64| {
            (0..SPECTRUM_POINTS)
                .position(|i| (spectrum_quantile(i) - p).abs() < 1e-9)
                .unwrap()
        };
        assert!(near(v[at(0.5)], r.lat_p50_us.unwrap()), "{}", r.strategy);
        assert!(near(v[at(0.9)], r.lat_p90_us.unwrap()), "{}", r.strategy);
        assert!(near(v[at(0.99)], r.lat_p99_us.unwrap()), "{}", r.strategy);
        // Below the hit ratio the gets are hits (far under the origin's
        // 2 ms), above it misses (at least 2 ms).
        for (i, &us) in v.iter().enumerate().skip(1) {
            let p = spectrum_quantile(i);
            if p < r.hit_ratio - 0.03 {
                assert!(us < 100.0, "{} p{p}: {us}", r.strategy);
            } else if p > r.hit_ratio + 0.03 {
                assert!(us >= 2000.0, "{} p{p}: {us}", r.strategy);
            }
        }
    }
    assert!(rows[1].hit_ratio > 0.3);
    // Without latency there is no spectrum.
    let out2 = dir.path().join("nolat.csv");
    ok(&cachesim(&[
        "run",
        "-q",
        "-s",
        "lru",
        "-w",
        "zipf",
        "--keys",
        "1k",
        "--requests",
        "5k",
        "-c",
        "10%",
        "--no-latency",
        "-o",
        out2.to_str().unwrap(),
    ]));
    assert_eq!(read_results(&out2).unwrap()[0].lat_spectrum_us, "");
}

#[test]
fn on_write_is_an_axis_recorded_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.csv");
    ok(&cachesim(&[
        "run",
        "-q",
        "-s",
        "lru,fifo",
        "-w",
        "ycsb-b",
        "--keys",
        "2k",
        "--requests",
        "20k",
        "-c",
        "5%",
        "--on-write",
        "invalidate,update,none",
        "--no-latency",
        "-o",
        out.to_str().unwrap(),
    ]));
    let rows = read_results(&out).unwrap();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.strategy.as_str(), r.on_write.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("lru", "invalidate"),
            ("lru", "update"),
            ("lru", "none"),
            ("fifo", "invalidate"),
            ("fifo", "update"),
            ("fifo", "none")
        ]
    );
    for r in &rows {
        assert_eq!(r.stale_hits > 0, r.on_write == "none", "{r:?}");
    }
    // Each row equals the run with that single policy.
    let one = dir.path().join("one.csv");
    ok(&cachesim(&[
        "run",
        "-q",
        "-s",
        "lru",
        "-w",
        "ycsb-b",
        "--keys",
        "2k",
        "--requests",
        "20k",
        "-c",
        "5%",
        "--on-write",
        "update",
        "--no-latency",
        "-o",
        one.to_str().unwrap(),
    ]));
    let one = read_results(&one).unwrap();
    assert_eq!(
        (one[0].hits, one[0].stale_hits, one[0].on_write.as_str()),
        (rows[1].hits, rows[1].stale_hits, "update")
    );
    // A policy given twice is a usage error naming the option.
    let o = cachesim(&["run", "-s", "lru", "--on-write", "none,none", "--no-save"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--on-write") && err.contains("'none' is given twice"),
        "{err}"
    );
}

/// The commands of one figure's caption in the report.
fn captions(html: &str) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<figure id=") {
        rest = &rest[i..];
        let kind_at = rest.find("data-kind=\"").unwrap() + "data-kind=\"".len();
        let kind = rest[kind_at..kind_at + rest[kind_at..].find('"').unwrap()].to_string();
        let end = rest.find("</figure>").unwrap();
        let fig = &rest[..end];
        let takeaway = fig
            .find("<p class=\"takeaway\">")
            .map(|t| {
                let t = t + "<p class=\"takeaway\">".len();
                fig[t..t + fig[t..].find("</p>").unwrap()].to_string()
            })
            .unwrap_or_default();
        let pre =
            fig.find("<pre class=\"reproduce\">").unwrap() + "<pre class=\"reproduce\">".len();
        let cmds = fig[pre..pre + fig[pre..].find("</pre>").unwrap()]
            .lines()
            .map(|l| l.replace("&#39;", "'").replace("&amp;", "&"))
            .collect();
        out.push((kind, takeaway, cmds));
        rest = &rest[end..];
    }
    out
}

/// Runs a `cachesim run` command line from a caption (plain words, as the
/// fixtures' commands are) into `out`.
fn rerun(cmd: &str, out: &Path) {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    assert_eq!(&words[..2], ["cachesim", "run"], "{cmd}");
    let mut args: Vec<&str> = words[1..].to_vec();
    args.extend(["-q", "-f", "csv", "-o", out.to_str().unwrap()]);
    ok(&cachesim(&args));
}

#[test]
fn figure_cards_make_a_report_in_their_order_with_takeaways_and_commands_that_reproduce() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in [
        "latency.csv",
        "invalidation.csv",
        "cold-timeline.csv",
        "prefill-timeline.csv",
    ] {
        std::fs::copy(fixture(f), d.join(f)).unwrap();
    }
    let s = |p: &str| d.join(p).display().to_string();
    let out = d.display().to_string();
    ok(&cachesim(&[
        "plot",
        "-q",
        &s("latency.csv"),
        "--kind",
        "latency",
        "--out",
        &out,
        "--name",
        "fig1",
    ]));
    ok(&cachesim(&[
        "plot",
        "-q",
        &s("invalidation.csv"),
        "--kind",
        "invalidation",
        "--out",
        &out,
        "--name",
        "fig5",
    ]));
    ok(&cachesim(&[
        "plot",
        "-q",
        &s("cold-timeline.csv"),
        &s("prefill-timeline.csv"),
        "--kind",
        "timeline",
        "--out",
        &out,
        "--name",
        "fig6",
    ]));
    for c in ["fig1-latency", "fig5-invalidation", "fig6-timeline"] {
        for ext in ["png", "svg", "figure.json"] {
            assert!(d.join(format!("{c}.{ext}")).is_file(), "{c}.{ext}");
        }
    }
    // A card names its inputs relative to its folder, so the folder moves.
    let card = std::fs::read_to_string(d.join("fig1-latency.figure.json")).unwrap();
    assert!(
        card.contains("\"latency.csv\"") && card.contains("\"kind\": \"latency\""),
        "{card}"
    );
    let moved = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(d).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), moved.path().join(e.file_name())).unwrap();
    }
    drop(dir);
    let d = moved.path();
    let html = d.join("report.html");
    // The order given is the order drawn.
    ok(&cachesim(&[
        "report",
        &d.join("fig5-invalidation.figure.json")
            .display()
            .to_string(),
        &d.join("fig1-latency.figure.json").display().to_string(),
        &d.join("fig6-timeline.figure.json").display().to_string(),
        "-o",
        html.to_str().unwrap(),
    ]));
    let page = std::fs::read_to_string(&html).unwrap();
    let figs = captions(&page);
    let kinds: Vec<&str> = figs.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(kinds, ["invalidation", "latency", "timeline"]);
    assert!(page.contains("Figure 1. Writes: fresh and stale hits"));
    // Takeaways state the measured numbers.
    let fixture_rows = read_results(&fixture("latency.csv")).unwrap();
    let lru = fixture_rows.iter().find(|r| r.strategy == "lru").unwrap();
    let hr = format!("{:.0}%", lru.hit_ratio * 100.0);
    assert!(
        figs[1].1.contains(&hr) && figs[1].1.contains("faster"),
        "{}",
        figs[1].1
    );
    assert!(
        figs[0].1.contains("delete on write") && figs[0].1.contains("stale"),
        "{}",
        figs[0].1
    );
    assert!(
        figs[2].1.contains("prefilled 50 starts at"),
        "{}",
        figs[2].1
    );
    // Each caption ends with the plot command.
    for (k, _, cmds) in &figs {
        assert!(
            cmds.last().unwrap().starts_with("cachesim plot"),
            "{k}: {cmds:?}"
        );
    }
    // The latency and invalidation figures' run commands give the fixtures'
    // numbers again: hits, stale hits, and the write policy of every row.
    for (fig, file) in [(&figs[1], "latency.csv"), (&figs[0], "invalidation.csv")] {
        let mut again = Vec::new();
        for (i, c) in fig
            .2
            .iter()
            .filter(|c| c.starts_with("cachesim run"))
            .enumerate()
        {
            let p = d.join(format!("again-{i}.csv"));
            rerun(c, &p);
            again.extend(read_results(&p).unwrap());
        }
        let orig = read_results(&fixture(file)).unwrap();
        let key = |r: &cachesim::sim::RunResult| {
            (
                r.strategy.clone(),
                r.on_write.clone(),
                r.capacity,
                r.hits,
                r.stale_hits,
                r.ttl_s.map(f64::to_bits),
            )
        };
        let mut a: Vec<_> = again.iter().map(key).collect();
        let mut b: Vec<_> = orig.iter().map(key).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{file}");
    }
    // The timeline's command has its window and prefill back.
    let tl = &figs[2].2;
    assert!(
        tl.iter()
            .any(|c| c.contains("--window 500") && c.contains("--prefill top:50")),
        "{tl:?}"
    );
}

#[test]
fn a_card_that_is_not_one_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("x.figure.json");
    std::fs::write(&bad, "{\"kind\": 3}").unwrap();
    let html = dir.path().join("r.html");
    let o = cachesim(&[
        "report",
        bad.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("x.figure.json") && err.contains("not a figure card"),
        "{err}"
    );
    assert!(!html.exists());
}

/// A small stampede: 2k prefilled keys that all expire at 3 s, at 10k
/// requests a second in front of an origin of 64 connections.
fn stampede_run(dir: &Path, name: &str, defence: &[&str]) -> PathBuf {
    let csv = dir.join(format!("{name}.csv"));
    let mut args = vec![
        "run",
        "-q",
        "-f",
        "csv",
        "-s",
        "lru",
        "-w",
        "zipf",
        "--alpha",
        "1.2",
        "--requests",
        "60k",
        "--keys",
        "20k",
        "--rate",
        "10000",
        "-c",
        "2k",
        "--prefill",
        "top:2k",
        "--ttl",
        "3s",
        "--arrivals",
        "poisson",
        "--origin-latency",
        "exp:20ms",
        "--origin-concurrency",
        "64",
        "--window",
        "1k",
        "-o",
        csv.to_str().unwrap(),
    ];
    args.extend(defence);
    ok(&cachesim(&args));
    dir.join(format!("{name}-timeline.csv"))
}

#[test]
fn stampede_is_drawn_from_event_mode_timelines_and_refused_for_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let none = stampede_run(d, "none", &[]);
    let coalesce = stampede_run(d, "coalesce", &["--coalesce"]);
    let peak = |p: &Path| {
        let rows = read_timeline(p).unwrap();
        let (n, at) = rows
            .iter()
            .map(|t| (t.window_origin_requests.unwrap(), t.time_s))
            .fold((0, 0.0), |b, x| if x.0 > b.0 { x } else { b });
        (n, at)
    };
    let (p_none, at_none) = peak(&none);
    let (p_coalesce, _) = peak(&coalesce);
    // The burst is at the expiry, and coalescing cuts it.
    assert!((3.0..3.5).contains(&at_none), "peak at {at_none}");
    assert!(p_coalesce < p_none, "{p_coalesce} vs {p_none}");

    let out = d.display().to_string();
    let o = cachesim(&[
        "plot",
        none.to_str().unwrap(),
        coalesce.to_str().unwrap(),
        "--out",
        &out,
        "--name",
        "st",
        "--size",
        "960x540",
    ]);
    ok(&o);
    // Without --kind, event-mode timelines draw both the hit ratio and the
    // origin's load.
    for k in ["timeline", "stampede"] {
        for ext in ["png", "svg", "figure.json"] {
            assert!(d.join(format!("st-{k}.{ext}")).is_file(), "st-{k}.{ext}");
        }
    }
    let svg = std::fs::read_to_string(d.join("st-stampede.svg")).unwrap();
    for t in ["no defence", "coalesce", "prefilled keys expire"] {
        assert!(svg.contains(&format!("\n{t}\n")), "SVG lacks '{t}'");
    }
    // The report's takeaway states the peaks the timelines hold.
    let html = d.join("r.html");
    ok(&cachesim(&[
        "report",
        d.join("st-stampede.figure.json").to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]));
    let figs = captions(&std::fs::read_to_string(&html).unwrap());
    assert_eq!(figs.len(), 1);
    assert!(
        figs[0].1.starts_with(&format!(
            "no defence: peak {p_none} origin requests per 1k-request window at 3."
        )) && figs[0].1.contains(&format!("; coalesce: {p_coalesce} at ")),
        "{}",
        figs[0].1
    );

    // A plain timeline (no event mode): --kind stampede is a usage error
    // naming what to run, and without --kind no stampede chart is drawn.
    let plain = fixture("cold-timeline.csv");
    let o = cachesim(&[
        "plot",
        plain.to_str().unwrap(),
        "--out",
        &out,
        "--name",
        "plain",
        "--kind",
        "stampede",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("stampede")
            && err.contains("window_origin_requests")
            && err.contains("--arrivals")
            && err.contains("--window"),
        "{err}"
    );
    ok(&cachesim(&[
        "plot",
        "-q",
        plain.to_str().unwrap(),
        "--out",
        &out,
        "--name",
        "plain",
    ]));
    assert!(d.join("plain-timeline.png").is_file());
    assert!(!d.join("plain-stampede.png").exists());
}

#[test]
fn talk_sh_draws_every_figure_of_the_talk_into_one_report() {
    if Command::new("bash").arg("--version").output().is_err() {
        skip_or_fail!("bash not found");
    }
    let redis = crate::redis::redis_up();
    let traces = crate::common::trace_dir().is_some_and(|d| d.join("arc/OLTP.lis.zst").is_file());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("talk");
    let o = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/talk.sh"))
        .env("CACHESIM_BIN", env!("CARGO_BIN_EXE_cachesim"))
        .env("OUT", &out)
        .env("TALK_REQUESTS", "20k")
        .env("TALK_FIG_REQUESTS", "5k")
        .env("TALK_KEYS", "5k")
        .env("TALK_DEPLOY_WINDOW", "500")
        .env("TALK_DEPLOY_EVERY", "2000")
        .output()
        .unwrap();
    ok(&o);
    let mut want = vec![
        "fig1-latency",
        "fig2-mrc",
        "fig3a-bars",
        "fig3b-mrc",
        "fig4-staleness",
        "fig5-invalidation",
        "fig6-timeline",
        "fig8-fleet",
        "fig9-timeline",
        "fig10-latency",
        "fig11-stampede",
    ];
    if traces {
        want.push("fig3c-mrc");
    }
    if redis {
        want.extend(["fig7a-latency", "fig7b-mrc"]);
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("skipped: no Redis answers"), "{err}");
    }
    for f in &want {
        for ext in ["png", "svg", "figure.json"] {
            assert!(
                out.join(format!("{f}.{ext}")).is_file(),
                "{f}.{ext} missing"
            );
        }
    }
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let figs = captions(&page);
    assert_eq!(
        figs.len(),
        want.len(),
        "{:?}",
        figs.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    // In the talk's order: figure 1 is the latency, figure 10 the tiers'
    // latency, after figure 9's deploys, and figure 11 (last) the stampede.
    assert_eq!(figs[0].0, "latency");
    assert_eq!(figs[figs.len() - 3].0, "timeline");
    assert_eq!(figs[figs.len() - 2].0, "latency");
    assert_eq!(figs.last().unwrap().0, "stampede");
    // Figure 11: one event-mode run per defence, joined into one timeline,
    // and the runs' totals beside it.
    let rows = read_timeline(&out.join("stampede-timeline.csv")).unwrap();
    let mut defences: Vec<&str> = rows.iter().map(|t| t.defences.as_str()).collect();
    defences.dedup();
    assert_eq!(
        defences,
        ["none", "coalesce", "swr:5s", "xfetch:1", "jitter:0.5"]
    );
    assert_eq!(read_results(&out.join("stampede.csv")).unwrap().len(), 5);
    let (_, takeaway, cmds) = figs.last().unwrap();
    let peak = rows
        .iter()
        .filter(|t| t.defences == "none")
        .filter_map(|t| t.window_origin_requests)
        .max()
        .unwrap();
    assert!(
        takeaway.starts_with(&format!("no defence: peak {peak} origin requests")),
        "{takeaway}"
    );
    // Its reproduce commands run the event mode again, one per defence.
    let runs: Vec<&String> = cmds
        .iter()
        .filter(|c| c.starts_with("cachesim run"))
        .collect();
    assert_eq!(runs.len(), 5, "{cmds:?}");
    assert!(
        runs.iter().all(|c| c.contains("--arrivals poisson")
            && c.contains("--origin-concurrency 96")
            && c.contains("--origin-latency exp:50ms")),
        "{runs:?}"
    );
    assert!(runs[1].contains("--coalesce"), "{runs:?}");
    // Figure 9 draws a process cache across deploys, and the disk cache
    // (and memcached, when it answers) beside it.
    let deploys = std::fs::read_to_string(out.join("deploys-timeline.csv")).unwrap();
    assert!(deploys.contains(",lru,") && deploys.contains(",disk,"));
    let memcached = std::net::TcpStream::connect("127.0.0.1:11211").is_ok();
    assert_eq!(deploys.contains(",memcached,"), memcached);
    let tiers = std::fs::read_to_string(out.join("tiers.csv")).unwrap();
    assert!(tiers.contains(",none,") && tiers.contains(",disk,"));
    for (k, t, _) in &figs {
        assert!(!t.is_empty(), "figure {k} has no takeaway");
    }
    if !redis {
        skip_or_fail!("figure 7 needs Redis on 127.0.0.1:6379 (the rest was checked)");
    }
}
