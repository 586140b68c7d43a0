# The de-noising, de-shifting autoencoder: training on degraded library
# waveforms, cleaning of every campaign's shots, evaluation against baselines.


rule train_autoencoder:
    input:
        library="results/library.zarr",
        distributions="results/augment/distributions.zarr",
    output:
        "results/models/autoencoder.pt",
    params:
        training=lookup(dpath="autoencoder", within=config),
        # checkpoints survive a killed job, so a rerun resumes instead of restarting
        checkpoint="results/models/checkpoints/autoencoder.ckpt",
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/train_autoencoder/train_autoencoder.log",
    benchmark:
        "benchmarks/train_autoencoder/train_autoencoder.tsv"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=240,
    script:
        "../scripts/train_autoencoder.py"


rule denoise_shots:
    input:
        model="results/models/autoencoder.pt",
        shots="results/shots/{campaign}.zarr",
    output:
        directory("results/denoised/{campaign}.zarr"),
    params:
        device=lookup(dpath="autoencoder/device", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/denoise_shots/{campaign}.log",
    benchmark:
        "benchmarks/denoise_shots/{campaign}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/denoise_shots.py"


rule evaluate_autoencoder:
    input:
        model="results/models/autoencoder.pt",
        library="results/library.zarr",
        distributions="results/augment/distributions.zarr",
        shots=synthetic_shot_evaluation_inputs()["shots"],
        truth=synthetic_shot_evaluation_inputs()["truth"],
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


rule figure_autoencoder_training:
    input:
        "results/models/autoencoder.pt",
    output:
        report(
            "results/figures/autoencoder_training.png",
            caption="../report/autoencoder_training.rst",
            category="Autoencoder",
        ),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_autoencoder_training/figure_autoencoder_training.log",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_autoencoder_training.py"


rule figure_cleaned_shots:
    input:
        shots=expand("results/shots/{campaign}.zarr", campaign=CAMPAIGNS),
        denoised=expand("results/denoised/{campaign}.zarr", campaign=CAMPAIGNS),
    output:
        report(
            "results/figures/cleaned_shots.png",
            caption="../report/cleaned_shots.rst",
            category="Autoencoder",
        ),
    params:
        campaigns=CAMPAIGNS,
        time_window_ns=lookup(dpath="figures/time_window_ns", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_cleaned_shots/figure_cleaned_shots.log",
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_cleaned_shots.py"
