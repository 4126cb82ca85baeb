//! `latency`: why cache at all (talk figure 1). Two panels in one chart:
//!
//! - left, the whole percentile spectrum: latency (log y) against the
//!   percentile, linear from 0 to 90% (where the hits and the step to the
//!   misses usually are), then on HdrHistogram's log scale, -log10(1 - p),
//!   so 99%, 99.9%, 99.99% are evenly spaced; one line per strategy through
//!   the points of `lat_spectrum_us` (files written before that column:
//!   through `lat_p50_us` .. `lat_p9999_us`). The step from hits to
//!   misses sits at the percentile equal to the hit ratio: a dotted line in
//!   the strategy's colour marks it, labelled with the hit ratio;
//! - right, the mean latency per strategy (`lat_mean_us`), the number
//!   "caching speeds up database queries" rests on, on a linear axis, each
//!   bar labelled with its value and how many times faster it is than the
//!   slowest strategy.
//!
//! One workload at one capacity (the first workload; `--workload` and
//! `--capacity` pick others). Drawn when rows have `lat_p50_us` (runs
//! without `--no-latency`).

use super::theme::{self, Theme};
use super::{draw_err, percent, Area, ChartKind, Dataset, PlotError, PlotOptions};
use crate::sim::latency::{parse_spectrum, spectrum_quantile, SPECTRUM_POINTS};
use crate::sim::RunResult;
use crate::units::format_us;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct Latency;

/// One strategy's line: its spec, its marker variant and its points.
type Line<'a> = (&'a str, usize, Vec<(f64, f64)>);

/// The right end of the percentile axis: x = 7 is 99.999%.
const XMAX: f64 = 7.0;

/// Percentile ticks at their positions.
const TICKS: &[(f64, &str)] = &[
    (0.0, "0%"),
    (1.0, "30%"),
    (2.0, "60%"),
    (3.0, "90%"),
    (4.0, "99%"),
    (5.0, "99.9%"),
    (6.0, "99.99%"),
    // 99.999% (x = 7) is the right edge, unlabelled: its label would run
    // into 99.99%'s.
];

/// The x position of percentile `p` (0 <= p <= 1) on the spectrum axis:
/// 0 to 90% linear over [0, 3], then one unit per nine (99% at 4, 99.9% at
/// 5, ...).
pub(crate) fn x_of(p: f64) -> f64 {
    if p <= 0.9 {
        (p / 0.3).max(0.0)
    } else {
        (3.0 + (-(1.0 - p).max(1e-12).log10() - 1.0)).min(XMAX)
    }
}

/// The spectrum of a row as (x, latency µs) points: the 51 points of
/// `lat_spectrum_us`, else the six percentile columns.
pub(crate) fn spectrum(r: &RunResult) -> Vec<(f64, f64)> {
    if let Some(v) = parse_spectrum(&r.lat_spectrum_us) {
        // From the first point above p = 0: the fastest get alone is noise.
        return (1..SPECTRUM_POINTS)
            .map(|i| (x_of(spectrum_quantile(i)), v[i]))
            .filter(|(_, y)| *y > 0.0)
            .collect();
    }
    [
        (0.5, r.lat_p50_us),
        (0.9, r.lat_p90_us),
        (0.99, r.lat_p99_us),
        (0.999, r.lat_p999_us),
        (0.9999, r.lat_p9999_us),
    ]
    .iter()
    .filter_map(|(p, v)| v.filter(|y| *y > 0.0).map(|y| (x_of(*p), y)))
    .collect()
}

fn rows(data: &Dataset, opts: &PlotOptions) -> Result<Vec<RunResult>, PlotError> {
    super::focus(data.rows.iter().filter(|r| r.lat_p50_us.is_some()), opts)
}

/// A log axis range around `vals` (positive), with a little room.
fn log_range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .filter(|v| *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.1, 10.0);
    }
    let lo = 10f64.powf(lo.log10().floor()).min(lo / 1.5);
    let hi = 10f64.powf(hi.log10().ceil()).max(hi * 1.5);
    (lo, hi)
}

/// "4.9× faster" (or "2.1× slower") than `slowest`, or nothing for the
/// slowest itself and for a difference under 5%.
fn speedup(mean: f64, slowest: f64) -> Option<String> {
    if mean <= 0.0 || slowest <= 0.0 {
        return None;
    }
    let f = slowest / mean;
    if f < 1.05 {
        return None;
    }
    Some(if f >= 10.0 {
        format!("{f:.0}\u{d7} faster")
    } else {
        format!("{f:.1}\u{d7} faster")
    })
}

/// `label` cut after its `:` and `+` into lines of at most `width` pixels
/// (as `measure` says), so long specs under narrow bars stay apart.
pub(crate) fn wrap(label: &str, width: u32, measure: impl Fn(&str) -> u32) -> Vec<String> {
    if measure(label) <= width {
        return vec![label.to_string()];
    }
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in label.chars() {
        cur.push(c);
        if c == ':' || c == '+' {
            parts.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    let mut lines: Vec<String> = Vec::new();
    for p in parts {
        match lines.last_mut() {
            Some(l) if measure(&format!("{l}{p}")) <= width => l.push_str(&p),
            _ => lines.push(p),
        }
    }
    lines
}

/// What the chart shows, in one sentence: the mean with and without the
/// best cache, and where its tail is.
pub(crate) fn takeaway(rows: &[RunResult]) -> Option<String> {
    let with_mean: Vec<&RunResult> = rows.iter().filter(|r| r.lat_mean_us.is_some()).collect();
    let slowest = with_mean
        .iter()
        .max_by(|a, b| a.lat_mean_us.partial_cmp(&b.lat_mean_us).unwrap())?;
    let fastest = with_mean
        .iter()
        .min_by(|a, b| a.lat_mean_us.partial_cmp(&b.lat_mean_us).unwrap())?;
    let (ms, mf) = (slowest.lat_mean_us?, fastest.lat_mean_us?);
    let names = super::labels::display_labels(&[&slowest.strategy, &fastest.strategy]);
    if std::ptr::eq(*slowest, *fastest) {
        return Some(format!(
            "Mean latency {}: {}.",
            names[0],
            format_us(ms, false)
        ));
    }
    let mut s = format!(
        "Mean latency {} with {} against {} with {} ({});",
        format_us(mf, false),
        names[1],
        format_us(ms, false),
        names[0],
        speedup(mf, ms).unwrap_or_else(|| "about the same".into())
    );
    match (fastest.lat_p50_us, fastest.lat_p99_us) {
        (Some(p50), Some(p99)) => {
            s += &format!(
            " {}'s p50 is {} but its p99 is {}: above the {} hit ratio, every request is a miss.",
            names[1],
            format_us(p50, false),
            format_us(p99, false),
            percent(fastest.hit_ratio, 0)
        )
        }
        _ => s.push('.'),
    }
    Some(s)
}

impl ChartKind for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn summary(&self) -> &'static str {
        "latency percentile spectrum per strategy with the step at the hit ratio, and mean latency bars (needs lat_p50_us)"
    }

    fn check(&self, data: &Dataset, opts: &PlotOptions) -> Result<(), PlotError> {
        if rows(data, opts)?.is_empty() {
            return Err(PlotError::MissingColumns {
                kind: "latency",
                reason: "the results hold no latency columns (lat_p50_us is empty: run without --no-latency, and without --instances)"
                    .to_string(),
            });
        }
        Ok(())
    }

    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError> {
        if let Some(t) = &opts.title {
            return Ok(t.clone());
        }
        Ok(format!(
            "Request latency{}",
            super::focus_caption(&rows(data, opts)?)
        ))
    }

    fn takeaway(&self, data: &Dataset, opts: &PlotOptions) -> Option<String> {
        takeaway(&rows(data, opts).ok()?)
    }

    fn draw(
        &self,
        data: &Dataset,
        opts: &PlotOptions,
        root: &Area,
        theme: &Theme,
    ) -> Result<(), PlotError> {
        let title = self.title(data, opts)?;
        let rows = rows(data, opts)?;
        let area = super::draw_title(root, &title, theme)?;
        let specs = super::first_seen(rows.iter().map(|r| r.strategy.as_str()));
        let labels = super::labels::display_labels(&specs);
        let variants = super::mrc::variants(&specs);
        // No legend: the mean bars are named under their axis, and each
        // line is labelled in its colour at its step (or its left end).
        let chart_area = area;
        let (w, _) = chart_area.dim_in_pixel();
        let (left, right) = chart_area.split_horizontally(w * 60 / 100);
        let lines: Vec<Line> = variants
            .iter()
            .filter_map(|(s, v)| {
                let r = rows.iter().find(|r| r.strategy == *s)?;
                Some((*s, *v, spectrum(r)))
            })
            .collect();
        let (lo, hi) = log_range(lines.iter().flat_map(|(_, _, p)| p.iter().map(|q| q.1)));
        let ticks = super::mrc::log_ticks(lo, hi);

        // Left: the percentile spectrum.
        let mut chart = ChartBuilder::on(&left)
            .caption("Every percentile", theme.panel_title())
            .margin(theme.px(16.0))
            .margin_right(theme.px(70.0))
            .x_label_area_size(theme.px(110.0))
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(
                -0.05f64..XMAX + 0.05,
                (lo..hi).log_scale().with_key_points(ticks),
            )
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc("Percentile")
            .y_desc("Latency")
            .y_label_formatter(&|v| format_us(*v, true))
            .label_style(theme.tick())
            .axis_desc_style(theme.axis_label())
            .light_line_style(TRANSPARENT)
            .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
            .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
            .draw()
            .map_err(draw_err)?;
        for (x, label) in TICKS {
            chart
                .draw_series(LineSeries::new(
                    [(*x, lo), (*x, hi)],
                    theme::GRID.stroke_width(theme.px(2.0)),
                ))
                .map_err(draw_err)?;
            let (px, py) = chart.backend_coord(&(*x, lo));
            root.draw(&Text::new(
                label.to_string(),
                (px, py + theme.px(14.0) as i32),
                theme.tick().pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(draw_err)?;
        }
        // The step from hits to misses: a dotted line at the hit ratio,
        // labelled in the strategy's colour at its foot, right of the line,
        // where the misses above leave room (stacked when several).
        let mut label_row = 0;
        for ((s, _, pts), name) in lines.iter().zip(&labels) {
            let Some(r) = rows.iter().find(|r| r.strategy == *s) else {
                continue;
            };
            let color = theme::strategy_color(s);
            if r.hit_ratio <= 0.0 || r.hit_ratio >= 1.0 {
                // No step: the name above the line's left end.
                if let Some(p) = pts.first() {
                    let (px, py) = chart.backend_coord(p);
                    root.draw(&Text::new(
                        name.clone(),
                        (px + theme.px(10.0) as i32, py - theme.px(12.0) as i32),
                        theme
                            .tick()
                            .color(&color)
                            .pos(Pos::new(HPos::Left, VPos::Bottom)),
                    ))
                    .map_err(draw_err)?;
                }
                continue;
            }
            let x = x_of(r.hit_ratio);
            let (px, top) = chart.backend_coord(&(x, hi));
            let (_, bottom) = chart.backend_coord(&(x, lo));
            let mut y = top;
            while y < bottom {
                root.draw(&PathElement::new(
                    vec![(px, y), (px, (y + theme.px(10.0) as i32).min(bottom))],
                    color.stroke_width(theme.px(3.0)),
                ))
                .map_err(draw_err)?;
                y += theme.px(20.0) as i32;
            }
            root.draw(&Text::new(
                format!("{name}: {} hits", percent(r.hit_ratio, 0)),
                (
                    px + theme.px(10.0) as i32,
                    bottom - theme.px(8.0) as i32 - label_row * theme.px(40.0) as i32,
                ),
                theme
                    .tick()
                    .color(&color)
                    .pos(Pos::new(HPos::Left, VPos::Bottom)),
            ))
            .map_err(draw_err)?;
            label_row += 1;
        }
        for (s, v, pts) in &lines {
            let color = theme::strategy_color(s);
            chart
                .draw_series(LineSeries::new(
                    pts.clone(),
                    color.stroke_width(theme.line_width()),
                ))
                .map_err(draw_err)?;
            // A few markers a line, so lines read apart in greyscale.
            let marker = theme::marker_for(s, *v);
            for x in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] {
                if let Some(p) = pts.iter().find(|p| (p.0 - x).abs() < 1e-9) {
                    let at = chart.backend_coord(p);
                    root.draw(&theme::marker_element(
                        marker,
                        at,
                        theme.marker_size(),
                        color,
                    ))
                    .map_err(draw_err)?;
                }
            }
        }

        // Right: the mean, linear, labelled.
        let means: Vec<(&str, f64)> = specs
            .iter()
            .filter_map(|s| {
                rows.iter()
                    .find(|r| r.strategy == *s)
                    .and_then(|r| r.lat_mean_us)
                    .map(|m| (*s, m))
            })
            .collect();
        let slowest = means.iter().map(|m| m.1).fold(0.0, f64::max);
        let ytop = if slowest > 0.0 { slowest * 1.3 } else { 1.0 };
        let mut chart = ChartBuilder::on(&right)
            .caption("Mean", theme.panel_title())
            .margin(theme.px(16.0))
            .margin_right(theme.px(30.0))
            .x_label_area_size(theme.px(110.0))
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(0f64..means.len().max(1) as f64, 0f64..ytop)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(5)
            .y_desc("Mean latency")
            .y_label_formatter(&|v| format_us(*v, true))
            .label_style(theme.tick())
            .axis_desc_style(theme.axis_label())
            .light_line_style(TRANSPARENT)
            .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
            .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
            .draw()
            .map_err(draw_err)?;
        let names = super::labels::display_labels(&means.iter().map(|m| m.0).collect::<Vec<_>>());
        for (i, ((s, m), name)) in means.iter().zip(&names).enumerate() {
            let color = theme::strategy_color(s);
            let (l, r) = (i as f64 + 0.18, i as f64 + 0.82);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(l, 0.0), (r, *m)],
                    color.filled(),
                )))
                .map_err(draw_err)?;
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, *m));
            let (x0, _) = chart.backend_coord(&(i as f64, 0.0));
            let (x1, _) = chart.backend_coord(&(i as f64 + 1.0, 0.0));
            let slot = (x1 - x0).max(1) as u32;
            let mut text = vec![format_us(*m, false)];
            if let Some(f) = speedup(*m, slowest) {
                // "4.9× faster", or "4.9×" where the bar is too narrow.
                let fits = root
                    .estimate_text_size(&f, &theme.tick())
                    .is_ok_and(|(w, _)| w <= slot * 95 / 100);
                text.push(if fits {
                    f
                } else {
                    f.trim_end_matches(" faster").to_string()
                });
            }
            let line_h = theme.px(38.0) as i32;
            let n = text.len() as i32;
            for (j, t) in text.iter().enumerate() {
                root.draw(&Text::new(
                    t.clone(),
                    (x, y - theme.px(10.0) as i32 - (n - j as i32) * line_h),
                    theme.tick().pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(draw_err)?;
            }
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            for (j, part) in wrap(name, slot, |t| {
                root.estimate_text_size(t, &theme.tick()).map_or(0, |s| s.0)
            })
            .iter()
            .enumerate()
            {
                root.draw(&Text::new(
                    part.clone(),
                    (x, y + theme.px(18.0) as i32 + j as i32 * line_h),
                    theme.tick().pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(draw_err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_map_to_the_log_axis() {
        assert_eq!(x_of(0.0), 0.0);
        assert!((x_of(0.6) - 2.0).abs() < 1e-9);
        assert!((x_of(0.9) - 3.0).abs() < 1e-9);
        assert!((x_of(0.999) - 5.0).abs() < 1e-9);
        assert_eq!(x_of(1.0), XMAX);
        assert_eq!(speedup(400.0, 2000.0).as_deref(), Some("5.0\u{d7} faster"));
        assert_eq!(speedup(20.0, 2000.0).as_deref(), Some("100\u{d7} faster"));
        assert_eq!(speedup(2000.0, 2000.0), None);
        let chars = |t: &str| t.chars().count() as u32;
        assert_eq!(wrap("tiered:lru+redis", 20, chars), ["tiered:lru+redis"]);
        assert_eq!(
            wrap("tiered:lru+redis", 10, chars),
            ["tiered:", "lru+redis"]
        );
        assert_eq!(
            wrap("tiered:lru+redis", 5, chars),
            ["tiered:", "lru+", "redis"]
        );
    }

    #[test]
    fn the_spectrum_comes_from_its_column_else_from_the_percentiles() {
        let mut r = RunResult {
            lat_p50_us: Some(0.02),
            lat_p90_us: Some(2000.0),
            lat_p99_us: Some(2001.0),
            ..RunResult::default()
        };
        let p = spectrum(&r);
        assert_eq!(p.len(), 3);
        assert!((p[0].0 - x_of(0.5)).abs() < 1e-9 && p[0].1 == 0.02);
        assert!((p[1].0 - 3.0).abs() < 1e-9 && p[1].1 == 2000.0);
        assert!((p[2].0 - 4.0).abs() < 1e-9 && p[2].1 == 2001.0);
        let v: Vec<f64> = (0..SPECTRUM_POINTS).map(|i| i as f64 + 1.0).collect();
        r.lat_spectrum_us = crate::sim::latency::format_spectrum(&v);
        let s = spectrum(&r);
        // Point 0 (the fastest get) is left out.
        assert_eq!(s.len(), SPECTRUM_POINTS - 1);
        assert!((s[11].0 - 1.0).abs() < 1e-9 && s[11].1 == 13.0); // p = 30%
        assert!((s[35].0 - 3.0).abs() < 1e-9 && s[35].1 == 37.0); // p = 90%
        assert!((s[75].0 - 7.0).abs() < 1e-9); // p = 99.999%
    }

    #[test]
    fn the_takeaway_states_the_means_and_the_tail() {
        let row = |s: &str, mean: f64, hit: f64| RunResult {
            strategy: s.into(),
            lat_mean_us: Some(mean),
            lat_p50_us: Some(if hit > 0.5 { 0.02 } else { 2000.0 }),
            lat_p99_us: Some(2000.0),
            hit_ratio: hit,
            ..RunResult::default()
        };
        let t = takeaway(&[row("none", 2000.0, 0.0), row("lru", 400.0, 0.8)]).unwrap();
        assert_eq!(
            t,
            "Mean latency 400\u{b5}s with lru against 2.0ms with none (5.0\u{d7} faster); lru's p50 is 20ns but its p99 is 2.0ms: above the 80% hit ratio, every request is a miss."
        );
    }
}
