"""Montages a person labels clusters from, and the tile hillshade."""

import matplotlib.image
import numpy as np
from helpers import write_clustering

from cryolearn.crevasse.surfaces.montages import hillshade, write_montages


def test_a_flat_tile_shades_evenly_and_a_ridge_does_not():
    flat = hillshade(np.zeros((20, 20)))
    assert flat.shape == (20, 20, 4) and np.ptp(flat[..., :3], axis=(0, 1)).max() < 1e-9
    ridge = hillshade(np.tile(np.abs(np.arange(20.0) - 10), (20, 1)))
    # the two flanks face the light differently: north-west lit against shadowed
    assert abs(ridge[10, 5, :3].mean() - ridge[10, 15, :3].mean()) > 0.1


def test_one_montage_per_cluster_in_cluster_order(tmp_path):
    stores = write_clustering(tmp_path, np.array([0, 0, 1, 1, 1, -1]), 2)
    central = np.array([[0, 1, -1], [2, 3, 4]])
    out = tmp_path / "pages"
    write_montages(stores["library"], central, np.array([0, 0, 1, 1, 1, -1]), np.array([0, 1]),
                   out)
    pages = sorted(p.name for p in out.glob("*.png"))
    assert pages == ["cluster_0000.png", "cluster_0001.png"]
    # 2 tiles make a 2 × 2 page, 3 tiles too: both 1.9 in × 2 + 0.5 in at 90 dpi
    for page in pages:
        assert matplotlib.image.imread(out / page).shape[:2] == (387, 342)
