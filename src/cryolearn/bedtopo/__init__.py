"""Bed topography under the ice: DeepTopoNet (Tama et al. 2025) and classical baselines."""
