# Figures of the crevasse pipeline (cryolearn.crevasse.figures), one rule each.


rule figure_library_examples:
    input:
        library="results/library.zarr",
        truth=truth_targets(),
    output:
        report(
            "results/figures/library_examples.png",
            caption="../report/library_examples.rst",
            category="Waveform library",
        ),
    params:
        time_window_ns=lookup(dpath="figures/time_window_ns", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_library_examples/figure_library_examples.log",
    benchmark:
        "benchmarks/figure_library_examples/figure_library_examples.tsv",
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../scripts/figure_library_examples.py"


rule figure_autoencoder_training:
    input:
        "results/models/autoencoder.pt",
    output:
        report(
            "results/figures/autoencoder_training.png",
            caption="../report/autoencoder_training.rst",
            category="Autoencoder",
        ),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_autoencoder_training/figure_autoencoder_training.log",
    benchmark:
        "benchmarks/figure_autoencoder_training/figure_autoencoder_training.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figure_autoencoder_training.py"


rule figure_cleaned_shots:
    input:
        shots=expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
        denoised=expand("results/denoised/{campaign}.zarr", campaign=CAMPAIGNS),
    output:
        report(
            "results/figures/cleaned_shots.png",
            caption="../report/cleaned_shots.rst",
            category="Autoencoder",
        ),
    params:
        campaigns=CAMPAIGNS,
        time_window_ns=lookup(dpath="figures/time_window_ns", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_cleaned_shots/figure_cleaned_shots.log",
    benchmark:
        "benchmarks/figure_cleaned_shots/figure_cleaned_shots.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figure_cleaned_shots.py"


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
    benchmark:
        "benchmarks/figure_matches/figure_matches.tsv",
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/figure_matches.py"


rule figure_som:
    input:
        som="results/som/som.zarr",
        clusters="results/clusters/clusters.zarr",
        features="results/features/tiles_dct.zarr",
        library="results/library.zarr",
        truth=truth_targets(),
    output:
        umatrix=report(
            "results/figures/som_umatrix.png",
            caption="../report/som_umatrix.rst",
            category="Surface types",
        ),
        reachability=report(
            "results/figures/optics_reachability.png",
            caption="../report/optics_reachability.rst",
            category="Surface types",
        ),
        neighbours=report(
            "results/figures/tile_neighbours.png",
            caption="../report/tile_neighbours.rst",
            category="Surface types",
        ),
    params:
        seed=lookup(dpath="clusters/evaluation/seed", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_som/figure_som.log",
    benchmark:
        "benchmarks/figure_som/figure_som.tsv",
    resources:
        mem_mb=8000,
        runtime=20,
    script:
        "../scripts/figure_som.py"


rule figure_crevasse_maps:
    input:
        maps=year_maps(),
        changes=change_maps(),
        background=background_dem(),
    output:
        maps=report(
            "results/figures/crevasse_maps.png",
            caption="../report/crevasse_maps.rst",
            category="Crevasse maps",
        ),
        changes=report(
            "results/figures/crevasse_change.png",
            caption="../report/crevasse_change.rst",
            category="Crevasse maps",
        ),
    params:
        years=sorted(CAMPAIGNS_OF_YEAR),
        change_pairs=CHANGE_PAIRS,
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_crevasse_maps/figure_crevasse_maps.log",
    benchmark:
        "benchmarks/figure_crevasse_maps/figure_crevasse_maps.tsv",
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/figure_crevasse_maps.py"


rule figure_reliability:
    input:
        "results/eval/crevasse.json",
    output:
        report(
            "results/figures/crevasse_reliability.png",
            caption="../report/crevasse_reliability.rst",
            category="Crevasse maps",
        ),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_reliability/figure_reliability.log",
    benchmark:
        "benchmarks/figure_reliability/figure_reliability.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figure_reliability.py"


rule figure_normalisation_steps:
    input:
        library="results/library.zarr",
        truth=truth_targets(),
    output:
        report(
            "results/figures/normalisation_steps.png",
            caption="../report/normalisation_steps.rst",
            category="Surface types",
        ),
    params:
        normalise=lookup(dpath="normalise", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_normalisation_steps/figure_normalisation_steps.log",
    benchmark:
        "benchmarks/figure_normalisation_steps/figure_normalisation_steps.tsv",
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/figure_normalisation_steps.py"


rule figure_dct_truncation:
    input:
        library="results/library.zarr",
        features="results/features/tiles_dct.zarr",
        dct="results/eval/dct.json",
        truth=truth_targets(),
    output:
        report(
            "results/figures/dct_truncation.png",
            caption="../report/dct_truncation.rst",
            category="Surface types",
        ),
    params:
        normalise=lookup(dpath="normalise", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_dct_truncation/figure_dct_truncation.log",
    benchmark:
        "benchmarks/figure_dct_truncation/figure_dct_truncation.tsv",
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/figure_dct_truncation.py"


rule figure_holdout_matches:
    input:
        holdout="results/eval/holdout_matches.zarr",
        library="results/library.zarr",
        truth=truth_targets(),
    output:
        report(
            "results/figures/holdout_matches.png",
            caption="../report/holdout_matches.rst",
            category="Matching",
        ),
    params:
        time_window_ns=lookup(dpath="figures/time_window_ns", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_holdout_matches/figure_holdout_matches.log",
    benchmark:
        "benchmarks/figure_holdout_matches/figure_holdout_matches.tsv",
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/figure_holdout_matches.py"


rule figures:
    # target rule: every figure of the crevasse pipeline, and what they need
    # (`snakemake figures`, `make figures`)
    input:
        crevasse_figures(),
