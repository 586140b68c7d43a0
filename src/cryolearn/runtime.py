"""Run-time settings of a workflow job."""

from __future__ import annotations


def limit_threads(n: int) -> None:
    """Use at most ``n`` CPU threads in PyTorch and FAISS (a workflow job's ``threads``)."""
    import faiss
    import torch

    n = max(1, int(n))
    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)
