# GLAS shots: synthetic campaigns (when glas.source is synthetic), ingestion per
# campaign, and the empirical distributions of what the instrument recorded.


rule synth_glas:
    output:
        glah01=f"{GLAS_DIR}/{{campaign}}/GLAH01_033_{{campaign}}_synthetic_0001.H5",
        glah06=f"{GLAS_DIR}/{{campaign}}/GLAH06_634_{{campaign}}_synthetic_0001.H5",
        truth=directory(f"{TRUTH_DIR}/glas/{{campaign}}.zarr"),
    params:
        world=lookup(dpath="synth/world", within=config),
        glas=lookup(dpath="synth/glas", within=config),
        forward=forward_params(),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/synth_glas/{campaign}.log",
    benchmark:
        "benchmarks/synth_glas/{campaign}.tsv"
    resources:
        mem_mb=3000,
        runtime=30,
    script:
        "../scripts/synth_glas.py"


rule ingest_glas:
    input:
        campaign_inputs,
    output:
        directory("results/shots/{campaign}.zarr"),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/ingest_glas/{campaign}.log",
    benchmark:
        "benchmarks/ingest_glas/{campaign}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/ingest_glas.py"


rule empirical_distributions:
    input:
        expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
    output:
        directory("results/augment/distributions.zarr"),
    params:
        augment=lookup(dpath="augment", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/empirical_distributions/empirical_distributions.log",
    benchmark:
        "benchmarks/empirical_distributions/empirical_distributions.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/empirical_distributions.py"
