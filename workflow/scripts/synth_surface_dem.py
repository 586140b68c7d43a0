from cryolearn.logs import logged
from cryolearn.synth.surface import write_surface_dem

with logged(snakemake.log[0]) as log:
    path = write_surface_dem(snakemake.params.world, snakemake.output[0])
    log.info("regional surface DEM: %s", path)
