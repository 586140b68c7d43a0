from cryolearn.crevasse.figures.pipeline import plot_matches
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    picks = plot_matches(
        snakemake.input.library, snakemake.input.shots, snakemake.input.denoised,
        snakemake.input.matches, snakemake.output[0], labels=snakemake.params.campaigns,
        shot_truth_stores=list(snakemake.input.shot_truth),
        tile_truth_stores=list(snakemake.input.tile_truth),
        time_window_ns=snakemake.params.time_window_ns)
    log.info("shots shown: %s", picks)
