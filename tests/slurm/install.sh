#!/usr/bin/env bash
# Install the Debian packages of a single-node Slurm (slurm-wlm and munge) for
# the live Slurm test. Needs root and apt-get; exits 1 saying why otherwise.
set -euo pipefail

missing=()
for cmd in slurmctld slurmd munged sbatch squeue; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "slurm-wlm and munge are installed ($(slurmctld -V))"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "cannot install slurm-wlm and munge: not root (missing: ${missing[*]})" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "cannot install slurm-wlm and munge: no apt-get (missing: ${missing[*]})" >&2
    exit 1
fi
echo "installing slurm-wlm and munge (missing: ${missing[*]})"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge
slurmctld -V
