#!/usr/bin/env bash
# Stop the daemons that tests/slurm/start.sh started, by the process ids it
# recorded in STATE_DIR/pids (slurmd, slurmctld, then munged), and remove the
# /etc/slurm/slurm.conf link it made.
set -uo pipefail

STATE=${1:?usage: stop.sh STATE_DIR}
STATE=$(cd "$STATE" && pwd)

running() {  # a process that exists and is not a zombie (an init that reaps none leaves those)
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $state != Z* ]]
}

for name in slurmd slurmctld munged; do
    [ -f "$STATE/pids" ] || break
    pid=$(awk -v n="$name" '$1 == n {print $2}' "$STATE/pids")
    [ -n "$pid" ] || continue
    running "$pid" || continue
    kill "$pid"
    for _ in $(seq 1 50); do
        running "$pid" || break
        sleep 0.2
    done
    if running "$pid"; then
        echo "$name ($pid) did not stop on TERM; killing it" >&2
        kill -9 "$pid" 2>/dev/null
    fi
done
rm -f "$STATE/pids"
# the /etc/slurm/slurm.conf link that start.sh made, if it still points here
if [ -f "$STATE/site_conf_link" ]; then
    link=$(cat "$STATE/site_conf_link")
    [ "$(readlink "$link")" = "$STATE/slurm.conf" ] && rm -f "$link"
    rm -f "$STATE/site_conf_link"
fi
