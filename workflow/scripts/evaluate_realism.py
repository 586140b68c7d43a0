from cryolearn.crevasse.evaluate.realism import realism_report, realism_settings
from cryolearn.crevasse.figures.realism import plot_realism
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    stores = dict(zip(snakemake.params.campaigns, snakemake.input.shots, strict=True))
    section = dict(snakemake.params.realism)
    real = section.pop("real")
    report, real_stats, synthetic_stats = realism_report(real, stores, snakemake.output.scores,
                                                         realism_settings(section))
    plot_realism(report, real_stats, synthetic_stats, snakemake.output.figure)
    if "skipped" in report:
        log.info("%s", report["skipped"])
    else:
        log.info("compared %d real with %d synthetic shots", report["n_real"],
                 report["n_synthetic"])
