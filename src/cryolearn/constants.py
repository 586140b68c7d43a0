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

# GLAS products (GLAH01 waveforms, GLAH06/GLAH14 geolocation)
N_LONG_SAMPLES = 544  #: samples of a long waveform (i_waveformType 1)
N_SHORT_SAMPLES = 200  #: samples of a short waveform (i_waveformType 2)
GLAS_FILL = 1.7976931348623157e308  #: fill value of GLAH06/GLAH14 doubles
GLAS_TABLE_FILL_ABOVE = 1e10  #: sample-location table entries above this are fill
GLAS_NULL_LOCATION_INDEX = 127  #: i_rec_wf_location_index value meaning "none"
GLAS_EPOCH = "2000-01-01T12:00:00"  #: d_UTCTime_40 counts seconds from this instant (UTC)
DIGITIZER_COUNTS = 255  #: 8-bit digitizer; 255 is saturation
#: GLAH01 ``ANCILLARY_DATA`` attribute ``volt_table_1``: the volts of each of the 256
#: digitizer counts, piecewise linear. Count 0 is -0.195279 V; counts 1-127 step
#: 0.006675 V, count 128 steps 0.006478 V, counts 129-255 step 0.006198 V, so count 255
#: (saturation) is 1.44607 V. Source: the table as extracted from GLAH01 release 33
#: granules by carbonplan/trace (``data/volt_table.csv``, whose notebook
#: ``example_glas_processing.ipynb`` checks ``r_rng_wf`` values against ``volt_table_1``).
VOLT_TABLE_FIRST_V = -0.195279
#: (last count of a segment, volts per count within it) of ``volt_table_1``
VOLT_TABLE_STEPS_V = ((127, 0.006675), (128, 0.006478), (255, 0.006198))


def _top_of_volt_table() -> float:
    volts, count = VOLT_TABLE_FIRST_V, 0
    for last, step in VOLT_TABLE_STEPS_V:
        volts += (last - count) * step
        count = last
    return round(volts, 6)


SATURATION_V = _top_of_volt_table()  #: volt_table_1 at count 255 (1.44607 V): saturation
