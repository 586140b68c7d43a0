from cryolearn.crevasse.figures.original import plot_holdout_matches
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    shown = plot_holdout_matches(snakemake.input.holdout, snakemake.input.library,
                                 list(snakemake.input.truth), snakemake.output[0],
                                 time_window_ns=snakemake.params.time_window_ns)
    log.info("hold-out matches shown: %s", shown)
