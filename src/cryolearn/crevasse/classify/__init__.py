"""A per-shot crevasse classifier learned from the labelled library (issue 22)."""
