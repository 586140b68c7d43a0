from cryolearn.crevasse.figures.pipeline import plot_training_history
from cryolearn.crevasse.shots.autoencoder import load_model
from cryolearn.logs import logged

with logged(snakemake.log[0]):
    _, saved = load_model(snakemake.input[0])
    plot_training_history(saved["history"], snakemake.output[0])
