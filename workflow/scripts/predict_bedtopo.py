from cryolearn.bedtopo.workflow import predict_step
from cryolearn.logs import logged
from cryolearn.runtime import limit_threads

with logged(snakemake.log[0]):
    limit_threads(snakemake.threads)
    predict_step(snakemake.input.inputs, snakemake.input.model, snakemake.output.netcdf,
                 snakemake.output.geotiff, mc_samples=snakemake.params.mc_samples,
                 seed=snakemake.params.seed, device=snakemake.params.device)
