# Synthetic inputs in real formats, and their truth (only when the sources are
# synthetic): one job per IODMS3 frame with its truth raster in a separate folder,
# GLAS campaigns, and the truth of the world under every tile. Truth is read only
# by evaluate.smk and figures.smk, never by the pipeline's own steps.


rule synth_frame:
    output:
        dem=f"{DEM_DIR}/{{flight}}/{{frame}}_DEM.tif",
        truth=f"{TRUTH_DIR}/{{flight}}/{{frame}}_DEM_class.tif",
    params:
        world=lookup(dpath="synth/world", within=config),
        spec=lambda wildcards: synthetic_flight_config(wildcards.flight),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/synth_frame/{flight}/{frame}.log",
    benchmark:
        "benchmarks/synth_frame/{flight}/{frame}.tsv"
    resources:
        mem_mb=2000,
        runtime=15,
    script:
        "../scripts/synth_frame.py"


rule synth_surface_dem:
    output:
        config["synth"]["surface_dem"],
    params:
        world=lookup(dpath="synth/world", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/synth_surface_dem/synth_surface_dem.log",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/synth_surface_dem.py"


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
