"""A regional surface DEM of the synthetic world, the backdrop of the maps.

Real runs draw their maps over a regional DEM such as GIMP (Howat et al.
2014, 30 m); the synthetic world gets the same: its smooth regional surface
(no zone relief, no roughness) as a GeoTIFF in EPSG:3413.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasterio.transform import Affine

from cryolearn.constants import DEM_CRS
from cryolearn.io.raster import write_geotiff
from cryolearn.synth.world import SyntheticWorld, WorldParams

SURFACE_NODATA = -9999.0


def write_surface_dem(world_config: dict, out_tif: str | Path, cell_m: float = 50.0) -> Path:
    """Write the world's regional surface over its whole extent at ``cell_m``.

    Parameters
    ----------
    world_config : config ``synth.world``
    out_tif : GeoTIFF to write (float32, EPSG:3413)
    cell_m : pixel size, metres
    """
    params = WorldParams.from_dict(world_config)
    world = SyntheticWorld(params)
    n = max(1, round(params.extent_m / cell_m))
    centres = (np.arange(n) + 0.5) * cell_m
    x, y = np.meshgrid(params.origin_x_m + centres, params.origin_y_m + params.extent_m - centres)
    z = world.regional_elevation(x, y).astype(np.float32)
    transform = Affine(cell_m, 0.0, params.origin_x_m, 0.0, -cell_m,
                       params.origin_y_m + params.extent_m)
    write_geotiff(out_tif, [z], transform=transform, crs=DEM_CRS, nodata=SURFACE_NODATA,
                  tags={"source": "cryolearn synthetic world, regional surface",
                        "seed": str(params.seed)})
    return Path(out_tif)
