import json
from pathlib import Path

from cryolearn.crevasse.figures.maps import plot_reliability
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    plot_reliability(json.loads(Path(snakemake.input[0]).read_text()), snakemake.output[0])
