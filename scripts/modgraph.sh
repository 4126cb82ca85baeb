#!/usr/bin/env bash
# The crate's module graph: one line per edge `FROM -> TO` between top-level
# modules of src/ (a file under src/FROM/ or src/FROM.rs that names
# `crate::TO`), then the cycles, if any. The test `architecture` checks the
# same graph: it must be a DAG, and the core (sim, policy, workload, mrc)
# must not name external, cmd, report, plot or cli.
#
#   scripts/modgraph.sh          # edges, then "no cycle" or the cycles
#   scripts/modgraph.sh --dot    # Graphviz: scripts/modgraph.sh --dot | dot -Tpng > g.png
set -euo pipefail
cd "$(dirname "$0")/../src"
edges=$(
  for f in $(find . -name '*.rs' | sort); do
    top=${f#./}
    top=${top%%/*}
    top=${top%.rs}
    case $top in lib | main) continue ;; esac
    sed 's://.*$::' "$f" | grep -o 'crate::[a-z_]*' | sed "s/^crate::/$top -> /" || true
  done | awk '$1 != $3' | sort -u | while read -r from _ to; do
    # Only modules count (not `crate::dispatch`, a macro).
    if [ -d "$to" ] || [ -f "$to.rs" ]; then echo "$from -> $to"; fi
  done
)
if [ "${1:-}" = --dot ]; then
  echo "digraph cachesim {"
  echo "$edges" | awk '{print "  \"" $1 "\" -> \"" $3 "\";"}'
  echo "}"
  exit 0
fi
echo "$edges"
# Cycles: repeatedly drop modules with no outgoing edge left; what remains
# lies on (or leads into) a cycle.
python3 - "$edges" << 'PY'
import sys
edges = [l.split(" -> ") for l in sys.argv[1].splitlines() if l.strip()]
g = {}
for a, b in edges:
    g.setdefault(a, set()).add(b)
    g.setdefault(b, set())
changed = True
while changed:
    changed = False
    for n in [n for n, d in g.items() if not d]:
        del g[n]
        for d in g.values():
            d.discard(n)
        changed = True
if g:
    print("cycles among: " + ", ".join(sorted(g)))
    sys.exit(1)
print("no cycle")
PY
