from cryolearn.bedtopo.workflow import baseline_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    baseline_step(snakemake.input.inputs, snakemake.input.holdout, snakemake.wildcards.method,
                  snakemake.params.settings, snakemake.output[0])
