from cryolearn.crevasse.library.merge import build_library
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    summary = build_library(
        snakemake.input.tiles, snakemake.input.waveforms, snakemake.output[0],
        flights=snakemake.params.flights,
        holdout_share=snakemake.params.holdout_share,
        seed=snakemake.params.split_seed,
        memory_mb=snakemake.params.memory_mb,
    )
    log.info("library: %s", summary)
