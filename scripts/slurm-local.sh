#!/usr/bin/env bash
# Sets up or tears down a one-node Slurm cluster on this machine (controller
# and compute node in one), to try scripts/slurm-sweep.sh without a cluster.
# Needs root and Debian's packages: apt-get install slurm-wlm munge
#
#   scripts/slurm-local.sh up     munge key (if none), slurm.conf, munged, slurmctld, slurmd
#   scripts/slurm-local.sh down   stops them and removes what `up` created
#
# Everything `up` makes lives in $CACHESIM_SLURM_DIR (default
# ${TMPDIR:-/tmp}/cachesim-slurm): state, spool, logs and pid files. Slurm's
# commands read /etc/slurm/slurm.conf, so `up` writes one there, marked as
# cachesim's, only if none exists (and refuses to replace another); it makes
# /etc/munge/munge.key only if missing. `down` removes exactly those.
set -euo pipefail

STATE=${CACHESIM_SLURM_DIR:-${TMPDIR:-/tmp}/cachesim-slurm}
CONF=/etc/slurm/slurm.conf
KEY=/etc/munge/munge.key
MARK="# written by cachesim scripts/slurm-local.sh"

die() { echo "slurm-local.sh: $*" >&2; exit 1; }

# Waits up to $2 seconds for command $1 (a string) to succeed.
wait_for() {
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    if eval "$1" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}

up() {
  [ "$(id -u)" -eq 0 ] || die "run as root (it starts munged, slurmctld and slurmd)"
  for p in munged slurmctld slurmd sbatch sinfo; do
    command -v "$p" >/dev/null || die "$p not found; install Slurm: apt-get install slurm-wlm munge"
  done
  if [ -e "$STATE/created" ]; then
    die "a local cluster seems to be up already (state in $STATE); run '$0 down' first"
  fi
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and is not ours: this machine already has a Slurm configuration"
  fi
  mkdir -p "$STATE"/{ctld,spool,log,munge}
  : >"$STATE/created"

  # munge: a key if there is none, then the daemon on its default socket
  # (where Slurm's auth/munge looks).
  if [ ! -e "$KEY" ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of="$KEY" status=none
    echo "$KEY" >>"$STATE/created"
  fi
  chown munge:munge "$KEY" 2>/dev/null || true
  chmod 400 "$KEY"
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  if ! pgrep -x munged >/dev/null; then
    if id munge >/dev/null 2>&1; then
      chown munge:munge "$STATE/munge"
      runuser -u munge -- munged --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log"
    else
      munged --force --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log"
    fi
    echo munged >>"$STATE/created"
  fi
  wait_for "munge -n </dev/null | unmunge" 10 || die "munged does not answer (log: $STATE/munge/munged.log)"

  # slurm.conf: this host as controller and its only node, every core.
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p "$(dirname "$CONF")"
  cat >"$CONF" <<EOF
$MARK; removed by '$0 down'
ClusterName=cachesim
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  echo "$CONF" >>"$STATE/created"

  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  wait_for "sinfo -h -o %t | grep -Eq '^(idle|mix|alloc)'" 30 \
    || die "the node did not come up (logs in $STATE/log; sinfo: $(sinfo -h 2>&1 | head -1))"
  echo "Slurm is up: one node, $host, $cpus CPUs (partition 'local'); '$0 down' stops it"
  sinfo
}

down() {
  [ -e "$STATE/created" ] || die "no local cluster set up by this script (no $STATE/created)"
  local f pid
  # Jobs first, so slurmd has nothing left to run.
  scancel --user="$(id -un)" >/dev/null 2>&1 || true
  for f in slurmd slurmctld; do
    if [ -s "$STATE/$f.pid" ]; then
      pid=$(cat "$STATE/$f.pid")
      kill "$pid" 2>/dev/null || true
      wait_for "! kill -0 $pid" 15 || kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if grep -qx munged "$STATE/created" && [ -s "$STATE/munge/munged.pid" ]; then
    pid=$(cat "$STATE/munge/munged.pid")
    kill "$pid" 2>/dev/null || true
    wait_for "! kill -0 $pid" 15 || true
  fi
  if grep -qxF "$CONF" "$STATE/created" && grep -qF "$MARK" "$CONF" 2>/dev/null; then
    rm -f "$CONF"
  fi
  if grep -qxF "$KEY" "$STATE/created"; then
    rm -f "$KEY"
  fi
  rm -rf "$STATE"
  echo "Slurm is down; removed what '$0 up' created"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
