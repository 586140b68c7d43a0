"""Run-time settings of a workflow job."""

from __future__ import annotations

import os
import sys


def limit_numba_threads(n: int) -> None:
    """Run numba's parallel kernels on at most ``n`` threads (a workflow job's
    ``threads``): a spare pool spins between kernels on a core another job is using."""
    import numba

    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


def limit_threads(n: int) -> None:
    """Use at most ``n`` CPU threads in PyTorch, FAISS and the OpenMP and BLAS pools that
    scikit-learn's trees use (a workflow job's ``threads``).

    PyTorch and numba are limited only when the job has imported them: importing
    PyTorch costs two seconds, and a later import takes its threads from
    ``OMP_NUM_THREADS``, which limits the pools here too.
    """
    import faiss
    from threadpoolctl import threadpool_limits

    n = max(1, int(n))
    os.environ["OMP_NUM_THREADS"] = str(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    if "numba" in sys.modules:
        limit_numba_threads(n)
    faiss.omp_set_num_threads(n)
    threadpool_limits(limits=n)
