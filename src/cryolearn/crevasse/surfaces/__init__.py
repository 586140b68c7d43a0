"""Surface types from tiles: normalisation and DCT, SOM, OPTICS clusters, labels and their page."""
