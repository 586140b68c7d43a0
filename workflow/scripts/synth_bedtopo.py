from cryolearn.logs import logged
from cryolearn.synth.bedtopo import RegionSpec, write_region

with logged(snakemake.log[0]):
    write_region(RegionSpec.from_dict(snakemake.params.region), snakemake.params.out,
                 snakemake.params.truth)
