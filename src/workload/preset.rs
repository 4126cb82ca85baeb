//! Named synthetic workloads. Each preset is a TOML file in `workloads/`,
//! compiled into the binary so `--workload zipf` works from any folder; a path
//! to a `.toml` file of the same shape works too. Command-line options
//! (`--requests`, `--keys`, `--alpha`, `--rate`) override preset fields.

use super::{hotspot, scan, uniform, writes, ycsb, zipf, zipf_scan, zipf_shift, Batch};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The compiled-in presets: (name, TOML text).
pub static PRESETS: &[(&str, &str)] = &[
    ("zipf", include_str!("../../workloads/zipf.toml")),
    ("uniform", include_str!("../../workloads/uniform.toml")),
    ("hotspot", include_str!("../../workloads/hotspot.toml")),
    ("scan", include_str!("../../workloads/scan.toml")),
    (
        "zipf-shift",
        include_str!("../../workloads/zipf-shift.toml"),
    ),
    ("zipf-scan", include_str!("../../workloads/zipf-scan.toml")),
    ("ycsb-a", include_str!("../../workloads/ycsb-a.toml")),
    ("ycsb-b", include_str!("../../workloads/ycsb-b.toml")),
    ("ycsb-c", include_str!("../../workloads/ycsb-c.toml")),
    ("ycsb-d", include_str!("../../workloads/ycsb-d.toml")),
    ("ycsb-e", include_str!("../../workloads/ycsb-e.toml")),
    ("ycsb-f", include_str!("../../workloads/ycsb-f.toml")),
];

/// Generators a preset can name.
pub(crate) const GENERATORS: &[&str] = &[
    "zipf",
    "uniform",
    "hotspot",
    "scan",
    "zipf-shift",
    "zipf-scan",
    "ycsb",
];

/// Most requests a synthetic workload may have: it is generated in memory
/// (8 bytes a key, 17 with writes, 8 more for an offline policy's next
/// uses), so 1G requests take 8 to 25 GB. Beyond it `--requests` is refused
/// (issue 16: `--requests 100G` aborted on allocation, 2^64 - 1 panicked).
pub(crate) const MAX_REQUESTS: u64 = 1_000_000_000;

/// Most requests and keys of the generators drawn in pieces (`zipf`,
/// `uniform`: [`Preset::stream`]), whose memory does not grow with either.
pub(crate) const MAX_STREAMED: u64 = 1_000_000_000_000;

/// Default request rate (requests per second) when a preset names none.
pub(crate) const DEFAULT_RATE: f64 = 1000.0;

/// A synthetic workload description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Filled from the file or preset name, not from the TOML.
    #[serde(skip)]
    pub name: String,
    /// One line for `cachesim list`.
    pub description: String,
    /// The generator: zipf, uniform, hotspot, scan, zipf-shift, zipf-scan or
    /// ycsb.
    pub generator: String,
    /// Number of requests to generate.
    pub requests: u64,
    /// Number of distinct keys in the key space.
    pub keys: u64,
    /// Zipf skew (zipf only).
    #[serde(default)]
    pub alpha: Option<f64>,
    /// Hot share of the keys (hotspot only).
    #[serde(default)]
    pub hot_keys: Option<f64>,
    /// Hot share of the requests (hotspot only).
    #[serde(default)]
    pub hot_requests: Option<f64>,
    /// Requests per second, for timestamps (TTL works on synthetic streams).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Object size in bytes (all objects the same size).
    #[serde(default)]
    pub size: Option<u32>,
    /// Share of requests that are writes (`set`), any generator but ycsb.
    #[serde(default)]
    pub write_ratio: Option<f64>,
    /// zipf-shift: requests between two moves of the popular set.
    #[serde(default)]
    pub shift_every: Option<u64>,
    /// zipf-shift: ranks the popularity ranking rotates by at each move.
    #[serde(default)]
    pub shift_by: Option<u64>,
    /// zipf-scan: Zipf requests between two scans.
    #[serde(default)]
    pub scan_every: Option<u64>,
    /// zipf-scan: keys per scan (each never requested again).
    #[serde(default)]
    pub scan_length: Option<u64>,
    /// ycsb: operation proportions (YCSB's `readproportion`, ...).
    #[serde(default)]
    pub read_proportion: Option<f64>,
    /// ycsb: share of updates (`updateproportion`); `None` is 0.
    #[serde(default)]
    pub update_proportion: Option<f64>,
    /// ycsb: share of inserts (`insertproportion`); `None` is 0.
    #[serde(default)]
    pub insert_proportion: Option<f64>,
    /// ycsb: share of scans (`scanproportion`); `None` is 0.
    #[serde(default)]
    pub scan_proportion: Option<f64>,
    /// ycsb: share of read-modify-writes (`readmodifywriteproportion`);
    /// `None` is 0.
    #[serde(default)]
    pub read_modify_write_proportion: Option<f64>,
    /// ycsb: zipfian (default), latest or uniform.
    #[serde(default)]
    pub request_distribution: Option<String>,
    /// ycsb: longest scan (YCSB's `maxscanlength`, default 100).
    #[serde(default)]
    pub max_scan_length: Option<u64>,
}

impl Preset {
    /// Loads a compiled-in preset by name, or a `.toml` file by path.
    pub fn load(name_or_path: &str) -> Result<Preset, String> {
        if let Some((name, text)) = PRESETS.iter().find(|(n, _)| *n == name_or_path) {
            return Preset::parse(name, text, "built-in preset");
        }
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read workload file '{name_or_path}': {e}"))?;
            // Labelled by its file name, `.toml` included, as traces are:
            // `sub/zipf.toml` is not the preset `zipf` (issue 16, item 17),
            // and a report's rerun command says `--workload zipf.toml`.
            let name = path
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| name_or_path.to_string());
            return Preset::parse(&name, &text, name_or_path);
        }
        Err(format!(
            "unknown workload '{name_or_path}'; valid workloads: {} (or a path to a .toml file, or --trace FILE)",
            PRESETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ))
    }

    fn parse(name: &str, text: &str, origin: &str) -> Result<Preset, String> {
        let mut p: Preset =
            basic_toml::from_str(text).map_err(|e| format!("workload file '{origin}': {e}"))?;
        p.name = name.to_string();
        p.validate()
            .map_err(|e| format!("workload '{origin}': {e}"))?;
        Ok(p)
    }

    /// Checks ranges; messages name the field and what is accepted.
    /// `requests` is at most [`MAX_REQUESTS`].
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !GENERATORS.contains(&self.generator.as_str()) {
            return Err(format!(
                "generator '{}' is unknown; valid generators: {}",
                self.generator,
                GENERATORS.join(", ")
            ));
        }
        let streamed = self.streams();
        if self.keys == 0 || (self.keys > 100_000_000 && !streamed) || self.keys > MAX_STREAMED {
            return Err(format!(
                "keys = {} must be between 1 and {}",
                self.keys,
                if streamed {
                    "10^12 (zipf, uniform)"
                } else {
                    "100M (10^12 for zipf and uniform, drawn in constant memory)"
                }
            ));
        }
        if self.requests == 0 {
            return Err("requests must be at least 1".into());
        }
        if streamed && self.requests > MAX_STREAMED {
            return Err(format!(
                "requests = {} is more than a synthetic workload may have (10^12, drawn in pieces); replay a longer stream from a trace file (--trace), which is read as it goes",
                self.requests
            ));
        }
        if !streamed && self.requests > MAX_REQUESTS {
            return Err(format!(
                "requests = {} is more than a synthetic workload may have ({MAX_REQUESTS}): it is generated in memory, 8 bytes a request and more; replay a longer stream from a trace file (--trace), which is read as it goes",
                self.requests
            ));
        }
        if let Some(a) = self.alpha {
            if !(0.0..=10.0).contains(&a) || !a.is_finite() {
                return Err(format!("alpha = {a} must be a number from 0 to 10"));
            }
        }
        for (field, v) in [
            ("hot_keys", self.hot_keys),
            ("hot_requests", self.hot_requests),
        ] {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("{field} = {v} must be a fraction from 0 to 1"));
                }
            }
        }
        if let Some(r) = self.rate {
            if !(r.is_finite() && r > 0.0) {
                return Err(format!(
                    "rate = {r} must be a positive number of requests per second"
                ));
            }
        }
        self.validate_fresh()
    }

    /// Checks the fields added for writes, shifting and scanning Zipf, and
    /// YCSB.
    fn validate_fresh(&self) -> Result<(), String> {
        if let Some(w) = self.write_ratio {
            if !(0.0..=1.0).contains(&w) {
                return Err(format!("write_ratio = {w} must be a fraction from 0 to 1"));
            }
            if self.generator == "ycsb" && w > 0.0 {
                return Err(
                    "write_ratio does not apply to ycsb workloads; set update_proportion instead"
                        .into(),
                );
            }
        }
        for (field, v) in [
            ("shift_every", self.shift_every),
            ("scan_every", self.scan_every),
            ("max_scan_length", self.max_scan_length),
        ] {
            if v == Some(0) {
                return Err(format!("{field} = 0 must be at least 1"));
            }
        }
        if self.generator == "ycsb" {
            let props = self.ycsb_mix();
            let all = [
                props.read,
                props.update,
                props.insert,
                props.scan,
                props.read_modify_write,
            ];
            if all.iter().any(|p| !(0.0..=1.0).contains(p)) || all.iter().sum::<f64>() <= 0.0 {
                return Err(
                    "read/update/insert/scan/read_modify_write proportions must be fractions from 0 to 1, not all 0"
                        .into(),
                );
            }
            if ycsb::Dist::parse(self.request_distribution.as_deref().unwrap_or("zipfian"))
                .is_none()
            {
                return Err(format!(
                    "request_distribution = '{}' is unknown; valid: {}",
                    self.request_distribution.as_deref().unwrap_or_default(),
                    ycsb::Dist::NAMES
                ));
            }
        }
        Ok(())
    }

    /// The YCSB operation mix (unset proportions are 0; all unset: read only).
    pub fn ycsb_mix(&self) -> ycsb::Mix {
        let p = |v: Option<f64>| v.unwrap_or(0.0);
        let mut m = ycsb::Mix {
            read: p(self.read_proportion),
            update: p(self.update_proportion),
            insert: p(self.insert_proportion),
            scan: p(self.scan_proportion),
            read_modify_write: p(self.read_modify_write_proportion),
        };
        if self.read_proportion.is_none()
            && m.update + m.insert + m.scan + m.read_modify_write == 0.0
        {
            m.read = 1.0;
        }
        m
    }

    fn ycsb_dist(&self) -> ycsb::Dist {
        ycsb::Dist::parse(self.request_distribution.as_deref().unwrap_or("zipfian"))
            .unwrap_or(ycsb::Dist::Zipfian)
    }

    /// The `k` most popular keys of the generator's distribution at the start
    /// of the stream, most popular first (for `--prefill top:K`). Keys of
    /// equal probability (uniform, within hotspot's sets) come in rank order.
    pub(crate) fn popular_keys(&self, k: u64) -> Vec<u64> {
        let n = self.keys;
        let k = k.min(n);
        match self.generator.as_str() {
            "zipf" | "hotspot" | "zipf-shift" | "zipf-scan" => zipf_shift::popular(n, k),
            "uniform" | "scan" => (0..k).collect(),
            "ycsb" => ycsb::popular(n, self.ycsb_dist(), k),
            other => unreachable!("generator {other} passed validation"),
        }
    }

    pub(crate) fn rate(&self) -> f64 {
        self.rate.unwrap_or(DEFAULT_RATE)
    }

    /// Generates the request stream for `seed`. Same seed, same stream.
    pub fn generate(&self, seed: u64) -> Batch {
        let keys = match self.generator.as_str() {
            "zipf" => zipf::generate(self.keys, self.alpha.unwrap_or(1.0), self.requests, seed),
            "uniform" => uniform::generate(self.keys, self.requests, seed),
            "hotspot" => hotspot::generate(
                self.keys,
                self.hot_keys.unwrap_or(0.2),
                self.hot_requests.unwrap_or(0.8),
                self.requests,
                seed,
            ),
            "scan" => scan::generate(self.keys, self.requests),
            "zipf-shift" => zipf_shift::generate(
                self.keys,
                self.alpha.unwrap_or(1.0),
                self.shift_every.unwrap_or(100_000),
                self.shift_by.unwrap_or(self.keys / 10),
                self.requests,
                seed,
            ),
            "zipf-scan" => zipf_scan::generate(
                self.keys,
                self.alpha.unwrap_or(1.0),
                self.scan_every.unwrap_or(100_000),
                self.scan_length.unwrap_or(self.keys / 5),
                self.requests,
                seed,
            ),
            "ycsb" => {
                let (keys, ops) = ycsb::generate(
                    self.keys,
                    self.ycsb_mix(),
                    self.ycsb_dist(),
                    self.alpha.unwrap_or(0.99),
                    self.max_scan_length.unwrap_or(100),
                    self.requests,
                    seed,
                );
                let mut b = Batch::new(self.rate(), self.size.unwrap_or(1));
                b.keys = keys;
                if ops.iter().any(|&o| o != crate::request::Op::Get) {
                    b.ops = ops;
                }
                return b;
            }
            other => unreachable!("generator {other} passed validation"),
        };
        let mut b = Batch::new(self.rate(), self.size.unwrap_or(1));
        if let Some(w) = self.write_ratio.filter(|&w| w > 0.0) {
            b.ops = writes::ops(keys.len(), w, seed);
        }
        b.keys = keys;
        b
    }

    /// Whether the generator draws each request independently (`zipf`,
    /// `uniform`), so that the stream can be drawn in pieces
    /// ([`Preset::stream`]) in memory that does not grow with it.
    pub(crate) fn streams(&self) -> bool {
        matches!(self.generator.as_str(), "zipf" | "uniform")
    }

    /// The sampler of a Zipf workload (the `zipf_sampler` column): `alias`
    /// or `rejection-inversion` by key count; empty for other generators.
    pub(crate) fn zipf_sampler(&self) -> &'static str {
        match self.generator.as_str() {
            "zipf" => zipf::sampler_name(self.keys),
            _ => "",
        }
    }

    /// The request stream of `seed` in pieces, for the generators that
    /// [`Preset::streams`]: the same requests as [`Preset::generate`], in
    /// memory that does not grow with the stream.
    pub(crate) fn stream(&self, seed: u64) -> Option<PresetStream> {
        let keys = match self.generator.as_str() {
            "zipf" => KeyStream::Zipf(zipf::ZipfStream::new(
                self.keys,
                self.alpha.unwrap_or(1.0),
                seed,
            )),
            "uniform" => KeyStream::Uniform(crate::rng::SimRng::new(seed), self.keys),
            _ => return None,
        };
        Some(PresetStream {
            keys,
            writes: self
                .write_ratio
                .filter(|&w| w > 0.0)
                .map(|w| writes::Writes::new(w, seed)),
            left: self.requests,
            rate: self.rate(),
            size: self.size.unwrap_or(1),
        })
    }

    /// A one-line description with the effective parameters, for tables.
    pub(crate) fn summary(&self) -> String {
        let mut s = format!("{} requests over {} keys", self.requests, self.keys);
        match self.generator.as_str() {
            "zipf" | "zipf-shift" | "zipf-scan" => {
                s += &format!(", alpha {}", self.alpha.unwrap_or(1.0))
            }
            "ycsb" => {
                let m = self.ycsb_mix();
                s += &format!(
                    ", {} (alpha {}), read/update/insert/scan/rmw {}/{}/{}/{}/{}",
                    self.request_distribution.as_deref().unwrap_or("zipfian"),
                    self.alpha.unwrap_or(0.99),
                    m.read,
                    m.update,
                    m.insert,
                    m.scan,
                    m.read_modify_write
                )
            }
            _ => {}
        }
        if let Some(w) = self.write_ratio.filter(|&w| w > 0.0) {
            s += &format!(", {}% writes", w * 100.0);
        }
        s
    }
}

/// Keys drawn one at a time.
enum KeyStream {
    Zipf(zipf::ZipfStream),
    Uniform(crate::rng::SimRng, u64),
}

/// A synthetic stream drawn in pieces ([`Preset::stream`]).
pub(crate) struct PresetStream {
    keys: KeyStream,
    writes: Option<writes::Writes>,
    left: u64,
    rate: f64,
    size: u32,
}

impl PresetStream {
    /// An empty batch of the stream's rate and object size.
    pub(crate) fn batch(&self) -> Batch {
        Batch::new(self.rate, self.size)
    }

    /// Replaces `b`'s requests with the next (at most `max`) ones; how
    /// many (0 at the end).
    pub(crate) fn next_batch(&mut self, b: &mut Batch, max: usize) -> usize {
        b.clear();
        let n = self.left.min(max as u64) as usize;
        self.left -= n as u64;
        b.keys.reserve(n);
        match &mut self.keys {
            KeyStream::Zipf(z) => b.keys.extend((0..n).map(|_| z.next_key())),
            KeyStream::Uniform(rng, k) => b.keys.extend((0..n).map(|_| rng.below(*k))),
        }
        if let Some(w) = &mut self.writes {
            b.ops.extend((0..n).map(|_| w.next_op()));
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_in_pieces_is_the_stream_at_once() {
        for (generator, writes) in [("zipf", None), ("uniform", Some(0.1)), ("zipf", Some(0.3))] {
            let mut p = Preset::load(generator).unwrap();
            p.requests = 100_003;
            p.keys = 5000;
            p.write_ratio = writes;
            let whole = p.generate(9);
            let mut s = p.stream(9).unwrap();
            let mut b = s.batch();
            let (mut keys, mut ops) = (Vec::new(), Vec::new());
            while s.next_batch(&mut b, 4096) > 0 {
                keys.extend_from_slice(&b.keys);
                ops.extend_from_slice(&b.ops);
            }
            assert_eq!(keys, whole.keys, "{generator}");
            assert_eq!(ops, whole.ops, "{generator}");
        }
        assert!(Preset::load("scan").unwrap().stream(1).is_none());
    }

    #[test]
    fn every_builtin_preset_parses_and_generates() {
        for (name, _) in PRESETS {
            let mut p = Preset::load(name).unwrap();
            p.requests = 1000;
            let b = p.generate(1);
            assert_eq!(b.len(), 1000, "{name}");
            // New keys only where the generator documents them.
            if !["zipf-scan", "ycsb-d", "ycsb-e"].contains(name) {
                assert!(b.keys.iter().all(|&k| k < p.keys), "{name}");
            }
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = Preset::load("zipff").unwrap_err();
        assert!(
            e.contains("zipf, uniform, hotspot, scan, zipf-shift"),
            "{e}"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let e = Preset::parse(
            "x",
            "description='d'\ngenerator='zipf'\nrequests=1\nkeys=0\n",
            "x.toml",
        )
        .unwrap_err();
        assert!(e.contains("keys = 0"), "{e}");
        let e = Preset::parse(
            "x",
            "description='d'\ngenerator='zipf'\nrequests=1\nkeys=5\nbogus=1\n",
            "x.toml",
        )
        .unwrap_err();
        assert!(e.contains("bogus"), "{e}");
    }
}
