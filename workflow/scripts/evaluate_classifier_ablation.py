from cryolearn.classes import CREVASSED_CLASSES
from cryolearn.crevasse.classify.model import classifier_settings
from cryolearn.crevasse.evaluate.ablation import ablation
from cryolearn.crevasse.evaluate.crevasse import CrevasseEvaluation, tile_crevassed_shares
from cryolearn.crevasse.maps.probability import probability_settings
from cryolearn.crevasse.matching.match import matching_settings
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads
from cryolearn.settings import settings_from

with logged(snakemake.log[0]):
    limit_threads(snakemake.threads)
    campaigns = snakemake.params.campaigns

    def by_campaign(paths):
        return dict(zip(campaigns, paths, strict=True))

    tile_truth = list(snakemake.input.tile_truth)
    matching = matching_settings(snakemake.params.matching)
    ablation(
        snakemake.input.library, snakemake.input.clusters, snakemake.input.labels,
        snakemake.input.distributions, by_campaign(snakemake.input.shots),
        by_campaign(snakemake.input.crevasse), by_campaign(snakemake.input.truth),
        by_campaign(snakemake.input.matches),
        tile_crevassed_shares(snakemake.input.library, tile_truth, CREVASSED_CLASSES)
        if tile_truth else None,
        by_campaign(snakemake.input.classified),
        classifier_settings(snakemake.params.classifier, snakemake.params.align),
        settings_from(CrevasseEvaluation, snakemake.params.evaluation, "crevasse_evaluation"),
        snakemake.output[0],
        matching={"k": matching.k, "offsets": matching.offsets, "draws": matching.draws},
        probability_settings=probability_settings(snakemake.params.probability))
