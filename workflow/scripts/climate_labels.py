from cryolearn.climate.workflow import labels_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    labels_step(list(snakemake.input.runs), snakemake.output.csv, snakemake.output.netcdf)
