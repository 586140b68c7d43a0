# Synthetic inputs in real formats (only when dem.source is synthetic): one job
# per IODMS3 frame, with its truth raster written to a separate folder.


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
