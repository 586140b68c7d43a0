"""Ingestion of GLAS shots into ``results/shots/{campaign}.zarr``.

A campaign folder holds GLAH01 waveform granules and their GLAH06 (or GLAH14)
geolocation granules. Granules pair by name: everything after the product and
release fields must match, as in ``GLAH01_033_2107_003_0211_0_01_0001.H5`` and
``GLAH06_634_2107_003_0211_0_01_0001.H5``. A plain-text extract (``*.txt``) is
read as well, so real shots published only as text run through the pipeline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cryolearn.constants import (
    GLAS_EPOCH,
    N_LONG_SAMPLES,
    N_TRANSMIT_SAMPLES,
)
from cryolearn.io.glas import (
    GlasError,
    ShotSet,
    read_glas_pair,
    read_glas_text,
    shot_array_fields,
)
from cryolearn.io.zarrstore import atomic_store, create_group, open_group, write_array

log = logging.getLogger(__name__)

_GRANULE = re.compile(r"^(GLAH0[1-9]|GLAH1[0-5])_(\d+)_(.+)\.(h5|H5|hdf5)$")


def pair_granules(paths: Sequence[str | Path], where: str) -> list[tuple[Path, Path]]:
    """GLAH01 granules among ``paths``, each with its GLAH06 (preferred) or GLAH14 partner.

    Parameters
    ----------
    paths : granule files (other files are ignored)
    where : what the paths came from, for error messages

    Raises
    ------
    GlasError
        when a GLAH01 has no geolocation partner, or there is no GLAH01 at all
    """
    by_product: dict[str, dict[str, Path]] = {}
    for path in sorted(Path(p) for p in paths):
        match = _GRANULE.match(path.name)
        if match:
            by_product.setdefault(match.group(1), {})[match.group(3)] = path
    waveforms = by_product.get("GLAH01", {})
    if not waveforms:
        raise GlasError(f"{where}: no GLAH01 granules (GLAH01_*.H5)")
    geolocation = {**by_product.get("GLAH14", {}), **by_product.get("GLAH06", {})}
    missing = sorted(key for key in waveforms if key not in geolocation)
    if missing:
        raise GlasError(f"{where}: no GLAH06 or GLAH14 granule for GLAH01 "
                        f"{waveforms[missing[0]].name} (and {len(missing) - 1} more)")
    return [(waveforms[key], geolocation[key]) for key in sorted(waveforms)]


def campaign_files(inputs: Sequence[str | Path]) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """Granule pairs and text extracts among input files and campaign folders."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.is_file())
        elif item.is_file():
            files.append(item)
        else:
            raise GlasError(f"{item}: no such file or folder")
    texts = [p for p in files if p.suffix.lower() == ".txt"]
    granules = [p for p in files if _GRANULE.match(p.name)]
    where = ", ".join(str(p) for p in inputs)
    pairs = pair_granules(granules, where) if granules or not texts else []
    return pairs, texts


def concatenate_shots(parts: Sequence[ShotSet]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Per-shot arrays of several granules laid end to end, and the summed drop report."""
    arrays = {n: np.concatenate([getattr(p, n) for p in parts]) for n in shot_array_fields()}
    arrays["granule"] = np.concatenate([np.full(len(p), i, np.int16) for i, p in enumerate(parts)])
    report: dict[str, int] = {}
    for p in parts:
        for key, value in p.report.items():
            report[key] = report.get(key, 0) + int(value)
    return arrays, report


def write_shots(arrays: dict[str, np.ndarray], out_store: str | Path, attrs: dict) -> int:
    """Write ``results/shots/{campaign}.zarr`` (see DESIGN.md) atomically."""
    units = {"waveform": "V", "transmit": "V", "background_mean": "V", "background_sd": "V",
             "lat": "degrees_north", "lon": "degrees_east", "x": "m", "y": "m",
             "elevation": "m", "time": f"seconds since {GLAS_EPOCH.replace('T', ' ')}"}
    with atomic_store(out_store) as tmp:
        group = create_group(tmp, attrs)
        for name, values in arrays.items():
            two_d = np.ndim(values) == 2
            write_array(group, name, values, ("shot", "sample") if two_d else ("shot",),
                        {"units": units[name]} if name in units else None,
                        chunk_rows=1024 if two_d else 4096)
    return len(arrays["x"])


def read_campaign(inputs: Sequence[str | Path]
                  ) -> tuple[dict[str, np.ndarray], dict[str, int], list[str], list[ShotSet]]:
    """Read a campaign's granules and text extracts, in the product's conventions.

    Returns
    -------
    arrays : per-shot arrays of every granule, end to end (:func:`concatenate_shots`)
    report : the drop report summed over granules
    sources : the file(s) each part was read from
    parts : the :class:`~cryolearn.io.glas.ShotSet` of each granule or extract
    """
    pairs, texts = campaign_files(inputs)
    parts = [read_glas_pair(l1, l6) for l1, l6 in pairs] + [read_glas_text(t) for t in texts]
    sources = [f"{l1} + {l6}" for l1, l6 in pairs] + [str(t) for t in texts]
    arrays, report = concatenate_shots(parts)
    return arrays, report, sources, parts


def ingest_campaign(
    inputs: Sequence[str | Path],
    out_store: str | Path,
    *,
    campaign: str,
) -> dict[str, int]:
    """Read a campaign's granules (or text extracts) and write its shots store.

    Parameters
    ----------
    inputs : campaign folders, GLAH01/GLAH06 (or GLAH14) granule files, ``.txt`` extracts
    out_store : ``results/shots/{campaign}.zarr``
    campaign : campaign name, kept in the store's attributes

    Returns
    -------
    the drop report summed over granules, with ``n_kept`` the shots written
    """
    arrays, report, sources, parts = read_campaign(inputs)
    written = write_shots(arrays, out_store, {"campaign": campaign, "sources": sources,
                                              "report": report,
                                              "n_samples": N_LONG_SAMPLES,
                                              "n_transmit_samples": N_TRANSMIT_SAMPLES})
    for source, part in zip(sources, parts, strict=True):
        log.info("%s: %s", source, part.report)
    log.info("%s: %d shots of campaign %s", out_store, written, campaign)
    return {**report, "n_kept": written}


def read_shot_arrays(store: str | Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Selected arrays of a shots store."""
    group = open_group(store)
    return {name: group[name][:] for name in names}
