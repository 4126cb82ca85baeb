//! The cache directory itself, joblib `Memory`'s store: one file per key
//! holding the value's bytes, written atomically (a temporary name in the
//! same directory, then `rename`, as joblib's `concurrency_safe_write`
//! does), read back whole on a hit, and `reduce_size` removing the least
//! recently accessed files until the total is under a limit.
//!
//! The directory is marked as cachesim's by a small file ([`MARKER`])
//! written when it is created or adopted (empty); a non-empty directory
//! without it is refused, and nothing outside the directory is ever touched.
//! Access times are tracked in memory (a logical clock), never read from the
//! filesystem (`noatime`/`relatime` mounts make atime useless).

use crate::request::Key;
use rustc_hash::FxHashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The file that marks a directory as a cachesim disk cache.
pub(crate) const MARKER: &str = ".cachesim-disk";

/// The suffix of a value being written (renamed away once whole).
const TMP_SUFFIX: &str = ".tmp";

/// Why a directory cannot be used.
#[derive(Debug)]
pub(crate) enum DirError {
    /// It holds files and is not a cachesim cache: refused (a usage error).
    Foreign(PathBuf),
    /// It is not a directory (a usage error).
    NotADir(PathBuf),
    /// It could not be created, read or written (a runtime error).
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for DirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirError::Foreign(p) => write!(
                f,
                "'{}' is not empty and is not a cachesim disk cache (no {MARKER} file): give an empty or new directory, or one a previous disk run created",
                p.display()
            ),
            DirError::NotADir(p) => write!(f, "'{}' is not a directory", p.display()),
            DirError::Io(p, e) => write!(f, "cannot use '{}' as the disk cache: {e}", p.display()),
        }
    }
}

/// Checks that `dir` may be used without touching it: absent, empty, or
/// marked as ours.
pub(crate) fn check_dir(dir: &Path) -> Result<(), DirError> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DirError::Io(dir.to_path_buf(), e)),
        Ok(m) if !m.is_dir() => Err(DirError::NotADir(dir.to_path_buf())),
        Ok(_) => {
            if dir.join(MARKER).is_file() {
                return Ok(());
            }
            let mut entries = fs::read_dir(dir).map_err(|e| DirError::Io(dir.to_path_buf(), e))?;
            match entries.next() {
                None => Ok(()),
                Some(_) => Err(DirError::Foreign(dir.to_path_buf())),
            }
        }
    }
}

/// One cached file's facts, kept in memory.
#[derive(Debug, Clone, Copy)]
struct Entry {
    size: u64,
    /// The logical time of its last access (write or read).
    atime: u64,
}

/// A cache directory and what it holds.
#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    entries: FxHashMap<Key, Entry>,
    total: u64,
    clock: u64,
    /// The bytes written on a miss (grown to the largest value).
    value: Vec<u8>,
    /// Where a hit reads the file.
    read_buf: Vec<u8>,
    /// Drop each file from the page cache before reading it.
    cold: bool,
}

impl Store {
    /// Opens `dir` as a cache directory: creates it (and marks it) if
    /// absent, adopts it if empty, reuses it if marked; refuses any other.
    /// Leftovers of an earlier run (cached files, temporary files of a write
    /// that never finished) are removed: every run starts empty.
    pub(crate) fn open(dir: &Path, cold: bool) -> Result<Store, DirError> {
        check_dir(dir)?;
        let io = |e| DirError::Io(dir.to_path_buf(), e);
        fs::create_dir_all(dir).map_err(io)?;
        let marker = dir.join(MARKER);
        if !marker.is_file() {
            fs::write(&marker, b"cachesim disk cache: files here are cachesim's\n").map_err(io)?;
        }
        let s = Store {
            dir: dir.to_path_buf(),
            entries: FxHashMap::default(),
            total: 0,
            clock: 0,
            value: Vec::new(),
            read_buf: Vec::new(),
            cold,
        };
        s.clear().map_err(io)?;
        Ok(s)
    }

    /// Removes every cache file and temporary file of the directory (ours:
    /// named as [`Store::path`] names them), leaving the marker and any
    /// other file.
    pub(crate) fn clear(&self) -> io::Result<()> {
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if parse_name(name).is_some() {
                match fs::remove_file(e.path()) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The final name of `key`'s file: 16 hex digits.
    pub(crate) fn path(&self, key: Key) -> PathBuf {
        self.dir.join(format!("{key:016x}"))
    }

    fn tmp_path(&self, key: Key) -> PathBuf {
        self.dir.join(format!("{key:016x}{TMP_SUFFIX}"))
    }

    /// Objects cached.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes cached.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Whether `key` is cached.
    #[cfg(test)]
    pub(crate) fn contains(&self, key: Key) -> bool {
        self.entries.contains_key(&key)
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// A get: opens `key`'s file and reads it whole. `Ok(false)` if there
    /// is none.
    pub(crate) fn read(&mut self, key: Key) -> io::Result<bool> {
        let Some(size) = self.entries.get(&key).map(|e| e.size as usize) else {
            return Ok(false);
        };
        let mut f = match File::open(self.path(key)) {
            Ok(f) => f,
            // Deleted behind our back: a miss, and forgotten.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.forget(key);
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        if self.cold {
            drop_from_page_cache(&f);
        }
        // The size is known: one read of it all (no `fstat`, no read to
        // find the end).
        self.read_buf.resize(size, 0);
        f.read_exact(&mut self.read_buf[..size])?;
        let t = self.tick();
        if let Some(e) = self.entries.get_mut(&key) {
            e.atime = t;
        }
        Ok(true)
    }

    /// Writes `key`'s value (`size` bytes) under its temporary name; the
    /// first half of [`Store::write`]. Returns the temporary path.
    pub(crate) fn write_tmp(&mut self, key: Key, size: u32) -> io::Result<PathBuf> {
        let size = size as usize;
        if self.value.len() < size {
            self.value.resize(size, b'x');
        }
        let tmp = self.tmp_path(key);
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(&self.value[..size])?;
        if self.cold {
            // Dirty pages stay cached: write them out so that they can go.
            f.sync_data()?;
            drop_from_page_cache(&f);
        }
        Ok(tmp)
    }

    /// Writes `key`'s value of `size` bytes atomically: a temporary file,
    /// then `rename` over the final name, so that a crash leaves either the
    /// old file, the new one, or a temporary file (removed when the
    /// directory is next opened), never a partial file under a final name.
    pub(crate) fn write(&mut self, key: Key, size: u32) -> io::Result<()> {
        let tmp = self.write_tmp(key, size)?;
        fs::rename(&tmp, self.path(key))?;
        let t = self.tick();
        let e = Entry {
            size: u64::from(size),
            atime: t,
        };
        if let Some(old) = self.entries.insert(key, e) {
            self.total -= old.size;
        }
        self.total += u64::from(size);
        Ok(())
    }

    fn forget(&mut self, key: Key) -> bool {
        match self.entries.remove(&key) {
            Some(e) => {
                self.total -= e.size;
                true
            }
            None => false,
        }
    }

    /// Removes `key`'s file; whether it was cached.
    pub(crate) fn remove(&mut self, key: Key) -> io::Result<bool> {
        if !self.forget(key) {
            return Ok(false);
        }
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(true),
        }
    }

    /// joblib's `Memory.reduce_size(bytes_limit)`: removes the least
    /// recently accessed files until the total is at most `limit`. Returns
    /// how many were removed.
    pub(crate) fn reduce_size(&mut self, limit: u64) -> io::Result<u64> {
        if self.total <= limit {
            return Ok(0);
        }
        let mut by_age: Vec<(u64, Key)> = self.entries.iter().map(|(k, e)| (e.atime, *k)).collect();
        by_age.sort_unstable();
        let mut removed = 0;
        for (_, key) in by_age {
            if self.total <= limit {
                break;
            }
            self.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Removes the cache files and the marker, then the directory if it is
    /// left empty (a directory holding anything else stays).
    pub(crate) fn destroy(self) -> io::Result<()> {
        self.clear()?;
        fs::remove_file(self.dir.join(MARKER))?;
        match fs::remove_dir(&self.dir) {
            Ok(()) => Ok(()),
            Err(_) if fs::read_dir(&self.dir)?.next().is_some() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The key a file name of the cache stands for (its final or temporary
/// name); `None` for any other file.
fn parse_name(name: &str) -> Option<Key> {
    let hex = name.strip_suffix(TMP_SUFFIX).unwrap_or(name);
    if hex.len() != 16 {
        return None;
    }
    Key::from_str_radix(hex, 16).ok()
}

/// `posix_fadvise(POSIX_FADV_DONTNEED)`: asks the kernel to drop the
/// file's clean pages from the page cache, so that the next read of it
/// comes from the device. Advice only: a failure is ignored.
fn drop_from_page_cache(f: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: `f` is an open file for the whole call; posix_fadvise
        // reads nothing but its integer arguments.
        unsafe {
            libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn reduce_size_removes_the_least_recently_accessed_until_under_the_limit() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Store::open(d.path(), false).unwrap();
        // Written in order 1 (100 B), 2 (200 B), 3 (300 B), 4 (400 B).
        for (k, size) in [(1, 100), (2, 200), (3, 300), (4, 400)] {
            s.write(k, size).unwrap();
        }
        // Reads make 1 and 2 the most recent: access order now 3, 4, 1, 2.
        assert!(s.read(1).unwrap() && s.read(2).unwrap());
        assert_eq!(s.total(), 1000);
        // At or under the limit: nothing goes.
        assert_eq!(s.reduce_size(1000).unwrap(), 0);
        // 1000 > 650: 3 goes (700), then 4 (300 <= 650).
        assert_eq!(s.reduce_size(650).unwrap(), 2);
        assert_eq!(s.total(), 300);
        assert!(s.contains(1) && s.contains(2) && !s.contains(3) && !s.contains(4));
        assert_eq!(
            names(d.path()),
            [MARKER, "0000000000000001", "0000000000000002"]
        );
        // A rewrite is an access: 1 becomes the most recent; limit 250
        // removes 2 (the least recent) and keeps 1 (100 B).
        s.write(1, 100).unwrap();
        assert_eq!(s.reduce_size(250).unwrap(), 1);
        assert_eq!(names(d.path()), [MARKER, "0000000000000001"]);
        // Limit 0 empties the cache.
        assert_eq!(s.reduce_size(0).unwrap(), 1);
        assert_eq!((s.len(), s.total()), (0, 0));
        assert_eq!(names(d.path()), [MARKER]);
    }

    #[test]
    fn a_crash_between_write_and_rename_leaves_no_partial_final_file() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Store::open(d.path(), false).unwrap();
        s.write(7, 10).unwrap();
        // The process dies after writing key 9's temporary file, before the
        // rename: only the temporary name exists, no final name for 9.
        let tmp = s.write_tmp(9, 4096).unwrap();
        assert!(tmp.exists());
        assert!(!s.path(9).exists());
        assert!(!s.read(9).unwrap(), "a write that did not finish is a miss");
        drop(s);
        assert_eq!(
            names(d.path()),
            [MARKER, "0000000000000007", "0000000000000009.tmp"]
        );
        // The next open cleans it (every run starts empty).
        let s = Store::open(d.path(), false).unwrap();
        assert_eq!(names(d.path()), [MARKER]);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn files_hold_the_value_and_hits_read_them() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Store::open(&d.path().join("new"), false).unwrap();
        assert!(!s.read(5).unwrap());
        s.write(5, 123).unwrap();
        assert_eq!(fs::metadata(s.path(5)).unwrap().len(), 123);
        assert!(s.read(5).unwrap());
        // Overwritten with another size: the total follows.
        s.write(5, 7).unwrap();
        assert_eq!((s.total(), fs::metadata(s.path(5)).unwrap().len()), (7, 7));
        assert!(s.remove(5).unwrap() && !s.remove(5).unwrap());
        // Cold reads work too (advice only).
        let mut c = Store::open(&d.path().join("cold"), true).unwrap();
        c.write(1, 4096).unwrap();
        assert!(c.read(1).unwrap());
        c.destroy().unwrap();
        assert!(!d.path().join("cold").exists());
    }

    #[test]
    fn a_foreign_directory_is_refused_and_left_alone() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("precious.txt"), b"mine").unwrap();
        assert!(matches!(check_dir(d.path()), Err(DirError::Foreign(_))));
        assert!(matches!(
            Store::open(d.path(), false),
            Err(DirError::Foreign(_))
        ));
        assert_eq!(names(d.path()), ["precious.txt"]);
        let f = d.path().join("precious.txt");
        assert!(matches!(check_dir(&f), Err(DirError::NotADir(_))));
        // An empty directory is adopted, and then is ours.
        let e = d.path().join("empty");
        fs::create_dir(&e).unwrap();
        drop(Store::open(&e, false).unwrap());
        assert!(e.join(MARKER).is_file());
        check_dir(&e).unwrap();
        // Files that are not the cache's in a marked directory stay.
        fs::write(e.join("notes"), b"x").unwrap();
        let s = Store::open(&e, false).unwrap();
        s.destroy().unwrap();
        assert_eq!(names(&e), ["notes"]);
    }
}
