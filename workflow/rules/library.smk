# The waveform library (cryolearn.crevasse.library): DEM frames -> 100 m tiles and
# simulated GLAS waveforms, one Zarr shard per flight -> the deduplicated library.


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
    # the crevasse chain to the autoencoder is the demo's longest: first on few cores
    priority: 1
    log:
        "logs/tile_flight/{flight}.log",
    benchmark:
        "benchmarks/tile_flight/{flight}.tsv"
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/tile_flight.py"


rule simulate_flight:
    input:
        "results/tiles/{flight}.zarr",
    output:
        directory("results/waveforms/{flight}.zarr"),
    params:
        forward=forward_params(),
    conda:
        "../../envs/cryolearn.yaml"
    # the crevasse chain to the autoencoder is the demo's longest: first on few cores
    priority: 1
    log:
        "logs/simulate_flight/{flight}.log",
    benchmark:
        "benchmarks/simulate_flight/{flight}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    script:
        "../scripts/simulate_flight.py"


rule build_library:
    input:
        tiles=expand("results/tiles/{flight}.zarr", flight=FLIGHTS),
        waveforms=expand("results/waveforms/{flight}.zarr", flight=FLIGHTS),
    output:
        directory("results/library.zarr"),
    params:
        flights=FLIGHTS,
        holdout_share=lookup(dpath="library/holdout_share", within=config),
        split_seed=lookup(dpath="library/split_seed", within=config),
        memory_mb=lookup(dpath="library/memory_mb", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    # the crevasse chain to the autoencoder is the demo's longest: first on few cores
    priority: 1
    log:
        "logs/build_library/build_library.log",
    benchmark:
        "benchmarks/build_library/build_library.tsv"
    resources:
        mem_mb=lambda wildcards: int(config["library"]["memory_mb"]) * 2 + 1000,
        runtime=120,
    script:
        "../scripts/build_library.py"
