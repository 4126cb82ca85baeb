//! `bars`: the hit ratio of each strategy at one cache size, grouped by
//! workload, with the value written on each bar: the "which policy" slide.
//!
//! Which capacity: `--capacity` (matched against the capacity as given,
//! `5%`, or as resolved, `1000`/`64MiB`), else the one most rows share. A
//! percentage resolves to a different count for each workload, so rows are
//! grouped by the percentage itself when that is how the run was asked.

use super::labels::display_labels;
use super::theme::{self, Theme};
use super::{
    draw_err, format_capacity, legend_right, percent, unit_of, Area, ChartKind, Dataset,
    LegendEntry, PlotError, PlotOptions,
};
use crate::sim::{Capacity, RunResult};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

pub(crate) struct Bars;

/// How the values are written on the bars.
#[derive(Clone, Copy)]
enum ValueLabels {
    /// Across the top of each bar, with this many decimals.
    Across(usize),
    /// Upright (read bottom to top) above each bar: narrow bars.
    Upright,
    /// Not written: bars narrower than a line of text.
    None,
}

/// A workload caption in the lines it is drawn in under its group, at most
/// `max_w` pixels wide: one line at 34 px (or the smallest text size) when
/// it fits, else two lines split at a `:` or space, else cut with an
/// ellipsis.
fn caption_lines(area: &Area, caption: &str, theme: &Theme, max_w: u32) -> Vec<String> {
    let style = theme.text(theme::MIN_TEXT_1080P);
    let width = |t: &str| area.estimate_text_size(t, &style).map(|s| s.0).unwrap_or(0);
    if width(caption) <= max_w {
        return vec![caption.to_string()];
    }
    // Split at the ':' (or else the space) that makes the longer line shortest.
    let mut best: Option<(u32, String, String)> = None;
    for (i, c) in caption.char_indices() {
        if c != ':' && c != ' ' {
            continue;
        }
        let (a, b) = (
            &caption[..i + usize::from(c == ':')],
            caption[i + 1..].trim(),
        );
        if a.trim().is_empty() || b.is_empty() {
            continue;
        }
        let w = width(a).max(width(b));
        if best.as_ref().is_none_or(|(bw, _, _)| w < *bw) {
            best = Some((w, a.trim().to_string(), b.to_string()));
        }
    }
    match best {
        Some((_, a, b)) => vec![
            super::fit_width(area, &a, &style, max_w),
            super::fit_width(area, &b, &style, max_w),
        ],
        None => vec![super::fit_width(area, caption, &style, max_w)],
    }
}

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

    fn takeaway(&self, data: &Dataset, opts: &PlotOptions) -> Option<String> {
        super::takeaway::policies(data, opts)
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
        let labels = display_labels(&specs);
        let workloads = super::first_seen(rows.iter().map(|r| r.workload.as_str()));
        // Bars in their colours; with --highlight, the others grey and
        // named by one legend entry.
        let color_of = |s: &str| {
            if opts.highlighted(s) {
                theme::strategy_color(s)
            } else {
                theme::MUTED
            }
        };
        let mut legend: Vec<LegendEntry> = specs
            .iter()
            .zip(&labels)
            .filter(|(s, _)| opts.highlighted(s))
            .map(|(s, label)| LegendEntry {
                label: label.clone(),
                color: theme::strategy_color(s),
                marker: None,
                dashed: false,
            })
            .collect();
        let n_muted = specs.len() - legend.len();
        if n_muted > 0 {
            legend.push(LegendEntry {
                label: if n_muted == 1 {
                    "1 other".to_string()
                } else {
                    format!("{n_muted} others")
                },
                color: theme::MUTED,
                marker: None,
                dashed: false,
            });
        }
        let chart_area = legend_right(&area, &legend, theme)?;

        let ngroups = workloads.len().max(1);
        let nbars = specs.len().max(1);
        let slot = 0.8 / nbars as f64;
        let (area_w, area_h) = chart_area.dim_in_pixel();
        let (y_area, margin, margin_right) = (theme.px(150.0), theme.px(16.0), theme.px(30.0));
        let plot_w = area_w.saturating_sub(y_area + margin + margin_right) as f64;
        let group_px = plot_w / ngroups as f64;
        let bar_px = (group_px * slot * 0.88).max(1.0);

        // Value labels at the theme's smallest text: across the bar with one
        // decimal or none when that fits, else turned upright, else left
        // out (the y axis still gives the values).
        let label_style = theme.text(theme::MIN_TEXT_1080P);
        let text_w = |t: &str, st: &TextStyle| {
            chart_area
                .estimate_text_size(t, st)
                .map(|s| s.0)
                .unwrap_or(0) as f64
        };
        let text_h = label_style.font.get_size();
        let widest = |decimals: usize| {
            rows.iter()
                .map(|r| text_w(&percent(opts.y.of(r), decimals), &label_style))
                .fold(0.0f64, f64::max)
        };
        let layout = if widest(1) <= bar_px * 1.05 {
            ValueLabels::Across(1)
        } else if widest(0) <= bar_px * 1.05 {
            ValueLabels::Across(0)
        } else if text_h * 0.9 <= bar_px {
            ValueLabels::Upright
        } else {
            ValueLabels::None
        };

        // Workload captions under their groups, in two lines or cut when
        // one line at the smallest size does not fit.
        let (_, captions) = super::workload_captions(&workloads);
        let cap_style = theme.text(34.0);
        let cap_max = (group_px * 0.95) as u32;
        let cap_lines: Vec<Vec<String>> = captions
            .iter()
            .map(|c| caption_lines(&chart_area, c, theme, cap_max))
            .collect();
        let two_lines = cap_lines.iter().any(|l| l.len() > 1);
        let x_label_h = if two_lines {
            theme.px(130.0)
        } else {
            theme.px(80.0)
        };

        let ymax = rows.iter().map(|r| opts.y.of(r)).fold(0.0f64, f64::max);
        let plot_h = area_h.saturating_sub(x_label_h + 2 * margin).max(1) as f64;
        // Headroom for the value labels above the tallest bar.
        let headroom = match layout {
            ValueLabels::Across(_) => (text_h + theme.px(10.0) as f64) / plot_h,
            ValueLabels::Upright => {
                (text_w("100.0%", &label_style) + theme.px(14.0) as f64) / plot_h
            }
            ValueLabels::None => 0.02,
        };
        let ytop = super::ratio_axis_top(ymax, headroom);
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(margin)
            .margin_right(margin_right)
            .x_label_area_size(x_label_h)
            .y_label_area_size(y_area)
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

        for (g, w) in workloads.iter().enumerate() {
            for (i, s) in specs.iter().enumerate() {
                let Some(r) = rows.iter().find(|r| r.workload == *w && r.strategy == *s) else {
                    continue;
                };
                let v = opts.y.of(r);
                let left = g as f64 + 0.1 + i as f64 * slot + slot * 0.06;
                let right = g as f64 + 0.1 + (i + 1) as f64 * slot - slot * 0.06;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(left, 0.0), (right, v)],
                        color_of(s).filled(),
                    )))
                    .map_err(draw_err)?;
                let (cx, top) = chart.backend_coord(&((left + right) / 2.0, v));
                let gap = theme.px(6.0) as i32;
                match layout {
                    ValueLabels::Across(decimals) => root.draw(&Text::new(
                        percent(v, decimals),
                        (cx, top - gap),
                        label_style.pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )),
                    ValueLabels::Upright => root.draw(&Text::new(
                        percent(v, 1),
                        (cx, top - gap),
                        label_style
                            .transform(FontTransform::Rotate270)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )),
                    ValueLabels::None => Ok(()),
                }
                .map_err(draw_err)?;
            }
            // The workload under its group.
            let (gx0, gy) = chart.backend_coord(&(g as f64, 0.0));
            let (gx1, _) = chart.backend_coord(&(g as f64 + 1.0, 0.0));
            let line_h = cap_style.font.get_size().max(label_style.font.get_size()) * 1.15;
            for (k, line) in cap_lines[g].iter().enumerate() {
                let style = if cap_lines[g].len() == 1 && text_w(line, &cap_style) <= cap_max as f64
                {
                    cap_style.clone()
                } else {
                    label_style.clone()
                };
                root.draw(&Text::new(
                    line.clone(),
                    (
                        (gx0 + gx1) / 2,
                        gy + theme.px(18.0) as i32 + (k as f64 * line_h) as i32,
                    ),
                    style.pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(draw_err)?;
            }
        }
        Ok(())
    }
}
