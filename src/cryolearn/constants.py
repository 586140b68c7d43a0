"""Instrument and product constants, defined once with their sources.

GLAS values follow the GLAS instrument and product descriptions (Zwally et al.
2002, J. Geodyn. 34; GLAS Algorithm Theoretical Basis Documents); the IceBridge
values follow the IODMS3 product guide (NSIDC, DMS L3 photogrammetric DEM).
"""

from __future__ import annotations

# Operation IceBridge DMS L3 photogrammetric DEMs (IODMS3)
DEM_CRS = "EPSG:3413"  #: NSIDC Sea Ice Polar Stereographic North
DEM_NODATA = -32767.0  #: nodata value of IODMS3 GeoTIFFs

# Tiles
TILE_PIXEL_M = 0.5  #: tile pixel size after bilinear resampling, metres
TILE_SIZE_PX = 200  #: tile edge in pixels (100 m)

# GLAS footprint and digitizer
FOOTPRINT_SIGMA_M = 17.5  #: Gaussian footprint sigma (1/e^2 diameter 70 m)
BIN_M = 0.15  #: two-way range of one 1 ns digitizer bin, metres (c * 1 ns / 2)
N_SAMPLES = 544  #: samples in a long (land/ice) GLAS waveform record
LEAD_NS = 10.0  #: the highest surface point sits this far into the record
PULSE_FWHM_NS = 6.0  #: nominal transmit pulse width (full width at half maximum)
N_TRANSMIT_SAMPLES = 48  #: samples of the recorded transmit pulse
SHOT_RATE_HZ = 40.0
SHOT_SPACING_M = 170.0

# Campaigns of ICESat/GLAS, 2003-2009 (laser periods, Schutz et al. 2005)
#: campaign -> year of its start
CAMPAIGN_YEARS = {
    "L1A": 2003, "L1B": 2003, "L2A": 2003, "L2B": 2004, "L2C": 2004, "L3A": 2004,
    "L3B": 2005, "L3C": 2005, "L3D": 2005, "L3E": 2006, "L3F": 2006, "L3G": 2006,
    "L3H": 2007, "L3I": 2007, "L3J": 2008, "L3K": 2008, "L2D": 2008, "L2E": 2009,
    "L2F": 2009,
}  # fmt: skip
