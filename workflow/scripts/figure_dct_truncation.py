from cryolearn.crevasse.figures.original import plot_dct_truncation
from cryolearn.crevasse.surfaces.normalise import NormaliseParams
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    shown = plot_dct_truncation(snakemake.input.library, snakemake.input.features,
                                snakemake.input.dct, snakemake.output[0],
                                NormaliseParams(**snakemake.params.normalise),
                                truth_stores=list(snakemake.input.truth))
    log.info("DCT truncation: %s", shown)
