from cryolearn.crevasse.matching.match import build_index, matching_settings
from cryolearn.crevasse.shots.align import align_settings
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]) as log:
    limit_threads(snakemake.threads)
    settings = matching_settings(snakemake.params.matching)
    meta = build_index(snakemake.input.library, snakemake.output[0],
                       sigma_bins=snakemake.params.sigma_bins,
                       approximate=settings.approximate, seed=settings.seed,
                       space=settings.space, draws=settings.draws,
                       model_path=snakemake.input.get("model"),
                       distributions_store=snakemake.input.get("distributions"),
                       align_settings=align_settings(snakemake.params.align))
    log.info("index: %s", meta)
