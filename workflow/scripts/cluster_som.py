from cryolearn.crevasse.surfaces.clusters import cluster_settings, cluster_som_store
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    params = cluster_settings(snakemake.params.clusters)
    nodes = cluster_som_store(snakemake.input.som, snakemake.input.features,
                              snakemake.input.library, snakemake.output.clusters,
                              snakemake.output.montages, params, progress=True)
    log.info("%d OPTICS clusters", nodes.n_clusters)
