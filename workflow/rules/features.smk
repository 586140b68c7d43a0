# Tiles organised without labels: normalised, DCT-compressed features of every library tile.


rule normalise_tiles:
    input:
        "results/library.zarr",
    output:
        features=directory("results/features/tiles_dct.zarr"),
        errors=report(
            "results/eval/dct.json",
            caption="../report/dct_eval.rst",
            category="Surface types",
        ),
    params:
        normalise=lookup(dpath="normalise", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/normalise_tiles/normalise_tiles.log",
    benchmark:
        "benchmarks/normalise_tiles/normalise_tiles.tsv"
    resources:
        mem_mb=4000,
        runtime=120,
    script:
        "../scripts/normalise_tiles.py"


rule fit_som:
    input:
        "results/features/tiles_dct.zarr",
    output:
        directory("results/som/som.zarr"),
    params:
        som=lookup(dpath="som", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/fit_som/fit_som.log",
    benchmark:
        "benchmarks/fit_som/fit_som.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
    script:
        "../scripts/fit_som.py"


rule cluster_som:
    input:
        som="results/som/som.zarr",
        features="results/features/tiles_dct.zarr",
        library="results/library.zarr",
    output:
        clusters=directory("results/clusters/clusters.zarr"),
        montages=directory("results/clusters/montages"),
    params:
        clusters=lookup(dpath="clusters", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/cluster_som/cluster_som.log",
    benchmark:
        "benchmarks/cluster_som/cluster_som.tsv"
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/cluster_som.py"


rule evaluate_som:
    input:
        features="results/features/tiles_dct.zarr",
        som="results/som/som.zarr",
        clusters="results/clusters/clusters.zarr",
        library="results/library.zarr",
        truth=truth_targets(),
    output:
        report(
            "results/eval/som.json",
            caption="../report/som_eval.rst",
            category="Surface types",
        ),
    params:
        evaluation=lookup(dpath="clusters/evaluation", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_som/evaluate_som.log",
    benchmark:
        "benchmarks/evaluate_som/evaluate_som.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/evaluate_som.py"


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
    resources:
        mem_mb=8000,
        runtime=20,
    script:
        "../scripts/plot_som.py"
