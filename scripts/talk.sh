#!/usr/bin/env bash
# Every chart of the talk ("Efficient Caching in Python", see shared/TALK.md)
# from scratch: builds cachesim once (release), runs the scenarios, and leaves
# CSVs, charts (PNG + SVG), Markdown comparisons and report.html under
# results/talk/. A few minutes on a 2-core machine.
#
#   scripts/talk.sh                 # everything
#   OUT=/tmp/talk scripts/talk.sh   # somewhere else
#   TALK_REQUESTS=200k scripts/talk.sh   # quicker, noisier
#
# Scenarios:
#   skew      strategies on Zipf at alpha 0.6, 0.8, 1.0, 1.2, capacities from
#             0.1% to 30% of the keys (the miss-ratio curve) -> policies-zipf-*,
#             skew-lru-mrc (LRU alone: how skew decides what a cache buys)
#   trace     the same strategies on the ARC paper's OLTP trace, at the
#             paper's cache sizes, when the trace and an `arc` trace reader
#             are there (CACHESIM_TRACE_DIR, else ../shared/traces, else
#             /work/shared/traces); skipped with a message otherwise -> oltp-*
#   latency   figure 1: no cache vs LRU in front of a 2 ms origin, the
#             latency percentile spectrum and hit vs miss latency -> latency-latency
#   expiry    figure 4: ttl (and lru as the baseline) at TTL 1s, 5s, 30s, 5m
#             on YCSB-B (5% writes) without invalidation: hit ratio and
#             stale-hit ratio against TTL -> expiry-staleness
#   warming   figure 6: hit ratio per window after a cold start, with and
#             without prefilling the hottest keys -> warming-timeline
#   fleet     figure 8: K = 1, 2, 4, 8 instances, local LRU per instance vs
#             one shared LRU, 5% writes: hit ratio and stale hits against K
#             -> fleet-fleet
#   report    report.html: every chart, the comparison, the commands
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-results/talk}
REQUESTS=${TALK_REQUESTS:-1M}
# The single-capacity figures (1, 4, 6, 8) need fewer requests.
FIG_REQUESTS=${TALK_FIG_REQUESTS:-200k}
KEYS=${TALK_KEYS:-100k}
# Traces: $CACHESIM_TRACE_DIR, else ../shared/traces beside the repository
# (as the tests look for them), else /work/shared/traces.
TRACE_DIR=${CACHESIM_TRACE_DIR:-}
if [ -z "$TRACE_DIR" ]; then
  TRACE_DIR=$(pwd)/../shared/traces
  [ -d "$TRACE_DIR" ] || TRACE_DIR=/work/shared/traces
fi
start=$(date +%s)

say() { printf '\n== %s\n' "$*" >&2; }

# CACHESIM_BIN=path runs a cachesim already built (scripts/equivalence.sh
# runs the talk with the binary it compares); otherwise build it here.
if [ -n "${CACHESIM_BIN:-}" ]; then
  BIN=$CACHESIM_BIN
else
  say "building (release)"
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/cachesim"
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.csv
rm -rf "$OUT/fleet"

# The talk's six strategies, plus any of the modern ones this build has.
listing=$("$BIN" list)
names=$(printf '%s\n' "$listing" | awk '/^Strategies/{f=1; next} /^$/{f=0} f{print $1}')
strategies=none,lru,lfu,fifo,ttl,random
for s in clock sieve s3fifo arc lirs 2q slru wtinylfu tinylfu lruk belady; do
  if grep -qx "$s" <<< "$names"; then strategies="$strategies,$s"; fi
done
echo "strategies: $strategies" >&2

say "skew: Zipf alpha 0.6 0.8 1.0 1.2, $REQUESTS requests over $KEYS keys"
skew_csvs=()
for a in 0.6 0.8 1.0 1.2; do
  csv="$OUT/zipf-alpha$a.csv"
  "$BIN" run -q -f csv -s "$strategies" -w zipf --alpha "$a" --requests "$REQUESTS" --keys "$KEYS" \
    -c 0.1%,0.3%,1%,3%,10%,30% -o "$csv" > /dev/null
  skew_csvs+=("$csv")
done
"$BIN" plot -q "${skew_csvs[@]}" --out "$OUT" --name policies-zipf --kind mrc
"$BIN" plot -q "${skew_csvs[@]}" --out "$OUT" --name policies-zipf --kind bars --capacity 1%
"$BIN" plot -q "${skew_csvs[@]}" --out "$OUT" --name skew-lru --kind mrc --strategy lru --overlay \
  --title "LRU hit ratio by Zipf skew: what a cache buys depends on the traffic"
"$BIN" compare "${skew_csvs[@]}" --export-markdown "$OUT/policies-zipf.md" > "$OUT/policies-zipf.txt"

say "trace: ARC paper OLTP"
trace="$TRACE_DIR/arc/OLTP.lis.zst"
formats=$(printf '%s\n' "$listing" | awk '/^Trace formats/{f=1; next} /^$/{f=0} f{print $1}')
if [ ! -f "$trace" ]; then
  echo "skipped: no trace at $trace (set CACHESIM_TRACE_DIR)" >&2
elif ! grep -qx arc <<< "$formats"; then
  echo "skipped: this build has no 'arc' trace reader (see 'cachesim list')" >&2
elif "$BIN" run -q -f csv -s "$strategies" --trace "$trace" --trace-format arc \
    -c 1000,2000,5000,10000,15000 -o "$OUT/oltp.csv" > /dev/null; then
  "$BIN" plot -q "$OUT/oltp.csv" --out "$OUT" --name oltp --kind mrc
  "$BIN" plot -q "$OUT/oltp.csv" --out "$OUT" --name oltp --kind bars --capacity 10000
  "$BIN" compare "$OUT/oltp.csv" --export-markdown "$OUT/oltp.md" > "$OUT/oltp.txt"
else
  echo "skipped: the OLTP run failed (see the error above)" >&2
  rm -f "$OUT/oltp.csv"
fi

say "latency: none vs lru in front of a 2 ms origin (figure 1)"
"$BIN" run -q -f csv -s none,lru -w zipf --alpha 1.0 --requests "$FIG_REQUESTS" --keys "$KEYS" \
  -c 10% --origin-latency 2ms -o "$OUT/latency.csv" > /dev/null
"$BIN" plot -q "$OUT/latency.csv" --out "$OUT" --name latency --kind latency

say "expiry: TTL 1s..5m with writes and no invalidation (figure 4)"
"$BIN" run -q -f csv -s ttl,lru -w ycsb-b --requests "$FIG_REQUESTS" --keys "$KEYS" -c 10% \
  --on-write none --ttl 1s,5s,30s,5m --no-latency -o "$OUT/expiry.csv" > /dev/null
"$BIN" plot -q "$OUT/expiry.csv" --out "$OUT" --name expiry --kind staleness

say "warming: cold start vs prefilled hottest keys (figure 6)"
# Each run writes <results>-timeline.csv next to its results; the legend
# tells the two apart by file name (cold, prefill). Warming is over in a few
# thousand requests, so a short run in small windows shows it best.
"$BIN" run -q -f csv -s lru,lfu -w zipf --requests 50k --keys "$KEYS" -c 1000 \
  --window 1k --no-latency -o "$OUT/cold.csv" > /dev/null
"$BIN" run -q -f csv -s lru,lfu -w zipf --requests 50k --keys "$KEYS" -c 1000 \
  --window 1k --prefill top:1000 --no-latency -o "$OUT/prefill.csv" > /dev/null
"$BIN" plot -q "$OUT/cold-timeline.csv" "$OUT/prefill-timeline.csv" --out "$OUT" --name warming --kind timeline

say "fleet: K local caches vs one shared cache, K = 1 2 4 8 (figure 8)"
# One CSV per K (cachesim run writes one file per call), merged into one.
mkdir -p "$OUT/fleet"
for k in 1 2 4 8; do
  "$BIN" run -q -f csv -s lru,shared:lru -w zipf --requests "$FIG_REQUESTS" --keys "$KEYS" -c 1% \
    --instances "$k" --write-ratio 0.05 -o "$OUT/fleet/k$k.csv" > /dev/null
done
{ head -n 1 "$OUT/fleet/k1.csv"; for k in 1 2 4 8; do tail -n +2 "$OUT/fleet/k$k.csv"; done; } > "$OUT/fleet.csv"
rm -rf "$OUT/fleet"
"$BIN" plot -q "$OUT/fleet.csv" --out "$OUT" --name fleet --kind fleet

say "report"
# Every CSV but prefill.csv (the same runs as cold.csv but for the prefill;
# its timeline is drawn).
report_csvs=()
for f in "$OUT"/*.csv; do
  case "$f" in */prefill.csv) ;; *) report_csvs+=("$f") ;; esac
done
"$BIN" report "${report_csvs[@]}" -o "$OUT/report.html" --title "cachesim: the talk's figures" > /dev/null

say "done in $(($(date +%s) - start)) s: $OUT"
ls "$OUT" >&2
