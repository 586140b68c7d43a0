from cryolearn.crevasse.classify.model import classify_store
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]):
    limit_threads(snakemake.threads)
    classify_store(snakemake.input.model, snakemake.input.shots, snakemake.output[0])
