"""GLAS shots: ingestion, the empirical degradation model, the autoencoder and the cleaners."""
