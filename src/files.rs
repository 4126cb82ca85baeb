//! Files written whole or not at all. Every result a command saves (results
//! CSV, timelines, charts, histograms, converted traces) goes through
//! [`write_atomic`], so a failed or interrupted run never leaves a
//! half-written file. A leaf module: the simulator, the reports and the
//! charts all write through it.

use std::io::{self, Write};
use std::path::Path;

/// Writes `path` atomically: the content goes to a temporary file in the same
/// folder, which is renamed over `path` only once it is complete, so a failure
/// never leaves a half-written result file.
pub(crate) fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let mut w = io::BufWriter::new(std::fs::File::create(&tmp)?);
        f(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        let r = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic(&p, |w| w.write_all(b"ok")).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "ok");
    }
}
