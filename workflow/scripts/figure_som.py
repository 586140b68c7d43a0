from cryolearn.crevasse.figures.surfaces import (
    plot_neighbours_before_after,
    plot_reachability,
    plot_umatrix,
)
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    plot_umatrix(snakemake.input.som, snakemake.input.clusters, snakemake.output.umatrix)
    plot_reachability(snakemake.input.clusters, snakemake.output.reachability)
    query = plot_neighbours_before_after(snakemake.input.library, snakemake.input.features,
                                         snakemake.input.som, snakemake.output.neighbours,
                                         list(snakemake.input.truth), seed=snakemake.params.seed)
    log.info("neighbour figure: query tile %d", query)
