//! Conformance of `wtinylfu` with Caffeine's simulator (issue 15): on the
//! ARC traces OLTP and P12, the CloudPhysics `cloudPhysicsIO.oracleGeneral`
//! trace counted in objects, and the LIRS `multi2` and `sprite` traces, the
//! miss ratio of cachesim's default `wtinylfu` is Caffeine's
//! `sketch.WindowTinyLfu` (`reference.conf` defaults: 1% window, 80%
//! protected, `count-min-4` with `periodic` reset, no doorkeeper, jitter on)
//! within 0.002 at every capacity, and `wtinylfu:jitter=0` is Caffeine with
//! `tiny-lfu.jitter.enabled = false`.
//!
//! The jitter admits a losing warm candidate with probability 1/128, and a
//! single such admission shifts the rest of a run: between seeds Caffeine
//! itself moves by up to 0.02 on `multi2`. cachesim's jitter uses
//! `java.util.Random`'s generator seeded with 1033096057 + `--seed`, so the
//! default `--seed 1` draws the numbers of Caffeine's default `random-seed`
//! (1033096058) and the default run is Caffeine's; one check against
//! Caffeine's `random-seed = 1` (`--seed` 1 - 1033096057, wrapping) shows
//! the seed is the only link.
//!
//! The expected numbers come from Caffeine's own simulator classes
//! (`WindowTinyLfuPolicy`, `TinyLfu`, `CountMin4`, `PeriodicResetCountMin4`,
//! `Admitter`, `Frequency`, `Policy` from ben-manes/caffeine @ ccef9554,
//! compiled unmodified with javac 17 next to stand-ins for the framework
//! types, outside this repository) replaying the traces read as its
//! `ArcTraceReader`, `LirsTraceReader` and `OracleGeneralTraceReader` do
//! (unweighted: every object counts 1): `Oracle arc|lirs|oracle FILE
//! C1,C2,... [jitter=false] [seed=N]`, miss ratio = misses / requests, 6
//! decimals. Skipped (with the reason printed) when a trace is absent.

use crate::common;

/// cachesim's default seed, which draws what Caffeine's default
/// `random-seed` (1033096058) draws.
const CAFFEINE_SEED: &str = "1";

/// One trace: the file under the trace folder, and per capacity Caffeine's
/// miss ratio with jitter (the default) and without; `jitter_off` says
/// whether `wtinylfu:jitter=0` is run against the latter too.
struct Case {
    file: &'static str,
    rows: &'static [(u64, f64, f64)],
    jitter_off: bool,
}

/// Runs the CLI once over `case`'s capacities, with `wtinylfu` and (if
/// `jitter_off`) `wtinylfu:jitter=0`, at `seed`; returns the points further
/// than 0.002 from Caffeine.
fn check(case: &Case, seed: &str) -> Vec<String> {
    let Some(path) = common::trace(case.file) else {
        return vec![];
    };
    let caps: Vec<String> = case.rows.iter().map(|r| r.0.to_string()).collect();
    let strategies = if case.jitter_off {
        "wtinylfu,wtinylfu:jitter=0"
    } else {
        "wtinylfu"
    };
    let dir = tempfile::tempdir().unwrap();
    let out = common::cachesim(
        &[
            "run",
            "-s",
            strategies,
            "-t",
            path.to_str().unwrap(),
            "-c",
            &caps.join(","),
            "--seed",
            seed,
            "--no-latency",
            "-f",
            "csv",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (h, rows) = common::parse_csv(&common::stdout(&out));
    let (strategy, cap, misses, requests) = (
        common::col(&h, "strategy"),
        common::col(&h, "capacity"),
        common::col(&h, "misses"),
        common::col(&h, "requests"),
    );
    let mut bad = vec![];
    for r in &rows {
        let c: u64 = r[cap].parse().unwrap();
        let ours = r[misses].parse::<f64>().unwrap() / r[requests].parse::<f64>().unwrap();
        let &(_, on, off) = case.rows.iter().find(|x| x.0 == c).unwrap();
        let caffeine = if r[strategy].contains("jitter=0") {
            off
        } else {
            on
        };
        let d = ours - caffeine;
        let what = format!("{} c={c} {}", case.file, r[strategy]);
        eprintln!("{what}: ours {ours:.6} caffeine {caffeine:.6} ({d:+.6})");
        if d.abs() > 0.002 {
            bad.push(format!("{what}: {ours:.6} vs Caffeine {caffeine:.6}"));
        }
    }
    let runs = case.rows.len() * if case.jitter_off { 2 } else { 1 };
    assert_eq!(rows.len(), runs, "one row per strategy and capacity");
    bad
}

#[test]
fn wtinylfu_matches_caffeine_on_oltp() {
    let case = Case {
        file: "arc/OLTP.lis.zst",
        rows: &[
            (250, 0.773662, 0.773668),
            (500, 0.707966, 0.708026),
            (750, 0.667368, 0.667954),
            (1000, 0.643561, 0.643541),
            (1250, 0.619739, 0.620126),
            (1500, 0.605442, 0.605173),
            (1750, 0.591446, 0.591372),
            (2000, 0.579574, 0.579913),
            (5000, 0.476475, 0.476361),
            (10000, 0.408698, 0.409166),
            (15000, 0.376295, 0.376446),
        ],
        jitter_off: true,
    };
    let bad = check(&case, CAFFEINE_SEED);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn wtinylfu_matches_caffeine_on_p12() {
    // Four of the ARC paper's sizes, jitter on only (each run replays 13.2M
    // requests). Caffeine at the others, with / without jitter: 1024
    // 0.993330 / 0.993330, 2048 0.986001 / 0.986114, 8192 0.944404 /
    // 0.944425, 16384 0.894366 / 0.894724, 65536 0.711779 / 0.710562,
    // 524288 0.403835 / 0.406289 (cachesim matches those too).
    let case = Case {
        file: "arc/P12.lis.zst",
        rows: &[
            (4096, 0.972760, 0.972857),
            (32768, 0.821309, 0.821748),
            (131072, 0.579341, 0.579409),
            (262144, 0.472993, 0.479393),
        ],
        jitter_off: false,
    };
    let bad = check(&case, CAFFEINE_SEED);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn wtinylfu_matches_caffeine_on_cloudphysics_in_objects() {
    let case = Case {
        file: "cloudphysics/cloudPhysicsIO.oracleGeneral.bin",
        rows: &[
            (100, 0.862951, 0.862951),
            (300, 0.841067, 0.841076),
            (1000, 0.822485, 0.822485),
            (3000, 0.817910, 0.817822),
            (10000, 0.717744, 0.724480),
            (30000, 0.464855, 0.464855),
        ],
        jitter_off: true,
    };
    let bad = check(&case, CAFFEINE_SEED);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn wtinylfu_matches_caffeine_on_lirs_multi2_and_sprite() {
    let multi2 = Case {
        file: "lirs/multi2.trace.gz",
        rows: &[
            (50, 0.798715, 0.798715),
            (100, 0.718977, 0.718977),
            (200, 0.640074, 0.640074),
            (400, 0.551138, 0.551138),
            (800, 0.456843, 0.463532),
            (1600, 0.355973, 0.364828),
            (3200, 0.219870, 0.219870),
        ],
        jitter_off: true,
    };
    let sprite = Case {
        file: "lirs/sprite.trace.gz",
        rows: &[
            (50, 0.818510, 0.818980),
            (100, 0.683035, 0.684871),
            (200, 0.507261, 0.506567),
            (400, 0.317002, 0.317801),
            (800, 0.199058, 0.198543),
            (1600, 0.122631, 0.122287),
            (3200, 0.094264, 0.094271),
        ],
        jitter_off: true,
    };
    let mut bad = check(&multi2, CAFFEINE_SEED);
    bad.extend(check(&sprite, CAFFEINE_SEED));
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn wtinylfu_jitter_follows_the_seed_as_caffeines_does() {
    // Caffeine with random-seed = 1 (cachesim's --seed 1 - 1033096057, as a
    // u64: 2^64 - 1033096056); these
    // differ from the seed-1033096058 numbers by up to 0.02 (400: 0.551138),
    // the jitter's effect, so matching them shows the seed is the only link.
    // Without jitter the seed plays no part (the last column, as above).
    let case = Case {
        file: "lirs/multi2.trace.gz",
        rows: &[
            (200, 0.637224, 0.640074),
            (400, 0.530501, 0.551138),
            (800, 0.447836, 0.463532),
            (1600, 0.355593, 0.364828),
        ],
        jitter_off: true,
    };
    let bad = check(&case, &(1u64.wrapping_sub(1_033_096_057)).to_string());
    assert!(bad.is_empty(), "{bad:#?}");
}
