//! Named synthetic workloads. Each preset is a TOML file in `workloads/`,
//! compiled into the binary so `--workload zipf` works from any folder; a path
//! to a `.toml` file of the same shape works too. Command-line options
//! (`--requests`, `--keys`, `--alpha`, `--rate`) override preset fields.

use super::{hotspot, scan, uniform, zipf, Batch};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The compiled-in presets: (name, TOML text).
pub static PRESETS: &[(&str, &str)] = &[
    ("zipf", include_str!("../../workloads/zipf.toml")),
    ("uniform", include_str!("../../workloads/uniform.toml")),
    ("hotspot", include_str!("../../workloads/hotspot.toml")),
    ("scan", include_str!("../../workloads/scan.toml")),
];

/// Generators a preset can name.
pub const GENERATORS: &[&str] = &["zipf", "uniform", "hotspot", "scan"];

/// Default request rate (requests per second) when a preset names none.
pub const DEFAULT_RATE: f64 = 1000.0;

/// A synthetic workload description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Filled from the file or preset name, not from the TOML.
    #[serde(skip)]
    pub name: String,
    pub description: String,
    pub generator: String,
    pub requests: u64,
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
            let name = path
                .file_stem()
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
    pub fn validate(&self) -> Result<(), String> {
        if !GENERATORS.contains(&self.generator.as_str()) {
            return Err(format!(
                "generator '{}' is unknown; valid generators: {}",
                self.generator,
                GENERATORS.join(", ")
            ));
        }
        if self.keys == 0 || self.keys > 100_000_000 {
            return Err(format!("keys = {} must be between 1 and 100M", self.keys));
        }
        if self.requests == 0 {
            return Err("requests must be at least 1".into());
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
        Ok(())
    }

    pub fn rate(&self) -> f64 {
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
            other => unreachable!("generator {other} passed validation"),
        };
        let mut b = Batch::new(self.rate(), self.size.unwrap_or(1));
        b.keys = keys;
        b
    }

    /// A one-line description with the effective parameters, for tables.
    pub fn summary(&self) -> String {
        let mut s = format!("{} requests over {} keys", self.requests, self.keys);
        if self.generator == "zipf" {
            s += &format!(", alpha {}", self.alpha.unwrap_or(1.0));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_preset_parses_and_generates() {
        for (name, _) in PRESETS {
            let mut p = Preset::load(name).unwrap();
            p.requests = 1000;
            let b = p.generate(1);
            assert_eq!(b.len(), 1000, "{name}");
            assert!(b.keys.iter().all(|&k| k < p.keys));
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = Preset::load("zipff").unwrap_err();
        assert!(e.contains("zipf, uniform, hotspot, scan"), "{e}");
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
