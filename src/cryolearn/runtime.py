"""Run-time settings of a workflow job."""

from __future__ import annotations


def limit_threads(n: int) -> None:
    """Use at most ``n`` CPU threads in PyTorch, FAISS and the OpenMP and BLAS pools that
    scikit-learn's trees use (a workflow job's ``threads``)."""
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    n = max(1, int(n))
    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)
    threadpool_limits(limits=n)
