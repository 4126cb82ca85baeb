//! The event mode: requests that take time. A miss occupies the origin for
//! its latency, so concurrent requests for a key that expired all reach the
//! database (a cache stampede) unless a defence stops them.
//!
//! Where the plain loop ([`super::replay`]) treats a miss as instantaneous,
//! this mode replays the stream as a discrete-event simulation in request
//! time ([`sim`]):
//!
//! - **arrivals** ([`Arrivals`]): open loop at the trace's timestamps (for a
//!   synthetic workload, `v / --rate`), open loop as a Poisson process at
//!   `--rate`, or closed loop: `--clients N` clients, each sending its next
//!   request a think time after the previous one was answered;
//! - **the origin** ([`origin`]): each fetch takes a service time drawn from
//!   `--origin-latency` (or measured on a real PostgreSQL, one connection
//!   per client); at most `--origin-concurrency C` run at once, the others
//!   wait in arrival order;
//! - **a request for a key whose fetch is in flight** misses and fetches
//!   again (a duplicate fetch), unless `--coalesce` (single flight: it waits
//!   for the fetch in flight and is answered with it);
//! - **defences against expiry**: `--stale-while-revalidate D` (an expired
//!   value is still served for D, while one background refresh runs),
//!   `--xfetch BETA` (probabilistic early expiration, Vattani, Chierichetti &
//!   Lowenstein, VLDB 2015: a get recomputes early when `now - delta * beta *
//!   ln(U) >= expiry`, delta being the last fetch's duration) and
//!   `--ttl-jitter F` (each TTL drawn uniformly from `[ttl (1 - F), ttl]`).
//!
//! Every fill gets the request's TTL (from the trace) or else `--ttl`.
//!
//! **What a get counts as.** Hits are gets answered from the cache: fresh,
//! or stale within the stale-while-revalidate window (also counted in
//! `stale_serves`). Misses are gets answered by the origin: a fetch of
//! their own, a fetch in flight they waited for (`coalesced`), or an early
//! recomputation (`early_refreshes`). A fetch's value fills the cache when
//! it arrives, with the time of its arrival. Latency is simulated: a hit
//! takes 0, a get answered by the origin waits until its fetch arrives
//! (queueing included). Writes go to the cache as in the plain loop (the
//! same [`super::write::OnWrite`] rules) and are answered at once.
//!
//! With an unbounded origin and zero latency the mode counts exactly what
//! the plain loop counts (a test pins it for every strategy).

#[cfg(test)]
mod checks;
pub mod origin;
pub mod run;
pub mod sim;

use super::latency::OriginModel;
use crate::units::format_duration;

/// How requests arrive.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Arrivals {
    /// Open loop, at each request's own time (the trace's timestamp, or
    /// `v / --rate`).
    #[default]
    Trace,
    /// Open loop, a Poisson process at `--rate` requests per second.
    Poisson,
    /// Closed loop: N clients, each sending its next request a think time
    /// after its previous one was answered.
    Closed {
        /// `--clients`.
        clients: u64,
    },
}

impl Arrivals {
    /// Parses `--arrivals`: `trace` or `poisson`.
    pub fn parse(s: &str) -> Result<Arrivals, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "trace" => Ok(Arrivals::Trace),
            "poisson" => Ok(Arrivals::Poisson),
            _ => Err(format!(
                "invalid arrivals '{s}': expected trace (each request at its own time) or poisson (a Poisson process at --rate); closed-loop clients are --clients N"
            )),
        }
    }

    /// The `arrivals` column: `trace`, `poisson` or `closed`.
    pub fn label(&self) -> &'static str {
        match self {
            Arrivals::Trace => "trace",
            Arrivals::Poisson => "poisson",
            Arrivals::Closed { .. } => "closed",
        }
    }
}

/// The event mode's options (the same for every run of a plan).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventOptions {
    /// How requests arrive.
    pub arrivals: Arrivals,
    /// Closed loop: the think time between an answer and the client's next
    /// request; `None` is exponential with mean `clients / rate` (the
    /// clients then offer about `--rate` requests per second while answers
    /// are fast).
    pub think: Option<OriginModel>,
    /// `--origin-concurrency`: fetches the origin runs at once; `None` is
    /// unbounded.
    pub origin_concurrency: Option<u64>,
    /// `--coalesce`: a get for a key whose fetch is in flight waits for it.
    pub coalesce: bool,
    /// `--stale-while-revalidate`, seconds.
    pub swr: Option<f64>,
    /// `--xfetch`: XFetch's beta.
    pub xfetch: Option<f64>,
    /// `--ttl-jitter`: the share F of each TTL drawn off it.
    pub ttl_jitter: Option<f64>,
}

impl EventOptions {
    /// The clients of a closed loop (`None` in an open loop).
    pub fn clients(&self) -> Option<u64> {
        match self.arrivals {
            Arrivals::Closed { clients } => Some(clients),
            _ => None,
        }
    }

    /// The think time's label for the `think_time` column (closed loop
    /// only): the model as given, or `exp:<clients/rate>`.
    pub(crate) fn think_label(&self, rate: f64) -> String {
        match (self.clients(), &self.think) {
            (None, _) => String::new(),
            (Some(_), Some(m)) => m.label(),
            (Some(n), None) => format!("exp:{}", format_duration(n as f64 / rate)),
        }
    }

    /// The defences in force, for chart legends and the timeline's
    /// `defences` column: `coalesce+swr:5s+xfetch:1+jitter:0.2`, or `none`.
    pub fn defences(&self) -> String {
        let mut d = Vec::new();
        if self.coalesce {
            d.push("coalesce".to_string());
        }
        if let Some(s) = self.swr {
            d.push(format!("swr:{}", format_duration(s)));
        }
        if let Some(b) = self.xfetch {
            d.push(format!("xfetch:{b}"));
        }
        if let Some(f) = self.ttl_jitter {
            d.push(format!("jitter:{f}"));
        }
        if d.is_empty() {
            "none".into()
        } else {
            d.join("+")
        }
    }
}

/// Parses `--xfetch BETA`: a positive number (1 is the paper's default).
pub fn parse_beta(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(b) if b.is_finite() && b > 0.0 && b <= 1000.0 => Ok(b),
        _ => Err(format!(
            "invalid XFetch beta '{s}': expected a number in (0, 1000], e.g. 1 (the paper's default; above 1 refreshes earlier)"
        )),
    }
}

/// Parses `--ttl-jitter F`: a share in [0, 1).
pub fn parse_jitter(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "invalid TTL jitter '{s}': expected a share in [0, 1), e.g. 0.1 (each TTL drawn from [0.9 ttl, ttl])"
        )),
    }
}

/// Parses `--origin-concurrency C`: fetches at once, 1 or more.
pub fn parse_concurrency(s: &str) -> Result<u64, String> {
    match crate::units::parse_count(s) {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "invalid origin concurrency '{s}': expected a number of fetches the origin runs at once, 1 to 1000000 (e.g. 8, a database's connection pool)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_name_what_is_accepted() {
        assert_eq!(Arrivals::parse("Poisson").unwrap(), Arrivals::Poisson);
        assert!(Arrivals::parse("closed").unwrap_err().contains("--clients"));
        assert_eq!(parse_beta("1").unwrap(), 1.0);
        assert!(parse_beta("0").unwrap_err().contains("(0, 1000]"));
        assert!(parse_beta("nan").is_err());
        assert_eq!(parse_jitter("0.2").unwrap(), 0.2);
        assert!(parse_jitter("1").unwrap_err().contains("[0, 1)"));
        assert_eq!(parse_concurrency("8").unwrap(), 8);
        assert!(parse_concurrency("0").is_err());
    }

    #[test]
    fn defences_and_think_time_have_stable_labels() {
        let mut o = EventOptions::default();
        assert_eq!(o.defences(), "none");
        assert_eq!(o.think_label(1000.0), "");
        o.coalesce = true;
        o.swr = Some(5.0);
        o.xfetch = Some(1.0);
        o.ttl_jitter = Some(0.2);
        assert_eq!(o.defences(), "coalesce+swr:5s+xfetch:1+jitter:0.2");
        o.arrivals = Arrivals::Closed { clients: 8 };
        assert_eq!(o.think_label(1000.0), "exp:8ms");
    }
}
