"""DeepTopoNet: training throughput and full-grid inference, extrapolated to all of Greenland.

Side by side in one process, on a synthetic region (``cryolearn.synth.bedtopo``)
and the original's model (90 channels, widths 32-64-128-128-256):

* **training**: patches per second of our training step (γ-balanced loss over
  masked radar and BedMachine cells, cyclic learning rate) against the plain
  PyTorch step a user would write (the same model, MSE on every cell);
* **inference**: our patch-stitched prediction (16-cell patches at stride 8,
  tent-weighted, as the model must be used, see ``predict_grid``) against one
  fully convolutional pass over the grid (what a user would otherwise do, and
  4 times less compute), in seconds per million cells, extrapolated to
  BedMachine Greenland's 10,218 × 18,346 cells.

On a CUDA GPU the same is timed there too.

Run: ``python bench/bedtopo.py [--size 256] [--batches 20]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import numpy as np
import torch

from cryolearn.bedtopo.data import RegionInputs
from cryolearn.bedtopo.features import build_features
from cryolearn.bedtopo.model import BedTopoCNN
from cryolearn.bedtopo.train import (
    PatchBatches,
    TrainingRun,
    TrainingSettings,
    _epoch_losses,
    patch_origins,
    predict_grid,
    training_targets,
)
from cryolearn.io.radar import RadarPoints
from cryolearn.nn.precision import native_bfloat16
from cryolearn.synth.bedtopo import RegionSpec, bedmachine_like, make_region

GREENLAND_CELLS = 10_218 * 18_346


def synthetic_inputs(size: int) -> RegionInputs:
    spec = RegionSpec(size_px=size)
    region = make_region(spec)
    product = bedmachine_like(spec, region, np.random.default_rng(0))
    x = np.concatenate([line["x"] for line in region.lines])
    y = np.concatenate([line["y"] for line in region.lines])
    line = np.concatenate([np.full(len(v["x"]), i) for i, v in enumerate(region.lines)])
    _, _, inside = region.grid.cell_of(x, y)
    row, col, _ = region.grid.cell_of(x[inside], y[inside])
    thickness = (region.surface - region.bed)[row, col]
    radar = RadarPoints(x[inside], y[inside], thickness, np.full(len(row), np.nan),
                        line[inside].astype(str).astype(object), np.ones(len(row), np.int8))
    fields = np.stack([region.smb, region.dhdt, region.surface, region.vx, region.vy])
    bedmachine = {k: product[k] for k in ("bed", "errbed", "surface", "mask")}
    return RegionInputs(region.grid, fields.astype(np.float32), bedmachine, radar,
                        [str(i) for i in range(len(region.lines))],
                        line[inside].astype(np.int32), {})


def time_training(inputs: RegionInputs, device: torch.device, batches: int,
                  dtype: torch.dtype = torch.float32, reference: bool = True
                  ) -> dict[str, float]:
    """Patches/s of our training loop in ``dtype`` and, with ``reference``, of a plain
    float32 loop on the same batches."""
    settings = TrainingSettings(batch_size=32)
    features, names, scaling = build_features(inputs.fields)
    targets = training_targets(inputs, settings, None)
    origins = patch_origins(inputs.grid.shape, 16, 8)
    data = PatchBatches(features, targets, origins, 16, 1, device)
    indices = np.arange(min(len(origins), batches * settings.batch_size))
    model = BedTopoCNN(len(names)).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-5)
    scheduler = torch.optim.lr_scheduler.CyclicLR(optimiser, 1e-5, 1e-3, cycle_momentum=False)
    rng = np.random.default_rng(0)
    _epoch_losses(model, data, indices[:64], settings, optimiser, scheduler, rng,
                  dtype=dtype)  # warm-up
    sync(device)
    started = time.perf_counter()
    _epoch_losses(model, data, indices, settings, optimiser, scheduler, rng, dtype=dtype)
    sync(device)
    ours = len(indices) / (time.perf_counter() - started)
    if not reference:
        return {"ours": ours}

    plain = BedTopoCNN(len(names)).to(device)
    plain_optimiser = torch.optim.Adam(plain.parameters(), lr=1e-4)
    batches_of = [indices[i:i + 32] for i in range(0, len(indices), 32)]
    for step, chunk in enumerate([indices[:32], *batches_of]):
        if step == 1:
            sync(device)
            started = time.perf_counter()
        x, bed, *_ = data.batch(chunk)
        loss = torch.nn.functional.mse_loss(plain(x), bed)
        plain_optimiser.zero_grad()
        loss.backward()
        plain_optimiser.step()
    sync(device)
    reference = len(indices) / (time.perf_counter() - started)
    return {"ours": ours, "reference": reference, "channels": len(names), "scaling": scaling}


def time_inference(inputs: RegionInputs, device: torch.device) -> dict[str, float]:
    settings = TrainingSettings()
    features, names, scaling = build_features(inputs.fields)
    model = BedTopoCNN(len(names)).eval()
    run = TrainingRun(model, settings, "faithful", names, scaling, 0.0, 1.0, [],
                      np.empty((0, 2)), np.empty((0, 2)))
    predict_grid(run, inputs.fields[:, :64, :64], device=str(device))  # warm-up
    sync(device)
    started = time.perf_counter()
    predict_grid(run, inputs.fields, device=str(device))
    sync(device)
    ours = time.perf_counter() - started
    model = model.to(device)
    x = torch.from_numpy(features)[None].to(device)
    with torch.no_grad():
        model(x[:, :, :64, :64])
        sync(device)
        started = time.perf_counter()
        model(x)
        sync(device)
    reference = time.perf_counter() - started
    model.cpu()
    cells = inputs.fields.shape[1] * inputs.fields.shape[2]
    return {"ours_s_per_mcell": ours / cells * 1e6,
            "reference_s_per_mcell": reference / cells * 1e6}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="region cells per side")
    parser.add_argument("--batches", type=int, default=20, help="training batches timed")
    args = parser.parse_args()
    inputs = synthetic_inputs(args.size)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available()
                                       else [])
    print(f"# DeepTopoNet benchmark, {date.today()}, {platform.processor() or platform.machine()}"
          f", {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads; region {args.size} x {args.size}")
    print("\n| device | step | ours | reference | ratio (ours / reference) |")
    print("| --- | --- | --- | --- | --- |")
    for device in devices:
        name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
        train = time_training(inputs, device, args.batches)
        print(f"| {name} | training, patches/s | {train['ours']:.1f} | {train['reference']:.1f} "
              f"| {train['ours'] / train['reference']:.2f} |")
        if native_bfloat16(device):
            mixed = time_training(inputs, device, args.batches, torch.bfloat16,
                                  reference=False)
            print(f"| {name} | training in bfloat16 mixed precision, patches/s | "
                  f"{mixed['ours']:.1f} | {train['reference']:.1f} (float32) | "
                  f"{mixed['ours'] / train['reference']:.2f} |")
        infer = time_inference(inputs, device)
        print(f"| {name} | inference, s per 10^6 cells | {infer['ours_s_per_mcell']:.2f} | "
              f"{infer['reference_s_per_mcell']:.2f} | "
              f"{infer['ours_s_per_mcell'] / infer['reference_s_per_mcell']:.2f} |")
        greenland = GREENLAND_CELLS / 1e6
        epoch_patches = ((10_218 - 16) // 8 + 1) * ((18_346 - 16) // 8 + 1)
        print(f"| {name} | Greenland: one training epoch (stride-8 patches, all) | "
              f"{epoch_patches / train['ours'] / 3600:.1f} h | "
              f"{epoch_patches / train['reference'] / 3600:.1f} h | |")
        print(f"| {name} | Greenland: full-grid inference | "
              f"{infer['ours_s_per_mcell'] * greenland / 60:.1f} min | "
              f"{infer['reference_s_per_mcell'] * greenland / 60:.1f} min | |")


if __name__ == "__main__":
    main()
