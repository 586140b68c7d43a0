# The per-shot classifier (cryolearn.crevasse.classify): trained on the labelled
# library simulated with every campaign's own pulse and degraded like the shots,
# calibrated on the library's held-out split, applied to every campaign.


rule train_classifier:
    input:
        library="results/library.zarr",
        clusters="results/clusters/clusters.zarr",
        labels=labels_file(),
        distributions="results/augment/distributions.zarr",
        shots=expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
    output:
        model="results/models/classifier.pkl",
        report=report(
            "results/eval/classifier_training.json",
            caption="../report/classifier_training.rst",
            category="Classifier",
        ),
    params:
        classifier=lookup(dpath="classifier", within=config),
        align=lookup(dpath="align", within=config),
        campaigns=CAMPAIGNS,
    conda:
        "../../envs/cryolearn.yaml"
    # the chain to the classifier runs beside the autoencoder: first on the free cores
    priority: 1
    log:
        "logs/train_classifier/train_classifier.log",
    benchmark:
        "benchmarks/train_classifier/train_classifier.tsv"
    # half the machine: on a laptop the classifier trains beside the autoencoder
    threads: half_the_cores
    resources:
        mem_mb=6000,
        runtime=60,
    script:
        "../scripts/train_classifier.py"


rule classify_shots:
    input:
        model="results/models/classifier.pkl",
        shots="results/shots/{campaign}.zarr",
    output:
        directory("results/classified/{campaign}.zarr"),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/classify_shots/{campaign}.log",
    benchmark:
        "benchmarks/classify_shots/{campaign}.tsv"
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/classify_shots.py"
