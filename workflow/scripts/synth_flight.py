from cryolearn.logs import logged
from cryolearn.synth.flights import write_frames

with logged(snakemake.log[0]) as log:
    write_frames(snakemake.params.world, snakemake.params.spec, list(snakemake.output.dem),
                 list(snakemake.output.truth), progress=False)
    log.info("%d frames written", len(snakemake.output.dem))
