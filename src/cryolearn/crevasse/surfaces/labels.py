"""Labels of OPTICS clusters: the file a person writes and its checks.

A person labels clusters, not tiles: ``config/cluster_labels.yaml`` maps each
cluster id of ``results/clusters/clusters.zarr`` to a class (``crevasse``,
``not_crevasse`` or a further class the file declares). Clusters left out are
unlabelled; their tiles count as unknown, like tiles of noise nodes. The file
carries a fingerprint of the clustering it was made for, because cluster ids
mean nothing once the map is trained again.

The file looks like this (``cryolearn label`` writes it)::

    clusters: results/clusters/clusters.zarr
    fingerprint: 5d0c...        # of the clustering these ids belong to
    classes: [crevasse, not_crevasse]
    labels:
      0: crevasse        # 412 tiles
      3: not_crevasse    # 118 tiles
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cryolearn.io.files import write_text_atomic
from cryolearn.io.zarrstore import open_group

log = logging.getLogger(__name__)

CREVASSE = "crevasse"
NOT_CREVASSE = "not_crevasse"
UNKNOWN = -1  #: class index of a tile in noise or in an unlabelled cluster
BASE_CLASSES: tuple[str, ...] = (CREVASSE, NOT_CREVASSE)
_CLASS_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class LabelsError(ValueError):
    """A labels file that does not fit the clustering or names unknown classes."""


@dataclass
class ClusterLabels:
    """Labels of clusters by id; ``classes`` are the labels a person may choose.

    Attributes
    ----------
    labels : cluster id -> class name (clusters left out are unlabelled)
    classes : allowed class names; always starts with ``crevasse``, ``not_crevasse``
    fingerprint : of the clustering the ids belong to ('' when unknown)
    clusters : path of the clusters store, for the reader's information
    """

    labels: dict[int, str] = field(default_factory=dict)
    classes: list[str] = field(default_factory=lambda: list(BASE_CLASSES))
    fingerprint: str = ""
    clusters: str = ""

    def label_of_cluster(self, n_clusters: int) -> np.ndarray:
        """Class index (into ``classes``) of every cluster id; -1 where unlabelled."""
        out = np.full(n_clusters, -1, dtype=np.int32)
        for cluster, name in self.labels.items():
            out[cluster] = self.classes.index(name)
        return out


@dataclass(frozen=True)
class Clustering:
    """A clusters store as labels are checked and applied: ids, tiles' clusters, fingerprint.

    Attributes
    ----------
    path : the store
    n_clusters : cluster ids are 0 .. n_clusters - 1
    fingerprint : of the clustering (:func:`clustering_fingerprint`)
    tile_label : cluster of every library tile (-1: noise)
    hash : every library tile's hash, in library order
    """

    path: str
    n_clusters: int
    fingerprint: str
    tile_label: np.ndarray
    hash: np.ndarray

    @classmethod
    def of_store(cls, path: str | Path) -> Clustering:
        """Read ``results/clusters/clusters.zarr`` once."""
        group = open_group(path)
        tile_label = group["tile_label"][:]
        hashes = group["hash"][:]
        return cls(str(path), int(group.attrs["n_clusters"]),
                   clustering_fingerprint(group["node_label"][:], tile_label, hashes),
                   tile_label, hashes)

    @property
    def tiles_per_cluster(self) -> np.ndarray:
        labelled = self.tile_label[self.tile_label >= 0]
        return np.bincount(labelled, minlength=self.n_clusters)[:self.n_clusters]


def clustering_fingerprint(node_label: np.ndarray, tile_label: np.ndarray,
                           hashes: np.ndarray) -> str:
    """SHA-256 (16 hex digits) of the node labels and the tiles' labels and hashes."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(node_label, dtype="<i4").tobytes())
    digest.update(np.ascontiguousarray(tile_label, dtype="<i4").tobytes())
    digest.update("\n".join(str(h) for h in hashes).encode())
    return digest.hexdigest()[:16]


def check_class_names(classes: Sequence[str], source: str) -> list[str]:
    """The class list with the base classes first; refuses malformed or repeated names."""
    bad = [c for c in classes if not isinstance(c, str) or not _CLASS_NAME.match(c)]
    if bad:
        raise LabelsError(f"{source}: class names must be lower-case words "
                          f"(letters, digits, _; at most 40): {bad}")
    repeated = sorted({c for c in classes if list(classes).count(c) > 1})
    if repeated:
        raise LabelsError(f"{source}: classes listed twice: {repeated}")
    return list(BASE_CLASSES) + [c for c in classes if c not in BASE_CLASSES]


def validate_labels(labels: Mapping, classes: Sequence[str], n_clusters: int,
                    source: str) -> dict[int, str]:
    """Cluster id -> class, refusing ids the clustering lacks and classes not declared.

    Every offending entry is listed in one error, so a person fixes the file once.
    """
    problems = []
    out: dict[int, str] = {}
    for key, name in labels.items():
        cluster = _cluster_id(key)
        if cluster is None or not 0 <= cluster < n_clusters:
            problems.append(f"cluster {key!r}: no such cluster (ids are 0..{n_clusters - 1})")
        elif name is None:
            continue  # explicitly unlabelled
        elif name not in classes:
            problems.append(f"cluster {key!r}: unknown label {name!r} (classes: {list(classes)})")
        elif cluster in out:
            problems.append(f"cluster {key!r}: labelled twice")
        else:
            out[cluster] = name
    if problems:
        raise LabelsError(f"{source}: {len(problems)} bad entr"
                          f"{'y' if len(problems) == 1 else 'ies'}:\n  " + "\n  ".join(problems))
    return dict(sorted(out.items()))


def _cluster_id(key: object) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and re.fullmatch(r"\d+", key.strip()):
        return int(key)
    return None


def read_labels(path: str | Path, clustering: Clustering | None = None) -> ClusterLabels:
    """Read and check a labels file; with ``clustering``, check its ids and fingerprint.

    Raises
    ------
    LabelsError
        malformed YAML, unknown labels, ids the clustering lacks, or labels made
        for another clustering (fingerprint differs); the message names the file.
    """
    path = Path(path)
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise LabelsError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(content, dict):
        raise LabelsError(f"{path}: expected a mapping with 'labels', "
                          f"found {type(content).__name__}")
    unknown = sorted(set(content) - {"clusters", "fingerprint", "classes", "labels"})
    if unknown:
        raise LabelsError(f"{path}: unknown keys {unknown}")
    labels = content.get("labels") or {}
    if not isinstance(labels, dict):
        raise LabelsError(f"{path}: 'labels' must map cluster ids to classes")
    classes = check_class_names(content.get("classes") or list(BASE_CLASSES), str(path))
    fingerprint = str(content.get("fingerprint") or "")
    n_clusters = clustering.n_clusters if clustering else _largest_id(labels) + 1
    checked = validate_labels(labels, classes, n_clusters, str(path))
    if clustering and fingerprint and fingerprint != clustering.fingerprint:
        raise LabelsError(
            f"{path}: made for another clustering (fingerprint {fingerprint}; "
            f"{clustering.path} has {clustering.fingerprint}). Cluster ids change when the "
            "map is trained again: relabel with `cryolearn label`.")
    return ClusterLabels(checked, classes, fingerprint, str(content.get("clusters") or ""))


def _largest_id(labels: Mapping) -> int:
    ids = [i for i in (_cluster_id(k) for k in labels) if i is not None]
    return max(ids, default=-1)


def format_labels(labels: ClusterLabels, notes: Mapping[int, str] | None = None) -> str:
    """The labels file's text, with a note (tile count, …) after each cluster's line."""
    notes = notes or {}
    lines = [
        "# Labels of OPTICS clusters (cryolearn: cluster id -> class).",
        "# Clusters left out are unlabelled: their tiles count as unknown, like noise tiles.",
        "# Relabel whenever the map is trained again: the ids belong to the fingerprinted run.",
        f"clusters: {labels.clusters or 'null'}",
        f"fingerprint: {labels.fingerprint or 'null'}",
        f"classes: [{', '.join(labels.classes)}]",
    ]
    if not labels.labels:
        lines.append("labels: {}")
    else:
        lines.append("labels:")
        for cluster, name in sorted(labels.labels.items()):
            note = f"  # {notes[cluster]}" if cluster in notes else ""
            lines.append(f"  {cluster}: {name}{note}")
    return "\n".join(lines) + "\n"


def write_labels(path: str | Path, labels: ClusterLabels,
                 notes: Mapping[int, str] | None = None) -> None:
    """Write the labels file atomically (a crash never leaves half a file)."""
    write_text_atomic(path, format_labels(labels, notes))


def tile_count_notes(clustering: Clustering) -> dict[int, str]:
    """'N tiles' per cluster, for the labels file."""
    return {c: f"{int(n)} tiles" for c, n in enumerate(clustering.tiles_per_cluster)}


def tile_classes(clustering: Clustering, labels_path: str | Path
                 ) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Class index of every library tile through its cluster's label; -1 for unknown.

    Returns
    -------
    tile_class : (n_tiles,) int32
    classes : class names of the labels file
    provenance : labels file, fingerprint, labelled and noise shares
    """
    labels = read_labels(labels_path, clustering)
    if not labels.labels:
        log.warning("%s labels no cluster: every shot's tiles are unknown", labels_path)
    cluster_class = labels.label_of_cluster(clustering.n_clusters)
    tile_label = clustering.tile_label
    tile_class = np.where(tile_label >= 0, cluster_class[np.maximum(tile_label, 0)], UNKNOWN)
    provenance = {
        "labels": str(labels_path), "fingerprint": clustering.fingerprint,
        "labelled_clusters": len(labels.labels), "n_clusters": clustering.n_clusters,
        "noise_tile_share": float((tile_label < 0).mean()) if len(tile_label) else 0.0,
        "unknown_tile_share": float((tile_class < 0).mean()) if len(tile_class) else 0.0,
    }
    return tile_class.astype(np.int32), labels.classes, provenance


def check_same_tiles(clustering: Clustering, library_store: str | Path) -> None:
    """Refuse a clustering whose tiles are not the library's, row for row."""
    library_hash = open_group(library_store)["hash"][:]
    if len(clustering.hash) != len(library_hash) or np.any(clustering.hash != library_hash):
        raise ValueError(f"{clustering.path}: its tiles are not those of {library_store} "
                         "(rows or hashes differ); rebuild the clusters from this library")
