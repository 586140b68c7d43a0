# Figures of the waveform library.


rule figure_library_examples:
    input:
        library="results/library.zarr",
        truth=truth_targets(),
    output:
        report(
            "results/figures/library_examples.png",
            caption="../report/library_examples.rst",
            category="Waveform library",
        ),
    params:
        time_window_ns=lookup(dpath="figures/time_window_ns", within=config),
    conda:
        "../../envs/cryolearn.yaml"
    log:
        "logs/figure_library_examples/figure_library_examples.log",
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../scripts/plot_library_examples.py"
