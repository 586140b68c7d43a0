"""Benchmark files summed per rule, power-law growth fits (bench/scale.py)."""

from __future__ import annotations

import pytest

from cryolearn.scaling import (
    RuleCost,
    fit_job_cost,
    fit_power_law,
    growth_table,
    read_benchmarks,
)

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, seconds, rss, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_jobs_of_a_rule_are_summed_and_their_peak_memory_is_the_largest(tmp_path):
    _bench(tmp_path / "denoise_shots/L2A.tsv", 3.0, 500.0, 2.5)
    _bench(tmp_path / "denoise_shots/L3A.tsv", 5.0, 700.0, 4.0)
    _bench(tmp_path / "synth_flight/F1.tsv", 20.0, 400.0, "NA")
    costs = read_benchmarks(tmp_path)
    assert costs["denoise_shots"] == RuleCost(jobs=2, wall_s=8.0, cpu_s=6.5, max_rss_mb=700.0,
                                              max_job_wall_s=5.0)
    assert costs["synth_flight"].cpu_s == 0.0  # NA: psutil could not read it
    assert costs["synth_flight"].max_rss_mb == 400.0


def test_a_folder_without_benchmarks_or_with_another_table_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no benchmark files"):
        read_benchmarks(tmp_path)
    (tmp_path / "rule").mkdir()
    (tmp_path / "rule" / "x.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match=r"x\.tsv: not a Snakemake benchmark file"):
        read_benchmarks(tmp_path)


def test_power_law_recovers_a_known_exponent_and_projects_it():
    sizes = [600, 1200, 2400, 4800]
    law = fit_power_law(sizes, [0.02 * n**1.5 for n in sizes])
    assert law.exponent == pytest.approx(1.5, abs=1e-9)
    assert law.coefficient == pytest.approx(0.02, rel=1e-9)
    assert law(212_534) == pytest.approx(0.02 * 212_534**1.5, rel=1e-9)


def test_power_law_needs_two_sizes_and_positive_values():
    with pytest.raises(ValueError, match="two or more distinct sizes"):
        fit_power_law([100, 100], [1.0, 2.0])
    with pytest.raises(ValueError, match="must be positive"):
        fit_power_law([100, 200], [1.0, 0.0])


def test_growth_table_fits_each_rule_over_the_runs_it_ran_in():
    def cost(wall, rss):
        return RuleCost(jobs=1, wall_s=wall, cpu_s=wall, max_rss_mb=rss, max_job_wall_s=wall)

    runs = {"small": {"a": cost(10.0, 300.0), "b": cost(5.0, 100.0)},
            "large": {"a": cost(40.0, 300.0)}}
    walls = growth_table(runs, {"small": 1000, "large": 2000}, "wall_s")
    assert walls["a"].exponent == pytest.approx(2.0)
    assert "b" not in walls  # one size only
    assert growth_table(runs, {"small": 1000, "large": 2000}, "max_rss_mb")["a"].exponent == \
        pytest.approx(0.0, abs=1e-12)


def test_job_cost_separates_start_up_from_the_work_and_projects_both():
    jobs = [7, 7, 7, 14]
    units = [650, 1300, 2600, 5200]
    values = [3.0 * j + 0.025 * n for j, n in zip(jobs, units, strict=True)]
    model = fit_job_cost(jobs, units, values)
    assert model.per_job == pytest.approx(3.0) and model.per_unit == pytest.approx(0.025)
    assert model(19, 1_000_000) == pytest.approx(57 + 25_000)
    # the same data's log-log slope understates the growth: start-up is a third of it
    assert fit_power_law(units, values).exponent < 0.9
    with pytest.raises(ValueError, match="two or more distinct sizes"):
        fit_job_cost([1, 1], [10, 10], [1.0, 1.0])
