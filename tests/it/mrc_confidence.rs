//! `cachesim mrc` says when a SHARDS curve rests on too little: the
//! `sampled_keys` column, a warning on stderr for rough points, a usage
//! error (and no results file) for a sample too small to mean anything.
//! The rule and its measurements: `mrc::confidence`.

use crate::common::{cachesim, col, parse_csv, stderr, stdout};

/// The case: a 1% sample of a workload of about 4,300 keys.
const SMALL: &str = "-w zipf --keys 4356 --requests 100k";

/// `cachesim mrc` with the space-separated `args`.
fn mrc(args: &str, dir: &std::path::Path) -> std::process::Output {
    let mut v = vec!["mrc"];
    v.extend(args.split(' '));
    cachesim(&v, dir)
}

#[test]
fn a_one_percent_sample_of_a_few_thousand_keys_warns_and_is_indeed_off() {
    let d = tempfile::tempdir().unwrap();
    let o = mrc(
        &format!("{SMALL} --sample 1% -c 10,100,1000,4356 --compare -f csv --no-save"),
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "once per curve: {err}");
    let w = warnings[0];
    assert!(
        w.contains("fewer than 100: every point is rough")
            && w.contains("capacities 10..1000 (3 of 4 points)")
            && w.contains("--sample"),
        "{w}"
    );
    let (h, rows) = parse_csv(&stdout(&o));
    let keys: u64 = rows[0][col(&h, "sampled_keys")].parse().unwrap();
    assert!((10..100).contains(&keys), "{keys}");
    assert!(w.contains(&format!("holds {keys} keys")), "{w}");
    // The warning is deserved: the warned points are far off the replay.
    let e = col(&h, "abs_error");
    let worst = rows[..3]
        .iter()
        .map(|r| r[e].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    assert!(worst > 0.1, "{worst}");
}

#[test]
fn a_well_sampled_curve_does_not_warn_and_counts_its_sample() {
    let d = tempfile::tempdir().unwrap();
    let o = mrc(
        "-w uniform --keys 20k --requests 100k --sample 10% -c 1000,5000,20000 -f csv --no-save",
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    let distinct: f64 = rows[0][col(&h, "distinct_keys")].parse().unwrap();
    let keys: f64 = rows[0][col(&h, "sampled_keys")].parse().unwrap();
    // About 10% of the keys, as the multiplicative hash spreads them.
    assert!((keys / distinct - 0.1).abs() < 0.01, "{keys} of {distinct}");

    // Exact: the sample is every key.
    let o = mrc(
        "-w uniform --keys 2k --requests 20k -c 10 -f csv --no-save",
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    assert_eq!(
        rows[0][col(&h, "sampled_keys")],
        rows[0][col(&h, "distinct_keys")]
    );
}

#[test]
fn a_hopeless_sample_is_refused_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    let o = mrc(&format!("{SMALL} --sample 0.1% --out curve.csv"), d.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("invalid value for '--sample'")
            && e.contains("fewer than 10")
            && e.contains("--sample 2.")
            && e.contains("--sample-size"),
        "{e}"
    );
    assert!(!d.path().join("curve.csv").exists());
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));

    let o = mrc(&format!("{SMALL} --sample-size 4"), d.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("invalid value for '--sample-size'"),
        "{}",
        stderr(&o)
    );
    assert!(!d.path().join("results").exists());
}
