# DEM frames -> 100 m tiles, one Zarr shard per flight.


rule tile_flight:
    input:
        frames=flight_frames,
    output:
        directory("results/tiles/{flight}.zarr"),
    params:
        assume_crs=lookup(dpath="dem/assume_crs", within=config),
        stride_px=lookup(dpath="tiles/stride_px", within=config),
        max_pixel_m=lookup(dpath="dem/max_pixel_m", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/tile_flight/{flight}.log",
    benchmark:
        "benchmarks/tile_flight/{flight}.tsv"
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/tile_flight.py"
