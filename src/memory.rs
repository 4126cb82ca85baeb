//! How much memory this process may still take: the least of the
//! machine's available memory (`MemAvailable`), the address-space limit
//! (`ulimit -v`, `prlimit --as`) less what the process already maps, and
//! the cgroup's limit less its use. Used to refuse, with a clear message,
//! an input that would be materialised in memory and end in an abort or the
//! OOM killer (issue 16, items 1 and 2).

/// Bytes this process may still allocate, or `None` when nothing can be
/// read (then no check is made).
pub(crate) fn available() -> Option<u64> {
    [machine(), address_space(), cgroup()]
        .into_iter()
        .flatten()
        .min()
}

/// `MemAvailable` of `/proc/meminfo`.
fn machine() -> Option<u64> {
    kib_field(
        &std::fs::read_to_string("/proc/meminfo").ok()?,
        "MemAvailable:",
    )
}

/// The soft `RLIMIT_AS` less this process's `VmSize`.
fn address_space() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let used = kib_field(
        &std::fs::read_to_string("/proc/self/status").ok()?,
        "VmSize:",
    )?;
    Some(lim.rlim_cur.saturating_sub(used))
}

/// cgroup v2 `memory.max` less `memory.current`, of this process's group.
fn cgroup() -> Option<u64> {
    let rel = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = rel.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let max: u64 = read("memory.max")?.trim().parse().ok()?; // "max": none
    let current: u64 = read("memory.current")?.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// The value in bytes of a `Name:   123 kB` line.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// `bytes` for people: `1.5 GiB`, `200 MiB`.
pub(crate) fn show(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.0} MiB", (b / MIB).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields_and_shows_sizes() {
        let text = "MemTotal:       24000000 kB\nMemAvailable:    1048576 kB\n";
        assert_eq!(kib_field(text, "MemAvailable:"), Some(1 << 30));
        assert_eq!(kib_field(text, "VmSize:"), None);
        assert_eq!(show(3 << 29), "1.5 GiB");
        assert_eq!(show(200 << 20), "200 MiB");
        // This machine reports something, and it is below its total.
        let total = kib_field(
            &std::fs::read_to_string("/proc/meminfo").unwrap(),
            "MemTotal:",
        )
        .unwrap();
        assert!(available().is_some_and(|a| a <= total));
    }
}
