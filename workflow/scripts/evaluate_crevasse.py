from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES
from cryolearn.crevasse.evaluate.crevasse import (
    CrevasseEvaluation,
    evaluate_crevasse,
    tile_crevassed_shares,
    write_campaign_table,
)
from cryolearn.crevasse.maps.rasters import ChangeBootstrap
from cryolearn.logs import logged
from cryolearn.settings import settings_from
from cryolearn.synth.world import SyntheticWorld, WorldParams

with logged(snakemake.log[0]) as log:
    campaigns = snakemake.params.campaigns
    years = snakemake.params.campaigns_of_year
    result = evaluate_crevasse(
        dict(zip(campaigns, snakemake.input.shots, strict=True)),
        dict(zip(campaigns, snakemake.input.truth, strict=True)),
        dict(zip(sorted(years), snakemake.input.maps, strict=True)),
        years, snakemake.params.change_pairs, snakemake.output.scores,
        settings_from(CrevasseEvaluation, snakemake.params.evaluation, "crevasse_evaluation"),
        world=SyntheticWorld(WorldParams.from_dict(snakemake.params.world)),
        crevassed_codes=[CLASS_CODE[name] for name in CREVASSED_CLASSES],
        matches_stores=dict(zip(campaigns, snakemake.input.matches, strict=True)),
        # matching's ceiling needs truth per library tile: synthetic DEMs only
        tile_crevassed=tile_crevassed_shares(snakemake.input.library,
                                             list(snakemake.input.tile_truth),
                                             CREVASSED_CLASSES)
        if snakemake.input.tile_truth else None,
        change_tifs=dict(zip(map(tuple, snakemake.params.change_pairs),
                             snakemake.input.changes, strict=True)),
        bootstrap=settings_from(ChangeBootstrap, snakemake.params.interval,
                                "maps.change_interval"))
    write_campaign_table(result, snakemake.output.table)
    log.info("overall ROC AUC %s, Brier %s", result["overall"]["roc_auc"],
             result["overall"]["brier"])
