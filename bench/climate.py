"""DSC: training time per epoch, against the k-means a user would otherwise run.

Side by side in one process, on a synthetic ERA5-like year (365 days of DSC's
41 × 41 grid and 7 variables, ``cryolearn.synth.climate``):

* **ours**: one joint epoch of DSC (reconstruction + KL, batches of 8, P
  updated every 50 iterations) at the published widths (64-64-128-256-512,
  LSTMs of 512, latent 256), at the demo's quarter widths, and over 5-day
  windows (``dsc_windowed``); the time of the k-means initialisation on the
  untrained encoder (30 starts) is shown apart;
* **reference**: scikit-learn k-means with 30 starts on the same scaled table,
  the whole clustering a user would otherwise run.

On a CUDA GPU the DSC epochs are timed there too.

Run: ``python bench/climate.py [--days 365]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace
from datetime import date

import numpy as np
import torch

from cryolearn.climate.features import climate_features, pad_frames
from cryolearn.climate.models import DSCAutoencoder, count_parameters
from cryolearn.climate.train import (
    DeepTraining,
    Samples,
    embed_all,
    kmeans_labels,
    train_joint,
)
from cryolearn.nn.clustering import StudentTAssignment
from cryolearn.synth.climate import VARIABLES, ClimateSpec, make_climate

ARCHITECTURES = {
    "published": {"widths": (64, 64, 128, 256, 512), "lstm_units": 512, "latent_dim": 256},
    "demo (1/4 widths)": {"widths": (16, 16, 32, 64, 128), "lstm_units": 128,
                          "latent_dim": 64},
}


def synthetic_frames(days: int) -> tuple[np.ndarray, np.ndarray]:
    climate = make_climate(ClimateSpec(days=days, steps_per_day=1))
    ds = climate.fields.assign_coords(time=climate.dates)
    features = climate_features(ds, list(VARIABLES))
    return features.table, pad_frames(features.scaled)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_dsc_epoch(frames: np.ndarray, architecture: dict, window: int,
                   device: torch.device) -> tuple[float, float, int]:
    """Seconds of the k-means initialisation and of one joint epoch, and the parameters."""
    torch.manual_seed(0)
    samples = Samples(frames, window, device)
    model = DSCAutoencoder(frames.shape[1], frames.shape[2:], **architecture).to(device)
    start = time.perf_counter()
    embedding = embed_all(model, samples).cpu().numpy()
    _, centres = kmeans_labels(embedding, 7, 30, 0)
    initialise = time.perf_counter() - start
    layer = StudentTAssignment(7, embedding.shape[1]).to(device)
    with torch.no_grad():
        layer.centres.copy_(torch.as_tensor(centres, dtype=torch.float32))
    # a learning rate that moves the weights, so the tolerance never stops the epoch early
    settings = replace(DeepTraining(), epochs=1, learning_rate=1e-3, tolerance=0.0)
    sync(device)
    start = time.perf_counter()
    train_joint(model, layer, samples, settings, np.random.default_rng(0))
    sync(device)
    return initialise, time.perf_counter() - start, count_parameters(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    table, frames = synthetic_frames(args.days)
    start = time.perf_counter()
    kmeans_labels(table, 7, 30, 0)
    reference = time.perf_counter() - start
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available()
                                       else [])
    print(f"# DSC epoch vs k-means, {date.today()}, {platform.platform()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    print(f"# {args.days} days, frames {frames.shape[1:]}, table {table.shape[1]} columns; "
          f"reference: k-means (30 starts) on the table, {reference:.2f} s\n")
    print("| device | network | window (days) | parameters | k-means init s | epoch s | "
          "epoch / reference |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for device in devices:
        for name, architecture in ARCHITECTURES.items():
            for window in (1, 5):
                if window == 5 and name == "published" and device.type == "cpu":
                    continue  # minutes on a laptop CPU; the 1-day row scales by 5
                init, epoch, parameters = time_dsc_epoch(frames, architecture, window, device)
                print(f"| {device.type} | {name} | {window} | {parameters:,} | {init:.2f} | "
                      f"{epoch:.2f} | {epoch / reference:.1f} |")


if __name__ == "__main__":
    main()
