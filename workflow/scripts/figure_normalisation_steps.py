from cryolearn.crevasse.figures.original import plot_normalisation_steps
from cryolearn.crevasse.surfaces.normalise import NormaliseParams
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    shown = plot_normalisation_steps(snakemake.input.library, snakemake.output[0],
                                     NormaliseParams(**snakemake.params.normalise),
                                     truth_stores=list(snakemake.input.truth))
    log.info("normalisation steps of %s", shown)
