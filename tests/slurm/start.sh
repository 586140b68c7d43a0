#!/usr/bin/env bash
# Start a single-node Slurm for the live Slurm test, everything under STATE_DIR:
#   munged, slurmctld and slurmd, run as root, with their own munge key and socket;
#   slurm.conf names this host with the CPUs and memory that `slurmd -C` reads;
#   one partition, PARTITION (default: local), and one GPU declared as a GRES so
#   that GPU requests (--gpus, --cpus-per-gpu) are scheduled as on a real site.
# No accounting storage: the workflow must query job status with squeue, and
# MinJobAge keeps finished jobs in squeue and `scontrol show job` for an hour,
# which is also the test's record of what ran where.
# Writes STATE_DIR/slurm.conf, links /etc/slurm/slurm.conf to it (refusing to
# start where that file exists already) and records the daemons in STATE_DIR/pids;
# tests/slurm/stop.sh STATE_DIR stops them and removes the link.
set -euo pipefail

STATE=${1:?usage: start.sh STATE_DIR}
PARTITION=${PARTITION:-local}
CTLD_PORT=${SLURMCTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}
SITE_CONF=/etc/slurm/slurm.conf
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
mkdir -p "$STATE/ctld" "$STATE/spool" "$STATE/munge"
chmod 700 "$STATE/munge"
: > "$STATE/pids"
rm -f "$STATE"/*.pid "$STATE"/munge/*.pid

# Job steps find the configuration where a site keeps it: the Slurm executor's
# job step drops SLURM_* variables (SLURM_CONF too) before it calls srun.
if [ -e "$SITE_CONF" ] || [ -L "$SITE_CONF" ]; then
    echo "$SITE_CONF exists: another Slurm is configured here; not touching it" >&2
    exit 1
fi
mkdir -p "$(dirname "$SITE_CONF")"
ln -s "$STATE/slurm.conf" "$SITE_CONF"
echo "$SITE_CONF" > "$STATE/site_conf_link"

start_daemon() {  # name, pid file, command...: start it, record its pid or fail with its log
    local name=$1 pidfile=$2
    shift 2
    "$@"
    for _ in $(seq 1 40); do
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "$name $(cat "$pidfile")" >> "$STATE/pids"
            return 0
        fi
        sleep 0.25
    done
    echo "$name did not start; the end of its log:" >&2
    tail -n 5 "$STATE/$name.log" >&2 || true
    exit 1
}

host=$(hostname -s)
# the node as slurmd sees it: "NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105"
node_line=$(slurmd -C | head -n 1)
cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
hardware=$(sed -e 's/^NodeName=[^ ]* //' <<<"$node_line")

dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE/munge/munge.key"
start_daemon munged "$STATE/munge/munged.pid" munged --force \
    --key-file="$STATE/munge/munge.key" \
    --socket="$STATE/munge/munge.socket" \
    --pid-file="$STATE/munge/munged.pid" \
    --log-file="$STATE/munged.log" \
    --seed-file="$STATE/munge/munged.seed"

cat > "$STATE/slurm.conf" <<CONF
ClusterName=cryolearn-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
AuthInfo=socket=$STATE/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=3600
# a 2-core machine busy with the jobs themselves answers slowly: 60 s instead of
# the default 10 s before sbatch and squeue give up on the controller
MessageTimeout=60
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$host NodeAddr=127.0.0.1 $hardware Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
# a GPU that is only a name: jobs asking for one are scheduled, none is used
echo "NodeName=$host Name=gpu Count=1 File=/dev/null" > "$STATE/gres.conf"

export SLURM_CONF="$STATE/slurm.conf"
start_daemon slurmctld "$STATE/slurmctld.pid" slurmctld -f "$SLURM_CONF"
start_daemon slurmd "$STATE/slurmd.pid" slurmd -f "$SLURM_CONF"

for _ in $(seq 1 60); do
    state=$(sinfo --noheader --partition "$PARTITION" --format=%t 2>/dev/null || true)
    if [ "$state" = idle ]; then
        echo "slurm is up: partition $PARTITION on $host, $cpus CPUs, $memory MB, 1 GRES gpu"
        exit 0
    fi
    sleep 1
done
echo "slurm did not come up (node state: '${state:-none}'); logs in $STATE" >&2
tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
exit 1
