from cryolearn.crevasse.evaluate.matching import evaluate_matching
from cryolearn.crevasse.matching.match import matching_settings
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]) as log:
    limit_threads(snakemake.threads)
    settings = matching_settings(snakemake.params.matching)
    evaluation = snakemake.params.matching.get("evaluation", {})
    result = evaluate_matching(
        snakemake.input.index, snakemake.input.library, snakemake.input.model,
        snakemake.input.distributions, list(snakemake.input.truth), snakemake.output.scores,
        k=settings.k, offsets=settings.offsets, seed=evaluation.get("seed", 1),
        offset_sweep=evaluation.get("offset_sweep", []), exact=settings.exact,
        approximate=settings.approximate, out_holdout=snakemake.output.holdout,
        max_queries=evaluation.get("max_queries"))
    log.info("class agreement %.3f (chance %.3f)", result["exact"]["class_agreement"],
             result["exact"]["chance"])
