from pathlib import Path

from cryolearn.logs import logged
from cryolearn.synth.bedtopo import RegionSpec, write_region

with logged(snakemake.log[0]):
    # the region's folder and the truth folder are those of the declared outputs
    write_region(RegionSpec.from_dict(snakemake.params.region),
                 Path(snakemake.output.bedmachine).parent, Path(snakemake.output.truth).parent)
