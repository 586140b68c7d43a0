import numba

from cryolearn.crevasse.library.forward import simulate_store
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    numba.set_num_threads(max(1, min(snakemake.threads, numba.config.NUMBA_NUM_THREADS)))
    simulate_store(snakemake.input[0], snakemake.output[0], **snakemake.params.forward)
