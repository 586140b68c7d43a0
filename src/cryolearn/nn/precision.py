"""Mixed precision: bfloat16 products where the hardware has them, float32 elsewhere.

Training in bfloat16 mixed precision (Kalamkar et al. 2019, "A study of BFLOAT16
for deep learning training") keeps the weights, the optimiser and the loss in
float32 and runs the convolutions and matrix products in bfloat16. DeepTopoNet
keeps its batch norm in float32 (:class:`BatchNorm2d`): the running statistics are
what inference uses, and accumulated from bfloat16 activations they cost it 48 m
of held-out RMSE on the demo region, on average over four seeds (docs/bedtopo.md).
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 in hardware.

    On the CPU that is AVX512-BF16 or AMX (Intel Cooper Lake, Sapphire Rapids and
    later; AMD Zen 4 and later); elsewhere torch emulates bfloat16, more slowly
    than float32. On CUDA, compute capability 8.0 (Ampere) and later.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False


def training_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype of the forward pass in training: ``float32``, ``bfloat16``, or ``auto``.

    ``auto`` trains in mixed precision (bfloat16 products, float32 weights, optimiser
    and loss) where the hardware has bfloat16 units, else in float32.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "auto":
        return torch.bfloat16 if native_bfloat16(device) else torch.float32
    return getattr(torch, precision)


def mixed_precision(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    """Autocast to ``dtype`` on ``device``; nothing when ``dtype`` is float32.

    Convolutions and matrix products run in ``dtype``; take the loss of
    ``output.float()`` so that it is reduced in float32.
    """
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def mixed_forward(model: nn.Module, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``model(x)`` with its products in ``dtype``, returned in float32 for the loss."""
    with mixed_precision(x.device, dtype):
        return model(x).float()


class BatchNorm2d(nn.BatchNorm2d):
    """:class:`torch.nn.BatchNorm2d` computed in float32, also under autocast.

    The same parameters and buffers, so models saved with either load into the other.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x.float())
