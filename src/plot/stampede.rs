//! `stampede`: the origin's load around an expiry (talk figure 11), from the
//! `<results>-timeline.csv` of event-mode runs (`cachesim run --window N`
//! with `--arrivals`, `--clients` or a defence): against the time of each
//! window (`time_s`),
//!
//! - top, the fetches sent to the origin in the window
//!   (`window_origin_requests`): the burst when the hottest keys expire;
//! - bottom, when the rows have it, the most fetches at the origin at once,
//!   in service or queued (`origin_outstanding_max`): how deep the queue
//!   behind the burst grows.
//!
//! One line per run, labelled by its defences (`none` reads "no defence",
//! `swr:5s` "stale-while-revalidate 5s"), coloured by the first defence so
//! a defence keeps its colour on every slide. A run is one (file, defences,
//! strategy, capacity, TTL, origin, concurrency, arrivals): the scenario
//! run once per defence, into one file or several. When every run was
//! prefilled with the same TTL, a dotted line marks the moment the
//! prefilled keys expire together. Only the first workload is drawn.
//! Timelines without the event-mode columns (the plain loop's) are refused:
//! they feed `timeline`.

use super::theme::{self, Marker, Theme};
use super::{
    draw_err, format_capacity, legend_right, Area, ChartKind, Dataset, LegendEntry, PlotError,
    PlotOptions,
};
use crate::sim::phases::TimelineRow;
use plotters::prelude::*;

pub(crate) struct Stampede;

/// What tells one run from another: file, defences, strategy, capacity,
/// TTL, origin, origin concurrency, arrivals, clients.
#[derive(Debug, Clone, PartialEq)]
struct RunKey {
    source: String,
    defences: String,
    strategy: String,
    capacity: u64,
    ttl: Option<u64>,
    origin: String,
    concurrency: Option<u64>,
    arrivals: String,
    clients: Option<u64>,
}

fn key(source: &str, t: &TimelineRow) -> RunKey {
    RunKey {
        source: source.to_string(),
        defences: t.defences.clone(),
        strategy: t.strategy.clone(),
        capacity: t.capacity,
        ttl: t.ttl_s.map(f64::to_bits),
        origin: t.origin.clone(),
        concurrency: t.origin_concurrency,
        arrivals: t.arrivals.clone(),
        clients: t.clients,
    }
}

type Series<'a> = Vec<(RunKey, Vec<&'a TimelineRow>)>;

/// The event-mode rows of the first such workload, one series per run in
/// first-seen order, each sorted by time.
fn series(data: &Dataset) -> Series<'_> {
    let event = || {
        data.timeline
            .iter()
            .filter(|(_, t)| t.window_origin_requests.is_some())
    };
    let Some(workload) = event().next().map(|(_, t)| t.workload.as_str()) else {
        return Vec::new();
    };
    let mut out: Series = super::group_first_seen(
        event()
            .filter(|(_, t)| t.workload == workload)
            .map(|(src, t)| (key(src, t), t)),
    );
    for (_, pts) in &mut out {
        pts.sort_by(|a, b| {
            a.time_s
                .total_cmp(&b.time_s)
                .then(a.request.cmp(&b.request))
        });
    }
    out
}

/// One defence in words: `coalesce`, `swr:5s` -> `stale-while-revalidate
/// 5s`, `xfetch:1` -> `xfetch \u{3b2}=1`, `jitter:0.5` -> `TTL jitter 0.5`.
fn defence_words(d: &str) -> String {
    match d.split_once(':') {
        Some(("swr", v)) => format!("stale-while-revalidate {v}"),
        Some(("xfetch", v)) => format!("xfetch \u{3b2}={v}"),
        Some(("jitter", v)) => format!("TTL jitter {v}"),
        _ => d.to_string(),
    }
}

/// A `defences` label for the legend: `none` (or empty) is "no defence",
/// combined defences are joined with " + ".
pub(crate) fn defences_label(defences: &str) -> String {
    if defences.is_empty() || defences == "none" {
        return "no defence".to_string();
    }
    defences
        .split('+')
        .map(defence_words)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Colour and marker of each defence: Okabe-Ito hues, vermillion for no
/// defence. A combination takes its first defence's.
const STYLES: &[(&str, RGBColor, Marker)] = &[
    ("none", RGBColor(213, 94, 0), Marker::Cross),
    ("coalesce", RGBColor(0, 114, 178), Marker::Circle),
    ("swr", RGBColor(0, 158, 115), Marker::Square),
    ("xfetch", RGBColor(204, 121, 167), Marker::Triangle),
    ("jitter", RGBColor(230, 159, 0), Marker::Diamond),
];

fn style_of(defences: &str) -> (RGBColor, Marker) {
    let first = defences.split(['+', ':']).next().unwrap_or("none");
    let first = if first.is_empty() { "none" } else { first };
    STYLES
        .iter()
        .find(|(n, _, _)| *n == first)
        .map(|(_, c, m)| (*c, *m))
        .unwrap_or_else(|| (theme::strategy_color(first), theme::marker_for(first, 0)))
}

/// Legend labels: the defences, plus the strategy, capacity, origin
/// concurrency and arrivals when they differ between runs, plus the file
/// when two runs would still read the same.
fn labels(keys: &[&RunKey]) -> Vec<String> {
    let differ = |f: &dyn Fn(&RunKey) -> String| keys.iter().any(|k| f(k) != f(keys[0]));
    let by_strategy = differ(&|k| k.strategy.clone());
    let by_cap = differ(&|k| k.capacity.to_string());
    let by_conc = differ(&|k| format!("{:?}", k.concurrency));
    let by_arrivals = differ(&|k| format!("{} {:?}", k.arrivals, k.clients));
    let mut out: Vec<String> = keys
        .iter()
        .map(|k| {
            let mut l = defences_label(&k.defences);
            if by_strategy {
                l += &format!(" \u{b7} {}", k.strategy);
            }
            if by_cap {
                l += &format!(" \u{b7} {}", format_capacity(k.capacity as f64, "objects"));
            }
            if by_conc {
                l += &match k.concurrency {
                    Some(c) => format!(" \u{b7} {c} at once"),
                    None => " \u{b7} unbounded origin".to_string(),
                };
            }
            if by_arrivals {
                l += &match k.clients {
                    Some(c) => format!(" \u{b7} {c} clients"),
                    None => format!(" \u{b7} {}", k.arrivals),
                };
            }
            l
        })
        .collect();
    let same = |out: &[String], i: usize| out.iter().filter(|l| **l == out[i]).count() > 1;
    let collide: Vec<bool> = (0..out.len()).map(|i| same(&out, i)).collect();
    for (i, c) in collide.into_iter().enumerate() {
        if c {
            out[i] += &format!(" \u{b7} {}", keys[i].source);
        }
    }
    out
}

/// The moment the prefilled keys expire together: the TTL, when every run
/// was prefilled and shares it.
fn prefill_expiry(series: &Series) -> Option<f64> {
    let (_, first) = series.first()?;
    let t = first.first()?;
    let ttl = t.ttl_s?;
    let all = series
        .iter()
        .flat_map(|(_, p)| p.iter())
        .all(|r| !r.prefill.is_empty() && r.ttl_s == Some(ttl));
    all.then_some(ttl)
}

/// The window in requests (the spacing of the first run's rows).
fn window_requests(pts: &[&TimelineRow]) -> u64 {
    match pts {
        [a, b, ..] => b.request - a.request,
        [a] => a.request,
        [] => 0,
    }
}

/// Each run's peak: (label, most origin requests in a window, its time,
/// most fetches at the origin at once over the run).
fn peaks(data: &Dataset) -> Vec<(String, u64, f64, Option<u64>)> {
    let series = series(data);
    let keys: Vec<&RunKey> = series.iter().map(|(k, _)| k).collect();
    labels(&keys)
        .into_iter()
        .zip(&series)
        .filter_map(|(label, (_, pts))| {
            let peak = pts
                .iter()
                .filter_map(|t| t.window_origin_requests.map(|n| (n, t.time_s)))
                // The first window of the largest count.
                .fold(None, |best: Option<(u64, f64)>, (n, at)| match best {
                    Some((b, _)) if b >= n => best,
                    _ => Some((n, at)),
                })?;
            let outstanding = pts.iter().filter_map(|t| t.origin_outstanding_max).max();
            Some((label, peak.0, peak.1, outstanding))
        })
        .collect()
}

/// The takeaway: each run's peak of origin requests per window, when it
/// came, and how many fetches were at the origin at once.
pub(crate) fn takeaway(data: &Dataset) -> Option<String> {
    let series = series(data);
    let window = window_requests(&series.first()?.1);
    let parts: Vec<String> = peaks(data)
        .into_iter()
        .enumerate()
        .map(|(i, (label, n, at, out))| {
            let mut s = if i == 0 {
                format!(
                    "{label}: peak {n} origin requests per {}-request window at {}",
                    format_capacity(window as f64, "objects"),
                    super::format_duration(at)
                )
            } else {
                format!("{label}: {n} at {}", super::format_duration(at))
            };
            if let Some(o) = out {
                s += &if i == 0 {
                    format!(", up to {o} fetches at the origin at once")
                } else {
                    format!(", {o} at once")
                };
            }
            s
        })
        .collect();
    (!parts.is_empty()).then(|| format!("{}.", parts.join("; ")))
}

impl ChartKind for Stampede {
    fn name(&self) -> &'static str {
        "stampede"
    }

    fn summary(&self) -> &'static str {
        "origin requests per window against time (and the most fetches at the origin at once), a line per defence, from event-mode <results>-timeline.csv inputs"
    }

    fn check(&self, data: &Dataset, _opts: &PlotOptions) -> Result<(), PlotError> {
        let s = series(data);
        if s.is_empty() {
            return Err(PlotError::MissingColumns {
                kind: "stampede",
                reason: if data.timeline.is_empty() {
                    "no timeline input (give the <results>-timeline.csv of an event-mode run: run with --clients/--arrivals/a defence and --window)".to_string()
                } else {
                    "the timeline has no window_origin_requests, so it is not from the event mode (run with --clients/--arrivals/a defence and --window)".to_string()
                },
            });
        }
        if s.iter().all(|(_, p)| p.len() < 2) {
            return Err(PlotError::Unsupported {
                kind: "stampede",
                reason: "no run with two windows or more (a smaller --window)".to_string(),
            });
        }
        Ok(())
    }

    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError> {
        if let Some(t) = &opts.title {
            return Ok(t.clone());
        }
        let s = series(data);
        let Some((k, pts)) = s.first() else {
            return Ok("Cache stampede: origin requests over time".to_string());
        };
        let mut t = format!(
            "Cache stampede: origin requests per {} requests \u{2014} {}",
            format_capacity(window_requests(pts) as f64, "objects"),
            pts[0].workload
        );
        if let Some(c) = k
            .concurrency
            .filter(|_| s.iter().all(|(o, _)| o.concurrency == k.concurrency))
        {
            t += &format!(", origin {c} at once");
        }
        Ok(t)
    }

    fn takeaway(&self, data: &Dataset, _opts: &PlotOptions) -> Option<String> {
        takeaway(data)
    }

    fn draw(
        &self,
        data: &Dataset,
        opts: &PlotOptions,
        root: &Area,
        theme: &Theme,
    ) -> Result<(), PlotError> {
        let title = self.title(data, opts)?;
        let series = series(data);
        let area = super::draw_title(root, &title, theme)?;
        let keys: Vec<&RunKey> = series.iter().map(|(k, _)| k).collect();
        // The n-th run of a colour gets the next marker.
        let styles: Vec<(RGBColor, Marker)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let (c, m) = style_of(&k.defences);
                let n = keys[..i]
                    .iter()
                    .filter(|o| style_of(&o.defences).0 == c)
                    .count();
                (
                    c,
                    if n == 0 {
                        m
                    } else {
                        theme::marker_for(&k.defences, n)
                    },
                )
            })
            .collect();
        let legend: Vec<LegendEntry> = labels(&keys)
            .into_iter()
            .zip(&styles)
            .map(|(label, (color, marker))| LegendEntry {
                label,
                color: *color,
                marker: Some(*marker),
                dashed: false,
            })
            .collect();
        let chart_area = legend_right(&area, &legend, theme)?;

        let all = || series.iter().flat_map(|(_, p)| p.iter());
        let xmax = all().map(|t| t.time_s).fold(0.0f64, f64::max).max(1e-3);
        let queue_too = all().any(|t| t.origin_outstanding_max.is_some());
        let (_, h) = chart_area.dim_in_pixel();
        let (top, bottom) = if queue_too {
            let (a, b) = chart_area.split_vertically(h * 60 / 100);
            (a, Some(b))
        } else {
            (chart_area.clone(), None)
        };
        type Metric = fn(&TimelineRow) -> Option<u64>;
        let mut panels: Vec<(&Area, &str, Metric)> =
            vec![(&top, "Origin requests per window", |t: &TimelineRow| {
                t.window_origin_requests
            })];
        if let Some(b) = &bottom {
            panels.push((b, "At the origin at once", |t: &TimelineRow| {
                t.origin_outstanding_max
            }));
        }
        let expiry = prefill_expiry(&series).filter(|e| *e < xmax);
        let n_panels = panels.len();
        for (pi, (panel, ylabel, metric)) in panels.into_iter().enumerate() {
            let last = pi + 1 == n_panels;
            let ymax = all().filter_map(|t| metric(t)).max().unwrap_or(0) as f64;
            let ytop = (ymax * 1.08).max(1.0);
            let mut chart = ChartBuilder::on(panel)
                .margin(theme.px(16.0))
                .margin_right(theme.px(50.0))
                .x_label_area_size(theme.px(if last { 110.0 } else { 30.0 }))
                .y_label_area_size(theme.px(150.0))
                .build_cartesian_2d(0f64..xmax, 0f64..ytop)
                .map_err(draw_err)?;
            let mut mesh = chart.configure_mesh();
            mesh.y_desc(ylabel)
                .x_label_formatter(&|v| format!("{}s", trim_number(*v)))
                .y_label_formatter(&|v| format_capacity(*v, "objects"))
                .x_labels(10)
                .y_labels(if last && n_panels > 1 { 4 } else { 6 });
            super::theme_mesh(&mut mesh, theme);
            if last {
                mesh.x_desc("Time");
            } else {
                mesh.x_label_formatter(&|_| String::new());
            }
            mesh.draw().map_err(draw_err)?;
            if let Some(x) = expiry {
                super::draw_event_line(
                    &mut chart,
                    root,
                    x,
                    ytop,
                    (pi == 0).then_some("prefilled keys expire"),
                    theme,
                )?;
            }
            for (idx, ((_, pts), (color, marker))) in series.iter().zip(&styles).enumerate() {
                let line: Vec<(f64, f64)> = pts
                    .iter()
                    .filter_map(|t| metric(t).map(|y| (t.time_s, y as f64)))
                    .collect();
                chart
                    .draw_series(LineSeries::new(
                        line.clone(),
                        color.stroke_width(theme.line_width()),
                    ))
                    .map_err(draw_err)?;
                super::draw_line_markers(
                    &chart,
                    root,
                    &line,
                    (*marker, *color),
                    (idx, series.len()),
                    theme,
                )?;
            }
        }
        Ok(())
    }
}

/// `10`, `2.5`: a tick value without trailing zeros.
fn trim_number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{render_png, render_svg};

    /// A run's timeline: windows of 100 requests, 0.1 s apart, with these
    /// origin requests, and the origin's depth twice that.
    fn run(defences: &str, source: &str, origin: &[u64]) -> Vec<(String, TimelineRow)> {
        origin
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                (
                    source.to_string(),
                    TimelineRow {
                        workload: "zipf:alpha=1.2".into(),
                        strategy: "lru".into(),
                        capacity: 100,
                        seed: 1,
                        request: (i as u64 + 1) * 100,
                        time_s: (i as f64 + 1.0) * 0.1,
                        window_hit_ratio: Some(0.9),
                        cumulative_hit_ratio: Some(0.9),
                        ttl_s: Some(0.5),
                        window_gets: 100,
                        window_hits: 90,
                        prefill: "top:20".into(),
                        on_write: "invalidate".into(),
                        instances: 1,
                        window_origin_requests: Some(n),
                        origin_queue_max: Some(n.saturating_sub(4)),
                        origin_outstanding_max: Some(2 * n),
                        defences: defences.into(),
                        arrivals: "poisson".into(),
                        origin_concurrency: Some(4),
                        origin: "exp:20ms".into(),
                        ..Default::default()
                    },
                )
            })
            .collect()
    }

    fn data() -> Dataset {
        let mut d = Dataset::default();
        d.timeline
            .extend(run("none", "st", &[10, 12, 11, 10, 90, 40, 20, 12]));
        d.timeline
            .extend(run("coalesce", "st", &[10, 12, 11, 10, 35, 30, 20, 12]));
        d.timeline
            .extend(run("swr:5s", "st", &[10, 12, 11, 10, 30, 31, 20, 12]));
        d.timeline
            .extend(run("jitter:0.5", "st", &[14, 15, 16, 17, 15, 16, 14, 15]));
        d
    }

    /// The text of every `<text>` element, trimmed.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("</text>")
            .filter_map(|chunk| {
                let at = chunk.rfind("<text")?;
                let body = &chunk[at..];
                Some(body[body.find('>')? + 1..].trim().to_string())
            })
            .collect()
    }

    #[test]
    fn draws_png_and_svg_with_a_line_per_defence() {
        let d = data();
        let o = PlotOptions::default();
        Stampede.check(&d, &o).unwrap();
        let svg = render_svg(&Stampede, &d, &o, (1920, 1080)).unwrap();
        let t = texts(&svg);
        for want in [
            "no defence",
            "coalesce",
            "stale-while-revalidate 5s",
            "TTL jitter 0.5",
            "Origin requests per window",
            "At the origin at once",
            "prefilled keys expire",
            "Time",
        ] {
            assert!(t.iter().any(|x| x == want), "SVG lacks '{want}': {t:?}");
        }
        assert!(
            t.iter()
                .any(|x| x.starts_with("Cache stampede: origin requests per 100 requests")),
            "{t:?}"
        );
        let hex = |c: &RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        // Each defence drawn in its own colour; xfetch, not in the data, not.
        for (name, c, _) in STYLES {
            assert_eq!(svg.contains(&hex(c)), *name != "xfetch", "{name}");
        }
        // The PNG: the asked size, and the lines' colours in its pixels.
        let png = render_png(&Stampede, &d, &o, (960, 540)).unwrap();
        let mut r = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (960, 540));
        let count = |c: &RGBColor| {
            buf.chunks(3)
                .filter(|p| (p[0], p[1], p[2]) == (c.0, c.1, c.2))
                .count()
        };
        for (name, c) in [("no defence", STYLES[0].1), ("jitter", STYLES[4].1)] {
            assert!(count(&c) > 200, "{name}: {} pixels", count(&c));
        }
    }

    #[test]
    fn refuses_timelines_without_the_event_columns() {
        let mut d = data();
        for (_, t) in &mut d.timeline {
            t.window_origin_requests = None;
            t.origin_outstanding_max = None;
            t.defences.clear();
        }
        let e = Stampede.check(&d, &PlotOptions::default()).unwrap_err();
        assert!(matches!(e, PlotError::MissingColumns { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("window_origin_requests")
                && msg.contains("--arrivals")
                && msg.contains("--window"),
            "{msg}"
        );
        // No timeline at all (results rows only) is refused the same way.
        let e = Stampede
            .check(&Dataset::default(), &PlotOptions::default())
            .unwrap_err();
        assert!(matches!(e, PlotError::MissingColumns { .. }), "{e}");
        // One window is no line.
        let mut one = Dataset::default();
        one.timeline.extend(run("none", "st", &[5]));
        assert!(matches!(
            Stampede.check(&one, &PlotOptions::default()),
            Err(PlotError::Unsupported { .. })
        ));
    }

    #[test]
    fn takeaway_states_each_runs_peak_from_the_rows() {
        let d = data();
        assert_eq!(
            takeaway(&d).unwrap(),
            "no defence: peak 90 origin requests per 100-request window at 500ms, up to 180 fetches at the origin at once; \
             coalesce: 35 at 500ms, 70 at once; \
             stale-while-revalidate 5s: 31 at 600ms, 62 at once; \
             TTL jitter 0.5: 17 at 400ms, 34 at once."
        );
        // Other numbers, other sentence: nothing is written by hand.
        let mut d2 = Dataset::default();
        d2.timeline.extend(run("none", "a", &[3, 250, 7]));
        d2.timeline.extend(run("xfetch:1", "a", &[3, 120, 7]));
        let t = takeaway(&d2).unwrap();
        assert!(t.starts_with("no defence: peak 250 origin requests"), "{t}");
        assert!(t.contains("at 200ms, up to 500 fetches"), "{t}");
        assert!(
            t.contains("xfetch \u{3b2}=1: 120 at 200ms, 240 at once."),
            "{t}"
        );
        assert_eq!(Stampede.takeaway(&d2, &PlotOptions::default()), Some(t));
    }

    #[test]
    fn labels_name_defences_and_only_what_differs() {
        assert_eq!(defences_label("none"), "no defence");
        assert_eq!(defences_label(""), "no defence");
        assert_eq!(
            defences_label("coalesce+swr:5s+xfetch:1+jitter:0.2"),
            "coalesce + stale-while-revalidate 5s + xfetch \u{3b2}=1 + TTL jitter 0.2"
        );
        // Two files with the same defence: the file tells them apart.
        let mut d = Dataset::default();
        d.timeline.extend(run("none", "a", &[1, 2]));
        d.timeline.extend(run("none", "b", &[1, 2]));
        d.timeline.extend(run("coalesce", "b", &[1, 2]));
        let s = series(&d);
        let keys: Vec<&RunKey> = s.iter().map(|(k, _)| k).collect();
        assert_eq!(
            labels(&keys),
            ["no defence \u{b7} a", "no defence \u{b7} b", "coalesce"]
        );
        assert_eq!(style_of("coalesce+jitter:0.2"), style_of("coalesce"));
        assert_ne!(style_of("none").0, style_of("coalesce").0);
        // The plain loop's rows in the same dataset are left out.
        let mut plain = run("", "p", &[1, 2]);
        for (_, t) in &mut plain {
            t.window_origin_requests = None;
        }
        d.timeline.extend(plain);
        assert_eq!(series(&d).len(), 3);
    }
}
