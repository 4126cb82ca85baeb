//! `redis-monitor`: what `redis-cli MONITOR` prints, one executed command a
//! line, so that a live Redis's traffic can be captured and replayed:
//!
//! ```text
//! OK
//! 1712345678.123456 [0 127.0.0.1:51234] "SET" "user:1" "v" "EX" "30"
//! 1712345678.123502 [0 unix:/tmp/redis.sock] "GET" "user:1"
//! 1712345678.123600 [0 lua] "DEL" "a\x00b" "say \"hi\""
//! ```
//!
//! Each line is a Unix time in seconds, `[DB CLIENT]` (an address, `unix:`
//! path or `lua`), then the arguments, each in double quotes with
//! `redis-cli`'s escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`).
//! The `OK` line `MONITOR` starts with, blank lines and `#` comments are
//! skipped. A line that is not so shaped is an error naming the file and
//! line. Lines are read as a stream (a value of any length costs no
//! memory: an argument keeps its length, its FNV-1a hash and its first
//! bytes), at most [`MAX_ARGS`] arguments a line.
//!
//! **Requests.** A request's time is its line's, in seconds since the first
//! line's. Keys follow the text rule (a decimal `u64` as-is, anything else
//! FNV-1a); a key of database N > 0 is hashed as the bytes `N`, NUL, key,
//! so databases do not share keys. Commands map to requests as follows:
//!
//! | command | requests |
//! |---|---|
//! | `GET`, `GETRANGE`, `SUBSTR`, `STRLEN`; `MGET` (one per key) | get |
//! | `GETEX k [EX\|PX\|EXAT\|PXAT\|PERSIST]` | get, then a set carrying the new TTL (see below) |
//! | `GETDEL` | get, delete |
//! | `GETSET k v`; `SET ... GET` | get, then the set |
//! | `SET k v [NX\|XX] [EX\|PX\|EXAT\|PXAT\|KEEPTTL]`, `SETEX`, `PSETEX`, `SETNX`; `MSET`, `MSETNX` (one per key) | set, size the value's length, TTL from the options |
//! | `APPEND`, `SETRANGE`, `INCR`, `DECR`, `INCRBY`, `DECRBY`, `INCRBYFLOAT` | set, keeping the key's TTL |
//! | `DEL`, `UNLINK` (one per key) | delete |
//! | `EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT` `[NX\|XX\|GT\|LT]`, `PERSIST` | a set carrying the new TTL; a TTL in the past is a delete |
//! | anything else (`PING`, `INFO`, `SELECT`, `HGET`, `FLUSHALL`, ...) | skipped and counted ([`MonitorReader::summary`]) |
//!
//! A trace has no "change the TTL" request, so a command that only changes
//! a key's TTL (`EXPIRE`, `GETEX EX`, `PERSIST`) is a set of the key with
//! its last known size and the new TTL: replayed with `--on-write update`,
//! the cache holds the key with the TTL Redis gave it. To know what such a
//! command, `KEEPTTL`, `INCR` (which keeps the TTL), `NX` and `XX` did, the
//! reader follows each key it has seen written: present (with its deadline
//! and size) or absent (deleted, or past its deadline). It then writes what
//! Redis did: a `SET NX` of a present key, a `SET XX` or an `EXPIRE` of an
//! absent one are no request; `KEEPTTL` and `INCR` carry the TTL left. A key
//! the capture never wrote is taken to be present without a TTL (it was
//! there before the capture started). That state is a hash map entry per
//! key written (about 40 bytes): memory grows with the distinct keys, not
//! with the requests.
//!
//! A command Redis refused for its arguments still shows in `MONITOR`
//! (`SET k v EX 0`): it is skipped and counted as `SET (bad arguments)`.
//!
//! Replaying a capture counts the hits Redis counted (`keyspace_hits`)
//! when the client filled every miss it read (cache-aside: `GET` misses,
//! then `SET`): a replay fills a miss itself, so a key a client read and
//! never wrote back is a hit in a replay and a miss in Redis (and a key
//! named twice in one `MGET`, read twice by Redis before the client can
//! fill it, is one miss and one hit in a replay). `EXISTS`,
//! `TTL` and `TYPE` also count in `keyspace_hits` but are skipped here (a
//! replayed get would fill the key).

use super::{Claim, Format, TraceError};
use crate::request::{Key, Op, Request};
use crate::workload::{Batch, RequestSource};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `redis-monitor` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "redis-monitor",
    aliases: &["monitor", "redis_monitor"],
    describe: "redis-cli MONITOR output: <time> [<db> <client>] \"CMD\" \"ARG\"...",
    by_name: |stem| stem.ends_with(".monitor"),
    by_content: |h| Claim::yes_if(!h.binary && h.lines.iter().take(4).any(|l| is_monitor_line(l))),
    // Read as a stream with its own bounds: a MONITOR line holds whole
    // values, far longer than the line limit of the text formats.
    lines: false,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(MonitorReader::new(path, input))),
};

/// Whether `l` looks like `<float> [<db> <client>] "CMD"`.
fn is_monitor_line(l: &str) -> bool {
    let Some((ts, rest)) = l.split_once(' ') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('[') else {
        return false;
    };
    let Some((db, _)) = rest.split_once(' ') else {
        return false;
    };
    parse_time(ts.as_bytes()).is_some()
        && super::all_digits(db)
        && rest.contains("] \"")
        && l.ends_with('"')
}

/// The most arguments a line may have (a `DEL` of a million keys).
pub(crate) const MAX_ARGS: usize = 1_000_000;

/// The longest `<time> [<db> <client>] ` prefix of a line.
const MAX_HEADER: usize = 4096;

/// Bytes of an argument kept whole: command names, options and numbers.
const HEAD: usize = 40;

/// One argument: its length, FNV-1a hash (with the line's database
/// prefix) and first [`HEAD`] bytes.
#[derive(Clone, Copy)]
struct Arg {
    len: u64,
    hash: u64,
    head: [u8; HEAD],
}

const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Arg {
    fn new(basis: u64) -> Arg {
        Arg {
            len: 0,
            hash: basis,
            head: [0; HEAD],
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        let at = self.len as usize;
        if at < HEAD {
            let n = bytes.len().min(HEAD - at);
            self.head[at..at + n].copy_from_slice(&bytes[..n]);
        }
        self.len += bytes.len() as u64;
        self.hash = fnv(self.hash, bytes);
    }

    /// The whole argument, if it is no longer than [`HEAD`].
    fn short(&self) -> Option<&[u8]> {
        (self.len as usize <= HEAD).then(|| &self.head[..self.len as usize])
    }

    /// The argument in upper case, if short (a command or an option).
    fn upper(&self) -> String {
        match self.short() {
            Some(b) => String::from_utf8_lossy(b).to_ascii_uppercase(),
            None => String::from_utf8_lossy(&self.head).to_ascii_uppercase() + "...",
        }
    }

    fn is(&self, word: &str) -> bool {
        self.short()
            .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()))
    }

    /// The argument as a decimal integer (Redis's `string2ll`).
    fn int(&self) -> Option<i64> {
        std::str::from_utf8(self.short()?).ok()?.parse().ok()
    }

    fn float(&self) -> Option<f64> {
        let v: f64 = std::str::from_utf8(self.short()?).ok()?.parse().ok()?;
        v.is_finite().then_some(v)
    }

    fn size(&self) -> u32 {
        self.len.min(u64::from(u32::MAX)) as u32
    }
}

/// What the reader knows of a key: absent, or present until `deadline`
/// (absolute seconds; infinite without a TTL) with `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Known {
    Unknown,
    Absent,
    Present { deadline: f64, size: u32 },
}

/// Reads `redis-cli MONITOR` output; see the module documentation.
pub(crate) struct MonitorReader {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    /// The line last read, from 1.
    line: u64,
    /// The first line's time (absolute seconds).
    t0: Option<f64>,
    header: Vec<u8>,
    args: Vec<Arg>,
    /// Requests of the last line not handed out yet, with their TTLs.
    out: VecDeque<(Request, f32)>,
    keys: FxHashMap<Key, Known>,
    skipped: BTreeMap<String, u64>,
}

impl MonitorReader {
    pub(crate) fn new(path: &Path, input: Box<dyn BufRead + Send>) -> MonitorReader {
        MonitorReader {
            path: path.to_path_buf(),
            input,
            line: 0,
            t0: None,
            header: Vec::with_capacity(64),
            args: Vec::with_capacity(8),
            out: VecDeque::new(),
            keys: FxHashMap::default(),
            skipped: BTreeMap::new(),
        }
    }

    fn err(&self, msg: impl Into<String>) -> TraceError {
        TraceError::Line {
            path: self.path.clone(),
            line: self.line,
            msg: msg.into(),
        }
    }

    fn read_err(&self, e: std::io::Error) -> TraceError {
        TraceError::read(&self.path, e)
    }

    /// The next byte, not consumed; `None` at the end of the input.
    fn peek(&mut self) -> Result<Option<u8>, TraceError> {
        match self.input.fill_buf() {
            Ok(b) => Ok(b.first().copied()),
            Err(e) => Err(self.read_err(e)),
        }
    }

    /// Skipped commands, most frequent first: `skipped 12 commands: PING
    /// 10, INFO 2`; `None` when nothing was skipped.
    pub(crate) fn summary(&self) -> Option<String> {
        let total: u64 = self.skipped.values().sum();
        if total == 0 {
            return None;
        }
        let mut by: Vec<(&String, &u64)> = self.skipped.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = by.iter().map(|(n, c)| format!("{n} {c}")).collect();
        Some(format!(
            "skipped {total} command{}: {}",
            if total == 1 { "" } else { "s" },
            list.join(", ")
        ))
    }

    /// Reads the next command line into `args`; returns its time and
    /// database, or `None` at the end of the input.
    fn next_command(&mut self) -> Result<Option<(f64, u64)>, TraceError> {
        loop {
            if self.peek()?.is_none() {
                return Ok(None);
            }
            self.line += 1;
            // The prefix, up to the first argument's quote or the end of
            // the line.
            self.header.clear();
            let quote = loop {
                match self.peek()? {
                    None | Some(b'\n') => {
                        self.bump_if(b'\n')?;
                        break false;
                    }
                    Some(b'"') => break true,
                    Some(0) => return Err(self.nul()),
                    Some(b) => {
                        if self.header.len() >= MAX_HEADER {
                            return Err(self.err(format!(
                                "no quoted command within the first {MAX_HEADER} bytes; is this redis-cli MONITOR output?"
                            )));
                        }
                        self.header.push(b);
                        self.input.consume(1);
                    }
                }
            };
            let head = self.header.trim_ascii();
            if !quote {
                if head.is_empty() || head == b"OK" || head[0] == b'#' {
                    continue;
                }
                return Err(self.not_monitor());
            }
            let (ts, db) = self.parse_header()?;
            self.read_args(db)?;
            return Ok(Some((ts, db)));
        }
    }

    fn bump_if(&mut self, want: u8) -> Result<bool, TraceError> {
        if self.peek()? == Some(want) {
            self.input.consume(1);
            return Ok(true);
        }
        Ok(false)
    }

    fn nul(&self) -> TraceError {
        self.err("binary data (a NUL byte): redis-cli MONITOR output is text")
    }

    fn not_monitor(&self) -> TraceError {
        let shown: String = String::from_utf8_lossy(&self.header)
            .chars()
            .take(60)
            .collect();
        self.err(format!(
            "'{shown}' is not a MONITOR line: expected <time> [<db> <client>] \"COMMAND\" \"ARG\"..."
        ))
    }

    /// `<time> [<db> <client>] ` in `header`.
    fn parse_header(&self) -> Result<(f64, u64), TraceError> {
        let h = &self.header;
        let bad = || self.not_monitor();
        let sp = memchr::memchr(b' ', h).ok_or_else(bad)?;
        let ts = parse_time(&h[..sp]).ok_or_else(|| {
            self.err(format!(
                "time '{}' is not a Unix time in seconds",
                String::from_utf8_lossy(&h[..sp])
            ))
        })?;
        let rest = h[sp..].trim_ascii_start();
        let rest = rest.strip_prefix(b"[").ok_or_else(bad)?;
        let dsp = memchr::memchr(b' ', rest).ok_or_else(bad)?;
        let db = super::lines::parse_u64(&rest[..dsp]).ok_or_else(|| {
            self.err(format!(
                "database '{}' is not a number",
                String::from_utf8_lossy(&rest[..dsp])
            ))
        })?;
        // The client, then `] ` before the first quote.
        if !rest[dsp..].trim_ascii_end().ends_with(b"]") || !h.ends_with(b" ") {
            return Err(bad());
        }
        Ok((ts, db))
    }

    /// The quoted arguments, from the first quote to the end of the line.
    fn read_args(&mut self, db: u64) -> Result<(), TraceError> {
        self.args.clear();
        let basis = if db == 0 {
            FNV_BASIS
        } else {
            fnv(fnv(FNV_BASIS, db.to_string().as_bytes()), &[0])
        };
        loop {
            // At an opening quote.
            self.input.consume(1);
            if self.args.len() >= MAX_ARGS {
                return Err(self.err(format!("more than {MAX_ARGS} arguments")));
            }
            let mut arg = Arg::new(basis);
            self.read_quoted(&mut arg)?;
            self.args.push(arg);
            match self.peek()? {
                None => return Ok(()),
                Some(b'\n') => {
                    self.input.consume(1);
                    return Ok(());
                }
                Some(b'\r') => {
                    self.input.consume(1);
                    if self.peek()?.is_some_and(|b| b != b'\n') {
                        return Err(self.err("a carriage return inside the line"));
                    }
                    self.bump_if(b'\n')?;
                    return Ok(());
                }
                Some(b' ') => {
                    self.input.consume(1);
                    if self.peek()? != Some(b'"') {
                        return Err(self.err(format!(
                            "argument {} is not in double quotes",
                            self.args.len() + 1
                        )));
                    }
                }
                Some(b) => {
                    return Err(self.err(format!(
                        "'{}' after the closing quote of argument {}",
                        char::from(b).escape_default(),
                        self.args.len()
                    )))
                }
            }
        }
    }

    /// One argument's body, after its opening quote, through its closing
    /// quote, unescaped into `arg`.
    fn read_quoted(&mut self, arg: &mut Arg) -> Result<(), TraceError> {
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) => return Err(self.read_err(e)),
            };
            if buf.is_empty() {
                return Err(self.err("the line ends inside a quoted argument"));
            }
            let stop = buf
                .iter()
                .position(|&b| matches!(b, b'"' | b'\\' | b'\n' | 0))
                .unwrap_or(buf.len());
            arg.push(&buf[..stop]);
            let at = buf.get(stop).copied();
            self.input.consume(stop);
            match at {
                None => continue,
                Some(b'"') => {
                    self.input.consume(1);
                    return Ok(());
                }
                Some(b'\n') => return Err(self.err("the line ends inside a quoted argument")),
                Some(0) => return Err(self.nul()),
                Some(_) => {
                    self.input.consume(1);
                    let b = self.unescape()?;
                    arg.push(&[b]);
                }
            }
        }
    }

    /// The byte an escape after `\` stands for.
    fn unescape(&mut self) -> Result<u8, TraceError> {
        let c = self.next_byte()?;
        Ok(match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'a' => 7,
            b'b' => 8,
            b'x' => {
                let hex = [self.next_byte()?, self.next_byte()?];
                std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|s| u8::from_str_radix(s, 16).ok())
                    .ok_or_else(|| {
                        self.err(format!(
                            "'\\x{}' is not a hex escape",
                            String::from_utf8_lossy(&hex)
                        ))
                    })?
            }
            other => {
                return Err(self.err(format!(
                    "unknown escape '\\{}' (redis-cli writes \\\" \\\\ \\n \\r \\t \\a \\b \\xHH)",
                    char::from(other).escape_default()
                )))
            }
        })
    }

    fn next_byte(&mut self) -> Result<u8, TraceError> {
        match self.peek()? {
            Some(b'\n') | None => Err(self.err("the line ends inside an escape")),
            Some(b) => {
                self.input.consume(1);
                Ok(b)
            }
        }
    }
}

/// A Unix time in seconds, `1712345678.123456`.
fn parse_time(b: &[u8]) -> Option<f64> {
    if b.is_empty() || !b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return None;
    }
    let v: f64 = std::str::from_utf8(b).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// The key an argument names (see the module documentation).
fn key_of(a: &Arg, db: u64) -> Key {
    if db == 0 {
        if let Some(n) = a
            .short()
            .filter(|b| b.len() <= 20)
            .and_then(super::lines::parse_u64)
        {
            return n;
        }
    }
    a.hash
}

/// How a command sets a TTL, in absolute seconds.
enum Expire {
    /// No option: the key loses its TTL.
    None,
    /// `KEEPTTL`, or a command that keeps the TTL.
    Keep,
    /// Expires at this absolute time.
    At(f64),
}

/// The outcome of mapping one command.
enum Mapped {
    Done,
    /// Not a key read or write: skipped.
    Skip,
    /// Arguments Redis refuses: skipped.
    Bad,
}

impl MonitorReader {
    /// What the reader knows of `key` at time `t`.
    fn known(&self, key: Key, t: f64) -> Known {
        match self.keys.get(&key) {
            None => Known::Unknown,
            Some(Known::Present { deadline, .. }) if t >= *deadline => Known::Absent,
            Some(&k) => k,
        }
    }

    /// The last known size of `key`, else `or`.
    fn size_of(&self, key: Key, t: f64, or: u32) -> u32 {
        match self.known(key, t) {
            Known::Present { size, .. } => size,
            _ => or,
        }
    }

    /// The deadline of `key` at `t` (infinite without a TTL, or unknown).
    fn deadline(&self, key: Key, t: f64) -> f64 {
        match self.known(key, t) {
            Known::Present { deadline, .. } => deadline,
            _ => f64::INFINITY,
        }
    }

    fn emit(&mut self, op: Op, key: Key, t: f64, size: u32, ttl: f32) {
        // MONITOR's times are microseconds: rounded so, not to the noise
        // of subtracting two large floats.
        let time = ((t - self.t0.unwrap_or(t)).max(0.0) * 1e6).round() / 1e6;
        self.out.push_back((
            Request {
                time,
                key,
                size,
                op,
            },
            ttl,
        ));
    }

    fn get(&mut self, key: Key, t: f64) {
        let size = self.size_of(key, t, 1);
        self.emit(Op::Get, key, t, size, 0.0);
    }

    /// A set of `key` with `size` bytes at `t`, expiring as `exp` says; a
    /// deadline already past is a delete.
    fn set(&mut self, key: Key, t: f64, size: u32, exp: Expire) {
        let deadline = match exp {
            Expire::None => f64::INFINITY,
            Expire::Keep => self.deadline(key, t),
            Expire::At(d) => d,
        };
        if deadline <= t {
            return self.delete(key, t);
        }
        let ttl = if deadline.is_finite() {
            // At least the smallest positive TTL: 0 would mean none.
            ((deadline - t) as f32).max(f32::MIN_POSITIVE)
        } else {
            0.0
        };
        self.emit(Op::Set, key, t, size, ttl);
        self.keys.insert(key, Known::Present { deadline, size });
    }

    fn delete(&mut self, key: Key, t: f64) {
        self.emit(Op::Delete, key, t, 1, 0.0);
        self.keys.insert(key, Known::Absent);
    }

    /// Maps the command in `args` (at absolute time `t`, database `db`) to
    /// requests; see the table in the module documentation.
    fn map(&mut self, t: f64, db: u64) -> Mapped {
        let args = std::mem::take(&mut self.args);
        let r = self.map_args(&args, t, db);
        self.args = args;
        r
    }

    fn map_args(&mut self, a: &[Arg], t: f64, db: u64) -> Mapped {
        let cmd = a[0].upper();
        let n = a.len();
        let key = |i: usize| key_of(&a[i], db);
        match cmd.as_str() {
            "GET" | "STRLEN" if n == 2 => self.get(key(1), t),
            "GETRANGE" | "SUBSTR" if n == 4 => self.get(key(1), t),
            "MGET" if n >= 2 => (1..n).for_each(|i| self.get(key(i), t)),
            "GETDEL" if n == 2 => {
                self.get(key(1), t);
                self.delete(key(1), t);
            }
            "GETSET" if n == 3 => {
                self.get(key(1), t);
                self.set(key(1), t, a[2].size(), Expire::None);
            }
            "SET" if n >= 3 => return self.set_cmd(a, t, db),
            "SETNX" if n == 3 => {
                if !matches!(self.known(key(1), t), Known::Present { .. }) {
                    self.set(key(1), t, a[2].size(), Expire::None);
                }
            }
            "SETEX" | "PSETEX" if n == 4 => {
                let unit = if cmd == "SETEX" { 1.0 } else { 1e-3 };
                match a[2].int().filter(|&v| v > 0) {
                    Some(v) => self.set(key(1), t, a[3].size(), Expire::At(t + v as f64 * unit)),
                    None => return Mapped::Bad,
                }
            }
            "MSET" | "MSETNX" if n >= 3 && n % 2 == 1 => {
                let pairs = (1..n).step_by(2);
                if cmd == "MSETNX"
                    && pairs
                        .clone()
                        .any(|i| matches!(self.known(key(i), t), Known::Present { .. }))
                {
                    return Mapped::Done;
                }
                for i in pairs {
                    self.set(key(i), t, a[i + 1].size(), Expire::None);
                }
            }
            "APPEND" | "SETRANGE" if n == if cmd == "APPEND" { 3 } else { 4 } => {
                let old = u64::from(self.size_of(key(1), t, 0));
                let size = if cmd == "APPEND" {
                    old + a[2].len
                } else {
                    match a[2].int().filter(|&o| o >= 0) {
                        // An empty value changes nothing (nor creates the key).
                        Some(_) if a[3].len == 0 => old,
                        Some(off) => old.max(off as u64 + a[3].len),
                        None => return Mapped::Bad,
                    }
                };
                if size > 0 {
                    let size = size.min(u64::from(u32::MAX)) as u32;
                    self.set(key(1), t, size, Expire::Keep);
                }
            }
            "INCR" | "DECR" if n == 2 => self.bump(key(1), t),
            "INCRBY" | "DECRBY" if n == 3 && a[2].int().is_some() => self.bump(key(1), t),
            "INCRBYFLOAT" if n == 3 && a[2].float().is_some() => self.bump(key(1), t),
            "DEL" | "UNLINK" if n >= 2 => (1..n).for_each(|i| self.delete(key(i), t)),
            "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT" if n == 3 || n == 4 => {
                return self.expire_cmd(&cmd, a, t, db)
            }
            "PERSIST" if n == 2 => {
                if let Known::Present { deadline, size } = self.known(key(1), t) {
                    if deadline.is_finite() {
                        self.set(key(1), t, size, Expire::None);
                    }
                }
            }
            "GETEX" if n >= 2 => return self.getex_cmd(a, t, db),
            "GET" | "STRLEN" | "GETRANGE" | "SUBSTR" | "MGET" | "GETDEL" | "GETSET" | "SET"
            | "SETNX" | "SETEX" | "PSETEX" | "MSET" | "MSETNX" | "APPEND" | "SETRANGE" | "INCR"
            | "DECR" | "INCRBY" | "DECRBY" | "INCRBYFLOAT" | "DEL" | "UNLINK" | "EXPIRE"
            | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT" | "PERSIST" => return Mapped::Bad,
            _ => return Mapped::Skip,
        }
        Mapped::Done
    }

    /// `INCR` and friends: a set keeping the TTL (the value's size as
    /// known, else 1; a missing key is created without one).
    fn bump(&mut self, key: Key, t: f64) {
        let size = self.size_of(key, t, 1);
        self.set(key, t, size, Expire::Keep);
    }

    /// `EX s`, `PX ms`, `EXAT s`, `PXAT ms` at `a[i]`, `a[i + 1]`: the
    /// deadline; `None` for another word, `Some(None)` for a bad value.
    fn expire_option(a: &[Arg], i: usize, t: f64) -> Option<Option<f64>> {
        let (unit, abs) = match a[i].upper().as_str() {
            "EX" => (1.0, false),
            "PX" => (1e-3, false),
            "EXAT" => (1.0, true),
            "PXAT" => (1e-3, true),
            _ => return None,
        };
        let v = a.get(i + 1).and_then(Arg::int).filter(|&v| v > 0);
        Some(v.map(|v| {
            let v = v as f64 * unit;
            if abs {
                v
            } else {
                t + v
            }
        }))
    }

    /// `SET k v [NX|XX] [GET] [EX|PX|EXAT|PXAT|KEEPTTL]`.
    fn set_cmd(&mut self, a: &[Arg], t: f64, db: u64) -> Mapped {
        let (mut nx, mut xx, mut get, mut exp) = (false, false, false, None);
        let mut i = 3;
        while i < a.len() {
            if let Some(d) = Self::expire_option(a, i, t) {
                match (d, &exp) {
                    (Some(d), None) => exp = Some(Expire::At(d)),
                    _ => return Mapped::Bad,
                }
                i += 2;
                continue;
            }
            match a[i].upper().as_str() {
                "NX" if !xx => nx = true,
                "XX" if !nx => xx = true,
                "GET" => get = true,
                "KEEPTTL" if exp.is_none() => exp = Some(Expire::Keep),
                _ => return Mapped::Bad,
            }
            i += 1;
        }
        let key = key_of(&a[1], db);
        if get {
            self.get(key, t);
        }
        let present = matches!(self.known(key, t), Known::Present { .. });
        let absent = self.known(key, t) == Known::Absent;
        if (nx && present) || (xx && absent) {
            return Mapped::Done;
        }
        self.set(key, t, a[2].size(), exp.unwrap_or(Expire::None));
        Mapped::Done
    }

    /// `EXPIRE k s [NX|XX|GT|LT]` and the `P`/`AT` forms: a set carrying the
    /// new TTL when Redis would apply it.
    fn expire_cmd(&mut self, cmd: &str, a: &[Arg], t: f64, db: u64) -> Mapped {
        let Some(v) = a[2].int() else {
            return Mapped::Bad;
        };
        let unit = if cmd.starts_with('P') { 1e-3 } else { 1.0 };
        let v = v as f64 * unit;
        let at = if cmd.ends_with("AT") { v } else { t + v };
        let key = key_of(&a[1], db);
        let (old, size) = match self.known(key, t) {
            Known::Absent => return Mapped::Done,
            Known::Present { deadline, size } => (deadline, size),
            Known::Unknown => (f64::INFINITY, 1),
        };
        let apply = match a.get(3).map(Arg::upper).as_deref() {
            None => true,
            Some("NX") => old.is_infinite(),
            Some("XX") => old.is_finite(),
            Some("GT") => old.is_finite() && at > old,
            Some("LT") => at < old,
            Some(_) => return Mapped::Bad,
        };
        if apply {
            self.set(key, t, size, Expire::At(at));
        }
        Mapped::Done
    }

    /// `GETEX k [EX s|PX ms|EXAT s|PXAT ms|PERSIST]`: a get, then the TTL
    /// change as a set when the key is there.
    fn getex_cmd(&mut self, a: &[Arg], t: f64, db: u64) -> Mapped {
        let exp = match a.len() {
            2 => None,
            3 if a[2].is("PERSIST") => Some(Expire::None),
            4 => match Self::expire_option(a, 2, t) {
                Some(Some(d)) => Some(Expire::At(d)),
                _ => return Mapped::Bad,
            },
            _ => return Mapped::Bad,
        };
        let key = key_of(&a[1], db);
        self.get(key, t);
        let (deadline, size) = match self.known(key, t) {
            Known::Absent => return Mapped::Done,
            Known::Present { deadline, size } => (deadline, size),
            Known::Unknown => (f64::INFINITY, 1),
        };
        match exp {
            // PERSIST of a key without a TTL changes nothing.
            Some(Expire::None) if deadline.is_infinite() => {}
            Some(e) => self.set(key, t, size, e),
            None => {}
        }
        Mapped::Done
    }

    fn count_skip(&mut self, what: String) {
        *self.skipped.entry(what).or_insert(0) += 1;
    }
}

impl RequestSource for MonitorReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        while batch.len() < max {
            if let Some((r, ttl)) = self.out.pop_front() {
                let v = batch.len() as u64;
                batch.push(&r, v);
                batch.set_last_ttl(ttl);
                continue;
            }
            let Some((t, db)) = self.next_command()? else {
                break;
            };
            self.t0.get_or_insert(t);
            match self.map(t, db) {
                Mapped::Done => {}
                Mapped::Skip => {
                    let name = self.args[0].upper();
                    self.count_skip(name);
                }
                Mapped::Bad => {
                    let name = self.args[0].upper();
                    self.count_skip(format!("{name} (bad arguments)"));
                }
            }
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::hash_str;

    fn reader(text: &[u8]) -> MonitorReader {
        let input: Box<dyn BufRead + Send> = Box::new(std::io::BufReader::with_capacity(
            7,
            std::io::Cursor::new(text.to_vec()),
        ));
        MonitorReader::new(Path::new("m.log"), input)
    }

    /// All requests of `text` as `(time, key, size, op, ttl)`, and the
    /// skipped summary.
    /// A request as the tests see it: time, key, size, op, TTL.
    type Seen = (f64, Key, u32, Op, f32);

    fn read(text: &str) -> Result<(Vec<Seen>, Option<String>), TraceError> {
        let mut r = reader(text.as_bytes());
        let mut b = Batch::new(1.0, 1);
        let mut out = vec![];
        while r.next_batch(&mut b, 2)? > 0 {
            for i in 0..b.len() {
                let q = b.request(i, i as u64);
                out.push((q.time, q.key, q.size, q.op, b.ttl(i)));
            }
        }
        Ok((out, r.summary()))
    }

    fn line(t: f64, args: &[&str]) -> String {
        let quoted: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
        format!("{t:.6} [0 127.0.0.1:5000] {}\n", quoted.join(" "))
    }

    fn lines(cmds: &[(f64, &[&str])]) -> String {
        let mut s = String::from("OK\n");
        for (t, a) in cmds {
            s += &line(1000.0 + t, a);
        }
        s
    }

    fn ops(text: &str) -> Vec<(Key, Op, f32)> {
        read(text)
            .unwrap()
            .0
            .into_iter()
            .map(|(_, k, _, op, ttl)| (k, op, ttl))
            .collect()
    }

    #[test]
    fn reads_the_documented_example_with_escapes_and_clients() {
        let text = "OK\n1712345678.123456 [0 127.0.0.1:51234] \"SET\" \"user:1\" \"v\" \"EX\" \"30\"\n\
                    1712345678.623456 [0 unix:/tmp/redis.sock] \"GET\" \"user:1\"\r\n\
                    1712345679.123456 [0 lua] \"DEL\" \"a\\x00b\" \"say \\\"hi\\\"\" \"\\n\\r\\t\\a\\b\\\\\"\n\
                    1712345680 [0 [::1]:6000] \"MGET\" \"42\" \"k\"";
        let (got, skipped) = read(text).unwrap();
        assert_eq!(skipped, None);
        let want = vec![
            (0.0, hash_str("user:1"), 1, Op::Set, 30.0),
            (0.5, hash_str("user:1"), 1, Op::Get, 0.0),
            (1.0, hash_str("a\0b"), 1, Op::Delete, 0.0),
            (1.0, hash_str("say \"hi\""), 1, Op::Delete, 0.0),
            (1.0, hash_str("\n\r\t\u{7}\u{8}\\"), 1, Op::Delete, 0.0),
            (1.876544, 42, 1, Op::Get, 0.0),
            (1.876544, hash_str("k"), 1, Op::Get, 0.0),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g.0 - w.0).abs() < 1e-5, "{g:?} {w:?}");
            assert_eq!((g.1, g.2, g.3, g.4), (w.1, w.2, w.3, w.4));
        }
        // Non-UTF-8 bytes hash as bytes.
        let (got, _) = read(&line(0.0, &["GET", "\\xff\\xFE"])).unwrap();
        assert_eq!(got[0].1, fnv(FNV_BASIS, &[0xff, 0xfe]));
    }

    #[test]
    fn databases_do_not_share_keys() {
        let text = "1.0 [0 c] \"GET\" \"k\"\n1.0 [3 c] \"GET\" \"k\"\n1.0 [3 c] \"GET\" \"7\"\n";
        let keys: Vec<Key> = ops(text).into_iter().map(|x| x.0).collect();
        assert_eq!(keys[0], hash_str("k"));
        assert_eq!(keys[1], hash_str("3\0k"));
        assert_eq!(keys[2], hash_str("3\x007"));
    }

    #[test]
    fn set_options_give_sizes_and_ttls() {
        let k = hash_str("k");
        let (got, _) = read(&lines(&[
            (0.0, &["SET", "k", "hello", "EX", "10"]),
            (1.0, &["set", "k", "hi", "px", "2500"]),
            (2.0, &["SET", "k", "abc", "EXAT", "1012"]),
            (3.0, &["SET", "k", "abcd", "PXAT", "1004500"]),
            (4.0, &["SET", "k", "abcde", "KEEPTTL"]),
            (5.0, &["SET", "k", "x"]),
            (6.0, &["SET", "k", "y", "KEEPTTL"]),
            (7.0, &["SETEX", "k", "3", "1234"]),
            (8.0, &["PSETEX", "k", "1500", "12"]),
            (9.0, &["MSET", "k", "1", "j", "22"]),
        ]))
        .unwrap();
        let got: Vec<(Key, u32, Op, f32)> = got.iter().map(|g| (g.1, g.2, g.3, g.4)).collect();
        assert_eq!(
            got,
            vec![
                (k, 5, Op::Set, 10.0),
                (k, 2, Op::Set, 2.5),
                (k, 3, Op::Set, 10.0),
                (k, 4, Op::Set, 1.5),
                // KEEPTTL: what is left of the deadline at 1004.5.
                (k, 5, Op::Set, 0.5),
                (k, 1, Op::Set, 0.0),
                (k, 1, Op::Set, 0.0),
                (k, 4, Op::Set, 3.0),
                (k, 2, Op::Set, 1.5),
                (k, 1, Op::Set, 0.0),
                (hash_str("j"), 2, Op::Set, 0.0),
            ]
        );
    }

    #[test]
    fn nx_and_xx_follow_what_the_reader_knows_of_the_key() {
        let (k, j, u) = (hash_str("k"), hash_str("j"), hash_str("u"));
        let got = ops(&lines(&[
            (0.0, &["SET", "k", "v", "NX", "PX", "100"]), // unknown: applies
            (0.05, &["SET", "k", "v", "NX"]),             // present: no-op
            (0.05, &["SETNX", "k", "v"]),                 // present: no-op
            (0.2, &["SET", "k", "v", "NX"]),              // expired: applies
            (0.3, &["DEL", "j"]),
            (0.3, &["SET", "j", "v", "XX"]),        // absent: no-op
            (0.3, &["SET", "u", "v", "XX"]),        // unknown: applies
            (0.4, &["MSETNX", "k", "1", "z", "2"]), // k present: none
        ]));
        assert_eq!(
            ops_only(&got),
            vec![
                (k, Op::Set, 0.1),
                (k, Op::Set, 0.0),
                (j, Op::Delete, 0.0),
                (u, Op::Set, 0.0),
            ]
        );
    }

    fn ops_only(v: &[(Key, Op, f32)]) -> Vec<(Key, Op, f32)> {
        v.iter()
            .map(|&(k, o, t)| (k, o, (t * 1000.0).round() / 1000.0))
            .collect()
    }

    #[test]
    fn reads_and_read_writes() {
        let (k, j) = (hash_str("k"), hash_str("j"));
        let got = ops(&lines(&[
            (0.0, &["GET", "k"]),
            (0.0, &["MGET", "k", "j"]),
            (0.0, &["GETDEL", "k"]),
            (0.0, &["GETSET", "k", "v"]),
            (0.0, &["SET", "j", "v", "GET", "EX", "5"]),
            (0.0, &["STRLEN", "j"]),
            (0.0, &["GETRANGE", "j", "0", "3"]),
            (0.0, &["UNLINK", "k", "j"]),
        ]));
        use Op::*;
        assert_eq!(
            ops_only(&got),
            vec![
                (k, Get, 0.0),
                (k, Get, 0.0),
                (j, Get, 0.0),
                (k, Get, 0.0),
                (k, Delete, 0.0),
                (k, Get, 0.0),
                (k, Set, 0.0),
                (j, Get, 0.0),
                (j, Set, 5.0),
                (j, Get, 0.0),
                (j, Get, 0.0),
                (k, Delete, 0.0),
                (j, Delete, 0.0),
            ]
        );
    }

    #[test]
    fn ttl_changes_are_sets_with_the_new_ttl_and_the_known_size() {
        let k = hash_str("k");
        let u = hash_str("unseen");
        let (got, _) = read(&lines(&[
            (0.0, &["SET", "k", "12345"]),
            (1.0, &["EXPIRE", "k", "10"]),         // until 1011
            (2.0, &["EXPIRE", "k", "100", "NX"]),  // has a TTL: no-op
            (2.0, &["PEXPIRE", "k", "500", "GT"]), // shorter: no-op
            (2.0, &["EXPIREAT", "k", "1005", "LT"]),
            (3.0, &["INCR", "k"]), // keeps the TTL: 2 s left
            (3.0, &["APPEND", "k", "678"]),
            (3.5, &["GETEX", "k", "PX", "250"]),
            (3.6, &["GETEX", "k", "PERSIST"]),
            (3.7, &["GETEX", "k"]),
            (4.0, &["PERSIST", "k"]),           // no TTL: no-op
            (5.0, &["PEXPIREAT", "k", "1000"]), // in the past: deleted
            (6.0, &["EXPIRE", "k", "5"]),       // absent: no-op
            (6.0, &["GETEX", "k", "EX", "5"]),  // absent: the get only
            (7.0, &["EXPIRE", "unseen", "-1"]),
        ]))
        .unwrap();
        use Op::*;
        let got: Vec<Seen> = got
            .into_iter()
            .map(|(t, k, s, o, ttl)| {
                let r = |v: f64| (v * 1000.0).round() / 1000.0;
                (r(t), k, s, o, r(f64::from(ttl)) as f32)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (0.0, k, 5, Set, 0.0),
                (1.0, k, 5, Set, 10.0),
                (2.0, k, 5, Set, 3.0),
                (3.0, k, 5, Set, 2.0),
                (3.0, k, 8, Set, 2.0),
                (3.5, k, 8, Get, 0.0),
                (3.5, k, 8, Set, 0.25),
                (3.6, k, 8, Get, 0.0),
                (3.6, k, 8, Set, 0.0),
                (3.7, k, 8, Get, 0.0),
                (5.0, k, 1, Delete, 0.0),
                (6.0, k, 1, Get, 0.0),
                (7.0, u, 1, Delete, 0.0),
            ]
        );
    }

    #[test]
    fn other_commands_and_bad_arguments_are_skipped_and_counted() {
        let (got, summary) = read(&lines(&[
            (0.0, &["PING"]),
            (0.0, &["ping"]),
            (0.0, &["INFO", "stats"]),
            (0.0, &["SELECT", "2"]),
            (0.0, &["HGET", "h", "f"]),
            (0.0, &["SET", "k", "v", "EX", "0"]),
            (0.0, &["SET", "k", "v", "EX", "5", "PX", "5"]),
            (0.0, &["SET", "k", "v", "NX", "XX"]),
            (0.0, &["SETEX", "k", "x", "v"]),
            (0.0, &["GET", "a", "b"]),
            (0.0, &["GET", "k"]),
        ]))
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            summary.as_deref(),
            Some("skipped 10 commands: SET (bad arguments) 3, PING 2, GET (bad arguments) 1, HGET 1, INFO 1, SELECT 1, SETEX (bad arguments) 1")
        );
        let (_, one) = read(&lines(&[(0.0, &["PING"])])).unwrap();
        assert_eq!(one.as_deref(), Some("skipped 1 command: PING 1"));
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        for (text, line, what) in [
            ("OK\nhello\n", 2, "not a MONITOR line"),
            ("OK\n1.0 [0 c] GET k\n", 2, "not a MONITOR line"),
            (
                "1.0 [0 c] \"GET\" \"k\"\nx.5 [0 c] \"GET\"\n",
                2,
                "time 'x.5'",
            ),
            ("1.0 [z c] \"GET\"\n", 1, "database 'z'"),
            ("1.0 0 c \"GET\"\n", 1, "not a MONITOR line"),
            ("\n\n1.0 [0 c] \"GET\" \"k\n", 3, "ends inside a quoted"),
            ("1.0 [0 c] \"GET\" \"k", 1, "ends inside a quoted"),
            ("1.0 [0 c] \"GET\" \"k\\q\"\n", 1, "unknown escape '\\q'"),
            (
                "1.0 [0 c] \"GET\" \"k\\xZZ\"\n",
                1,
                "'\\xZZ' is not a hex escape",
            ),
            (
                "1.0 [0 c] \"GET\" k\n",
                1,
                "argument 2 is not in double quotes",
            ),
            (
                "1.0 [0 c] \"GET\"\"k\"\n",
                1,
                "after the closing quote of argument 1",
            ),
            ("1.0 [0 c] \"GET\" \"k\0\"\n", 1, "NUL"),
        ] {
            let e = read(text).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("m.log:{line}: ")) && e.contains(what),
                "{text:?}: {e}"
            );
        }
        let long = format!("1.0 [0 {}] \"GET\"\n", "c".repeat(MAX_HEADER));
        let e = read(&long).unwrap_err().to_string();
        assert!(e.starts_with("m.log:1: ") && e.contains("4096"), "{e}");
    }

    #[test]
    fn a_long_value_costs_its_length_not_its_bytes() {
        let v = "x".repeat(300_000);
        let (got, _) = read(&lines(&[(0.0, &["SET", "k", &v])])).unwrap();
        assert_eq!(got[0].2, 300_000);
    }

    #[test]
    fn detected_by_content() {
        let head = lines(&[(0.0, &["GET", "k"]), (1.0, &["SET", "k", "a,b"])]);
        assert_eq!(
            super::super::detect_content(head.as_bytes(), false),
            Some(super::super::TraceFormat::RedisMonitor)
        );
        assert!(is_monitor_line(
            "1712345678.123456 [0 127.0.0.1:51234] \"GET\" \"user:1\""
        ));
        assert!(is_monitor_line("1.5 [12 lua] \"PING\""));
        assert!(!is_monitor_line("1712345678 GET user:1"));
        assert!(!is_monitor_line("time,key"));
    }
}
