"""Shared generators of small test data, written in the real formats."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import rasterio
from rasterio.transform import Affine

from cryolearn.crevasse.matching.match import query_vectors
from cryolearn.io.zarrstore import atomic_store, create_group, write_array

DEFAULT_TRANSFORM = Affine(0.45, 0, -190000.0, 0, -0.45, -2280000.0)
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def fact_sample_table() -> np.ndarray:
    """GLAH01's ``rec_wf_sample_location_table``, built here from the product's facts
    (never from cryolearn's code): rows 0 and 2 hold 200 valid entries, 0..-199 ns,
    then fill; rows 1 and 3 are 0..-543 ns; row 4 is 0..-391 ns, then -393.5, -397.5,
    ... in 4 ns steps (carbonplan/trace example_glas_processing.ipynb); fill is the
    largest float64."""
    table = np.full((5, 544), 1.7976931348623157e308)
    table[[0, 2], :200] = -np.arange(200.0)
    table[[1, 3]] = -np.arange(544.0)
    table[4, :392] = -np.arange(392.0)
    table[4, 392:] = -393.5 - 4.0 * np.arange(152)
    return table


def fact_volt_levels() -> np.ndarray:
    """GLAH01's ``volt_table_1`` by its published steps (carbonplan/trace volt_table.csv):
    -0.195279 V, then 0.006675 V a count to count 127, 0.006478 V to 128 and 0.006198 V
    a count to 255 (1.44607 V)."""
    steps = np.r_[0.0, np.full(127, 0.006675), 0.006478, np.full(127, 0.006198)]
    return np.round(-0.195279 + np.cumsum(steps), 6)


def shared_data_dir() -> Path:
    """The real sample data folder (``$CRYOLEARN_SHARED_DATA`` or ``../shared/data``)."""
    return Path(os.environ.get("CRYOLEARN_SHARED_DATA", SHARED_DATA))


def write_geotiff(
    path: Path,
    data: np.ndarray,
    transform: Affine | None = DEFAULT_TRANSFORM,
    crs: str | None = "EPSG:3413",
    nodata: float | None = -32767.0,
) -> Path:
    """Write a single-band GeoTIFF with rasterio (transform or crs may be omitted)."""
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype}
    if transform is not None:
        profile["transform"] = transform
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def ramp_dem(rows: int = 300, cols: int = 320, pixel: float = 0.45) -> tuple[np.ndarray, Affine]:
    """A tilted plane z = 1000 + 0.02 x - 0.01 y (float32) and its transform."""
    transform = Affine(pixel, 0, -190000.0, 0, -pixel, -2280000.0)
    cc, rr = np.meshgrid(np.arange(cols) + 0.5, np.arange(rows) + 0.5)
    x, y = transform @ (cc, rr)
    z = 1000.0 + 0.02 * (x + 190000.0) - 0.01 * (y + 2280000.0)
    return z.astype(np.float32), transform


def plane_tiles(n: int, slope_x: float, slope_y: float = 0.0, size: int = 200,
                pixel: float = 0.5) -> np.ndarray:
    """(n, size, size) float32 tiles of a plane with the given slopes (dz/dx, dz/dy)."""
    c = (np.arange(size) + 0.5 - size / 2) * pixel
    x, y = np.meshgrid(c, -c)
    z = slope_x * x + slope_y * y
    return np.repeat(z[None].astype(np.float32), n, axis=0)


def write_clustering(root: Path, tile_label: np.ndarray, n_clusters: int) -> dict[str, Path]:
    """A library (small tiles), a clusters store and montages, as the pipeline writes them."""
    n = len(tile_label)
    hashes = np.array([f"h{i:04d}" for i in range(n)])
    rng = np.random.default_rng(0)
    library = create_group(root / "library.zarr")
    write_array(library, "elevation", rng.normal(0, 1, (n, 20, 20)).astype(np.float32),
                ("tile", "row", "col"))
    write_array(library, "hash", hashes, ("tile",), dtype=str)
    clusters = create_group(root / "clusters.zarr", {"n_clusters": n_clusters})
    write_array(clusters, "node_label", np.arange(n_clusters, dtype=np.int32), ("node",))
    write_array(clusters, "tile_label", tile_label.astype(np.int32), ("tile",))
    central = np.full((n_clusters, 2), -1, np.int32)
    for c in range(n_clusters):
        members = np.flatnonzero(tile_label == c)[:2]
        central[c, :len(members)] = members
    write_array(clusters, "central_tile", central, ("cluster", "rank"))
    write_array(clusters, "hash", hashes, ("tile",), dtype=str)
    montages = root / "montages"
    montages.mkdir()
    for c in range(n_clusters):
        plt.imsave(montages / f"cluster_{c:04d}.png", rng.random((8, 8)))
    return {"library": root / "library.zarr", "clusters": root / "clusters.zarr",
            "montages": montages}


def write_matches(path: Path, neighbour: np.ndarray, distance: np.ndarray,
                  matched: np.ndarray, x: np.ndarray, y: np.ndarray) -> Path:
    n = len(neighbour)
    group = create_group(path, {"campaign": path.stem})
    write_array(group, "neighbour", neighbour.astype(np.int64), ("shot", "k"))
    write_array(group, "distance", distance.astype(np.float32), ("shot", "k"))
    write_array(group, "matched", matched, ("shot",))
    write_array(group, "x", x, ("shot",))
    write_array(group, "y", y, ("shot",))
    for name in ("lat", "lon", "time"):
        write_array(group, name, np.zeros(n), ("shot",))
    write_array(group, "rec_ndx", np.arange(n, dtype=np.int64), ("shot",))
    write_array(group, "shot_count", np.ones(n, np.int32), ("shot",))
    return path


def result_digests(workdir: Path) -> dict[str, str]:
    """SHA-256 of every file a workflow run wrote under results/ and resources/, by
    path relative to workdir (Snakemake's own timestamp markers left out)."""
    import hashlib

    digests = {}
    for top in ("results", "resources"):
        for path in sorted((workdir / top).rglob("*")):
            if path.is_file() and path.name != ".snakemake_timestamp":
                digests[str(path.relative_to(workdir))] = hashlib.sha256(
                    path.read_bytes()).hexdigest()
    return digests


TIMING_KEY = re.compile(r"seconds|per_second")


def without_timings(value):
    """A loaded JSON, checkpoint or history with measured durations (keys naming
    seconds) left out: they differ between any two runs of the same computation."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items()
                if not (isinstance(k, str) and TIMING_KEY.search(k))}
    if isinstance(value, (list, tuple)):
        return [without_timings(v) for v in value]
    return value


def same_values(a, b) -> bool:
    """Exact equality through dicts, lists, tensors and arrays (NaN equal to NaN)."""
    import torch

    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            same_values(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(
            same_values(x, y) for x, y in zip(a, b, strict=True))
    if torch.is_tensor(a):
        return torch.is_tensor(b) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and a == b


def json_file(path: Path):
    import json

    return json.loads(path.read_text())


def checkpoint_file(path: Path):
    import torch

    return torch.load(path, weights_only=False)


def differing_outputs(run_a: Path, run_b: Path) -> list[str]:
    """Files of two workflow runs whose contents differ, measured durations aside.

    Files are compared byte for byte; where the bytes differ, JSON files and
    PyTorch checkpoints are compared as values without their timing keys, and
    Zarr arrays of timings (``*seconds*``) are left out."""
    a, b = result_digests(run_a), result_digests(run_b)
    differing = sorted(set(a) ^ set(b))
    for path in sorted(set(a) & set(b)):
        if a[path] == b[path] or any(TIMING_KEY.search(part) for part in Path(path).parts):
            continue
        if path.endswith(".json"):
            load = json_file
        elif path.endswith((".pt", ".ckpt")):
            load = checkpoint_file
        else:
            differing.append(path)
            continue
        if not same_values(without_timings(load(run_a / path)),
                           without_timings(load(run_b / path))):
            differing.append(path)
    return differing


def bumps(n: int, m: int = 544, seed: int = 0) -> np.ndarray:
    """Waveform-like rows: two Gaussian bumps of random position, width and height."""
    rng = np.random.default_rng(seed)
    t = np.arange(m)
    out = np.zeros((n, m), np.float32)
    for _ in range(2):
        c = rng.uniform(10, 120, n)[:, None]
        w = rng.uniform(2, 12, n)[:, None]
        out += rng.uniform(0.2, 1, n)[:, None] * np.exp(-0.5 * ((t - c) / w) ** 2)
    return query_vectors(out)


def write_waveform_library(path, waveforms: np.ndarray, holdout_every: int = 5) -> None:
    """A library store of the given waveforms, every ``holdout_every``-th held out."""
    n = len(waveforms)
    split = np.where(np.arange(n) % holdout_every == 0, "holdout", "train").astype(object)
    with atomic_store(path) as tmp:
        group = create_group(tmp)
        write_array(group, "waveform", waveforms, ("tile", "sample"))
        write_array(group, "split", split, ("tile",), dtype=str)
        write_array(group, "hash", np.array([f"h{i:05d}" for i in range(n)], dtype=object),
                    ("tile",), dtype=str)


def blobs(n_per: int, centres: np.ndarray, spread: float, seed: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Gaussian blobs of ``n_per`` points around each centre, and their labels."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([c + spread * rng.normal(size=(n_per, centres.shape[1]))
                        for c in centres]).astype(np.float32)
    return x, np.repeat(np.arange(len(centres)), n_per)


def small_region():
    """A 48 × 48-cell synthetic bed-topography region with two troughs (fast to make)."""
    from cryolearn.synth.bedtopo import RegionSpec

    return RegionSpec(size_px=48, n_troughs=2, cross_line_spacing_m=2000.0,
                      radar_spacing_m=100.0)


#: a DeepTopoNet small enough to train in seconds
TINY_BEDTOPO_MODEL = {"epochs": 2, "batch_size": 8, "widths": [8, 8, 16],
                      "cyclic_step_size_up": 4, "seed": 3}


def tiny_climate():
    """A 40-day synthetic climate on a 3° square with three regimes."""
    from cryolearn.synth.climate import ClimateSpec

    return ClimateSpec(days=40, steps_per_day=2, lat_range=(33.0, 36.0),
                       lon_range=(-33.0, -30.0), n_regimes=3, persistence=0.7, seed=5)


def small_features(days: int = 40):
    """Scaled features of a tiny synthetic climate and its true regimes."""
    from cryolearn.climate.features import climate_features
    from cryolearn.synth.climate import VARIABLES, ClimateSpec, make_climate

    climate = make_climate(ClimateSpec(**{**tiny_climate().__dict__, "days": days,
                                          "steps_per_day": 1}))
    ds = climate.fields.assign_coords(time=climate.dates)
    return climate_features(ds, list(VARIABLES)), climate.regimes
