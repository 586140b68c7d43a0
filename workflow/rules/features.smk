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
