from cryolearn.crevasse.figures.pipeline import plot_cleaned_shots
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    plot_cleaned_shots(snakemake.input.shots, snakemake.input.denoised, snakemake.output[0],
                       labels=snakemake.params.campaigns,
                       time_window_ns=snakemake.params.time_window_ns)
