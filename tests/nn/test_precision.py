"""Mixed precision: where bfloat16 is used, and what it changes."""

from pathlib import Path

import pytest
import torch

from cryolearn.nn.precision import (
    PRECISIONS,
    BatchNorm2d,
    mixed_forward,
    mixed_precision,
    native_bfloat16,
    training_dtype,
)

CPU = torch.device("cpu")


def _cpu_flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo on this system")
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    pytest.skip("/proc/cpuinfo lists no flags")


def test_the_bfloat16_probe_agrees_with_the_cpu_flags():
    flags = _cpu_flags()
    assert native_bfloat16(CPU) == bool(flags & {"avx512_bf16", "amx_bf16", "amx_tile"})


def test_auto_is_bfloat16_exactly_where_the_hardware_has_it():
    expected = torch.bfloat16 if native_bfloat16(CPU) else torch.float32
    assert training_dtype("auto", CPU) == expected
    assert training_dtype("float32", CPU) == torch.float32
    assert training_dtype("bfloat16", CPU) == torch.bfloat16
    with pytest.raises(ValueError, match="float16"):
        training_dtype("float16", CPU)
    assert PRECISIONS == ("auto", "float32", "bfloat16")


def test_mixed_precision_multiplies_in_bfloat16_and_float32_is_untouched():
    layer = torch.nn.Linear(3, 2)
    x = torch.tensor([[1.0, 2.0, 3.0]])
    with mixed_precision(CPU, torch.bfloat16):
        low = layer(x)
    with mixed_precision(CPU, torch.float32):
        full = layer(x)
    assert low.dtype == torch.bfloat16 and full.dtype == torch.float32
    assert torch.equal(full, layer(x))
    # bfloat16 keeps 8 significant bits: within 2^-8 of the float32 product
    torch.testing.assert_close(low.float(), full, rtol=2 ** -8, atol=1e-2)
    assert layer.weight.dtype == torch.float32


def test_batch_norm_keeps_float32_statistics_under_bfloat16():
    x = torch.linspace(-3.0, 5.0, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    conv = torch.nn.Conv2d(3, 3, 1)
    ours, plain = BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    assert ours.state_dict().keys() == plain.state_dict().keys()
    with mixed_precision(CPU, torch.bfloat16):
        h = conv(x)
        out = ours(h)
        plain(h)
    assert h.dtype == torch.bfloat16 and out.dtype == torch.float32
    # ours: the statistics of the bfloat16 activations, accumulated in float32
    expected = 0.1 * h.float().mean(dim=(0, 2, 3))
    torch.testing.assert_close(ours.running_mean, expected, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(plain.running_mean, expected, rtol=2 ** -7, atol=1e-3)


def test_mixed_forward_returns_float32_and_is_the_plain_call_in_float32():
    layer = torch.nn.Linear(3, 2)
    x = torch.tensor([[1.0, 2.0, 3.0]])
    assert torch.equal(mixed_forward(layer, x, torch.float32), layer(x))
    low = mixed_forward(layer, x, torch.bfloat16)
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, layer(x), rtol=2 ** -8, atol=1e-2)
