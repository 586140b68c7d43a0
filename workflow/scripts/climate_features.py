from cryolearn.climate.workflow import features_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    features_step(list(snakemake.input), snakemake.params.data, snakemake.output[0])
