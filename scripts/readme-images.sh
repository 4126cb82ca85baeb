#!/usr/bin/env bash
# The README's chart images (docs/img/*.png, 960x540) redrawn from the CSVs
# scripts/talk.sh leaves in results/talk/ (run it first). Each image is one
# of the talk's figures, with the figure card's options.
#
#   scripts/talk.sh && scripts/readme-images.sh
set -euo pipefail

cd "$(dirname "$0")/.."
TALK=${TALK:-results/talk}
BIN=${CACHESIM_BIN:-target/release/cachesim}
IMG=docs/img
[ -f "$TALK/latency.csv" ] || { echo "no $TALK/latency.csv: run scripts/talk.sh first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name, then the plot arguments
draw() {
  local name=$1
  shift
  "$BIN" plot -q --size 960x540 --out "$tmp" --name "$name" "$@"
}
draw latency "$TALK/latency.csv" --kind latency
draw mrc-overlay "$TALK"/skew-alpha*.csv --kind mrc --overlay \
  --title "LRU hit ratio by Zipf skew"
draw bars "$TALK/policies-zipf.csv" --kind bars --capacity 1%
draw mrc "$TALK/policies-zipf.csv" --kind mrc --highlight lru,s3fifo,belady
draw staleness "$TALK/expiry.csv" --kind staleness
draw invalidation "$TALK/invalidation.csv" --kind invalidation
draw timeline "$TALK/cold-timeline.csv" "$TALK/prefill-timeline.csv" --kind timeline
if [ -f "$TALK/redis.csv" ]; then
  draw redis "$TALK/redis.csv" --kind latency \
    --title "In-process LRU, Redis, an L1 in front of Redis, no cache"
fi
draw fleet "$TALK/fleet.csv" --kind fleet
if [ -f "$TALK/stampede-timeline.csv" ]; then
  draw stampede "$TALK/stampede-timeline.csv" --kind stampede
fi

mkdir -p "$IMG"
for f in "$tmp"/*.png; do
  # NAME-KIND.png -> NAME.png
  base=$(basename "$f" .png)
  cp "$f" "$IMG/${base%-*}.png"
done
ls "$IMG" >&2
