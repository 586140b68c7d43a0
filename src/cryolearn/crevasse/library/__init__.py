"""The waveform library: DEM tiles, the GLAS forward model, and the merged library store."""
