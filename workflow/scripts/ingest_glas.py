from cryolearn.crevasse.shots.ingest import ingest_campaign
from cryolearn.logs import logged

with logged(snakemake.log[0]) as log:
    report = ingest_campaign(snakemake.input, snakemake.output[0],
                             campaign=snakemake.wildcards.campaign)
    log.info("ingested: %s", report)
