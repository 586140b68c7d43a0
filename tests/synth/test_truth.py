"""Truth under footprints: class shares, open-crevasse share and relief, by hand."""

import numpy as np

from cryolearn.footprint import footprint_weights
from cryolearn.synth.truth import (
    OPEN_CREVASSE_DEPTH_M,
    footprint_class_fractions,
    footprint_open_crevasse_share,
    footprint_relief,
)

SIZE, PIXEL = 200, 0.5
C = (np.arange(SIZE) + 0.5 - SIZE / 2) * PIXEL


def test_a_tilted_plane_has_no_relief_and_a_step_has_its_known_sd():
    gx, gy = np.meshgrid(C, C)
    plane = (0.05 * gx - 0.02 * gy + 300.0)[None]
    np.testing.assert_allclose(footprint_relief(plane), [0.0], atol=1e-9)
    # a 2 m step across the centre, seen through a symmetric footprint: a plane fit
    # takes up part of it, so the sd is below the 1 m of a step about its mean
    step = np.where(gx < 0, 0.0, 2.0)[None]
    relief = footprint_relief(step)[0]
    assert 0.3 < relief < 1.0


def test_only_patches_deep_enough_count_as_open():
    depth = np.zeros((2, SIZE, SIZE))
    depth[0, :, 90:110] = 5.0                              # a 10 m wide open crevasse
    depth[1, :, 90:110] = 0.5 * OPEN_CREVASSE_DEPTH_M      # a closed, shallow trough
    w = footprint_weights(SIZE, PIXEL)
    share = footprint_open_crevasse_share(depth)
    np.testing.assert_allclose(share, [w[:, 90:110].sum(), 0.0])


def test_class_shares_sum_to_the_known_part():
    classes = np.zeros((1, SIZE, SIZE), np.uint8)
    classes[0, :, 100:] = 1
    classes[0, :10, :] = 255  # unknown rows far from the centre
    fractions = footprint_class_fractions(classes)[0]
    w = footprint_weights(SIZE, PIXEL)
    np.testing.assert_allclose(fractions.sum(), 1 - w[:10].sum())
    np.testing.assert_allclose(fractions[1], w[10:, 100:].sum())
