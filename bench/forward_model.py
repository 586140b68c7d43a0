"""Forward-model benchmarks: ours against the original way, side by side in one process.

(a) kernel: our compiled batch kernel against a per-tile loop calling a
    vectorised NumPy histogram (the straightforward reference);
(b) the whole step as a user runs it: tiles from the Zarr shard to waveforms in
    the Zarr shard, against the original's way (every tile written as its own
    GeoTIFF named by its hash, read back one by one and simulated);
(c) tiling throughput from DEM frames, against GDAL warping (rasterio) and a
    Python loop over windows.

Run:  python bench/forward_model.py [--tiles 10000] [--step-tiles 2000]
Per-core numbers: numba runs on one thread.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import numba
import numpy as np
import rasterio
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject

from cryolearn.constants import BIN_M, LEAD_NS, N_SAMPLES
from cryolearn.crevasse.library.forward import gaussian_pulse, simulate_store, simulate_waveforms
from cryolearn.crevasse.library.tiles import tile_flight, tile_hash
from cryolearn.footprint import footprint_weights
from cryolearn.io.zarrstore import append, atomic_store, create_array, create_group
from cryolearn.synth.flights import FlightSpec, write_flight
from cryolearn.synth.world import SyntheticWorld, WorldParams


def realistic_tiles(n: int, seed: int = 0) -> np.ndarray:
    """``n`` 200 x 200 tiles cut at random from a 1.5 km x 1 km patch of the world."""
    world = SyntheticWorld(WorldParams())
    x0, y0 = world.params.origin_x_m + 4000, world.params.origin_y_m + 6000
    c = np.arange(0, 1500, 0.5)
    r = np.arange(0, 1000, 0.5)
    z = np.empty((len(r), len(c)), np.float32)
    for i in range(0, len(r), 250):
        xx, yy = np.meshgrid(x0 + c, y0 + r[i : i + 250])
        z[i : i + 250] = world.evaluate(xx, yy, 2009.0)[0]
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, z.shape[0] - 200, n)
    cols = rng.integers(0, z.shape[1] - 200, n)
    tiles = np.stack([z[a : a + 200, b : b + 200] for a, b in zip(rows, cols, strict=True)])
    return tiles - tiles.mean(axis=(1, 2), keepdims=True)


def reference_waveform(tile: np.ndarray, weights: np.ndarray, pulse: np.ndarray) -> np.ndarray:
    """The straightforward way: one tile at a time, np.histogram, np.convolve."""
    depth_bins = (tile.max() - tile) / BIN_M + LEAD_NS
    hist, _ = np.histogram(depth_bins, bins=N_SAMPLES, range=(0, N_SAMPLES), weights=weights)
    return np.convolve(hist, pulse, mode="same").astype(np.float32)


def per_pixel_waveform(tile: np.ndarray, weights: np.ndarray, pulse: np.ndarray) -> np.ndarray:
    """The original notebooks' way: a Python loop over the pixels of one tile."""
    hist = [0.0] * N_SAMPLES
    zmax = float(tile.max())
    rows, cols = tile.shape
    for i in range(rows):
        for j in range(cols):
            b = int((zmax - float(tile[i, j])) / BIN_M + LEAD_NS)
            if b < N_SAMPLES:
                hist[b] += float(weights[i, j])
    return np.convolve(np.array(hist), pulse, mode="same").astype(np.float32)


def timed(fn, *args, repeat: int = 1, **kwargs):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, out


def row(name: str, n: int, ours_s: float, ref_s: float, unit: str = "tiles") -> str:
    return (f"| {name} | {n} | {n / ours_s:,.0f} {unit}/s | {n / ref_s:,.0f} {unit}/s | "
            f"{ref_s / ours_s:,.1f}x |")


def bench_kernel(tiles: np.ndarray) -> list[str]:
    weights = footprint_weights(200)
    pulse = gaussian_pulse()
    simulate_waveforms(tiles[:8])  # compile outside the timing
    simulate_waveforms(tiles[:8], binning="nearest")
    t_ref, ref = timed(lambda: np.stack([reference_waveform(t, weights, pulse) for t in tiles]))
    t_near, near = timed(simulate_waveforms, tiles, binning="nearest", repeat=3)
    t_lin, _ = timed(simulate_waveforms, tiles, repeat=3)
    t_np, _ = timed(simulate_waveforms, tiles, engine="numpy", binning="nearest", repeat=2)
    err = np.abs(near - ref).max()
    print(f"(a) max |ours - reference| (nearest binning) = {err:.2e}")
    n = len(tiles)
    return [row("(a) kernel, nearest binning (like for like)", n, t_near, t_ref),
            row("(a) kernel, linear binning (default)", n, t_lin, t_ref),
            row("(a) kernel, NumPy bincount engine", n, t_np, t_ref)]


def bench_step(tiles: np.ndarray, workdir: Path) -> list[str]:
    weights = footprint_weights(200)
    pulse = gaussian_pulse()
    shard = workdir / "tiles.zarr"
    with atomic_store(shard) as tmp:
        g = create_group(tmp, {"flight": "bench"})
        elev = create_array(g, "elevation", (0, 200, 200), np.float32, ("tile", "y_px", "x_px"),
                            (64, 200, 200))
        hashes = create_array(g, "hash", (0,), str, ("tile",), (4096,))
        append(elev, tiles)
        append(hashes, np.array([tile_hash(t) for t in tiles], dtype=object))
    t_ours, _ = timed(simulate_store, shard, workdir / "waves.zarr", progress=False)

    def original_way(subset: np.ndarray, simulate) -> np.ndarray:
        folder = workdir / f"geotiffs-{simulate.__name__}"
        folder.mkdir(exist_ok=True)
        for t in subset:
            with rasterio.open(folder / f"{tile_hash(t)}.tif", "w", driver="GTiff", width=200,
                               height=200, count=1, dtype="float32", crs="EPSG:3413",
                               transform=Affine(0.5, 0, 0, 0, -0.5, 0)) as dst:
                dst.write(t, 1)
        out = []
        for path in sorted(folder.glob("*.tif")):
            with rasterio.open(path) as src:
                out.append(simulate(src.read(1), weights, pulse))
        return np.stack(out)

    t_ref, _ = timed(original_way, tiles, reference_waveform)
    loop_tiles = tiles[:50]
    t_loop, _ = timed(original_way, loop_tiles, per_pixel_waveform)
    n = len(tiles)
    return [row("(b) whole step: Zarr shard -> Zarr shard vs one GeoTIFF per tile, "
                "np.histogram", n, t_ours, t_ref),
            row("(b) whole step: Zarr shard -> Zarr shard vs one GeoTIFF per tile, "
                "per-pixel loop (the original's way)", n, t_ours, t_loop * n / len(loop_tiles))]


def bench_tiling(workdir: Path) -> list[str]:
    spec = FlightSpec(name="B", date="2009-04-02", start_x_m=-196000, start_y_m=-2283000,
                      track_deg=90.0, n_frames=3, frame_length_m=700, frame_width_m=500)
    frames = write_flight(WorldParams(), spec, workdir / "flights", workdir / "truth",
                          progress=False)
    t_ours, n_tiles = timed(tile_flight, frames, workdir / "t.zarr", flight="B", progress=False)

    def gdal_way() -> int:
        count = 0
        for path in frames:
            with rasterio.open(path) as src:
                b = src.bounds
                cols, rows = int((b.right - b.left) / 0.5), int((b.top - b.bottom) / 0.5)
                dst = np.full((rows, cols), np.nan, np.float32)
                reproject(rasterio.band(src, 1), dst, dst_transform=Affine(
                    0.5, 0, b.left, 0, -0.5, b.top), dst_crs=src.crs, dst_nodata=np.nan,
                    resampling=Resampling.bilinear)
            for r in range(0, rows - 199, 200):
                for c in range(0, cols - 199, 200):
                    w = dst[r : r + 200, c : c + 200]
                    if not np.isnan(w).any():
                        tile_hash(w - w.mean())
                        count += 1
        return count

    t_ref, n_ref = timed(gdal_way)
    print(f"(c) tiles: ours {n_tiles}, GDAL-warp reference {n_ref}")
    return [row("(c) tiling DEM frames (frames/s)", len(frames), t_ours, t_ref, "frames"),
            row("(c) tiling DEM frames (tiles/s)", n_tiles, t_ours, t_ref)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiles", type=int, default=10_000)
    parser.add_argument("--step-tiles", type=int, default=2_000)
    args = parser.parse_args()
    numba.set_num_threads(1)
    tiles = realistic_tiles(args.tiles)
    rows = ["| comparison | n | ours | reference | ours faster by |",
            "| --- | --- | --- | --- | --- |"]
    rows += bench_kernel(tiles)
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_step(tiles[: args.step_tiles], Path(tmp))
        rows += bench_tiling(Path(tmp))
    print(f"\n{date.today()} on {platform.node()} ({platform.processor() or platform.machine()}, "
          f"numba threads 1)\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
