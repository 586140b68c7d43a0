from cryolearn.crevasse.classify.model import classify_store
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    classify_store(snakemake.input.model, snakemake.input.shots, snakemake.output[0])
