from cryolearn.crevasse.surfaces.som import fit_som_store, som_settings
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]) as log:
    limit_threads(snakemake.threads)
    params, space = som_settings(snakemake.params.som)
    result = fit_som_store(snakemake.input[0], snakemake.output[0], params, space)
    log.info("SOM: %s", result.summary())
