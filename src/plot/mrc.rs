//! `mrc`: the hit-ratio (or miss-ratio) curve: the ratio against cache size
//! on a log axis, one line per strategy with a marker at each measured
//! capacity, one panel per workload. The figure that shows how much a
//! bigger cache buys, and where one strategy beats another.

use super::theme::{self, Theme};
use super::{
    draw_err, format_capacity, legend_right, percent, unit_of, Area, ChartKind, Dataset,
    LegendEntry, PlotError, PlotOptions,
};
use crate::sim::RunResult;
use plotters::prelude::*;

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
            t += &format!(" ({})", specs[0]);
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
        let with_variants = variants(&specs);
        let workloads = data.workloads();
        let (_, captions) = super::workload_captions(&workloads);

        if opts.overlay {
            // One panel: colour says the workload, the marker the strategy.
            let mut lines = Vec::new();
            for (i, (w, caption)) in workloads.iter().zip(&captions).enumerate() {
                let color = OVERLAY[i % OVERLAY.len()];
                for (s, v) in &with_variants {
                    let label = if specs.len() == 1 {
                        caption.clone()
                    } else {
                        format!("{caption} \u{b7} {s}")
                    };
                    let rows: Vec<&RunResult> = panel_rows(data, w)
                        .into_iter()
                        .filter(|r| r.strategy == *s)
                        .collect();
                    if !rows.is_empty() {
                        lines.push(Curve {
                            label,
                            color,
                            marker: theme::marker_for(s, *v),
                            rows,
                        });
                    }
                }
            }
            let legend: Vec<LegendEntry> = lines
                .iter()
                .map(|c| LegendEntry {
                    label: c.label.clone(),
                    color: c.color,
                    marker: Some(c.marker),
                })
                .collect();
            let chart_area = legend_right(&area, &legend, theme)?;
            let all: Vec<&RunResult> = lines.iter().flat_map(|c| c.rows.iter().copied()).collect();
            let unit = panel_unit("(all, with --overlay)", &all)?;
            return draw_panel(root, &chart_area, None, &lines, unit, opts, theme);
        }

        let legend: Vec<LegendEntry> = with_variants
            .iter()
            .map(|(s, v)| LegendEntry {
                label: s.to_string(),
                color: theme::strategy_color(s),
                marker: Some(theme::marker_for(s, *v)),
            })
            .collect();
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
                .map(|(s, v)| Curve {
                    label: s.to_string(),
                    color: theme::strategy_color(s),
                    marker: theme::marker_for(s, *v),
                    rows: prow.iter().copied().filter(|r| r.strategy == *s).collect(),
                })
                .filter(|c| !c.rows.is_empty())
                .collect();
            let caption = (n > 1).then_some(caption.as_str());
            draw_panel(root, panel, caption, &lines, unit, opts, theme)?;
        }
        Ok(())
    }
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

/// One line: its rows, colour and marker.
struct Curve<'a> {
    label: String,
    color: RGBColor,
    marker: theme::Marker,
    rows: Vec<&'a RunResult>,
}

/// Draws one panel: axes, then each curve with a marker per measured point.
fn draw_panel(
    root: &Area,
    panel: &Area,
    caption: Option<&str>,
    lines: &[Curve],
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

    let mut b = ChartBuilder::on(panel);
    if let Some(c) = caption {
        b.caption(c, theme.panel_title());
    }
    let mut chart = b
        .margin(theme.px(16.0))
        .margin_right(theme.px(40.0))
        .x_label_area_size(theme.px(110.0))
        .y_label_area_size(theme.px(150.0))
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            0f64..ytop,
        )
        .map_err(draw_err)?;
    let unit_s = unit.to_string();
    chart
        .configure_mesh()
        .x_desc(format!("Cache size ({unit})"))
        .y_desc(opts.y.label())
        .x_label_formatter(&|v| format_capacity(*v, &unit_s))
        .y_label_formatter(&|v| percent(*v, 0))
        .x_labels(8)
        .y_labels(6)
        .label_style(theme.tick())
        .axis_desc_style(theme.axis_label())
        .light_line_style(TRANSPARENT)
        .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
        .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
        .draw()
        .map_err(draw_err)?;

    for c in lines {
        let mut pts: Vec<(f64, f64)> = c
            .rows
            .iter()
            .map(|r| (r.capacity as f64, opts.y.of(r)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(
                pts.clone(),
                c.color.stroke_width(theme.line_width()),
            ))
            .map_err(draw_err)?;
        // Markers in pixels on the root area (the panel's chart maps each
        // point to the backend's absolute coordinates).
        for p in pts {
            let at = chart.backend_coord(&p);
            root.draw(&theme::marker_element(
                c.marker,
                at,
                theme.marker_size(),
                c.color,
            ))
            .map_err(draw_err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::log_ticks;

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
