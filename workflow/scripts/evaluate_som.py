from cryolearn.crevasse.evaluate.som import evaluate_som, som_evaluation_settings
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]) as log:
    limit_threads(snakemake.threads)
    result = evaluate_som(snakemake.input.features, snakemake.input.som, snakemake.input.clusters,
                          snakemake.input.library, list(snakemake.input.truth),
                          snakemake.output[0], som_evaluation_settings(snakemake.params.evaluation))
    log.info("ARI %.3f, purity %.3f; 4-NN class agreement raw %.3f, normalised %.3f",
             result["adjusted_rand_index"], result["purity"],
             result["neighbour_agreement_raw"], result["neighbour_agreement_normalised"])
