//! The parameters of the `csv` reader and of the dataset presets built on it
//! ([`super::datasets`]): which column holds which field, and how the text is
//! cut and read.
//!
//! A spec is a list of `NAME=VALUE` items separated by `,` or `:` (both
//! mean the same), e.g. `key=2,time=1,size=4:header=1:sep=tab`. Names are
//! lowercase; an item may be given once.
//!
//! **Fields** take a 1-based column number: `key`, `time`, `size`,
//! `key_size`, `value_size` (the size is their sum when there is no `size`
//! column), `op`, `ttl`, `count` (or `op_count`: the row is that many
//! requests), `tenant`, and for block traces `offset`, `length` and
//! `volume`. `key` and `volume` may join several columns with `+`
//! (`key=2+3`): their texts, joined by the byte 0x1F, are hashed.
//!
//! **Options**: `header=0|1` (skip the first record; default 0 when columns
//! are mapped), `sep=comma|tab|space|semicolon|pipe|colon|C` (any other one
//! character; `space` takes a run of spaces and tabs as one separator),
//! `time_unit=` and `ttl_unit=` `s|ms|us|µs|ns|filetime|yyyymmddhhmmss`
//! (default `s`; `filetime` counts 100 ns ticks, `yyyymmddhhmmss` is a UTC
//! date and time read as Unix seconds), `keys=auto|number|hash`, `ops=R/W[/D]`
//! (the codes the op column uses for get, set and delete, instead of the
//! names cachesim knows), `page=SIZE` (block traces, default 4KiB) and
//! `sector=BYTES` (the unit of offset and length, default 1).
//!
//! With no field mapped, a header row names the columns, as the plain `csv`
//! reader has always read them.

use crate::request::Op;
use crate::units::parse_bytes;

/// Field names, in the order `cachesim list` and errors show them.
pub(crate) const FIELDS: &[&str] = &[
    "key",
    "time",
    "size",
    "key_size",
    "value_size",
    "op",
    "ttl",
    "count",
    "tenant",
    "offset",
    "length",
    "volume",
];

/// Option names.
pub(crate) const OPTIONS: &[&str] = &[
    "header",
    "sep",
    "time_unit",
    "ttl_unit",
    "keys",
    "ops",
    "page",
    "sector",
];

/// The grammar in one line, for `cachesim list` and errors.
pub(crate) const GRAMMAR: &str = "csv[:FIELD=COLUMN,...][:header=0|1][:sep=comma|tab|space|semicolon|pipe|C][:time_unit=s|ms|us|µs|ns|filetime|yyyymmddhhmmss][:ttl_unit=...][:keys=auto|number|hash][:ops=GET/SET[/DELETE]][:page=SIZE][:sector=BYTES]; fields: key, time, size, key_size, value_size, op, ttl, count, tenant, offset, length, volume (key and volume may join columns: key=2+3); without fields a header row names the columns";

/// Most pages one block request may touch: 2^20 (4 GiB of 4 KiB pages).
pub(crate) const MAX_PAGES: u64 = 1 << 20;

/// Largest page size: 1 GiB (sizes are `u32`).
const MAX_PAGE: u64 = 1 << 30;

/// What separates fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    /// One byte; two in a row enclose an empty field.
    Byte(u8),
    /// A run of spaces and tabs; leading and trailing ones are ignored.
    Blanks,
}

/// The unit of a time column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TimeUnit {
    /// Seconds per unit.
    Scale(f64),
    /// `YYYYMMDDHHMMSS`, UTC, read as Unix seconds.
    DateTime,
}

/// How a key field becomes a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMode {
    /// A decimal `u64` as-is, anything else hashed (FNV-1a).
    Auto,
    /// Must be a decimal `u64`.
    Number,
    /// Always hashed, digits too.
    Hash,
}

/// A parsed spec: 0-based columns and options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mapping {
    /// Key columns (several are joined and hashed); empty for none.
    pub key: Vec<usize>,
    pub time: Option<usize>,
    pub size: Option<usize>,
    pub key_size: Option<usize>,
    pub value_size: Option<usize>,
    pub op: Option<usize>,
    pub ttl: Option<usize>,
    pub count: Option<usize>,
    pub tenant: Option<usize>,
    pub offset: Option<usize>,
    pub length: Option<usize>,
    /// Volume columns of a block trace; empty for none.
    pub volume: Vec<usize>,
    /// Skip the first record.
    pub header: bool,
    pub sep: Sep,
    pub time_unit: TimeUnit,
    pub ttl_unit: TimeUnit,
    pub keys: KeyMode,
    /// Codes of get, set and delete in the op column, when not names.
    pub ops: Option<Vec<(String, Op)>>,
    /// Page size of block traces, bytes.
    pub page: u64,
    /// Bytes per unit of offset and length.
    pub sector: u64,
}

/// `NAME=VALUE` items of a spec, in order; an error for an item without
/// `=` or a name given twice.
pub(crate) fn items(spec: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in spec.split([',', ':']).map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let Some((name, value)) = item.split_once('=') else {
            return Err(format!("'{item}' is not NAME=VALUE; {}", names_help()));
        };
        let name = name.trim().to_ascii_lowercase();
        let name = if name == "op_count" {
            "count".into()
        } else {
            name
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(format!("'{name}' is given twice"));
        }
        out.push((name, value.trim().to_string()));
    }
    Ok(out)
}

fn names_help() -> String {
    format!(
        "fields: {} (a column number from 1); options: {}",
        FIELDS.join(", "),
        OPTIONS.join(", ")
    )
}

impl Mapping {
    /// Parses a spec (see the module documentation).
    pub(crate) fn parse(spec: &str) -> Result<Mapping, String> {
        Mapping::from_items(&items(spec)?)
    }

    /// Parses items (see [`items`]).
    pub(crate) fn from_items(items: &[(String, String)]) -> Result<Mapping, String> {
        let mut m = Mapping {
            key: Vec::new(),
            time: None,
            size: None,
            key_size: None,
            value_size: None,
            op: None,
            ttl: None,
            count: None,
            tenant: None,
            offset: None,
            length: None,
            volume: Vec::new(),
            header: false,
            sep: Sep::Byte(b','),
            time_unit: TimeUnit::Scale(1.0),
            ttl_unit: TimeUnit::Scale(1.0),
            keys: KeyMode::Auto,
            ops: None,
            page: 4096,
            sector: 1,
        };
        let mut header = None;
        for (name, value) in items {
            let v = value.as_str();
            match name.as_str() {
                "key" => m.key = columns(name, v)?,
                "volume" => m.volume = columns(name, v)?,
                "header" => {
                    header = Some(match v {
                        "0" => false,
                        "1" => true,
                        _ => return Err(format!("header={v}: expected 0 or 1")),
                    })
                }
                "sep" => m.sep = sep(v)?,
                "time_unit" => m.time_unit = unit(name, v)?,
                "ttl_unit" => {
                    m.ttl_unit = unit(name, v)?;
                    if m.ttl_unit == TimeUnit::DateTime {
                        return Err("ttl_unit=yyyymmddhhmmss: a TTL is a duration; expected s, ms, us, ns or filetime".into());
                    }
                }
                "keys" => {
                    m.keys = match v {
                        "auto" => KeyMode::Auto,
                        "number" => KeyMode::Number,
                        "hash" => KeyMode::Hash,
                        _ => return Err(format!("keys={v}: expected auto, number or hash")),
                    }
                }
                "ops" => m.ops = Some(ops(v)?),
                "page" => m.page = bytes(name, v, 1, MAX_PAGE)?,
                "sector" => m.sector = bytes(name, v, 1, MAX_PAGE)?,
                other => {
                    let slot = m
                        .slot(other)
                        .ok_or_else(|| format!("unknown name '{other}'; {}", names_help()))?;
                    *slot = Some(column(other, v)?);
                }
            }
        }
        m.header = header.unwrap_or(!m.mapped());
        if !m.mapped() {
            if header == Some(false) {
                return Err(
                    "header=0 needs columns mapped by number (key=N,...): without them a header row names the columns".into(),
                );
            }
            return Ok(m);
        }
        m.check()?;
        Ok(m)
    }

    /// The single-column field called `name`.
    fn slot(&mut self, name: &str) -> Option<&mut Option<usize>> {
        Some(match name {
            "time" => &mut self.time,
            "size" => &mut self.size,
            "key_size" => &mut self.key_size,
            "value_size" => &mut self.value_size,
            "op" => &mut self.op,
            "ttl" => &mut self.ttl,
            "count" => &mut self.count,
            "tenant" => &mut self.tenant,
            "offset" => &mut self.offset,
            "length" => &mut self.length,
            _ => return None,
        })
    }

    /// Whether any column is mapped (else a header names them).
    pub(crate) fn mapped(&self) -> bool {
        !self.key.is_empty() || !self.volume.is_empty() || self.named().next().is_some()
    }

    /// The single-column fields that are mapped, with their names.
    fn named(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        [
            ("time", self.time),
            ("size", self.size),
            ("key_size", self.key_size),
            ("value_size", self.value_size),
            ("op", self.op),
            ("ttl", self.ttl),
            ("count", self.count),
            ("tenant", self.tenant),
            ("offset", self.offset),
            ("length", self.length),
        ]
        .into_iter()
        .filter_map(|(n, c)| c.map(|c| (n, c)))
    }

    /// Whether requests are block ranges (offset and length).
    pub(crate) fn block(&self) -> bool {
        self.offset.is_some() || self.length.is_some()
    }

    /// Every mapped column with the field it holds.
    pub(crate) fn all_columns(&self) -> Vec<(&'static str, usize)> {
        let mut all: Vec<(&'static str, usize)> = self.named().collect();
        all.extend(self.key.iter().map(|&c| ("key", c)));
        all.extend(self.volume.iter().map(|&c| ("volume", c)));
        all
    }

    /// The checks that involve several fields.
    pub(crate) fn check(&self) -> Result<(), String> {
        let all = self.all_columns();
        for (i, (n, c)) in all.iter().enumerate() {
            if let Some((m, _)) = all[..i].iter().find(|(_, d)| d == c) {
                return Err(format!(
                    "column {} is mapped twice ({m} and {n}); each column holds one field",
                    c + 1
                ));
            }
        }
        if self.size.is_some() && (self.key_size.is_some() || self.value_size.is_some()) {
            return Err(
                "size and key_size/value_size both mapped: the size is either one column or the sum of key_size and value_size".into(),
            );
        }
        if self.block() {
            if self.offset.is_none() || self.length.is_none() {
                return Err("a block trace maps both offset and length".into());
            }
            for (given, name) in [
                (!self.key.is_empty(), "key"),
                (
                    self.size.is_some() || self.key_size.is_some() || self.value_size.is_some(),
                    "size",
                ),
                (self.count.is_some(), "count"),
            ] {
                if given {
                    return Err(format!(
                        "a block trace (offset, length) takes no {name} column: each request is one per page it touches, the key the page number (map the disk to volume=N)"
                    ));
                }
            }
        } else {
            if self.key.is_empty() {
                return Err(format!(
                    "no key column: map key=N (or offset= and length= for a block trace); {}",
                    names_help()
                ));
            }
            if !self.volume.is_empty() {
                return Err("volume is for block traces: map offset and length too".into());
            }
        }
        if self.keys == KeyMode::Number && self.key.len() > 1 {
            return Err("keys=number takes one key column: joined columns are hashed".into());
        }
        Ok(())
    }
}

/// A column number from 1, as 0-based.
fn column(name: &str, v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if (1..=4096).contains(&n) => Ok(n - 1),
        _ => Err(format!(
            "{name}={v}: expected a column number from 1 (the first column) to 4096"
        )),
    }
}

/// `N` or `N+M+...`.
fn columns(name: &str, v: &str) -> Result<Vec<usize>, String> {
    v.split('+').map(|c| column(name, c.trim())).collect()
}

fn sep(v: &str) -> Result<Sep, String> {
    Ok(match v {
        "comma" => Sep::Byte(b','),
        "tab" | "\\t" => Sep::Byte(b'\t'),
        "space" => Sep::Blanks,
        "semicolon" => Sep::Byte(b';'),
        "pipe" => Sep::Byte(b'|'),
        "colon" => Sep::Byte(b':'),
        _ if v.len() == 1 && !v.as_bytes()[0].is_ascii_alphanumeric() && v != "\"" => {
            Sep::Byte(v.as_bytes()[0])
        }
        _ => {
            return Err(format!(
                "sep={v}: expected comma, tab, space, semicolon, pipe, colon or one other ASCII character (not a letter, digit or quote)"
            ))
        }
    })
}

fn unit(name: &str, v: &str) -> Result<TimeUnit, String> {
    Ok(match v {
        "s" => TimeUnit::Scale(1.0),
        "ms" => TimeUnit::Scale(1e-3),
        "us" | "µs" => TimeUnit::Scale(1e-6),
        "ns" => TimeUnit::Scale(1e-9),
        "filetime" => TimeUnit::Scale(1e-7),
        "yyyymmddhhmmss" => TimeUnit::DateTime,
        _ => {
            return Err(format!(
            "{name}={v}: expected s, ms, us (or µs), ns, filetime (100 ns ticks) or yyyymmddhhmmss"
        ))
        }
    })
}

fn ops(v: &str) -> Result<Vec<(String, Op)>, String> {
    let codes: Vec<&str> = v.split('/').map(str::trim).collect();
    if !(2..=3).contains(&codes.len()) || codes.iter().any(|c| c.is_empty()) {
        return Err(format!(
            "ops={v}: expected the codes of get and set, and optionally delete, separated by '/' (ops=R/W, ops=0/1/2)"
        ));
    }
    Ok(codes
        .iter()
        .zip([Op::Get, Op::Set, Op::Delete])
        .map(|(c, op)| (c.to_string(), op))
        .collect())
}

fn bytes(name: &str, v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = match parse_bytes(v) {
        Some(r) => r.map_err(|e| format!("{name}={v}: {e}"))?,
        None => v
            .parse::<u64>()
            .map_err(|_| format!("{name}={v}: expected a size such as 4096, 4KiB or 8KiB"))?,
    };
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{name}={v}: expected {min} bytes to 1GiB"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_parses() {
        let m = Mapping::parse("key=2,time=1,size=4,op=6,ttl=7,count=5:header=0:sep=tab").unwrap();
        assert_eq!(m.key, vec![1]);
        assert_eq!(
            (m.time, m.size, m.op, m.ttl, m.count),
            (Some(0), Some(3), Some(5), Some(6), Some(4))
        );
        assert!(!m.header);
        assert_eq!(m.sep, Sep::Byte(b'\t'));
        let m =
            Mapping::parse("key=1+3:sep=space:time_unit=µs:keys=hash:ops=R/W:page=8KiB:header=1")
                .unwrap();
        assert_eq!(m.key, vec![0, 2]);
        assert_eq!(m.sep, Sep::Blanks);
        assert_eq!(m.time_unit, TimeUnit::Scale(1e-6));
        assert_eq!(m.keys, KeyMode::Hash);
        assert_eq!(m.page, 8192);
        assert!(m.header);
        assert_eq!(m.ops.unwrap()[1], ("W".to_string(), Op::Set));
        // No columns: a header names them, and is on.
        let m = Mapping::parse("sep=;").unwrap();
        assert!(!m.mapped() && m.header && m.sep == Sep::Byte(b';'));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        for (spec, want) in [
            ("key=2,tim=1", "unknown name 'tim'; fields: key, time, size"),
            ("key=2,shape=1", "options: header, sep"),
            ("key=0", "key=0: expected a column number from 1"),
            ("key=x", "key=x: expected a column number"),
            ("key=2,time=2", "column 2 is mapped twice (time and key)"),
            ("key=2,key=3", "'key' is given twice"),
            ("time=1,size=2", "no key column"),
            ("key=1,size=2,key_size=3", "size and key_size/value_size"),
            ("offset=1", "maps both offset and length"),
            ("offset=1,length=2,key=3", "takes no key column"),
            ("key=1,volume=2", "volume is for block traces"),
            ("key=1:header=2", "header=2: expected 0 or 1"),
            ("key=1:sep=ab", "sep=ab: expected comma"),
            ("key=1:time_unit=min", "time_unit=min: expected s, ms"),
            ("key=1:keys=text", "keys=text: expected auto"),
            ("key=1:ops=R", "ops=R: expected the codes"),
            (
                "offset=1,length=2:page=0",
                "page=0: expected 1 bytes to 1GiB",
            ),
            ("offset=1,length=2:page=2GiB", "expected 1 bytes to 1GiB"),
            ("key=1+2:keys=number", "keys=number takes one key column"),
            ("header=0", "header=0 needs columns mapped"),
            ("key", "'key' is not NAME=VALUE"),
        ] {
            let e = Mapping::parse(spec).unwrap_err();
            assert!(e.contains(want), "{spec}: {e}");
        }
    }
}
