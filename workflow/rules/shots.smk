# GLAS shots (cryolearn.crevasse.shots): ingestion per campaign, the empirical
# distributions of what the instrument recorded, the autoencoder trained on
# degraded library waveforms, and every campaign's cleaned shots.


rule ingest_glas:
    input:
        campaign_inputs,
    output:
        directory("results/shots/{campaign}.zarr"),
    conda:
        "../../envs/cryolearn.yaml"
    # the crevasse chain to the autoencoder is the demo's longest: first on few cores
    priority: 1
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
    # the crevasse chain to the autoencoder is the demo's longest: first on few cores
    priority: 1
    log:
        "logs/empirical_distributions/empirical_distributions.log",
    benchmark:
        "benchmarks/empirical_distributions/empirical_distributions.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/empirical_distributions.py"


rule train_autoencoder:
    input:
        library="results/library.zarr",
        distributions="results/augment/distributions.zarr",
    output:
        "results/models/autoencoder.pt",
    params:
        training=lookup(dpath="autoencoder", within=config),
        # checkpoints survive a killed job, so a rerun resumes instead of restarting
        checkpoint="results/models/checkpoints/autoencoder.ckpt",
    conda:
        "../../envs/cryolearn.yaml"
    # the crevasse chain to the autoencoder is the demo's longest: first on few cores
    priority: 1
    log:
        "logs/train_autoencoder/train_autoencoder.log",
    benchmark:
        "benchmarks/train_autoencoder/train_autoencoder.tsv"
    # half the machine: the other half keeps the rest of the workflow moving
    threads: half_the_cores
    resources:
        mem_mb=6000,
        runtime=240,
    script:
        "../scripts/train_autoencoder.py"


rule denoise_shots:
    input:
        model="results/models/autoencoder.pt",
        shots="results/shots/{campaign}.zarr",
    output:
        directory("results/denoised/{campaign}.zarr"),
    params:
        device=lookup(dpath="autoencoder/device", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/denoise_shots/{campaign}.log",
    benchmark:
        "benchmarks/denoise_shots/{campaign}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/denoise_shots.py"
