#!/usr/bin/env bash
# The crate's module graph: one line per edge `FROM -> TO` between top-level
# modules of src/ (a file under src/FROM/ or src/FROM.rs that names
# `crate::TO` outside its unit-test module), then "no cycle" or the modules
# on cycles (exit 1). The test `architecture` (tests/it/architecture.rs)
# checks the same graph: it must be a DAG, and the core (sim, policy,
# workload, mrc) must not name external, cmd, report, plot or cli.
#
#   scripts/modgraph.sh          # edges, then "no cycle" or the cycles
#   scripts/modgraph.sh --dot    # Graphviz: scripts/modgraph.sh --dot | dot -Tpng > g.png
set -euo pipefail
cd "$(dirname "$0")/../src"
python3 - "${1:-}" << 'PY'
import os, re, sys
edges = set()
for dirpath, _, files in os.walk("."):
    for f in files:
        if not f.endswith(".rs"):
            continue
        path = os.path.join(dirpath, f)
        top = os.path.normpath(path).split(os.sep)[0].removesuffix(".rs")
        if top in ("lib", "main"):
            continue
        lines = open(path).read().split("\n")
        for i, line in enumerate(lines):
            # A unit-test module (`#[cfg(test)]` then `mod NAME {`) ends the
            # library part of the file.
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if line.strip() == "#[cfg(test)]" and re.match(r"(pub )?mod \w+ \{$", nxt):
                break
            code = line.split("//")[0]
            for name in re.findall(r"crate::(\w+)", code):
                # Only modules count (not `crate::dispatch`, a macro).
                if name != top and (os.path.isdir(name) or os.path.isfile(name + ".rs")):
                    edges.add((top, name))
edges = sorted(edges)
if sys.argv[1] == "--dot":
    print("digraph cachesim {")
    for a, b in edges:
        print(f'  "{a}" -> "{b}";')
    print("}")
    sys.exit(0)
for a, b in edges:
    print(f"{a} -> {b}")
# Cycles: repeatedly drop modules with no outgoing edge left; what remains
# lies on (or leads into) a cycle.
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
