# Truth of the synthetic world under every tile. Read only by evaluation and
# figures, never by the pipeline's own steps.


rule tile_truth:
    input:
        tiles="results/tiles/{flight}.zarr",
        truth=lambda wildcards: synthetic_truth(wildcards.flight),
    output:
        directory("results/truth/tiles/{flight}.zarr"),
    params:
        truth_dir=TRUTH_DIR,
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/tile_truth/{flight}.log",
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/tile_truth.py"
