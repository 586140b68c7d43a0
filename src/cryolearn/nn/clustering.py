"""The Student's-t cluster-assignment layer and the KL clustering loss (DEC).

Xie, Girshick and Farhadi (2016), "Unsupervised deep embedding for clustering
analysis", eq. 1–3, used by DTC (Madiraju et al. 2018) and DSC (Faruque et al.
2023):

* soft assignment of embedded point z_i to centre μ_j,
  q_ij = (1 + ‖z_i − μ_j‖² / α)^(−(α+1)/2) / Σ_j' (…);
* target distribution p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), with the soft
  cluster frequency f_j = Σ_i q_ij: it sharpens the assignments and keeps large
  clusters from swallowing the others;
* clustering loss KL(P ‖ Q) = Σ_i Σ_j p_ij log(p_ij / q_ij), averaged over the
  batch, with P held constant (recomputed every so many iterations).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class StudentTAssignment(nn.Module):
    """Soft assignments of embeddings to ``n_clusters`` trainable centres.

    Parameters
    ----------
    n_clusters : number of clusters k
    latent_dim : dimension d of the embeddings
    alpha : degrees of freedom of the Student's t kernel (1 in DEC and DSC)
    """

    def __init__(self, n_clusters: int, latent_dim: int, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.centres = nn.Parameter(torch.zeros(n_clusters, latent_dim))

    def forward(self, z: Tensor) -> Tensor:
        """(n, d) embeddings → (n, k) assignments, each row summing to one."""
        return student_t_assignment(z, self.centres, self.alpha)


def student_t_assignment(z: Tensor, centres: Tensor, alpha: float = 1.0) -> Tensor:
    """q_ij of DEC eq. 1 for embeddings (n, d) and centres (k, d)."""
    squared = ((z.unsqueeze(1) - centres.unsqueeze(0)) ** 2).sum(dim=2)
    kernel = (1.0 + squared / alpha) ** (-(alpha + 1.0) / 2.0)
    return kernel / kernel.sum(dim=1, keepdim=True)


def target_distribution(q: Tensor) -> Tensor:
    """p_ij of DEC eq. 3 (no gradient: it is a fixed target)."""
    q = q.detach()
    weight = q**2 / q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_clustering_loss(q: Tensor, p: Tensor) -> Tensor:
    """KL(P ‖ Q) summed over clusters and averaged over the n rows.

    Terms with p_ij = 0 contribute nothing (0 log 0 = 0).
    """
    ratio = torch.where(p > 0, p / q, torch.ones_like(q))
    return (p * torch.log(ratio)).sum() / q.shape[0]
