"""Bed topography: readers, synthetic region, DeepTopoNet pieces, baselines, metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import shared_data_dir

from cryolearn.bedtopo.baselines import KrigingSettings, kriging_bed, linear_bed
from cryolearn.bedtopo.data import (
    INPUT_FIELDS,
    choose_holdout,
    grid_radar,
    load_radar,
    prepare_inputs,
)
from cryolearn.bedtopo.features import build_features, feature_stack
from cryolearn.bedtopo.loss import EPSILON, balanced_loss
from cryolearn.bedtopo.metrics import grid_metrics, point_metrics, ruggedness_map
from cryolearn.bedtopo.model import BedTopoCNN
from cryolearn.bedtopo.train import (
    TrainingSettings,
    patch_origins,
    predict_grid,
    train_bedtopo,
    training_targets,
)
from cryolearn.io.grids import (
    GridError,
    GridSpec,
    align_field,
    read_bedmachine,
    read_field,
    write_grid_netcdf,
)
from cryolearn.io.radar import RadarError, read_cresis_csv, read_radar_files, write_cresis_csv
from cryolearn.io.raster import write_geotiff
from cryolearn.synth.bedtopo import RegionSpec, make_region, write_region

RADAR_DIR = shared_data_dir() / "cresis_greenland"
SMALL = RegionSpec(size_px=48, n_troughs=2, cross_line_spacing_m=2000.0, radar_spacing_m=100.0)
TINY_MODEL = {"epochs": 2, "batch_size": 8, "widths": [8, 8, 16], "cyclic_step_size_up": 4,
              "seed": 3}


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    root = tmp_path_factory.mktemp("bedtopo")
    return write_region(SMALL, root / "out", root / "truth")


@pytest.fixture(scope="module")
def inputs(region):
    fields = {name: {"path": str(region[name])} for name in ("smb", "dhdt", "vx", "vy")}
    radar = sorted(region["radar"].glob("*.csv"))
    return prepare_inputs(region["bedmachine"], fields, radar)


# ------------------------------------------------------------------ features
def test_features_are_90_channels_of_fields_gradients_and_repeated_trends():
    rng = np.random.default_rng(0)
    fields = rng.normal(size=(5, 20, 24)) * np.arange(1, 6)[:, None, None] + 7
    stack, names = feature_stack(fields, "repeated")
    assert stack.shape == (90, 20, 24) and len(names) == 90
    assert names[:5] == list(INPUT_FIELDS)
    np.testing.assert_array_equal(stack[:5], fields)
    d_dy, d_dx = np.gradient(fields[2])
    np.testing.assert_allclose(stack[5 + 2 * 2], d_dy)
    np.testing.assert_allclose(stack[5 + 2 * 2 + 1], d_dx)
    assert names[9] == "delevation/dy" and names[10] == "delevation/dx"
    y, x = np.mgrid[0:20, 0:24].astype(float)
    for k, term in enumerate([x, y, x * x, x * y, y * y]):
        for copy in range(15):
            np.testing.assert_array_equal(stack[15 + 5 * copy + k], term)
    standardised, names, _ = build_features(fields, "repeated")
    np.testing.assert_allclose(standardised.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(standardised.std(axis=(1, 2)), 1, atol=1e-4)
    once, once_names, _ = build_features(fields, "once")
    assert once.shape[0] == 20 and once_names[15:] == [f"trend:{t}" for t in
                                                       ("x", "y", "x2", "xy", "y2")]
    np.testing.assert_array_equal(once[15:], standardised[15:20])


# ---------------------------------------------------------------------- loss
def _loss_inputs(seed=0, factor=1):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, 1, 8 * factor, 8 * factor, generator=g, dtype=torch.float64,
                       requires_grad=True)
    bed = torch.randn(2, 1, 8, 8, generator=g, dtype=torch.float64)
    radar = torch.randn(2, 1, 8 * factor, 8 * factor, generator=g, dtype=torch.float64)
    radar_mask = torch.rand(2, 1, 8 * factor, 8 * factor, generator=g) < 0.2
    bed_mask = torch.rand(2, 1, 8, 8, generator=g) < 0.7
    return pred, bed, bed_mask, radar, radar_mask


@pytest.mark.parametrize("detach", [False, True])
def test_gamma_loss_is_twice_the_product_over_the_sum(detach):
    pred, bed, bed_mask, radar, radar_mask = _loss_inputs()
    terms = balanced_loss(pred, bed, bed_mask, radar, radar_mask, detach=detach)
    lr = float(((pred.detach() - radar)[radar_mask] ** 2).mean())
    lb = float(((pred.detach() - bed)[bed_mask] ** 2).mean())
    assert float(terms.radar) == pytest.approx(lr)
    assert float(terms.bedmachine) == pytest.approx(lb)
    assert float(terms.total) == pytest.approx(2 * lr * lb / (lr + lb + EPSILON))
    assert float(terms.gamma_radar) == pytest.approx(lb / (lr + lb + EPSILON))


@pytest.mark.parametrize("detach", [False, True])
def test_gradient_flows_through_gamma_only_when_not_detached(detach):
    pred, bed, bed_mask, radar, radar_mask = _loss_inputs(1)
    terms = balanced_loss(pred, bed, bed_mask, radar, radar_mask, detach=detach)
    terms.total.backward()
    lr, lb = float(terms.radar), float(terms.bedmachine)
    s = lr + lb + EPSILON
    # dT/dL_r: with γ live, 2 L_b (L_b + ε) / S²; detached, γ_r = L_b / S
    d_lr = lb / s if detach else 2 * lb * (lb + EPSILON) / s**2
    d_lb = lr / s if detach else 2 * lr * (lr + EPSILON) / s**2
    expected = (d_lr * 2 * (pred - radar) * radar_mask / radar_mask.sum()
                + d_lb * 2 * (pred - bed) * bed_mask / bed_mask.sum())
    np.testing.assert_allclose(pred.grad.numpy(), expected.detach().numpy(), rtol=1e-9,
                               atol=1e-12)


def test_a_batch_without_radar_pixels_teaches_nothing():
    pred, bed, bed_mask, radar, _ = _loss_inputs(2)
    terms = balanced_loss(pred, bed, bed_mask, radar, torch.zeros_like(bed_mask))
    assert float(terms.radar) == 0 and float(terms.total) == 0


def test_subgrid_loss_compares_block_means_with_bedmachine():
    pred, bed, bed_mask, radar, radar_mask = _loss_inputs(3, factor=2)
    terms = balanced_loss(pred, bed, bed_mask, radar, radar_mask)
    coarse = pred.detach().reshape(2, 1, 8, 2, 8, 2).mean(dim=(3, 5))
    assert float(terms.bedmachine) == pytest.approx(float(((coarse - bed)[bed_mask] ** 2).mean()))


# --------------------------------------------------------------------- model
@pytest.mark.parametrize("shape", [(16, 16), (33, 47)])
def test_residual_model_keeps_the_spatial_size(shape):
    model = BedTopoCNN(90).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 90, *shape)).shape == (2, 1, *shape)
        sub = BedTopoCNN(20, upscale=3).eval()
        assert sub(torch.zeros(1, 20, *shape)).shape == (1, 1, 3 * shape[0], 3 * shape[1])


def test_model_has_the_original_blocks():
    model = BedTopoCNN(90)
    blocks = list(model.blocks)
    assert len(blocks) == 5
    assert [b.body[0].out_channels for b in blocks] == [32, 64, 128, 128, 256]
    assert all(isinstance(b.body[3], torch.nn.Dropout2d) and b.body[3].p == 0.2 for b in blocks)
    assert model.head.kernel_size == (1, 1) and model.head.out_channels == 1
    assert not any(isinstance(m, torch.nn.modules.pooling._MaxPoolNd) for m in model.modules())


# ----------------------------------------------------------------- baselines
def _smooth_field(x, y):
    return 300 * np.sin(x / 4000.0) + 200 * np.cos(y / 5000.0) + 0.01 * x


def test_kriging_reproduces_a_known_field_at_data_points_and_between_lines():
    grid = GridSpec.from_bounds((0, 0, 12_000, 12_000), 200.0)
    gx, gy = np.meshgrid(grid.x, grid.y)
    lines = np.zeros(grid.shape, dtype=bool)
    lines[::10, :] = True
    lines[:, ::10] = True
    x, y = gx[lines], gy[lines]
    values = _smooth_field(x, y)
    settings = KrigingSettings(max_points=len(values), exact=True, max_lag_m=8000.0)
    estimate, sd, variogram = kriging_bed(x, y, values, grid, settings)
    np.testing.assert_allclose(estimate[lines], values, atol=1e-3)
    assert np.all(sd[lines] < 1e-2)
    truth = _smooth_field(gx, gy)
    assert np.sqrt(np.mean((estimate - truth)[~lines] ** 2)) < 0.02 * np.ptp(truth)
    assert variogram.r2 > 0.9


def test_linear_interpolation_is_exact_on_a_plane():
    grid = GridSpec.from_bounds((0, 0, 3000, 3000), 150.0)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-500, 3500, 200), rng.uniform(-500, 3500, 200)
    estimate = linear_bed(x, y, 2.0 * x - 0.5 * y + 10, grid)
    gx, gy = np.meshgrid(grid.x, grid.y)
    np.testing.assert_allclose(estimate, 2.0 * gx - 0.5 * gy + 10, atol=1e-3)


# ------------------------------------------------------------------- metrics
def test_metrics_known_answers():
    reference = np.array([0.0, 1.0, 2.0, 3.0])
    scores = point_metrics(reference + np.array([1.0, -1.0, 1.0, -1.0]), reference)
    assert scores["mae_m"] == 1 and scores["rmse_m"] == 1 and scores["bias_m"] == 0
    assert scores["r2"] == pytest.approx(1 - 4 / 5)
    plane = np.tile(np.arange(10.0) * 3.0, (10, 1))
    assert ruggedness_map(plane)[5, 5] == pytest.approx(3.0 * np.sqrt(6))
    region = np.zeros_like(plane, dtype=bool)
    region[2:8, 2:8] = True
    same = grid_metrics(plane, plane, region)
    assert same["rmse_m"] == 0 and same["ssim"] == pytest.approx(1.0)
    assert same["ruggedness_m"] == same["ruggedness_reference_m"]


# ------------------------------------------------------------------- readers
def test_bedmachine_missing_variable_names_file_and_variable(tmp_path):
    grid = GridSpec.from_bounds((0, 0, 1500, 1500), 150.0)
    path = tmp_path / "bm.nc"
    write_grid_netcdf(path, grid, {"bed": np.zeros(grid.shape, np.float32)})
    with pytest.raises(GridError, match=r"bm\.nc.*\['surface', 'thickness'"):
        read_bedmachine(path)


def test_bedmachine_on_another_crs_is_refused(tmp_path):
    grid = GridSpec(np.arange(5) * 150.0, 1000 - np.arange(5) * 150.0, "EPSG:3031")
    path = tmp_path / "antarctic.nc"
    write_grid_netcdf(path, grid, {"bed": np.zeros(grid.shape, np.float32)})
    with pytest.raises(GridError, match=r"antarctic\.nc: grid is in EPSG:3031"):
        read_bedmachine(path, variables=("bed",))


def test_bedmachine_with_increasing_y_is_turned_north_up(tmp_path):
    grid = GridSpec.from_bounds((0, 0, 600, 900), 150.0)
    values = np.arange(24, dtype=np.float32).reshape(grid.shape)
    path = tmp_path / "bm.nc"
    write_grid_netcdf(path, GridSpec(grid.x, grid.y[::-1]), {"bed": values[::-1]})
    read_grid, out = read_bedmachine(path, variables=("bed",))
    np.testing.assert_array_equal(read_grid.y, grid.y)
    np.testing.assert_array_equal(out["bed"], values)


def test_coarser_field_is_resampled_and_a_short_one_refused(tmp_path):
    target = GridSpec.from_bounds((0, 0, 3000, 3000), 150.0)
    coarse = GridSpec.from_bounds((-2000, -2000, 5000, 5000), 1000.0)
    cx, cy = np.meshgrid(coarse.x, coarse.y)
    path = tmp_path / "smb.nc"
    write_grid_netcdf(path, coarse, {"smb": (0.001 * cx + 0.002 * cy).astype(np.float32)})
    source, values = read_field(path, variable="smb")
    aligned = align_field(values, source, target, name="smb", path=path)
    tx, ty = np.meshgrid(target.x, target.y)
    np.testing.assert_allclose(aligned, 0.001 * tx + 0.002 * ty, atol=1e-3)
    short = GridSpec.from_bounds((0, 0, 2000, 2000), 150.0)
    tif = tmp_path / "dhdt.tif"
    write_geotiff(tif, [np.ones(short.shape, np.float32)], transform=short.transform,
                  crs="EPSG:3413", nodata=np.nan)
    with pytest.raises(GridError, match=r"dhdt\.tif: field 'dhdt' leaves \d+ of 400 cells"):
        align_field(*reversed(read_field(tif)), target, name="dhdt", path=tif)


def test_field_on_another_crs_is_reprojected(tmp_path):
    target = GridSpec.from_bounds((-300_000, -1_800_000, -297_000, -1_797_000), 150.0)
    from rasterio.warp import transform as warp

    (cx,), (cy,) = warp("EPSG:3413", "EPSG:32622", [-298_500.0], [-1_798_500.0])
    x0, y0 = round(cx, -3), round(cy, -3)
    utm = GridSpec.from_bounds((x0 - 15_000, y0 - 15_000, x0 + 15_000, y0 + 15_000), 500.0,
                               "EPSG:32622")
    tif = tmp_path / "vx_utm.tif"
    write_geotiff(tif, [np.full(utm.shape, 42.0, np.float32)], transform=utm.transform,
                  crs=utm.crs, nodata=np.nan)
    source, values = read_field(tif)
    assert source.crs == "EPSG:32622"
    np.testing.assert_allclose(align_field(values, source, target, name="vx", path=tif), 42.0)


def test_netcdf_field_without_crs_needs_one(tmp_path):
    import xarray as xr

    path = tmp_path / "nocrs.nc"
    xr.Dataset({"smb": (("y", "x"), np.zeros((3, 4)))},
               coords={"x": np.arange(4) * 150.0, "y": 450 - np.arange(3) * 150.0}
               ).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(GridError, match=r"nocrs\.nc: no coordinate reference system"):
        read_field(path, variable="smb")
    grid, _ = read_field(path, variable="smb", crs="EPSG:3413")
    assert grid.crs == "EPSG:3413"
    with pytest.raises(GridError, match="variable 'dhdt' missing"):
        read_field(path, variable="dhdt")


def _write_csv(path, thickness):
    n = len(thickness)
    write_cresis_csv(path, lat=np.full(n, 72.9), lon=np.linspace(-54.5, -54.4, n),
                     seconds_of_day=np.arange(n, dtype=float), thickness=np.asarray(thickness),
                     aircraft=np.full(n, 1500.0), frame="2014042601001",
                     surface=np.full(n, 1000.0), quality=np.ones(n))


def test_cresis_csv_round_trip_and_missing_picks(tmp_path):
    _write_csv(tmp_path / "a.csv", [800.0, np.nan, 812.5])
    points = read_cresis_csv(tmp_path / "a.csv")
    np.testing.assert_array_equal(points.thickness, [800.0, np.nan, 812.5])
    assert list(points.line) == ["2014042601001"] * 3
    np.testing.assert_allclose(points.surface, 1000.0)


def test_cresis_csv_bad_input_names_file_and_problem(tmp_path):
    _write_csv(tmp_path / "neg.csv", [800.0, -5.0])
    with pytest.raises(RadarError, match=r"neg\.csv: 1 traces with negative ice thickness"):
        read_cresis_csv(tmp_path / "neg.csv")
    (tmp_path / "cols.csv").write_text("LAT,LON,THICK\n72.9,-54.5,800\n")
    with pytest.raises(RadarError, match=r"cols\.csv: neither a CReSIS CSV"):
        read_radar_files([tmp_path / "cols.csv"])


def test_radar_outside_the_grid_is_counted_and_dropped(region):
    grid, _ = read_bedmachine(region["bedmachine"], variables=("bed",))
    radar = sorted(region["radar"].glob("*.csv"))
    points, counts = load_radar(radar, grid)
    assert counts["dropped_outside_grid"] > 0
    assert counts["traces_used"] == len(points)
    assert (counts["traces_read"] == counts["traces_used"] + counts["dropped_outside_grid"]
            + counts["dropped_without_pick"])
    _, _, inside = grid.cell_of(points.x, points.y)
    assert inside.all() and np.isfinite(points.thickness).all()


@pytest.mark.realdata
@pytest.mark.skipif(not RADAR_DIR.is_dir(), reason="../shared/data/cresis_greenland absent")
def test_real_radar_files_load_with_documented_thickness():
    files = sorted(RADAR_DIR.glob("*_rsr.txt"))
    points = read_radar_files(files)
    assert len(points) == 1042
    # the frames cross the Northwest Outlet Glaciers: 390-1740 m of ice (README: h1, m)
    assert 390 < np.nanmin(points.thickness) and np.nanmax(points.thickness) < 1750
    assert set(points.line) == {"NOG_20140426_01_041", "NOG_20140426_01_042"}
    assert -350e3 < points.x.min() and points.x.max() < -310e3
    assert -1.59e6 < points.y.min() and points.y.max() < -1.49e6


# ----------------------------------------------------------- synthetic region
def test_synthetic_region_has_troughs_fast_flow_and_a_bedmachine_worse_far_from_radar(region):
    grid, product = read_bedmachine(region["bedmachine"])
    _, truth = read_bedmachine(region["truth"], variables=("bed", "surface", "thickness"))
    assert grid.shape == (48, 48) and grid.cell_m == 150.0
    assert set(product) == {"bed", "surface", "thickness", "errbed", "mask", "source"}
    true_region = make_region(SMALL)
    speed = np.hypot(true_region.vx, true_region.vy)
    assert speed[true_region.trough > 0.5].mean() > 3 * speed[true_region.trough < 0.1].mean()
    assert truth["bed"][true_region.trough > 0.5].mean() < truth["bed"].mean() - 300
    assert np.corrcoef(product["errbed"][product["mask"] == 2],
                       _distance(grid, region)[product["mask"] == 2])[0, 1] > 0.8


def _distance(grid, region):
    from cryolearn.io.grids import distance_to_radar

    points = read_radar_files(sorted(region["radar"].glob("*.csv")))
    return distance_to_radar(grid, points.x, points.y)


def test_synthetic_bedmachine_is_sharp_on_radar_lines_and_smooth_and_biased_between():
    from cryolearn.io.grids import distance_to_radar
    from cryolearn.synth.bedtopo import bedmachine_like

    spec = RegionSpec(size_px=120)
    true_region = make_region(spec)
    product = bedmachine_like(spec, true_region, np.random.default_rng(0))
    x = np.concatenate([line["x"] for line in true_region.lines])
    y = np.concatenate([line["y"] for line in true_region.lines])
    distance = distance_to_radar(true_region.grid, x, y)
    error = np.abs(product["bed"] - true_region.bed)[product["mask"] == 2]
    distance = distance[product["mask"] == 2]
    assert error[distance >= 2000].mean() > 2.5 * error[distance == 0].mean()
    assert error[distance == 0].mean() < 50


# ----------------------------------------------------------------- training
def test_holdout_targets_exclude_the_held_out_lines_and_their_buffer(inputs):
    holdout = choose_holdout(inputs, share=0.3, buffer_m=300.0, seed=1)
    settings = TrainingSettings(radar_target="radar")
    targets = training_targets(inputs, settings, holdout)
    excluded = holdout.excluded_cells(inputs.grid, inputs)
    assert excluded.any()
    assert not (targets.radar_mask & excluded).any()
    assert not (targets.bedmachine_mask & excluded).any()
    assert not (targets.bedmachine_mask & targets.radar_mask).any()
    every = training_targets(inputs, settings, None)
    assert every.radar_mask.sum() > targets.radar_mask.sum()
    held = holdout.held_out_traces(inputs)
    radar = grid_radar(inputs.grid, inputs.radar.x[held], inputs.radar.y[held],
                       inputs.radar_bed()[held], inputs.radar_line[held])
    assert (every.radar_mask & radar.has_radar).any()


def test_patches_cover_the_grid_when_asked():
    origins = patch_origins((40, 37), 16, 8, cover=True)
    covered = np.zeros((40, 37), dtype=bool)
    for r, c in origins:
        covered[r:r + 16, c:c + 16] = True
    assert covered.all()
    assert len(patch_origins((40, 37), 16, 8)) == 4 * 3


def test_training_resumes_from_its_checkpoint_to_the_same_model(inputs, tmp_path):
    settings = TrainingSettings.from_config(TINY_MODEL)
    whole = train_bedtopo(inputs, settings, protocol="faithful", device="cpu", progress=False)
    ckpt = tmp_path / "bedtopo.ckpt"
    first = train_bedtopo(inputs, settings, protocol="faithful", checkpoint=ckpt, device="cpu",
                          progress=False, stop_after_epochs=1)
    assert len(first.history) == 1
    resumed = train_bedtopo(inputs, settings, protocol="faithful", checkpoint=ckpt,
                            device="cpu", progress=False)
    assert len(resumed.history) == 2
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(),
                    strict=True):
        torch.testing.assert_close(a, b)
    assert settings.mode == "faithful"
    bed, spread = predict_grid(whole, inputs.fields, device="cpu", mc_samples=3)
    assert bed.shape == inputs.grid.shape and np.isfinite(bed).all()
    assert (spread > 0).mean() > 0.9


def test_subgrid_model_trains_and_predicts_a_finer_grid(inputs):
    settings = TrainingSettings.from_config({**TINY_MODEL, "epochs": 1, "subgrid_factor": 2,
                                             "radar_target": "radar", "trend": "once",
                                             "detach_gamma": True})
    holdout = choose_holdout(inputs, share=0.3, buffer_m=300.0, seed=1)
    run = train_bedtopo(inputs, settings, protocol="holdout", holdout=holdout, device="cpu",
                        progress=False)
    assert settings.mode == "modified" and len(run.channel_names) == 20
    bed, spread = predict_grid(run, inputs.fields, device="cpu")
    assert bed.shape == (96, 96) and spread is None
    with pytest.raises(ValueError, match="holdout protocol needs held-out lines"):
        train_bedtopo(inputs, settings, protocol="holdout", device="cpu", progress=False)
