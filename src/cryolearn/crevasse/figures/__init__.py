"""Figures of the crevasse pipeline: library, shots, matches, SOM and clusters, maps."""
