from cryolearn.climate.workflow import cluster_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    cluster_step(snakemake.input[0], snakemake.wildcards.clustering,
                 int(snakemake.wildcards.seed), snakemake.params.settings, snakemake.output[0],
                 threads=snakemake.threads)
