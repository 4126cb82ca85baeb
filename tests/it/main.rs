//! The integration tests, one binary with a module per feature (as
//! ripgrep's `tests/tests.rs`): one link instead of twenty, and helpers in
//! one place (`common`). Tests that need a service (Redis, PostgreSQL,
//! Python's cachetools, Chromium) or the shared traces skip with a printed
//! reason when it is absent, and fail instead under
//! `CACHESIM_REQUIRE_SERVICES=1` (what CI sets).

#[macro_use]
mod common;

mod architecture;
mod bounds;
mod charts;
mod cli_fleet;
mod cli_run;
mod cli_sweep;
mod cli_traces;
mod compare_report;
mod conformance_arc;
mod conformance_belady;
mod conformance_traces;
mod conformance_wtinylfu;
mod disk;
mod flat_memory;
mod freshness;
mod fuzz_readers;
mod fuzz_specs;
mod interrupts;
mod latency;
mod legible_charts;
mod memcached;
mod memory_limit;
mod mrc_bytes;
mod mrc_confidence;
mod mrc_conformance;
mod mrc_minisim;
mod oracle_general;
mod policy_invariants;
mod policy_reference;
mod policy_writes_and_bytes;
mod python_bindings;
mod python_parity;
mod redis;
mod redis_fleet;
mod redis_models;
mod redis_monitor;
mod redis_timeline;
mod refusals;
mod report_browser;
mod restarts;
mod run_table;
mod servers;
mod shard_merge;
mod skips;
mod stampede;
mod talk_charts;
mod talk_figures;
mod tls;
mod trace_inputs;
mod trace_layouts;
mod trace_roundtrip;
mod trace_ttls;
