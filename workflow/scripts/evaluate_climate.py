from pathlib import Path

from cryolearn.climate.workflow import evaluate_step
from cryolearn.logs import logged

# the synthetic regimes' folder, or None for real data
truth_dir = str(Path(snakemake.input.truth).parent) if snakemake.input.truth else None

with logged(snakemake.log[0]):
    evaluate_step(snakemake.input.features, list(snakemake.input.runs),
                  truth_dir, snakemake.output.json,
                  snakemake.output.markdown, snakemake.params.evaluation)
