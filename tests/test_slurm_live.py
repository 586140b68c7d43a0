"""The workflow through profiles/slurm on a live single-node Slurm.

tests/slurm/start.sh starts munged, slurmctld and slurmd (Debian's slurm-wlm,
installed by tests/slurm/install.sh); this module runs config/test.yaml through
the project's Slurm profile, adapted only where a site must adapt it, and checks
that every job that is not local ran as a Slurm job with the CPUs and GPU the
profile asks for, and that the outputs equal those of a local run.
Skips, saying why, where Slurm cannot be started (not root, packages missing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from helpers import differing_outputs

REPO = Path(__file__).resolve().parents[1]
SLURM_SCRIPTS = REPO / "tests" / "slurm"
PARTITION = "local"
SITE_CONF = "/etc/slurm/slurm.conf"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
             "--configfile", str(REPO / "config/test.yaml")]

pytestmark = [pytest.mark.integration, pytest.mark.slurm]


def slurm_unavailable_reason() -> str | None:
    """Why a single-node Slurm cannot be started here, or None."""
    missing = [c for c in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol")
               if shutil.which(c) is None]
    if missing:
        return (f"Slurm is not installed (no {', '.join(missing)}): "
                "run tests/slurm/install.sh as root")
    if os.geteuid() != 0:
        return "starting slurmctld, slurmd and munged needs root"
    if os.path.lexists(SITE_CONF):
        return f"{SITE_CONF} exists: another Slurm is configured on this machine"
    return None


def running(pid: str) -> bool:
    """The process exists and is not a zombie (an init that reaps none leaves those)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """SLURM_CONF of a running single-node Slurm; its daemons stopped by pid at the end."""
    reason = slurm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "PARTITION": PARTITION}
    started = subprocess.run([str(SLURM_SCRIPTS / "start.sh"), str(state)], env=env,
                             capture_output=True, text=True, timeout=180)
    try:
        if started.returncode != 0:
            pytest.fail(f"single-node Slurm did not start:\n{started.stdout}\n{started.stderr}")
        pids = dict(line.split() for line in (state / "pids").read_text().splitlines())
        yield {"SLURM_CONF": str(state / "slurm.conf"), "state": state, "pids": pids}
    finally:
        subprocess.run([str(SLURM_SCRIPTS / "stop.sh"), str(state)], timeout=120)


def node_capacity(slurm_conf: str) -> tuple[int, int]:
    """(CPUs, RealMemory MB) of the node in a slurm.conf."""
    text = Path(slurm_conf).read_text()
    node = next(line for line in text.splitlines() if line.startswith("NodeName="))
    fields = dict(item.split("=", 1) for item in node.split())
    return int(fields["CPUs"]), int(fields["RealMemory"])


def site_profile(profile: dict, partition: str, cpus: int, mem_mb: int) -> dict:
    """profiles/slurm as a user adapts it to this site: its partition, no account,
    CPUs within its one node, memory so that one-CPU jobs can share it, squeue
    for status (no accounting), and the logs of successful jobs kept."""
    site = yaml.safe_load(yaml.safe_dump(profile))
    quoted = f"'{partition}'"
    mem_mb = mem_mb // cpus
    site["default-resources"]["slurm_partition"] = quoted
    del site["default-resources"]["slurm_account"]
    site["default-resources"]["mem_mb"] = min(site["default-resources"]["mem_mb"], mem_mb)
    site["slurm-no-account"] = True
    site["slurm-status-command"] = "squeue"
    site["slurm-keep-successful-logs"] = True
    site["slurm-init-seconds-before-status-checks"] = 2
    site["set-threads"] = {rule: min(n, cpus) for rule, n in site["set-threads"].items()}
    for resources in site["set-resources"].values():
        for key in ("cpus_per_task", "cpus_per_gpu"):
            if key in resources:
                resources[key] = min(resources[key], cpus)
        if "mem_mb" in resources:
            resources["mem_mb"] = min(resources["mem_mb"], mem_mb)
        if "slurm_partition" in resources:
            resources["slurm_partition"] = quoted
    return site


def planned_job_counts(output: str) -> Counter:
    """Jobs per rule from the 'Job stats' table of a dry run."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = Counter()
    for line in table.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if m and m.group(1) != "total":
            counts[m.group(1)] = int(m.group(2))
    return counts


def slurm_jobs(env: dict, workdir: Path) -> list[dict]:
    """Every job slurmctld knows (MinJobAge keeps finished ones) that ran in workdir."""
    out = subprocess.run(["scontrol", "--oneliner", "show", "job"], env=env,
                         capture_output=True, text=True, check=True).stdout
    jobs = []
    for line in out.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("WorkDir") == str(workdir):
            m = re.match(r"^rule_(\w+?)(?:_wildcards_(.*))?$", fields.get("Comment", ""))
            fields["rule"] = m.group(1) if m else None
            jobs.append(fields)
    return jobs


def run_snakemake(workdir: Path, *args: str, env: dict | None = None,
                  timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run([*SNAKEMAKE, "--directory", str(workdir), *args], env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result


def daemon_report(slurm: dict) -> str:
    """Whether each Slurm daemon still runs, and the end of its log: why sbatch or
    squeue could not reach the controller, when they could not."""
    lines = []
    for name, pid in slurm["pids"].items():
        lines.append(f"{name} (pid {pid}): {'running' if running(pid) else 'NOT RUNNING'}")
        log = slurm["state"] / f"{name}.log"
        if log.exists():
            lines += [f"  {line}" for line in log.read_text().splitlines()[-15:]]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def slurm_run(slurm, tmp_path_factory):
    """config/test.yaml through the site's profiles/slurm: (workdir, profile, stderr)."""
    cpus, mem_mb = node_capacity(slurm["SLURM_CONF"])
    profile = site_profile(yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text()),
                           PARTITION, cpus, mem_mb)
    profile_dir = tmp_path_factory.mktemp("profile")
    (profile_dir / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    workdir = tmp_path_factory.mktemp("slurm_run")
    # the jobs' own snakemake comes from this environment (sbatch --export=ALL)
    env = {**os.environ, "SLURM_CONF": slurm["SLURM_CONF"],
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    planned = run_snakemake(workdir, "--profile", str(profile_dir), "-n", env=env)
    # about 10 min on 2 cores: each job starts Snakemake twice (sbatch script, srun step)
    try:
        run = run_snakemake(workdir, "--profile", str(profile_dir), "--verbose", env=env,
                            timeout=2400)
    except AssertionError as failed:
        raise AssertionError(f"{failed}\n{daemon_report(slurm)}") from None
    return {"workdir": workdir, "profile": profile, "planned": planned.stdout,
            "log": run.stdout + run.stderr, "jobs": slurm_jobs(env, workdir)}


@pytest.fixture(scope="module")
def local_run(slurm_run, tmp_path_factory):
    """config/test.yaml run locally with the threads Slurm granted each rule: torch's
    training sums in a different order on another number of threads."""
    workdir = tmp_path_factory.mktemp("local_run")
    threads = [f"{rule}={n}" for rule, n in slurm_run["profile"]["set-threads"].items()]
    run_snakemake(workdir, "--cores", "2", "--set-threads", *threads)
    return workdir


def test_every_job_that_is_not_local_ran_as_a_slurm_job(slurm_run):
    planned = planned_job_counts(slurm_run["planned"])
    local_rules = {"all"}
    expected = Counter({rule: n for rule, n in planned.items() if rule not in local_rules})
    jobs = slurm_run["jobs"]
    assert Counter(job["rule"] for job in jobs) == expected
    assert len(jobs) == sum(expected.values()) > 60
    for job in jobs:
        assert job["JobState"] == "COMPLETED", job
        assert job["Partition"] == PARTITION
        assert job["ExitCode"] == "0:0"


def test_slurm_grants_each_job_the_cpus_of_its_threads_and_gpu_rules_a_gpu(slurm_run):
    profile = slurm_run["profile"]
    jobs = slurm_run["jobs"]
    gpu_rules = {rule for rule, res in profile["set-resources"].items() if res.get("gpu")}
    assert gpu_rules == {"train_autoencoder", "fit_som", "train_bedtopo", "predict_bedtopo",
                         "train_climate_clustering"}
    seen_gpu = set()
    for job in jobs:
        rule = job["rule"]
        threads = profile["set-threads"].get(rule, 1)
        assert int(job["NumCPUs"]) == threads, (rule, job["NumCPUs"], threads)
        if rule in gpu_rules:
            assert job["TresPerJob"] == "gres:gpu:1", job
            seen_gpu.add(rule)
        else:
            assert "gpu" not in job.get("TresPerJob", ""), job
    assert seen_gpu == gpu_rules
    # the sbatch lines, as a user checks them with --verbose
    sbatch = [line for line in slurm_run["log"].splitlines() if "sbatch call:" in line]
    assert len(sbatch) == len(jobs)
    for rule in gpu_rules:
        comment = re.compile(rf"--comment '?rule_{rule}(_wildcards_|'| )")
        lines = [line for line in sbatch if comment.search(line)]
        assert lines and all("--gpus=1" in line and "--cpus-per-gpu=" in line
                             for line in lines), rule
    assert not any("--gres" in line for line in sbatch)


def test_each_job_runs_as_many_threads_as_slurm_granted_it_cpus(slurm_run):
    """The job's own Snakemake (in the kept job log) gives the rule its Slurm CPUs."""
    jobs = {job["JobId"]: job for job in slurm_run["jobs"]}
    logs = sorted((slurm_run["workdir"] / ".snakemake/slurm_logs").rglob("*.log"))
    assert {log.stem for log in logs} == set(jobs)
    multi_threaded = 0
    for log in logs:
        text = log.read_text()
        threads = re.findall(r"^\s+threads: (\d+)$", text, re.MULTILINE)
        assert (int(threads[-1]) if threads else 1) == int(jobs[log.stem]["NumCPUs"]), log
        multi_threaded += bool(threads)
    assert multi_threaded >= 10


def test_outputs_through_slurm_equal_those_of_a_local_run(slurm_run, local_run):
    assert len(list((local_run / "results").rglob("*"))) > 400
    # files in one run only are reported too
    assert differing_outputs(slurm_run["workdir"], local_run) == []


def test_daemons_are_stopped_by_their_pids(slurm, slurm_run):
    # after the run (slurm_run, which also reads the jobs' accounting): in random order
    # this test may come first, and stopping the daemons before it broke the run
    assert set(slurm["pids"]) == {"munged", "slurmctld", "slurmd"}
    assert all(running(pid) for pid in slurm["pids"].values())
    subprocess.run([str(SLURM_SCRIPTS / "stop.sh"), str(slurm["state"])], timeout=120,
                   check=True)
    assert not any(running(pid) for pid in slurm["pids"].values())
    assert not os.path.lexists(SITE_CONF)
