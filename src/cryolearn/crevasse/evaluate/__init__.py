"""Scores against synthetic truth: the only crevasse modules that import :mod:`cryolearn.synth`."""
