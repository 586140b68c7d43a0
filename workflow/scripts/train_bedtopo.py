from cryolearn.bedtopo.workflow import train_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    train_step(snakemake.input.inputs, snakemake.input.holdout, snakemake.wildcards.protocol,
               snakemake.params.model, snakemake.output[0],
               checkpoint=snakemake.params.checkpoint, device=snakemake.params.device,
               threads=snakemake.threads)
