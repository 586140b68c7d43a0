# Deep spatiotemporal clustering of gridded climate data (DSC), its variants and
# baselines: the synthetic ERA5-like year, daily scaled features, one job per
# method and seed, per-day labels, evaluation and anomaly-map figures.


rule synth_climate:
    output:
        data=str(Path(CLIMATE["dir"]) / "era5_single_levels_synthetic.nc"),
        truth=str(Path(CLIMATE_TRUTH_DIR) / "regimes.csv"),
        patterns=str(Path(CLIMATE_TRUTH_DIR) / "regime_patterns.nc"),
    params:
        climate=lookup(dpath="synth/climate", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/synth_climate/synth_climate.log",
    benchmark:
        "benchmarks/synth_climate/synth_climate.tsv",
    resources:
        mem_mb=3000,
        runtime=15,
    script:
        "../scripts/synth_climate.py"


rule climate_features:
    input:
        climate_data_files,
    output:
        "results/climate/features.nc",
    params:
        data=lookup(dpath="climate/data", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/climate_features/climate_features.log",
    benchmark:
        "benchmarks/climate_features/climate_features.tsv"
    resources:
        mem_mb=8000,
        runtime=30,
    script:
        "../scripts/climate_features.py"


rule cluster_climate:
    # k-means and Ward: seconds to minutes on CPUs
    input:
        "results/climate/features.nc",
    output:
        "results/climate/runs/{clustering}/seed{seed}.nc",
    wildcard_constraints:
        clustering=CLASSICAL_CLIMATE_PATTERN,
    params:
        settings=climate_method_settings,
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/cluster_climate/{clustering}_seed{seed}.log",
    benchmark:
        "benchmarks/cluster_climate/{clustering}_seed{seed}.tsv"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=60,
    script:
        "../scripts/cluster_climate.py"


rule train_climate_clustering:
    # DSC, its variants, DEC and DTC: network training, GPU nodes on a cluster
    input:
        "results/climate/features.nc",
    output:
        "results/climate/runs/{clustering}/seed{seed}.nc",
    wildcard_constraints:
        clustering=DEEP_CLIMATE_PATTERN,
    params:
        settings=climate_method_settings,
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/cluster_climate/{clustering}_seed{seed}.log",
    benchmark:
        "benchmarks/cluster_climate/{clustering}_seed{seed}.tsv"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=240,
    script:
        "../scripts/cluster_climate.py"


rule climate_labels:
    input:
        runs=lambda wildcards: climate_runs(wildcards.clustering),
    output:
        csv="results/climate/labels/{clustering}.csv",
        netcdf="results/climate/labels/{clustering}.nc",
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/climate_labels/{clustering}.log",
    benchmark:
        "benchmarks/climate_labels/{clustering}.tsv",
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/climate_labels.py"


rule evaluate_climate:
    input:
        features="results/climate/features.nc",
        runs=climate_runs(),
        truth=climate_truth(),
    output:
        json=report(
            "results/eval/climate.json",
            caption="../report/climate_evaluation.rst",
            category="Climate clustering",
        ),
        markdown=report(
            "results/eval/climate.md",
            caption="../report/climate_evaluation.rst",
            category="Climate clustering",
        ),
    params:
        evaluation=lookup(dpath="climate/evaluation", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_climate/evaluate_climate.log",
    benchmark:
        "benchmarks/evaluate_climate/evaluate_climate.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/evaluate_climate.py"


rule figure_climate:
    input:
        features="results/climate/features.nc",
        run=lambda wildcards: f"results/climate/runs/{wildcards.clustering}/seed{CLIMATE_SEEDS[0]}.nc",
        truth=climate_truth(),
    output:
        report(
            "results/figures/climate_clusters_{clustering}.png",
            caption="../report/climate_clusters.rst",
            category="Climate clustering",
        ),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_climate/{clustering}.log",
    benchmark:
        "benchmarks/figure_climate/{clustering}.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figure_climate.py"


rule climate:
    # target rule: only the climate-clustering outputs (`snakemake climate`)
    input:
        climate_targets(force=True),
