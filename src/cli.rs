//! Command-line definitions only (clap derive). Doc comments are the help
//! text; the commands themselves live in `cmd/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Which caching strategy should I use for this workload, and what does it buy me?
///
/// cachesim replays synthetic or real-trace key streams against cache
/// strategies and reports hit ratios, as a table, CSV or JSON.
#[derive(Debug, Parser)]
#[command(name = "cachesim", version, about, long_about = None, propagate_version = true)]
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
    /// Draw charts (PNG for slides, SVG for handouts) from results CSVs.
    #[command(after_help = PLOT_EXAMPLES)]
    Plot(PlotArgs),
    /// Line up results by workload and capacity, relative to a baseline strategy.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// Write one self-contained HTML page: charts, comparison, and the commands to rerun.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
}

const RUN_EXAMPLES: &str = "\
Examples:
  cachesim run --strategy lru --workload zipf
  cachesim run --strategy none,lru,lfu,fifo,ttl,random --workload zipf --capacity 1%,5%,10% --ttl 30s
  cachesim run --strategy lru --trace my-keys.txt --capacity 100,1000 --format json
  cachesim run -s lru,lfu -w zipf --alpha 0.8 --keys 1M --requests 10M -c 10k --out results/skew.csv";

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

#[derive(Debug, Args)]
pub struct ListArgs {}

const PLOT_EXAMPLES: &str = "\
Examples:
  cachesim plot results/run.csv
  cachesim plot results/a.csv results/b.csv --out slides/ --name policies
  cachesim plot results/run.csv --kind bars --capacity 1% --size 960x540
  cachesim plot results/run.csv --kind mrc --y miss --strategy lru,lfu";

/// Which ratio a chart's y axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YAxis {
    /// Hit ratio (hits / gets).
    Hit,
    /// Miss ratio (misses / gets).
    Miss,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Results CSV files written by `cachesim run` (read in order).
    #[arg(required = true, value_name = "RESULTS.csv")]
    pub inputs: Vec<PathBuf>,

    /// Folder for the charts [default: the first input's folder].
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// File name stem: charts are written as DIR/NAME-KIND.png and .svg
    /// [default: the first input's file stem].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Draw only this chart kind: mrc, bars [default: every kind the data supports].
    #[arg(short, long, value_name = "KIND")]
    pub kind: Option<String>,

    /// Image size in pixels, WIDTHxHEIGHT (the SVG gets the same size).
    #[arg(long, value_name = "WxH", default_value = "1920x1080")]
    pub size: String,

    /// Ratio on the y axis.
    #[arg(long, value_enum, default_value_t = YAxis::Hit)]
    pub y: YAxis,

    /// Capacity for `bars`, as in the runs (5%, 1000, 64MiB) [default: the
    /// capacity most rows share].
    #[arg(short, long, value_name = "CAP")]
    pub capacity: Option<String>,

    /// Draw only these strategies (full spec or name), comma separated.
    #[arg(short, long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    pub strategy: Vec<String>,

    /// Draw only these workloads (as in the `workload` column), comma separated.
    #[arg(short, long, value_name = "LABEL[,LABEL...]", value_delimiter = ',')]
    pub workload: Vec<String>,

    /// Replace the generated title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,

    /// `mrc`: draw every workload in one panel (a colour per workload, a
    /// marker per strategy) instead of a panel per workload.
    #[arg(long)]
    pub overlay: bool,

    /// Do not print the files written.
    #[arg(short, long)]
    pub quiet: bool,
}

const COMPARE_EXAMPLES: &str = "\
Examples:
  cachesim compare results/run.csv
  cachesim compare results/lru.csv results/others.csv --baseline fifo
  cachesim compare results/run.csv --export-markdown slides/policies.md";

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Results CSV files written by `cachesim run`.
    #[arg(required = true, value_name = "RESULTS.csv")]
    pub inputs: Vec<PathBuf>,

    /// Strategy the relative columns compare against (full spec or name).
    #[arg(short, long, value_name = "STRATEGY", default_value = "lru")]
    pub baseline: String,

    /// Also write the comparison as a Markdown table.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
}

const REPORT_EXAMPLES: &str = "\
Examples:
  cachesim report results/run.csv -o report.html
  cachesim report results/talk/*.csv -o results/talk/report.html --baseline lru";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results CSV files written by `cachesim run`.
    #[arg(required = true, value_name = "RESULTS.csv")]
    pub inputs: Vec<PathBuf>,

    /// The HTML file to write.
    #[arg(short, long, value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,

    /// Strategy the comparison is relative to [default: lru, else the first
    /// strategy in the results].
    #[arg(short, long, value_name = "STRATEGY")]
    pub baseline: Option<String>,

    /// Page title.
    #[arg(long, value_name = "TEXT", default_value = "cachesim report")]
    pub title: String,
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
