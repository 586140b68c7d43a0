from cryolearn.crevasse.shots.autoencoder import denoise_store
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    denoise_store(snakemake.input.model, snakemake.input.shots, snakemake.output[0],
                  device=snakemake.params.device)
