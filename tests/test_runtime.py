"""A workflow job's thread limits."""

import numba

from cryolearn.runtime import limit_numba_threads


def test_numba_threads_are_the_jobs_within_what_numba_has():
    before = numba.get_num_threads()
    try:
        limit_numba_threads(1)
        assert numba.get_num_threads() == 1
        limit_numba_threads(0)  # a job has at least one thread
        assert numba.get_num_threads() == 1
        limit_numba_threads(10_000)  # no more than numba's pool
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(before)
