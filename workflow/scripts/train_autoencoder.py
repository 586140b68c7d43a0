from cryolearn.crevasse.shots.autoencoder import train_from_stores
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    train_from_stores(snakemake.input.library, snakemake.input.distributions, snakemake.output[0],
                      snakemake.params.training, checkpoint=snakemake.params.checkpoint,
                      threads=snakemake.threads)
