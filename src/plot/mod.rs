//! Charts for slides and handouts, drawn from results read back from CSV.
//!
//! Each chart kind is one file implementing [`ChartKind`] (`mrc.rs`,
//! `bars.rs`, `latency.rs`, `staleness.rs`, `invalidation.rs`, `timeline.rs`, `fleet.rs`,
//! `stampede.rs`), registered in
//! [`KINDS`]. A kind draws on a [`Canvas`], which is either the bitmap
//! backend (PNG) or the SVG backend, so one drawing routine yields both.
//! [`theme`] holds the sizes, fonts and per-strategy colours every kind
//! shares. Plotting computes no statistics: it draws the columns the runs
//! already hold.

pub mod bars;
pub mod canvas;
pub mod card;
pub mod fleet;
pub mod invalidation;
pub mod labels;
pub mod latency;
pub mod mrc;
pub mod staleness;
pub mod stampede;
pub mod takeaway;
pub mod theme;
pub mod timeline;

pub(crate) use canvas::Canvas;

use crate::sim::RunResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use theme::Theme;

/// The drawing area a chart kind draws on.
pub(crate) type Area<'a> = DrawingArea<Canvas<'a>, Shift>;

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The data lacks what the chart draws (e.g. a curve needs two capacities).
    #[error("cannot draw '{kind}': {reason}")]
    Unsupported {
        /// The chart kind (`mrc`, `bars`, ...).
        kind: &'static str,
        /// What the data lacks.
        reason: String,
    },
    /// The inputs lack the columns (or the files) this kind draws at all,
    /// e.g. `latency` on results run with `--no-latency`: asking for it by
    /// `--kind` is a usage error, not a data problem.
    #[error("cannot draw '{kind}': {reason}")]
    MissingColumns {
        /// The chart kind (`mrc`, `bars`, ...).
        kind: &'static str,
        /// What the inputs lack.
        reason: String,
    },
    /// A bad option value (names the option).
    #[error("invalid value for '{option}': {reason}")]
    Option {
        /// The option (`--size`, `--capacity`, ...).
        option: &'static str,
        /// What is wrong with its value, and what is accepted.
        reason: String,
    },
    /// plotters failed to draw (the backend's message).
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The PNG could not be encoded (the encoder's message).
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

/// Maps any plotters drawing error to [`PlotError::Draw`].
pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// Which ratio the y axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YMetric {
    /// Hit ratio (hits / gets).
    #[default]
    Hit,
    /// Miss ratio (misses / gets).
    Miss,
}

impl YMetric {
    pub(crate) fn of(self, r: &RunResult) -> f64 {
        match self {
            YMetric::Hit => r.hit_ratio,
            YMetric::Miss => r.miss_ratio,
        }
    }
    pub(crate) fn label(self) -> &'static str {
        match self {
            YMetric::Hit => "Hit ratio",
            YMetric::Miss => "Miss ratio",
        }
    }
}

/// Options shared by the chart kinds (each reads the ones it uses).
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Which ratio the y axis shows (`--y`).
    pub y: YMetric,
    /// For `bars`: the capacity to show, as given by `--capacity`.
    pub capacity: Option<String>,
    /// Replaces the generated title.
    pub title: Option<String>,
    /// For `mrc`: every workload in one panel (colour per workload, marker
    /// per strategy), e.g. one strategy across Zipf skews.
    pub overlay: bool,
    /// Strategies to draw in colour (full spec or bare name, as
    /// `--strategy`); the others are drawn thin and light grey beneath
    /// them (`mrc`) or as grey bars (`bars`). Empty: every strategy in
    /// colour.
    pub highlight: Vec<String>,
}

impl PlotOptions {
    /// Whether `spec` is drawn in colour: `--highlight` names it, or
    /// `--highlight` is not given.
    pub(crate) fn highlighted(&self, spec: &str) -> bool {
        self.highlight.is_empty() || self.highlight.iter().any(|h| strategy_matches(spec, h))
    }
}

/// One kind of chart: one file under `plot/`.
pub trait ChartKind: Sync {
    /// The name used by `--kind` and in output file names.
    fn name(&self) -> &'static str;
    /// One line for `--help` and error messages.
    fn summary(&self) -> &'static str;
    /// `Ok` when `data` holds what this chart draws, else why not.
    fn check(&self, data: &Dataset, opts: &PlotOptions) -> Result<(), PlotError>;
    /// The chart's title, from the data (workload, capacity and its unit).
    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError>;
    /// What the chart shows, in a sentence with the measured numbers (the
    /// report's caption), or `None` when the data says nothing in one line.
    fn takeaway(&self, _data: &Dataset, _opts: &PlotOptions) -> Option<String> {
        None
    }
    /// Draws the whole chart, title included, on `root`.
    fn draw(
        &self,
        data: &Dataset,
        opts: &PlotOptions,
        root: &Area,
        theme: &Theme,
    ) -> Result<(), PlotError>;
}

/// Every chart kind, in the order `plot` draws them.
pub static KINDS: &[&dyn ChartKind] = &[
    &mrc::Mrc,
    &bars::Bars,
    &latency::Latency,
    &staleness::Staleness,
    &invalidation::Invalidation,
    &timeline::Timeline,
    &fleet::Fleet,
    &stampede::Stampede,
];

/// The chart kind called `name`, or an error listing the kinds.
pub fn kind(name: &str) -> Result<&'static dyn ChartKind, PlotError> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.name() == name)
        .ok_or_else(|| PlotError::Option {
            option: "--kind",
            reason: format!(
                "'{name}' is not a chart kind; valid kinds: {}",
                kind_names()
            ),
        })
}

pub(crate) fn kind_names() -> String {
    KINDS
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows to draw, with helpers that keep first-seen order (the order the
/// user asked for strategies and workloads in).
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Results rows, one per run, in the order read.
    pub rows: Vec<RunResult>,
    /// Rows of `<results>-timeline.csv` files (for `timeline`, and for
    /// `stampede` those of the event mode), each with
    /// its source: the file's stem without `-timeline`.
    pub timeline: Vec<(String, crate::sim::phases::TimelineRow)>,
    /// Notes for the user (duplicate rows dropped, ...).
    pub warnings: Vec<String>,
}

/// What identifies one measurement: the TTL axis value and the fleet size
/// are part of it (a `--ttl` sweep repeats `lru` once per TTL; a fleet
/// study repeats each strategy once per `--instances`).
/// So are the write policy (an `--on-write` sweep) and the prefill, and
/// the event mode's clients, arrivals, origin and defences (one run per
/// defence).
type DedupeKey = (
    String,
    String,
    String,
    u64,
    Option<u64>,
    u64,
    String,
    String,
    String,
);

fn dedupe_key(r: &RunResult) -> DedupeKey {
    (
        r.workload.clone(),
        r.strategy.clone(),
        unit_of(r).to_string(),
        r.capacity,
        r.ttl_s.map(f64::to_bits),
        r.instances,
        r.on_write.clone(),
        r.prefill.clone(),
        if r.arrivals.is_empty() {
            String::new()
        } else {
            format!(
                "{}|{:?}|{}|{:?}|{}|{}",
                r.arrivals, r.clients, r.think_time, r.origin_concurrency, r.defences, r.origin
            )
        },
    )
}

/// Whether a CSV is a timeline (`cachesim run --window`): its header has
/// `window_hit_ratio`.
pub(crate) fn is_timeline(p: &Path) -> Result<bool, String> {
    let line = crate::sim::result::csv_first_line(p)?;
    Ok(line.split(',').any(|c| c.trim() == "window_hit_ratio"))
}

impl Dataset {
    /// Reads every CSV, in order. A (workload, strategy, capacity) measured
    /// in several rows is drawn once, from the last row read, with a warning.
    /// Results and timeline CSVs mix freely: each file is told apart by its
    /// header; timeline rows feed the `timeline` kind, results rows the rest.
    pub fn load(paths: &[PathBuf]) -> Result<Dataset, String> {
        let mut rows = Vec::new();
        let mut timeline = Vec::new();
        for p in paths {
            if is_timeline(p)? {
                let source = default_name(p);
                for t in crate::sim::phases::read_timeline(p)? {
                    timeline.push((source.clone(), t));
                }
            } else {
                // Figures draw runs' totals, not their `--group-by` rows.
                rows.extend(
                    crate::sim::result::read_results(p)?
                        .into_iter()
                        .filter(|r| r.group.is_empty()),
                );
            }
        }
        let mut d = Dataset::from_rows(rows);
        d.timeline = timeline;
        Ok(d)
    }

    pub(crate) fn from_rows(rows: Vec<RunResult>) -> Dataset {
        let mut index = rustc_hash::FxHashMap::default();
        let mut out: Vec<RunResult> = Vec::with_capacity(rows.len());
        let mut dups = 0;
        for r in rows {
            match index.get(&dedupe_key(&r)) {
                Some(&i) => {
                    out[i] = r;
                    dups += 1;
                }
                None => {
                    index.insert(dedupe_key(&r), out.len());
                    out.push(r);
                }
            }
        }
        let mut warnings = Vec::new();
        if dups > 0 {
            warnings.push(format!(
                "{dups} row(s) repeat a (workload, strategy, capacity) already read; the last one read is drawn"
            ));
        }
        Dataset {
            rows: out,
            timeline: Vec::new(),
            warnings,
        }
    }

    /// Workload labels in first-seen order.
    pub(crate) fn workloads(&self) -> Vec<&str> {
        first_seen(self.rows.iter().map(|r| r.workload.as_str()))
    }

    /// Strategy specs in first-seen order.
    pub(crate) fn strategies(&self) -> Vec<&str> {
        first_seen(self.rows.iter().map(|r| r.strategy.as_str()))
    }

    /// Keeps only the given strategies (full spec or bare name) and
    /// workloads (exact label); empty lists keep everything.
    pub fn retain(&mut self, strategies: &[String], workloads: &[String]) -> Result<(), PlotError> {
        if !strategies.is_empty() {
            let present = self.strategies().join(", ");
            for s in strategies {
                if !self.rows.iter().any(|r| strategy_matches(&r.strategy, s))
                    && !self
                        .timeline
                        .iter()
                        .any(|(_, t)| strategy_matches(&t.strategy, s))
                {
                    return Err(PlotError::Option {
                        option: "--strategy",
                        reason: format!(
                            "'{s}' is not in the results; strategies present: {present}"
                        ),
                    });
                }
            }
            self.rows
                .retain(|r| strategies.iter().any(|s| strategy_matches(&r.strategy, s)));
            self.timeline
                .retain(|(_, t)| strategies.iter().any(|s| strategy_matches(&t.strategy, s)));
        }
        if !workloads.is_empty() {
            let present = self.workloads().join(", ");
            for w in workloads {
                if !self.rows.iter().any(|r| &r.workload == w)
                    && !self.timeline.iter().any(|(_, t)| &t.workload == w)
                {
                    return Err(PlotError::Option {
                        option: "--workload",
                        reason: format!(
                            "'{w}' is not in the results; workloads present: {present}"
                        ),
                    });
                }
            }
            self.rows.retain(|r| workloads.contains(&r.workload));
            self.timeline
                .retain(|(_, t)| workloads.contains(&t.workload));
        }
        Ok(())
    }
}

impl Dataset {
    /// Checks that every `--highlight` name is a strategy in the results
    /// (full spec or bare name, as `--strategy`).
    pub fn check_highlight(&self, names: &[String]) -> Result<(), PlotError> {
        for h in names {
            if !self.rows.iter().any(|r| strategy_matches(&r.strategy, h))
                && !self
                    .timeline
                    .iter()
                    .any(|(_, t)| strategy_matches(&t.strategy, h))
            {
                return Err(PlotError::Option {
                    option: "--highlight",
                    reason: format!(
                        "'{h}' is not in the results; strategies present: {}",
                        self.strategies().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Whether a row's strategy spec is the one the user named: the full spec
/// (`ttl:ttl=60s`) or the bare name (`ttl`, matching every ttl).
pub(crate) fn strategy_matches(spec: &str, asked: &str) -> bool {
    spec == asked || theme::base_name(spec) == asked
}

/// Distinct items in first-seen order.
pub(crate) fn first_seen<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = rustc_hash::FxHashSet::default();
    it.filter(|s| seen.insert(*s)).collect()
}

/// `objects` or `bytes` (rows written before the column existed are objects).
pub(crate) fn unit_of(r: &RunResult) -> &str {
    if r.capacity_unit == "bytes" {
        "bytes"
    } else {
        "objects"
    }
}

/// A capacity for an axis tick or a title: `500`, `2.5k`, `10k`, `1M`, or
/// bytes as `64 MiB`.
pub(crate) fn format_capacity(v: f64, unit: &str) -> String {
    if unit == "bytes" {
        return crate::units::format_bytes(v.round().max(0.0) as u64);
    }
    let (x, suffix) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else if x < 10.0 {
        format!("{:.1}", x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{:.0}", x)
    };
    format!("{s}{suffix}")
}

/// A ratio as a percentage for axes and labels: `41.2%` (or `41%` for
/// `decimals` = 0).
pub(crate) fn percent(v: f64, decimals: usize) -> String {
    format!("{:.*}%", decimals, v * 100.0)
}

/// The top of a ratio axis: the data's maximum rounded up to the next 10%
/// (a little headroom for value labels), at most 100%.
pub(crate) fn ratio_axis_top(max: f64, headroom: f64) -> f64 {
    (((max + headroom) * 10.0).ceil() / 10.0).clamp(0.1, 1.0)
}

/// `text` cut at the end with an ellipsis so it is at most `max_w` pixels
/// wide in `style` (the whole text when it fits).
pub(crate) fn fit_width(area: &Area, text: &str, style: &TextStyle, max_w: u32) -> String {
    let width = |t: &str| area.estimate_text_size(t, style).map(|s| s.0).unwrap_or(0);
    if width(text) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let t: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "\u{2026}";
        if width(&t) <= max_w {
            return t;
        }
    }
    "\u{2026}".to_string()
}

/// `text` in two lines, split at the space that makes the longer line
/// shortest (a split before an em dash preferred), or `None` without spaces.
pub(crate) fn split_two(area: &Area, text: &str, style: &TextStyle) -> Option<(String, String)> {
    let width = |t: &str| area.estimate_text_size(t, style).map(|s| s.0).unwrap_or(0);
    let mut best: Option<(u32, String, String)> = None;
    for (i, _) in text.match_indices(' ') {
        let (a, b) = (text[..i].trim_end(), text[i..].trim_start());
        if a.is_empty() || b.is_empty() {
            continue;
        }
        let w = width(a).max(width(b));
        if best.as_ref().is_none_or(|(bw, _, _)| w < *bw) {
            best = Some((w, a.to_string(), b.to_string()));
        }
    }
    // A split before the em dash reads better when it fits as well.
    if let Some(i) = text.find(" \u{2014} ") {
        let (a, b) = (&text[..i], text[i..].trim_start());
        let w = width(a).max(width(b));
        if best.as_ref().is_some_and(|(bw, _, _)| w <= *bw * 115 / 100) {
            best = Some((w, a.to_string(), b.to_string()));
        }
    }
    best.map(|(_, a, b)| (a, b))
}

/// Draws `title` centred in a band at the top of `root` and returns the
/// area below it. (plotters' own `titled` places ab_glyph text too high.)
/// A long title is made smaller down to 40 px, then set in two lines (down
/// to [`theme::MIN_TEXT_1080P`]), then cut with an ellipsis: never smaller.
pub(crate) fn draw_title<'a>(
    root: &Area<'a>,
    title: &str,
    theme: &Theme,
) -> Result<Area<'a>, PlotError> {
    let (w, _) = root.dim_in_pixel();
    let max_w = w * 96 / 100;
    let width =
        |t: &str, style: &TextStyle| root.estimate_text_size(t, style).map(|s| s.0).unwrap_or(0);
    let sizes = || {
        (0..)
            .map(|i| 56.0 - 4.0 * i as f64)
            .take_while(|s| *s > theme::MIN_TEXT_1080P)
            .chain(std::iter::once(theme::MIN_TEXT_1080P))
    };
    // One line at the largest size down to 40 px that fits; else two lines
    // (44 px down to the smallest size); else two lines at the smallest
    // size, cut.
    let mut lines: Option<(Vec<String>, TextStyle)> = sizes()
        .filter(|s| *s >= 40.0)
        .map(|s| theme.title_sized(s))
        .find(|st| width(title, st) <= max_w)
        .map(|st| (vec![title.to_string()], st));
    if lines.is_none() {
        for s in sizes().filter(|s| *s <= 44.0) {
            let st = theme.title_sized(s);
            if let Some((a, b)) = split_two(root, title, &st) {
                if width(&a, &st) <= max_w && width(&b, &st) <= max_w {
                    lines = Some((vec![a, b], st));
                    break;
                }
            }
        }
    }
    let (lines, style) = lines.unwrap_or_else(|| {
        let st = theme.title_sized(theme::MIN_TEXT_1080P);
        let v = match split_two(root, title, &st) {
            Some((a, b)) => vec![
                fit_width(root, &a, &st, max_w),
                fit_width(root, &b, &st, max_w),
            ],
            None => vec![fit_width(root, title, &st, max_w)],
        };
        (v, st)
    });
    let line_h = (style.font.get_size() * 1.15).round() as u32;
    let band = theme
        .px(100.0)
        .max(line_h * lines.len() as u32 + theme.px(24.0));
    let (top, rest) = root.split_vertically(band);
    let first_y = band as i32 * 55 / 100 - (line_h as i32 * (lines.len() as i32 - 1)) / 2;
    for (i, line) in lines.iter().enumerate() {
        top.draw(&Text::new(
            line.clone(),
            ((w / 2) as i32, first_y + i as i32 * line_h as i32),
            style.pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            )),
        ))
        .map_err(draw_err)?;
    }
    Ok(rest.margin(0, theme.px(10.0), theme.px(10.0), theme.px(10.0)))
}

/// Workload labels made short for panel captions and group labels: the
/// `name:key=value` parts every label shares go to the title (returned
/// first), the parts that differ label the panels. With one workload, or
/// nothing shared, the labels are returned whole.
pub(crate) fn workload_captions(workloads: &[&str]) -> (Option<String>, Vec<String>) {
    if workloads.len() < 2 {
        return (None, workloads.iter().map(|w| w.to_string()).collect());
    }
    let parts: Vec<Vec<&str>> = workloads.iter().map(|w| w.split(':').collect()).collect();
    let common: Vec<&str> = parts[0]
        .iter()
        .copied()
        .filter(|p| parts.iter().all(|q| q.contains(p)))
        .collect();
    if common.is_empty() || parts.iter().any(|p| p.iter().all(|x| common.contains(x))) {
        return (None, workloads.iter().map(|w| w.to_string()).collect());
    }
    let captions = parts
        .iter()
        .map(|p| {
            p.iter()
                .copied()
                .filter(|x| !common.contains(x))
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect();
    (Some(common.join(":")), captions)
}

/// The rows a one-workload, one-capacity chart draws (`latency`,
/// `staleness`, `fleet`): those of `rows` for the first workload (narrow
/// with `--workload`), at `--capacity` or else the capacity most of them
/// share (as `bars` picks it).
pub(crate) fn focus<'a>(
    rows: impl Iterator<Item = &'a RunResult>,
    opts: &PlotOptions,
) -> Result<Vec<RunResult>, PlotError> {
    let rows: Vec<&RunResult> = rows.collect();
    let Some(first) = rows.first().map(|r| r.workload.clone()) else {
        return Ok(Vec::new());
    };
    let d = Dataset {
        rows: rows
            .into_iter()
            .filter(|r| r.workload == first)
            .cloned()
            .collect(),
        ..Default::default()
    };
    let mut chosen: Vec<RunResult> = bars::select(&d, opts)?.into_iter().cloned().collect();
    // A strategy measured once but not at the chosen capacity joins too: a
    // server's capacity is not the local caches' (`redis` is `server`,
    // `tiered:lru+redis` `l1=1%+server`), yet it belongs on the same chart.
    if opts.capacity.is_none() {
        for r in &d.rows {
            let once = d.rows.iter().filter(|o| o.strategy == r.strategy).count() == 1;
            if once && !chosen.iter().any(|c| c.strategy == r.strategy) {
                chosen.push(r.clone());
            }
        }
        let order = d.strategies();
        chosen.sort_by_key(|r| order.iter().position(|s| *s == r.strategy));
    }
    Ok(chosen)
}

/// The title's tail for [`focus`]ed rows: ` \u{2014} workload, 5% of keys`.
pub(crate) fn focus_caption(rows: &[RunResult]) -> String {
    match rows.first() {
        Some(r) => format!(" \u{2014} {}, {}", r.workload, bars::cap_words(r)),
        None => String::new(),
    }
}

/// A duration for axis ticks: `500ms`, `1s`, `30s`, `5m`, `1h`, `2d`.
pub(crate) fn format_duration(s: f64) -> String {
    let trim = |x: f64| {
        if (x - x.round()).abs() < 1e-9 {
            format!("{}", x.round() as i64)
        } else {
            format!("{x:.1}")
        }
    };
    if s < 1.0 {
        format!("{}ms", trim(s * 1e3))
    } else if s < 60.0 {
        format!("{}s", trim(s))
    } else if s < 3600.0 {
        format!("{}m", trim(s / 60.0))
    } else if s < 86400.0 {
        format!("{}h", trim(s / 3600.0))
    } else {
        format!("{}d", trim(s / 86400.0))
    }
}

/// A colour mixed with white: `amount` 0 keeps it, 1 gives white. For the
/// second line of a pair (stale hits, cumulative ratio) in the same hue.
pub(crate) fn lighter(c: RGBColor, amount: f64) -> RGBColor {
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * amount).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// A chart with linear x and y axes, as `timeline` and `stampede` draw.
pub(crate) type LinearChart<'a, 'b> = ChartContext<
    'a,
    Canvas<'b>,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Items grouped by key, the groups in the order their keys are first seen
/// (a chart's series, from rows of several runs).
pub(crate) fn group_first_seen<K: PartialEq, T>(
    items: impl Iterator<Item = (K, T)>,
) -> Vec<(K, Vec<T>)> {
    let mut out: Vec<(K, Vec<T>)> = Vec::new();
    for (k, t) in items {
        match out.iter_mut().find(|(o, _)| *o == k) {
            Some((_, v)) => v.push(t),
            None => out.push((k, vec![t])),
        }
    }
    out
}

/// The theme's axes on a mesh: tick and axis-label text, a light grid at
/// the labelled values only, subtle axis lines.
pub(crate) fn theme_mesh<X, Y, DB>(
    mesh: &mut plotters::chart::MeshStyle<'_, '_, X, Y, DB>,
    theme: &Theme,
) where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    DB: plotters::prelude::DrawingBackend,
{
    mesh.label_style(theme.tick())
        .axis_desc_style(theme.axis_label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
        .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)));
}

/// A dotted vertical line across `chart` at `x`, from 0 to `ytop` (a
/// deploy, an expiry), with `label` beside its top when given.
pub(crate) fn draw_event_line(
    chart: &mut LinearChart,
    root: &Area,
    x: f64,
    ytop: f64,
    label: Option<&str>,
    theme: &Theme,
) -> Result<(), PlotError> {
    chart
        .draw_series(DashedLineSeries::new(
            [(x, 0.0), (x, ytop)],
            theme.px(6.0),
            theme.px(10.0),
            theme::SUBTLE.stroke_width(theme.px(2.0)),
        ))
        .map_err(draw_err)?;
    if let Some(label) = label {
        let (px, py) = chart.backend_coord(&(x, ytop));
        root.draw(&Text::new(
            label.to_string(),
            (px + theme.px(8.0) as i32, py + theme.px(6.0) as i32),
            theme.tick().color(&theme::SUBTLE),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

/// About eight markers along `line`, so lines read apart without colour;
/// the `idx`-th of `n` lines has its markers shifted along, so lines that
/// coincide still show every marker.
pub(crate) fn draw_line_markers(
    chart: &LinearChart,
    root: &Area,
    line: &[(f64, f64)],
    (marker, color): (theme::Marker, RGBColor),
    (idx, n): (usize, usize),
    theme: &Theme,
) -> Result<(), PlotError> {
    let step = (line.len() / 8).max(1);
    let phase = step / 2 + idx * step / n.max(1);
    for p in line.iter().skip(phase % step).step_by(step) {
        root.draw(&theme::marker_element(
            marker,
            chart.backend_coord(p),
            theme.marker_size(),
            color,
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

/// One legend entry.
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    /// `None` draws a filled square (bars); `Some` a line with this marker.
    pub marker: Option<theme::Marker>,
    /// A line entry drawn dashed (a prefilled series, a shared cache).
    pub dashed: bool,
}

/// Splits off a legend on the right of `area`, draws the entries in it
/// (in columns when one column would not fit the height; labels cut with
/// an ellipsis when the columns would take more than half the width; text
/// never below [`theme::MIN_TEXT_1080P`]), and returns the area left for
/// the chart.
pub(crate) fn legend_right<'a>(
    area: &Area<'a>,
    entries: &[LegendEntry],
    theme: &Theme,
) -> Result<Area<'a>, PlotError> {
    if entries.is_empty() {
        return Ok(area.clone());
    }
    let (w, h) = area.dim_in_pixel();
    let row = |style: &TextStyle| -> u32 {
        let (_, th) = area.estimate_text_size("Ag", style).unwrap_or((0, 20));
        (th * 16 / 10).max(1)
    };
    let avail_h = h.saturating_sub(theme.px(40.0)).max(1);
    // The legend size if one column fits, else the smallest, in columns.
    let mut style = theme.legend();
    if row(&style) * entries.len() as u32 > avail_h {
        style = theme.text(theme::MIN_TEXT_1080P);
    }
    let row_h = row(&style);
    let per_col = (avail_h / row_h).max(1) as usize;
    let cols = entries.len().div_ceil(per_col);
    let per_col = entries.len().div_ceil(cols);
    let swatch = theme.px(60.0);
    let gap = theme.px(16.0);
    let pad = theme.px(30.0);
    let text_w = entries
        .iter()
        .map(|e| {
            area.estimate_text_size(&e.label, &style)
                .map(|s| s.0)
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    let col_w = (swatch + gap + text_w + pad).min((w / 2) / cols as u32);
    let text_max = col_w.saturating_sub(swatch + gap + pad / 2);
    let legend_w = col_w * cols as u32 + theme.px(20.0);
    let (chart, legend) = area.split_horizontally(w - legend_w);
    let top = (h.saturating_sub(row_h * per_col as u32) / 2) as i32;
    for (i, e) in entries.iter().enumerate() {
        let (c, r) = (i / per_col, i % per_col);
        let x0 = (theme.px(10.0) + c as u32 * col_w) as i32;
        let cy = top + (r as u32 * row_h + row_h / 2) as i32;
        match e.marker {
            Some(theme::Marker::Bare) => {
                legend
                    .draw(&PathElement::new(
                        vec![(x0, cy), (x0 + swatch as i32, cy)],
                        e.color.stroke_width(theme.muted_line_width()),
                    ))
                    .map_err(draw_err)?;
            }
            Some(m) => {
                if e.dashed {
                    // Two dashes and a gap, as the chart's dashed lines.
                    let d = swatch as i32 * 3 / 8;
                    for x in [x0, x0 + swatch as i32 - d] {
                        legend
                            .draw(&PathElement::new(
                                vec![(x, cy), (x + d, cy)],
                                e.color.stroke_width(theme.line_width()),
                            ))
                            .map_err(draw_err)?;
                    }
                } else {
                    legend
                        .draw(&PathElement::new(
                            vec![(x0, cy), (x0 + swatch as i32, cy)],
                            e.color.stroke_width(theme.line_width()),
                        ))
                        .map_err(draw_err)?;
                }
                legend
                    .draw(&theme::marker_element(
                        m,
                        (x0 + swatch as i32 / 2, cy),
                        theme.marker_size(),
                        e.color,
                    ))
                    .map_err(draw_err)?;
            }
            None => {
                let s = (row_h * 6 / 10) as i32;
                legend
                    .draw(&Rectangle::new(
                        [
                            (x0 + swatch as i32 / 2 - s / 2, cy - s / 2),
                            (x0 + swatch as i32 / 2 + s / 2, cy + s / 2),
                        ],
                        e.color.filled(),
                    ))
                    .map_err(draw_err)?;
            }
        }
        legend
            .draw(&Text::new(
                fit_width(&legend, &e.label, &style, text_max),
                (x0 + (swatch + gap) as i32, cy),
                style.pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
            ))
            .map_err(draw_err)?;
    }
    Ok(chart)
}

/// Renders `kind` as SVG text.
pub fn render_svg(
    kind: &dyn ChartKind,
    data: &Dataset,
    opts: &PlotOptions,
    size: (u32, u32),
) -> Result<String, PlotError> {
    theme::register_fonts();
    kind.check(data, opts)?;
    let mut out = String::new();
    {
        let root = Canvas::Svg(SVGBackend::with_string(&mut out, size)).into_drawing_area();
        root.fill(&theme::BACKGROUND).map_err(draw_err)?;
        kind.draw(data, opts, &root, &Theme::new(size.0, size.1))?;
        root.present().map_err(draw_err)?;
    }
    Ok(out)
}

/// Renders `kind` into an RGB buffer (3 bytes a pixel, rows top down).
pub(crate) fn render_rgb(
    kind: &dyn ChartKind,
    data: &Dataset,
    opts: &PlotOptions,
    size: (u32, u32),
) -> Result<Vec<u8>, PlotError> {
    theme::register_fonts();
    kind.check(data, opts)?;
    let mut buf = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = Canvas::Bitmap(BitMapBackend::with_buffer(&mut buf, size)).into_drawing_area();
        root.fill(&theme::BACKGROUND).map_err(draw_err)?;
        kind.draw(data, opts, &root, &Theme::new(size.0, size.1))?;
        root.present().map_err(draw_err)?;
    }
    Ok(buf)
}

/// Renders `kind` as a PNG file's bytes.
pub fn render_png(
    kind: &dyn ChartKind,
    data: &Dataset,
    opts: &PlotOptions,
    size: (u32, u32),
) -> Result<Vec<u8>, PlotError> {
    let rgb = render_rgb(kind, data, opts, size)?;
    encode_png(&rgb, size)
}

/// Encodes an RGB buffer as PNG.
pub(crate) fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut wr = enc
        .write_header()
        .map_err(|e| PlotError::Encode(e.to_string()))?;
    wr.write_image_data(rgb)
        .map_err(|e| PlotError::Encode(e.to_string()))?;
    wr.finish().map_err(|e| PlotError::Encode(e.to_string()))?;
    Ok(out)
}

/// Parses `--size WxH` (e.g. `1920x1080`).
pub(crate) fn parse_size(s: &str) -> Result<(u32, u32), PlotError> {
    let bad = || PlotError::Option {
        option: "--size",
        reason: format!("'{s}' is not WIDTHxHEIGHT in pixels, e.g. 1920x1080 (each 200 to 10000)"),
    };
    let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if !(200..=10_000).contains(&w) || !(200..=10_000).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// The file stem charts are named after: the first input's stem, without
/// a timeline's `-timeline` (`cold-timeline.csv` gives `cold-timeline.png`).
pub(crate) fn default_name(first: &Path) -> String {
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "chart".to_string());
    match stem.strip_suffix("-timeline") {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => stem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_format_for_axes() {
        assert_eq!(format_capacity(1000.0, "objects"), "1k");
        assert_eq!(format_capacity(2500.0, "objects"), "2.5k");
        assert_eq!(format_capacity(168.0, "objects"), "168");
        assert_eq!(format_capacity(1_000_000.0, "objects"), "1M");
        assert_eq!(format_capacity(16793.0, "objects"), "17k");
        assert_eq!(
            format_capacity(64.0 * 1024.0 * 1024.0, "bytes"),
            crate::units::format_bytes(64 << 20)
        );
    }

    #[test]
    fn sizes_parse_and_reject() {
        assert_eq!(parse_size("1920x1080").unwrap(), (1920, 1080));
        assert_eq!(parse_size("960X540").unwrap(), (960, 540));
        for bad in ["1920", "x", "0x0", "100x100", "axb", "20000x100"] {
            let e = parse_size(bad).unwrap_err().to_string();
            assert!(e.contains("--size") && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn shared_workload_parts_move_to_the_title() {
        let (t, c) = workload_captions(&["zipf:keys=20k:alpha=0.6", "zipf:keys=20k:alpha=1.0"]);
        assert_eq!(t.as_deref(), Some("zipf:keys=20k"));
        assert_eq!(c, ["alpha=0.6", "alpha=1.0"]);
        let (t, c) = workload_captions(&["zipf:alpha=0.6", "OLTP.lis.zst"]);
        assert_eq!(t, None);
        assert_eq!(c, ["zipf:alpha=0.6", "OLTP.lis.zst"]);
        let (t, c) = workload_captions(&["zipf", "zipf:alpha=1.0"]);
        assert_eq!(t, None);
        assert_eq!(c, ["zipf", "zipf:alpha=1.0"]);
    }

    #[test]
    fn durations_format_for_axes() {
        assert_eq!(format_duration(1.0), "1s");
        assert_eq!(format_duration(30.0), "30s");
        assert_eq!(format_duration(300.0), "5m");
        assert_eq!(format_duration(0.5), "500ms");
        assert_eq!(format_duration(7200.0), "2h");
        assert_eq!(lighter(RGBColor(0, 100, 200), 0.5), RGBColor(128, 178, 228));
    }

    #[test]
    fn axis_top_rounds_up() {
        assert_eq!(ratio_axis_top(0.41, 0.0), 0.5);
        assert_eq!(ratio_axis_top(0.0, 0.0), 0.1);
        assert_eq!(ratio_axis_top(0.97, 0.05), 1.0);
    }
}
