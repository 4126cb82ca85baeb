//! `bars`: the hit ratio of each strategy at one cache size, grouped by
//! workload, with the value written on each bar: the "which policy" slide.
//!
//! Which capacity: `--capacity` (matched against the capacity as given,
//! `5%`, or as resolved, `1000`/`64MiB`), else the one most rows share. A
//! percentage resolves to a different count for each workload, so rows are
//! grouped by the percentage itself when that is how the run was asked.

use super::theme::{self, Theme};
use super::{
    draw_err, format_capacity, legend_right, percent, unit_of, Area, ChartKind, Dataset,
    LegendEntry, PlotError, PlotOptions,
};
use crate::sim::{Capacity, RunResult};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct Bars;

/// The capacity a row was run at, as a key shared across workloads: the
/// percentage when given as one, else the resolved size and its unit.
fn cap_key(r: &RunResult) -> String {
    if r.capacity_spec.ends_with('%') {
        r.capacity_spec.clone()
    } else {
        format!("{} {}", r.capacity, unit_of(r))
    }
}

/// The capacity key as a person reads it: `1% of keys`, `10k objects`, `64 MiB`.
pub(super) fn cap_words(r: &RunResult) -> String {
    if r.capacity_spec.ends_with('%') {
        format!("{} of keys", r.capacity_spec)
    } else if unit_of(r) == "bytes" {
        format_capacity(r.capacity as f64, "bytes")
    } else {
        format!("{} objects", format_capacity(r.capacity as f64, "objects"))
    }
}

/// The rows at the chosen capacity.
pub(crate) fn select<'a>(
    data: &'a Dataset,
    opts: &PlotOptions,
) -> Result<Vec<&'a RunResult>, PlotError> {
    let keys = super::first_seen(
        data.rows
            .iter()
            .map(cap_key)
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    )
    .into_iter()
    .map(str::to_string)
    .collect::<Vec<_>>();
    let chosen: Vec<&RunResult> = match &opts.capacity {
        Some(asked) => {
            let cap = Capacity::parse(asked).map_err(|e| PlotError::Option {
                option: "--capacity",
                reason: e,
            })?;
            let rows: Vec<&RunResult> = data
                .rows
                .iter()
                .filter(|r| match cap {
                    Capacity::Percent(_) => r.capacity_spec == cap.label(),
                    Capacity::Count(n) => unit_of(r) == "objects" && r.capacity == n,
                    Capacity::Bytes(b) => unit_of(r) == "bytes" && r.capacity == b,
                })
                .collect();
            if rows.is_empty() {
                let avail: Vec<String> = data.rows.iter().map(cap_words).collect::<Vec<_>>();
                let avail = super::first_seen(avail.iter().map(String::as_str)).join(", ");
                return Err(PlotError::Option {
                    option: "--capacity",
                    reason: format!("no run at capacity '{asked}'; capacities present: {avail}"),
                });
            }
            rows
        }
        None => {
            // The key most rows share; ties go to the first seen.
            let mut best: Option<(&str, usize)> = None;
            for k in &keys {
                let n = data.rows.iter().filter(|r| &cap_key(r) == k).count();
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((k, n));
                }
            }
            match best {
                Some((k, _)) => data.rows.iter().filter(|r| cap_key(r) == k).collect(),
                None => Vec::new(),
            }
        }
    };
    Ok(chosen)
}

impl ChartKind for Bars {
    fn name(&self) -> &'static str {
        "bars"
    }

    fn summary(&self) -> &'static str {
        "hit (or --y miss) ratio per strategy at one capacity (--capacity), grouped by workload"
    }

    fn check(&self, data: &Dataset, opts: &PlotOptions) -> Result<(), PlotError> {
        if data.rows.is_empty() {
            return Err(PlotError::Unsupported {
                kind: "bars",
                reason: "the results hold no rows".to_string(),
            });
        }
        select(data, opts).map(|_| ())
    }

    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError> {
        if let Some(t) = &opts.title {
            return Ok(t.clone());
        }
        let rows = select(data, opts)?;
        let Some(first) = rows.first() else {
            return Ok(opts.y.label().to_string());
        };
        let workloads = super::first_seen(rows.iter().map(|r| r.workload.as_str()));
        let mut t = format!("{} at {}", opts.y.label(), cap_words(first));
        if workloads.len() == 1 {
            t += &format!(" \u{2014} {}", workloads[0]);
        } else if let (Some(common), _) = super::workload_captions(&workloads) {
            t += &format!(" \u{2014} {common}");
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
        let rows = select(data, opts)?;
        let area = super::draw_title(root, &title, theme)?;

        let specs = super::first_seen(rows.iter().map(|r| r.strategy.as_str()));
        let workloads = super::first_seen(rows.iter().map(|r| r.workload.as_str()));
        let legend: Vec<LegendEntry> = specs
            .iter()
            .map(|s| LegendEntry {
                label: s.to_string(),
                color: theme::strategy_color(s),
                marker: None,
            })
            .collect();
        let chart_area = legend_right(&area, &legend, theme)?;

        let ymax = rows.iter().map(|r| opts.y.of(r)).fold(0.0f64, f64::max);
        let ytop = super::ratio_axis_top(ymax, 0.08);
        let ngroups = workloads.len().max(1);
        let x_label_h = theme.px(80.0);
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(theme.px(16.0))
            .margin_right(theme.px(30.0))
            .x_label_area_size(x_label_h)
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(0f64..ngroups as f64, 0f64..ytop)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(opts.y.label())
            .y_label_formatter(&|v| percent(*v, 0))
            .y_labels(6)
            .label_style(theme.tick())
            .axis_desc_style(theme.axis_label())
            .light_line_style(TRANSPARENT)
            .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
            .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
            .draw()
            .map_err(draw_err)?;

        // Each group spans [g, g+1): 80% for bars, 10% padding either side.
        let nbars = specs.len().max(1);
        let slot = 0.8 / nbars as f64;
        let (x0px, _) = chart.backend_coord(&(0.0, 0.0));
        let (x1px, _) = chart.backend_coord(&(slot, 0.0));
        let bar_px = (x1px - x0px).max(1) as f64;
        // Value labels shrink to fit their bar ("100.0%" is about 3 em wide).
        let label_px = (bar_px * 0.92 / 3.2).clamp(9.0, 30.0 * theme.scale().max(0.4));
        let label_style = theme
            .text(label_px / theme.scale())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let decimals = if bar_px / label_px < 2.6 { 0 } else { 1 };

        let (_, captions) = super::workload_captions(&workloads);
        for (g, w) in workloads.iter().enumerate() {
            let caption = &captions[g];
            for (i, s) in specs.iter().enumerate() {
                let Some(r) = rows.iter().find(|r| r.workload == *w && r.strategy == *s) else {
                    continue;
                };
                let v = opts.y.of(r);
                let left = g as f64 + 0.1 + i as f64 * slot + slot * 0.06;
                let right = g as f64 + 0.1 + (i + 1) as f64 * slot - slot * 0.06;
                let color = theme::strategy_color(s);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(left, 0.0), (right, v)],
                        color.filled(),
                    )))
                    .map_err(draw_err)?;
                let (cx, top) = chart.backend_coord(&((left + right) / 2.0, v));
                root.draw(&Text::new(
                    percent(v, decimals),
                    (cx, top - theme.px(6.0) as i32),
                    label_style.clone(),
                ))
                .map_err(draw_err)?;
            }
            // The workload under its group, shrunk when it would not fit.
            let (gx0, gy) = chart.backend_coord(&(g as f64, 0.0));
            let (gx1, _) = chart.backend_coord(&(g as f64 + 1.0, 0.0));
            let avail = (gx1 - gx0).max(1) as u32;
            let mut size = 34.0;
            let mut style = theme.text(size);
            while size > 12.0
                && root
                    .estimate_text_size(caption, &style)
                    .map(|s| s.0)
                    .unwrap_or(0)
                    > avail * 95 / 100
            {
                size -= 2.0;
                style = theme.text(size);
            }
            root.draw(&Text::new(
                caption.clone(),
                ((gx0 + gx1) / 2, gy + theme.px(18.0) as i32),
                style.pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(draw_err)?;
        }
        Ok(())
    }
}
