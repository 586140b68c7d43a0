"""profiles/slurm, read as the Slurm executor plugin and Snakemake will read it.

Runs everywhere (no Slurm needed); tests/test_slurm_live.py runs the profile on
a live Slurm where one can be started.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.resources import Resource
from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options

REPO = Path(__file__).resolve().parents[1]
PROFILE_FILE = REPO / "profiles/slurm/config.yaml"
PROFILE = yaml.safe_load(PROFILE_FILE.read_text())
GPU_RULES = {rule for rule, res in PROFILE["set-resources"].items() if "gpu" in res}


def workflow_rules() -> dict[str, str]:
    """Every rule of the workflow: name -> its text in workflow/rules/*.smk."""
    rules = {}
    for smk in sorted((REPO / "workflow/rules").glob("*.smk")):
        for block in re.split(r"\n(?=rule \w+:)", smk.read_text()):
            m = re.match(r"rule (\w+):", block)
            if m:
                rules[m.group(1)] = block
    return rules


def snakemake_resource_value(value: object) -> object:
    """A profile resource value as Snakemake evaluates it (a Python expression first)."""
    if not isinstance(value, str):
        return value
    return Resource.cli_evaluator("profile", value, wildcards=None, input=None, attempt=1,
                                  async_run=None)


def test_profile_submits_through_slurm_with_the_site_settings_marked():
    assert PROFILE["executor"] == "slurm"
    defaults = PROFILE["default-resources"]
    assert snakemake_resource_value(defaults["slurm_partition"]) == "<cpu-partition>"
    assert snakemake_resource_value(defaults["slurm_account"]) == "<account>"
    assert snakemake_resource_value(defaults["runtime"]) > 0 and defaults["mem_mb"] > 0
    for key in ("jobs", "latency-wait", "retries"):
        assert PROFILE[key] > 0
    gpu_partitions = {snakemake_resource_value(PROFILE["set-resources"][r]["slurm_partition"])
                      for r in GPU_RULES}
    assert gpu_partitions == {"<gpu-partition>"}


def test_every_key_of_the_profile_is_explained_by_a_comment_above_it():
    lines = PROFILE_FILE.read_text().splitlines()
    uncommented = []
    for i, line in enumerate(lines):
        top_level = re.match(r"^([\w-]+):", line)
        default = re.match(r"^  (\w+):", line) and lines_section(lines, i) == "default-resources"
        if (top_level or default) and not lines[i - 1].lstrip().startswith("#"):
            uncommented.append(line)
    assert uncommented == []


def lines_section(lines: list[str], i: int) -> str:
    """The top-level key whose block line i is in."""
    return next(re.match(r"^([\w-]+):", line).group(1) for line in reversed(lines[:i])
                if re.match(r"^[\w-]+:", line))


def test_profile_names_only_rules_that_exist():
    rules = workflow_rules()
    assert set(PROFILE["set-threads"]) <= set(rules)
    assert set(PROFILE["set-resources"]) <= set(rules)


@pytest.mark.parametrize("rule", sorted(PROFILE["set-resources"]))
def test_slurm_cpus_equal_the_threads_snakemake_gives_the_job(rule):
    """A job whose threads exceed its cpus_per_task runs them on too few cores."""
    resources = PROFILE["set-resources"][rule]
    threads = PROFILE["set-threads"].get(rule, 1)
    if rule in GPU_RULES:
        assert "cpus_per_task" not in resources
        assert resources.get("cpus_per_gpu", 1) * resources["gpu"] == threads
    else:
        assert resources.get("cpus_per_task", 1) == threads
    assert set(resources) <= {"slurm_partition", "gpu", "cpus_per_gpu", "cpus_per_task",
                              "mem_mb", "runtime"}


def test_rules_with_threads_in_the_profile_use_them():
    rules = workflow_rules()
    for rule in PROFILE["set-threads"]:
        assert "threads:" in rules[rule], f"{rule} has set-threads but no threads directive"


def test_gpu_rules_ask_for_one_gpu_one_way_and_only_through_the_profile():
    assert GPU_RULES == {"train_autoencoder", "fit_som", "train_bedtopo", "predict_bedtopo",
                         "train_climate_clustering"}
    for rule in GPU_RULES:
        assert PROFILE["set-resources"][rule]["gpu"] == 1
        assert "gres" not in PROFILE["set-resources"][rule]
    declared = {name for name, text in workflow_rules().items()
                if re.search(r"^\s+(gpu|gres)\s*=", text, re.MULTILINE)}
    assert declared == set(), "rules declaring a GPU would not run locally without one"


def test_no_resource_carries_flags_the_plugin_manages():
    forbidden = get_forbidden_slurm_options()
    extras = [res.get("slurm_extra", "") for res in
              [PROFILE["default-resources"], *PROFILE["set-resources"].values()]]
    for extra in extras:
        for pattern, option in forbidden.items():
            assert not re.search(pattern, str(extra)), f"slurm_extra sets the {option}"


def test_string_resources_stay_strings_when_snakemake_evaluates_them():
    """A bare partition name such as all or max would evaluate to a Python builtin."""
    values = [PROFILE["default-resources"]["slurm_partition"],
              PROFILE["default-resources"]["slurm_account"],
              *(res["slurm_partition"] for res in PROFILE["set-resources"].values()
                if "slurm_partition" in res)]
    for value in values:
        assert re.fullmatch(r"'[^']*'", value), value
        assert isinstance(snakemake_resource_value(value), str)


def test_profile_is_accepted_by_snakemake_and_the_plugin(tmp_path):
    """A dry run through the profile: Snakemake parses every key and the plugin's settings."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--profile",
         str(REPO / "profiles/slurm"), "--configfile", str(REPO / "config/test.yaml"),
         "--directory", str(tmp_path), "-n", "--cores", "64"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    # with enough cores the jobs keep the profile's threads (a dry run caps them at --cores)
    threads = re.findall(r"rule (\w+):(?:(?!\nrule ).)*?threads: (\d+)", result.stdout, re.S)
    assert {rule: int(n) for rule, n in threads} == {
        rule: n for rule, n in PROFILE["set-threads"].items() if n > 1}
    assert "slurm_partition=<gpu-partition>" in result.stdout


def test_workflow_profile_sets_no_cores_that_would_cap_the_cluster_jobs_threads():
    default = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert not {"cores", "latency-wait", "jobs", "executor"} & set(default)


def write_run(root: Path, value: float, seconds: float, weight: float, raw: bytes) -> Path:
    import json

    import torch

    (root / "results/eval").mkdir(parents=True)
    (root / "results/eval/x.json").write_text(json.dumps(
        {"rmse": value, "seconds_per_epoch": seconds, "far": float("nan")}))
    torch.save({"state": {"w": torch.tensor([weight, 2.0])}, "history": [{"seconds": seconds}]},
               root / "results/model.pt")
    (root / "results/raw.bin").write_bytes(raw)
    return root


def test_run_comparison_ignores_measured_durations_and_catches_any_other_change(tmp_path):
    """The comparison the live test makes between its Slurm and local runs."""
    from helpers import differing_outputs

    base = write_run(tmp_path / "a", 1.5, 0.1, 1.0, b"xyz")
    assert differing_outputs(base, write_run(tmp_path / "b", 1.5, 0.7, 1.0, b"xyz")) == []
    assert differing_outputs(base, write_run(tmp_path / "c", 1.6, 0.1, 1.0, b"xyz")) == [
        "results/eval/x.json"]
    assert differing_outputs(base, write_run(tmp_path / "d", 1.5, 0.1, 1.0 + 1e-7, b"xyz")) == [
        "results/model.pt"]
    assert differing_outputs(base, write_run(tmp_path / "e", 1.5, 0.1, 1.0, b"xyZ")) == [
        "results/raw.bin"]
    (tmp_path / "e/results/extra.txt").write_text("new")
    assert differing_outputs(base, tmp_path / "e") == ["results/extra.txt", "results/raw.bin"]
