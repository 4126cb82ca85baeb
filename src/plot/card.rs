//! Figure cards: `cachesim plot` writes `NAME-KIND.figure.json` beside each
//! chart, saying what it drew (the kind, the inputs, the options) and the
//! command that drew it, so `cachesim report CARD...` can assemble exactly
//! those figures, in the order given, each redrawn with its own options and
//! captioned with its takeaway and the commands that reproduce it.
//!
//! Inputs are stored relative to the card's folder when they are inside it
//! (so a results folder can be moved whole), else as absolute paths.

use super::{PlotOptions, YMetric};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file name suffix of a card.
pub const SUFFIX: &str = ".figure.json";

/// One figure: what `cachesim plot` drew, enough to draw it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureCard {
    /// Always `cachesim-figure`: tells a card from other JSON.
    pub format: String,
    /// The chart kind (`mrc`, `latency`, ...).
    pub kind: String,
    /// The CSV inputs, relative to the card's folder when inside it.
    pub inputs: Vec<PathBuf>,
    /// `--strategy`: the strategies drawn (empty: all).
    #[serde(default)]
    pub strategy: Vec<String>,
    /// `--workload`: the workloads drawn (empty: all).
    #[serde(default)]
    pub workload: Vec<String>,
    /// `--capacity`.
    #[serde(default)]
    pub capacity: Option<String>,
    /// `--y`: `hit` or `miss`.
    #[serde(default)]
    pub y: String,
    /// `--overlay`.
    #[serde(default)]
    pub overlay: bool,
    /// `--highlight`.
    #[serde(default)]
    pub highlight: Vec<String>,
    /// `--title` (empty: the generated title).
    #[serde(default)]
    pub title: Option<String>,
    /// The `cachesim plot` command that drew the figure.
    #[serde(default)]
    pub command: String,
}

const FORMAT: &str = "cachesim-figure";

impl FigureCard {
    /// A card for `kind` drawn from `inputs` with `opts`, to be written
    /// into `dir`.
    pub fn new(
        kind: &str,
        inputs: &[PathBuf],
        strategy: &[String],
        workload: &[String],
        opts: &PlotOptions,
        dir: &Path,
        command: String,
    ) -> FigureCard {
        FigureCard {
            format: FORMAT.into(),
            kind: kind.into(),
            inputs: inputs.iter().map(|p| relative_to(p, dir)).collect(),
            strategy: strategy.to_vec(),
            workload: workload.to_vec(),
            capacity: opts.capacity.clone(),
            y: match opts.y {
                YMetric::Hit => "hit".into(),
                YMetric::Miss => "miss".into(),
            },
            overlay: opts.overlay,
            highlight: opts.highlight.clone(),
            title: opts.title.clone(),
            command,
        }
    }

    /// The plot options the card records.
    pub fn options(&self) -> PlotOptions {
        PlotOptions {
            y: if self.y == "miss" {
                YMetric::Miss
            } else {
                YMetric::Hit
            },
            capacity: self.capacity.clone(),
            title: self.title.clone(),
            overlay: self.overlay,
            highlight: self.highlight.clone(),
        }
    }

    /// The inputs as paths to open, for a card read from `card_path`.
    pub fn input_paths(&self, card_path: &Path) -> Vec<PathBuf> {
        let dir = card_path.parent().unwrap_or(Path::new(""));
        self.inputs
            .iter()
            .map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    dir.join(p)
                }
            })
            .collect()
    }

    /// Reads a card, or says why `path` is not one.
    pub fn read(path: &Path) -> Result<FigureCard, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        let card: FigureCard = serde_json::from_str(&text).map_err(|e| {
            format!(
                "'{}' is not a figure card written by `cachesim plot`: {e}",
                path.display()
            )
        })?;
        if card.format != FORMAT {
            return Err(format!(
                "'{}' is not a figure card written by `cachesim plot` (format '{}')",
                path.display(),
                card.format
            ));
        }
        Ok(card)
    }

    /// The card as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Whether `path` names a figure card (by its name).
pub fn is_card(path: &Path) -> bool {
    path.to_string_lossy().ends_with(SUFFIX)
}

/// `p` relative to `dir` when it lies inside it, else absolute (or as
/// given when it cannot be resolved).
fn relative_to(p: &Path, dir: &Path) -> PathBuf {
    let (Ok(abs), Ok(base)) = (std::fs::canonicalize(p), std::fs::canonicalize(dir)) else {
        return p.to_path_buf();
    };
    match abs.strip_prefix(&base) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => abs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_round_trips_and_resolves_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(&csv, "x").unwrap();
        let opts = PlotOptions {
            capacity: Some("1%".into()),
            highlight: vec!["lru".into()],
            ..PlotOptions::default()
        };
        let card = FigureCard::new(
            "mrc",
            std::slice::from_ref(&csv),
            &[],
            &[],
            &opts,
            dir.path(),
            "cachesim plot a.csv".into(),
        );
        assert_eq!(card.inputs, [PathBuf::from("a.csv")]);
        let path = dir.path().join(format!("a-mrc{SUFFIX}"));
        std::fs::write(&path, card.to_json()).unwrap();
        let back = FigureCard::read(&path).unwrap();
        assert_eq!(back, card);
        assert_eq!(back.input_paths(&path), [dir.path().join("a.csv")]);
        assert_eq!(back.options().capacity.as_deref(), Some("1%"));
        assert_eq!(back.options().highlight, ["lru"]);
        assert!(is_card(&path) && !is_card(&csv));
        std::fs::write(
            &path,
            "{\"format\":\"other\",\"kind\":\"mrc\",\"inputs\":[]}",
        )
        .unwrap();
        let e = FigureCard::read(&path).unwrap_err();
        assert!(e.contains("not a figure card"), "{e}");
    }
}
