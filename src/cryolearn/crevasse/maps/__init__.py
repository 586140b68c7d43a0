"""Crevasse probability per shot, yearly probability rasters and the change between years."""
