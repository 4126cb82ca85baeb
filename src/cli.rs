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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a workload against strategies and capacities; print and save results.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// List the strategies and workload presets.
    List(ListArgs),
    /// LRU miss-ratio curve in one pass (exact, or sampled with SHARDS).
    #[command(after_help = MRC_EXAMPLES)]
    Mrc(MrcArgs),
}

const MRC_EXAMPLES: &str = "\
Examples:
  cachesim mrc --trace OLTP.lis --capacity 1000,2000,5000,10000,15000
  cachesim mrc -w zipf --capacity 0.1%..100%:30 --compare
  cachesim mrc --trace P12.lis --sample 1% --capacity 1k..1M:20
  cachesim mrc --trace P12.lis --sample-size 8k --format csv";

const RUN_EXAMPLES: &str = "\
Examples:
  cachesim run --strategy lru --workload zipf
  cachesim run --strategy none,lru,lfu,fifo,ttl,random --workload zipf --capacity 1%,5%,10% --ttl 30s
  cachesim run --strategy lru --trace my-keys.txt --capacity 100,1000 --format json
  cachesim run -s lru,lfu -w zipf --alpha 0.8 --keys 1M --requests 10M -c 10k --out results/skew.csv
  cachesim run -s lru,fifo,lfu,random -w zipf,hotspot --seeds 1..5 -c 0.1%..50%:12 --threads 2";

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

    #[command(flatten)]
    pub input: WorkloadArgs,

    /// Cache capacities, comma separated: objects (1000, 10k, 1M), a share of
    /// the distinct keys requested (5%), or bytes (64MiB, 1GB); and ranges
    /// START..END:POINTS (0.1%..50%:12, 100..100k:10, 1MiB..1GiB:8).
    #[arg(short, long, value_name = "CAP[,CAP...]", default_value = "10%")]
    pub capacity: String,

    /// How the points of a capacity range are spaced: log (constant ratio)
    /// or linear (constant step).
    #[arg(long, value_name = "SCALE", default_value = "log")]
    pub capacity_scale: String,

    /// Time-to-live for the `ttl` strategy: 500ms, 30s, 5m, 1h or bare
    /// seconds [default: 60s].
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,

    /// Runs to execute at once [default: all cores]. Results do not depend
    /// on it (except the timing columns and `threads`).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<String>,

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
}

/// Where requests come from: shared by `run` and `mrc`.
#[derive(Debug, Args)]
pub struct WorkloadArgs {
    /// Synthetic workload presets (zipf, uniform, hotspot, scan) or paths to
    /// preset .toml files, comma separated or repeated [default: zipf, unless
    /// --trace is given].
    #[arg(short, long, value_name = "NAME|FILE.toml[,...]")]
    pub workload: Vec<String>,

    /// Replay a trace file (gzip, zstd and xz are read transparently).
    /// Repeat for several traces; they run after the --workload presets.
    #[arg(short, long, value_name = "FILE")]
    pub trace: Vec<PathBuf>,

    /// Trace reader to use instead of detecting it: text, csv.
    #[arg(long, value_name = "FORMAT")]
    pub trace_format: Option<String>,

    /// Number of requests to generate (overrides the preset).
    #[arg(long, value_name = "N")]
    pub requests: Option<String>,

    /// Number of distinct keys in the key space (overrides the preset).
    #[arg(long, value_name = "N")]
    pub keys: Option<String>,

    /// Zipf skew, from 0 (uniform) to 10 (overrides the zipf presets).
    #[arg(long, value_name = "ALPHA")]
    pub alpha: Option<String>,

    /// Requests per second, which sets request timestamps for synthetic
    /// workloads and for traces without a time column [default: 1000].
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<String>,

    /// Seed for the generator and randomised strategies. Same seed, same result.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Several seeds, each a separate set of runs: a range 1..5 (inclusive)
    /// or a list 1,2,7 (or both: 1..3,10).
    #[arg(long, value_name = "SEEDS", conflicts_with = "seed")]
    pub seeds: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {}

#[derive(Debug, Args)]
pub struct MrcArgs {
    #[command(flatten)]
    pub input: WorkloadArgs,

    /// Capacities to report, in objects: counts, percentages of the distinct
    /// keys and ranges as for `run` (1000, 5%, 1k..1M:20), or `all` for every
    /// capacity from 1 to the working set [default: 1..100%:64, log-spaced].
    #[arg(short, long, value_name = "CAP[,CAP...]|all")]
    pub capacity: Option<String>,

    /// How the points of a capacity range are spaced: log or linear.
    #[arg(long, value_name = "SCALE", default_value = "log")]
    pub capacity_scale: String,

    /// SHARDS fixed-rate sampling: keep the keys whose hash falls under rate
    /// R (0.01 or 1%), and scale distances by 1/R.
    #[arg(long, value_name = "R", conflicts_with = "sample_size")]
    pub sample: Option<String>,

    /// With --sample: apply SHARDS-adj, the paper's correction for the
    /// difference between expected and actual sampled gets (on), or not (off).
    #[arg(long, value_name = "on|off", default_value = "on")]
    pub sample_adj: String,

    /// SHARDS fixed-size sampling: track at most S keys (e.g. 8k), lowering
    /// the rate as new keys arrive.
    #[arg(long, value_name = "S")]
    pub sample_size: Option<String>,

    /// Also replay a real LRU cache at every capacity and report the
    /// absolute error of the curve.
    #[arg(long)]
    pub compare: bool,

    /// Runs of --compare to execute at once [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<String>,

    /// What to print on stdout.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Where to save the curve as CSV [default: a new file under results/].
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Do not save a results file.
    #[arg(long, conflicts_with = "out")]
    pub no_save: bool,

    /// No progress bar and no "saved to" line.
    #[arg(short, long)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
