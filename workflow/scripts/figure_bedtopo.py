from cryolearn.bedtopo.figures import plot_maps_and_profiles
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    predictions = {"deeptoponet": snakemake.input.deeptoponet,
                   **dict(zip(snakemake.params.baselines, snakemake.input.baselines, strict=True))}
    plot_maps_and_profiles(snakemake.input.inputs, snakemake.input.holdout, predictions,
                           snakemake.input.truth or None, snakemake.input.model,
                           maps=snakemake.output.maps, profiles=snakemake.output.profiles,
                           training=snakemake.output.training)
