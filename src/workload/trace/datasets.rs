//! Named presets for the public cache trace datasets: each is the `csv`
//! reader with a fixed column mapping ([`super::mapping`]), which the
//! spec's own parameters extend or replace (`msr:page=8KiB`,
//! `wiki-cdn:header=1`). None is detected: name it with `--trace-format`.
//!
//! The layouts, and where they were checked:
//!
//! - `twitter`: Twitter Twemcache/Pelikan 2020
//!   (<https://github.com/twitter/cache-trace>, README "Trace Format"):
//!   headerless CSV `timestamp,anonymized key,key size,value size,client
//!   id,operation,TTL`; time in seconds, size = key size + value size, the
//!   client id is the tenant, ops get/gets/set/add/replace/cas/append/
//!   prepend/delete/incr/decr, TTL in seconds (0 for reads).
//! - `meta-kv`: Meta KV cache traces (cachelib.org; layouts in CacheLib's
//!   `cachebench/workload/KVReplayGenerator.h` and its test, and in
//!   <https://github.com/cacheMon/cache_dataset>): CSV with a header row,
//!   2022 `key,op,size,op_count,key_size[,ttl]` and 2024
//!   `op_time,key,key_size,op,op_count,size,cache_hits,ttl[,usecase,sub_usecase]`.
//!   Read by header name: `op_time` is the time (seconds), `size` the value
//!   size (size = key_size + size), `op_count` repeats the row, `usecase`
//!   is the tenant; ops GET, GET_LEASE, SET, SET_LEASE, DELETE. Rows may
//!   have more fields than the header (a trailing comma, a ttl the 2022
//!   header lacks).
//! - `meta-cdn`: Meta CDN 2023/2025 (layout from CacheLib's
//!   `PieceWiseReplayGenerator.h` and cache_dataset's README):
//!   `timestamp,cacheKey,OpType,objectSize,responseSize,responseHeaderSize,
//!   rangeStart,rangeEnd,TTL,SamplingRate,cache_hit,...`; time (s) column
//!   1, key 2, size = objectSize 4, TTL 9; every request a get (OpType is
//!   always 1 and CacheLib replays gets only). A header row is assumed
//!   (the column names above are its); `meta-cdn:header=0` if a file has
//!   none.
//! - `wiki-cdn`: Wikimedia CDN 2019 upload traces
//!   (<https://wikitech.wikimedia.org/wiki/Analytics/Data_Lake/Traffic/Caching>):
//!   TSV `relative_unix,hashed_path_query,image_type,response_size,time_firstbyte`;
//!   time (s) 1, key 2, the image type is the tenant (hashed), size 4.
//!   The page does not say whether files have a header row: none is
//!   assumed (`wiki-cdn:header=1` otherwise; an error on line 1 says so).
//! - `tencent-photo`: Tencent QQPhoto 2016 (SNIA; fields from cache_dataset's
//!   README): `timestamp(YYYYMMDDHHMMSS) photo_id image_format size_category
//!   return_size cache_hit terminal_type response_time`; the object is the
//!   photo in one format and size tier (key = columns 2+3+4 hashed), size
//!   the returned bytes, the terminal type (PHONE/PC) the tenant. The
//!   separator is not stated in the README: whitespace is assumed (runs of
//!   spaces or tabs); `tencent-photo:sep=comma` otherwise.
//! - `msr`: MSR Cambridge block traces (SNIA; cache_dataset's README,
//!   libCacheSim's `msr_convert.py`): headerless CSV
//!   `Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime`; time in
//!   Windows filetime (100 ns ticks), volume = host + disk, Type
//!   Read/Write, offset and size in bytes.
//! - `alibaba-block`: Alibaba Cloud EBS 2020
//!   (<https://github.com/alibaba/block-traces>, README "Schema"):
//!   headerless CSV `device_id,opcode,offset,length,timestamp`; opcode R/W,
//!   bytes, time in microseconds.
//! - `tencent-cbs`: Tencent Cloud Block Storage 2018 (SNIA; cache_dataset's
//!   README): headerless CSV `Timestamp,Offset,Size,IOType,VolumeID`; time
//!   in seconds, offset and size in 512-byte sectors, IOType 0 read, 1
//!   write.
//!
//! Block presets turn a request into one request per page it touches
//! (`page=SIZE`, or `--page-size`; 4 KiB by default): see [`super::csv`].

use super::csv::{spec_error, CsvReader};
use super::mapping::{items, Mapping};
use super::{Claim, Format, TraceError, TraceFormat, TraceSpec};
use crate::workload::RequestSource;
use std::io::BufRead;
use std::path::Path;

/// A dataset preset: its name and its `csv` spec.
pub(crate) struct Preset {
    pub name: &'static str,
    /// One line for `cachesim list`; ends with the spec.
    pub describe: &'static str,
    /// The mapping (see [`super::mapping`]); empty: a header names the
    /// columns.
    pub spec: &'static str,
    /// Header names read as field names (header-named presets).
    pub aliases: &'static [(&'static str, &'static str)],
}

/// A preset whose columns are mapped by number.
const fn positional(name: &'static str, describe: &'static str, spec: &'static str) -> Preset {
    Preset {
        name,
        describe,
        spec,
        aliases: &[],
    }
}

const TWITTER: Preset = positional(
    "twitter",
    "Twitter Twemcache 2020, headerless; size = key + value, client = tenant: csv:time=1,key=2,key_size=3,value_size=4,tenant=5,op=6,ttl=7",
    "time=1,key=2,key_size=3,value_size=4,tenant=5,op=6,ttl=7",
);

const META_KV: Preset = Preset {
    name: "meta-kv",
    describe: "Meta KV cache 2022 and 2024, header row; op_time = time, size = key_size + size, op_count repeats, usecase = tenant: csv by header name",
    spec: "",
    aliases: &[
        ("op_time", "time"),
        ("size", "value_size"),
        ("usecase", "tenant"),
    ],
};

const META_CDN: Preset = positional(
    "meta-cdn",
    "Meta CDN 2023/2025, header row; objectSize = size, all gets: csv:time=1,key=2,size=4,ttl=9:header=1",
    "time=1,key=2,size=4,ttl=9:header=1",
);

const WIKI_CDN: Preset = positional(
    "wiki-cdn",
    "Wikimedia CDN 2019 upload, TSV; image_type = tenant: csv:time=1,key=2,tenant=3,size=4:sep=tab",
    "time=1,key=2,tenant=3,size=4:sep=tab",
);

const TENCENT_PHOTO: Preset = positional(
    "tencent-photo",
    "Tencent QQPhoto 2016, whitespace-separated; key = photo + format + tier, terminal = tenant: csv:time=1,key=2+3+4,size=5,tenant=7:sep=space:time_unit=yyyymmddhhmmss",
    "time=1,key=2+3+4,size=5,tenant=7:sep=space:time_unit=yyyymmddhhmmss",
);

const MSR: Preset = positional(
    "msr",
    "MSR Cambridge block I/O, one request per page: csv:time=1,volume=2+3,op=4,offset=5,length=6:time_unit=filetime",
    "time=1,volume=2+3,op=4,offset=5,length=6:time_unit=filetime",
);

const ALIBABA_BLOCK: Preset = positional(
    "alibaba-block",
    "Alibaba Cloud EBS 2020 block I/O, one request per page: csv:volume=1,op=2,offset=3,length=4,time=5:time_unit=us",
    "volume=1,op=2,offset=3,length=4,time=5:time_unit=us",
);

const TENCENT_CBS: Preset = positional(
    "tencent-cbs",
    "Tencent Cloud Block Storage 2018, 512-byte sectors, one request per page: csv:time=1,offset=2,length=3,op=4,volume=5:sector=512:ops=0/1",
    "time=1,offset=2,length=3,op=4,volume=5:sector=512:ops=0/1",
);

/// Every preset, in `cachesim list` order.
pub(crate) const PRESETS: &[&Preset] = &[
    &TWITTER,
    &META_KV,
    &META_CDN,
    &WIKI_CDN,
    &TENCENT_PHOTO,
    &MSR,
    &ALIBABA_BLOCK,
    &TENCENT_CBS,
];

/// A preset's items with `params`'s items put over them (a name the spec
/// gives replaces the preset's).
fn merged(p: &Preset, params: &str) -> Result<Vec<(String, String)>, String> {
    let mut all = items(p.spec)?;
    for (name, value) in items(params)? {
        all.retain(|(n, _)| *n != name);
        all.push((name, value));
    }
    Ok(all)
}

/// [`Format::params`] of a preset.
fn check(p: &Preset, params: &str) -> Result<(), String> {
    Mapping::from_items(&merged(p, params)?).map(|_| ())
}

/// [`Format::open`] of a preset.
fn open(
    p: &Preset,
    path: &Path,
    input: Box<dyn BufRead + Send>,
    params: &str,
) -> Result<Box<dyn RequestSource + Send>, TraceError> {
    let items = merged(p, params).map_err(|msg| spec_error(path, msg))?;
    Ok(Box::new(CsvReader::new(
        path, input, &items, p.aliases, false,
    )?))
}

/// A preset's [`Format`] entry.
macro_rules! entry {
    ($($format:ident = $preset:ident,)*) => {
        $(
            #[doc = concat!("The `", stringify!($preset), "` preset in the table of trace formats.")]
            pub(crate) static $format: Format = Format {
                name: $preset.name,
                aliases: &[],
                describe: $preset.describe,
                by_name: |_| false,
                by_content: |_| Claim::No,
                lines: true,
                params: |p| check(&$preset, p),
                open: |path, input, p| open(&$preset, path, input, p),
            };
        )*
    };
}

entry! {
    TWITTER_FORMAT = TWITTER,
    META_KV_FORMAT = META_KV,
    META_CDN_FORMAT = META_CDN,
    WIKI_CDN_FORMAT = WIKI_CDN,
    TENCENT_PHOTO_FORMAT = TENCENT_PHOTO,
    MSR_FORMAT = MSR,
    ALIBABA_BLOCK_FORMAT = ALIBABA_BLOCK,
    TENCENT_CBS_FORMAT = TENCENT_CBS,
}

/// The spec with `page=SIZE` added (what `--page-size SIZE` means), when it
/// names a block format: a block preset, or `csv` with `offset` and `length`
/// mapped. Refused for any other format, or when the spec gives `page=`.
pub(crate) fn with_page_size(spec: &TraceSpec, size: &str) -> Result<TraceSpec, String> {
    let block_names = || {
        let names: Vec<&str> = PRESETS
            .iter()
            .filter(|p| Mapping::parse(p.spec).is_ok_and(|m| m.block()))
            .map(|p| p.name)
            .collect();
        names.join(", ")
    };
    let not_block = || {
        format!(
            "only applies to block traces ({}, or csv with offset= and length= columns), not '{spec}'",
            block_names()
        )
    };
    let all = match PRESETS.iter().find(|p| p.name == spec.format.name()) {
        Some(p) => merged(p, &spec.params)?,
        None if spec.format == TraceFormat::Csv => items(&spec.params)?,
        None => return Err(not_block()),
    };
    if !Mapping::from_items(&all)?.block() {
        return Err(not_block());
    }
    if items(&spec.params)?.iter().any(|(n, _)| n == "page") {
        return Err(format!(
            "the trace format '{spec}' gives page= already; give the page size once"
        ));
    }
    let params = if spec.params.is_empty() {
        format!("page={size}")
    } else {
        format!("{}:page={size}", spec.params)
    };
    let out = TraceSpec {
        format: spec.format,
        params,
    };
    (out.format.entry().params)(&out.params)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_registered_and_lists_its_mapping() {
        for p in PRESETS {
            let f = TraceFormat::parse(p.name).unwrap();
            assert_eq!(f.describe(), p.describe);
            let m = Mapping::parse(p.spec).unwrap();
            if m.mapped() {
                assert!(
                    p.describe.ends_with(&format!("csv:{}", p.spec)),
                    "{}",
                    p.name
                );
            } else {
                assert!(!p.aliases.is_empty(), "{}", p.name);
            }
        }
    }

    #[test]
    fn page_size_goes_to_block_specs_only_and_once() {
        let spec = |s: &str| TraceSpec::parse(s).unwrap();
        let out = with_page_size(&spec("msr"), "8KiB").unwrap();
        assert_eq!(out.to_string(), "msr:page=8KiB");
        let out = with_page_size(&spec("csv:offset=1,length=2"), "512").unwrap();
        assert_eq!(out.to_string(), "csv:offset=1,length=2:page=512");
        for (s, want) in [
            (
                "twitter",
                "only applies to block traces (msr, alibaba-block, tencent-cbs",
            ),
            ("csv:key=1", "not 'csv:key=1'"),
            ("text", "only applies to block traces"),
            ("msr:page=4KiB", "gives page= already"),
        ] {
            let e = with_page_size(&spec(s), "8KiB").unwrap_err();
            assert!(e.contains(want), "{s}: {e}");
        }
        let e = with_page_size(&spec("msr"), "0").unwrap_err();
        assert!(e.contains("page=0"), "{e}");
    }
}
