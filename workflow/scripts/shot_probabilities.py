from cryolearn.crevasse.maps.probability import probability_settings, probability_store
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    counts = probability_store(snakemake.input.matches, snakemake.input.clusters,
                               snakemake.input.library, snakemake.input.labels,
                               snakemake.output[0],
                               probability_settings(snakemake.params.probability),
                               snakemake.input.get("classified") or None)
    log.info("%s", {k: counts[k] for k in ("n_shots", "n_matched", "n_with_probability",
                                            "n_too_few_known", "unknown_neighbour_share")})
