//! `staleness`: what expiry buys and costs (talk figure 4): the hit ratio
//! and the stale-hit ratio against the TTL (`ttl_s`, log x axis labelled
//! as durations: 1s, 30s, 5m), one pair of lines per strategy in its
//! colour: solid with filled markers = `hit_ratio`, dashed and lighter =
//! `stale_hit_ratio`.
//!
//! A `--ttl` sweep names each TTL in the strategy spec (`ttl:ttl=1s`,
//! `ttl:ttl=5m`); those specs are one line, the spec with its `ttl=`
//! parameter dropped (`ttl`). Strategies that ignore the TTL (`lru`) are
//! repeated once per TTL by the sweep and come out flat: the baseline.
//! One workload at one capacity (the first workload swept over two TTLs or
//! more; `--workload` and `--capacity` pick others). Drawn when rows have
//! two distinct `ttl_s`.

use super::theme::{self, Theme};
use super::{
    draw_err, format_duration, legend_right, lighter, percent, Area, ChartKind, Dataset,
    LegendEntry, PlotError, PlotOptions,
};
use crate::sim::RunResult;
use plotters::prelude::*;

pub(crate) struct Staleness;

/// The line a spec belongs to: the spec without its `ttl=` parameter.
pub(crate) fn line_of(spec: &str) -> String {
    spec.split(':')
        .filter(|p| !p.trim_start().starts_with("ttl="))
        .collect::<Vec<_>>()
        .join(":")
}

/// The rows of the workloads measured at two TTLs or more, focused.
fn rows(data: &Dataset, opts: &PlotOptions) -> Result<Vec<RunResult>, PlotError> {
    let with_ttl = || {
        data.rows
            .iter()
            .filter(|r| r.ttl_s.is_some_and(|t| t > 0.0))
    };
    let swept: Vec<&str> = data
        .workloads()
        .into_iter()
        .filter(|w| {
            let rows: Vec<RunResult> = with_ttl().filter(|r| r.workload == *w).cloned().collect();
            distinct_ttls(&rows).len() >= 2
        })
        .collect();
    super::focus(
        with_ttl().filter(|r| swept.contains(&r.workload.as_str())),
        opts,
    )
}

fn distinct_ttls(rows: &[RunResult]) -> Vec<f64> {
    let mut t: Vec<f64> = rows.iter().filter_map(|r| r.ttl_s).collect();
    t.sort_by(f64::total_cmp);
    t.dedup();
    t
}

impl ChartKind for Staleness {
    fn name(&self) -> &'static str {
        "staleness"
    }

    fn summary(&self) -> &'static str {
        "hit ratio (solid) and stale-hit ratio (dashed) against TTL, a line pair per strategy (needs two ttl_s)"
    }

    fn check(&self, data: &Dataset, opts: &PlotOptions) -> Result<(), PlotError> {
        if distinct_ttls(&rows(data, opts)?).len() < 2 {
            return Err(PlotError::Unsupported {
                kind: "staleness",
                reason:
                    "a TTL curve needs rows at two TTLs or more (run with e.g. --ttl 1s,5s,30s,5m)"
                        .to_string(),
            });
        }
        Ok(())
    }

    fn takeaway(&self, data: &Dataset, opts: &PlotOptions) -> Option<String> {
        super::takeaway::staleness(&rows(data, opts).ok()?)
    }

    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError> {
        if let Some(t) = &opts.title {
            return Ok(t.clone());
        }
        Ok(format!(
            "Hits and stale hits vs TTL{}",
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
        let lines: Vec<String> = super::first_seen(rows.iter().map(|r| r.strategy.as_str()))
            .into_iter()
            .map(line_of)
            .collect();
        let lines = super::first_seen(lines.iter().map(String::as_str));
        let variants = super::mrc::variants(&lines);
        let labels = super::labels::display_labels(&lines);
        let mut legend = Vec::new();
        for ((s, v), label) in variants.iter().zip(&labels) {
            let color = theme::strategy_color(s);
            legend.push(LegendEntry {
                label: format!("{label} hits"),
                color,
                marker: Some(theme::marker_for(s, *v)),
                dashed: false,
            });
            legend.push(LegendEntry {
                label: format!("{label} stale hits"),
                color: lighter(color, 0.45),
                marker: Some(theme::marker_for(s, *v + 1)),
                dashed: true,
            });
        }
        let chart_area = legend_right(&area, &legend, theme)?;

        let ttls = distinct_ttls(&rows);
        let (tmin, tmax) = (ttls[0], ttls[ttls.len() - 1]);
        let pad = (tmax / tmin).powf(0.05);
        let ymax = rows
            .iter()
            .map(|r| r.hit_ratio.max(r.stale_hit_ratio))
            .fold(0.0f64, f64::max);
        let ytop = super::ratio_axis_top(ymax, 0.02);
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(theme.px(16.0))
            .margin_right(theme.px(40.0))
            .x_label_area_size(theme.px(110.0))
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(
                (tmin / pad..tmax * pad)
                    .log_scale()
                    .with_key_points(ttls.clone()),
                0f64..ytop,
            )
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("TTL (log scale)")
            .y_desc("Share of reads")
            .x_label_formatter(&|v| format_duration(*v))
            .y_label_formatter(&|v| percent(*v, 0))
            .y_labels(6)
            .label_style(theme.tick())
            .axis_desc_style(theme.axis_label())
            .light_line_style(TRANSPARENT)
            .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
            .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
            .draw()
            .map_err(draw_err)?;

        for (s, v) in &variants {
            let color = theme::strategy_color(s);
            let mut mine: Vec<&RunResult> =
                rows.iter().filter(|r| line_of(&r.strategy) == *s).collect();
            mine.sort_by(|a, b| a.ttl_s.unwrap_or(0.0).total_cmp(&b.ttl_s.unwrap_or(0.0)));
            let hits: Vec<(f64, f64)> = mine
                .iter()
                .map(|r| (r.ttl_s.unwrap_or(0.0), r.hit_ratio))
                .collect();
            let stale: Vec<(f64, f64)> = mine
                .iter()
                .map(|r| (r.ttl_s.unwrap_or(0.0), r.stale_hit_ratio))
                .collect();
            let light = lighter(color, 0.45);
            chart
                .draw_series(LineSeries::new(
                    hits.clone(),
                    color.stroke_width(theme.line_width()),
                ))
                .map_err(draw_err)?;
            chart
                .draw_series(DashedLineSeries::new(
                    stale.clone(),
                    theme.px(22.0),
                    theme.px(12.0),
                    light.stroke_width(theme.line_width()),
                ))
                .map_err(draw_err)?;
            for (pts, c, m) in [
                (hits, color, theme::marker_for(s, *v)),
                (stale, light, theme::marker_for(s, *v + 1)),
            ] {
                for p in pts {
                    let at = chart.backend_coord(&p);
                    root.draw(&theme::marker_element(m, at, theme.marker_size(), c))
                        .map_err(draw_err)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ttl_parameter_is_dropped_from_the_line() {
        assert_eq!(super::line_of("ttl:ttl=5m"), "ttl");
        assert_eq!(super::line_of("lru"), "lru");
        assert_eq!(super::line_of("x:k=2:ttl=1s"), "x:k=2");
    }
}
