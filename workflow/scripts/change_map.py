from cryolearn.crevasse.maps.rasters import ChangeBootstrap, change_map
from cryolearn.logs import logged
from cryolearn.settings import settings_from

with logged(snakemake.log[0]) as log:
    tags = change_map(snakemake.input.earlier, snakemake.input.later, snakemake.output[0],
                      list(snakemake.input.earlier_shots), list(snakemake.input.later_shots),
                      settings_from(ChangeBootstrap, snakemake.params.interval,
                                    "maps.change_interval"))
    log.info("%s", tags)
