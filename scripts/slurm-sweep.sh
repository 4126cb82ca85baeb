#!/usr/bin/env bash
# Runs a cachesim sweep on a Slurm cluster: a job array of N tasks, task I
# running `cachesim run ARGS --shard I/N` into its own file, and a job that
# depends on the whole array (afterok) and runs `cachesim merge` into OUT.
#
#   scripts/slurm-sweep.sh -n N -o OUT.csv [options] -- RUN_ARGS...
#
#   -n N              shards (array tasks), at least 1 and at most the sweep's runs
#   -o OUT.csv        the merged results (its timeline next to it with --window)
#   --dir DIR         where the shards, job scripts and Slurm logs go
#                     [default: OUT's folder/OUT-shards]
#   --cachesim PATH   the binary the tasks run; every node must see it at this
#                     path [default: cachesim on PATH, else target/release/cachesim]
#   --wait            wait for the merge to finish; exit non-zero if it or a
#                     shard failed (the merge job is then cancelled)
#   --sbatch ARGS     more sbatch options for both jobs, one word each time
#                     (e.g. --sbatch --partition=short --sbatch --time=1:00:00)
#
# Example:
#   scripts/slurm-sweep.sh -n 8 -o results/big.csv -- -s lru,lfu,s3fifo -t big.trace -c 0.1%..50%:20
#
# The tasks start in the current folder (relative --trace paths work if it
# is shared). Files are reached at the same paths from every node: DIR and
# OUT must be on a shared file system on a real cluster.
set -euo pipefail

die() { echo "slurm-sweep.sh: $*" >&2; exit 2; }

n="" out="" dir="" bin="" wait=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=${2:-}; shift 2 ;;
    -o | --out) out=${2:-}; shift 2 ;;
    --dir) dir=${2:-}; shift 2 ;;
    --cachesim) bin=${2:-}; shift 2 ;;
    --wait) wait=1; shift ;;
    --sbatch) extra+=("${2:-}"); shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (the cachesim run arguments go after --)" ;;
  esac
done
args=("$@")
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "-n N: a number of shards from 1 is required"
[ -n "$out" ] || die "-o OUT.csv is required"
[ ${#args[@]} -gt 0 ] || die "give the cachesim run arguments after --"
command -v sbatch >/dev/null || die "sbatch not found: no Slurm here (scripts/slurm-local.sh up starts a one-node cluster)"

if [ -z "$bin" ]; then
  bin=$(command -v cachesim || true)
  [ -n "$bin" ] || bin="$(cd "$(dirname "$0")/.." && pwd)/target/release/cachesim"
fi
[ -x "$bin" ] || die "no cachesim binary at '$bin' (build it, or give --cachesim PATH)"
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
bin=$(abs "$bin")
out=$(abs "$out")
[ -n "$dir" ] || dir="${out%.csv}-shards"
dir=$(abs "$dir")
mkdir -p "$dir" "$(dirname "$out")"

quoted=$(printf '%q ' "${args[@]}")

cat >"$dir/shard.sh" <<EOF
#!/usr/bin/env bash
# Task \$SLURM_ARRAY_TASK_ID of $n: one shard of the sweep.
set -euo pipefail
exec $(printf '%q' "$bin") run $quoted -q --shard "\$SLURM_ARRAY_TASK_ID/$n" -o $(printf '%q' "$dir")/part-"\$SLURM_ARRAY_TASK_ID".csv
EOF
parts=""
for ((i = 1; i <= n; i++)); do parts+="$(printf '%q' "$dir/part-$i.csv") "; done
cat >"$dir/merge.sh" <<EOF
#!/usr/bin/env bash
# The $n shards merged into one results file.
set -euo pipefail
exec $(printf '%q' "$bin") merge $parts -o $(printf '%q' "$out")
EOF
chmod +x "$dir/shard.sh" "$dir/merge.sh"

array=$(sbatch --parsable --array="1-$n" --job-name=cachesim-shard --chdir="$PWD" \
  --output="$dir/slurm-%A_%a.out" "${extra[@]}" "$dir/shard.sh")
array=${array%%;*}
echo "submitted the sweep: job array $array (tasks 1-$n), shards in $dir"
merge_opts=(--parsable --job-name=cachesim-merge --chdir="$PWD" --output="$dir/slurm-merge-%j.out"
  --dependency="afterok:$array" --kill-on-invalid-dep=yes)
if [ "$wait" -eq 1 ]; then
  echo "waiting for the merge (after every shard)..."
  # sbatch --wait returns 0 for a merge cancelled because a shard failed:
  # the merge job's state says whether it ran.
  merge=$(sbatch "${merge_opts[@]}" --wait "${extra[@]}" "$dir/merge.sh") || true
  merge=${merge%%;*}
  state=$(scontrol -o show job "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
  if [ "$state" != "JobState=COMPLETED" ]; then
    echo "slurm-sweep.sh: the sweep failed (merge job ${merge:-?}: ${state:-unknown state}); the tasks' output:" >&2
    tail -n 5 "$dir"/slurm-*.out >&2 2>/dev/null || true
    exit 1
  fi
  echo "merged into $out (job $merge)"
else
  merge=$(sbatch "${merge_opts[@]}" "${extra[@]}" "$dir/merge.sh")
  echo "submitted the merge: job ${merge%%;*}, after job $array succeeds; it writes $out"
fi
