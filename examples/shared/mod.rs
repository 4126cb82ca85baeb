//! What the examples that read the shared ARC traces have in common
//! (included with `#[path = "shared/mod.rs"] mod shared;`; each uses what
//! it needs).
#![allow(dead_code)]

use cachesim::workload::trace::{read_all, TraceFormat};
use cachesim::workload::Batch;
use std::path::{Path, PathBuf};

/// `rel` under the shared trace folder: `$CACHESIM_TRACE_DIR`, else
/// `../shared/traces` next to the repository.
pub fn default_trace(rel: &str) -> PathBuf {
    let dir = std::env::var("CACHESIM_TRACE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/traces"));
    dir.join(rel)
}

/// The keys of an ARC `.lis.zst` trace (`start n ...` = blocks
/// start..start+n), through cachesim's own ARC reader.
pub fn read_lis_zst(path: &Path) -> Batch {
    read_all(path, Some(&TraceFormat::Arc.into()), 1000.0).unwrap_or_else(|e| panic!("{e}"))
}
