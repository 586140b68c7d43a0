from pathlib import Path

from cryolearn.crevasse.library.forward import forward_model
from cryolearn.logs import logged
from cryolearn.runtime import limit_numba_threads
from cryolearn.synth.glas import fly_and_write

with logged(snakemake.log[0]):
    limit_numba_threads(snakemake.threads)  # the forward model's kernel
    fly_and_write(snakemake.params.world, snakemake.params.glas, snakemake.wildcards.campaign,
                  forward_model(**snakemake.params.forward), Path(snakemake.output.glah01).parent,
                  snakemake.output.truth)
