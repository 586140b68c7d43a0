# cryolearn: deep learning on ice-sheet geospatial data.
# Declarations only: config, includes, final targets (computed in common.smk).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/synth.smk"
include: "workflow/rules/library.smk"
include: "workflow/rules/shots.smk"
include: "workflow/rules/matching.smk"
include: "workflow/rules/surfaces.smk"
include: "workflow/rules/classify.smk"
include: "workflow/rules/maps.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/bedtopo.smk"
include: "workflow/rules/climate.smk"


rule all:
    input:
        final_targets(),
    default_target: True
