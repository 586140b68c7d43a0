"""Autoencoder throughput against the classical gaussian_xcorr cleaner, side by side.

Measures, in one process, on the same waveforms:

* training throughput: degraded waveforms per second through one optimiser step
  (degradation included, as in training), batch 64, in float32 and, where the
  hardware multiplies bfloat16, in bfloat16 mixed precision (``precision: auto``);
* inference throughput of the trained network (batch 1024);
* throughput of the classical baseline (Gaussian smoothing, cross-correlation
  with the pulse, sub-sample shift), which is what a user would otherwise run.

Every timing runs on the CPU; when a CUDA GPU is present, the network's are
repeated there. The library waveforms are forward-modelled from rough synthetic
tiles and the empirical distributions are measured on synthetic shots, so the
benchmark needs no workflow outputs.

Run: ``python bench/autoencoder.py [--threads N]``
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from cryolearn.crevasse.library.forward import simulate_waveforms
from cryolearn.crevasse.shots.augment import EmpiricalDistributions, degrade, measure_shots
from cryolearn.crevasse.shots.autoencoder import (
    AutoencoderShape,
    TrainingConfig,
    WaveformAutoencoder,
    denoise,
    training_pair,
)
from cryolearn.crevasse.shots.cleaning import gaussian_xcorr_cleaner
from cryolearn.nn.precision import mixed_forward, native_bfloat16


def library_waveforms(n: int, seed: int = 0) -> np.ndarray:
    """Waveforms of planes with random slopes and random crevasse-like pits."""
    rng = np.random.default_rng(seed)
    c = (np.arange(200) + 0.5 - 100) * 0.5
    x, _ = np.meshgrid(c, c)
    tiles = np.empty((n, 200, 200), np.float32)
    for i in range(n):
        tiles[i] = rng.uniform(-0.2, 0.2) * x
        tiles[i] -= (rng.random((200, 200)) < rng.uniform(0, 0.3)) * rng.uniform(0, 10)
    return simulate_waveforms(tiles)


def shot_distributions(n: int = 400, seed: int = 1) -> EmpiricalDistributions:
    """Distributions measured on synthetic shots calibrated to the real Jakobshavn ones."""
    rng = np.random.default_rng(seed)
    t = np.arange(544)
    centre = rng.uniform(60, 200, n)
    width = rng.uniform(2, 10, n)
    signal = rng.uniform(0.3, 1.0, n)[:, None] * np.exp(
        -0.5 * ((t - centre[:, None]) / width[:, None]) ** 2)
    waveform = (0.14 + signal + rng.normal(0, 0.009, (n, 544))).astype(np.float32)
    return EmpiricalDistributions(
        width_edges_ns=np.array([0.0, 4.0, 6.0, 8.0, 1000.0]),
        **measure_shots(waveform, np.full(n, 0.14, np.float32), np.full(n, 0.009, np.float32)))


def rate(fn, items: int, repeats: int) -> float:
    """Items per second of ``fn`` (best of ``repeats`` after one warm-up)."""
    fn()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return items / best


def training_rate(model: torch.nn.Module, clean: np.ndarray, dist, device: str,
                  batches: int = 8, batch_size: int = 64,
                  dtype: torch.dtype = torch.float32) -> float:
    model = model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    sigma = TrainingConfig().target_sigma_bins

    def run() -> None:
        for _ in range(batches):
            x, y = training_pair(clean[rng.integers(0, len(clean), batch_size)], dist, rng, sigma)
            x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.mse_loss(mixed_forward(model, x, dtype), y).backward()
            opt.step()

    return rate(run, batches * batch_size, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--n", type=int, default=4096, help="waveforms cleaned per timing")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    clean = library_waveforms(512)
    dist = shot_distributions()
    shots, _ = degrade(clean[np.arange(args.n) % len(clean)], dist, np.random.default_rng(2))
    model = WaveformAutoencoder(AutoencoderShape())
    xcorr = gaussian_xcorr_cleaner()
    reference = rate(lambda: xcorr(shots), args.n, 3)

    rows = [("gaussian_xcorr (reference)", "cpu", reference)]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        rows.append(("autoencoder inference", device,
                     rate(lambda d=device: denoise(model, shots, device=d), args.n, 3)))
        rows.append(("autoencoder training step, float32", device,
                     training_rate(model, clean, dist, device)))
        if native_bfloat16(torch.device(device)):
            rows.append(("autoencoder training step, bfloat16 mixed", device,
                         training_rate(model, clean, dist, device, dtype=torch.bfloat16)))

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"\n{platform.machine()}, {args.threads} CPU threads, torch {torch.__version__}, "
          f"GPU: {gpu}; {args.n} waveforms of 544 samples; "
          f"{sum(p.numel() for p in model.parameters()):,} parameters\n")
    print("| method | device | waveforms/s | relative to gaussian_xcorr |")
    print("| --- | --- | --- | --- |")
    for name, device, value in rows:
        print(f"| {name} | {device} | {value:,.0f} | {value / reference:.2f}× |")


if __name__ == "__main__":
    main()
