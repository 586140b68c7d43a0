# Matching cleaned shots to the library (cryolearn.crevasse.matching): the index
# of the training split and the k nearest library tiles of every shot.


rule build_index:
    input:
        unpack(index_inputs),
    output:
        directory("results/index"),
    params:
        sigma_bins=lookup(dpath="autoencoder/target_sigma_bins", within=config),
        matching=lookup(dpath="matching", within=config),
        align=lookup(dpath="align", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/build_index/build_index.log",
    benchmark:
        "benchmarks/build_index/build_index.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/build_index.py"


rule match_shots:
    input:
        index="results/index",
        denoised="results/denoised/{campaign}.zarr",
        shots="results/shots/{campaign}.zarr",
    output:
        directory("results/matches/{campaign}.zarr"),
    params:
        matching=lookup(dpath="matching", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/match_shots/{campaign}.log",
    benchmark:
        "benchmarks/match_shots/{campaign}.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/match_shots.py"
