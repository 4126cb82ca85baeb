//! Trace inputs that can be read only once: pipes, FIFOs, `/dev/stdin`,
//! process substitution (`<(zstdcat x.zst)`) and `-` for standard input.
//! Detecting the format, the counting pass and each replay all read a trace
//! from its start, which such an input allows only once; so the first open
//! copies it whole into a spool, a temp file in `$TMPDIR` that is unlinked as
//! soon as it is created (nothing is left behind, even if the process is
//! killed), and every open of the same path reads the spool.
//!
//! A regular file (or a device) is opened directly, as before.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The spools made so far, by the path the user gave.
static SPOOLS: Mutex<Vec<(PathBuf, Arc<File>)>> = Mutex::new(Vec::new());

/// Whether `path` names standard input (`-`).
pub(crate) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens `path` for reading from its start: `-` (standard input), a pipe or
/// FIFO ([`read_once`]) through its spool, made on the first call; anything
/// else directly.
pub(crate) fn open(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    if !is_stdin(path) {
        // stat, not open: opening a FIFO whose writer is gone would block.
        let meta = fs::metadata(path)?;
        if meta.is_dir() {
            return Err(io::Error::other("is a directory"));
        }
        if !read_once(&meta.file_type()) {
            return Ok(Box::new(File::open(path)?));
        }
    }
    let mut spools = SPOOLS.lock().unwrap_or_else(|e| e.into_inner());
    let file = match spools.iter().find(|(p, _)| p == path) {
        Some((_, f)) => Arc::clone(f),
        None => {
            let f = Arc::new(spool(path).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot copy it to a temp file: {e}"))
            })?);
            spools.push((path.to_path_buf(), Arc::clone(&f)));
            f
        }
    };
    Ok(Box::new(SpoolReader { file, pos: 0 }))
}

/// Whether a file of this type can be read only once: a FIFO (pipes and
/// process substitution show as FIFOs) or a socket. A regular file, and a
/// device such as `/dev/zero` or a terminal, is read directly: copying an
/// endless device first would never end.
#[cfg(unix)]
fn read_once(t: &fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    t.is_fifo() || t.is_socket()
}

#[cfg(not(unix))]
fn read_once(t: &fs::FileType) -> bool {
    !t.is_file()
}

/// Copies all of `path` (standard input for `-`) into a new unlinked temp file.
fn spool(path: &Path) -> io::Result<File> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = std::env::temp_dir().join(format!(
        "cachesim-spool-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&name)?;
    // Unlinked now: the open handle keeps the data until the process ends.
    let _ = fs::remove_file(&name);
    if is_stdin(path) {
        io::copy(&mut io::stdin().lock(), &mut file)?;
    } else {
        io::copy(&mut File::open(path)?, &mut file)?;
    }
    Ok(file)
}

/// Reads a spool from the start, independently of other readers of it.
struct SpoolReader {
    file: Arc<File>,
    pos: u64,
}

impl Read for SpoolReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}
