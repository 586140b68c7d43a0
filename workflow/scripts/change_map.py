from cryolearn.crevasse.maps.rasters import change_map
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    tags = change_map(snakemake.input.earlier, snakemake.input.later, snakemake.output[0])
    log.info("%s", tags)
