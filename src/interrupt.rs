//! What cachesim does on Ctrl-C (`SIGINT`) and `kill` (`SIGTERM`), so that an
//! interrupt loses nothing and leaves nothing.
//!
//! [`install`] puts a handler on both signals. The handler is
//! async-signal-safe: it only touches atomics and calls `unlink`, `signal`
//! and `raise`.
//!
//! - A command that can stop cleanly (`cachesim run`) installs it with
//!   `graceful`: the first signal only records itself; the sweep stops
//!   handing out runs, the replay loops see [`interrupted`] between two
//!   chunks of requests (one atomic load per chunk of at least 16 Ki
//!   requests: no measurable cost) and stop, Redis runs delete their keys,
//!   and the command saves the runs that finished and exits `128 + signal`
//!   (130 for `SIGINT`, 143 for `SIGTERM`). A second signal ends the
//!   process at once, as below.
//! - Otherwise (and on that second signal) the handler removes the
//!   temporary files being written ([`remove_on_signal`]: the hidden temp
//!   file of [`crate::files::write_atomic`]) and then dies of the signal
//!   with its default action, as the command would have without a handler.
//!
//! A signal that was ignored when cachesim started (`nohup`, a background
//! job of a non-interactive shell) stays ignored.

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};

/// The first signal received, 0 before any.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Whether the first signal only records itself (see the module's doc).
static GRACEFUL: AtomicBool = AtomicBool::new(false);

/// Temporary files being written, removed by the handler before the
/// process dies. A path stays allocated once registered (the handler may
/// be reading it while the writer unregisters it), a few bytes per file.
const SLOTS: usize = 16;
static TEMP: [AtomicPtr<libc::c_char>; SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// Installs the handler on `SIGINT` and `SIGTERM`; with `graceful`, the
/// first signal only sets [`interrupted`].
pub fn install(graceful: bool) {
    GRACEFUL.store(graceful, Ordering::SeqCst);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: plain sigaction calls on zeroed, then filled, structs; the
        // handler is async-signal-safe (see `handler`).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // Restart interrupted system calls (a run polls the flag; its
            // socket reads must not fail with EINTR), and do not block the
            // signal in its own handler, so that `raise` below acts at once.
            sa.sa_flags = libc::SA_RESTART | libc::SA_NODEFER;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

extern "C" fn handler(sig: libc::c_int) {
    let first = SIGNAL
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if first && GRACEFUL.load(Ordering::SeqCst) {
        return;
    }
    for slot in &TEMP {
        let p = slot.load(Ordering::SeqCst);
        if !p.is_null() {
            // SAFETY: `p` is a NUL-terminated path that is never freed.
            unsafe {
                libc::unlink(p);
            }
        }
    }
    // SAFETY: async-signal-safe calls; the default action ends the process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
        libc::_exit(128 + sig);
    }
}

/// Whether a `SIGINT` or `SIGTERM` has arrived (after a graceful
/// [`install`]): long loops stop at their next check.
#[inline]
pub fn interrupted() -> bool {
    SIGNAL.load(Ordering::Relaxed) != 0
}

/// Asks the running command to stop as if a `SIGINT` had arrived: for a
/// host that owns the signals itself (the Python binding, whose Ctrl-C
/// Python's handler receives). Nothing is installed; [`clear`] forgets it.
pub fn request_stop() {
    let _ = SIGNAL.compare_exchange(0, libc::SIGINT, Ordering::SeqCst, Ordering::SeqCst);
}

/// Forgets a [`request_stop`] once the command it stopped has returned, so
/// that the host's next command runs (a process that installed the
/// handler exits instead).
pub fn clear() {
    SIGNAL.store(0, Ordering::SeqCst);
}

/// The signal received, if any: `SIGINT` (2) or `SIGTERM` (15).
pub(crate) fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// A loop stopped because of a signal: the error the replay loops return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

/// `Err(Interrupted)` once a signal has arrived.
#[inline]
pub(crate) fn check() -> Result<(), Interrupted> {
    if interrupted() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// Registers `path` to be removed if a signal ends the process before the
/// returned guard is dropped (the temporary file of an atomic write).
pub(crate) fn remove_on_signal(path: &Path) -> TempGuard {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return TempGuard(None);
    };
    let p = c.into_raw();
    for (i, slot) in TEMP.iter().enumerate() {
        let free =
            slot.compare_exchange(std::ptr::null_mut(), p, Ordering::SeqCst, Ordering::SeqCst);
        if free.is_ok() {
            return TempGuard(Some(i));
        }
    }
    // Every slot taken (16 files being written at once): not registered.
    // SAFETY: `p` came from `into_raw` above and was not shared.
    drop(unsafe { CString::from_raw(p) });
    TempGuard(None)
}

/// Keeps a temporary file registered with [`remove_on_signal`] until dropped.
pub(crate) struct TempGuard(Option<usize>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            // The path itself is left allocated: the handler may hold it.
            TEMP[i].store(std::ptr::null_mut(), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_paths_are_registered_until_their_guard_is_dropped() {
        let g = remove_on_signal(Path::new("/tmp/x"));
        let i = g.0.expect("a free slot");
        let p = TEMP[i].load(Ordering::SeqCst);
        // SAFETY: registered paths are never freed.
        let path = unsafe { std::ffi::CStr::from_ptr(p) };
        assert_eq!(path.to_bytes(), b"/tmp/x");
        drop(g);
        // Free again (or already another writer's).
        assert_ne!(TEMP[i].load(Ordering::SeqCst), p);
        assert!(!interrupted());
        assert_eq!(check(), Ok(()));
    }
}
