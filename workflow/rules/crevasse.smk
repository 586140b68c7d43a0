# From labelled clusters to crevasse maps: labels, per-shot probabilities,
# yearly rasters, change between years, the evaluation against truth, figures.


rule label_clusters_from_synthetic_truth:
    # A stand-in for a person with the labelling page: it reads the synthetic
    # truth, so it exists only for synthetic worlds (labels.source: synthetic_truth).
    input:
        clusters="results/clusters/clusters.zarr",
        truth=truth_targets(),
    output:
        "results/clusters/labels_synthetic_truth.yaml",
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/label_clusters_from_synthetic_truth/label_clusters_from_synthetic_truth.log",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/label_clusters_from_synthetic_truth.py"


rule shot_probabilities:
    input:
        matches="results/matches/{campaign}.zarr",
        clusters="results/clusters/clusters.zarr",
        library="results/library.zarr",
        labels=labels_file(),
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
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/rasterise_year.py"


rule change_map:
    input:
        earlier="results/maps/crevasse_{year1}.tif",
        later="results/maps/crevasse_{year2}.tif",
    output:
        "results/maps/change_{year1}_{year2}.tif",
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/change_map/{year1}_{year2}.log",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/change_map.py"


rule evaluate_crevasse:
    input:
        shots=expand("results/crevasse/{campaign}.zarr", campaign=CAMPAIGNS),
        truth=expand(f"{TRUTH_DIR}/glas/{{campaign}}.zarr", campaign=CAMPAIGNS),
        maps=year_maps(),
        matches=expand("results/matches/{campaign}.zarr", campaign=CAMPAIGNS),
        library="results/library.zarr",
        tile_truth=truth_targets(),
    output:
        scores=report(
            "results/eval/crevasse.json",
            caption="../report/crevasse_eval.rst",
            category="Crevasse maps",
        ),
        table=report(
            "results/eval/crevasse_campaigns.tsv",
            caption="../report/crevasse_table.rst",
            category="Crevasse maps",
        ),
    params:
        campaigns=CAMPAIGNS,
        campaigns_of_year=CAMPAIGNS_OF_YEAR,
        change_pairs=CHANGE_PAIRS,
        evaluation=lookup(dpath="crevasse_evaluation", within=config),
        world=lookup(dpath="synth/world", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_crevasse/evaluate_crevasse.log",
    benchmark:
        "benchmarks/evaluate_crevasse/evaluate_crevasse.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/evaluate_crevasse.py"


rule figure_crevasse_maps:
    input:
        maps=year_maps(),
        changes=change_maps(),
        background=background_dem(),
    output:
        maps=report(
            "results/figures/crevasse_maps.png",
            caption="../report/crevasse_maps.rst",
            category="Crevasse maps",
        ),
        changes=report(
            "results/figures/crevasse_change.png",
            caption="../report/crevasse_change.rst",
            category="Crevasse maps",
        ),
    params:
        years=sorted(CAMPAIGNS_OF_YEAR),
        change_pairs=CHANGE_PAIRS,
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_crevasse_maps/figure_crevasse_maps.log",
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/plot_crevasse_maps.py"


rule figure_reliability:
    input:
        "results/eval/crevasse.json",
    output:
        report(
            "results/figures/crevasse_reliability.png",
            caption="../report/crevasse_reliability.rst",
            category="Crevasse maps",
        ),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_reliability/figure_reliability.log",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_reliability.py"
