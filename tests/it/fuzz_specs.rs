//! Fuzz-style property tests of every spec parser (issue 16, Tests): random
//! and mutated valid values for each option, a bounded number of cases
//! (seeded, so a failure is found again). The options go through the real
//! command line (`Cli::try_parse_from`, `--option=value` so a value starting
//! with `-` stays a value), which calls each option's own parser. Properties:
//! no panic, a parse that takes well under a second (nothing expands a
//! value without bound), an error that names the option, and results of
//! bounded size.

use crate::common::Fuzz;
use cachesim::cli::{values, Cli};
use cachesim::policy::{self, StrategySpec};
use clap::Parser;
use std::time::{Duration, Instant};

/// Pieces the mutator inserts: digits, units, separators and the values
/// that broke parsers before (2^64, NaN, infinities, negative numbers).
const ALPHABET: &[&[u8]] = &[
    b"0",
    b"1",
    b"9",
    b".",
    b",",
    b"..",
    b":",
    b"%",
    b"k",
    b"M",
    b"G",
    b"T",
    b"KiB",
    b"GiB",
    b"B",
    b"ms",
    b"s",
    b"m",
    b"h",
    b"us",
    b"e",
    b"e308",
    b"-",
    b"+",
    b" ",
    b"=",
    b"top:",
    b"nan",
    b"inf",
    b"18446744073709551616",
    b"4294967296",
    b"1e30",
    b"-1",
    b"\0",
    "é".as_bytes(),
];

/// Each option of `cachesim run`/`mrc` with a value parser, one a line:
/// the command, the option, any other options it needs (`--...`), and
/// valid values to mutate.
const OPTIONS: &str = "
run --capacity 100 10k,1M 5% 64MiB 1..1M:20 0.1%..50%:12 1KiB..1GiB:8
run --l1-capacity 100 5% 1MiB
run --ttl 30s 500ms,1m,1h 2.5 1us
run --warmup 100000 10k 10% 0
run --prefill top:1000 top:10k
run --window 10000 10k 1
run --seeds 1..5 1,2,7 3..3,9 1..10000
run --requests 1000 10k 1M
run --keys 1000 10k 1M
run --alpha 0.8 0 1.2
run --rate 1000 1e3 0.5
run --write-ratio 0.1 0 1
run --threads 1 4
run --instances 1 16
run --invalidation-delay --broadcast-invalidation 5ms 0 1s
run --origin-latency 2ms uniform:1ms..5ms normal:5ms,1ms lognormal:2ms,0.8 exp:2ms pareto:1ms,1.5
run --value-size 64KiB 100 1MiB
run --pipeline 1 64
run --clients 1 8
run --trace-format text csv arc lirs oracle-general u32be i64be
run --on-write invalidate update
run --capacity-scale log linear
mrc --capacity all 1..1M:100 100,200 5%
mrc --sample 1% 0.01 0.5
mrc --sample-size 8k 1000
";

/// Cases per option: random mutations of its valid values.
const CASES: usize = 150;

/// Parses `args` as a command line, failing the test with the input on a
/// panic or a slow parse.
fn parse(args: &[&str]) -> Result<Cli, String> {
    let start = Instant::now();
    let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let r = std::panic::catch_unwind(|| Cli::try_parse_from(&owned))
        .unwrap_or_else(|_| panic!("parser panicked on {args:?}"));
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "parsing {args:?} took {:?}",
        start.elapsed()
    );
    r.map_err(|e| e.to_string())
}

#[test]
fn option_values_never_panic_and_errors_name_the_option() {
    let mut fuzz = Fuzz::new(16);
    for line in OPTIONS.lines().filter(|l| !l.is_empty()) {
        let words: Vec<&str> = line.split(' ').collect();
        let (cmd, opt) = (words[0], words[1]);
        let (needs, valid): (Vec<&str>, Vec<&str>) =
            words[2..].iter().partition(|w| w.starts_with("--"));
        let line = |arg: &str| {
            let mut args = vec!["cachesim", cmd];
            args.extend(&needs);
            parse(&[&args[..], &[arg]].concat())
        };
        for &v in &valid {
            let arg = format!("{opt}={v}");
            let r = line(&arg);
            assert!(r.is_ok(), "valid {arg} refused: {:?}", r.err());
        }
        for _ in 0..CASES {
            let base = fuzz.pick(&valid);
            let value =
                String::from_utf8_lossy(&fuzz.mutate(base.as_bytes(), ALPHABET)).into_owned();
            let arg = format!("{opt}={value}");
            if let Err(e) = line(&arg) {
                assert!(e.contains(opt), "{arg}: the error does not name {opt}: {e}");
            }
        }
    }
}

#[test]
fn parsed_values_are_bounded() {
    let mut fuzz = Fuzz::new(17);
    let seeds: &[&str] = &["1..5", "1..10000", "0..18446744073709551615", "5,1..3"];
    for _ in 0..500 {
        let base = fuzz.pick(seeds);
        let s = String::from_utf8_lossy(&fuzz.mutate(base.as_bytes(), ALPHABET)).into_owned();
        if let Ok(v) = values::parse_seeds(&s) {
            assert!(v.len() <= 10_000, "--seeds {s}: {} seeds", v.len());
        }
        let t = format!("{s}s,{s}ms");
        if let Ok(v) = values::ttls(&t) {
            assert!(
                v.0.len() <= 2 * s.len() + 2,
                "--ttl {t}: {} values",
                v.0.len()
            );
            assert!(
                v.0.iter().all(|d| d.is_finite() && *d > 0.0),
                "--ttl {t}: {:?}",
                v.0
            );
        }
        if let Ok(n) = values::value_size(&s) {
            assert!(n <= 512 << 20, "--value-size {s}: {n}");
        }
    }
}

#[test]
fn strategy_specs_never_panic_and_errors_name_the_strategy() {
    let valid: &[&str] = &[
        "lru",
        "s3fifo:small=0.1",
        "ttl:ttl=30s",
        "wtinylfu:window=0.01",
        "sampled-lru:samples=5",
        "memcached-sim:prefix=26",
        "lirs:hir=0.01",
        "clock:bits=2",
        "lru,fifo,arc",
    ];
    let alphabet: &[&[u8]] = &[
        b":",
        b"=",
        b",",
        b"+",
        b"lru",
        b"small",
        b"ttl",
        b"0.5",
        b"-1",
        b"1e309",
        b"nan",
        b"18446744073709551616",
        b"",
        b" ",
        b"\0",
    ];
    let mut fuzz = Fuzz::new(18);
    for _ in 0..2000 {
        let base = fuzz.pick(valid);
        let s = String::from_utf8_lossy(&fuzz.mutate(base.as_bytes(), alphabet)).into_owned();
        let r = std::panic::catch_unwind(|| {
            StrategySpec::parse_list(&s).and_then(|specs| {
                specs
                    .iter()
                    .map(policy::validate)
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .unwrap_or_else(|_| panic!("strategy spec {s:?} panicked"));
        if let Err(e) = r {
            let e = e.to_string();
            assert!(
                e.contains("strategy") && e.len() < 4000,
                "{s:?}: an error that does not say it is about a strategy: {e}"
            );
        }
    }
}
