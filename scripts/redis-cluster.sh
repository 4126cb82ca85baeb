#!/usr/bin/env bash
# Starts or stops a local 3-master Redis Cluster on loopback ports, for demos
# and tests. Nothing is persisted; state (configs, logs, pid files) lives in
# a temporary directory that `stop` removes.
#
#   scripts/redis-cluster.sh start [PORT PORT PORT]   (default 7000 7001 7002)
#   scripts/redis-cluster.sh stop
#
# The state directory is $CACHESIM_CLUSTER_DIR, else ${TMPDIR:-/tmp}/cachesim-cluster.
# Each node also uses its cluster bus port (PORT + 10000). `start` prints the
# URL to pass to cachesim: --redis-url redis+cluster://127.0.0.1:7000,...
set -euo pipefail

STATE=${CACHESIM_CLUSTER_DIR:-${TMPDIR:-/tmp}/cachesim-cluster}
SERVER=${REDIS_SERVER_BIN:-redis-server}
CLI=${REDIS_CLI_BIN:-redis-cli}

die() { echo "redis-cluster.sh: $*" >&2; exit 1; }

start() {
  local ports=("$@")
  [ ${#ports[@]} -eq 0 ] && ports=(7000 7001 7002)
  [ ${#ports[@]} -eq 3 ] || die "start takes 3 ports (got ${#ports[@]})"
  command -v "$SERVER" >/dev/null || die "redis-server not found; install it (apt-get install redis-server)"
  command -v "$CLI" >/dev/null || die "redis-cli not found; install it (apt-get install redis-tools)"
  if ls "$STATE"/*.pid >/dev/null 2>&1; then
    die "a cluster seems to run already (state in $STATE); stop it first"
  fi
  mkdir -p "$STATE"
  local nodes=()
  for p in "${ports[@]}"; do
    "$SERVER" --bind 127.0.0.1 --port "$p" --cluster-enabled yes \
      --cluster-config-file "$STATE/nodes-$p.conf" --cluster-node-timeout 5000 \
      --dir "$STATE" --save "" --appendonly no --daemonize yes \
      --pidfile "$STATE/redis-$p.pid" --logfile "$STATE/redis-$p.log" \
      || die "redis-server on port $p did not start (see $STATE/redis-$p.log)"
    nodes+=("127.0.0.1:$p")
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 1 100); do
      "$CLI" -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    "$CLI" -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 || { stop; die "node $p does not answer (see its log)"; }
  done
  "$CLI" --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$STATE/create.log" 2>&1 \
    || { cat "$STATE/create.log" >&2; stop; die "redis-cli --cluster create failed"; }
  for p in "${ports[@]}"; do
    for _ in $(seq 1 200); do
      "$CLI" -h 127.0.0.1 -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
      sleep 0.05
    done
  done
  local url
  url="redis+cluster://$(IFS=,; echo "${nodes[*]}")"
  echo "$url" >"$STATE/url"
  echo "$url"
}

stop() {
  [ -d "$STATE" ] || return 0
  local pids=()
  for f in "$STATE"/*.pid; do
    [ -e "$f" ] || continue
    pids+=("$(cat "$f")")
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$STATE"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start [PORT PORT PORT] | stop" >&2; exit 2 ;;
esac
