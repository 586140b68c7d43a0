"""Matching cleaned shots to library waveforms: search backends and multi-offset look-up."""
