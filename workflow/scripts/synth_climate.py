from pathlib import Path

from cryolearn.logs import logged
from cryolearn.synth.climate import ClimateSpec, write_climate

with logged(snakemake.log[0]):
    # the data folder and the truth folder are those of the declared outputs
    write_climate(ClimateSpec.from_dict(snakemake.params.climate),
                  Path(snakemake.output.data).parent, Path(snakemake.output.truth).parent)
