# Everything that reads synthetic truth (cryolearn.crevasse.evaluate): the
# synthetic labeller that stands in for a person, and the scores of the autoencoder
# and its baselines, the hold-out matching experiment, the SOM and clusters, the
# crevasse maps, and the realism of the synthetic shots against real ones.


rule evaluate_autoencoder:
    input:
        model="results/models/autoencoder.pt",
        library="results/library.zarr",
        distributions="results/augment/distributions.zarr",
        shots=synthetic_shot_evaluation_inputs()["shots"],
        truth=synthetic_shot_evaluation_inputs()["truth"],
        tile_truth=truth_targets(),
    output:
        report(
            "results/eval/autoencoder.json",
            caption="../report/autoencoder_eval.rst",
            category="Autoencoder",
        ),
    params:
        evaluation=lookup(dpath="autoencoder/evaluation", within=config),
        target_sigma_bins=lookup(dpath="autoencoder/target_sigma_bins", within=config),
        pulse_fwhm_ns=lookup(dpath="waveform/pulse_fwhm_ns", within=config),
        lead_ns=lookup(dpath="waveform/lead_ns", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_autoencoder/evaluate_autoencoder.log",
    benchmark:
        "benchmarks/evaluate_autoencoder/evaluate_autoencoder.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/evaluate_autoencoder.py"


rule evaluate_matching:
    input:
        index="results/index",
        library="results/library.zarr",
        model="results/models/autoencoder.pt",
        distributions="results/augment/distributions.zarr",
        truth=truth_targets(),
    output:
        scores=report(
            "results/eval/matching.json",
            caption="../report/matching_eval.rst",
            category="Matching",
        ),
        holdout=directory("results/eval/holdout_matches.zarr"),
    params:
        matching=lookup(dpath="matching", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_matching/evaluate_matching.log",
    benchmark:
        "benchmarks/evaluate_matching/evaluate_matching.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/evaluate_matching.py"


rule evaluate_som:
    input:
        features="results/features/tiles_dct.zarr",
        som="results/som/som.zarr",
        clusters="results/clusters/clusters.zarr",
        library="results/library.zarr",
        truth=truth_targets(),
    output:
        report(
            "results/eval/som.json",
            caption="../report/som_eval.rst",
            category="Surface types",
        ),
    params:
        evaluation=lookup(dpath="clusters/evaluation", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_som/evaluate_som.log",
    benchmark:
        "benchmarks/evaluate_som/evaluate_som.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/evaluate_som.py"


rule evaluate_crevasse:
    input:
        shots=expand("results/crevasse/{campaign}.zarr", campaign=CAMPAIGNS),
        truth=expand(f"{TRUTH_DIR}/glas/{{campaign}}.zarr", campaign=CAMPAIGNS),
        maps=year_maps(),
        changes=change_maps(),
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
        interval=lookup(dpath="maps/change_interval", within=config),
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
    # the chain to the classifier runs beside the autoencoder: first on the free cores
    priority: 1
    log:
        "logs/label_clusters_from_synthetic_truth/label_clusters_from_synthetic_truth.log",
    benchmark:
        "benchmarks/label_clusters_from_synthetic_truth/label_clusters_from_synthetic_truth.tsv",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/label_clusters_from_synthetic_truth.py"


rule evaluate_realism:
    # The real shots are a parameter, not an input: without them the rule still
    # runs, and its report says that the comparison was skipped.
    input:
        shots=expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
    output:
        scores=report(
            "results/eval/realism.json",
            caption="../report/realism_eval.rst",
            category="Realism of the synthetic world",
        ),
        figure=report(
            "results/figures/realism.png",
            caption="../report/realism.rst",
            category="Realism of the synthetic world",
        ),
    params:
        campaigns=CAMPAIGNS,
        realism=lookup(dpath="realism", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_realism/evaluate_realism.log",
    benchmark:
        "benchmarks/evaluate_realism/evaluate_realism.tsv"
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../scripts/evaluate_realism.py"


rule evaluate_classifier_ablation:
    # every variant of the per-shot classifier, today's matching and the ceilings, on
    # the same shots (cryolearn.crevasse.evaluate.ablation); retrains two variants
    input:
        library="results/library.zarr",
        clusters="results/clusters/clusters.zarr",
        labels=labels_file(),
        distributions="results/augment/distributions.zarr",
        classified=expand("results/classified/{campaign}.zarr", campaign=CAMPAIGNS),
        shots=expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
        crevasse=expand("results/crevasse/{campaign}.zarr", campaign=CAMPAIGNS),
        truth=expand(f"{TRUTH_DIR}/glas/{{campaign}}.zarr", campaign=CAMPAIGNS),
        matches=expand("results/matches/{campaign}.zarr", campaign=CAMPAIGNS),
        tile_truth=truth_targets(),
    output:
        report(
            "results/eval/crevasse_ablation.json",
            caption="../report/crevasse_ablation.rst",
            category="Crevasse maps",
        ),
    params:
        campaigns=CAMPAIGNS,
        classifier=lookup(dpath="classifier", within=config),
        align=lookup(dpath="align", within=config),
        evaluation=lookup(dpath="crevasse_evaluation", within=config),
        matching=lookup(dpath="matching", within=config),
        probability=lookup(dpath="probability", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/evaluate_classifier_ablation/evaluate_classifier_ablation.log",
    benchmark:
        "benchmarks/evaluate_classifier_ablation/evaluate_classifier_ablation.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/evaluate_classifier_ablation.py"
