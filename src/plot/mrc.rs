//! `mrc`: the hit-ratio (or miss-ratio) curve: the ratio against cache size
//! on a log axis, one line per strategy with a marker at each measured
//! capacity, one panel per workload. The figure that shows how much a
//! bigger cache buys, and where one strategy beats another.

use super::labels::display_labels;
use super::theme::{self, Theme};
use super::{
    draw_err, format_capacity, legend_right, percent, unit_of, Area, ChartKind, Dataset,
    LegendEntry, PlotError, PlotOptions,
};
use crate::sim::RunResult;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct Mrc;

/// The rows of one workload that can go on a log axis (capacity > 0).
fn panel_rows<'a>(data: &'a Dataset, workload: &str) -> Vec<&'a RunResult> {
    data.rows
        .iter()
        .filter(|r| r.workload == workload && r.capacity > 0)
        .collect()
}

fn distinct_capacities(rows: &[&RunResult]) -> usize {
    let mut c: Vec<u64> = rows.iter().map(|r| r.capacity).collect();
    c.sort_unstable();
    c.dedup();
    c.len()
}

/// The unit shared by the rows, or an error when objects and bytes mix in
/// one panel (one axis cannot show both).
fn panel_unit<'a>(workload: &str, rows: &[&'a RunResult]) -> Result<&'a str, PlotError> {
    let first = rows.first().map(|r| unit_of(r)).unwrap_or("objects");
    if rows.iter().any(|r| unit_of(r) != first) {
        return Err(PlotError::Unsupported {
            kind: "mrc",
            reason: format!(
                "workload '{workload}' mixes capacities in objects and in bytes; plot them from separate files"
            ),
        });
    }
    Ok(first)
}

/// Variant index per strategy spec: 0 for the first spec of a base name,
/// 1 for the second (`ttl:ttl=1s`, `ttl:ttl=60s`), ... so they get
/// different markers.
pub(super) fn variants<'a>(specs: &[&'a str]) -> Vec<(&'a str, usize)> {
    let mut out: Vec<(&str, usize)> = Vec::new();
    for s in specs {
        let n = out
            .iter()
            .filter(|(o, _)| theme::base_name(o) == theme::base_name(s))
            .count();
        out.push((s, n));
    }
    out
}

/// Tick values for a log axis over [lo, hi]: 1, 2, 5 times powers of ten,
/// thinned to powers of ten (then every other one) when they would crowd.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut all = Vec::new();
    let mut p = 10f64.powi(lo.max(1e-9).log10().floor() as i32);
    while p <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = p * m;
            if v >= lo && v <= hi {
                all.push(v);
            }
        }
        p *= 10.0;
    }
    if all.len() > 8 {
        all.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
    }
    while all.len() > 8 {
        all = all.into_iter().step_by(2).collect();
    }
    all
}

impl ChartKind for Mrc {
    fn name(&self) -> &'static str {
        "mrc"
    }

    fn summary(&self) -> &'static str {
        "hit (or --y miss) ratio against cache size, log x axis, a line per strategy, a panel per workload"
    }

    fn check(&self, data: &Dataset, _opts: &PlotOptions) -> Result<(), PlotError> {
        let ok = data
            .workloads()
            .iter()
            .any(|w| distinct_capacities(&panel_rows(data, w)) >= 2);
        if !ok {
            return Err(PlotError::Unsupported {
                kind: "mrc",
                reason: "a curve needs at least two capacities of one workload (run with e.g. --capacity 1%,5%,10%)"
                    .to_string(),
            });
        }
        for w in data.workloads() {
            panel_unit(w, &panel_rows(data, w))?;
        }
        Ok(())
    }

    fn takeaway(&self, data: &Dataset, opts: &PlotOptions) -> Option<String> {
        super::takeaway::policies(data, opts)
    }

    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError> {
        if let Some(t) = &opts.title {
            return Ok(t.clone());
        }
        let workloads = data.workloads();
        let mut t = format!("{} vs cache size", opts.y.label());
        if workloads.len() == 1 {
            t += &format!(" \u{2014} {}", workloads[0]);
        } else if let (Some(common), _) = super::workload_captions(&workloads) {
            t += &format!(" \u{2014} {common}");
        }
        let specs = data.strategies();
        if opts.overlay && specs.len() == 1 {
            t += &format!(" ({})", display_labels(&specs)[0]);
        }
        Ok(t)
    }

    fn draw(
        &self,
        data: &Dataset,
        opts: &PlotOptions,
        root: &Area,
        theme: &Theme,
    ) -> Result<(), PlotError> {
        let title = self.title(data, opts)?;
        let area = super::draw_title(root, &title, theme)?;
        let specs = data.strategies();
        let labels = display_labels(&specs);
        let with_variants = variants(&specs);
        let workloads = data.workloads();
        let (_, captions) = super::workload_captions(&workloads);

        if opts.overlay {
            // One panel: colour says the workload, the marker the strategy.
            let mut lines = Vec::new();
            for (i, (w, caption)) in workloads.iter().zip(&captions).enumerate() {
                let color = OVERLAY[i % OVERLAY.len()];
                for ((s, v), shown) in with_variants.iter().zip(&labels) {
                    let label = if specs.len() == 1 {
                        caption.clone()
                    } else {
                        format!("{caption} \u{b7} {shown}")
                    };
                    let rows: Vec<&RunResult> = panel_rows(data, w)
                        .into_iter()
                        .filter(|r| r.strategy == *s)
                        .collect();
                    if rows.is_empty() {
                        continue;
                    }
                    if opts.highlighted(s) {
                        lines.push(Curve::new(label, color, theme::marker_for(s, *v), rows));
                    } else {
                        lines.push(Curve {
                            muted: true,
                            ..Curve::new(label, theme::MUTED, theme::Marker::Bare, rows)
                        });
                    }
                }
            }
            let n_muted = lines.iter().filter(|c| c.muted).count();
            let direct = lines.len() - n_muted <= DIRECT_LABELS_MAX;
            let mut order: Vec<usize> = (0..lines.len()).filter(|i| !lines[*i].muted).collect();
            order.sort_by(|a, b| {
                lines[*b]
                    .last_value(opts)
                    .total_cmp(&lines[*a].last_value(opts))
            });
            let mut legend: Vec<LegendEntry> = Vec::new();
            if !direct {
                legend.extend(order.iter().map(|i| LegendEntry {
                    label: lines[*i].label.clone(),
                    color: lines[*i].color,
                    marker: Some(lines[*i].marker),
                    dashed: false,
                }));
            }
            if n_muted > 0 {
                legend.push(others_entry(n_muted));
            }
            let chart_area = legend_right(&area, &legend, theme)?;
            let all: Vec<&RunResult> = lines.iter().flat_map(|c| c.rows.iter().copied()).collect();
            let unit = panel_unit("(all, with --overlay)", &all)?;
            return draw_panel(root, &chart_area, None, &lines, direct, unit, opts, theme);
        }

        // Colour for the highlighted strategies (all without --highlight),
        // thin grey for the rest.
        let coloured: Vec<bool> = specs.iter().map(|s| opts.highlighted(s)).collect();
        let n_muted = coloured.iter().filter(|c| !**c).count();
        let direct = specs.len() - n_muted <= DIRECT_LABELS_MAX;
        // The legend: what direct labels do not name, the coloured lines in
        // the order they end (top to bottom), then one grey "others" entry.
        let mut last = vec![0.0; specs.len()];
        for (i, s) in specs.iter().enumerate() {
            let ends: Vec<f64> = workloads
                .iter()
                .filter_map(|w| {
                    let rows: Vec<&RunResult> = panel_rows(data, w)
                        .into_iter()
                        .filter(|r| r.strategy == *s)
                        .collect();
                    end_value(&rows, opts)
                })
                .collect();
            last[i] = ends.iter().sum::<f64>() / ends.len().max(1) as f64;
        }
        let mut order: Vec<usize> = (0..specs.len()).filter(|i| coloured[*i]).collect();
        order.sort_by(|a, b| last[*b].total_cmp(&last[*a]));
        let mut legend: Vec<LegendEntry> = Vec::new();
        if !direct {
            for i in order {
                let (s, v) = with_variants[i];
                legend.push(LegendEntry {
                    label: labels[i].clone(),
                    color: theme::strategy_color(s),
                    marker: Some(theme::marker_for(s, v)),
                    dashed: false,
                });
            }
        }
        if n_muted > 0 {
            legend.push(others_entry(n_muted));
        }
        let chart_area = legend_right(&area, &legend, theme)?;
        let n = workloads.len().max(1);
        let cols = (n as f64).sqrt().ceil() as usize;
        let rows = n.div_ceil(cols);
        let panels = chart_area.split_evenly((rows, cols));
        for ((w, caption), panel) in workloads.iter().zip(&captions).zip(panels.iter()) {
            let prow = panel_rows(data, w);
            if prow.is_empty() {
                continue;
            }
            let unit = panel_unit(w, &prow)?;
            let lines: Vec<Curve> = with_variants
                .iter()
                .zip(&labels)
                .zip(&coloured)
                .map(|(((s, v), label), col)| {
                    let rows = prow.iter().copied().filter(|r| r.strategy == *s).collect();
                    if *col {
                        Curve::new(
                            label.clone(),
                            theme::strategy_color(s),
                            theme::marker_for(s, *v),
                            rows,
                        )
                    } else {
                        Curve {
                            muted: true,
                            ..Curve::new(label.clone(), theme::MUTED, theme::Marker::Bare, rows)
                        }
                    }
                })
                .filter(|c| !c.rows.is_empty())
                .collect();
            let caption = (n > 1).then_some(caption.as_str());
            draw_panel(root, panel, caption, &lines, direct, unit, opts, theme)?;
        }
        Ok(())
    }
}

/// The legend entry for the `n` lines `--highlight` leaves grey.
fn others_entry(n: usize) -> LegendEntry {
    LegendEntry {
        label: if n == 1 {
            "1 other".to_string()
        } else {
            format!("{n} others")
        },
        color: theme::MUTED,
        marker: Some(theme::Marker::Bare),
        dashed: false,
    }
}

/// At most this many coloured lines in a panel are labelled at their
/// right end (in their colour) instead of in the legend.
const DIRECT_LABELS_MAX: usize = 6;

/// The ratio at the largest capacity of `rows` (where the line ends).
fn end_value(rows: &[&RunResult], opts: &PlotOptions) -> Option<f64> {
    rows.iter().max_by_key(|r| r.capacity).map(|r| opts.y.of(r))
}

/// Colours for workloads when `--overlay` draws them in one panel
/// (Okabe-Ito, most distinct first).
const OVERLAY: &[RGBColor] = &[
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(136, 136, 136),
];

/// One line: its rows, colour and marker; `muted` lines (not highlighted)
/// are drawn thin and grey beneath the others, without markers or labels.
struct Curve<'a> {
    label: String,
    color: RGBColor,
    marker: theme::Marker,
    rows: Vec<&'a RunResult>,
    muted: bool,
}

impl<'a> Curve<'a> {
    fn new(
        label: String,
        color: RGBColor,
        marker: theme::Marker,
        rows: Vec<&'a RunResult>,
    ) -> Curve<'a> {
        Curve {
            label,
            color,
            marker,
            rows,
            muted: false,
        }
    }

    /// (capacity, ratio), by capacity.
    fn points(&self, opts: &PlotOptions) -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> = self
            .rows
            .iter()
            .map(|r| (r.capacity as f64, opts.y.of(r)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts
    }

    fn last_value(&self, opts: &PlotOptions) -> f64 {
        end_value(&self.rows, opts).unwrap_or(0.0)
    }
}

/// The x ticks of a panel whose distinct capacities are `caps` (sorted),
/// on a log axis over [lo, hi] `plot_w` pixels wide: the capacities
/// themselves when there are at most 8, else the log ticks and the largest
/// capacity. Ticks whose labels (`label_w` pixels wide, `gap` apart) would
/// overlap are dropped, the largest capacity last, then the smallest.
pub(crate) fn capacity_ticks(
    caps: &[f64],
    lo: f64,
    hi: f64,
    plot_w: f64,
    label_w: &dyn Fn(f64) -> f64,
    gap: f64,
) -> Vec<f64> {
    let Some(&cmax) = caps.last() else {
        return Vec::new();
    };
    let mut candidates: Vec<f64> = vec![cmax];
    if caps.len() <= 8 {
        candidates.push(caps[0]);
        candidates.extend(caps[1..caps.len() - 1].iter().copied());
    } else {
        candidates.extend(log_ticks(lo, hi));
    }
    let span = (hi.ln() - lo.ln()).max(1e-12);
    let x = |v: f64| (v.ln() - lo.ln()) / span * plot_w;
    let mut kept: Vec<f64> = Vec::new();
    for v in candidates {
        let clear = kept.iter().all(|k| {
            (x(v) - x(*k)).abs() >= (label_w(v) + label_w(*k)) / 2.0 + gap
                && (v - k).abs() > 1e-9 * v.abs().max(1.0)
        });
        if clear {
            kept.push(v);
        }
    }
    kept.sort_by(f64::total_cmp);
    kept
}

/// Moves label centres `ys` (pixels, in any order) apart so that they are
/// at least `gap` apart, staying within [top, bottom] where they can, each
/// moved as little as this simple two-pass push allows.
pub(crate) fn spread(ys: &[f64], gap: f64, top: f64, bottom: f64) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..ys.len()).collect();
    idx.sort_by(|a, b| ys[*a].total_cmp(&ys[*b]));
    let mut placed: Vec<f64> = idx.iter().map(|i| ys[*i].clamp(top, bottom)).collect();
    for i in 1..placed.len() {
        placed[i] = placed[i].max(placed[i - 1] + gap);
    }
    if let Some(last) = placed.last_mut() {
        *last = last.min(bottom.max(top));
    }
    for i in (0..placed.len().saturating_sub(1)).rev() {
        placed[i] = placed[i].min(placed[i + 1] - gap);
    }
    // Pushed above the top: settle down again (overlap beats leaving the chart).
    for i in 0..placed.len() {
        let floor = if i == 0 { top } else { placed[i - 1] + gap };
        if placed[i] < top {
            placed[i] = floor.max(placed[i]);
        }
    }
    let mut out = vec![0.0; ys.len()];
    for (k, i) in idx.iter().enumerate() {
        out[*i] = placed[k];
    }
    out
}

/// Draws one panel: axes, then each curve (the muted ones first, beneath)
/// with a marker per measured point, and with `direct` a label at the
/// right end of each coloured curve.
#[allow(clippy::too_many_arguments)]
fn draw_panel(
    root: &Area,
    panel: &Area,
    caption: Option<&str>,
    lines: &[Curve],
    direct: bool,
    unit: &str,
    opts: &PlotOptions,
    theme: &Theme,
) -> Result<(), PlotError> {
    let all = || lines.iter().flat_map(|c| c.rows.iter());
    let cmin = all().map(|r| r.capacity).min().unwrap_or(1) as f64;
    let cmax = all().map(|r| r.capacity).max().unwrap_or(1) as f64;
    // A little room either side so end markers are not cut in half.
    let (lo, hi) = if cmax > cmin {
        let pad = (cmax / cmin).powf(0.04);
        (cmin / pad, cmax * pad)
    } else {
        (cmin / 2.0, cmax * 2.0)
    };
    let ymax_data = all().map(|r| opts.y.of(r)).fold(0.0f64, f64::max);
    let ytop = super::ratio_axis_top(ymax_data, 0.02);

    let (panel_w, _) = panel.dim_in_pixel();
    let label_style = theme.text(32.0);
    let text_w =
        |t: &str, st: &TextStyle| panel.estimate_text_size(t, st).map(|s| s.0).unwrap_or(0);
    // Direct labels: the coloured curves, cut to at most 40% of the panel.
    let max_label = panel_w * 2 / 5;
    let direct_labels: Vec<String> = if direct {
        lines
            .iter()
            .filter(|c| !c.muted)
            .map(|c| super::fit_width(panel, &c.label, &label_style, max_label))
            .collect()
    } else {
        Vec::new()
    };
    let label_gap = theme.marker_size() + theme.px(28.0);
    let margin_right = direct_labels
        .iter()
        .map(|l| text_w(l, &label_style) + label_gap + theme.px(16.0))
        .max()
        .unwrap_or(0)
        .max(theme.px(40.0));

    // Ticks at the capacities measured, as many as fit side by side.
    let mut caps: Vec<f64> = all().map(|r| r.capacity as f64).collect();
    caps.sort_by(f64::total_cmp);
    caps.dedup();
    let tick_style = theme.tick();
    let plot_w = panel_w.saturating_sub(theme.px(150.0) + theme.px(16.0) + margin_right) as f64;
    let unit_s = unit.to_string();
    let ticks = capacity_ticks(
        &caps,
        lo,
        hi,
        plot_w,
        &|v| text_w(&format_capacity(v, &unit_s), &tick_style) as f64,
        theme.px(24.0) as f64,
    );

    let mut b = ChartBuilder::on(panel);
    let caption_text;
    if let Some(c) = caption {
        caption_text = super::fit_width(panel, c, &theme.panel_title(), panel_w * 95 / 100);
        b.caption(&caption_text, theme.panel_title());
    }
    let mut chart = b
        .margin(theme.px(16.0))
        .margin_right(margin_right)
        .x_label_area_size(theme.px(110.0))
        .y_label_area_size(theme.px(150.0))
        .build_cartesian_2d((lo..hi).log_scale().with_key_points(ticks), 0f64..ytop)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc(format!("Cache size ({unit})"))
        .y_desc(opts.y.label())
        .x_label_formatter(&|v| format_capacity(*v, &unit_s))
        .y_label_formatter(&|v| percent(*v, 0))
        .x_labels(8)
        .y_labels(6)
        .label_style(tick_style.clone())
        .axis_desc_style(theme.axis_label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
        .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
        .draw()
        .map_err(draw_err)?;

    // The grey lines beneath, then the coloured ones with their markers.
    for c in lines.iter().filter(|c| c.muted) {
        chart
            .draw_series(LineSeries::new(
                c.points(opts),
                c.color.stroke_width(theme.muted_line_width()),
            ))
            .map_err(draw_err)?;
    }
    let mut ends: Vec<(i32, i32)> = Vec::new();
    for c in lines.iter().filter(|c| !c.muted) {
        let pts = c.points(opts);
        chart
            .draw_series(LineSeries::new(
                pts.clone(),
                c.color.stroke_width(theme.line_width()),
            ))
            .map_err(draw_err)?;
        // Markers in pixels on the root area (the panel's chart maps each
        // point to the backend's absolute coordinates).
        for p in &pts {
            let at = chart.backend_coord(p);
            root.draw(&theme::marker_element(
                c.marker,
                at,
                theme.marker_size(),
                c.color,
            ))
            .map_err(draw_err)?;
        }
        if let Some(p) = pts.last() {
            ends.push(chart.backend_coord(p));
        }
    }
    if direct_labels.is_empty() {
        return Ok(());
    }
    // Each coloured line's label at its right end, nudged apart.
    let (_, yr) = chart.plotting_area().get_pixel_range();
    let (_, th) = panel
        .estimate_text_size("Ag", &label_style)
        .unwrap_or((0, 20));
    let ys: Vec<f64> = ends.iter().map(|e| e.1 as f64).collect();
    // Labels a line apart: the text's size (ascender to descender) and a bit.
    let placed = spread(
        &ys,
        label_style.font.get_size() * 1.2,
        yr.start as f64 + th as f64 / 2.0,
        yr.end as f64 - th as f64 / 2.0,
    );
    let coloured = lines.iter().filter(|c| !c.muted);
    for (((c, label), end), y) in coloured.zip(&direct_labels).zip(&ends).zip(&placed) {
        let x = end.0 + label_gap as i32;
        let y = y.round() as i32;
        if (y - end.1).abs() > th as i32 / 2 {
            // Moved off its line: a thin leader from the line's end.
            root.draw(&PathElement::new(
                vec![
                    (end.0 + theme.marker_size() as i32, end.1),
                    (x - theme.px(4.0) as i32, y),
                ],
                c.color.stroke_width(theme.px(2.0)),
            ))
            .map_err(draw_err)?;
        }
        root.draw(&Text::new(
            label.clone(),
            (x, y),
            label_style
                .color(&c.color)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{capacity_ticks, log_ticks, spread};

    #[test]
    fn ticks_are_the_capacities_when_few_else_log_ticks_and_the_largest() {
        // The ARC paper's OLTP capacities: every one, 15k included.
        let oltp = [1000.0, 2000.0, 5000.0, 10000.0, 15000.0];
        let w = |_: f64| 60.0;
        assert_eq!(
            capacity_ticks(&oltp, 900.0, 17000.0, 1400.0, &w, 20.0),
            oltp
        );
        // Twelve capacities: log ticks and the largest, 12k, measured.
        let many: Vec<f64> = (1..=12).map(|k| k as f64 * 1000.0).collect();
        let t = capacity_ticks(&many, 900.0, 13000.0, 1400.0, &w, 20.0);
        assert!(t.contains(&12000.0) && t.contains(&1000.0), "{t:?}");
        assert!(t.contains(&5000.0) && !t.contains(&11000.0), "{t:?}");
        // Labels that would overlap are dropped, never the largest capacity.
        let t = capacity_ticks(&oltp, 900.0, 17000.0, 300.0, &w, 20.0);
        assert!(t.contains(&15000.0) && t.contains(&1000.0), "{t:?}");
        assert!(t.len() < oltp.len(), "{t:?}");
    }

    #[test]
    fn labels_spread_apart_and_keep_their_order() {
        let ys = [100.0, 105.0, 300.0, 103.0];
        let out = spread(&ys, 30.0, 0.0, 1000.0);
        let mut sorted = out.clone();
        sorted.sort_by(f64::total_cmp);
        for w in sorted.windows(2) {
            assert!(w[1] - w[0] >= 30.0 - 1e-9, "{out:?}");
        }
        assert_eq!(out[2], 300.0);
        assert!(out[0] < out[3] && out[3] < out[1], "{out:?}");
        // Against the bottom: pushed up instead of out of the chart.
        let out = spread(&[990.0, 995.0], 30.0, 0.0, 1000.0);
        assert!(out.iter().all(|y| *y <= 1000.0) && (out[1] - out[0]).abs() >= 30.0);
    }

    #[test]
    fn log_ticks_are_round_and_few() {
        assert_eq!(
            log_ticks(80.0, 4000.0),
            [100.0, 200.0, 500.0, 1000.0, 2000.0]
        );
        assert_eq!(log_ticks(1.0, 1e12).len(), 7);
        assert!(log_ticks(1.0, 1e12)
            .iter()
            .all(|v| (v.log10() - v.log10().round()).abs() < 1e-9));
    }
}
