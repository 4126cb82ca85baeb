//! The `cachesim run` commands that reproduce rows read back from CSV: the
//! report prints them under each figure and at the end. Everything a row
//! records about how it was run becomes an option again: the workload (or
//! trace), strategies, capacities, the `--ttl` and `--on-write` axes, the
//! origin, the fleet, warm-up, prefill, restarts, the event mode (arrivals
//! or clients, the origin's concurrency, the defences) and seed; a
//! timeline's window comes from its rows' spacing.

use crate::sim::phases::TimelineRow;
use crate::sim::RunResult;

/// Quotes a shell word when it holds anything beyond plain characters.
pub(crate) fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.,:=%/+-@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `--workload`/`--trace` options that produce a `workload` label:
/// `zipf:alpha=0.8:keys=10k` -> `--workload zipf --alpha 0.8 --keys 10k`; a
/// label that is no preset is a trace file name.
pub(crate) fn workload_options(label: &str) -> Vec<String> {
    let mut parts = label.split(':');
    let name = parts.next().unwrap_or_default();
    let is_preset =
        crate::workload::PRESETS.iter().any(|(n, _)| *n == name) || name.ends_with(".toml");
    if !is_preset {
        return vec!["--trace".into(), shell_word(label)];
    }
    let mut o = vec!["--workload".to_string(), shell_word(name)];
    for p in parts {
        match p.split_once('=') {
            Some((k, v)) if ["requests", "keys", "alpha", "rate", "write_ratio"].contains(&k) => {
                o.push(format!("--{}", k.replace('_', "-")));
                o.push(shell_word(v));
            }
            _ => o.push(format!("# unknown workload parameter '{p}'")),
        }
    }
    o
}

/// The options a row shares with every run of its command (besides the
/// workload and seed): trace reader, origin, fleet, warm-up, prefill,
/// restarts.
fn fixed_options(r: &RunResult) -> Vec<String> {
    let mut o = Vec::new();
    if !r.trace_format.is_empty() {
        o.push("--trace-format".into());
        o.push(shell_word(&r.trace_format));
    }
    if r.origin.is_empty() {
        if r.lat_p50_us.is_none() {
            o.push("--no-latency".into());
        }
    } else if r.origin.contains("://") {
        o.push("--origin".into());
        o.push(shell_word(&r.origin));
    } else if r.origin != "2ms" {
        o.push("--origin-latency".into());
        o.push(shell_word(&r.origin));
    }
    if r.instances > 1 {
        o.push("--instances".into());
        o.push(r.instances.to_string());
        if !r.balance.is_empty() && r.balance != "random" {
            o.push("--balance".into());
            o.push(shell_word(&r.balance));
        }
    }
    if r.warmup > 0 {
        o.push("--warmup".into());
        o.push(r.warmup.to_string());
    }
    if !r.prefill.is_empty() {
        o.push("--prefill".into());
        o.push(shell_word(&r.prefill));
    }
    if !r.restart_every.is_empty() {
        o.push("--restart-every".into());
        o.push(shell_word(&r.restart_every));
        if r.rolling {
            o.push("--rolling".into());
        }
    }
    o.extend(event_options(r));
    o
}

/// The event mode's options (`--clients`, `--arrivals`, the origin's
/// concurrency and the defences), and `--rate`, which paces its arrivals.
fn event_options(r: &RunResult) -> Vec<String> {
    let mut o = Vec::new();
    if r.arrivals.is_empty() {
        return o;
    }
    let mut opt = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            o.push(name.to_string());
            if !v.is_empty() {
                o.push(shell_word(&v));
            }
        }
    };
    match (r.arrivals.as_str(), r.clients) {
        ("closed", Some(n)) => {
            opt("--clients", Some(n.to_string()));
            // The default think time is spelled out only when given.
            let default = format!("exp:{}", crate::units::format_duration(n as f64 / r.rate));
            if r.think_time != default && !r.think_time.is_empty() {
                opt("--think-time", Some(r.think_time.clone()));
            }
        }
        (a, _) => opt("--arrivals", Some(a.to_string())),
    }
    if r.rate > 0.0 && r.rate != 1000.0 && !r.workload.contains("rate=") {
        opt("--rate", Some(r.rate.to_string()));
    }
    let d = crate::units::format_duration;
    opt(
        "--origin-concurrency",
        r.origin_concurrency.map(|c| c.to_string()),
    );
    opt("--coalesce", r.coalesce.then(String::new));
    opt(
        "--stale-while-revalidate",
        r.stale_while_revalidate_s.map(d),
    );
    opt("--xfetch", r.xfetch_beta.map(|b| b.to_string()));
    opt("--ttl-jitter", r.ttl_jitter.map(|f| f.to_string()));
    o
}

/// The capacity as it was asked for; `None` for a `disk` cache, which
/// `--capacity` does not size (`disk`, `limit=1GiB`). The L1 of
/// `tiered:LOCAL+disk` (`l1=10%+disk`) is `--capacity`'s.
fn capacity(r: &RunResult) -> Option<String> {
    let spec = r.capacity_spec.as_str();
    if spec.is_empty() {
        return Some(if r.capacity_unit == "bytes" {
            format!("{}B", r.capacity)
        } else {
            r.capacity.to_string()
        });
    }
    let disk = |l2: &str| l2 == "disk" || l2.starts_with("limit=");
    if r.strategy == "disk" || r.strategy.starts_with("disk:") {
        return None;
    }
    match spec.strip_prefix("l1=").and_then(|s| s.split_once('+')) {
        Some((l1, l2)) if disk(l2) => Some(l1.to_string()),
        _ => Some(spec.to_string()),
    }
}

/// `spec` without a `ttl=` parameter equal to the `--ttl` axis value `t`
/// (seconds): the sweep wrote it there. A spec with another TTL stays.
fn strip_ttl(spec: &str, t: f64) -> &str {
    if let Some(i) = spec.find(":ttl=") {
        let rest = &spec[i + 5..];
        let v = rest.split(':').next().unwrap_or(rest);
        let same = crate::units::parse_duration(v).is_ok_and(|d| (d - t).abs() < 1e-9);
        if same && !rest.contains(':') {
            return &spec[..i];
        }
    }
    spec
}

/// One strategy's axes within a command: capacities, TTLs, write policies.
#[derive(PartialEq, Clone)]
struct Axes {
    capacities: Vec<String>,
    ttls: Vec<String>,
    on_writes: Vec<String>,
}

fn push_new(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// `cachesim run` commands that reproduce `rows`: one per workload, seed
/// and set of fixed options, and per set of strategies run along the same
/// axes. `extra` is appended to each (e.g. `--window 1k` for a timeline).
pub(crate) fn commands(rows: &[RunResult], extra: &[String]) -> Vec<String> {
    // (workload, seed, fixed options) -> strategy -> axes, first-seen order.
    type Group<'a> = ((&'a str, u64, Vec<String>), Vec<(&'a str, Axes)>);
    let mut groups: Vec<Group> = Vec::new();
    for r in rows {
        let key = (r.workload.as_str(), r.seed, fixed_options(r));
        let gi = match groups.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                groups.push((key, Vec::new()));
                groups.len() - 1
            }
        };
        let per = &mut groups[gi].1;
        // A `--ttl` axis names its TTL in the spec (`ttl:ttl=5s`): the
        // command gives the bare spec and the axis.
        let spec: &str = match r.ttl_s {
            Some(t) => strip_ttl(&r.strategy, t),
            None => &r.strategy,
        };
        let si = match per.iter().position(|(s, _)| *s == spec) {
            Some(i) => i,
            None => {
                per.push((
                    spec,
                    Axes {
                        capacities: Vec::new(),
                        ttls: Vec::new(),
                        on_writes: Vec::new(),
                    },
                ));
                per.len() - 1
            }
        };
        let axes = &mut per[si].1;
        if let Some(c) = capacity(r) {
            push_new(&mut axes.capacities, c);
        }
        if let Some(t) = r.ttl_s {
            push_new(&mut axes.ttls, crate::units::format_duration(t));
        }
        if !r.on_write.is_empty() {
            push_new(&mut axes.on_writes, r.on_write.clone());
        }
    }
    let mut out = Vec::new();
    for ((workload, seed, fixed), per) in &groups {
        // Strategies run along the same axes go in one command.
        let mut done = vec![false; per.len()];
        for i in 0..per.len() {
            if done[i] {
                continue;
            }
            let axes = per[i].1.clone();
            let mut strategies: Vec<&str> = Vec::new();
            for j in i..per.len() {
                if !done[j] && per[j].1 == axes {
                    done[j] = true;
                    strategies.push(per[j].0);
                }
            }
            let mut cmd = vec![
                "cachesim".to_string(),
                "run".into(),
                "--strategy".into(),
                shell_word(&strategies.join(",")),
            ];
            cmd.extend(workload_options(workload));
            if !axes.capacities.is_empty() {
                cmd.push("--capacity".into());
                cmd.push(shell_word(&axes.capacities.join(",")));
            }
            if !axes.ttls.is_empty() {
                cmd.push("--ttl".into());
                cmd.push(axes.ttls.join(","));
            }
            if !(axes.on_writes.is_empty() || axes.on_writes == ["invalidate"]) {
                cmd.push("--on-write".into());
                cmd.push(axes.on_writes.join(","));
            }
            cmd.extend(fixed.iter().cloned());
            cmd.extend(extra.iter().cloned());
            cmd.push("--seed".into());
            cmd.push(seed.to_string());
            out.push(cmd.join(" "));
        }
    }
    out
}

/// The commands that reproduce timeline rows: each series' run, with
/// `--window` from the spacing of its rows.
pub(crate) fn timeline_commands(rows: &[(String, TimelineRow)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut sources: Vec<&str> = Vec::new();
    for (s, _) in rows {
        if !sources.contains(&s.as_str()) {
            sources.push(s);
        }
    }
    for src in sources {
        let these: Vec<&TimelineRow> = rows
            .iter()
            .filter(|(s, _)| s == src)
            .map(|(_, t)| t)
            .collect();
        let window = match these.as_slice() {
            [a, b, ..] if b.request > a.request && a.workload == b.workload => {
                b.request - a.request
            }
            [a, ..] => a.request,
            [] => continue,
        };
        // Timeline rows carry the run's identity; one pseudo-row per run.
        let mut runs: Vec<RunResult> = Vec::new();
        for t in these {
            if runs.iter().any(|r| {
                r.workload == t.workload
                    && r.strategy == t.strategy
                    && r.capacity == t.capacity
                    && r.ttl_s == t.ttl_s
                    && r.defences == t.defences
            }) {
                continue;
            }
            runs.push(RunResult {
                workload: t.workload.clone(),
                strategy: t.strategy.clone(),
                capacity: t.capacity,
                seed: t.seed,
                ttl_s: t.ttl_s,
                prefill: t.prefill.clone(),
                // An older timeline does not say how latency was run; the
                // hit ratios do not depend on it.
                origin: if t.origin.is_empty() {
                    "2ms".into()
                } else {
                    t.origin.clone()
                },
                arrivals: t.arrivals.clone(),
                clients: t.clients,
                think_time: t.think_time.clone(),
                rate: t.rate,
                origin_concurrency: t.origin_concurrency,
                coalesce: t.coalesce,
                stale_while_revalidate_s: t.stale_while_revalidate_s,
                xfetch_beta: t.xfetch_beta,
                ttl_jitter: t.ttl_jitter,
                defences: t.defences.clone(),
                instances: t.instances,
                balance: t.balance.clone(),
                restart_every: t.restart_every.clone(),
                rolling: t.rolling,
                ..RunResult::default()
            });
        }
        for c in commands(&runs, &["--window".to_string(), window.to_string()]) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_labels_become_options() {
        assert_eq!(
            workload_options("zipf:alpha=0.8:keys=10k").join(" "),
            "--workload zipf --alpha 0.8 --keys 10k"
        );
        assert_eq!(
            workload_options("ycsb-b:requests=5k:write_ratio=0.05").join(" "),
            "--workload ycsb-b --requests 5k --write-ratio 0.05"
        );
        assert_eq!(
            workload_options("OLTP.lis.zst").join(" "),
            "--trace OLTP.lis.zst"
        );
        assert_eq!(
            workload_options("my trace.txt").join(" "),
            "--trace 'my trace.txt'"
        );
        // A preset file is labelled by its file name (issue 16, item 17).
        assert_eq!(
            workload_options("my.toml:requests=1k").join(" "),
            "--workload my.toml --requests 1k"
        );
    }

    fn row(s: &str, cap: &str) -> RunResult {
        RunResult {
            workload: "zipf:keys=1k".into(),
            strategy: s.into(),
            capacity_spec: cap.into(),
            seed: 1,
            origin: "2ms".into(),
            lat_p50_us: Some(1.0),
            on_write: "invalidate".into(),
            instances: 1,
            ..RunResult::default()
        }
    }

    #[test]
    fn every_recorded_option_comes_back() {
        let mut rows = vec![
            row("lru", "1%"),
            row("lru", "5%"),
            row("lfu", "1%"),
            row("lfu", "5%"),
        ];
        assert_eq!(
            commands(&rows, &[]),
            ["cachesim run --strategy lru,lfu --workload zipf --keys 1k --capacity 1%,5% --seed 1"]
        );
        // Write policies and TTLs are axes; origin, fleet, warm-up and
        // prefill are fixed options.
        rows = Vec::new();
        for (ow, ttl) in [
            ("invalidate", 5.0),
            ("none", 5.0),
            ("invalidate", 30.0),
            ("none", 30.0),
        ] {
            let mut r = row("ttl", "10%");
            r.on_write = ow.into();
            r.ttl_s = Some(ttl);
            r.origin = String::new();
            r.lat_p50_us = None;
            r.warmup = 100;
            r.prefill = "top:50".into();
            rows.push(r);
        }
        assert_eq!(
            commands(&rows, &[]),
            ["cachesim run --strategy ttl --workload zipf --keys 1k --capacity 10% --ttl 5s,30s --on-write invalidate,none --no-latency --warmup 100 --prefill top:50 --seed 1"]
        );
        // The --ttl axis writes its TTL into the spec; the command gives the
        // bare spec and the axis.
        let mut rows = Vec::new();
        for (s, t) in [
            ("ttl:ttl=1s", 1.0),
            ("ttl:ttl=5m", 300.0),
            ("lru", 1.0),
            ("lru", 300.0),
        ] {
            let mut r = row(s, "10%");
            r.ttl_s = Some(t);
            rows.push(r);
        }
        assert_eq!(
            commands(&rows, &[]),
            ["cachesim run --strategy ttl,lru --workload zipf --keys 1k --capacity 10% --ttl 1s,5m --seed 1"]
        );
        let mut r = row("lru", "1%");
        r.instances = 4;
        r.balance = "key-hash".into();
        r.origin = "lognormal:2ms,0.8".into();
        assert_eq!(
            commands(&[r], &["--window".into(), "1000".into()]),
            ["cachesim run --strategy lru --workload zipf --keys 1k --capacity 1% --origin-latency lognormal:2ms,0.8 --instances 4 --balance key-hash --window 1000 --seed 1"]
        );
    }

    #[test]
    fn disk_rows_give_no_capacity_and_a_disk_l1_gives_its_own() {
        let mut rows = vec![row("lru", "1%"), row("lru", "10%")];
        let mut d = row("disk:limit=64KiB:every=1000", "limit=64KiB");
        rows.push(d.clone());
        d.strategy = "disk".into();
        d.capacity_spec = "disk".into();
        rows.push(d);
        rows.push(row("tiered:lru+disk", "l1=1%+disk"));
        rows.push(row("tiered:lru+disk", "l1=10%+disk"));
        assert_eq!(
            commands(&rows, &[]),
            [
                "cachesim run --strategy lru,tiered:lru+disk --workload zipf --keys 1k --capacity 1%,10% --seed 1",
                "cachesim run --strategy disk:limit=64KiB:every=1000,disk --workload zipf --keys 1k --seed 1",
            ]
        );
    }

    #[test]
    fn restarts_come_back_with_rolling_and_the_fleet_of_a_timeline() {
        let mut r = row("lru", "1%");
        r.restart_every = "1h".into();
        assert_eq!(
            commands(&[r.clone()], &[]),
            ["cachesim run --strategy lru --workload zipf --keys 1k --capacity 1% --restart-every 1h --seed 1"]
        );
        r.restart_every = "100000".into();
        r.rolling = true;
        r.instances = 4;
        // Runs with other restarts are other commands.
        let plain = row("lru", "1%");
        assert_eq!(
            commands(&[r.clone(), plain], &[]),
            [
                "cachesim run --strategy lru --workload zipf --keys 1k --capacity 1% --instances 4 --restart-every 100000 --rolling --seed 1",
                "cachesim run --strategy lru --workload zipf --keys 1k --capacity 1% --seed 1",
            ]
        );
        // A timeline row names the fleet and the restarts too: --rolling
        // needs --instances.
        let t = |request: u64| TimelineRow {
            workload: "zipf:keys=1k".into(),
            strategy: "lru".into(),
            capacity: 10,
            seed: 1,
            request,
            time_s: 0.0,
            window_hit_ratio: None,
            cumulative_hit_ratio: None,
            ttl_s: None,
            window_gets: 0,
            window_hits: 0,
            window_stale_hits: 0,
            prefill: String::new(),
            on_write: "invalidate".into(),
            restarts: 0,
            restart_every: "30s".into(),
            rolling: true,
            instances: 3,
            balance: "round-robin".into(),

            ..Default::default()
        };
        let rows = vec![("a".to_string(), t(500)), ("a".to_string(), t(1000))];
        assert_eq!(
            timeline_commands(&rows),
            ["cachesim run --strategy lru --workload zipf --keys 1k --capacity 10 --instances 3 --balance round-robin --restart-every 30s --rolling --window 500 --seed 1"]
        );
    }

    #[test]
    fn event_mode_timelines_come_back_with_their_arrivals_origin_and_defences() {
        let t = |defences: &str, request: u64| TimelineRow {
            workload: "zipf:keys=1k:rate=100".into(),
            strategy: "lru".into(),
            capacity: 10,
            seed: 1,
            request,
            ttl_s: Some(10.0),
            prefill: "top:10".into(),
            on_write: "invalidate".into(),
            instances: 1,
            window_origin_requests: Some(3),
            defences: defences.into(),
            arrivals: "poisson".into(),
            origin_concurrency: Some(8),
            origin: "exp:50ms".into(),
            coalesce: defences.contains("coalesce"),
            stale_while_revalidate_s: defences.contains("swr").then_some(5.0),
            ..Default::default()
        };
        // One file holding two runs (a run per defence): a command each.
        let rows: Vec<(String, TimelineRow)> = [
            t("none", 100),
            t("none", 200),
            t("coalesce+swr:5s", 100),
            t("coalesce+swr:5s", 200),
        ]
        .into_iter()
        .map(|r| ("st".to_string(), r))
        .collect();
        let base = "cachesim run --strategy lru --workload zipf --keys 1k --rate 100 --capacity 10 --ttl 10s --origin-latency exp:50ms --prefill top:10 --arrivals poisson --origin-concurrency 8";
        assert_eq!(
            timeline_commands(&rows),
            [
                format!("{base} --window 100 --seed 1"),
                format!("{base} --coalesce --stale-while-revalidate 5s --window 100 --seed 1"),
            ]
        );
        // The closed loop gives its clients and think time, not arrivals.
        let r = RunResult {
            arrivals: "closed".into(),
            clients: Some(16),
            think_time: "exp:10ms".into(),
            xfetch_beta: Some(1.0),
            ttl_jitter: Some(0.2),
            ..row("lru", "1%")
        };
        assert_eq!(
            event_options(&r).join(" "),
            "--clients 16 --think-time exp:10ms --xfetch 1 --ttl-jitter 0.2"
        );
        // Outside the event mode: nothing.
        assert!(event_options(&row("lru", "1%")).is_empty());
    }
}
