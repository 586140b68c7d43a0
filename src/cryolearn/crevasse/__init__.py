"""Crevasse mapping from GLAS waveforms, one sub-package per stage.

=============  ==========================================================  ================
package        what it does                                                rule file
=============  ==========================================================  ================
``library``    DEM frames → 100 m tiles → simulated waveforms → library    ``library.smk``
``shots``      GLAS ingestion, degradation model, autoencoder, cleaners    ``shots.smk``
``matching``   nearest-neighbour search of cleaned shots in the library    ``matching.smk``
``surfaces``   normalised DCT features, SOM, OPTICS clusters, labels       ``surfaces.smk``
``maps``       per-shot crevasse probability, yearly rasters and change    ``maps.smk``
``figures``    the pipeline's figures                                      (beside rules)
``evaluate``   scores against synthetic truth; the only importer of synth  (beside rules)
=============  ==========================================================  ================
"""
