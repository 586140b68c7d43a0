"""cryolearn: deep learning on ice-sheet geospatial data."""

__version__ = "0.1.0"
