from cryolearn.classes import CREVASSED_CLASSES
from cryolearn.crevasse.evaluate.cleaning import evaluate_autoencoder
from cryolearn.crevasse.evaluate.crevasse import tile_crevassed_shares
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]) as log:
    limit_threads(snakemake.threads)
    e = snakemake.params.evaluation
    tile_truth = list(snakemake.input.tile_truth)
    crevassed = (tile_crevassed_shares(snakemake.input.library, tile_truth, CREVASSED_CLASSES)
                 if tile_truth else None)
    result = evaluate_autoencoder(
        snakemake.input.model, snakemake.input.library, snakemake.input.distributions,
        snakemake.output[0], seed=e["seed"], repeats=e["repeats"],
        xcorr_sigma_bins=e["xcorr_sigma_bins"],
        target_sigma_bins=snakemake.params.target_sigma_bins,
        pulse_fwhm_ns=snakemake.params.pulse_fwhm_ns, lead_ns=snakemake.params.lead_ns,
        shot_stores=list(snakemake.input.shots), truth_stores=list(snakemake.input.truth),
        tile_crevassed=crevassed, max_waveforms=e["max_waveforms"], max_shots=e["max_shots"],
    )
    log.info("evaluation: %s", result)
