"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import torch

from cryolearn.nn.clustering import student_t_assignment, target_distribution


def test_student_t_assignments_sum_to_one_and_the_target_sharpens():
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(50, 4, generator=generator, dtype=torch.float64)
    centres = torch.randn(5, 4, generator=generator, dtype=torch.float64)
    q = student_t_assignment(z, centres)
    torch.testing.assert_close(q.sum(dim=1), torch.ones(50, dtype=torch.float64))
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(dim=1), torch.ones(50, dtype=torch.float64))
    entropy = lambda d: -(d * d.log()).sum(dim=1)  # noqa: E731
    assert (entropy(p) < entropy(q)).all()
    assert (p.max(dim=1).values > q.max(dim=1).values).all()
    # equal distances: uniform assignment
    torch.testing.assert_close(student_t_assignment(torch.zeros(1, 2), torch.eye(2)),
                               torch.full((1, 2), 0.5))
