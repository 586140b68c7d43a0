"""Explicit Jacobian products against reverse-mode autodiff: time and memory of one gradient.

Side by side in one process, float64 on the CPU, for MLPs of growing depth D
(linear layers) and width w (every layer w → w, tanh between them, softmax
cross-entropy on the logits, one sample):

* **jacobian**: ``cryolearn.nn.jacobian.Network.gradient``, which forms every
  layer's input Jacobian (w × w) and dense parameter Jacobian
  (I_w ⊗ xᵀ, w × w², see ``docs/jacobian.md``) and chains row–Jacobian
  products from the loss backwards;
* **autograd**: the same network in ``torch.nn.functional`` and
  ``torch.autograd.grad``, which applies vector–Jacobian products without
  forming any Jacobian.

Time is the median over ``--repeats`` runs of forward plus gradient. Memory is
the peak bytes traced by ``tracemalloc`` during one Jacobian-product gradient
(numpy reports its allocations to it) against the bytes autograd saves for
backward (the tensors passing through ``torch.autograd.graph.saved_tensors_hooks``,
weights included). The two gradients are compared (largest relative error
‖g − g_ref‖ / ‖g_ref‖ over the parameters).

Run: ``python bench/jacobian.py [--repeats 5]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import date

import numpy as np
import torch
import torch.nn.functional as F

from cryolearn.nn.jacobian import Linear, Network, SoftmaxCrossEntropy, Tanh, one_hot

DEPTHS = (2, 4, 8)
WIDTHS = (16, 64, 256)
MIB = 2**20


def make_mlp(depth: int, width: int, rng: np.random.Generator) -> Network:
    """``depth`` linear w → w layers with tanh between them."""
    layers = []
    for index in range(depth):
        layers.append(Linear(rng.normal(size=(width, width)) / np.sqrt(width),
                             rng.normal(size=width) * 0.1))
        if index < depth - 1:
            layers.append(Tanh())
    return Network(layers)


def torch_gradient(params: list[torch.Tensor], x: torch.Tensor,
                   label: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Autograd gradient of the same MLP's softmax cross-entropy."""
    y = x
    for index in range(0, len(params), 2):
        if index:
            y = torch.tanh(y)
        y = F.linear(y, params[index], params[index + 1])
    loss = F.cross_entropy(y[None], label)
    return torch.autograd.grad(loss, params)


def median_ms(function: Callable[[], object], repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def jacobian_peak_bytes(function: Callable[[], object]) -> int:
    """Peak traced bytes allocated while ``function`` runs."""
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        function()
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


def autograd_saved_bytes(function: Callable[[], object]) -> int:
    """Bytes of the tensors autograd saves for backward while ``function`` runs."""
    saved = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal saved
        saved += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        function()
    return saved


def measure(depth: int, width: int, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(depth * 1000 + width)
    network = make_mlp(depth, width, rng)
    x = rng.normal(size=width)
    label = int(rng.integers(width))
    target = one_hot(label, width)
    loss = SoftmaxCrossEntropy()
    params = [torch.tensor(value, requires_grad=True)
              for layer in network.layers for value in layer.params.values()]
    x_t, label_t = torch.tensor(x), torch.tensor([label])

    def ours() -> list[dict[str, np.ndarray]]:
        return network.gradient(x, target, loss)

    def theirs() -> tuple[torch.Tensor, ...]:
        return torch_gradient(params, x_t, label_t)

    ours_flat = [g for layer in ours() for g in layer.values()]
    errors = [np.linalg.norm(g - r.numpy()) / np.linalg.norm(r.numpy())
              for g, r in zip(ours_flat, theirs(), strict=True)]
    return {"params": sum(p.numel() for p in params),
            "jacobian_ms": median_ms(ours, repeats),
            "autograd_ms": median_ms(theirs, repeats),
            "jacobian_mib": jacobian_peak_bytes(ours) / MIB,
            "autograd_mib": autograd_saved_bytes(theirs) / MIB,
            "error": max(errors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per network")
    args = parser.parse_args()
    print(f"# Jacobian products vs autograd, {date.today()}, {platform.platform()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads; float64, one sample, median of {args.repeats}")
    print("\n| depth | width | params | jacobian ms | autograd ms | time ratio "
          "| jacobian peak MiB | autograd saved MiB | memory ratio | rel. error |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for depth in DEPTHS:
        for width in WIDTHS:
            r = measure(depth, width, args.repeats)
            print(f"| {depth} | {width} | {r['params']:,} | {r['jacobian_ms']:.3f} "
                  f"| {r['autograd_ms']:.3f} | {r['jacobian_ms'] / r['autograd_ms']:.1f} "
                  f"| {r['jacobian_mib']:.3f} | {r['autograd_mib']:.3f} "
                  f"| {r['jacobian_mib'] / r['autograd_mib']:.1f} | {r['error']:.1e} |",
                  flush=True)


if __name__ == "__main__":
    main()
