# Crevasse maps (cryolearn.crevasse.maps): per-shot probabilities, the run's map
# grid, yearly rasters and the change between years.


rule shot_probabilities:
    input:
        matches="results/matches/{campaign}.zarr",
        clusters="results/clusters/clusters.zarr",
        library="results/library.zarr",
        labels=labels_file(),
        classified=classified_store,
    output:
        directory("results/crevasse/{campaign}.zarr"),
    params:
        probability=lookup(dpath="probability", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/shot_probabilities/{campaign}.log",
    benchmark:
        "benchmarks/shot_probabilities/{campaign}.tsv"
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/shot_probabilities.py"


rule map_grid:
    input:
        map_grid_inputs,
    output:
        "results/maps/grid.json",
    params:
        cell_m=lookup(dpath="maps/cell_m", within=config),
        bounds=lookup(dpath="maps/bounds", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/map_grid/map_grid.log",
    benchmark:
        "benchmarks/map_grid/map_grid.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/map_grid.py"


rule rasterise_year:
    input:
        grid="results/maps/grid.json",
        shots=year_stores,
    output:
        "results/maps/crevasse_{year}.tif",
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/rasterise_year/{year}.log",
    benchmark:
        "benchmarks/rasterise_year/{year}.tsv",
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/rasterise_year.py"


rule change_map:
    input:
        earlier="results/maps/crevasse_{year1}.tif",
        later="results/maps/crevasse_{year2}.tif",
        earlier_shots=pair_year_stores("year1"),
        later_shots=pair_year_stores("year2"),
    output:
        "results/maps/change_{year1}_{year2}.tif",
    params:
        interval=lookup(dpath="maps/change_interval", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/change_map/{year1}_{year2}.log",
    benchmark:
        "benchmarks/change_map/{year1}_{year2}.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/change_map.py"
