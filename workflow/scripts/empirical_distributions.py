from cryolearn.crevasse.shots.augment import empirical_distributions
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    p = snakemake.params.augment
    dist = empirical_distributions(
        snakemake.input, snakemake.output[0], window=p["noise_window"],
        accept_v=p["noise_accept_v"], max_step_v=p["noise_max_step_v"],
        leading_edge_v=p["leading_edge_v"], width_edges_ns=p["width_edges_ns"],
        max_noise_windows=p["max_noise_windows"], seed=p["seed"],
    )
    log.info("%d noise windows, %d returns", len(dist.noise), len(dist.amplitude_v))
