from pathlib import Path

from cryolearn.climate.workflow import figure_step
from cryolearn.logs import logged

# the synthetic regimes' folder, or None for real data
truth_dir = str(Path(snakemake.input.truth).parent) if snakemake.input.truth else None

with logged(snakemake.log[0]):
    figure_step(snakemake.input.features, snakemake.input.run, truth_dir,
                snakemake.output[0])
