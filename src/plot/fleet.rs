//! `fleet`: when to move to a shared cache (talk figure 8). Rows from runs
//! like `cachesim run -s lru,shared:lru --instances K` for several K, two
//! panels against K (`instances`, log-2 axis labelled 1, 2, 4, 8):
//!
//! - left, the hit ratio: one line per strategy spec; a `shared:` spec is
//!   drawn in its base strategy's colour (`shared:lru` in lru's), dashed
//!   and with the next marker, so local and shared of one policy pair up;
//! - right, the stale-hit ratio (`stale_hit_ratio`): what a write on one
//!   instance leaves stale in the others' local caches.
//!
//! One workload at one capacity (the first workload measured at two
//! instance counts or more; `--workload` and `--capacity` pick others).
//! Drawn when rows have two distinct `instances`.

use super::theme::{self, Theme};
use super::{
    draw_err, legend_right, percent, Area, ChartKind, Dataset, LegendEntry, PlotError, PlotOptions,
};
use crate::sim::RunResult;
use plotters::prelude::*;

pub(crate) struct Fleet;

/// The local strategy behind a spec: `shared:lru` -> `lru`, and Redis's
/// approximation of it: `redis-lru:samples=5` -> `lru`.
pub(crate) fn base_of(spec: &str) -> &str {
    if let Some(p) = spec.strip_prefix("redis-") {
        return p.split(':').next().unwrap_or(p);
    }
    spec.strip_prefix("shared:").unwrap_or(spec)
}

/// A spec whose cache the instances share: `shared:`, and Redis (a Redis
/// server is one cache for the whole fleet).
fn is_shared(spec: &str) -> bool {
    spec.starts_with("shared:") || spec.starts_with("redis")
}

/// The rows of the workloads measured at two instance counts or more (so
/// other results read alongside do not hide the fleet study), focused.
fn rows(data: &Dataset, opts: &PlotOptions) -> Result<Vec<RunResult>, PlotError> {
    let fleets: Vec<&str> = data
        .workloads()
        .into_iter()
        .filter(|w| {
            let mut k: Vec<u64> = data
                .rows
                .iter()
                .filter(|r| r.workload == *w)
                .map(|r| r.instances.max(1))
                .collect();
            k.sort_unstable();
            k.dedup();
            k.len() >= 2
        })
        .collect();
    super::focus(
        data.rows
            .iter()
            .filter(|r| fleets.contains(&r.workload.as_str())),
        opts,
    )
}

fn distinct_k(rows: &[RunResult]) -> Vec<u64> {
    let mut k: Vec<u64> = rows.iter().map(|r| r.instances.max(1)).collect();
    k.sort_unstable();
    k.dedup();
    k
}

/// The marker of a spec: its base strategy's, the next one for `shared:`.
fn marker(spec: &str) -> theme::Marker {
    theme::marker_for(
        base_of(spec),
        usize::from(is_shared(spec)) + usize::from(spec.starts_with("redis")),
    )
}

impl ChartKind for Fleet {
    fn name(&self) -> &'static str {
        "fleet"
    }

    fn summary(&self) -> &'static str {
        "hit ratio and stale-hit ratio against the number of instances, local vs shared: (needs two instances values)"
    }

    fn check(&self, data: &Dataset, opts: &PlotOptions) -> Result<(), PlotError> {
        if distinct_k(&rows(data, opts)?).len() < 2 {
            return Err(PlotError::Unsupported {
                kind: "fleet",
                reason: "a fleet curve needs rows at two instance counts or more (run with --instances 1, 2, 4, 8 into the same plot)"
                    .to_string(),
            });
        }
        Ok(())
    }

    fn takeaway(&self, data: &Dataset, opts: &PlotOptions) -> Option<String> {
        super::takeaway::fleet(&rows(data, opts).ok()?)
    }

    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError> {
        if let Some(t) = &opts.title {
            return Ok(t.clone());
        }
        Ok(format!(
            "Local caches vs one shared cache{}",
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
        let labels = super::labels::display_labels(&specs);
        let legend: Vec<LegendEntry> = specs
            .iter()
            .zip(labels)
            .map(|(s, label)| LegendEntry {
                label,
                color: theme::strategy_color(base_of(s)),
                marker: Some(marker(s)),
                dashed: is_shared(s),
            })
            .collect();
        let chart_area = legend_right(&area, &legend, theme)?;
        let (w, _) = chart_area.dim_in_pixel();
        let (left, right) = chart_area.split_horizontally(w / 2);
        let ks = distinct_k(&rows);
        let (kmin, kmax) = (ks[0] as f64, ks[ks.len() - 1] as f64);
        let pad = (kmax / kmin).powf(0.05);
        let x = || {
            (kmin / pad..kmax * pad)
                .log_scale()
                .with_key_points(ks.iter().map(|k| *k as f64).collect())
        };

        type Metric = fn(&RunResult) -> f64;
        let panels: [(&Area, &str, &str, Metric); 2] = [
            (&left, "Hits", "Hit ratio", |r| r.hit_ratio),
            (&right, "Stale hits", "Stale-hit ratio", |r| {
                r.stale_hit_ratio
            }),
        ];
        for (panel, caption, ylabel, metric) in panels {
            let ymax = rows.iter().map(metric).fold(0.0f64, f64::max);
            let ytop = super::ratio_axis_top(ymax, 0.02);
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, theme.panel_title())
                .margin(theme.px(16.0))
                .margin_right(theme.px(40.0))
                .x_label_area_size(theme.px(110.0))
                .y_label_area_size(theme.px(150.0))
                .build_cartesian_2d(x(), 0f64..ytop)
                .map_err(draw_err)?;
            chart
                .configure_mesh()
                .x_desc("Instances")
                .y_desc(ylabel)
                .x_label_formatter(&|v| format!("{}", v.round() as u64))
                .y_label_formatter(&|v| percent(*v, 0))
                .y_labels(6)
                .label_style(theme.tick())
                .axis_desc_style(theme.axis_label())
                .light_line_style(TRANSPARENT)
                .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
                .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
                .draw()
                .map_err(draw_err)?;
            for s in &specs {
                let color = theme::strategy_color(base_of(s));
                let mut pts: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.strategy == *s)
                    .map(|r| (r.instances.max(1) as f64, metric(r)))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let style = color.stroke_width(theme.line_width());
                if is_shared(s) {
                    chart
                        .draw_series(DashedLineSeries::new(
                            pts.clone(),
                            theme.px(22.0),
                            theme.px(12.0),
                            style,
                        ))
                        .map_err(draw_err)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(pts.clone(), style))
                        .map_err(draw_err)?;
                }
                for p in pts {
                    let at = chart.backend_coord(&p);
                    root.draw(&theme::marker_element(
                        marker(s),
                        at,
                        theme.marker_size(),
                        color,
                    ))
                    .map_err(draw_err)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_strategies_pair_with_their_local_policy_and_are_shared() {
        assert_eq!(base_of("shared:lru"), "lru");
        assert_eq!(base_of("redis-lru:samples=5"), "lru");
        assert_eq!(base_of("redis-lfu"), "lfu");
        assert_eq!(base_of("redis"), "redis");
        assert_eq!(base_of("arc"), "arc");
        assert!(is_shared("redis-lru:samples=5") && is_shared("shared:arc"));
        assert!(!is_shared("lru") && !is_shared("tiered:lru+redis"));
        assert_ne!(marker("shared:lru"), marker("redis-lru:samples=5"));
    }
}
