# Synthetic inputs in real formats, and their truth (only when the sources are
# synthetic): one job per flight's IODMS3 frames with their truth rasters in a separate folder,
# GLAS campaigns, and the truth of the world under every tile. Truth is read only
# by evaluate.smk and figures.smk, never by the pipeline's own steps.


# One job per synthetic flight writes all its frames (a flight's frames are known from
# its config, so each flight gets its own rule): a job per frame paid a Python start-up
# for about a second of rendering.
for _flight in FLIGHTS if SYNTHETIC else []:

    rule:
        name:
            f"synth_flight_{_flight}"
        output:
            dem=synthetic_frames(_flight),
            truth=synthetic_truth(_flight),
        params:
            world=config["synth"]["world"],
            spec=synthetic_flight_config(_flight),
        conda:
            "../../envs/cryolearn.yaml"
        # the crevasse chain to the autoencoder is the demo's longest: first on few cores
        priority: 1
        log:
            f"logs/synth_flight/{_flight}.log",
        benchmark:
            f"benchmarks/synth_flight/{_flight}.tsv"
        resources:
            mem_mb=2000,
            runtime=30,
        script:
            "../scripts/synth_flight.py"


rule synth_surface_dem:
    output:
        config["synth"]["surface_dem"],
    params:
        world=lookup(dpath="synth/world", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/synth_surface_dem/synth_surface_dem.log",
    benchmark:
        "benchmarks/synth_surface_dem/synth_surface_dem.tsv",
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
    # the crevasse chain to the autoencoder is the demo's longest: first on few cores
    priority: 1
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
    benchmark:
        "benchmarks/tile_truth/{flight}.tsv",
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/tile_truth.py"
