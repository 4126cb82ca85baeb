//! `invalidation`: what a write does to the cache (talk figure 5): one bar
//! per run of a workload with writes under a different write policy
//! (`on_write`: delete-on-write, write-through, none) or TTL, its height the
//! hit ratio, split into fresh hits (solid, the strategy's colour) and
//! stale hits (light, labelled with the stale-hit ratio). A policy that
//! leaves stale copies looks better on hit ratio alone; the light part is
//! what it costs.
//!
//! One workload at one capacity (the first workload with writes; narrow
//! with `--workload`, `--capacity`). Drawn when such rows differ in
//! `on_write` or in TTL.

use super::theme::{self, Theme};
use super::{draw_err, lighter, percent, Area, ChartKind, Dataset, PlotError, PlotOptions};
use crate::sim::RunResult;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct Invalidation;

/// The focused rows: one workload with writes, at one capacity.
fn rows(data: &Dataset, opts: &PlotOptions) -> Result<Vec<RunResult>, PlotError> {
    super::focus(
        data.rows
            .iter()
            .filter(|r| r.writes > 0 && !r.on_write.is_empty()),
        opts,
    )
}

/// What a reader calls the write policy of `r`: the `on_write` column, and
/// "TTL only" for a run that leaves writes alone but expires entries.
pub(crate) fn policy_words(r: &RunResult) -> String {
    let ttl = r
        .ttl_s
        .or_else(|| ttl_param(&r.strategy))
        .filter(|t| *t > 0.0);
    match (r.on_write.as_str(), ttl) {
        ("invalidate", _) => "delete on write".into(),
        ("update", _) => "write-through".into(),
        ("none", Some(t)) => format!("TTL {} only", super::format_duration(t)),
        ("none", None) => "no invalidation".into(),
        (other, _) => other.into(),
    }
}

/// The `ttl=` of a strategy spec, in seconds.
fn ttl_param(spec: &str) -> Option<f64> {
    if theme::base_name(spec) != "ttl" {
        return None;
    }
    let v = spec
        .split(':')
        .find_map(|p| p.trim().strip_prefix("ttl="))?;
    crate::units::parse_duration(v).ok()
}

/// One line per run: "delete on write: 59% hits, none stale".
pub(crate) fn takeaway(rows: &[RunResult]) -> Option<String> {
    if rows.len() < 2 {
        return None;
    }
    let names: Vec<String> = super::labels::display_labels(
        &rows.iter().map(|r| r.strategy.as_str()).collect::<Vec<_>>(),
    );
    let parts: Vec<String> = rows
        .iter()
        .zip(&names)
        .map(|(r, n)| {
            let stale = if r.stale_hits == 0 {
                "none stale".to_string()
            } else {
                format!("{} of reads stale", percent(r.stale_hit_ratio, 1))
            };
            format!(
                "{n}, {}: {} hits, {stale}",
                policy_words(r),
                percent(r.hit_ratio, 0)
            )
        })
        .collect();
    Some(format!("{}.", parts.join("; ")))
}

impl ChartKind for Invalidation {
    fn name(&self) -> &'static str {
        "invalidation"
    }

    fn summary(&self) -> &'static str {
        "fresh and stale hits per write policy (on_write) or TTL on a workload with writes"
    }

    fn check(&self, data: &Dataset, opts: &PlotOptions) -> Result<(), PlotError> {
        let rows = rows(data, opts)?;
        let mut policies: Vec<String> = rows.iter().map(policy_words).collect();
        policies.sort();
        policies.dedup();
        if policies.len() < 2 {
            return Err(PlotError::MissingColumns {
                kind: "invalidation",
                reason: "no workload with writes run under two write policies or TTLs (run a workload with writes, e.g. -w ycsb-b, with --on-write invalidate,update,none)"
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
            "Writes: fresh and stale hits{}",
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
        let names = super::labels::display_labels(
            &rows.iter().map(|r| r.strategy.as_str()).collect::<Vec<_>>(),
        );
        let top = super::ratio_axis_top(rows.iter().map(|r| r.hit_ratio).fold(0.0, f64::max), 0.08);
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&area)
            .margin(theme.px(16.0))
            .margin_right(theme.px(40.0))
            .x_label_area_size(theme.px(150.0))
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(0f64..n, 0f64..top)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_desc("Share of reads (light: stale hits)")
            .y_label_formatter(&|v| percent(*v, 0))
            .label_style(theme.tick())
            .axis_desc_style(theme.axis_label())
            .light_line_style(TRANSPARENT)
            .bold_line_style(theme::GRID.stroke_width(theme.px(2.0)))
            .axis_style(theme::SUBTLE.stroke_width(theme.px(2.0)))
            .draw()
            .map_err(draw_err)?;
        let line_h = theme.px(40.0) as i32;
        for (i, (r, name)) in rows.iter().zip(&names).enumerate() {
            let color = theme::strategy_color(&r.strategy);
            let (l, rr) = (i as f64 + 0.15, i as f64 + 0.85);
            let fresh = (r.hit_ratio - r.stale_hit_ratio).max(0.0);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(l, 0.0), (rr, fresh)],
                    color.filled(),
                )))
                .map_err(draw_err)?;
            if r.stale_hits > 0 {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(l, fresh), (rr, r.hit_ratio)],
                        lighter(color, 0.6).filled(),
                    )))
                    .map_err(draw_err)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(l, fresh), (rr, r.hit_ratio)],
                        color.stroke_width(theme.px(3.0)),
                    )))
                    .map_err(draw_err)?;
                if r.stale_hit_ratio >= 0.06 * top {
                    let (x, y) =
                        chart.backend_coord(&(i as f64 + 0.5, fresh + r.stale_hit_ratio / 2.0));
                    root.draw(&Text::new(
                        format!("{} stale", percent(r.stale_hit_ratio, 0)),
                        (x, y),
                        theme.tick().pos(Pos::new(HPos::Center, VPos::Center)),
                    ))
                    .map_err(draw_err)?;
                }
            }
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, r.hit_ratio));
            let stale = if r.stale_hits == 0 {
                "no stale".to_string()
            } else if r.stale_hit_ratio < 0.06 * top {
                format!("{} stale", percent(r.stale_hit_ratio, 1))
            } else {
                String::new()
            };
            let label = [format!("{} hits", percent(r.hit_ratio, 0)), stale];
            let label: Vec<&String> = label.iter().filter(|s| !s.is_empty()).collect();
            for (j, t) in label.iter().enumerate() {
                root.draw(&Text::new(
                    (*t).clone(),
                    (
                        x,
                        y - theme.px(10.0) as i32 - (label.len() - j) as i32 * line_h,
                    ),
                    theme.tick().pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(draw_err)?;
            }
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            for (j, t) in [policy_words(r), name.clone()].iter().enumerate() {
                root.draw(&Text::new(
                    t.clone(),
                    (x, y + theme.px(18.0) as i32 + j as i32 * line_h),
                    theme
                        .tick()
                        .color(if j == 0 { &theme::INK } else { &color })
                        .pos(Pos::new(HPos::Center, VPos::Top)),
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

    fn row(s: &str, on_write: &str, hit: f64, stale: f64) -> RunResult {
        RunResult {
            strategy: s.into(),
            on_write: on_write.into(),
            hit_ratio: hit,
            stale_hit_ratio: stale,
            stale_hits: (stale * 1000.0) as u64,
            writes: 10,
            ..RunResult::default()
        }
    }

    #[test]
    fn policies_read_as_words() {
        assert_eq!(
            policy_words(&row("lru", "invalidate", 0.5, 0.0)),
            "delete on write"
        );
        assert_eq!(
            policy_words(&row("lru", "update", 0.5, 0.0)),
            "write-through"
        );
        assert_eq!(
            policy_words(&row("lru", "none", 0.5, 0.1)),
            "no invalidation"
        );
        assert_eq!(
            policy_words(&row("ttl:ttl=30s", "none", 0.5, 0.1)),
            "TTL 30s only"
        );
        let mut r = row("ttl", "none", 0.5, 0.1);
        r.ttl_s = Some(300.0);
        assert_eq!(policy_words(&r), "TTL 5m only");
    }

    #[test]
    fn the_takeaway_names_every_policy_with_its_stale_share() {
        let t = takeaway(&[
            row("lru", "invalidate", 0.594, 0.0),
            row("lru", "none", 0.62, 0.431),
        ])
        .unwrap();
        assert_eq!(
            t,
            "lru, delete on write: 59% hits, none stale; lru, no invalidation: 62% hits, 43.1% of reads stale."
        );
    }
}
