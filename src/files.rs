//! Files written whole or not at all. Every result a command saves (results
//! CSV, timelines, charts, histograms, converted traces) goes through
//! [`write_atomic`], so a failed or interrupted run never leaves a
//! half-written file (the temporary file is removed on error, and by the
//! signal handler on Ctrl-C, see [`crate::interrupt`]). [`check_file`] and
//! [`check_dir`] find an output location that cannot be written before any
//! work starts; [`Outputs`] removes what a failed command had written. A
//! leaf module: the simulator, the reports and the charts all write
//! through it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
    let _on_signal = crate::interrupt::remove_on_signal(&tmp);
    let result = write_complete(&tmp, f).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates `tmp` and writes it whole with `f`, flushed and synced to disk.
fn write_complete(tmp: &Path, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut w = io::BufWriter::new(std::fs::File::create(tmp)?);
    f(&mut w)?;
    w.flush()?;
    w.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// Where a command saves its results: a path the user gave (replaced if it
/// exists, as `-o` promises), or a fresh name under a folder that no other
/// file, not even one a concurrent run creates meanwhile, can take.
#[derive(Debug, Clone)]
pub(crate) enum Destination {
    /// `-o PATH`.
    Given(std::path::PathBuf),
    /// `DIR/PREFIX-YYYYMMDD-HHMMSS.csv`, then `...-2.csv`, `...-3.csv`: the
    /// first that does not exist when the file is complete.
    Fresh {
        dir: std::path::PathBuf,
        /// `run-20261202-143000`, from the time the command started.
        stem: String,
    },
}

impl Destination {
    /// A fresh name under `dir`: `PREFIX-<UTC time now>`.
    pub(crate) fn fresh(dir: &Path, prefix: &str, utc_stamp: &str) -> Destination {
        Destination::Fresh {
            dir: dir.to_path_buf(),
            stem: format!("{prefix}-{utc_stamp}"),
        }
    }

    /// For messages: the path, or the pattern of fresh names.
    pub(crate) fn display(&self) -> String {
        match self {
            Destination::Given(p) => p.display().to_string(),
            Destination::Fresh { dir, stem } => {
                dir.join(format!("{stem}.csv")).display().to_string()
            }
        }
    }

    /// Whether the file can be written there ([`check_file`] for a given
    /// path, [`check_dir`] for the folder of fresh names): a message saying
    /// why not.
    pub(crate) fn check(&self) -> Result<(), String> {
        match self {
            Destination::Given(p) => check_file(p),
            Destination::Fresh { dir, .. } => check_dir(dir),
        }
    }

    /// Writes the file (atomically, as [`write_atomic`]) and returns where.
    pub(crate) fn write(
        &self,
        f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<std::path::PathBuf> {
        match self {
            Destination::Given(p) => write_atomic(p, f).map(|()| p.clone()),
            Destination::Fresh { dir, stem } => {
                let names = std::iter::once(dir.join(format!("{stem}.csv")))
                    .chain((2..).map(|n| dir.join(format!("{stem}-{n}.csv"))));
                write_new(dir, names, f)
            }
        }
    }
}

/// Writes a complete temporary file in `dir`, then gives it the first name
/// of `names` that does not exist, exclusively: a hard link fails when the
/// name is taken, however close two runs started, so no result replaces
/// another (where the file system has no hard links, the name is reserved
/// with `create_new` and the file renamed over the reservation).
fn write_new(
    dir: &Path,
    names: impl Iterator<Item = std::path::PathBuf>,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".new.tmp-{}-{}", std::process::id(), unique()));
    let _on_signal = crate::interrupt::remove_on_signal(&tmp);
    let result = (|| {
        write_complete(&tmp, f)?;
        for name in names.take(100_000) {
            match std::fs::hard_link(&tmp, &name) {
                Ok(()) => return Ok(name),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(_) => {
                    match std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&name)
                    {
                        Ok(_) => {
                            std::fs::rename(&tmp, &name)?;
                            return Ok(name);
                        }
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Err(io::Error::other("no free file name"))
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Whether a file can be written at `path` (replacing it if it is a file):
/// it is not a folder, and its folder exists or can be created and takes
/// new files ([`check_dir`]). Checked before any work, so that a run does
/// not find an unwritable output after hours of work.
pub(crate) fn check_file(path: &Path) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("the path is empty".into());
    }
    if path.is_dir() {
        return Err(format!("'{}' is a directory", path.display()));
    }
    check_dir(parent(path))
}

/// Whether files can be written in the folder `dir`: it is a folder that
/// takes a new file, or its nearest existing ancestor is one (the rest is
/// created on writing). Proven by creating and removing an empty file,
/// which permission bits alone cannot tell (root, read-only mounts,
/// `/proc`).
pub(crate) fn check_dir(dir: &Path) -> Result<(), String> {
    let mut at = dir;
    // The nearest existing ancestor (`exists` is false under a file, too).
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    if !at.is_dir() {
        return Err(format!(
            "cannot create '{}': '{}' is not a directory",
            dir.display(),
            at.display()
        ));
    }
    let probe = at.join(format!(
        ".cachesim-probe-{}-{}",
        std::process::id(),
        unique()
    ));
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe);
    match created {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("cannot write in '{}': {e}", at.display())),
    }
}

/// The folder of `path` (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The output files (and the folders made for them) a command has written
/// so far, so that a command that fails after writing some of them can
/// remove them all: a failed run leaves none of its outputs.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    files: Vec<PathBuf>,
    /// Folders that did not exist, deepest first.
    dirs: Vec<PathBuf>,
}

impl Outputs {
    /// Notes that files are about to be written in `dir`: the folders on
    /// its path that do not exist yet are this command's.
    pub(crate) fn dir(&mut self, dir: &Path) {
        let mut at = Some(dir);
        while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            if !self.dirs.iter().any(|x| x == d) {
                self.dirs.push(d.to_path_buf());
            }
            at = d.parent();
        }
    }

    /// Notes a file written.
    pub(crate) fn file(&mut self, path: PathBuf) {
        self.files.push(path);
    }

    /// Removes the files written, then the folders made for them (those
    /// left empty).
    pub(crate) fn remove(self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        for d in &self.dirs {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// A number no other call in this process returns.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
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

    #[test]
    fn unwritable_locations_are_found_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(check_file(&dir.path().join("new/sub/r.csv")), Ok(()));
        assert_eq!(check_file(&file), Ok(()), "a file is replaced");
        let e = check_file(&file.join("r.csv")).unwrap_err();
        assert!(
            e.contains("is not a directory") && e.contains("file"),
            "{e}"
        );
        let e = check_file(&file.join("a/b/r.csv")).unwrap_err();
        assert!(e.contains("is not a directory"), "{e}");
        let e = check_file(dir.path()).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        let e = check_dir(Path::new("/proc/cachesim/x")).unwrap_err();
        assert!(e.contains("cannot write in '/proc'"), "{e}");
        assert!(check_file(Path::new("")).is_err());
        // The checks leave nothing behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn outputs_remove_their_files_and_the_folders_made_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outputs::default();
        let sub = dir.path().join("a/b");
        o.dir(&sub);
        o.dir(&sub);
        std::fs::create_dir_all(&sub).unwrap();
        for i in 0..3 {
            let p = sub.join(format!("{i}.hgrm"));
            write_atomic(&p, |w| w.write_all(b"x")).unwrap();
            o.file(p);
        }
        let keep = dir.path().join("keep");
        std::fs::write(&keep, "x").unwrap();
        let mut o2 = Outputs::default();
        o2.dir(dir.path());
        assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 3);
        o.remove();
        o2.remove();
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(keep.exists());
    }

    #[test]
    fn fresh_names_never_replace_a_file_even_from_concurrent_writers() {
        let dir = tempfile::tempdir().unwrap();
        let d = Destination::fresh(dir.path(), "run", "20261202-143000");
        // Sixteen writers at once, as sixteen runs started in one second.
        let paths: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..16)
                .map(|i| {
                    let d = &d;
                    s.spawn(move || d.write(|w| write!(w, "{i}")).unwrap())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut contents: Vec<String> = paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        contents.sort_by_key(|c| c.parse::<u32>().unwrap());
        assert_eq!(contents, (0..16).map(|i| i.to_string()).collect::<Vec<_>>());
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 16, "{names:?}");
        assert!(names.contains(&"run-20261202-143000.csv".to_string()));
        assert!(names.contains(&"run-20261202-143000-16.csv".to_string()));
        // A failed write takes no name and leaves nothing.
        let r = d.write(|_| Err(io::Error::other("boom")));
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 16);
    }
}
