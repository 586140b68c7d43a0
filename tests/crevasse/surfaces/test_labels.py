"""The cluster labels file: checks, extra classes, fingerprints, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import REPO_ROOT

from cryolearn.crevasse.surfaces.labels import (
    Clustering,
    ClusterLabels,
    LabelsError,
    read_labels,
    validate_labels,
    write_labels,
)

CREVASSE, NOT = 0, 1


def clustering_of(n_clusters: int, fingerprint: str, path: str = "c") -> Clustering:
    """A clustering of one tile per cluster, for checking labels files against."""
    return Clustering(str(path), n_clusters, fingerprint, np.arange(n_clusters),
                      np.array([f"h{i}" for i in range(n_clusters)]))


def test_labels_naming_missing_clusters_or_unknown_classes_are_rejected_listing_each(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("labels:\n  0: crevasse\n  7: crevasse\n  1: lake\n  x: not_crevasse\n")
    with pytest.raises(LabelsError) as err:
        read_labels(path, clustering_of(3, "abc", str(tmp_path)))
    message = str(err.value)
    assert str(path) in message and "3 bad entries" in message
    assert "cluster 7: no such cluster (ids are 0..2)" in message
    assert "cluster 1: unknown label 'lake'" in message
    assert "cluster 'x': no such cluster" in message


def test_a_declared_extra_class_is_accepted_and_written_back(tmp_path):
    path = tmp_path / "labels.yaml"
    labels = ClusterLabels({0: "crevasse", 2: "lake"}, ["crevasse", "not_crevasse", "lake"],
                           fingerprint="f00d", clusters="results/clusters/clusters.zarr")
    write_labels(path, labels, {0: "12 tiles"})
    assert "0: crevasse  # 12 tiles" in path.read_text()
    again = read_labels(path, clustering_of(3, "f00d", "c"))
    assert again.labels == {0: "crevasse", 2: "lake"}
    assert again.classes == ["crevasse", "not_crevasse", "lake"]
    np.testing.assert_array_equal(again.label_of_cluster(3), [0, -1, 2])


def test_labels_made_for_another_clustering_are_refused(tmp_path):
    path = tmp_path / "labels.yaml"
    write_labels(path, ClusterLabels({0: "crevasse"}, fingerprint="aaaa"))
    with pytest.raises(LabelsError, match="another clustering"):
        read_labels(path, clustering_of(2, "bbbb", "clusters.zarr"))


def test_the_shipped_labels_template_is_valid():
    template = REPO_ROOT / "config" / "cluster_labels.yaml"
    labels = read_labels(template, clustering_of(5, "any", "c"))
    assert labels.labels == {} and labels.classes == ["crevasse", "not_crevasse"]


def test_validate_labels_keeps_explicitly_unlabelled_clusters_out():
    assert validate_labels({"0": "crevasse", 1: None}, ["crevasse"], 2, "x") == {0: "crevasse"}


def test_labels_write_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "labels.yaml"
    write_labels(path, ClusterLabels({0: "crevasse"}))
    before = path.read_text()

    def fail(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_labels(path, ClusterLabels({0: "not_crevasse"}))
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["labels.yaml"]
