"""The hold-out experiment's scores: recall and class agreement by hand."""

import numpy as np
import pytest

from cryolearn.crevasse.evaluate.matching import agreement_scores, recall_at


def test_recall_and_agreement_known_answers():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 1], [5, 0, 0, 0]])
    assert recall_at(found, truth, 4) == pytest.approx((3 / 4 + 1 / 4) / 2)
    query_class = np.array([0, 1, -1])
    neighbours = np.array([[0, 0, 1, -1], [1, 2, 2, 2], [0, 0, 0, 0]])
    train_class = np.array([0, 0, 1, 2])
    scores = agreement_scores(query_class, neighbours, train_class)
    # valid neighbours of the two known queries: 3 + 4; agreeing: 2 + 1
    assert scores["class_agreement"] == pytest.approx(3 / 7)
    # chance = f_query · f_train = 0.5 * 0.5 + 0.5 * 0.25
    assert scores["chance"] == pytest.approx(0.375)
    assert scores["majority_accuracy"] == pytest.approx(0.5)
    assert scores["n_queries"] == 2
