//! `timeline`: warming after a cold start (talk figure 6), from the
//! `<results>-timeline.csv` files `cachesim run --window N` writes: the hit
//! ratio of each window against the request number, one thick line per
//! series, and the cumulative hit ratio as a thinner, lighter line in the
//! same colour.
//!
//! A series is one (file, strategy, capacity, TTL, defences): the colour says the
//! strategy, the marker (a few per line) the variant, so the same strategy
//! from two files (`--prefill top:K` and without) stays apart. The legend
//! names the file's stem (without `-timeline`) when several files are
//! drawn, and the capacity when several capacities are. Only timeline
//! inputs feed this kind; results CSVs given alongside feed the others.

use super::theme::{self, Theme};
use super::{
    draw_err, format_capacity, legend_right, lighter, percent, Area, ChartKind, Dataset,
    LegendEntry, PlotError, PlotOptions,
};
use crate::sim::phases::TimelineRow;
use plotters::prelude::*;

pub(crate) struct Timeline;

/// What tells one series from another: file, strategy, capacity, TTL,
/// prefill, write policy and the event mode's defences (a stampede
/// scenario run once per defence into one file).
type SeriesKey = (String, String, u64, Option<u64>, String, String, String);

fn key(source: &str, t: &TimelineRow) -> SeriesKey {
    (
        source.to_string(),
        t.strategy.clone(),
        t.capacity,
        t.ttl_s.map(f64::to_bits),
        t.prefill.clone(),
        t.on_write.clone(),
        t.defences.clone(),
    )
}

/// Whether a series started from a prefilled cache (drawn dashed).
fn prefilled(k: &SeriesKey) -> bool {
    !k.4.is_empty()
}

/// The first workload's series, in first-seen order, with their points.
fn series(data: &Dataset) -> Vec<(SeriesKey, Vec<&TimelineRow>)> {
    let Some(workload) = data.timeline.first().map(|(_, t)| t.workload.as_str()) else {
        return Vec::new();
    };
    let mut out = super::group_first_seen(
        data.timeline
            .iter()
            .filter(|(_, t)| t.workload == workload)
            .map(|(src, t)| (key(src, t), t)),
    );
    for (_, pts) in &mut out {
        pts.sort_by_key(|t| t.request);
    }
    out
}

/// Legend labels: the strategy, plus the file and the capacity (and TTL)
/// when they differ between series.
fn labels(keys: &[&SeriesKey]) -> Vec<String> {
    let differ = |f: &dyn Fn(&SeriesKey) -> String| keys.iter().any(|k| f(k) != f(keys[0]));
    let by_source = differ(&|k| k.0.clone());
    let by_cap = differ(&|k| k.2.to_string());
    let by_ttl = differ(&|k| format!("{:?}", k.3));
    let by_prefill = differ(&|k| k.4.clone());
    let by_on_write = differ(&|k| k.5.clone());
    let by_defences = differ(&|k| k.6.clone());
    // Files that differ only in their prefill (or, from the event mode,
    // their defences) are told apart by it.
    let by_source = by_source
        && !((by_prefill || by_defences) && {
            let mut seen: Vec<SeriesKey> = Vec::new();
            keys.iter().all(|k| {
                let mut id = (*k).clone();
                id.0.clear();
                let new = !seen.contains(&id);
                seen.push(id);
                new
            })
        });
    let specs: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let names = super::labels::display_labels(&specs);
    keys.iter()
        .zip(names)
        .map(|(k, name)| {
            let mut l = name;
            if by_prefill {
                l += &match k.4.strip_prefix("top:") {
                    Some(n) => format!(
                        " \u{b7} prefilled {}",
                        format_capacity(n.parse::<f64>().unwrap_or(0.0), "objects")
                    ),
                    None if k.4.is_empty() => " \u{b7} cold".to_string(),
                    None => format!(" \u{b7} {}", k.4),
                };
            }
            if by_on_write {
                l += &format!(" \u{b7} on-write {}", k.5);
            }
            if by_defences {
                l += &format!(" \u{b7} {}", super::stampede::defences_label(&k.6));
            }
            // A capacity of 0 is a cache sized by its own settings (a
            // server's memory, a disk without limit): no number to show.
            if by_cap && k.2 > 0 {
                l += &format!(" \u{b7} {}", format_capacity(k.2 as f64, "objects"));
            }
            if by_ttl {
                if let Some(t) = k.3 {
                    l += &format!(" \u{b7} ttl {}", super::format_duration(f64::from_bits(t)));
                }
            }
            if by_source {
                l += &format!(" \u{b7} {}", k.0);
            }
            l
        })
        .collect()
}

impl ChartKind for Timeline {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn summary(&self) -> &'static str {
        "hit ratio per window against requests (prefilled series dashed; the cumulative ratio thin when two series or fewer; deploys of --restart-every dotted), from <results>-timeline.csv inputs"
    }

    fn check(&self, data: &Dataset, _opts: &PlotOptions) -> Result<(), PlotError> {
        if series(data).iter().all(|(_, p)| p.len() < 2) {
            return Err(PlotError::MissingColumns {
                kind: "timeline",
                reason: "no timeline input with two windows or more (give the <results>-timeline.csv that `cachesim run --window N` writes)"
                    .to_string(),
            });
        }
        Ok(())
    }

    fn title(&self, data: &Dataset, opts: &PlotOptions) -> Result<String, PlotError> {
        if let Some(t) = &opts.title {
            return Ok(t.clone());
        }
        let s = series(data);
        let Some((k, pts)) = s.first() else {
            return Ok("Hit ratio over time".to_string());
        };
        let window = match pts.as_slice() {
            [a, b, ..] => b.request - a.request,
            [a] => a.request,
            [] => 0,
        };
        let warming = s.iter().any(|(k, _)| prefilled(k));
        let deploys = s.iter().flat_map(|(_, p)| p.iter()).any(|t| t.restarts > 0);
        let mut t = format!(
            "{} per {} requests \u{2014} {}",
            if warming {
                "Warming: hit ratio"
            } else if deploys {
                "Across deploys: hit ratio"
            } else {
                "Hit ratio"
            },
            format_capacity(window as f64, "objects"),
            pts[0].workload
        );
        if s.iter().all(|(o, _)| o.2 == k.2) {
            t += &format!(", {} objects", format_capacity(k.2 as f64, "objects"));
        }
        Ok(t)
    }

    fn takeaway(&self, data: &Dataset, _opts: &PlotOptions) -> Option<String> {
        let series = series(data);
        let keys: Vec<&SeriesKey> = series.iter().map(|(k, _)| k).collect();
        let named: Vec<(String, Vec<&TimelineRow>)> = labels(&keys)
            .into_iter()
            .zip(series.iter().map(|(_, p)| p.clone()))
            .collect();
        super::takeaway::timeline(&named)
    }

    fn draw(
        &self,
        data: &Dataset,
        opts: &PlotOptions,
        root: &Area,
        theme: &Theme,
    ) -> Result<(), PlotError> {
        let title = self.title(data, opts)?;
        let series = series(data);
        let area = super::draw_title(root, &title, theme)?;
        let keys: Vec<&SeriesKey> = series.iter().map(|(k, _)| k).collect();
        let labels = labels(&keys);
        // Variant per strategy: the n-th series of a strategy gets its n-th marker.
        let mut variant = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            variant.push(keys[..i].iter().filter(|o| o.1 == k.1).count());
        }
        let legend: Vec<LegendEntry> = keys
            .iter()
            .zip(&labels)
            .zip(&variant)
            .map(|((k, l), v)| LegendEntry {
                label: l.clone(),
                color: theme::strategy_color(&k.1),
                marker: Some(theme::marker_for(&k.1, *v)),
                dashed: prefilled(k),
            })
            .collect();
        let chart_area = legend_right(&area, &legend, theme)?;

        let all = || series.iter().flat_map(|(_, p)| p.iter());
        let xmax = all().map(|t| t.request).max().unwrap_or(1) as f64;
        let ymax = all()
            .flat_map(|t| [t.window_hit_ratio, t.cumulative_hit_ratio])
            .flatten()
            .fold(0.0f64, f64::max);
        let ytop = super::ratio_axis_top(ymax, 0.02);
        // The cumulative ratio as a thin line only when it does not crowd
        // the chart (two series at most).
        let cumulative_too = series.len() <= 2;
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(theme.px(16.0))
            .margin_right(theme.px(50.0))
            .x_label_area_size(theme.px(110.0))
            .y_label_area_size(theme.px(150.0))
            .build_cartesian_2d(0f64..xmax, 0f64..ytop)
            .map_err(draw_err)?;
        let mut mesh = chart.configure_mesh();
        mesh.x_desc("Requests")
            .y_desc(if cumulative_too {
                "Hit ratio (thin: cumulative)"
            } else {
                "Hit ratio"
            })
            .x_label_formatter(&|v| format_capacity(*v, "objects"))
            .y_label_formatter(&|v| percent(*v, 0))
            .x_labels(8)
            .y_labels(6);
        super::theme_mesh(&mut mesh, theme);
        mesh.draw().map_err(draw_err)?;

        // Deploys (`--restart-every`): a dotted line where a window of any
        // series saw a restart (at the window's start), labelled once.
        let mut deploys: Vec<u64> = Vec::new();
        for (_, pts) in &series {
            let mut prev = 0;
            for t in pts {
                if t.restarts > 0 && !deploys.contains(&prev) {
                    deploys.push(prev);
                }
                prev = t.request;
            }
        }
        deploys.sort_unstable();
        for (i, &x) in deploys.iter().enumerate() {
            super::draw_event_line(
                &mut chart,
                root,
                x as f64,
                ytop,
                (i == 0).then_some("deploy"),
                theme,
            )?;
        }

        let n_series = series.len();
        for (idx, ((k, pts), v)) in series.iter().zip(&variant).enumerate() {
            let color = theme::strategy_color(&k.1);
            let window: Vec<(f64, f64)> = pts
                .iter()
                .filter_map(|t| t.window_hit_ratio.map(|y| (t.request as f64, y)))
                .collect();
            let cumulative: Vec<(f64, f64)> = pts
                .iter()
                .filter_map(|t| t.cumulative_hit_ratio.map(|y| (t.request as f64, y)))
                .collect();
            if cumulative_too {
                chart
                    .draw_series(LineSeries::new(
                        cumulative,
                        lighter(color, 0.35).stroke_width(theme.px(2.5)),
                    ))
                    .map_err(draw_err)?;
            }
            if prefilled(k) {
                chart
                    .draw_series(DashedLineSeries::new(
                        window.clone(),
                        theme.px(22.0),
                        theme.px(14.0),
                        color.stroke_width(theme.line_width()),
                    ))
                    .map_err(draw_err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(
                        window.clone(),
                        color.stroke_width(theme.line_width()),
                    ))
                    .map_err(draw_err)?;
            }
            super::draw_line_markers(
                &chart,
                root,
                &window,
                (theme::marker_for(&k.1, *v), color),
                (idx, n_series),
                theme,
            )?;
        }
        Ok(())
    }
}
