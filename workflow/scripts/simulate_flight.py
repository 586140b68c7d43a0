from cryolearn.crevasse.library.forward import simulate_store
from cryolearn.logs import logged
from cryolearn.runtime import limit_numba_threads

with logged(snakemake.log[0]):
    limit_numba_threads(snakemake.threads)
    simulate_store(snakemake.input[0], snakemake.output[0], **snakemake.params.forward)
