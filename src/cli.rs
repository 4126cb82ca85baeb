//! Command-line definitions only (clap derive). Doc comments are the help
//! text; the commands themselves live in `cmd/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Which caching strategy should I use for this workload, and what does it buy me?
///
/// cachesim replays synthetic or real-trace key streams against cache
/// strategies and reports hit ratios, as a table, CSV or JSON.
#[derive(Debug, Parser)]
#[command(name = "cachesim", version, about, long_about = None, propagate_version = true, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size difference between variants is irrelevant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a workload against strategies and capacities; print and save results.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// List the strategies and workload presets.
    List(ListArgs),
}

const RUN_EXAMPLES: &str = "\
Examples:
  cachesim run --strategy lru --workload zipf
  cachesim run --strategy none,lru,lfu,fifo,ttl,random --workload zipf --capacity 1%,5%,10% --ttl 30s
  cachesim run --strategy lru --trace my-keys.txt --capacity 100,1000 --format json
  cachesim run -s lru,lfu -w zipf --alpha 0.8 --keys 1M --requests 10M -c 10k --out results/skew.csv
  cachesim run -s none,lru -c 1% --origin-latency lognormal:2ms,0.8 --histograms results/hgrm
  cachesim run -s none,lru -c 1% --origin postgres://root@127.0.0.1:5432/test --requests 20k
  cachesim run -s lru,redis-lru,redis-lfu -c 1% --requests 200k
  cachesim run -s redis,tiered:lru+redis --l1-capacity 1000 --redis-url redis://127.0.0.1:6379/0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned table for people.
    Table,
    /// CSV, one row per run (the same columns as the saved file).
    Csv,
    /// A JSON array, one object per run.
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Strategies, comma separated or repeated: none, lru, fifo, lfu, ttl,
    /// random (see `cachesim list`). Parameters follow a colon:
    /// `ttl:ttl=30s`.
    #[arg(short, long, value_name = "SPEC[,SPEC...]", default_value = "lru")]
    pub strategy: Vec<String>,

    /// Synthetic workload preset (zipf, uniform, hotspot, scan) or a path to
    /// a preset .toml file. Ignored when --trace is given.
    #[arg(short, long, value_name = "NAME|FILE.toml", default_value = "zipf")]
    pub workload: String,

    /// Replay a trace file instead of a synthetic workload (gzip, zstd and xz
    /// are read transparently).
    #[arg(short, long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Trace reader to use instead of detecting it: text, csv.
    #[arg(long, value_name = "FORMAT")]
    pub trace_format: Option<String>,

    /// Cache capacities, comma separated: objects (1000, 10k, 1M), a share of
    /// the distinct keys requested (5%), or bytes (64MiB, 1GB).
    #[arg(short, long, value_name = "CAP[,CAP...]", default_value = "10%")]
    pub capacity: String,

    /// Time-to-live for the `ttl` strategy: 500ms, 30s, 5m, 1h or bare
    /// seconds [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,

    /// Number of requests to generate (overrides the preset).
    #[arg(long, value_name = "N")]
    pub requests: Option<String>,

    /// Number of distinct keys in the key space (overrides the preset).
    #[arg(long, value_name = "N")]
    pub keys: Option<String>,

    /// Zipf skew, from 0 (uniform) to 10 (overrides the preset).
    #[arg(long, value_name = "ALPHA")]
    pub alpha: Option<String>,

    /// Requests per second, which sets request timestamps for synthetic
    /// workloads and for traces without a time column [default: 1000].
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<String>,

    /// Seed for the generator and randomised strategies. Same seed, same result.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Latency of the database behind the cache, drawn per miss from a
    /// seeded model: 2ms (constant), uniform:1ms..5ms, normal:5ms,1ms,
    /// lognormal:2ms,0.8 (median, sigma), exp:2ms (mean), pareto:1ms,1.5
    /// (minimum, shape). Added to the request's latency, never slept.
    #[arg(long, value_name = "MODEL", default_value = "2ms")]
    pub origin_latency: String,

    /// A real origin instead of the model: every miss runs a SELECT by
    /// primary key on PostgreSQL (postgres://USER[:PASSWORD]@HOST[:PORT]/DB)
    /// in cachesim's own table `cachesim_origin`.
    #[arg(long, value_name = "URL", conflicts_with = "no_latency")]
    pub origin: Option<String>,

    /// Do not time requests or model the origin (pure hit-ratio runs; the
    /// latency columns stay empty).
    #[arg(long)]
    pub no_latency: bool,

    /// Write each run's overall latency histogram to DIR as an .hgrm file
    /// (HdrHistogram's percentile-distribution text format).
    #[arg(long, value_name = "DIR", conflicts_with = "no_latency")]
    pub histograms: Option<PathBuf>,

    /// What to print on stdout.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Where to save the results CSV [default: a new file under results/].
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Do not save a results file.
    #[arg(long, conflicts_with = "out")]
    pub no_save: bool,

    /// No progress bar and no "saved to" line.
    #[arg(short, long)]
    pub quiet: bool,

    /// The Redis of the `redis` and `tiered:*+redis` strategies:
    /// redis://[:PASSWORD@]HOST[:PORT][/DB] or
    /// redis+cluster://HOST:PORT,HOST:PORT,... [default: $REDIS_URL, else
    /// redis://127.0.0.1:6379/0].
    #[arg(long, value_name = "URL")]
    pub redis_url: Option<String>,

    /// Leave the run's keys (cachesim:<run id>:*) on the server instead of
    /// deleting them at the end.
    #[arg(long)]
    pub redis_keep: bool,

    /// The redis-server binary that redis-lru, redis-lfu, redis-random and
    /// redis-ttl start [default: redis-server on PATH].
    #[arg(long, value_name = "PATH")]
    pub redis_server_bin: Option<PathBuf>,

    /// Bytes per value stored in Redis, instead of each request's size.
    #[arg(long, value_name = "BYTES")]
    pub value_size: Option<String>,

    /// Send up to N gets to Redis as one pipeline (each request is charged
    /// its batch's round trip) [default: 1, no pipelining].
    #[arg(long, value_name = "N")]
    pub pipeline: Option<String>,

    /// Replay through N Redis connections on N threads, the stream split by
    /// key [default: 1].
    #[arg(long, value_name = "N")]
    pub clients: Option<String>,

    /// Capacity of the local L1 of tiered:LOCAL+redis (objects, %, bytes)
    /// [default: --capacity].
    #[arg(long, value_name = "CAP")]
    pub l1_capacity: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
