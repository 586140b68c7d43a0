from cryolearn.logs import logged
from cryolearn.synth.flights import write_frames

with logged(snakemake.log[0]):
    write_frames(snakemake.params.world, snakemake.params.spec,
                 [snakemake.output.dem], [snakemake.output.truth], progress=False)
