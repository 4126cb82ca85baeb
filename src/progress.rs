//! The one place that makes progress bars: on stderr, hidden when stderr is
//! not a terminal (pipes, CI, tests) or under `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over `total` requests, or a hidden one. The bar is shared by
/// parallel runs (it is `Sync`; clones share one bar): a sweep grows its
/// length as workloads are prepared and puts `done/total runs` in the prefix.
pub(crate) fn bar(total: u64, quiet: bool) -> ProgressBar {
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
