//! Command-line definitions only (clap derive). Doc comments are the help
//! text, except the lists of strategies and trace formats, which come from
//! their registries ([`crate::policy::STRATEGIES`],
//! [`crate::workload::trace::TraceFormat`]) so that they cannot go stale; the
//! commands themselves live in `cmd/`. Options are grouped by concern and
//! parsed into typed values by the value parsers of [`values`].

pub mod values;

use crate::external::postgres::PgConfig;
use crate::external::redis::RedisUrl;
use crate::sim::capacity::{Capacity, CapacityList, Scale};
use crate::sim::fleet::Balance;
use crate::sim::groups::GroupBy;
use crate::sim::latency::OriginModel;
use crate::sim::phases::{parse_prefill, parse_window, Warmup};
use crate::sim::restart::RestartEvery;
use crate::sim::write::OnWrite;
use crate::workload::trace::TraceSpec;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use values::{MrcCapacity, Seeds, Ttls, Written};

/// Which caching strategy should I use for this workload, and what does it buy me?
///
/// cachesim replays synthetic or real-trace key streams against cache
/// strategies and reports hit ratios, as a table, CSV or JSON.
#[derive(Debug, Parser)]
#[command(name = "cachesim", version, about, long_about = None, propagate_version = true, args_override_self = true)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `cachesim`.
// Parsed once per process: the size difference between variants is irrelevant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a workload against strategies and capacities; print and save results.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// List the strategies and workload presets.
    List(ListArgs),
    /// Describe, convert or import trace files (stats, convert, import).
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Synthetic workloads as files (export).
    #[command(subcommand)]
    Workload(WorkloadCommand),
    /// Draw charts (PNG for slides, SVG for handouts) from results CSVs.
    #[command(after_help = PLOT_EXAMPLES)]
    Plot(PlotArgs),
    /// Line up results by workload and capacity, relative to a baseline strategy.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// Write one self-contained HTML page: charts, comparison, and the commands to rerun.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// LRU miss-ratio curve in one pass (exact, or sampled with SHARDS).
    #[command(after_help = MRC_EXAMPLES)]
    Mrc(MrcArgs),
    /// Join the results of a sweep's shards (`run --shard I/N`) into the
    /// unsharded sweep's rows, in its order.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
}

const MERGE_EXAMPLES: &str = "\
Examples:
  cachesim run -s lru,lfu -c 1%,5% --shard 1/2 -o part1.csv   (on one machine)
  cachesim run -s lru,lfu -c 1%,5% --shard 2/2 -o part2.csv   (on another)
  cachesim merge part1.csv part2.csv -o sweep.csv";

/// Options of `cachesim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' results CSVs (`run --shard I/N -o FILE`), every shard of
    /// one sweep, in any order; each one's `<stem>-timeline.csv` is merged
    /// too when present.
    #[arg(required = true, value_name = "SHARD.csv")]
    pub inputs: Vec<PathBuf>,

    /// Where to write the merged results (replaced if it exists); the
    /// merged timeline goes next to it as `<stem>-timeline.csv`.
    #[arg(short, long, value_name = "FILE", required = true)]
    pub out: PathBuf,

    /// No "merged ... into" line.
    #[arg(short, long)]
    pub quiet: bool,
}

const MRC_EXAMPLES: &str = "\
Examples:
  cachesim mrc --trace OLTP.lis --capacity 1000,2000,5000,10000,15000
  cachesim mrc -w zipf --capacity 0.1%..100%:30 --compare
  cachesim mrc --trace P12.lis --sample 1% --capacity 1k..1M:20
  cachesim mrc --trace P12.lis --sample-size 8k --format csv
  cachesim mrc --trace P12.lis --strategy arc,s3fifo,sieve,2q,wtinylfu --sample 1%";

const RUN_EXAMPLES: &str = "\
Examples:
  cachesim run --strategy lru --workload zipf
  cachesim run --strategy none,lru,lfu,fifo,ttl,random --workload zipf --capacity 1%,5%,10% --ttl 30s
  cachesim run --strategy lru --trace my-keys.txt --capacity 100,1000 --format json
  cachesim run -s lru,lfu -w zipf --alpha 0.8 --keys 1M --requests 10M -c 10k --out results/skew.csv
  cachesim run -s none,lru -c 1% --origin-latency lognormal:2ms,0.8 --histograms results/hgrm
  cachesim run -s none,lru -c 1% --origin postgres://root@127.0.0.1:5432/test --requests 20k
  cachesim run -s ttl,lru -w ycsb-b --on-write none --ttl 1s,5s,30s,5m --no-latency
  cachesim run -s lru,lfu -w zipf-shift --warmup 10% --prefill top:1000 --window 10k
  cachesim run -s lru,redis-lru,redis-lfu -c 1% --requests 200k
  cachesim run -s redis,tiered:lru+redis --l1-capacity 1000 --redis-url redis://127.0.0.1:6379/0
  cachesim run -s lru,fifo,lfu,random -w zipf,hotspot --seeds 1..5 -c 0.1%..50%:12 --threads 2";

/// Every strategy `--strategy` accepts, in the order `cachesim list` shows
/// them: the policies, the composites, then those the backends run.
pub fn strategies() -> impl Iterator<Item = &'static crate::policy::StrategyInfo> {
    crate::policy::STRATEGIES
        .iter()
        .chain(crate::sim::strategy::COMPOSITES)
        .chain(crate::external::strategies())
}

/// `--strategy`'s help: every registered strategy by name.
fn strategy_help() -> String {
    format!(
        "Strategies, comma separated or repeated: {}; and shared:NAME, one cache \
         shared by the --instances (see `cachesim list`). Parameters follow colons: \
         `ttl:ttl=30s`, `s3fifo:small=0.1`, `tiered:lru+redis`",
        strategies().map(|s| s.name).collect::<Vec<_>>().join(", ")
    )
}

/// `--trace-format`'s help: `what`, then every registered trace format.
fn trace_format_help(what: &str) -> String {
    format!("{what}: {}", crate::workload::trace::format_names())
}

/// What `run` and `mrc` print on stdout (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned table for people.
    Table,
    /// CSV, one row per run (the same columns as the saved file).
    Csv,
    /// A JSON array, one object per run.
    Json,
}

/// Options of `cachesim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Strategy specs to run, in order (`lru`, `ttl:ttl=30s`). The help text,
    /// which lists every registered strategy, comes from `strategy_help`.
    #[arg(short, long, value_name = "SPEC[,SPEC...]", default_value = "lru", help = strategy_help())]
    pub strategy: Vec<String>,

    /// Where the requests come from: presets or traces, overrides and seeds.
    #[command(flatten)]
    pub input: WorkloadArgs,

    /// Capacities, how their ranges are spaced, and the TTL axis.
    #[command(flatten)]
    pub cache: CacheArgs,

    /// Writes, warm-up, prefill and timeline windows.
    #[command(flatten)]
    pub fresh: FreshArgs,

    /// Runs to execute at once [default: all cores]. Lowered, with a note,
    /// to the number of runs and to 4 threads per core (runs on a server run
    /// one at a time). Results do not depend on it (except the timing
    /// columns and `threads`).
    #[arg(allow_negative_numbers = true, short = 'j', long, value_name = "N", value_parser = values::threads)]
    pub threads: Option<usize>,

    /// Run only shard I of N of the sweep: the runs at positions k (from 0,
    /// in row order) with k mod N + 1 = I, so N machines each run one and
    /// `cachesim merge` joins their files into the whole sweep.
    #[arg(long, value_name = "I/N", allow_hyphen_values = true, value_parser = values::shard)]
    pub shard: Option<crate::sim::shard::Shard>,

    /// The origin behind the cache and latency recording.
    #[command(flatten)]
    pub latency: LatencyArgs,

    /// A fleet of application instances instead of one cache.
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// What is printed on stdout and where results are saved.
    #[command(flatten)]
    pub output: OutputArgs,

    /// The server and client of the Redis strategies.
    #[command(flatten)]
    pub redis: RedisArgs,

    /// The directory of the disk strategy.
    #[command(flatten)]
    pub disk: DiskArgs,

    /// The server of the memcached strategies.
    #[command(flatten)]
    pub memcached: MemcachedArgs,

    /// Concurrent clients, an origin that takes time, and the stampede
    /// defences (the event mode).
    #[command(flatten)]
    pub events: EventArgs,
}

/// `run`: concurrent clients and misses that take time (the event mode),
/// and the defences against cache stampedes.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// N concurrent clients. In-process strategies: N simulated closed-loop
    /// clients (the event mode), each sending its next request a think time
    /// after its answer; Redis strategies: N connections on N threads, the
    /// stream split by key [default: 1].
    #[arg(allow_negative_numbers = true, long, value_name = "N", value_parser = values::clients)]
    pub clients: Option<usize>,

    /// Closed loop (--clients): the time a client waits after an answer
    /// before its next request, a latency model as --origin-latency takes
    /// (10ms, exp:10ms, uniform:1ms..5ms) [default: exp with mean
    /// clients / --rate, so that the clients offer about --rate requests
    /// per second].
    #[arg(long, value_name = "MODEL", requires = "clients", value_parser = OriginModel::parse)]
    pub think_time: Option<OriginModel>,

    /// Open-loop arrivals in the event mode: trace (each request at its own
    /// time: the trace's timestamp, or v / --rate) or poisson (a Poisson
    /// process at --rate) [default: trace].
    #[arg(long, value_name = "MODE", conflicts_with = "clients", value_parser = crate::sim::event::Arrivals::parse)]
    pub arrivals: Option<crate::sim::event::Arrivals>,

    /// Fetches the origin runs at once (a database's connection pool); the
    /// others wait in arrival order. Turns the event mode on [default:
    /// unbounded].
    #[arg(allow_negative_numbers = true, long, value_name = "C", value_parser = crate::sim::event::parse_concurrency)]
    pub origin_concurrency: Option<u64>,

    /// Single flight: a miss on a key whose fetch is in flight waits for it
    /// instead of fetching again. Turns the event mode on.
    #[arg(long)]
    pub coalesce: bool,

    /// Serve an expired value for up to DURATION more while one background
    /// refresh fetches the new one. Turns the event mode on.
    #[arg(allow_negative_numbers = true, long, value_name = "DURATION", value_parser = values::duration)]
    pub stale_while_revalidate: Option<f64>,

    /// Probabilistic early expiration (XFetch, Vattani et al., VLDB 2015):
    /// a hit recomputes early when now - delta * BETA * ln(rand) >= expiry,
    /// delta being the key's last fetch time (1 is the paper's default).
    /// Turns the event mode on.
    #[arg(allow_negative_numbers = true, long, value_name = "BETA", value_parser = crate::sim::event::parse_beta)]
    pub xfetch: Option<f64>,

    /// Draw each TTL uniformly from [ttl (1 - F), ttl], so that keys filled
    /// together do not expire together. Turns the event mode on.
    #[arg(allow_negative_numbers = true, long, value_name = "F", value_parser = crate::sim::event::parse_jitter)]
    pub ttl_jitter: Option<f64>,
}

/// `run`: the memcached strategies' server.
#[derive(Debug, Args)]
pub struct MemcachedArgs {
    /// The memcached of the `memcached` strategy: HOST:PORT or
    /// memcached://HOST[:PORT] [default: $MEMCACHED_URL, else
    /// 127.0.0.1:11211].
    #[arg(long, value_name = "HOST:PORT", value_parser = values::memcached_url)]
    pub memcached_url: Option<crate::external::memcached::MemcachedUrl>,

    /// Leave the run's keys (cachesim:<run id>:*) on the memcached at
    /// --memcached-url instead of deleting them at the end.
    #[arg(long)]
    pub memcached_keep: bool,

    /// The memcached binary that memcached-lru starts [default: memcached
    /// on PATH].
    #[arg(long, value_name = "PATH")]
    pub memcached_bin: Option<PathBuf>,
}

/// `run`: the directory of the `disk` strategy.
#[derive(Debug, Args)]
pub struct DiskArgs {
    /// The cache directory of the `disk` strategy: new, empty, or one a
    /// disk run created (marked by its .cachesim-disk file); any other is
    /// refused [default: a fresh directory under the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub disk_dir: Option<PathBuf>,

    /// Leave the disk strategy's files in its directory after the run.
    #[arg(long)]
    pub disk_keep: bool,

    /// Measure cold reads: drop each file of the disk strategy from the
    /// page cache (posix_fadvise DONTNEED, after fdatasync on write)
    /// before it is read.
    #[arg(long)]
    pub disk_cold: bool,
}

/// `run`: the caches' sizes and the TTL axis.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Cache capacities, comma separated: objects (1000, 10k, 1M), a share of
    /// the distinct keys requested (5%), or bytes (64MiB, 1GB); and ranges
    /// START..END:POINTS (0.1%..50%:12, 100..100k:10, 1MiB..1GiB:8).
    #[arg(allow_negative_numbers = true, short, long, value_name = "CAP[,CAP...]", default_value = "10%", value_parser = values::capacities)]
    pub capacity: CapacityList,

    /// How the points of a capacity range are spaced: log (constant ratio)
    /// or linear (constant step).
    #[arg(long, value_name = "SCALE", default_value = "log", value_parser = Scale::parse)]
    pub capacity_scale: Scale,

    /// Time-to-live for the `ttl` strategy: 500ms, 30s, 5m, 1h or bare
    /// seconds [default: 60s]. A list (1s,5s,30s,5m) is a sweep axis: one
    /// run per TTL and strategy and capacity (other strategies ignore it,
    /// except in the event mode, where every fill expires after it).
    #[arg(allow_negative_numbers = true, long, value_name = "DURATION[,DURATION...]", value_parser = values::ttls)]
    pub ttl: Option<Ttls>,
}

/// `run`: writes, warm-up, prefill and timeline windows.
#[derive(Debug, Args)]
pub struct FreshArgs {
    /// Share of requests that are writes (0 to 1, e.g. 0.05): a write goes to
    /// the origin and changes the key's version (overrides the preset).
    #[arg(allow_negative_numbers = true, long, value_name = "FRACTION", value_parser = values::write_ratio)]
    pub write_ratio: Option<Written<f64>>,

    /// What a write does to the cached copy: invalidate (delete it), update
    /// (write-through the new value) or none (leave it stale until evicted
    /// or expired). Several, comma separated, run each (the innermost axis
    /// of a sweep; the `on_write` column tells them apart).
    #[arg(long, value_name = "POLICY[,POLICY...]", default_value = "invalidate", value_delimiter = ',', value_parser = OnWrite::parse)]
    pub on_write: Vec<OnWrite>,

    /// Replay the first N requests (or P% of them) without counting them;
    /// the cache state is kept, every counter restarts (libCacheSim's
    /// warm-up).
    #[arg(allow_negative_numbers = true, long, value_name = "N|P%", value_parser = Warmup::parse)]
    pub warmup: Option<Warmup>,

    /// Load the K most popular keys before the run: top:K (from the
    /// generator's distribution, or a counting pass over the trace).
    #[arg(long, value_name = "top:K", value_parser = parse_prefill)]
    pub prefill: Option<u64>,

    /// Record the hit ratio of every window of N requests into
    /// <results>-timeline.csv next to the results file.
    #[arg(allow_negative_numbers = true, long, value_name = "N", value_parser = parse_window)]
    pub window: Option<u64>,

    /// Add a row of counts per tenant (the trace's tenant, client or
    /// use-case column) beside each run's total, its group in the `group`
    /// column. The tenants share the one cache; their rows add up to the
    /// total.
    #[arg(long, value_name = "tenant", value_parser = GroupBy::parse)]
    pub group_by: Option<GroupBy>,

    /// Restart the application every DURATION of request time (30s, 5m;
    /// from the first request) or every N requests (10k): every in-process
    /// cache starts over empty; shared and external caches keep their
    /// contents. Counted in the `restarts` column.
    #[arg(allow_negative_numbers = true, long, value_name = "DURATION|N", value_parser = RestartEvery::parse)]
    pub restart_every: Option<RestartEvery>,

    /// With --restart-every and --instances K: restart one instance at a
    /// time, instance i at (i+1)/K of each interval, instead of all at once.
    #[arg(long)]
    pub rolling: bool,
}

/// `run`: the origin behind the cache and latency recording.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    /// Latency of the database behind the cache, drawn per miss from a
    /// seeded model: 2ms (constant), uniform:1ms..5ms, normal:5ms,1ms,
    /// lognormal:2ms,0.8 (median, sigma), exp:2ms (mean), pareto:1ms,1.5
    /// (minimum, shape). Added to the request's latency, never slept.
    #[arg(long, value_name = "MODEL", default_value = "2ms", conflicts_with_all = ["origin", "no_latency"], value_parser = OriginModel::parse)]
    pub origin_latency: OriginModel,

    /// A real origin instead of the model: every miss runs a SELECT by
    /// primary key on PostgreSQL (postgres://USER[:PASSWORD]@HOST[:PORT]/DB)
    /// in cachesim's own table `cachesim_origin`.
    #[arg(long, value_name = "URL", conflicts_with = "no_latency", value_parser = values::origin)]
    pub origin: Option<PgConfig>,

    /// CA certificates (PEM) that TLS connections trust, instead of the
    /// system's: those of rediss:// (--redis-url) and of --origin with
    /// sslmode=require, verify-ca or verify-full (unless it names its own
    /// sslrootcert=).
    #[arg(long, value_name = "FILE", value_parser = values::tls_ca)]
    pub tls_ca: Option<PathBuf>,

    /// Do not time requests or model the origin (pure hit-ratio runs; the
    /// latency columns stay empty).
    #[arg(long)]
    pub no_latency: bool,

    /// Write each run's overall latency histogram to DIR as an .hgrm file
    /// (HdrHistogram's percentile-distribution text format).
    #[arg(long, value_name = "DIR", conflicts_with = "no_latency")]
    pub histograms: Option<PathBuf>,
}

/// `run`: a fleet of application instances.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Split the stream over K application instances, each with its own
    /// cache of the given capacity (latency is not recorded for fleets). A
    /// Redis strategy is the instances' shared cache (a private redis-* server
    /// holds K x capacity); tiered:LOCAL+REDIS gives each instance an L1.
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "K",
        default_value_t = 1
    )]
    pub instances: u64,

    /// How the load balancer spreads requests over instances: random,
    /// round-robin, or key-hash (sticky: a key always goes to one instance).
    #[arg(long, value_name = "MODE", default_value = "random", value_parser = Balance::parse)]
    pub balance: Balance,

    /// Give the instances one shared cache of K x capacity instead (the same
    /// as writing every strategy as shared:NAME).
    #[arg(long)]
    pub shared: bool,

    /// On a write, invalidate the key in every other instance's cache too
    /// (pub/sub or Redis client-side-caching invalidation messages).
    #[arg(long)]
    pub broadcast_invalidation: bool,

    /// Delay, in request time, before a broadcast invalidation lands.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "0s",
        requires = "broadcast_invalidation",
        value_parser = values::duration
    )]
    pub invalidation_delay: f64,
}

/// `run`: what is printed and saved.
#[derive(Debug, Args)]
pub struct OutputArgs {
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

/// `run`: the Redis strategies' server and client.
#[derive(Debug, Args)]
pub struct RedisArgs {
    /// The Redis of the `redis` and `tiered:*+redis` strategies:
    /// redis://[:PASSWORD@]HOST[:PORT][/DB] or
    /// redis+cluster://HOST:PORT,HOST:PORT,... [default: $REDIS_URL, else
    /// redis://127.0.0.1:6379/0].
    #[arg(long, value_name = "URL", value_parser = values::redis_url)]
    pub redis_url: Option<RedisUrl>,

    /// Leave the run's keys (cachesim:<run id>:*) on the server instead of
    /// deleting them at the end.
    #[arg(long)]
    pub redis_keep: bool,

    /// The longest a key cachesim writes to the server at --redis-url may
    /// live: every SET carries this TTL (or --ttl when shorter), so that
    /// keys a killed run could not delete expire by themselves [default: 1d].
    #[arg(allow_negative_numbers = true, long, value_name = "DURATION", value_parser = values::key_ttl)]
    pub redis_key_ttl: Option<f64>,

    /// The redis-server binary that redis-lru, redis-lfu, redis-random and
    /// redis-ttl start [default: redis-server on PATH].
    #[arg(long, value_name = "PATH")]
    pub redis_server_bin: Option<PathBuf>,

    /// Bytes per value stored in Redis, memcached or on disk, instead of each
    /// request's size.
    #[arg(allow_negative_numbers = true, long, value_name = "BYTES", value_parser = values::value_size)]
    pub value_size: Option<u32>,

    /// Send up to N gets to Redis or memcached as one pipeline (each request is charged
    /// its batch's round trip) [default: 1, no pipelining].
    #[arg(allow_negative_numbers = true, long, value_name = "N", value_parser = values::pipeline)]
    pub pipeline: Option<usize>,

    /// Capacity of the local L1 of tiered:LOCAL+redis (objects, %, bytes)
    /// [default: --capacity], and of each instance's L1 of tiered-local
    /// (required there).
    #[arg(allow_negative_numbers = true, long, value_name = "CAP", value_parser = values::capacity)]
    pub l1_capacity: Option<Capacity>,

    /// Replay at the trace's own pace: send each request at its time
    /// (since the first request's) divided by FACTOR, and divide each
    /// request's TTL by FACTOR too, so that keys expire on the server as
    /// they did in the trace (1: real time, 10: ten times faster; not with
    /// --fleet) [default: as fast as the server answers].
    #[arg(allow_negative_numbers = true, long, value_name = "FACTOR", value_parser = values::pace)]
    pub redis_pace: Option<f64>,
}

/// Where requests come from: shared by `run` and `mrc`.
#[derive(Debug, Args)]
pub struct WorkloadArgs {
    /// Synthetic workload presets (see `cachesim list`: zipf, uniform,
    /// hotspot, scan, zipf-shift, zipf-scan, ycsb-a..f) or paths to
    /// preset .toml files, comma separated or repeated [default: zipf, unless
    /// --trace is given].
    #[arg(short, long, value_name = "NAME|FILE.toml[,...]")]
    pub workload: Vec<String>,

    /// Replay a trace file (gzip, zstd and xz are read transparently; `-` is
    /// standard input, and a pipe is copied to a temp file first).
    /// Repeat for several traces; they run after the --workload presets.
    #[arg(short, long, value_name = "FILE")]
    pub trace: Vec<PathBuf>,

    /// Trace reader to use instead of detecting it; `None` detects it from
    /// the file. The help text, which lists every format, comes from
    /// `trace_format_help`.
    #[arg(long, value_name = "FORMAT", value_parser = TraceSpec::parse, help = trace_format_help("Trace reader to use instead of detecting it"))]
    pub trace_format: Option<TraceSpec>,

    /// Page size of a block trace (`msr`, `alibaba-block`, `tencent-cbs`,
    /// or csv with offset= and length=): each request becomes one request
    /// per page it touches; the same as `:page=SIZE` in --trace-format
    /// [default: 4KiB].
    #[arg(long, value_name = "SIZE")]
    pub page_size: Option<String>,

    /// Number of requests to generate (overrides the preset).
    #[arg(allow_negative_numbers = true, long, value_name = "N", value_parser = values::count)]
    pub requests: Option<Written<u64>>,

    /// Number of distinct keys in the key space (overrides the preset).
    #[arg(allow_negative_numbers = true, long, value_name = "N", value_parser = values::count)]
    pub keys: Option<Written<u64>>,

    /// Zipf skew, from 0 (uniform) to 10 (overrides the zipf, zipf-shift,
    /// zipf-scan and ycsb presets).
    #[arg(allow_negative_numbers = true, long, value_name = "ALPHA", value_parser = values::alpha)]
    pub alpha: Option<Written<f64>>,

    /// Requests per second, which sets request timestamps for synthetic
    /// workloads and for traces without a time column [default: 1000].
    #[arg(allow_negative_numbers = true, long, value_name = "PER_SECOND", value_parser = values::rate)]
    pub rate: Option<f64>,

    /// Seed for the generator and randomised strategies. Same seed, same result.
    #[arg(allow_negative_numbers = true, long, default_value_t = 1)]
    pub seed: u64,

    /// Several seeds, each a separate set of runs: a range 1..5 (inclusive)
    /// or a list 1,2,7 (or both: 1..3,10).
    #[arg(long, value_name = "SEEDS", conflicts_with = "seed", value_parser = values::seeds)]
    pub seeds: Option<Seeds>,
}

/// Options of `cachesim list` (it takes none).
#[derive(Debug, Args)]
pub struct ListArgs {}

/// The subcommands of `cachesim trace`.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Requests, distinct keys, bytes, one-hit wonders, fitted Zipf alpha,
    /// reuse-distance percentiles and the top 10 keys of a trace.
    #[command(
        after_help = "Example:\n  cachesim trace stats traces/arc/OLTP.lis.zst --format json"
    )]
    Stats(TraceStatsArgs),
    /// Convert a trace to another format (written atomically).
    #[command(
        after_help = "Example:\n  cachesim trace convert loop.trace.gz loop.oracleGeneral --to oracle-general"
    )]
    Convert(TraceConvertArgs),
    /// Turn another tool's capture into a trace with times, keys, sizes,
    /// ops and TTLs (written atomically): redis-monitor reads the output of
    /// `redis-cli MONITOR`.
    #[command(
        after_help = "Example:\n  redis-cli MONITOR > capture.log   # while the application runs\n  cachesim trace import redis-monitor capture.log -o capture.csv"
    )]
    Import(TraceImportArgs),
}

/// What `trace import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportSource {
    /// The output of `redis-cli MONITOR` (see the redis-monitor trace format).
    RedisMonitor,
}

/// Options of `cachesim trace import`.
#[derive(Debug, Args)]
pub struct TraceImportArgs {
    /// What FILE holds.
    #[arg(value_enum, value_name = "SOURCE")]
    pub source: ImportSource,

    /// The capture to read (gzip, zstd and xz are read transparently).
    #[arg(value_name = "FILE")]
    pub input: PathBuf,

    /// The trace to write (replaced atomically).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceOutFormat::Csv)]
    pub to: TraceOutFormat,
}

/// What `trace stats` prints on stdout (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// Aligned lines for people.
    Table,
    /// One JSON object.
    Json,
}

/// Formats `trace convert` and `workload export` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceOutFormat {
    /// libCacheSim oracleGeneral: 24-byte records with next_access_vtime computed.
    OracleGeneral,
    /// libCacheSim lcs: the lowest version (1, 2 or 3) that carries the ops, tenants and TTLs.
    Lcs,
    /// CSV with a `time,key,size` header (and `op` when the trace has other ops than get).
    Csv,
    /// One decimal key per line.
    Text,
}

/// Options of `cachesim trace stats`.
#[derive(Debug, Args)]
pub struct TraceStatsArgs {
    /// The trace file (gzip, zstd and xz are read transparently).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Trace reader to use instead of detecting it, by name; `None` detects
    /// it from the file. The help text comes from `trace_format_help`.
    #[arg(long, value_name = "FORMAT", help = trace_format_help("Trace reader to use instead of detecting it"))]
    pub trace_format: Option<String>,

    /// Page size of a block trace: the same as `:page=SIZE` in
    /// --trace-format [default: 4KiB].
    #[arg(long, value_name = "SIZE")]
    pub page_size: Option<String>,

    /// What to print on stdout.
    #[arg(short, long, value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,
}

/// Options of `cachesim trace convert`.
#[derive(Debug, Args)]
pub struct TraceConvertArgs {
    /// The trace to read.
    #[arg(value_name = "IN")]
    pub input: PathBuf,

    /// The file to write (replaced atomically).
    #[arg(value_name = "OUT")]
    pub output: PathBuf,

    /// Output format.
    #[arg(long, value_enum)]
    pub to: TraceOutFormat,

    /// Reader for the input instead of detecting it, by name; `None` detects
    /// it from the file. The help text comes from `trace_format_help`.
    #[arg(long, value_name = "FORMAT", help = trace_format_help("Reader for IN instead of detecting it"))]
    pub trace_format: Option<String>,

    /// Page size of a block trace: the same as `:page=SIZE` in
    /// --trace-format [default: 4KiB].
    #[arg(long, value_name = "SIZE")]
    pub page_size: Option<String>,
}

/// The subcommands of `cachesim workload`.
#[derive(Debug, Subcommand)]
pub enum WorkloadCommand {
    /// Write a synthetic workload's request stream as a trace file, so the
    /// same stream can be replayed elsewhere.
    #[command(
        after_help = "Example:\n  cachesim workload export --workload zipf --alpha 0.8 --keys 10k --requests 1M -o zipf.txt"
    )]
    Export(WorkloadExportArgs),
}

/// Options of `cachesim workload export`.
#[derive(Debug, Args)]
pub struct WorkloadExportArgs {
    /// Synthetic workload preset (zipf, uniform, hotspot, scan) or a path to
    /// a preset .toml file.
    #[arg(short, long, value_name = "NAME|FILE.toml", default_value = "zipf")]
    pub workload: String,

    /// Number of requests to generate (overrides the preset).
    #[arg(allow_negative_numbers = true, long, value_name = "N")]
    pub requests: Option<String>,

    /// Number of distinct keys in the key space (overrides the preset).
    #[arg(allow_negative_numbers = true, long, value_name = "N")]
    pub keys: Option<String>,

    /// Zipf skew, from 0 (uniform) to 10 (overrides the preset).
    #[arg(allow_negative_numbers = true, long, value_name = "ALPHA")]
    pub alpha: Option<String>,

    /// Requests per second, which sets request timestamps [default: 1000].
    #[arg(allow_negative_numbers = true, long, value_name = "PER_SECOND")]
    pub rate: Option<String>,

    /// Seed for the generator. Same seed, same stream as `cachesim run`.
    #[arg(allow_negative_numbers = true, long, default_value_t = 1)]
    pub seed: u64,

    /// The file to write (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Output format [default: from the file name: .csv is csv, a name
    /// containing oracleGeneral is oracle-general, .lcs is lcs, anything else
    /// text].
    #[arg(long, value_enum)]
    pub to: Option<TraceOutFormat>,
}

const PLOT_EXAMPLES: &str = "\
Examples:
  cachesim plot results/run.csv
  cachesim plot results/a.csv results/b.csv --out slides/ --name policies
  cachesim plot results/run.csv --kind bars --capacity 1% --size 960x540
  cachesim plot results/run.csv --kind mrc --y miss --strategy lru,lfu
  cachesim plot results/cold-timeline.csv results/prefill-timeline.csv --kind timeline
  cachesim plot results/stampede-timeline.csv --kind stampede";

/// Which ratio a chart's y axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YAxis {
    /// Hit ratio (hits / gets).
    Hit,
    /// Miss ratio (misses / gets).
    Miss,
}

/// Options of `cachesim plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Results CSV files written by `cachesim run` (read in order), and/or
    /// the `<results>-timeline.csv` files `--window` writes (for `timeline`,
    /// and `stampede` from the event mode).
    #[arg(required = true, value_name = "RESULTS.csv")]
    pub inputs: Vec<PathBuf>,

    /// Folder for the charts [default: the first input's folder].
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// File name stem: charts are written as DIR/NAME-KIND.png and .svg
    /// [default: the first input's file stem].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Draw only this chart kind: mrc, bars, latency, staleness, invalidation, timeline, fleet, stampede [default: every kind the data supports].
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
    #[arg(allow_negative_numbers = true, short, long, value_name = "CAP")]
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

    /// Draw these strategies (full spec or name, as --strategy) in colour,
    /// on top; the others thin and light grey beneath them (`mrc`) or as
    /// grey bars (`bars`), listed as one "others" legend entry.
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    pub highlight: Vec<String>,

    /// Do not print the files written.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Options of `cachesim mrc`.
#[derive(Debug, Args)]
pub struct MrcArgs {
    /// Where the requests come from: presets or traces, overrides and seeds.
    #[command(flatten)]
    pub input: WorkloadArgs,

    /// Capacities to report, in objects: counts, percentages of the distinct
    /// keys and ranges as for `run` (1000, 5%, 1k..1M:20), or `all` for every
    /// capacity from 1 to the working set [default: 1..100%:64, log-spaced].
    #[arg(short, long, value_name = "CAP[,CAP...]|all", value_parser = values::mrc_capacities)]
    pub capacity: Option<MrcCapacity>,

    /// How the points of a capacity range are spaced: log or linear.
    #[arg(long, value_name = "SCALE", default_value = "log", value_parser = Scale::parse)]
    pub capacity_scale: Scale,

    /// SHARDS fixed-rate sampling: keep the keys whose hash falls under rate
    /// R (0.01 or 1%), and scale distances by 1/R.
    #[arg(allow_negative_numbers = true, long, value_name = "R", conflicts_with = "sample_size", value_parser = values::sample_rate)]
    pub sample: Option<f64>,

    /// With --sample: apply SHARDS-adj, the paper's correction for the
    /// difference between expected and actual sampled gets (on), or not (off).
    /// Mini-simulations too: sampled misses over R x gets (on), or over the
    /// sampled gets (off).
    #[arg(long, value_name = "on|off", default_value = "on", requires = "sample", value_parser = values::on_off, action = clap::ArgAction::Set)]
    pub sample_adj: bool,

    /// SHARDS fixed-size sampling: track at most S keys (e.g. 8k), lowering
    /// the rate as new keys arrive.
    #[arg(allow_negative_numbers = true, long, value_name = "S", value_parser = values::sample_size)]
    pub sample_size: Option<usize>,

    /// Policies whose curves to compute, comma separated or repeated (any
    /// in-process policy counting objects: arc, s3fifo, sieve, 2q, wtinylfu,
    /// belady...). `lru` is the one-pass curve (exact or SHARDS); the
    /// others are replayed at every capacity: in full, or with --sample as
    /// mini-simulations (the sampled workload at capacity x rate).
    #[arg(short, long, value_name = "SPEC[,SPEC...]", default_value = "lru")]
    pub strategy: Vec<String>,

    /// With --sample: mini-simulate `lru` too (a replay of the sample at
    /// each scaled capacity) instead of computing its SHARDS curve.
    #[arg(long, requires = "sample")]
    pub minisim: bool,

    /// Also replay each policy in full at every capacity and report the
    /// absolute error of the curve.
    #[arg(long)]
    pub compare: bool,

    /// Replays (mini-simulations, full simulations, --compare) to execute
    /// at once [default: all cores]; at most 4 threads per core.
    #[arg(allow_negative_numbers = true, short = 'j', long, value_name = "N", value_parser = values::threads)]
    pub threads: Option<usize>,

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

const COMPARE_EXAMPLES: &str = "\
Examples:
  cachesim compare results/run.csv
  cachesim compare results/lru.csv results/others.csv --baseline fifo
  cachesim compare results/run.csv --export-markdown slides/policies.md";

/// Options of `cachesim compare`.
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

/// Options of `cachesim report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// One section each, in order: a figure card (NAME-KIND.figure.json,
    /// written by `cachesim plot`) is that figure, redrawn with its options;
    /// a results CSV is every chart its rows support; a timeline CSV its
    /// timeline (and, from the event mode, its stampede).
    #[arg(required = true, value_name = "RESULTS.csv|FIGURE.figure.json")]
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
