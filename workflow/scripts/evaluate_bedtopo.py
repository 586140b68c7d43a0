from cryolearn.bedtopo.workflow import evaluate_step
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    predictions = {"deeptoponet": snakemake.input.deeptoponet,
                   **dict(zip(snakemake.params.baselines, snakemake.input.baselines, strict=True))}
    evaluate_step(snakemake.input.inputs, snakemake.input.holdout, predictions,
                  snakemake.input.faithful_model or None, snakemake.input.truth or None,
                  snakemake.params.evaluation, snakemake.output[0])
