# Matching cleaned shots to the simulated library: the index of the training
# split, k nearest library tiles per shot, and the hold-out experiment.


rule build_index:
    input:
        unpack(index_inputs),
    output:
        directory("results/index"),
    params:
        sigma_bins=lookup(dpath="autoencoder/target_sigma_bins", within=config),
        matching=lookup(dpath="matching", within=config),
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
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/match_shots.py"


rule evaluate_matching:
    input:
        index="results/index",
        library="results/library.zarr",
        model="results/models/autoencoder.pt",
        distributions="results/augment/distributions.zarr",
        truth=truth_targets(),
    output:
        report(
            "results/eval/matching.json",
            caption="../report/matching_eval.rst",
            category="Matching",
        ),
    params:
        matching=lookup(dpath="matching", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_matching/evaluate_matching.log",
    benchmark:
        "benchmarks/evaluate_matching/evaluate_matching.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/evaluate_matching.py"


rule figure_matches:
    input:
        library="results/library.zarr",
        shots=expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
        denoised=expand("results/denoised/{campaign}.zarr", campaign=CAMPAIGNS),
        matches=expand("results/matches/{campaign}.zarr", campaign=CAMPAIGNS),
        shot_truth=synthetic_shot_evaluation_inputs()["truth"],
        tile_truth=truth_targets(),
    output:
        report(
            "results/figures/matches.png",
            caption="../report/matches.rst",
            category="Matching",
        ),
    params:
        campaigns=CAMPAIGNS,
        time_window_ns=lookup(dpath="figures/time_window_ns", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_matches/figure_matches.log",
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/plot_matches.py"
