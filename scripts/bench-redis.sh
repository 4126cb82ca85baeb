#!/usr/bin/env bash
# Throughput of the `redis` strategy against redis-benchmark, on this machine,
# in one run: GETs with 1 client and no pipelining, then with a pipeline of 16
# on one connection, then on 4 and on 50 connections (redis-benchmark -P 16
# uses 50; cachesim drives them from at most one thread per core,
# $CACHESIM_REDIS_THREADS to change).
#
#   scripts/bench-redis.sh            (Redis at 127.0.0.1:6379, database 9)
#   N=500000 ROUNDS=5 scripts/bench-redis.sh
#
# cachesim replays a uniform stream over 10000 keys (nearly every get a hit,
# few repeated keys within a pipeline, which would close batches early; with
# 50 clients each has 200 keys, and batches average about 13 gets)
# with 3-byte values (redis-benchmark's default -d 3). The server's work is
# not the same: cachesim's GETs hit (a bulk reply, after hashing a ~35-byte
# key) where redis-benchmark's miss on an empty database, and cachesim also
# SETs its 10000 misses and deletes its keys at the end. So the last rows
# also give redis-benchmark the same server work: GETs of 10000 random keys
# that exist (-r 10000, after SETting them in database 9; deleted at the
# end). Each pair alternates ROUNDS times; the best of each is reported,
# with the load average, since the cores may be shared.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
HOST=127.0.0.1
PORT=${PORT:-6379}
URL="redis://$HOST:$PORT/9"
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not found (apt-get install redis-tools)" >&2; exit 1; }
redis-cli -h $HOST -p $PORT ping >/dev/null || { echo "no Redis at $HOST:$PORT" >&2; exit 1; }
cargo build --release --quiet
BIN=target/release/cachesim

rb() { # redis-benchmark requests/s
  redis-benchmark -h $HOST -p $PORT -t get -n "$1" "${@:2}" --csv | awk -F'"' '/GET/ {print $4}'
}
cs() { # cachesim requests/s
  $BIN run -s redis --redis-url "$URL" -w uniform --requests "$1" --keys 10000 --value-size 3 \
    --no-save -q -f csv "${@:2}" | awk -F, 'NR==1 {for (i=1;i<=NF;i++) if ($i=="requests_per_s") c=i} NR==2 {print $c}'
}
rbhit() { # redis-benchmark requests/s, GETs of 10000 random keys that exist
  redis-benchmark -h $HOST -p $PORT --dbnum 9 -r 10000 -t get -n "$1" "${@:2}" --csv | awk -F'"' '/GET/ {print $4}'
}
best() { sort -g | tail -n1; }
# redis-benchmark's keys for rbhit: key:000000000000 .. key:000000009999.
cleanup() {
  redis-cli -h $HOST -p $PORT -n 9 --scan --pattern 'key:[0-9]*' |
    xargs -r -n 1000 redis-cli -h $HOST -p $PORT -n 9 unlink >/dev/null
}
trap cleanup EXIT
redis-benchmark -h $HOST -p $PORT --dbnum 9 -r 10000 -d 3 -t set -n 200000 -q >/dev/null

echo "load: $(uptime)"
echo "redis-server $(redis-cli -h $HOST -p $PORT info server | awk -F: '/redis_version/ {print $2}' | tr -d '\r')"
declare -A R
for _ in $(seq 1 "$ROUNDS"); do
  R[rb1]+="$(rb "$N" -c 1 -P 1)"$'\n'
  R[cs1]+="$(cs "$N")"$'\n'
  R[rb16c1]+="$(rb $((N * 4)) -c 1 -P 16)"$'\n'
  R[cs16]+="$(cs $((N * 4)) --pipeline 16)"$'\n'
  R[rb16]+="$(rb $((N * 4)) -P 16)"$'\n'
  R[cs16c4]+="$(cs $((N * 4)) --pipeline 16 --clients 4)"$'\n'
  R[cs16c50]+="$(cs $((N * 4)) --pipeline 16 --clients 50)"$'\n'
  R[rbhit16c1]+="$(rbhit $((N * 4)) -c 1 -P 16)"$'\n'
  R[rbhit16]+="$(rbhit $((N * 4)) -P 16)"$'\n'
done
row() { # label ours theirs
  local a b
  a=$(printf '%s' "${R[$2]}" | best); b=$(printf '%s' "${R[$3]}" | best)
  printf '%-58s %12.0f %12.0f %6.2fx\n' "$1" "$a" "$b" "$(echo "$a / $b" | bc -l)"
  printf '    all rounds: cachesim %s / benchmark %s\n' "$(printf '%s' "${R[$2]}" | xargs printf '%.0f ')" "$(printf '%s' "${R[$3]}" | xargs printf '%.0f ')"
}
printf '%-58s %12s %12s %7s\n' "pair (best of $ROUNDS)" "cachesim/s" "benchmark/s" "ratio"
row "no pipelining: -s redis vs redis-benchmark -c 1 -P 1" cs1 rb1
row "--pipeline 16 vs redis-benchmark -c 1 -P 16" cs16 rb16c1
row "--pipeline 16 --clients 4 vs redis-benchmark -P 16 (-c 50)" cs16c4 rb16
row "--pipeline 16 --clients 50 vs redis-benchmark -P 16 (-c 50)" cs16c50 rb16
echo "the same server work (redis-benchmark -r 10000 on existing keys):"
row "--pipeline 16 vs redis-benchmark -c 1 -P 16 -r 10000" cs16 rbhit16c1
row "--pipeline 16 --clients 50 vs redis-benchmark -P 16 -r 10000" cs16c50 rbhit16
echo "load: $(uptime)"
