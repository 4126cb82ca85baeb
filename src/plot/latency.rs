//! `latency`: why cache at all (talk figure 1). Two panels in one chart:
//!
//! - left, the percentile spectrum: latency (log y) against the percentile
//!   on HdrHistogram's usual log scale, x = -log10(1 - p), so 90%, 99%,
//!   99.9%, 99.99% are evenly spaced; one line per strategy through the
//!   `lat_p50_us` .. `lat_p9999_us` columns, and `lat_max_us` at the right
//!   end ("max");
//! - right, hit vs miss latency: bars of `hit_p50_us`, `hit_p99_us`,
//!   `miss_p50_us`, `miss_p99_us` per strategy (log y), which shows that the
//!   tail is the misses.
//!
//! One workload at one capacity (the first workload; `--workload` and
//! `--capacity` pick others). Drawn when rows have `lat_p50_us` (runs
//! without `--no-latency`). Empty cells (no hits for `none`) are left out.

use super::theme::{self, Theme};
use super::{
    draw_err, legend_right, Area, ChartKind, Dataset, LegendEntry, PlotError, PlotOptions,
};
use crate::sim::RunResult;
use crate::units::format_us;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct Latency;

/// The spectrum's points: x = -log10(1 - p) (p50 at log10 2), and the column.
type Column = fn(&RunResult) -> Option<f64>;
const SPECTRUM: &[(f64, Column)] = &[
    (std::f64::consts::LOG10_2, |r| r.lat_p50_us),
    (1.0, |r| r.lat_p90_us),
    (2.0, |r| r.lat_p99_us),
    (3.0, |r| r.lat_p999_us),
    (4.0, |r| r.lat_p9999_us),
    (5.0, |r| r.lat_max_us),
];
const TICKS: &[(f64, &str)] = &[
    (0.0, "0%"),
    (1.0, "90%"),
    (2.0, "99%"),
    (3.0, "99.9%"),
    (4.0, "99.99%"),
    (5.0, "max"),
];
const SPLIT: &[(&str, Column)] = &[
    ("hit p50", |r| r.hit_p50_us),
    ("hit p99", |r| r.hit_p99_us),
    ("miss p50", |r| r.miss_p50_us),
    ("miss p99", |r| r.miss_p99_us),
];

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

impl ChartKind for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn summary(&self) -> &'static str {
        "latency percentile spectrum per strategy, and hit vs miss latency bars (needs lat_p50_us)"
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
        let variants = super::mrc::variants(&specs);
        let legend: Vec<LegendEntry> = variants
            .iter()
            .map(|(s, v)| LegendEntry {
                label: s.to_string(),
                color: theme::strategy_color(s),
                marker: Some(theme::marker_for(s, *v)),
            })
            .collect();
        let chart_area = legend_right(&area, &legend, theme)?;
        let (w, _) = chart_area.dim_in_pixel();
        let (left, right) = chart_area.split_horizontally(w * 58 / 100);
        let columns = SPECTRUM
            .iter()
            .map(|c| c.1)
            .chain(SPLIT.iter().map(|c| c.1));
        let columns: Vec<Column> = columns.collect();
        let (lo, hi) = log_range(
            rows.iter()
                .flat_map(|r| columns.iter().filter_map(|c| c(r)).collect::<Vec<_>>()),
        );
        let ticks = super::mrc::log_ticks(lo, hi);

        // Left: the percentile spectrum.
        let mut chart = ChartBuilder::on(&left)
            .caption("Percentiles", theme.panel_title())
            .margin(theme.px(16.0))
            .margin_right(theme.px(40.0))
            .x_label_area_size(theme.px(110.0))
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(
                -0.05f64..5.2,
                (lo..hi).log_scale().with_key_points(ticks.clone()),
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
        // The percentile ticks, at their -log10(1 - p) positions.
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
        for (s, v) in &variants {
            let color = theme::strategy_color(s);
            let marker = theme::marker_for(s, *v);
            for r in rows.iter().filter(|r| r.strategy == *s) {
                let pts: Vec<(f64, f64)> = SPECTRUM
                    .iter()
                    .filter_map(|(x, c)| c(r).filter(|y| *y > 0.0).map(|y| (*x, y)))
                    .collect();
                chart
                    .draw_series(LineSeries::new(
                        pts.clone(),
                        color.stroke_width(theme.line_width()),
                    ))
                    .map_err(draw_err)?;
                for p in pts {
                    let at = chart.backend_coord(&p);
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

        // Right: hit vs miss latency, bars per strategy in each group.
        let mut chart = ChartBuilder::on(&right)
            .caption("Hits vs misses", theme.panel_title())
            .margin(theme.px(16.0))
            .margin_right(theme.px(30.0))
            .x_label_area_size(theme.px(110.0))
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(
                0f64..SPLIT.len() as f64,
                (lo..hi).log_scale().with_key_points(ticks),
            )
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("Latency")
            .y_label_formatter(&|v| format_us(*v, true))
            .label_style(theme.tick())
            .axis_desc_style(theme.axis_label())
            .light_line_style(TRANSPARENT)
            .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
            .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
            .draw()
            .map_err(draw_err)?;
        let slot = 0.8 / specs.len().max(1) as f64;
        for (g, (label, col)) in SPLIT.iter().enumerate() {
            for (i, s) in specs.iter().enumerate() {
                let Some(v) = rows
                    .iter()
                    .find(|r| r.strategy == *s)
                    .and_then(col)
                    .filter(|v| *v > 0.0)
                else {
                    continue;
                };
                let l = g as f64 + 0.1 + i as f64 * slot + slot * 0.06;
                let r = g as f64 + 0.1 + (i + 1) as f64 * slot - slot * 0.06;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(l, lo), (r, v)],
                        theme::strategy_color(s).filled(),
                    )))
                    .map_err(draw_err)?;
            }
            let (x, y) = chart.backend_coord(&(g as f64 + 0.5, lo));
            root.draw(&Text::new(
                label.to_string(),
                (x, y + theme.px(18.0) as i32),
                theme.tick().pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(draw_err)?;
        }
        Ok(())
    }
}
