from pathlib import Path

import numba

from cryolearn.crevasse.library.forward import forward_model
from cryolearn.logs import logged
from cryolearn.synth.glas import fly_and_write

with logged(snakemake.log[0]):
    # the forward model's kernel runs on the job's threads: a spare pool would spin
    # between the footprints' batches on the core another job is using
    numba.set_num_threads(max(1, min(snakemake.threads, numba.config.NUMBA_NUM_THREADS)))
    fly_and_write(snakemake.params.world, snakemake.params.glas, snakemake.wildcards.campaign,
                  forward_model(**snakemake.params.forward), Path(snakemake.output.glah01).parent,
                  snakemake.output.truth)
