#!/usr/bin/env bash
# Results must not change when the code is reshaped. This script records the
# outputs of the README's examples, the talk's scenarios and the conformance
# runs, then compares a later build's outputs with them, column by column,
# leaving out only the columns that measure this machine (MEASURED below, the
# same list as `MEASURED_COLUMNS` in the code).
#
#   scripts/equivalence.sh record DIR     # before a refactoring: the reference
#   scripts/equivalence.sh compare DIR    # after each step: must print "identical"
#
# BIN=path/to/cachesim picks the binary (default: target/release/cachesim,
# built first). Traces come from $CACHESIM_TRACE_DIR, else ../shared/traces;
# without them the trace cases are skipped (say so). Redis cases run when
# something answers on 127.0.0.1:6379, PostgreSQL cases when pg_isready says
# so. Takes about three minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

mode=${1:-}
ref=${2:-}
if [ -z "$mode" ] || [ -z "$ref" ] || { [ "$mode" != record ] && [ "$mode" != compare ]; }; then
  echo "usage: scripts/equivalence.sh record|compare DIR" >&2
  exit 2
fi

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-$root/target}/release/cachesim"
fi
BIN=$(realpath "$BIN")
T=${CACHESIM_TRACE_DIR:-$root/../shared/traces}

if [ "$mode" = record ]; then
  out=$ref
  rm -rf "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out/raw"
R="$out/raw"
cd "$R"

n=0
# c NAME ARGS...: one case, its stdout kept as NAME.out (and any files it
# writes under $R); a failing case is recorded with its exit code and stderr.
c() {
  local name=$1
  shift
  n=$((n + 1))
  if "$BIN" "$@" > "$name.out" 2> "$name.err"; then
    rm -f "$name.err"
  else
    echo "exit $?" >> "$name.err"
  fi
}

# --- the README's run examples -------------------------------------------
c headline run -q -f csv --strategy lru --workload zipf -o headline.csv
c ttl-list run -q -f csv --strategy none,lru,lfu,fifo,ttl,random --workload zipf --capacity 1%,5%,10% --ttl 30s -o ttl-list.csv
"$BIN" workload export --workload zipf --keys 5000 --requests 50000 --seed 3 -o my-keys.txt
"$BIN" workload export --workload ycsb-a --keys 2000 --requests 40000 --seed 4 -o ycsb-a.csv
"$BIN" workload export --workload zipf --keys 3000 --requests 30000 --seed 5 -o zipf.oracleGeneral.bin
c json run -q --strategy lru --trace my-keys.txt --capacity 100,1000 --format json -o json.csv
c skew run -q -f csv -s lru,lfu -w zipf --alpha 0.8 --keys 1M --requests 5M -c 10k -o skew.csv
c origin-model run -q -f csv -s none,lru -c 1% --origin-latency lognormal:2ms,0.8 --requests 200k -o origin-model.csv
c ycsb-b run -q -f csv -s ttl,lru -w ycsb-b --on-write none --ttl 1s,5s,30s,5m --no-latency -o ycsb-b.csv
c phases run -q -f csv -s lru,lfu -w zipf-shift --warmup 10% --prefill top:1000 --window 10k -o phases.csv
c sweep run -q -f csv -s lru,fifo,lfu,random -w zipf,hotspot --seeds 1..3 -c 0.1%..50%:6 --requests 100k --threads 2 -o sweep.csv
c sweep-traces run -q -f csv -s lru,lfu -t my-keys.txt -t ycsb-a.csv -c 100..10k:5,5% -o sweep-traces.csv

# --- every strategy, with and without writes ------------------------------
all=none,lru,fifo,lfu,ttl,random,lirs,wtinylfu,belady,belady-size,clock,slru,2q,arc,sieve,s3fifo
c all-zipf run -q -f csv -s "$all" -w zipf --requests 300k -c 0.5%,5% -o all-zipf.csv
for w in invalidate update none; do
  c "writes-$w" run -q -f csv -s "$all" -w zipf --requests 200k --write-ratio 0.1 --on-write "$w" -c 2% --ttl 20s -o "writes-$w.csv"
  c "ycsb-a-$w" run -q -f csv -s lru,s3fifo,ttl -t ycsb-a.csv -c 200 --on-write "$w" --window 5k --warmup 2k -o "ycsb-a-$w.csv"
done
c bytes run -q -f csv -s lru,fifo,s3fifo,belady-size -t zipf.oracleGeneral.bin -c 100KiB,1MiB -o bytes.csv
c ycsb-all run -q -f csv -s lru,arc -w ycsb-a,ycsb-b,ycsb-c,ycsb-d,ycsb-e,ycsb-f,scan,zipf-scan,uniform,hotspot --requests 100k -c 1% -o ycsb-all.csv

# --- fleets ---------------------------------------------------------------
c fleet run -q -f csv -s lru,shared:lru --instances 4 -c 1% -o fleet.csv
c fleet-sticky run -q -f csv -s lru --instances 4 --balance key-hash -c 1% -o fleet-sticky.csv
for k in 1 2 8; do
  c "fleet-writes-$k" run -q -f csv -s lru,shared:lru,s3fifo --instances "$k" --balance round-robin --write-ratio 0.05 -c 1% --requests 200k -o "fleet-writes-$k.csv"
done
c fleet-bcast run -q -f csv -s lru --instances 4 --write-ratio 0.05 --broadcast-invalidation --invalidation-delay 50ms -c 1% --requests 200k -o fleet-bcast.csv
c tiered-local run -q -f csv -s tiered-local:lru+lru,tiered-local:sieve+s3fifo --instances 4 --l1-capacity 100 --write-ratio 0.05 --broadcast-invalidation -c 2% --requests 200k -o tiered-local.csv
# Stale hits in a fleet's timeline windows (each instance's caches, L1s).
c fleet-stale run -q -f csv -s lru,shared:lru,tiered-local:lru+lru --instances 3 --l1-capacity 50 --broadcast-invalidation -c 5% -w zipf --requests 50k --keys 5k --write-ratio 0.05 --on-write none --warmup 5000 --window 7000 --prefill top:100 --no-latency -o fleet-stale.csv
c fleet-update run -q -f csv -s lru,tiered-local:s3fifo+lru --instances 4 --l1-capacity 40 --write-ratio 0.1 --on-write update --balance key-hash -c 3% --requests 100k --no-latency -o fleet-update.csv
c fleet-phases run -q -f csv -s lru,shared:lru --instances 3 --warmup 20% --prefill top:500 --window 20k --write-ratio 0.02 -c 1% --requests 200k -o fleet-phases.csv

# --- MRC, trace tools -------------------------------------------------------
c mrc-zipf mrc -w zipf --capacity 0.1%..100%:30 --compare --format csv --no-save
c trace-stats-keys trace stats my-keys.txt --format json
c trace-stats-ycsb trace stats ycsb-a.csv --format json
"$BIN" trace convert ycsb-a.csv ycsb-a-converted.oracleGeneral.bin --to oracle-general
"$BIN" trace convert zipf.oracleGeneral.bin zipf-converted.csv --to csv

# --- what traces carry: TTLs, tenants, ops, presets, lcs, pages -------------
python3 - << 'PY'
# Deterministic Twemcache-layout and MSR-layout traces (an LCG, no seed file).
x = 12345
def nxt():
    global x
    x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
    return x >> 33
ops = ["get", "get", "get", "gets", "set", "add", "delete", "incr"]
with open("carry.csv", "w") as f:
    for i in range(60000):
        k = min(nxt() % 4000, nxt() % 4000)
        op = ops[nxt() % len(ops)]
        ttl = [0, 5, 60][nxt() % 3] if op in ("set", "add", "get") else 0
        f.write(f"{i // 50},key:{k},12,{100 + k % 900},{k % 7},{op},{ttl}\n")
with open("msr.csv", "w") as f:
    for i in range(20000):
        off = (min(nxt() % 50000, nxt() % 50000)) * 512
        f.write(f"{128166372000000000 + i * 10000},src1,{nxt() % 2},{['Read', 'Write'][nxt() % 2]},{off},{512 * (1 + nxt() % 32)},100\n")
PY
c carry-groups run -q -f csv -s lru,s3fifo,ttl,belady -t carry.csv --trace-format twitter -c 200,2000 --on-write update --group-by tenant -o carry-groups.csv
c carry-fleet run -q -f csv -s lru,tiered-local:lru+lru --instances 3 --l1-capacity 50 -t carry.csv --trace-format twitter -c 500 -o carry-fleet.csv
"$BIN" trace convert carry.csv carry.lcs --trace-format twitter --to lcs
c carry-lcs run -q -f csv -s lru,sieve -t carry.lcs -c 500 --group-by tenant --on-write none -o carry-lcs.csv
c carry-stats trace stats carry.lcs --format json
c msr-pages run -q -f csv -s lru,arc -t msr.csv --trace-format msr --page-size 8KiB -c 1000,10% -o msr-pages.csv

# --- real traces ------------------------------------------------------------
if [ -d "$T/arc" ]; then
  c oltp run -q -f csv -s "$all" -t "$T/arc/OLTP.lis.zst" -c 1000,2000,5000,10000,15000 --threads 2 -o oltp.csv
  c p12 run -q -f csv -s lru,arc,s3fifo,sieve,wtinylfu,lirs,2q -t "$T/arc/P12.lis.zst" -c 1024,32768 --threads 2 -o p12.csv
  c mrc-oltp mrc --trace "$T/arc/OLTP.lis.zst" --capacity 1000,2000,5000,10000,15000 --compare --format csv --no-save
  c mrc-p12 mrc --trace "$T/arc/P12.lis.zst" --sample 1% --capacity 1k..512k:10 --format csv --no-save
  c mrc-p12-size mrc --trace "$T/arc/P12.lis.zst" --sample-size 8k --format csv --no-save
  c stats-oltp trace stats "$T/arc/OLTP.lis.zst" --format json
  c stats-sprite trace stats "$T/lirs/sprite.trace.gz" --format json
  c lirs run -q -f csv -s lru,lirs,arc,wtinylfu -t "$T/lirs/multi2.trace.gz" -t "$T/lirs/sprite.trace.gz" -c 100,500,1000 -o lirs.csv
  c cloudphysics run -q -f csv -s lru,fifo,s3fifo,sieve -t "$T/cloudphysics/cloudPhysicsIO.oracleGeneral.bin" -c 128MiB,1GiB,10% -o cloudphysics.csv
  c w106 run -q -f csv -s lru,arc -t "$T/cloudphysics/w106.trace.xz" --trace-format u32be -c 1000 -o w106.csv
else
  echo "equivalence: no traces under $T; the trace cases are skipped" >&2
fi

# --- talk.sh's scenarios ----------------------------------------------------
if OUT="$R/talk" TALK_REQUESTS=200k TALK_FIG_REQUESTS=50k CACHESIM_BIN="$BIN" \
  bash "$root/scripts/talk.sh" > talk.log 2>&1; then
  rm -f talk.log
  # Charts are pictures of the CSVs compared here.
  find talk \( -name '*.png' -o -name '*.svg' -o -name '*.html' \) -delete
else
  echo "equivalence: scripts/talk.sh failed, see $R/talk.log" >&2
fi

# --- Redis ------------------------------------------------------------------
if redis-cli -h 127.0.0.1 -p 6379 ping > /dev/null 2>&1; then
  c redis run -q -f csv -s lru,redis,tiered:lru+redis --l1-capacity 1000 -c 100% --requests 100k --write-ratio 0.05 -o redis.csv
  c redis-fleet run -q -f csv -s redis,tiered:lru+redis --instances 4 --l1-capacity 100 -c 100% --write-ratio 0.05 --broadcast-invalidation --requests 50k -o redis-fleet.csv
  c redis-prefill run -q -f csv -s redis --prefill top:5000 -c 100% --requests 50k -o redis-prefill.csv
else
  echo "equivalence: no Redis on 127.0.0.1:6379; the Redis cases are skipped" >&2
fi

# --- normalise: drop measured columns, sort nothing (row order is part of
# the result) --------------------------------------------------------------
python3 - "$R" "$out/norm" "${ref}/norm" "$mode" << 'EOF'
import csv, io, json, os, re, sys
MEASURED = {"elapsed_s", "requests_per_s", "lat_mean_us", "lat_p50_us", "lat_p90_us",
            "lat_p99_us", "lat_p999_us", "lat_p9999_us", "lat_max_us", "hit_p50_us",
            "hit_p99_us", "miss_p50_us", "miss_p99_us", "l1_hit_p50_us", "l1_hit_p99_us",
            "l2_hit_p50_us", "l2_hit_p99_us", "threads", "lat_spectrum_us"}
# MRC output and trace stats time themselves.
MEASURED_MRC = {"seconds", "elapsed_s", "time_s_compare", "speedup"}
src, dst = sys.argv[1], sys.argv[2]
# Comparing: columns added at the end since the reference (the CSV columns
# are a public interface: added, never renamed) are left out.
refdir = sys.argv[3] if sys.argv[4] == "compare" else None
ref_keys = set()
def strip_json(v):
    if isinstance(v, dict):
        return {k: strip_json(x) for k, x in v.items()
                if k not in MEASURED and k not in MEASURED_MRC and (not ref_keys or k in ref_keys)}
    if isinstance(v, list):
        return [strip_json(x) for x in v]
    return v
for dirpath, _, files in os.walk(src):
    for f in sorted(files):
        p = os.path.join(dirpath, f)
        rel = os.path.relpath(p, src)
        q = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(q), exist_ok=True)
        data = open(p, "rb").read()
        try:
            text = data.decode()
        except UnicodeDecodeError:
            open(q, "wb").write(data)
            continue
        # Figure cards name the files they were drawn from: where this run's
        # outputs are is not part of the result.
        text = text.replace(os.path.abspath(src), "<raw>")
        s = text.lstrip()
        if s.startswith("[") or s.startswith("{"):
            try:
                # Keys added since the reference (fields added to the
                # results) are left out, as added CSV columns are.
                ref_keys = set()
                rp = os.path.join(refdir, rel) if refdir else None
                if rp and os.path.exists(rp):
                    ref_keys = set(re.findall(r'"([A-Za-z0-9_]+)":', open(rp).read()))
                text = json.dumps(strip_json(json.loads(text)), indent=1, sort_keys=True) + "\n"
            except ValueError:
                pass
        elif f.endswith((".csv", ".out")) and "," in text.split("\n", 1)[0]:
            rows = list(csv.reader(io.StringIO(text)))
            head = rows[0]
            keep = [i for i, h in enumerate(head) if h not in MEASURED and h not in MEASURED_MRC]
            rp = os.path.join(refdir, rel) if refdir else None
            if rp and os.path.exists(rp):
                old = next(csv.reader(open(rp)), [])
                names = [head[i] for i in keep]
                if names[:len(old)] == old:
                    keep = keep[:len(old)]
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            for r in rows:
                w.writerow([r[i] if i < len(r) else "" for i in keep])
            text = buf.getvalue()
        elif f.endswith(".md"):
            # `compare` tables: the requests/s column is measured.
            out, drop = [], None
            for line in text.split("\n"):
                cells = line.split("|")
                if "requests/s" in [x.strip() for x in cells]:
                    drop = [x.strip() for x in cells].index("requests/s")
                if drop is not None and line.startswith("|") and len(cells) > drop:
                    cells[drop] = " - "
                out.append("|".join(cells))
            text = "\n".join(out)
        elif f.endswith(".txt") and "requests/s" in text:
            out = []
            for line in text.split("\n"):
                t = line.split()
                if len(t) >= 6 and re.fullmatch(r"[0-9.]+[kMG]?", t[-3]):
                    t[-3] = "-"
                    line = " ".join(t)
                out.append(line)
            text = "\n".join(out)
        open(q, "w").write(text)
EOF

cd "$root"
if [ "$mode" = record ]; then
  echo "equivalence: recorded $n cases in $ref/norm"
  exit 0
fi
if diff -r "$ref/norm" "$out/norm" > "$out/diff.txt"; then
  echo "equivalence: identical ($n cases)"
else
  cp "$out/diff.txt" "${TMPDIR:-/tmp}/equivalence.diff"
  head -c 6000 "$out/diff.txt"
  echo
  echo "equivalence: DIFFERENT, full diff in ${TMPDIR:-/tmp}/equivalence.diff" >&2
  exit 1
fi
