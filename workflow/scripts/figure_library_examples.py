from cryolearn.crevasse.figures.pipeline import plot_library_examples
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    picks = plot_library_examples(snakemake.input.library, snakemake.output[0],
                                  truth_stores=snakemake.input.truth,
                                  time_window_ns=snakemake.params.time_window_ns)
    log.info("examples: %s", picks)
