#!/usr/bin/env bash
# A real Slurm cluster on loopback for the cluster test: munged with its own key and
# socket, slurmctld and three slurmd (node1..node3, all on localhost), as root.
#   slurm-loopback.sh up DIR           start it
#   slurm-loopback.sh exec DIR CMD...  run CMD against it (SLURM_CONF set)
#   slurm-loopback.sh down DIR         stop everything `up` started in DIR
# The daemons live in a network namespace of their own that has only a loopback
# interface (slurmctld 22.05 listens on every address it has): nothing outside can reach
# ports 16817-16821, and they cannot clash with anything outside. `exec` runs CMD in it.
# A failed `up` stops what it started.
set -euo pipefail
usage="usage: slurm-loopback.sh up|exec|down DIR [CMD...]"
cmd=${1:?$usage}
D=${2:?$usage}
shift 2
mkdir -p "$D"
D=$(cd "$D" && pwd)
NS=tiersim-slurm-$(printf '%s' "$D" | md5sum | cut -c1-10)
in_ns() { nsenter --net="/run/netns/$NS" env SLURM_CONF="$D/slurm.conf" "$@"; }

if [ "$cmd" = exec ]; then
  in_ns "$@"
  exit $?
fi

down() {
  if [ -f "$D/slurm.conf" ] && ip netns list | grep -qw "$NS"; then
    in_ns scontrol shutdown >/dev/null 2>&1 || true
  fi
  # What `scontrol shutdown` did not stop within a few seconds, by the pids we wrote.
  for _ in $(seq 1 50); do
    alive=0
    for f in "$D"/slurmctld.pid "$D"/slurmd-*.pid; do
      [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1
    done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for f in "$D"/slurmctld.pid "$D"/slurmd-*.pid "$D"/munge/pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  rm -f "$D"/slurmctld.pid "$D"/slurmd-*.pid "$D"/munge/pid
  ip netns del "$NS" 2>/dev/null || true
}

if [ "$cmd" = down ]; then
  down
  exit 0
fi
[ "$cmd" = up ] || { echo "$usage" >&2; exit 2; }

if [ "$(id -u)" != 0 ]; then
  echo "slurm-loopback: needs root (slurmd runs jobs as their user)" >&2; exit 3
fi
for tool in ip munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$tool" >/dev/null || { echo "slurm-loopback: no $tool (apt-get install --no-install-recommends slurm-wlm munge)" >&2; exit 3; }
done
trap 'status=$?; if [ $status != 0 ]; then echo "slurm-loopback: up failed; logs in $D/log" >&2; down; fi' EXIT

down
ip netns add "$NS"
nsenter --net="/run/netns/$NS" ip link set lo up
# glibc's getaddrinfo (AI_ADDRCONFIG) resolves no IPv4 name where only 127/8 is
# configured: a link-local address on lo itself, reachable from nowhere, satisfies it.
nsenter --net="/run/netns/$NS" ip addr add 169.254.77.1/32 dev lo
rm -rf "$D/state" "$D/spool" "$D/log" "$D/munge"
mkdir -p "$D"/{state,spool,log,munge}
chmod 700 "$D/munge"
dd if=/dev/urandom of="$D/munge/key" bs=1024 count=1 2>/dev/null
chmod 400 "$D/munge/key"
munged --key-file="$D/munge/key" --socket="$D/munge/sock" --pid-file="$D/munge/pid" \
  --log-file="$D/munge/log" --seed-file="$D/munge/seed" -f

# The node line from `slurmd -C` (this machine's sockets, cores, threads, memory),
# given to three node names that all live on localhost, one port each.
hw=$(slurmd -C | head -1 | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' | tr '\n' ' ')
cat > "$D/slurm.conf" <<CONF
ClusterName=tiersimtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge/sock
CredType=cred/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool/%n
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd-%n.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
MpiDefault=none
NodeName=node[1-3] NodeHostname=localhost NodeAddr=127.0.0.1 Port=16819-16821 $hw
PartitionName=debug Nodes=node[1-3] Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
in_ns slurmctld -f "$D/slurm.conf"
for n in 1 2 3; do
  mkdir -p "$D/spool/node$n"
  in_ns slurmd -f "$D/slurm.conf" -N "node$n"
done
# Up when all three nodes are idle.
for _ in $(seq 1 50); do
  idle=$(in_ns sinfo -h -N -o '%N %t' 2>/dev/null | grep -c ' idle' || true)
  [ "$idle" = 3 ] && break
  sleep 0.2
done
if [ "$idle" != 3 ]; then
  in_ns sinfo -N >&2 || true
  echo "slurm-loopback: the three nodes did not come up" >&2
  exit 1
fi
echo "slurm-loopback: up in $D (network namespace $NS)"
