"""Zarr conventions of cryolearn: format 3, explicit chunks and codecs, atomic writes.

Every store is written under a temporary name beside its final path and renamed
only when complete, so a killed job never leaves a store that looks whole.
Arrays carry ``dimension_names`` so that :func:`xarray.open_zarr` reads them
as labelled variables.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from zarr.codecs import BloscCodec, BloscShuffle

#: numeric arrays: zstd through blosc with bit shuffling (good for float32 rasters)
NUMERIC_COMPRESSOR = BloscCodec(cname="zstd", clevel=3, shuffle=BloscShuffle.bitshuffle)


@contextlib.contextmanager
def atomic_store(path: str | Path) -> Iterator[Path]:
    """Yield a temporary store path; rename it to ``path`` only on success.

    An existing store at ``path`` is replaced only after the new one is
    complete; on any exception the temporary store is removed and ``path`` is
    left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)


def create_group(path: str | Path, attrs: dict[str, Any] | None = None) -> zarr.Group:
    """A new, empty format-3 group at ``path`` (overwriting)."""
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    if attrs:
        group.attrs.update(attrs)
    return group


def create_array(
    group: zarr.Group,
    name: str,
    shape: tuple[int, ...],
    dtype: Any,
    dims: tuple[str, ...],
    chunks: tuple[int, ...],
    attrs: dict[str, Any] | None = None,
) -> zarr.Array:
    """A chunked array with dimension names; strings use variable-length UTF-8."""
    is_string = dtype is str
    array = group.create_array(
        name,
        shape=shape,
        dtype=str if is_string else np.dtype(dtype),
        chunks=tuple(max(1, c) for c in chunks),
        compressors=None if is_string else NUMERIC_COMPRESSOR,
        dimension_names=dims,
        fill_value="" if is_string else 0,
    )
    if attrs:
        array.attrs.update(attrs)
    return array


def write_array(
    group: zarr.Group,
    name: str,
    values: np.ndarray,
    dims: tuple[str, ...],
    attrs: dict[str, Any] | None = None,
    chunk_rows: int = 4096,
    dtype: Any = None,
) -> zarr.Array:
    """Create an array holding ``values``, chunked by rows (whole rows per chunk).

    Parameters
    ----------
    values : the data; its first axis is chunked by ``chunk_rows``
    dims : dimension names, one per axis
    dtype : stored type (default: that of ``values``)
    """
    values = np.asarray(values)
    chunks = (min(len(values), chunk_rows), *values.shape[1:])
    array = create_array(group, name, values.shape, dtype or values.dtype, dims, chunks, attrs)
    if values.size:
        array[:] = values
    return array


def append(array: zarr.Array, values: np.ndarray) -> None:
    """Append ``values`` along the first axis of ``array``."""
    n = array.shape[0]
    if len(values) == 0:
        return
    array.resize((n + len(values), *array.shape[1:]))
    array[n : n + len(values)] = values


def open_group(path: str | Path) -> zarr.Group:
    """Open an existing store read-only, with a clear error if it is not one."""
    path = Path(path)
    if not (path / "zarr.json").exists():
        raise FileNotFoundError(f"{path}: not a Zarr (format 3) store")
    with warnings.catch_warnings():
        # Snakemake leaves a .snakemake_timestamp file in directory() outputs
        warnings.filterwarnings("ignore", message=".*snakemake_timestamp.*")
        return zarr.open_group(str(path), mode="r", zarr_format=3)
