from cryolearn.crevasse.shots.autoencoder import denoise_store
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]):
    limit_threads(snakemake.threads)
    denoise_store(snakemake.input.model, snakemake.input.shots, snakemake.output[0],
                  device=snakemake.params.device)
