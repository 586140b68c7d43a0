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
