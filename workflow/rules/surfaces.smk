# Surface types without labels (cryolearn.crevasse.surfaces): normalised,
# DCT-compressed tiles, the self-organising map and its OPTICS clusters.


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
    # the chain to the classifier runs beside the autoencoder: first on the free cores
    priority: 1
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
    # the chain to the classifier runs beside the autoencoder: first on the free cores
    priority: 1
    log:
        "logs/fit_som/fit_som.log",
    benchmark:
        "benchmarks/fit_som/fit_som.tsv"
    # half the machine: on a laptop the map trains beside the autoencoder instead of
    # waiting for both cores
    threads: half_the_cores
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
    # the chain to the classifier runs beside the autoencoder: first on the free cores
    priority: 1
    log:
        "logs/cluster_som/cluster_som.log",
    benchmark:
        "benchmarks/cluster_som/cluster_som.tsv"
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/cluster_som.py"
