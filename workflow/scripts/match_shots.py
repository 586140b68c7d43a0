from cryolearn.crevasse.matching.match import match_store, matching_settings
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]) as log:
    limit_threads(snakemake.threads)
    settings = matching_settings(snakemake.params.matching)
    counts = match_store(snakemake.input.index, snakemake.input.denoised, snakemake.output[0],
                         backend=settings.backend, k=settings.k, offsets=settings.offsets,
                         min_snr=settings.min_snr, exact=settings.exact,
                         approximate=settings.approximate, shots_store=snakemake.input.shots)
    log.info("matched: %s", counts)
