"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from helpers import shared_data_dir

from cryolearn.climate.evaluate import (
    clustering_scores,
    evaluate_methods,
    markdown_table,
    read_run,
    write_labels,
    write_run,
)
from cryolearn.climate.features import (
    ClimateFeatures,
    climate_features,
    fill_missing,
    min_max_columns,
    pad_frames,
)
from cryolearn.climate.figures import matched_order
from cryolearn.climate.methods import (
    METHODS,
    ClusteringRun,
    method_settings,
    run_method,
    training_for,
)
from cryolearn.climate.models import DSCAutoencoder, FrameEncoder, TemporalAutoencoder
from cryolearn.climate.train import DeepTraining, Samples, fit_deep_clustering
from cryolearn.io.reanalysis import ReanalysisError, read_reanalysis
from cryolearn.nn.clustering import student_t_assignment, target_distribution
from cryolearn.synth.climate import (
    VARIABLES,
    ClimateSpec,
    bulk_fluxes,
    geostrophic_wind,
    make_climate,
    write_climate,
)

TINY = ClimateSpec(days=40, steps_per_day=2, lat_range=(33.0, 36.0), lon_range=(-33.0, -30.0),
                   n_regimes=3, persistence=0.7, seed=5)


def hourly_dataset(lat=(1.0, 0.0), lon=(350.0, 355.0), start="2021-01-01T00",
                   steps=48, name="a", time_name="time") -> xr.Dataset:
    time = pd.date_range(start, periods=steps, freq="h")
    values = np.arange(steps, dtype=np.float64)[:, None, None] * np.ones((1, len(lat), len(lon)))
    return xr.Dataset({name: ((time_name, "latitude", "longitude"), values)},
                      coords={time_name: time, "latitude": list(lat), "longitude": list(lon)})


# ------------------------------------------------------------------ reader
def test_hourly_steps_average_to_days_and_a_partial_day_is_dropped(tmp_path):
    path = tmp_path / "a.nc"
    hourly_dataset(steps=60).to_netcdf(path)  # 2 full days and 12 hours
    ds = read_reanalysis(path, ["a"], lat_range=[0, 1], lon_range=[-10, -5])
    assert ds.sizes["time"] == 2 and ds.attrs["steps_per_day"] == 24
    np.testing.assert_allclose(ds["a"].values[:, 0, 0], [11.5, 35.5])  # mean of 0..23, 24..47
    assert list(ds["longitude"].values) == [-10.0, -5.0]  # 350, 355 °E → −10, −5
    assert list(ds["latitude"].values) == [0.0, 1.0]  # north-first turned increasing


def test_a_region_ending_at_the_antimeridian_reads_from_a_0_to_360_file(tmp_path):
    path = tmp_path / "east.nc"
    hourly_dataset(lon=(170.0, 180.0, 190.0), steps=24).to_netcdf(path)
    ds = read_reanalysis(path, ["a"], lat_range=[0, 1], lon_range=[170, 180])
    assert list(ds["longitude"].values) == [170.0, 180.0]
    with pytest.raises(ReanalysisError, match="antimeridian"):
        read_reanalysis(path, ["a"], lat_range=[0, 1], lon_range=[170, 190])


def test_variables_and_months_split_over_files_are_joined(tmp_path):
    hourly_dataset(name="a", steps=24).to_netcdf(tmp_path / "a_day1.nc")
    hourly_dataset(name="a", start="2021-01-02T00", steps=24).to_netcdf(tmp_path / "a_day2.nc")
    hourly_dataset(name="b", steps=48, time_name="valid_time").to_netcdf(tmp_path / "b.nc")
    ds = read_reanalysis(sorted(tmp_path.glob("*.nc")), ["a", "b"], lat_range=[0, 1],
                         lon_range=[350, 355], period=["2021-01-02", "2021-01-02"])
    assert ds.sizes["time"] == 1
    np.testing.assert_allclose(ds["a"].values[0], 11.5)  # the second file's 0..23
    np.testing.assert_allclose(ds["b"].values[0], 35.5)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"variables": ["z"]}, "no variable ['z']"),
    ({"lat_range": [0, 5]}, "is not inside it"),
    ({"period": ["2030-01-01", "2030-01-02"]}, "no time step"),
])
def test_bad_requests_name_the_file_and_the_problem(tmp_path, kwargs, message):
    path = tmp_path / "a.nc"
    hourly_dataset().to_netcdf(path)
    request = {"variables": ["a"], "lat_range": [0, 1], "lon_range": [-10, -5], **kwargs}
    with pytest.raises(ReanalysisError) as error:
        read_reanalysis(path, request.pop("variables"), **request)
    assert message in str(error.value) and "a.nc" in str(error.value)


def test_missing_and_unreadable_files_are_refused(tmp_path):
    with pytest.raises(ReanalysisError, match="no such file"):
        read_reanalysis(tmp_path / "none.nc", ["a"], lat_range=[0, 1], lon_range=[0, 1])
    (tmp_path / "bad.nc").write_text("not netcdf")
    with pytest.raises(ReanalysisError, match=r"bad\.nc: not a readable NetCDF"):
        read_reanalysis(tmp_path / "bad.nc", ["a"], lat_range=[0, 1], lon_range=[0, 1])


def test_pressure_levels_need_a_level(tmp_path):
    ds = hourly_dataset().expand_dims(level=[500, 850], axis=1)
    ds.to_netcdf(tmp_path / "levels.nc")
    with pytest.raises(ReanalysisError, match=r"levels \[500, 850\]"):
        read_reanalysis(tmp_path / "levels.nc", ["a"], lat_range=[0, 1], lon_range=[-10, -5])
    chosen = read_reanalysis(tmp_path / "levels.nc", ["a"], lat_range=[0, 1],
                             lon_range=[-10, -5], level=850)
    assert chosen["a"].dims == ("time", "latitude", "longitude")


def test_the_real_reanalysis_grid_loads():
    path = shared_data_dir() / "reanalysis" / "eraint_uvz.nc"
    if not path.exists():
        pytest.skip(f"real sample data absent: {path}")
    ds = read_reanalysis(path, ["z", "u", "v"], lat_range=[33, 43], lon_range=[-33, -23],
                         level=500, time_dim="month")
    assert ds.sizes == {"time": 2, "latitude": 14, "longitude": 14}  # 0.75° grid
    assert list(ds["time"].values) == [1, 7]  # months are kept, not averaged
    # 500 hPa geopotential over the Azores: about 5,600–5,900 geopotential metres
    assert 5.4e4 < float(ds["z"].min()) and float(ds["z"].max()) < 5.95e4
    assert float(ds["z"].sel(time=7).mean()) > float(ds["z"].sel(time=1).mean())  # summer
    with pytest.raises(ReanalysisError, match="levels"):
        read_reanalysis(path, ["z"], lat_range=[33, 43], lon_range=[-33, -23], time_dim="month")


# --------------------------------------------------------------- synthetic
def test_synthetic_year_is_era5_shaped_persistent_and_deterministic(tmp_path):
    climate = make_climate(TINY)
    fields = climate.fields
    assert set(fields.data_vars) == set(VARIABLES)
    assert fields.sizes == {"time": 80, "latitude": 13, "longitude": 13}
    assert fields["latitude"].values[0] > fields["latitude"].values[-1]  # north first
    land = np.isnan(fields["sst"].values)
    assert land.any() and (land == land[0]).all()  # islands, the same every step
    assert not any(np.isnan(fields[v].values).any() for v in VARIABLES if v != "sst")
    runs = np.diff(np.flatnonzero(np.diff(climate.regimes)))
    assert runs.mean() > 1.5  # persistent: regimes last days, not one day
    np.testing.assert_array_equal(make_climate(TINY).fields["t2m"].values, fields["t2m"].values)

    path = write_climate(TINY, tmp_path, tmp_path / "truth")
    daily = read_reanalysis(path, list(VARIABLES), lat_range=TINY.lat_range,
                            lon_range=TINY.lon_range)
    assert daily.sizes["time"] == TINY.days
    expected = fields["t2m"].values.reshape(TINY.days, 2, 13, 13).mean(axis=1)
    np.testing.assert_allclose(daily["t2m"].values[:, ::-1], expected, rtol=1e-6)
    truth = pd.read_csv(tmp_path / "truth" / "regimes.csv")
    assert list(truth["regime"]) == list(climate.regimes)


def test_geostrophic_wind_of_a_northward_pressure_rise_is_easterly():
    lat = np.array([40.5, 40.25, 40.0])  # rows north to south
    pressure = np.array([[200.0] * 3, [100.0] * 3, [0.0] * 3])  # rises 100 Pa per row northward
    u, v = geostrophic_wind(pressure, lat, 0.25, friction=1.0, turning_deg=0.0)
    f = 2 * 7.292e-5 * np.sin(np.radians(40.25))
    expected = -(100.0 / (0.25 * 111_195.0)) / (1.2 * f)
    assert u[1, 1] == pytest.approx(expected, rel=1e-3) and expected < 0
    np.testing.assert_allclose(v, 0.0, atol=1e-12)


def test_bulk_fluxes_carry_heat_out_of_a_warmer_sea():
    sensible, latent = bulk_fluxes(np.array([295.0]), np.array([293.0]), np.array([101000.0]),
                                   np.array([5.0]), np.array([0.0]))
    # ρ c_p C_H |U| ΔT = 1.2 · 1005 · 1.2e-3 · 6 · 2 ≈ 17.4 W m⁻², upward (negative in ERA5)
    assert sensible[0] == pytest.approx(-17.37, abs=0.01)
    assert latent[0] < sensible[0] < 0


# ---------------------------------------------------------------- features
def test_missing_values_take_column_or_variable_means_and_columns_scale_to_unit():
    fields = np.arange(2 * 2 * 2 * 2, dtype=np.float32).reshape(2, 2, 2, 2)
    fields[0, 0, 0, 0] = np.nan  # one day missing: the column's mean of the other day
    fields[:, 1, 1, 1] = np.nan  # land in every day: the variable's mean
    filled = fill_missing(fields)
    assert filled[0, 0, 0, 0] == fields[1, 0, 0, 0]
    assert filled[0, 1, 1, 1] == pytest.approx(np.nanmean(fields[:, 1]))
    scaled = min_max_columns(filled.reshape(2, -1))
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert (scaled[:, 7] == 0).all() and (scaled[:, 0] == 0).all()  # constant columns


def test_frames_are_padded_evenly_to_multiples_of_16():
    padded = pad_frames(np.ones((2, 7, 41, 41), np.float32))
    assert padded.shape == (2, 7, 48, 48)
    assert padded[0, 0, 3:44, 3:44].all() and padded[0, 0, :3].sum() == 0
    assert padded[0, 0, 44:].sum() == 0


def test_anomalies_remove_the_seasonal_cycle():
    dates = pd.date_range("2021-01-01", periods=365).to_numpy()
    day = np.arange(365)
    cycle = 290 + 4 * np.cos(2 * np.pi * (day - 200) / 365.25)
    fields = np.broadcast_to(cycle[:, None, None, None], (365, 1, 2, 2)).astype(np.float32)
    features = ClimateFeatures(fields, fields, dates, ["t2m"], np.arange(2.0), np.arange(2.0))
    assert np.abs(features.anomalies()).max() < 0.05


# ------------------------------------------------------- clustering layer
def test_student_t_assignments_sum_to_one_and_the_target_sharpens():
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(50, 4, generator=generator, dtype=torch.float64)
    centres = torch.randn(5, 4, generator=generator, dtype=torch.float64)
    q = student_t_assignment(z, centres)
    torch.testing.assert_close(q.sum(dim=1), torch.ones(50, dtype=torch.float64))
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(dim=1), torch.ones(50, dtype=torch.float64))
    entropy = lambda d: -(d * d.log()).sum(dim=1)  # noqa: E731
    assert (entropy(p) < entropy(q)).all()
    assert (p.max(dim=1).values > q.max(dim=1).values).all()
    # equal distances: uniform assignment
    torch.testing.assert_close(student_t_assignment(torch.zeros(1, 2), torch.eye(2)),
                               torch.full((1, 2), 0.5))


# ---------------------------------------------------------------- networks
def test_dsc_network_has_the_published_shape():
    encoder = FrameEncoder(7)
    widths = [m.out_channels for m in encoder.layers if isinstance(m, torch.nn.Conv2d)]
    pools = [i for i, m in enumerate(encoder.layers) if isinstance(m, torch.nn.MaxPool2d)]
    assert widths == [64, 64, 128, 256, 512] and len(pools) == 4
    model = DSCAutoencoder(7, (48, 48))
    assert model.lstm1.hidden_size == model.lstm2.hidden_size == 512
    assert model.lstm1.input_size == 512 * 3 * 3
    x = torch.rand(2, 3, 7, 48, 48)
    z, decoded = model(x)
    assert z.shape == (2, 256) and ((z > 0) & (z < 1)).all()  # sigmoid latent
    assert decoded.shape == x.shape
    encoder_only = DSCAutoencoder(7, (48, 48), recurrent=False, decoder=False)
    assert encoder_only(x)[1] is None
    with pytest.raises(ValueError, match="multiples of 16"):
        DSCAutoencoder(7, (41, 41))


def test_dtc_autoencoder_restores_its_sequence():
    model = TemporalAutoencoder(7)
    x = torch.rand(3, 1690, 7)
    latent, decoded = model(x)
    assert latent.shape == (3, 169) and decoded.shape == x.shape


def small_features(days: int = 40) -> tuple[ClimateFeatures, np.ndarray]:
    climate = make_climate(ClimateSpec(**{**TINY.__dict__, "days": days, "steps_per_day": 1}))
    ds = climate.fields.assign_coords(time=climate.dates)
    return climate_features(ds, list(VARIABLES)), climate.regimes


def test_dsc_loss_decreases_on_synthetic_data():
    features, _ = small_features()
    samples = Samples(pad_frames(features.scaled), 1, torch.device("cpu"))
    settings = DeepTraining(epochs=6, optimiser="adam", learning_rate=1e-3, update_interval=1000)
    result = fit_deep_clustering(
        lambda: DSCAutoencoder(7, (16, 16), widths=(8, 8, 8, 8, 8), lstm_units=16,
                               latent_dim=8), samples, 3, settings, seed=0)
    totals = [h["total"] for h in result.history]
    assert len(totals) == 6 and totals[-1] < 0.7 * totals[0]
    assert result.assignments.shape == (40, 3)
    np.testing.assert_allclose(result.assignments.sum(axis=1), 1.0, rtol=1e-5)


def test_published_optimiser_leaves_dsc_untrained_and_stops_at_the_tolerance():
    features, _ = small_features()
    samples = Samples(pad_frames(features.scaled), 1, torch.device("cpu"))
    settings = DeepTraining(epochs=5, update_interval=4)  # SGD, lr 1e-7, tolerance 1e-7
    build = lambda: DSCAutoencoder(7, (16, 16), widths=(8, 8, 8, 8, 8),  # noqa: E731
                                   lstm_units=16, latent_dim=8)
    result = fit_deep_clustering(build, samples, 3, settings, seed=0)
    # 4 steps of SGD at 1e-7 change no label: stopped at the second P update, in epoch 0
    assert result.history == []
    torch.manual_seed(0)
    untrained = build().eval().encode(samples.batch(np.arange(40))).detach().numpy()
    np.testing.assert_allclose(result.embedding, untrained, atol=1e-5)


def test_windows_hold_consecutive_days_and_repeat_the_first():
    samples = Samples(np.arange(5, dtype=np.float32)[:, None], 3, torch.device("cpu"))
    batch = samples.batch(np.array([0, 4]))
    assert batch[:, :, 0].tolist() == [[0, 0, 0], [2, 3, 4]]


def tiny_settings() -> dict:
    return {
        "n_clusters": 3, "device": "cpu", "kmeans": {"n_init": 5},
        "dsc": {"architecture": {"widths": [4, 4, 4, 4, 4], "lstm_units": 8, "latent_dim": 4},
                "training": {"epochs": 1, "update_interval": 4}},
        "dsc_windowed": {"window_days": 3},
        "dsc_pretrained": {"training": {"pretrain_epochs": 1, "optimiser": "adam",
                                        "learning_rate": 1e-3}},
        "variants": {"training_like": "dsc_pretrained"},
        "dec": {"dims": [16, 16, 32, 4], "training": {"epochs": 2, "pretrain_epochs": 1,
                                                      "batch_size": 16, "update_interval": 4}},
        "dtc": {"filters": 4, "units": [4, 1], "training": {"epochs": 1, "pretrain_epochs": 1,
                                                            "batch_size": 16}},
    }


def test_every_method_clusters_the_same_days_and_is_scored_on_the_same_features():
    features, truth = small_features(30)
    # each method gets only its part of the config, as the workflow passes it
    runs = {name: [run_method(name, features, method_settings(name, tiny_settings()), seed=1)]
            for name in METHODS}
    for name, (run,) in runs.items():
        assert run.labels.shape == (30,) and run.labels.min() >= 0 and run.labels.max() < 3, name
        assert (run.embedding is None) == (name in ("kmeans", "agglomerative")), name
    results = evaluate_methods(features.table, runs, truth)
    assert set(results) == set(METHODS)
    for name in ("kmeans", "agglomerative"):
        assert results[name]["per_seed"][0]["adjusted_rand"] > 0.1, name  # chance: 0
    again = run_method("dsc_windowed", features, tiny_settings(), seed=1)
    np.testing.assert_array_equal(again.labels, runs["dsc_windowed"][0].labels)  # seeded


def test_training_recipes_are_the_published_ones_with_overrides():
    settings = tiny_settings()
    assert training_for("dsc", {}) == DeepTraining()
    dec = training_for("dec", settings)
    assert (dec.learning_rate, dec.batch_size, dec.reconstruction_weight) == (0.01, 16, 0.0)
    variant = training_for("cnn_encoder", settings)
    assert variant.optimiser == "adam" and variant.epochs == 1
    with pytest.raises(ValueError, match=r"climate\.dec\.training"):
        training_for("dec", {"dec": {"training": {"epoch": 3}}})


# -------------------------------------------------------------- evaluation
def test_scores_know_the_answers():
    rng = np.random.default_rng(0)
    centres = np.repeat(np.eye(3)[:2], 20, axis=0)
    blobs = centres + rng.normal(0, 0.1, (40, 3))
    truth = np.repeat([0, 1], 20)
    perfect = clustering_scores(blobs, 1 - truth, truth)  # labels permuted: still perfect
    assert perfect["adjusted_rand"] == pytest.approx(1.0) and perfect["nmi"] == pytest.approx(1.0)
    assert perfect["silhouette"] > 0.8 and perfect["davies_bouldin"] < 0.3
    single = clustering_scores(blobs, np.zeros(40, int), truth)
    assert single["silhouette"] is None and single["adjusted_rand"] == 0.0
    runs = {"good": [ClusteringRun("good", s, truth) for s in (0, 1, 2)],
            "bad": [ClusteringRun("bad", s, rng.integers(0, 2, 40)) for s in (0, 1, 2)]}
    results = evaluate_methods(blobs, runs, truth)
    assert results["good"]["summary"]["adjusted_rand"] == {"mean": 1.0, "std": 0.0, "n": 3}
    table = markdown_table(results, "adjusted_rand")
    assert table.index("| good") < table.index("| bad") and "1.000 ± 0.000" in table


def test_runs_and_labels_round_trip(tmp_path):
    dates = pd.date_range("2021-01-01", periods=4).to_numpy()
    run = ClusteringRun("dsc", 2, np.array([0, 1, 1, 2]), np.ones((4, 3), np.float32),
                        ({"phase": "joint", "epoch": 0, "total": 0.5},))
    write_run(run, dates, tmp_path / "run.nc")
    back = read_run(tmp_path / "run.nc")
    assert (back.method, back.seed, back.history) == ("dsc", 2, run.history)
    np.testing.assert_array_equal(back.labels, run.labels)
    other = ClusteringRun("dsc", 5, np.array([1, 1, 0, 0]))
    write_labels([run, other], dates, tmp_path / "dsc.csv", tmp_path / "dsc.nc")
    table = pd.read_csv(tmp_path / "dsc.csv")
    assert list(table.columns) == ["date", "seed_2", "seed_5"]
    assert table["date"][0] == "2021-01-01" and list(table["seed_5"]) == [1, 1, 0, 0]
    with xr.open_dataset(tmp_path / "dsc.nc") as ds:
        assert ds["label"].dims == ("seed", "time") and list(ds["seed"].values) == [2, 5]


def test_clusters_are_ordered_by_their_matching_regime():
    truth = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([2, 2, 0, 0, 1, 1])
    order, match = matched_order(labels, truth)
    assert order == [2, 0, 1] and match == {2: 0, 0: 1, 1: 2}


def test_zero_padding_changes_no_score():
    """DSC pads its frames with zeros: constant columns, so the padded features score the
    same as the like-for-like table (the paper's gap between DSC and the baselines cannot
    come from padding)."""
    features, truth = small_features(30)
    labels = np.arange(30) % 3
    padded = pad_frames(features.scaled).reshape(30, -1)
    assert padded.shape[1] > features.table.shape[1]
    on_table = clustering_scores(features.table, labels, truth)
    on_padded = clustering_scores(padded, labels, truth)
    for name in ("silhouette", "davies_bouldin", "calinski_harabasz"):
        assert on_padded[name] == pytest.approx(on_table[name], rel=1e-5), name
