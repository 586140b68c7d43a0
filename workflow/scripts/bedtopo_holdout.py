from cryolearn.bedtopo.workflow import holdout_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    holdout_step(snakemake.input.inputs, snakemake.params.holdout, snakemake.output[0])
