"""Names of the climate-clustering methods, importable without PyTorch.

The workflow reads these when it parses (every job on a cluster parses it), so
they live apart from :mod:`cryolearn.climate.methods` and its imports.
"""

DSC_FAMILY = {
    # name: (recurrent, decoder, clustering layer)
    "cnn_encoder": (False, False, True),
    "cnn_autoencoder": (False, True, True),
    "cnn_rnn_encoder": (True, False, True),
    "cnn_rnn_autoencoder": (True, True, False),
    "dsc": (True, True, True),
    "dsc_windowed": (True, True, True),
    "dsc_pretrained": (True, True, True),
}
CLASSICAL_METHODS = ("kmeans", "agglomerative")
DEEP_METHODS = ("dec", "dtc", *DSC_FAMILY)
METHODS = (*CLASSICAL_METHODS, *DEEP_METHODS)
