from cryolearn.crevasse.maps.rasters import grid_around_stores, grid_for_bounds
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    if snakemake.params.bounds is not None:
        grid = grid_for_bounds(snakemake.params.bounds, snakemake.params.cell_m)
    else:
        grid = grid_around_stores(list(snakemake.input), snakemake.params.cell_m)
    grid.to_json(snakemake.output[0])
    log.info("map grid: %s", grid)
