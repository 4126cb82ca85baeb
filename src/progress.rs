//! The one place that makes progress bars: on stderr, hidden when stderr is
//! not a terminal (pipes, CI, tests) or under `--quiet`; or, while a host
//! [`observe`]s them (the Python binding's notebook bar), hidden and read
//! through [`observed`] instead of drawn.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

/// While `Some`, bars are hidden and the latest one made is kept here.
static OBSERVED: Mutex<Option<Option<ProgressBar>>> = Mutex::new(None);

/// Where a command is, as its latest bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Requests done.
    pub position: u64,
    /// Requests to do (a sweep grows it as it prepares workloads).
    pub length: u64,
    /// `done/total runs` for a sweep, else empty.
    pub prefix: String,
}

/// With `on`, bars made from now on draw nothing (not even on a terminal's
/// stderr) and [`observed`] reads the latest; with `!on`, bars are drawn
/// again as usual. One observer per process: the host runs one command at
/// a time.
pub fn observe(on: bool) {
    *OBSERVED.lock().unwrap_or_else(|e| e.into_inner()) = on.then_some(None);
}

/// The latest bar's progress while [`observe`]d, `None` before the first
/// bar or when not observed.
pub fn observed() -> Option<Progress> {
    let slot = OBSERVED.lock().unwrap_or_else(|e| e.into_inner());
    slot.as_ref()?.as_ref().map(|pb| Progress {
        position: pb.position(),
        length: pb.length().unwrap_or(0),
        prefix: pb.prefix(),
    })
}

/// A bar over `total` requests, or a hidden one. The bar is shared by
/// parallel runs (it is `Sync`; clones share one bar): a sweep grows its
/// length as workloads are prepared and puts `done/total runs` in the prefix.
pub(crate) fn bar(total: u64, quiet: bool) -> ProgressBar {
    if let Some(latest) = OBSERVED.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        let pb = ProgressBar::hidden();
        pb.set_length(total);
        *latest = Some(pb.clone());
        return pb;
    }
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8));
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {prefix} {wide_bar} {human_pos}/{human_len} requests ({per_sec}, eta {eta}) {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb
}
