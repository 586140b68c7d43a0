from cryolearn.crevasse.maps.rasters import RasterGrid, yearly_map
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    tags = yearly_map(list(snakemake.input.shots), RasterGrid.from_json(snakemake.input.grid),
                      int(snakemake.wildcards.year), snakemake.output[0])
    log.info("%s", tags)
