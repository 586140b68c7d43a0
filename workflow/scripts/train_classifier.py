from cryolearn.crevasse.classify.model import classifier_settings, train_classifier
from cryolearn.crevasse.classify.pulses import campaign_pulses
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]):
    limit_threads(snakemake.threads)
    shots = dict(zip(snakemake.params.campaigns, snakemake.input.shots, strict=True))
    train_classifier(snakemake.input.library, snakemake.input.clusters, snakemake.input.labels,
                     snakemake.input.distributions, campaign_pulses(shots),
                     snakemake.output.model, snakemake.output.report,
                     classifier_settings(snakemake.params.classifier,
                                         snakemake.params.align))
