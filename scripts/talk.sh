#!/usr/bin/env bash
# Every figure of the talk ("Efficient Caching in Python", see shared/TALK.md)
# from scratch, in the talk's order: builds cachesim once (release), runs the
# scenarios, and leaves CSVs, charts (PNG + SVG), figure cards, Markdown
# comparisons and report.html (one figure per scenario, each with its
# takeaway and the commands that reproduce it) under results/talk/.
# About a minute and a half on a 2-core machine with a warm build.
#
#   scripts/talk.sh                 # everything
#   OUT=/tmp/talk scripts/talk.sh   # somewhere else
#   TALK_REQUESTS=200k scripts/talk.sh   # quicker, noisier curves
#
# Figures (fig<N>-<kind>.png/.svg/.figure.json):
#   1 latency       no cache vs LRU in front of a 2 ms origin: every
#                   percentile (the step from hits to misses sits at the hit
#                   ratio) and the mean
#   2 skew          LRU's hit ratio against cache size at Zipf 0.6..1.2
#   3 policies      every strategy on Zipf 1.0 at 1% of the keys (bars) and
#                   across sizes (curves, lru/s3fifo/belady highlighted), and
#                   on the ARC paper's OLTP trace when CACHESIM_TRACE_DIR (else
#                   ../shared/traces) has arc/OLTP.lis.zst (skipped with a
#                   message otherwise)
#   4 expiry        TTL 1s..5m on YCSB-B without invalidation: hits vs stale
#   5 invalidation  delete-on-write, write-through, none, TTL-only: stale hits
#   6 warming       hit ratio per window after a cold start, and prefilled
#                   with the hottest keys (dashed)
#   7 redis         in-process LRU vs a real Redis vs an L1 in front of it vs
#                   no cache (latency), and Redis's sampled LRU against exact
#                   LRU (curves); needs Redis at $REDIS_URL (default
#                   redis://127.0.0.1:6379), skipped with a message otherwise
#   8 fleet         K = 1..8 local LRUs vs one shared LRU with 5% writes
#   9 deploys       hit ratio per window across restarts every 50k
#                   requests: an in-process LRU empties, disk (joblib-style
#                   files), memcached and Redis keep theirs (the servers
#                   when they answer at $MEMCACHED_URL / $REDIS_URL)
#  10 tiers         latency of no cache (the origin), process memory, disk,
#                   memcached and Redis, side by side
#  11 stampede      origin requests per window (and fetches at the origin
#                   at once) when 20k prefilled keys expire together at
#                   10 s: no defence, --coalesce, --stale-while-revalidate,
#                   --xfetch and --ttl-jitter, one event-mode run each
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-results/talk}
REQUESTS=${TALK_REQUESTS:-1M}
# The single-capacity figures need fewer requests; figure 7 talks to real
# servers, one request at a time, at tens of thousands a second.
FIG_REQUESTS=${TALK_FIG_REQUESTS:-200k}
REDIS_REQUESTS=${TALK_REDIS_REQUESTS:-50k}
KEYS=${TALK_KEYS:-100k}
# Traces: $CACHESIM_TRACE_DIR, else ../shared/traces beside the repository
# (where the tests look for them).
TRACE_DIR=${CACHESIM_TRACE_DIR:-$(pwd)/../shared/traces}
REDIS=${REDIS_URL:-redis://127.0.0.1:6379}
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
rm -f "$OUT"/*.csv "$OUT"/*.png "$OUT"/*.svg "$OUT"/*.figure.json "$OUT"/*.md "$OUT"/*.txt
rm -rf "$OUT/fleet"

run() { "$BIN" run -q -f csv "$@" > /dev/null; }
plot() { "$BIN" plot -q --out "$OUT" "$@"; }
# Joins results CSVs (one header) into the first argument.
join_csv() {
  local out=$1
  shift
  { head -n 1 "$1"; for f in "$@"; do tail -n +2 "$f"; done; } > "$out.tmp"
  rm -f "$@"
  mv "$out.tmp" "$out"
}

# The talk's six strategies, plus any of the modern ones this build has.
listing=$("$BIN" list)
names=$(printf '%s\n' "$listing" | awk '/^Strategies/{f=1; next} /^$/{f=0} f{print $1}')
strategies=none,lru,lfu,fifo,ttl,random
for s in clock sieve s3fifo arc lirs 2q slru wtinylfu tinylfu lruk belady; do
  if grep -qx "$s" <<< "$names"; then strategies="$strategies,$s"; fi
done
highlight=lru
for s in s3fifo belady; do
  if grep -qx "$s" <<< "$names"; then highlight="$highlight,$s"; fi
done
echo "strategies: $strategies" >&2

say "1 latency: none vs lru in front of a 2 ms origin"
run -s none,lru -w zipf --alpha 1.0 --requests "$FIG_REQUESTS" --keys "$KEYS" \
  -c 10% --origin-latency 2ms -o "$OUT/latency.csv"
plot "$OUT/latency.csv" --name fig1 --kind latency

say "2 skew: LRU at Zipf 0.6 0.8 1.0 1.2, $REQUESTS requests over $KEYS keys"
skew_csvs=()
for a in 0.6 0.8 1.0 1.2; do
  csv="$OUT/skew-alpha$a.csv"
  run -s lru -w zipf --alpha "$a" --requests "$REQUESTS" --keys "$KEYS" \
    -c 0.1%,0.3%,1%,3%,10%,30% --no-latency -o "$csv"
  skew_csvs+=("$csv")
done
plot "${skew_csvs[@]}" --name fig2 --kind mrc --overlay \
  --title "LRU hit ratio by Zipf skew: what a cache buys depends on the traffic"

say "3 policies: every strategy on Zipf 1.0 and on OLTP"
run -s "$strategies" -w zipf --alpha 1.0 --requests "$REQUESTS" --keys "$KEYS" \
  -c 0.1%,0.3%,1%,3%,10%,30% --no-latency -o "$OUT/policies-zipf.csv"
plot "$OUT/policies-zipf.csv" --name fig3a --kind bars --capacity 1%
plot "$OUT/policies-zipf.csv" --name fig3b --kind mrc --highlight "$highlight"
"$BIN" compare "$OUT/policies-zipf.csv" --export-markdown "$OUT/policies-zipf.md" > "$OUT/policies-zipf.txt"
trace="$TRACE_DIR/arc/OLTP.lis.zst"
formats=$(printf '%s\n' "$listing" | awk '/^Trace formats/{f=1; next} /^$/{f=0} f{print $1}')
if [ ! -f "$trace" ]; then
  echo "skipped: no trace at $trace (set CACHESIM_TRACE_DIR)" >&2
elif ! grep -qx arc <<< "$formats"; then
  echo "skipped: this build has no 'arc' trace reader (see 'cachesim list')" >&2
elif run -s "$strategies" --trace "$trace" --trace-format arc \
    -c 1000,2000,5000,10000,15000 --no-latency -o "$OUT/oltp.csv"; then
  plot "$OUT/oltp.csv" --name fig3c --kind mrc --highlight "$highlight"
  "$BIN" compare "$OUT/oltp.csv" --export-markdown "$OUT/oltp.md" > "$OUT/oltp.txt"
else
  echo "skipped: the OLTP run failed (see the error above)" >&2
  rm -f "$OUT/oltp.csv"
fi

say "4 expiry: TTL 1s..5m with writes and no invalidation"
run -s ttl,lru -w ycsb-b --requests "$FIG_REQUESTS" --keys "$KEYS" -c 10% \
  --on-write none --ttl 1s,5s,30s,5m --no-latency -o "$OUT/expiry.csv"
plot "$OUT/expiry.csv" --name fig4 --kind staleness

say "5 invalidation: delete-on-write, write-through, none, TTL-only"
run -s lru -w ycsb-b --requests "$FIG_REQUESTS" --keys "$KEYS" -c 10% \
  --on-write invalidate,update,none --no-latency -o "$OUT/invalidation-lru.csv"
run -s ttl -w ycsb-b --requests "$FIG_REQUESTS" --keys "$KEYS" -c 10% \
  --on-write none --ttl 5s,30s --no-latency -o "$OUT/invalidation-ttl.csv"
join_csv "$OUT/invalidation.csv" "$OUT/invalidation-lru.csv" "$OUT/invalidation-ttl.csv"
plot "$OUT/invalidation.csv" --name fig5 --kind invalidation

say "6 warming: cold start vs prefilled hottest keys"
# A cache of 20k objects over 1M keys at Zipf 0.9 takes tens of thousands
# of requests to fill; windows of 2k requests show the climb.
warm=(-s lru,lfu -w zipf --alpha 0.9 --requests 200k --keys 1M -c 20k --window 2k --no-latency)
run "${warm[@]}" -o "$OUT/cold.csv"
run "${warm[@]}" --prefill top:20k -o "$OUT/prefill.csv"
plot "$OUT/cold-timeline.csv" "$OUT/prefill-timeline.csv" --name fig6 --kind timeline

say "7 local vs Redis"
if "$BIN" run -q -s redis -w zipf --requests 10 --keys 10 -c 10 --no-save --redis-url "$REDIS" > /dev/null 2>&1; then
  run -s none,lru,redis,tiered:lru+redis -w zipf --alpha 1.0 --requests "$REDIS_REQUESTS" --keys "$KEYS" \
    -c 1% --l1-capacity 1% --origin-latency 2ms --redis-url "$REDIS" -o "$OUT/redis.csv"
  plot "$OUT/redis.csv" --name fig7a --kind latency \
    --title "In-process LRU, Redis, an L1 in front of Redis, no cache: latency"
  run -s lru,redis-lru -w zipf --alpha 1.0 --requests "$REDIS_REQUESTS" --keys "$KEYS" \
    -c 0.3%,1%,3%,10% --no-latency -o "$OUT/redis-lru.csv"
  plot "$OUT/redis-lru.csv" --name fig7b --kind mrc \
    --title "Redis's sampled LRU against exact LRU"
else
  echo "skipped: no Redis answers at $REDIS (start redis-server, or set REDIS_URL)" >&2
fi

say "8 fleet: K local caches vs one shared cache, K = 1 2 4 8"
fleet=()
for k in 1 2 4 8; do
  run -s lru,shared:lru -w zipf --requests "$FIG_REQUESTS" --keys "$KEYS" -c 1% \
    --instances "$k" --write-ratio 0.05 -o "$OUT/fleet-k$k.csv"
  fleet+=("$OUT/fleet-k$k.csv")
done
join_csv "$OUT/fleet.csv" "${fleet[@]}"
plot "$OUT/fleet.csv" --name fig8 --kind fleet

# The servers figures 9 and 10 add when they answer.
MEMCACHED=${MEMCACHED_URL:-127.0.0.1:11211}
servers=()
server_opts=()
if "$BIN" run -q -s memcached -w zipf --requests 10 --keys 10 --no-save --memcached-url "$MEMCACHED" > /dev/null 2>&1; then
  servers+=(memcached)
  server_opts+=(--memcached-url "$MEMCACHED")
else
  echo "note: no memcached answers at $MEMCACHED: figures 9 and 10 leave it out (apt-get install memcached, or set MEMCACHED_URL)" >&2
fi
if "$BIN" run -q -s redis -w zipf --requests 10 --keys 10 -c 10 --window 5 -o "$OUT/probe.csv" \
    --redis-url "$REDIS" > /dev/null 2>&1; then
  servers+=(redis)
  server_opts+=(--redis-url "$REDIS")
else
  echo "note: no Redis at $REDIS that this build can replay with --window: figures 9 and 10 leave it out" >&2
fi
rm -f "$OUT/probe.csv" "$OUT/probe-timeline.csv"
with_servers() { local IFS=,; echo "$*${servers[*]:+,${servers[*]}}"; }

say "9 deploys: a process cache restarts empty, disk and servers keep theirs"
run -s "$(with_servers lru disk)" -w zipf --alpha 1.0 --requests "$FIG_REQUESTS" --keys "$KEYS" \
  -c 10% --window "${TALK_DEPLOY_WINDOW:-5k}" --restart-every "${TALK_DEPLOY_EVERY:-50000}" \
  --no-latency "${server_opts[@]}" -o "$OUT/deploys.csv"
plot "$OUT/deploys-timeline.csv" --name fig9 --kind timeline

say "10 tiers: memory, disk, servers and the origin, side by side"
run -s "$(with_servers none lru disk)" -w zipf --alpha 1.0 --requests "$REDIS_REQUESTS" --keys "$KEYS" \
  -c 10% --origin-latency 2ms "${server_opts[@]}" -o "$OUT/tiers.csv"
plot "$OUT/tiers.csv" --name fig10 --kind latency \
  --title "Where the value lives: process memory, disk, servers, the origin"

say "11 stampede: the hottest keys expire together, with and without each defence"
# The event mode: Poisson arrivals at 10k requests a second, an origin of
# 96 connections answering in 50 ms on average, and the 20k hottest keys
# prefilled with a TTL of 10 s, so they all expire at t = 10 s. One run per
# defence, windows of 1k requests (0.1 s).
stampede=(-s lru -w zipf --alpha 1.2 --requests "${TALK_STAMPEDE_REQUESTS:-250k}" --keys 100k
  --rate 10000 -c 20k --prefill top:20k --ttl 10s --arrivals poisson
  --origin-latency exp:50ms --origin-concurrency 96 --window 1k)
stampede_csvs=()
stampede_timelines=()
i=0
for defence in "" "--coalesce" "--stale-while-revalidate 5s" "--xfetch 1" "--ttl-jitter 0.5"; do
  i=$((i + 1))
  # shellcheck disable=SC2086 # each defence is an option and its value
  run "${stampede[@]}" $defence -o "$OUT/stampede-$i.csv"
  stampede_csvs+=("$OUT/stampede-$i.csv")
  stampede_timelines+=("$OUT/stampede-$i-timeline.csv")
done
# The runs' totals (duplicate fetches, origin queueing) and their windows.
join_csv "$OUT/stampede.csv" "${stampede_csvs[@]}"
join_csv "$OUT/stampede-timeline.csv" "${stampede_timelines[@]}"
plot "$OUT/stampede-timeline.csv" --name fig11 --kind stampede

say "report"
# The figure cards in the talk's order (fig1, fig2, fig3a, ... sort so).
cards=()
while IFS= read -r c; do cards+=("$c"); done < <(ls "$OUT"/fig*.figure.json | sort -V)
"$BIN" report "${cards[@]}" -o "$OUT/report.html" --title "cachesim: the talk's figures" > /dev/null

say "done in $(($(date +%s) - start)) s: $OUT"
ls "$OUT" >&2
