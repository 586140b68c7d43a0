"""Snakemake end to end on config/test.yaml, partial rebuilds and start-up errors."""

import json
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import rasterio
import torch
import yaml
import zarr
from sklearn.metrics import adjusted_rand_score

from cryolearn.crevasse.evaluate.truth import tile_dominant_classes
from cryolearn.synth.glas import truth_rows_for_shots

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2"]

pytestmark = pytest.mark.integration


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*SNAKEMAKE, "--directory", str(workdir), *args],
                            capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


#: height × width in pixels of every crevasse figure of config/test.yaml (figure size × dpi,
#: constrained layout: exact), and the least share of its pixels that carry ink (measured,
#: halved). The bed-topography figures are cropped to their content, so only their ink counts.
FIGURES = {
    "library_examples": ((1518, 990), 0.08), "autoencoder_training": ((600, 900), 0.04),
    "cleaned_shots": ((1248, 1300), 0.045), "matches": ((960, 1152), 0.15),
    "som_umatrix": ((528, 1650), 0.13), "optics_reachability": ((396, 1210), 0.25),
    "tile_neighbours": ((616, 1320), 0.26), "crevasse_maps": ((396, 1298), 0.3),
    "crevasse_change": ((396, 902), 0.28), "crevasse_reliability": ((715, 605), 0.03),
    "climate_clusters_dsc": ((297, 1332), 0.2), "realism": ((650, 1200), 0.01),
    "normalisation_steps": ((836, 1430), 0.25), "dct_truncation": ((484, 1430), 0.26),
    "holdout_matches": ((891, 1650), 0.16), "bedtopo_maps": (None, 0.24),
    "bedtopo_profiles": (None, 0.037), "bedtopo_training": (None, 0.03),
}


def assert_figure(run: Path, name: str) -> None:
    """The figure is a PNG of its known size with ink on at least its measured share."""
    import matplotlib.image

    size, ink_floor = FIGURES[name]
    pixels = matplotlib.image.imread(run / f"results/figures/{name}.png")[..., :3]
    if size is not None:
        assert pixels.shape[:2] == size, (name, pixels.shape)
    ink = float((pixels.min(axis=2) < 0.97).mean())
    assert ink >= ink_floor, (name, ink)


def expected_probability(run: Path, campaign: str, labels_file: Path, min_known: int
                         ) -> np.ndarray:
    """Crevasse probability by hand: the crevasse share of a shot's labelled matched tiles."""
    labels = yaml.safe_load(labels_file.read_text())["labels"]
    tile_label = zarr.open_group(str(run / "results/clusters/clusters.zarr"),
                                 mode="r")["tile_label"][:]
    neighbour = zarr.open_group(str(run / f"results/matches/{campaign}.zarr"),
                                mode="r")["neighbour"][:]
    expected = np.full(len(neighbour), np.nan)
    for shot, row in enumerate(neighbour):
        named = [labels.get(int(tile_label[i])) for i in row if i >= 0]
        known = [label for label in named if label is not None]
        if len(known) >= min_known:
            expected[shot] = np.mean([label == "crevasse" for label in known])
    return expected


def planned_jobs(output: str) -> list[tuple[str, str]]:
    """(rule, flight or '') of every job in a dry run's output."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        m = re.match(r"(?:local)?rule (\w+):", block.strip())
        if m:
            w = re.search(r"wildcards: .*?(?:flight|campaign)=([\w.-]+)", block)
            jobs.append((m.group(1), w.group(1) if w else ""))
    return jobs


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    snakemake(workdir, "--configfile", str(REPO / "config/test.yaml"))
    return workdir


def test_end_to_end_builds_library_and_figure(test_run):
    lib = zarr.open_group(str(test_run / "results/library.zarr"), mode="r")
    n = lib["hash"].shape[0]
    assert n > 0
    assert lib["elevation"].shape == (n, 200, 200)
    assert lib["waveform"].shape == (n, 544)
    np.testing.assert_allclose(lib["waveform"][:].sum(axis=1), 1.0, atol=1e-3)
    assert set(lib.attrs["flights"]) == {"T1", "T2"}
    assert_figure(test_run, "library_examples")
    assert (test_run / "logs/build_library/build_library.log").exists()
    assert (test_run / "benchmarks/simulate_flight/T1.tsv").exists()
    assert not list((test_run / "results").rglob("*.tmp-*"))


def test_end_to_end_ingests_trains_cleans_and_evaluates(test_run):
    for campaign in ("L2A", "L3I"):
        shots = zarr.open_group(str(test_run / f"results/shots/{campaign}.zarr"), mode="r")
        n = shots["waveform"].shape[0]
        report = shots.attrs["report"]
        assert n == report["n_kept"] > 5
        assert report["n_glah01"] == n + report["n_short"] + report["n_missing_type"] + \
            report["n_unmatched"]
        assert shots["waveform"].shape == (n, 544)
        cleaned = zarr.open_group(str(test_run / f"results/denoised/{campaign}.zarr"), mode="r")
        assert cleaned["waveform"].shape == (n, 544)
        np.testing.assert_array_equal(cleaned["rec_ndx"][:], shots["rec_ndx"][:])
        truth = zarr.open_group(str(test_run / f"resources/demo/truth/glas/{campaign}.zarr"),
                                mode="r")
        assert truth["class_fraction"].shape[1] == 8
    dist = zarr.open_group(str(test_run / "results/augment/distributions.zarr"), mode="r")
    # 64-sample windows within the original's 0.06 V and 0.045 V steps: in the product's
    # volts (0.0067 V a count) about 40 of the test run's 26 shots' quiet stretches
    assert dist["noise"].shape[1] == 64 and dist["noise"].shape[0] > 20
    evaluation = json.loads((test_run / "results/eval/autoencoder.json").read_text())
    for method in ("autoencoder", "identity", "gaussian_xcorr"):
        assert {"rmse", "shift_error_ns", "width_correlation",
                "probe_roc_auc"} <= set(evaluation[method])
    # the probe, trained on clean training tiles, scored on the clean held-out targets too
    assert "probe_roc_auc" in evaluation["clean"]
    assert isinstance(evaluation["autoencoder_keeps_width"], bool)
    assert evaluation["data"]["epochs"] == 2
    model = torch.load(test_run / "results/models/autoencoder.pt", weights_only=False)
    assert [h["epoch"] for h in model["history"]] == [1, 2]
    assert (test_run / "results/models/checkpoints/autoencoder.ckpt").exists()
    for name in ("autoencoder_training", "cleaned_shots"):
        assert_figure(test_run, name)


def test_end_to_end_matches_every_campaign_and_runs_the_holdout_experiment(test_run):
    library = zarr.open_group(str(test_run / "results/library.zarr"), mode="r")
    split = np.asarray(library["split"][:], dtype=object)
    for campaign in ("L2A", "L3I"):
        cleaned = zarr.open_group(str(test_run / f"results/denoised/{campaign}.zarr"), mode="r")
        m = zarr.open_group(str(test_run / f"results/matches/{campaign}.zarr"), mode="r")
        n = cleaned["waveform"].shape[0]
        assert m["neighbour"].shape == m["distance"].shape == m["offset_bins"].shape == (n, 5)
        matched = m["matched"][:]
        assert m.attrs["n_matched"] == matched.sum() > 0
        assert m.attrs["n_shots"] == n
        neighbours = m["neighbour"][:][matched]
        # neighbours come from the training split only, offsets within the configured range
        assert (split[neighbours] == "train").all()
        assert np.abs(m["offset_bins"][:]).max() <= 1
        assert (np.diff(m["distance"][:][matched], axis=1) >= 0).all()
    evaluation = json.loads((test_run / "results/eval/matching.json").read_text())
    # chance by hand: the class shares of the held-out queries times those of the index
    classes = tile_dominant_classes(sorted((test_run / "results/truth/tiles").glob("*.zarr")),
                                    library["hash"][:])
    query, train = classes[split == "holdout"], classes[split == "train"]
    shares = [np.bincount(c[c >= 0], minlength=8) / max((c >= 0).sum(), 1)
              for c in (query, train)]
    for section in (evaluation[name] for name in
                    ("exact", "approximate", "clean", "library_space_degraded_cleaned")):
        assert section["n_queries"] == len(query)
        assert section["chance"] == pytest.approx(float(shares[0] @ shares[1]))
    assert evaluation["exact"]["queries_per_second"] > 0
    assert evaluation["space"] == "autoencoder" and evaluation["draws"] == 2
    # the test index (deterministic build) finds half of the exact 10 nearest: measured 0.5
    assert evaluation["approximate"]["recall_at_10"] >= 0.5
    assert set(evaluation["exact"]["offset_sweep"]) == {"0", "1"}
    assert (test_run / "results/index/approximate.faiss").exists()
    assert_figure(test_run, "matches")


def test_end_to_end_normalises_every_library_tile(test_run):
    library = zarr.open_group(str(test_run / "results/library.zarr"), mode="r")
    features = zarr.open_group(str(test_run / "results/features/tiles_dct.zarr"), mode="r")
    assert features["features"].shape == (library["hash"].shape[0], 20 * 20)
    np.testing.assert_array_equal(features["hash"][:], library["hash"][:])
    errors = json.loads((test_run / "results/eval/dct.json").read_text())
    assert errors["dct_size"] == 20 and 0 <= errors["share_over_30cm"] <= errors[
        "share_over_15cm"] <= errors["share_over_10cm"] <= 1


def test_the_original_talks_figures_state_the_evaluations_own_numbers(test_run):
    from PIL import Image

    for name in ("normalisation_steps", "dct_truncation", "holdout_matches"):
        assert_figure(test_run, name)
    errors = json.loads((test_run / "results/eval/dct.json").read_text())
    stated = Image.open(test_run / "results/figures/dct_truncation.png").text
    assert float(stated["share_over_15cm"]) == errors["share_over_15cm"]
    # the hold-out figure draws the experiment's own matches: held-out queries, training
    # neighbours, nearest first, as many as matching.json scored
    library = zarr.open_group(str(test_run / "results/library.zarr"), mode="r")
    split = np.asarray(library["split"][:], dtype=object)
    found = zarr.open_group(str(test_run / "results/eval/holdout_matches.zarr"), mode="r")
    evaluation = json.loads((test_run / "results/eval/matching.json").read_text())
    rows, neighbours = found["holdout_row"][:], found["neighbour"][:]
    assert len(rows) == evaluation["exact"]["n_queries"] and neighbours.shape[1] == 5
    assert (split[rows] == "holdout").all() and (split[neighbours] == "train").all()
    assert (np.diff(found["distance"][:], axis=1) >= 0).all()


def test_the_figures_target_builds_every_figure_and_nothing_else(tmp_path):
    result = snakemake(tmp_path, "--configfile", str(REPO / "config/test.yaml"), "-n",
                       "figures")
    rules = {rule for rule, _ in planned_jobs(result.stdout)}
    drawn = {r for r in rules if r.startswith("figure_")}
    assert drawn == {"figure_library_examples", "figure_autoencoder_training",
                     "figure_cleaned_shots", "figure_matches", "figure_normalisation_steps",
                     "figure_dct_truncation", "figure_holdout_matches", "figure_som",
                     "figure_crevasse_maps", "figure_reliability"}
    assert "evaluate_realism" in rules  # realism.png
    assert not rules & {"evaluate_classifier_ablation", "evaluate_som", "evaluate_autoencoder",
                        "train_bedtopo", "cluster_climate", "figure_bedtopo", "figure_climate"}


def test_end_to_end_organises_tiles_into_clusters(test_run):
    n = zarr.open_group(str(test_run / "results/library.zarr"), mode="r")["hash"].shape[0]
    som = zarr.open_group(str(test_run / "results/som/som.zarr"), mode="r")
    assert som["codebook"].shape == (3, 4, 20 * 20)
    assert som["bmu"].shape == (n,) and 0 <= som["bmu"][:].min() <= som["bmu"][:].max() < 12
    assert som["quantisation_error"].shape == (4,)
    assert som["quantisation_error"][-1] < som["quantisation_error"][0]
    clusters = zarr.open_group(str(test_run / "results/clusters/clusters.zarr"), mode="r")
    node_label, tile_label = clusters["node_label"][:], clusters["tile_label"][:]
    np.testing.assert_array_equal(tile_label, node_label[som["bmu"][:]])
    montages = sorted((test_run / "results/clusters/montages").glob("cluster_*.png"))
    assert len(montages) == clusters.attrs["n_clusters"] == node_label.max() + 1
    result = json.loads((test_run / "results/eval/som.json").read_text())
    # the scores by hand, from the tiles' truth and the clusters store
    truth = sorted((test_run / "results/truth/tiles").glob("*.zarr"))
    classes = tile_dominant_classes(truth, clusters["hash"][:])
    assert result["adjusted_rand_index"] == pytest.approx(
        adjusted_rand_score(classes, tile_label))
    # a cluster's majority is at least its share of the run's commonest class
    assert result["purity"] >= max(result["class_share"].values()) - 1e-12
    for name in ("som_umatrix", "optics_reachability", "tile_neighbours"):
        assert_figure(test_run, name)


def test_same_config_same_outputs(test_run, tmp_path):
    snakemake(tmp_path, "--configfile", str(REPO / "config/test.yaml"), "--until",
              "build_library")
    a = zarr.open_group(str(test_run / "results/library.zarr"), mode="r")
    b = zarr.open_group(str(tmp_path / "results/library.zarr"), mode="r")
    for name in ("hash", "split", "elevation", "waveform"):
        np.testing.assert_array_equal(a[name][:], b[name][:])


def own_copy(test_run: Path, tmp_path: Path) -> Path:
    """A copy of the shared run that a test may edit (times kept, so nothing is stale)."""
    import shutil

    workdir = tmp_path / "run"
    shutil.copytree(test_run, workdir, symlinks=True)
    return workdir


def test_editing_one_flight_reruns_only_that_flight(test_run, tmp_path):
    test_run = own_copy(test_run, tmp_path)
    plan = planned_jobs(snakemake(test_run, "--configfile", str(REPO / "config/test.yaml"),
                                  "-n").stdout)
    assert plan == []
    frame = sorted((test_run / "resources/demo/flights/T1").glob("*.tif"))[0]
    with rasterio.open(frame, "r+") as dst:
        z = dst.read(1)
        z[z > -32767] += 0.5
        dst.write(z, 1)
    plan = planned_jobs(snakemake(test_run, "--configfile", str(REPO / "config/test.yaml"),
                                  "-n").stdout)
    rules = sorted(plan)
    assert ("tile_flight", "T1") in rules and ("simulate_flight", "T1") in rules
    assert ("build_library", "") in rules
    assert not any(flight == "T2" for _, flight in plan)
    assert not any(rule.startswith("synth_flight") for rule, _ in plan)


def test_adding_one_flight_reruns_its_own_jobs_and_what_the_library_feeds(test_run, tmp_path):
    test_run = own_copy(test_run, tmp_path)
    config = yaml.safe_load((REPO / "config/test.yaml").read_text())
    flights = config["synth"]["flights"]
    flights.append({**flights[0], "name": "T3", "date": "2012-04-18",
                    "start_y_m": flights[0]["start_y_m"] + 300.0})
    overlay = tmp_path / "three_flights.yaml"
    # keys in their order: Snakemake compares params by their text
    overlay.write_text(yaml.safe_dump(config, sort_keys=False))
    plan = planned_jobs(snakemake(test_run, "--configfile", str(overlay), "-n").stdout)
    rules = {rule for rule, _ in plan}
    # the new flight's own jobs, once each
    for rule, flight in (("synth_flight_T3", ""), ("tile_flight", "T3"),
                         ("simulate_flight", "T3"), ("tile_truth", "T3")):
        assert plan.count((rule, flight)) == 1, (rule, flight)
    # then the library and what it feeds: features, map, clusters, autoencoder, index,
    # every campaign's matches, the classifier and the maps
    assert {"build_library", "normalise_tiles", "fit_som", "cluster_som", "train_autoencoder",
            "build_index", "train_classifier", "evaluate_crevasse"} <= rules
    assert {c for r, c in plan if r == "match_shots"} == {"L2A", "L3I"}
    # nothing of the other flights, and nothing of the campaigns' own shots
    assert not any(f in ("T1", "T2") for _, f in plan)
    assert not rules & {"synth_flight_T1", "synth_flight_T2", "synth_glas", "ingest_glas",
                        "empirical_distributions", "synth_surface_dem"}


def test_changing_one_campaign_reingests_only_that_campaign(test_run, tmp_path):
    test_run = own_copy(test_run, tmp_path)
    granule = next((test_run / "resources/demo/glas/L3I").glob("GLAH01_*.H5"))
    with h5py.File(granule, "r+") as h5:
        h5["Data_40HZ/Waveform/RecWaveform/r_rng_wf"][0, 100] += 0.01
    plan = planned_jobs(snakemake(test_run, "--configfile", str(REPO / "config/test.yaml"),
                                  "-n").stdout)
    assert ("ingest_glas", "L3I") in plan and ("denoise_shots", "L3I") in plan
    assert ("match_shots", "L3I") in plan
    assert ("empirical_distributions", "") in plan
    assert not any(campaign == "L2A" and rule == "ingest_glas" for rule, campaign in plan)
    assert not any(rule == "synth_glas" for rule, _ in plan)


def failed_job_log(workdir: Path, config: Path, rule: str, shard: str) -> str:
    """Run up to ``rule``, which must fail, and return the log of its job ``shard``."""
    result = snakemake(workdir, "--configfile", str(config), "--until", rule, check=False)
    assert result.returncode != 0
    return (workdir / f"logs/{rule}/{shard}.log").read_text()


def write_config(tmp_path: Path, updates: dict) -> Path:
    config = yaml.safe_load((REPO / "config/test.yaml").read_text())
    for section, values in updates.items():
        config.setdefault(section, {}).update(values)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ({"library": {"holdout_share": 1.5}}, "holdout_share"),
        ({"library": {"holdout_shar": 0.2}}, "holdout_shar"),
        ({"dem": {"source": "ftp"}}, "ftp"),
    ],
)
def test_schema_violation_fails_at_start_naming_the_key(tmp_path, updates, message):
    result = snakemake(tmp_path, "--configfile", str(write_config(tmp_path, updates)), "-n",
                       check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_directory_source_with_an_empty_flight_folder_is_named(tmp_path):
    (tmp_path / "dems/EMPTY_FLIGHT").mkdir(parents=True)
    config = write_config(tmp_path, {"dem": {"source": "directory", "dir": "dems"},
                                     "labels": {"source": "file"}})
    result = snakemake(tmp_path, "--configfile", str(config), "-n", check=False)
    assert result.returncode != 0
    assert "EMPTY_FLIGHT: flight folder holds no DEM frames" in result.stdout + result.stderr


def test_a_campaign_without_geolocation_fails_naming_it_and_leaves_no_store(tmp_path):
    from cryolearn.io.glas import product_sample_table, write_glah01

    folder = tmp_path / "glas/L3A"
    folder.mkdir(parents=True)
    n = 4
    write_glah01(folder / "GLAH01_033_2107_003_0211_0_01_0001.H5", rec_ndx=np.zeros(n, int),
                 shot_count=np.arange(1, n + 1), utc_time=np.zeros(n),
                 rec_waveform=np.zeros((n, 544), np.float32), location_index=np.full(n, 4),
                 sample_location_table=product_sample_table(),
                 transmit=np.zeros((n, 48), np.float32), waveform_type=np.ones(n, int),
                 bg_mean=np.zeros(n), bg_sdev=np.zeros(n), gain=np.ones(n, int))
    config = write_config(tmp_path, {"glas": {"source": "directory", "dir": "glas"}})
    log = failed_job_log(tmp_path, config, "ingest_glas", "L3A")
    assert "no GLAH06 or GLAH14 granule for GLAH01 GLAH01_033_2107_003_0211_0_01_0001.H5" in log
    assert not (tmp_path / "results/shots/L3A.zarr").exists()


def test_end_to_end_maps_crevasse_probability_per_year_and_change(test_run):
    labels = yaml.safe_load((test_run / "results/clusters/labels_synthetic_truth.yaml")
                            .read_text())
    clusters = zarr.open_group(str(test_run / "results/clusters/clusters.zarr"), mode="r")
    assert set(labels["labels"]) <= set(range(clusters.attrs["n_clusters"]))
    for campaign in ("L2A", "L3I"):
        shots = zarr.open_group(str(test_run / f"results/crevasse/{campaign}.zarr"), mode="r")
        matches = zarr.open_group(str(test_run / f"results/matches/{campaign}.zarr"), mode="r")
        p = shots["matching_probability"][:]
        assert p.shape == matches["matched"].shape
        np.testing.assert_allclose(p, expected_probability(
            test_run, campaign, test_run / "results/clusters/labels_synthetic_truth.yaml", 1),
            rtol=1e-6)
        assert np.all(np.isnan(p[~matches["matched"][:]]))
        # the published probability is the classifier's (probability.source: classifier)
        classified = zarr.open_group(str(test_run / f"results/classified/{campaign}.zarr"),
                                     mode="r")
        np.testing.assert_array_equal(shots["probability"][:], classified["probability"][:])
        assert shots.attrs["source"] == "classifier"
        k = matches["neighbour"].shape[1]
        assert np.all(shots["n_known"][:] + shots["n_unknown"][:] <= k)
    grid = json.loads((test_run / "results/maps/grid.json").read_text())
    assert grid["cell_m"] == 500.0
    for year in (2003, 2007):
        with rasterio.open(test_run / f"results/maps/crevasse_{year}.tif") as src:
            assert src.crs.to_epsg() == 3413 and src.count == 2 and src.res == (500.0, 500.0)
            assert src.read(2).sum() > 0
    # 2008 has no campaign: an explicit empty map and a warning in the log
    with rasterio.open(test_run / "results/maps/crevasse_2008.tif") as src:
        assert np.isnan(src.read(1)).all() and not src.read(2).any()
    assert "no shot with a probability" in (test_run / "logs/rasterise_year/2008.log").read_text()
    with rasterio.open(test_run / "results/maps/change_2007_2008.tif") as src:
        assert np.isnan(src.read(1)).all()
    with rasterio.open(test_run / "results/maps/change_2003_2007.tif") as src:
        assert np.isfinite(src.read(1)).any()
    scores = json.loads((test_run / "results/eval/crevasse.json").read_text())
    assert set(scores["campaigns"]) == {"L2A", "L3I"}
    assert scores["overall"]["n_shots"] == sum(
        s["n_shots"] for s in scores["campaigns"].values())
    assert set(scores["years"]) == {"2003", "2007", "2008"}
    assert set(scores["changes"]) == {"2003_2007", "2007_2008"}
    # the primary truth, by hand: shots with a probability over at least 10 % open crevasses
    assert scores["primary_truth"] == "open_crevasses"
    open_crevassed = []
    for campaign in ("L2A", "L3I"):
        shots = zarr.open_group(str(test_run / f"results/crevasse/{campaign}.zarr"), mode="r")
        truth = zarr.open_group(str(test_run / f"resources/demo/truth/glas/{campaign}.zarr"),
                                mode="r")
        rows = truth_rows_for_shots(shots, truth)
        scored = np.isfinite(shots["probability"][:])
        open_crevassed.append(truth["open_crevasse_fraction"][:][rows][scored] >= 0.1)
    assert scores["overall"]["crevassed_share"] == pytest.approx(
        np.concatenate(open_crevassed).mean())
    second = scores["zone_classes"]
    assert second["overall"]["n_scored"] == scores["overall"]["n_scored"]
    assert set(second["years"]) == set(scores["years"])
    # the test world's track lies in the interior, up-glacier of the trunk
    regions = scores["regions"]
    assert regions["interior"]["n_shots"] == scores["overall"]["n_shots"]
    assert regions["trunk"]["n_shots"] == 0
    for name in ("crevasse_maps", "crevasse_change", "crevasse_reliability"):
        assert_figure(test_run, name)


def test_end_to_end_trains_the_classifier_on_the_labelled_library_and_scores_it(test_run):
    from cryolearn.crevasse.classify.model import Classifier

    report = json.loads((test_run / "results/eval/classifier_training.json").read_text())
    library = zarr.open_group(str(test_run / "results/library.zarr"), mode="r")
    clusters = zarr.open_group(str(test_run / "results/clusters/clusters.zarr"), mode="r")
    labelled = clusters["tile_label"][:] >= 0
    held_out = library["split"][:] == "holdout"
    # every labelled tile, with both campaigns' pulses, four draws each (a return or two
    # may fall below the leading-edge threshold)
    assert report["n_tiles"] == {"train": int((labelled & ~held_out).sum()),
                                 "holdout": int((labelled & held_out).sum())}
    assert 0.95 * 8 * report["n_tiles"]["train"] <= report["n_examples"]["train"] <= (
        8 * report["n_tiles"]["train"])
    assert report["campaigns"] == ["L2A", "L3I"]
    model = Classifier.load(test_run / "results/models/classifier.pkl")
    assert model.campaigns == ["L2A", "L3I"]
    for campaign in ("L2A", "L3I"):
        classified = zarr.open_group(str(test_run / f"results/classified/{campaign}.zarr"),
                                     mode="r")
        p = classified["probability"][:]
        assert np.isfinite(p).mean() > 0.9 and np.nanmin(p) >= 0 and np.nanmax(p) <= 1
    scores = json.loads((test_run / "results/eval/crevasse.json").read_text())
    matching = scores["methods"]["matching"]
    assert matching["overall"]["n_shots"] == scores["overall"]["n_shots"]
    # one repeat track: one fold; cloud-free shots are the simulator's clear ones
    assert scores["folds"]["n_folds"] == 1
    assert scores["folds"]["all"]["roc_auc"]["per_fold"] == [scores["overall"]["roc_auc"]]
    n_clear = 0
    for campaign in ("L2A", "L3I"):
        shots = zarr.open_group(str(test_run / f"results/crevasse/{campaign}.zarr"), mode="r")
        truth = zarr.open_group(str(test_run / f"resources/demo/truth/glas/{campaign}.zarr"),
                                mode="r")
        n_clear += int((~truth["cloudy"][:][truth_rows_for_shots(shots, truth)]).sum())
    assert scores["cloud_free"]["n_shots"] == n_clear
    # the ablation scores the published classifier and the matches as crevasse.json does
    ablation = json.loads((test_run / "results/eval/crevasse_ablation.json").read_text())
    variants = ablation["variants"]
    assert {"matching", "matching_aligned", "classifier", "classifier_one_pulse",
            "classifier_no_clouds",
            "classifier_along_track", "matching_tile_truth"} <= set(variants)
    for name, published in (("classifier", scores), ("matching", matching)):
        ours = variants[name]["open_crevasses"]["overall"]
        assert ours["roc_auc"] == pytest.approx(published["overall"]["roc_auc"])
        assert ours["n_scored"] == published["overall"]["n_scored"]
    assert variants["classifier"]["deployable"] and not variants["matching_tile_truth"][
        "deployable"]


def test_end_to_end_maps_the_bed_and_scores_every_method_on_held_out_lines(test_run):
    holdout = json.loads((test_run / "results/bedtopo/holdout.json").read_text())
    assert holdout["lines"] and holdout["training_lines"]
    assert not set(holdout["lines"]) & set(holdout["training_lines"])
    scores = json.loads((test_run / "results/eval/bedtopo.json").read_text())
    assert set(scores["methods"]) == {"bedmachine", "deeptoponet", "kriging", "linear"}
    for method, result in scores["methods"].items():
        for reference in ("vs_radar", "vs_truth"):
            line_scores = result["holdout_lines"][reference]
            assert line_scores["n"] > 0 and line_scores["rmse_m"] > 0, (method, reference)
            assert {"mae_m", "r2", "ssim", "psnr_db", "ruggedness_m"} <= set(line_scores)
        assert result["whole_grid"]["vs_truth"]["n"] == scores["regions"]["cells"]["whole_grid"]
    assert [row["method"] for row in scores["rmse_on_holdout_lines"]] == [
        "bedmachine", "deeptoponet", "kriging", "linear"]
    faithful = scores["faithful_protocol"]
    assert faithful["mode"] == "faithful" and "against BedMachine" in faithful["note"]
    assert faithful["vs_bedmachine"]["n"] == faithful["test_patches"] * 16 * 16
    for protocol in ("holdout", "faithful"):
        with rasterio.open(test_run / f"results/bedtopo/deeptoponet_{protocol}.tif") as src:
            assert src.crs.to_epsg() == 3413 and src.count == 2 and src.res == (150.0, 150.0)
            assert np.isfinite(src.read(1)).all() and (src.read(2) > 0).any()
    model = torch.load(test_run / "results/bedtopo/models/deeptoponet_holdout.pt",
                       weights_only=False)
    assert model["holdout_lines"] == holdout["lines"] and len(model["channel_names"]) == 90
    assert "dropped" in (test_run / "logs/bedtopo_inputs/bedtopo_inputs.log").read_text()
    for name in ("bedtopo_maps", "bedtopo_profiles", "bedtopo_training"):
        assert_figure(test_run, name)


def test_end_to_end_clusters_the_climate_year_and_scores_every_method_and_seed(test_run):
    scores = json.loads((test_run / "results/eval/climate.json").read_text())
    assert scores["truth"] and scores["ranked_by"] == "adjusted_rand"
    assert set(scores["methods"]) == {"kmeans", "dsc"} == set(scores["ranking"])
    assert scores["grid"] == [17, 17] and scores["days"] == 60
    for method, result in scores["methods"].items():
        assert [run["seed"] for run in result["per_seed"]] == [0, 1], method
        assert result["summary"]["adjusted_rand"]["n"] == 2
    table = (test_run / "results/eval/climate.md").read_text()
    assert "| kmeans | 2 |" in table and "| dsc | 2 |" in table
    labels = (test_run / "results/climate/labels/dsc.csv").read_text().splitlines()
    assert labels[0] == "date,seed_0,seed_1" and len(labels) == 61
    assert labels[1].startswith("2021-01-01,")
    assert_figure(test_run, "climate_clusters_dsc")
    assert (test_run / "benchmarks/cluster_climate/dsc_seed0.tsv").exists()


def test_report_is_one_self_contained_page(test_run, tmp_path):
    test_run = own_copy(test_run, tmp_path)
    snakemake(test_run, "--configfile", str(REPO / "config/test.yaml"),
              "--report", "results/report.html")
    html = (test_run / "results/report.html").read_text()
    assert "crevasse_maps.png" in html and "crevasse.json" in html
    assert "time-reversed samples" in html  # the method summary of workflow/report/workflow.rst


def test_a_coarse_dem_stops_tiling_naming_the_file_and_leaves_no_store(tmp_path):
    from helpers import write_geotiff
    from rasterio.transform import Affine

    folder = tmp_path / "dems/UTM_FLIGHT"
    folder.mkdir(parents=True)
    write_geotiff(folder / "utm_32m.tif", np.full((40, 40), 700.0, np.float32),
                  Affine(32.0, 0, 500000.0, 0, -32.0, 7680000.0), crs="EPSG:32622")
    (tmp_path / "labels.yaml").write_text("{}\n")  # never read: tiling stops first
    config = write_config(tmp_path, {"dem": {"source": "directory", "dir": "dems"},
                                     "labels": {"source": "file", "file": "labels.yaml"}})
    log = failed_job_log(tmp_path, config, "tile_flight", "UTM_FLIGHT")
    assert "utm_32m.tif: pixels of 32 m x 32 m are coarser than dem.max_pixel_m = 2 m" in log
    assert not (tmp_path / "results/tiles/UTM_FLIGHT.zarr").exists()
    assert not list((tmp_path / "results/tiles").glob("*"))


def test_synthetic_truth_labels_on_real_dems_are_refused_at_start(tmp_path):
    (tmp_path / "dems/FLIGHT").mkdir(parents=True)
    config = write_config(tmp_path, {"dem": {"source": "directory", "dir": "dems"}})
    result = snakemake(tmp_path, "--configfile", str(config), "-n", check=False)
    assert result.returncode != 0
    assert "labels.source synthetic_truth needs a synthetic world" in result.stdout + result.stderr


@pytest.mark.realdata
def test_real_glas_shots_run_to_a_2007_map_without_shot_truth(test_run, tmp_path):
    """config/real_glas.yaml over the test world: the real Jakobshavn shots as L3H."""
    from helpers import shared_data_dir

    real = shared_data_dir() / "glas_jakobshavn"
    if not real.is_dir():
        pytest.skip(f"real GLAS shots not found at {real} (set CRYOLEARN_SHARED_DATA)")
    workdir = own_copy(test_run, tmp_path)  # the synthetic inputs are reused
    here = workdir / "here.yaml"
    here.write_text(yaml.safe_dump({"glas": {"paths": {"L3H": str(real)}}}))
    configs = ["--configfile", str(REPO / "config/test.yaml"),
               str(REPO / "config/real_glas.yaml"), str(here)]
    plan = planned_jobs(snakemake(workdir, *configs, "-n").stdout)
    rules = {rule for rule, _ in plan}
    assert ("ingest_glas", "L3H") in plan
    assert [rule for rule, _ in plan].count("rasterise_year") == 1  # 2007 alone
    # nothing in the plan reads per-shot truth
    assert not rules & {"synth_glas", "evaluate_crevasse", "figure_reliability"}
    snakemake(workdir, *configs)

    shots = zarr.open_group(str(workdir / "results/shots/L3H.zarr"), mode="r")
    assert shots["waveform"].shape == (106, 544) and shots.attrs["report"]["n_kept"] == 106
    # in time order the returns sit late in the record: peaks about 390 ns in
    assert 370 <= np.median(np.argmax(shots["waveform"][:], axis=1)) <= 400
    crevasse = zarr.open_group(str(workdir / "results/crevasse/L3H.zarr"), mode="r")
    matching = crevasse["matching_probability"][:]
    labels_file = workdir / "results/clusters/labels_synthetic_truth.yaml"
    assert matching.shape == (106,)
    np.testing.assert_allclose(matching, expected_probability(workdir, "L3H", labels_file, 1),
                               rtol=1e-6)
    # the classifier, trained for the L3H pulse measured from the real transmit records,
    # gives every real shot with a return a probability
    assert "classify_shots" in rules and "train_classifier" in rules
    classified = zarr.open_group(str(workdir / "results/classified/L3H.zarr"), mode="r")
    assert classified.attrs["trained_for"] == ["L3H"]
    np.testing.assert_array_equal(crevasse["probability"][:], classified["probability"][:])
    assert np.isfinite(classified["probability"][:]).all()
    with rasterio.open(workdir / "results/maps/crevasse_2007.tif") as src:
        assert src.crs.to_epsg() == 3413 and np.isfinite(src.read(1)).any()
    assert_figure(workdir, "matches")


def test_realism_without_real_shots_says_so_and_draws_an_empty_figure(test_run):
    report = json.loads((test_run / "results/eval/realism.json").read_text())
    assert report["skipped"] == ("no real GLAS shots at ../shared/data/glas_jakobshavn: the "
                                 "comparison needs them")
    assert "statistics" not in report
    assert_figure(test_run, "realism")


@pytest.mark.realdata
def test_realism_compares_the_real_jakobshavn_shots_with_the_synthetic_ones(test_run, tmp_path):
    from helpers import shared_data_dir

    from cryolearn.crevasse.evaluate.realism import STATISTICS

    real = shared_data_dir() / "glas_jakobshavn"
    if not real.is_dir():
        pytest.skip(f"real GLAS shots not found at {real} (set CRYOLEARN_SHARED_DATA)")
    workdir = own_copy(test_run, tmp_path)
    here = workdir / "here.yaml"
    here.write_text(yaml.safe_dump({"realism": {"real": [str(real)]}}))
    snakemake(workdir, "results/eval/realism.json", "--configfile",
              str(REPO / "config/test.yaml"), str(here))
    report = json.loads((workdir / "results/eval/realism.json").read_text())
    flags = np.concatenate([zarr.open_group(str(p), mode="r")["elev_use_flg"][:]
                            for p in sorted((workdir / "results/shots").glob("*.zarr"))])
    n_synthetic = int((flags == 0).sum())  # the shots the product flags as cloudy are left out
    assert 0 < n_synthetic < len(flags)
    assert report["n_real"] == 106 and report["n_synthetic_in_band"] == len(flags)
    assert report["n_cloud_flagged"] == len(flags) - n_synthetic
    assert report["n_synthetic"] == n_synthetic
    assert report["real_elevation_m"] == [119.441, 662.665]
    assert report["band_matched"] is False  # the test world lies far above the trunk
    assert len(report["synthetic_shots"]) == n_synthetic
    # the real returns: broad (median RMS width 33 ns) and multi-peaked (median 3 peaks)
    assert report["statistics"]["rms_width_ns"]["real_median"] == pytest.approx(32.99, abs=0.01)
    assert report["statistics"]["n_peaks"]["real_median"] == 3
    assert set(report["statistics"]) == set(STATISTICS)
    assert_figure(workdir, "realism")


def test_full_size_config_plans_the_originals_problem_in_shards(tmp_path):
    """config/scale.yaml: 210 flights of 40 frames, the 19 GLAS campaigns, and a
    per-year map reads that year's campaigns only."""
    from cryolearn.constants import CAMPAIGN_YEARS

    result = snakemake(tmp_path, "--configfile", str(REPO / "config/config.yaml"),
                       str(REPO / "config/scale.yaml"), "-n")
    plan = planned_jobs(result.stdout)
    rules = [rule for rule, _ in plan]
    assert rules.count("tile_flight") == rules.count("simulate_flight") == 210
    assert sum(rule.startswith("synth_flight_") for rule in rules) == 210
    campaigns = {shard for rule, shard in plan if rule == "synth_glas"}
    assert campaigns == set(CAMPAIGN_YEARS) and len(campaigns) == 19
    years = re.findall(r"rule rasterise_year:\n    input: ([^\n]+)\n    output: "
                       r"results/maps/crevasse_(\d{4})\.tif", result.stdout)
    assert len(years) == 7
    for inputs, year in years:
        read = set(re.findall(r"results/crevasse/(\w+)\.zarr", inputs))
        assert read == {c for c, y in CAMPAIGN_YEARS.items() if y == int(year)}
