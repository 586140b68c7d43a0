from cryolearn.logs import logged
from cryolearn.synth.truth import tile_truth

with logged(snakemake.log[0]):
    tile_truth(snakemake.input.tiles, snakemake.params.truth_dir, snakemake.output[0])
