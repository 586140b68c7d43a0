from cryolearn.crevasse.surfaces.normalise import NormaliseParams, normalise_library
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    summary = normalise_library(snakemake.input[0], snakemake.output.features,
                                snakemake.output.errors,
                                NormaliseParams(**snakemake.params.normalise))
    log.info("DCT reconstruction: %s", summary)
