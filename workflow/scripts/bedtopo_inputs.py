from cryolearn.bedtopo.workflow import prepare_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    prepare_step(snakemake.input.bedmachine, snakemake.params.fields, snakemake.input.radar,
                 snakemake.params.bounds, snakemake.output[0])
