# Bed topography (DeepTopoNet): inputs on the BedMachine grid, held-out flight
# lines, training under the holdout and faithful protocols, prediction, the
# kriging and linear baselines, evaluation and figures.


rule synth_bedtopo:
    output:
        bedmachine=bedtopo_paths()["bedmachine"],
        radar=directory(bedtopo_paths()["radar"]),
        smb=bedtopo_paths()["smb"],
        dhdt=bedtopo_paths()["dhdt"],
        vx=bedtopo_paths()["vx"],
        vy=bedtopo_paths()["vy"],
        truth=BEDTOPO_TRUTH,
    params:
        region=lookup(dpath="synth/bedtopo", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/synth_bedtopo/synth_bedtopo.log",
    benchmark:
        "benchmarks/synth_bedtopo/synth_bedtopo.tsv",
    resources:
        mem_mb=3000,
        runtime=15,
    script:
        "../scripts/synth_bedtopo.py"


rule bedtopo_inputs:
    input:
        unpack(bedtopo_inputs),
    output:
        directory("results/bedtopo/inputs.zarr"),
    params:
        fields=bedtopo_field_specs(),
        bounds=lookup(dpath="bedtopo/bounds", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/bedtopo_inputs/bedtopo_inputs.log",
    benchmark:
        "benchmarks/bedtopo_inputs/bedtopo_inputs.tsv"
    resources:
        mem_mb=6000,
        runtime=30,
    script:
        "../scripts/bedtopo_inputs.py"


rule bedtopo_holdout:
    input:
        inputs="results/bedtopo/inputs.zarr",
    output:
        "results/bedtopo/holdout.json",
    params:
        holdout=lookup(dpath="bedtopo/holdout", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/bedtopo_holdout/bedtopo_holdout.log",
    benchmark:
        "benchmarks/bedtopo_holdout/bedtopo_holdout.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/bedtopo_holdout.py"


rule train_bedtopo:
    input:
        inputs="results/bedtopo/inputs.zarr",
        holdout="results/bedtopo/holdout.json",
    output:
        "results/bedtopo/models/deeptoponet_{protocol}.pt",
    params:
        model=lookup(dpath="bedtopo/model", within=config),
        device=lookup(dpath="bedtopo/device", within=config),
        # checkpoints survive a killed job, so a rerun resumes instead of restarting
        checkpoint="results/bedtopo/models/checkpoints/deeptoponet_{protocol}.ckpt",
    conda:
        "../../envs/cryolearn.yaml"
    # a long chain to the bed's scores: before the crevasse pipeline's evaluations
    priority: 1
    log:
        "logs/train_bedtopo/{protocol}.log",
    benchmark:
        "benchmarks/train_bedtopo/{protocol}.tsv"
    # half the machine: the other half keeps the rest of the workflow moving
    threads: half_the_cores
    resources:
        mem_mb=8000,
        runtime=720,
    script:
        "../scripts/train_bedtopo.py"


rule predict_bedtopo:
    input:
        inputs="results/bedtopo/inputs.zarr",
        model="results/bedtopo/models/deeptoponet_{protocol}.pt",
    output:
        netcdf="results/bedtopo/deeptoponet_{protocol}.nc",
        geotiff="results/bedtopo/deeptoponet_{protocol}.tif",
    params:
        mc_samples=lookup(dpath="bedtopo/prediction/mc_samples", within=config),
        seed=lookup(dpath="bedtopo/prediction/seed", within=config),
        device=lookup(dpath="bedtopo/device", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/predict_bedtopo/{protocol}.log",
    benchmark:
        "benchmarks/predict_bedtopo/{protocol}.tsv"
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/predict_bedtopo.py"


rule bedtopo_baseline:
    input:
        inputs="results/bedtopo/inputs.zarr",
        holdout="results/bedtopo/holdout.json",
    output:
        "results/bedtopo/baselines/{method}.nc",
    params:
        settings=lambda wildcards: config["bedtopo"]["baselines"].get(wildcards.method, {}),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/bedtopo_baseline/{method}.log",
    benchmark:
        "benchmarks/bedtopo_baseline/{method}.tsv"
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/bedtopo_baseline.py"


rule evaluate_bedtopo:
    input:
        unpack(bedtopo_evaluation_inputs),
    output:
        report(
            "results/eval/bedtopo.json",
            caption="../report/bedtopo_eval.rst",
            category="Bed topography",
        ),
    params:
        baselines=BEDTOPO_BASELINES,
        evaluation=lookup(dpath="bedtopo/evaluation", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_bedtopo/evaluate_bedtopo.log",
    benchmark:
        "benchmarks/evaluate_bedtopo/evaluate_bedtopo.tsv"
    resources:
        mem_mb=6000,
        runtime=30,
    script:
        "../scripts/evaluate_bedtopo.py"


rule figure_bedtopo:
    input:
        unpack(bedtopo_evaluation_inputs),
        model="results/bedtopo/models/deeptoponet_holdout.pt",
    output:
        maps=report(
            "results/figures/bedtopo_maps.png",
            caption="../report/bedtopo_maps.rst",
            category="Bed topography",
        ),
        profiles=report(
            "results/figures/bedtopo_profiles.png",
            caption="../report/bedtopo_profiles.rst",
            category="Bed topography",
        ),
        training=report(
            "results/figures/bedtopo_training.png",
            caption="../report/bedtopo_training.rst",
            category="Bed topography",
        ),
    params:
        baselines=BEDTOPO_BASELINES,
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_bedtopo/figure_bedtopo.log",
    benchmark:
        "benchmarks/figure_bedtopo/figure_bedtopo.tsv",
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../scripts/figure_bedtopo.py"


rule bedtopo:
    # target rule: only the bed-topography outputs (`snakemake bedtopo`)
    input:
        bedtopo_targets(force=True),
