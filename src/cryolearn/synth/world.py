"""A procedural ice surface, evaluable at any point, at any resolution, in any year.

The world is one continuous surface over a region of the ice sheet in EPSG:3413
metres. Airborne DEM frames (:mod:`cryolearn.synth.flights`) and, later,
satellite laser shots sample the same surface, so every instrument sees the same
ice and every sample has a known surface class.

Structure
---------
* a regional surface: a plane sloping towards the margin plus long-wavelength
  undulations, giving local slopes of roughly 0.1-5 degrees;
* a partition of the region into irregular zones (a warped, jittered Voronoi
  tessellation); each zone has one surface class and its own parameters, so
  zone boundaries cut through some footprints and mix classes within them;
* per-class relief: crevasse sets (V- or U-shaped walls, spacing 10-60 m, widths
  1-15 m, visible depths 1-20 m, finite lengths, varying orientation),
  intersecting sets, chaotic serac blocks, meandering supraglacial channels,
  moulins in bowls, flat-surfaced lakes, ridges and hummocks;
* decimetre-scale roughness everywhere but on water.

Crevasse fields change with time: within a crevasse zone, crevasses are
present where a smooth envelope field exceeds a threshold that drifts with the
year, so crevassed area grows (or shrinks) by expansion of existing fields, as
observed by Colgan et al. (2011). No crevasses form above
``crevasse_upper_limit_m`` (about 1600 m in west Greenland, Poinar et al. 2015).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cryolearn.classes import CLASS_CODE, CREVASSED_CLASSES, SURFACE_CLASSES
from cryolearn.synth import _world_kernel as kernel
from cryolearn.synth._noise_kernel import crevasse_set_kernel
from cryolearn.synth.noise import (
    _octaves,
    _salted,
    fractal_noise,
    hash_uniform,
    value_noise,
)
from cryolearn.synth.trunk import (
    TrunkParams,
    crevasse_direction,
    margin_side,
    meander_phase,
    surface_drop,
    trunk_weight,
)

# salts: one per independent random field of the world
_S_WARP_X, _S_WARP_Y, _S_JITTER_X, _S_JITTER_Y = 1, 2, 3, 4
_S_CLASS, _S_ORIENT, _S_SPACING, _S_WIDTH, _S_DEPTH, _S_SHAPE = 5, 6, 7, 8, 9, 10
_S_CROSS, _S_ENVELOPE, _S_CREV_K, _S_CREV_SEG, _S_MEANDER = 11, 12, 13, 14, 15
_S_REGIONAL, _S_ROUGH, _S_BLOCK, _S_FEATURE, _S_HUMMOCK, _S_SIZE = 16, 17, 18, 19, 20, 21
_S_ORIENT_FIELD = 22
_S_TRUNK_MIX, _S_TRUNK_CLASS, _S_HEAVE = 23, 24, 25


@dataclass(frozen=True)
class WorldParams:
    """Parameters of the synthetic world; every length in metres, angles in degrees.

    Attributes
    ----------
    seed : integer selecting the world
    origin_x_m, origin_y_m : lower-left corner of the region, EPSG:3413
    extent_m : side of the square region
    base_elevation_m : regional surface elevation at the region's up-glacier edge
    regional_slope_deg : mean slope of the regional plane (down towards +x)
    undulation_amplitude_m, undulation_wavelength_m : long-wavelength relief
    zone_size_m : typical size of a surface-class zone
    class_weights : relative frequency of each class among zones
    roughness_m : amplitude of decimetre-scale roughness
    crevasse_upper_limit_m : no crevasse fields above this elevation
    reference_year : year at which ``crevasse_envelope_threshold`` applies
    crevasse_envelope_threshold : envelope level above which crevasses exist
        (in [-1, 1]; lower means larger fields)
    crevasse_envelope_drift_per_year : decrease of the threshold per year; a
        positive value grows the crevassed area with time
    crevasse_migration_m_per_year : up-glacier (towards -x) migration of the
        crevasse envelope per year, as new transverse crevasses appeared
        upstream of an accelerating Jakobshavn (Løkkegaard et al. 2024)
    zone_aspect : length of a zone along flow (+x) over its width; above 1, fields
        stay continuous for kilometres along flow, as real crevasse fields do
    trunk : the outlet-glacier trunk (:class:`~cryolearn.synth.trunk.TrunkParams`),
        or ``None`` for a world of interior ice only
    """

    seed: int = 20090402
    origin_x_m: float = -200_000.0
    origin_y_m: float = -2_290_000.0
    extent_m: float = 20_000.0
    base_elevation_m: float = 1650.0
    regional_slope_deg: float = 1.0
    undulation_amplitude_m: float = 25.0
    undulation_wavelength_m: float = 3000.0
    zone_size_m: float = 350.0
    class_weights: dict[str, float] = field(
        default_factory=lambda: {
            "smooth": 0.16,
            "crevasses": 0.22,
            "crossing_crevasses": 0.12,
            "serac_field": 0.10,
            "channel": 0.12,
            "moulin_bowl": 0.08,
            "lake": 0.06,
            "hummocky": 0.14,
        }
    )
    roughness_m: float = 0.10
    crevasse_upper_limit_m: float = 1600.0
    reference_year: float = 2009.0
    crevasse_envelope_threshold: float = -0.25
    crevasse_envelope_drift_per_year: float = 0.01
    crevasse_migration_m_per_year: float = 0.0
    zone_aspect: float = 1.0
    trunk: TrunkParams | None = None

    @classmethod
    def from_dict(cls, values: dict) -> WorldParams:
        """Build parameters from a config mapping; unknown keys raise a TypeError."""
        values = dict(values)
        if isinstance(values.get("trunk"), dict):
            values["trunk"] = TrunkParams.from_dict(values["trunk"])
        return cls(**values)


@dataclass
class _Zones:
    """The distinct zones of a call's points and, for each point, its zone's position
    among them; per-point identity and parameters are gathered when asked for."""

    index: np.ndarray  #: per point, its zone's position among the distinct zones
    cell_x: np.ndarray  #: lattice cells of the distinct zones
    cell_y: np.ndarray
    centre_x: np.ndarray  #: centres of the distinct zones, metres
    centre_y: np.ndarray
    zone_code: np.ndarray  #: class codes of the distinct zones
    zone_trunk: np.ndarray  #: whether each distinct zone is trunk ice

    @cached_property
    def cx(self) -> np.ndarray:
        """Per point, its zone's centre (x)."""
        return self.centre_x[self.index]

    @cached_property
    def cy(self) -> np.ndarray:
        """Per point, its zone's centre (y)."""
        return self.centre_y[self.index]

    @cached_property
    def code(self) -> np.ndarray:
        """Per point, its zone's class code."""
        return self.zone_code[self.index]

    @cached_property
    def trunk(self) -> np.ndarray:
        """Per point, whether its zone is trunk ice (its class and crevasses the trunk's)."""
        return self.zone_trunk[self.index]

    def gather(self, per_zone: np.ndarray, sel: np.ndarray) -> np.ndarray:
        """Values of the distinct zones at the selected points."""
        return per_zone[self.index[sel]]


class SyntheticWorld:
    """The procedural ice surface; see the module docstring.

    Parameters
    ----------
    params : WorldParams
    """

    def __init__(self, params: WorldParams | None = None) -> None:
        self.params = params or WorldParams()
        self._class_cdf = _class_cdf(self.params.class_weights, "world")
        trunk = self.params.trunk
        self._trunk_cdf = _class_cdf(trunk.class_weights, "trunk") if trunk else None
        self._kernel_keys = self._salted_keys()
        self._kernel_octaves = self._octave_tables()

    # ------------------------------------------------------------------ public
    def evaluate(
        self, x: np.ndarray, y: np.ndarray, year: float, *, crevasse_depth: bool = False
    ) -> tuple[np.ndarray, ...]:
        """Surface elevation and surface class at points, in a given year.

        Each zone's parameters are drawn once, and the points are evaluated in one
        compiled pass (:mod:`cryolearn.synth._world_kernel`); :meth:`evaluate_composed`
        is the same arithmetic as array expressions, its reference.

        Parameters
        ----------
        x, y : float arrays of the same shape, EPSG:3413 metres
        year : decimal year
        crevasse_depth : also return the depth of open crevasses

        Returns
        -------
        elevation : float64 array, metres above the ellipsoid
        surface_class : uint8 array, codes of :data:`SURFACE_CLASSES`
        open_depth : (with ``crevasse_depth``) float64 array, metres: how far the
            surface lies below the ice between the crevasses of its set, in active
            crevassed zones; 0 on that ice, on closed segments and elsewhere
        """
        x, y, shape = _flat_points(x, y)
        zones = self._zones(x, y)
        elevation, surface_class, open_depth = kernel.evaluate_points(
            x, y, zones.index, zones.zone_code, self._zone_table(zones),
            self._kernel_constants(year), self._kernel_keys, *self._kernel_octaves)
        if crevasse_depth:
            return (elevation.reshape(shape), surface_class.reshape(shape),
                    open_depth.reshape(shape))
        return elevation.reshape(shape), surface_class.reshape(shape)

    def evaluate_composed(
        self, x: np.ndarray, y: np.ndarray, year: float, *, crevasse_depth: bool = False
    ) -> tuple[np.ndarray, ...]:
        """:meth:`evaluate` as array expressions per class around smaller kernels: the
        reference of its compiled pass."""
        x, y, shape = _flat_points(x, y)
        z = self.regional_elevation(x, y)
        zones = self._zones(x, y)
        surface_class = np.zeros(x.shape, dtype=np.uint8)
        relief = np.zeros(x.shape)
        roughness_scale = np.ones(x.shape)
        open_depth = np.zeros(x.shape)
        for code in np.unique(zones.code):
            sel = np.flatnonzero(zones.code == code)
            name = SURFACE_CLASSES[code]
            dz, cls, rough, depth = self._relief(name, x[sel], y[sel], z[sel], zones, sel, year)
            relief[sel] = dz
            surface_class[sel] = cls
            roughness_scale[sel] = rough
            open_depth[sel] = depth
        rough = self.params.roughness_m * fractal_noise(x, y, 6.0, self.params.seed, _S_ROUGH, 3)
        elevation = z + relief + roughness_scale * rough
        if crevasse_depth:
            return (elevation.reshape(shape), surface_class.reshape(shape),
                    open_depth.reshape(shape))
        return elevation.reshape(shape), surface_class.reshape(shape)

    def regional_elevation(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Smooth regional surface (no zone relief, no roughness), metres."""
        p = self.params
        along = np.asarray(x) - p.origin_x_m
        slope = np.tan(np.radians(p.regional_slope_deg))
        undulation = p.undulation_amplitude_m * fractal_noise(
            x, y, p.undulation_wavelength_m, p.seed, _S_REGIONAL, 2, 0.35
        )
        z = p.base_elevation_m - slope * along + undulation
        if p.trunk is not None:
            z = z - surface_drop(p.trunk, along, y, p.regional_slope_deg, p.seed)
        return z

    def trunk_weight(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """How much of the outlet trunk each point is in: 0 interior ice, 1 the trunk."""
        p = self.params
        if p.trunk is None:
            return np.zeros(np.broadcast(x, y).shape)
        return trunk_weight(p.trunk, np.asarray(x) - p.origin_x_m, y, p.seed)

    def regional_gradient(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient (dz/dx, dz/dy) of the regional surface by central differences."""
        h = 1.0
        gx = (self.regional_elevation(x + h, y) - self.regional_elevation(x - h, y)) / (2 * h)
        gy = (self.regional_elevation(x, y + h) - self.regional_elevation(x, y - h)) / (2 * h)
        return gx, gy

    def crevassed_share(self, x: np.ndarray, y: np.ndarray, year: float) -> float:
        """Share of the given points that lie in crevassed classes in ``year``."""
        _, cls = self.evaluate(x, y, year)
        codes = [CLASS_CODE[n] for n in CREVASSED_CLASSES]
        return float(np.isin(cls, codes).mean())

    # ------------------------------------------------------- the compiled pass
    def _salted_keys(self) -> np.ndarray:
        """The salted keys of the compiled pass, in the order of ``kernel.KEYS``."""
        salts = {"orientation": _S_ORIENT_FIELD, "meander_1": 100 + _S_MEANDER,
                 "crevasse_1": 100 + _S_CREV_K, "segment_1": 100 + _S_CREV_SEG,
                 "meander_2": 200 + _S_MEANDER, "crevasse_2": 200 + _S_CREV_K,
                 "segment_2": 200 + _S_CREV_SEG, "heave": _S_HEAVE,
                 "heave_tilt": _S_HEAVE + 1, "block_lift": _S_BLOCK,
                 "block_tilt_x": _S_BLOCK + 1, "block_tilt_y": _S_BLOCK + 2,
                 "channel_meander": _S_MEANDER, "lake_shore": _S_FEATURE,
                 "ridge_warp": _S_HUMMOCK}
        return np.array([_salted(self.params.seed, salts[name]) for name in kernel.KEYS],
                        dtype=np.uint64)

    def _octave_tables(self) -> tuple[np.ndarray, ...]:
        """Wavelengths, amplitudes, salted keys and norms of the fractal fields of the
        compiled pass (rows in the order of ``kernel.FRACTALS``)."""
        fields = {"undulation": (self.params.undulation_wavelength_m, _S_REGIONAL, 0.35),
                  "roughness": (6.0, _S_ROUGH, 0.5),
                  "envelope": (420.0, _S_ENVELOPE, 0.5),
                  "hummocks": (30.0, _S_HUMMOCK + 2, 0.5)}
        shape = (len(kernel.FRACTALS), max(kernel.FRACTAL_OCTAVES))
        waves, amps = np.ones(shape), np.zeros(shape)
        keys, norms = np.zeros(shape, dtype=np.uint64), np.zeros(len(kernel.FRACTALS))
        for row, name in enumerate(kernel.FRACTALS):
            wavelength, salt, persistence = fields[name]
            layers, norms[row] = _octaves(wavelength, salt, kernel.FRACTAL_OCTAVES[row],
                                          persistence)
            for o, (wavelength, amplitude, salt) in enumerate(layers):
                waves[row, o], amps[row, o] = wavelength, amplitude
                keys[row, o] = _salted(self.params.seed, salt)
        return waves, amps, keys, norms

    def _kernel_constants(self, year: float) -> np.ndarray:
        """The world's scalars in ``year``, in the order of ``kernel.CONSTANTS``."""
        p = self.params
        values = dict.fromkeys(kernel.CONSTANTS, 0.0)
        values.update(
            origin_x=p.origin_x_m, base_elevation=p.base_elevation_m,
            slope=np.tan(np.radians(p.regional_slope_deg)),
            undulation_amplitude=p.undulation_amplitude_m, roughness=p.roughness_m,
            envelope_threshold=(p.crevasse_envelope_threshold
                                - p.crevasse_envelope_drift_per_year * (year - p.reference_year)),
            envelope_shift=p.crevasse_migration_m_per_year * (year - p.reference_year))
        t = p.trunk
        if t is not None:
            scale = t.steepening_m / 4.0
            extra = np.tan(np.radians(t.slope_deg)) - np.tan(np.radians(p.regional_slope_deg))
            values.update(
                has_trunk=1.0, head=t.head_m, transition=t.transition_m,
                centre_y=t.centre_y_m, meander=t.meander_m, meander_phase=meander_phase(p.seed),
                half_width=0.5 * t.width_m, margin=t.margin_m, extra_scale=extra * scale,
                drop_scale=scale, trough=t.trough_m, heave=t.heave, heave_tilt=t.heave_tilt)
        return np.array([values[name] for name in kernel.CONSTANTS], dtype=np.float64)

    def _zone_table(self, zones: _Zones) -> np.ndarray:
        """Per distinct zone, the parameters of its relief (``kernel.ZONE_COLUMNS``)."""
        u = self._distinct_zone_uniform
        table = np.zeros((len(zones.cell_x), len(kernel.ZONE_COLUMNS)))

        def put(**columns: np.ndarray | float) -> None:
            for name, values in columns.items():
                table[:, kernel.ZONE_COLUMNS.index(name)] = values

        trunk = self.params.trunk
        in_trunk = zones.zone_trunk
        put(centre_x=zones.centre_x, centre_y=zones.centre_y, trunk=in_trunk)
        for name in CREVASSED_CLASSES:
            rows = zones.zone_code == CLASS_CODE[name]
            if rows.any():
                values = self._crevasse_zone_parameters(name, zones)
                for column, v in zip(("theta", "bend", "spacing", "width", "depth",
                                      "exponent"), values, strict=True):
                    table[rows, kernel.ZONE_COLUMNS.index(column)] = v[rows]
        spacing, depth = table[:, kernel.Z_SPACING], table[:, kernel.Z_DEPTH]
        cross_angle = np.radians(40.0 + 50.0 * u(zones, _S_CROSS))
        put(cross_sin=np.sin(cross_angle), cross_cos=np.cos(cross_angle),
            spacing2=spacing * (0.8 + 0.6 * u(zones, _S_CROSS + 50)),
            spread=np.where(in_trunk, trunk.depth_spread if trunk else 0.4, 0.4),
            skew=np.where(in_trunk, trunk.depth_skew if trunk else 0.0, 0.0),
            lowered=np.where(in_trunk, trunk.activity if trunk else 0.0, 0.0),
            lift=np.where(in_trunk, 0.15 * depth, 2.5))
        gx, gy = self.regional_gradient(zones.centre_x, zones.centre_y)
        norm = np.hypot(gx, gy) + 1e-12
        put(flow_x=-gx / norm, flow_y=-gy / norm,
            channel_wavelength=80.0 + 120.0 * u(zones, _S_FEATURE),
            channel_amplitude=5.0 + 20.0 * u(zones, _S_FEATURE + 1),
            channel_phase=2 * np.pi * u(zones, _S_FEATURE + 2),
            channel_half_width=2.0 + 6.0 * u(zones, _S_FEATURE + 3),
            channel_depth=1.0 + 3.0 * u(zones, _S_FEATURE + 4),
            bowl_radius=40.0 + 80.0 * u(zones, _S_SIZE),
            bowl_depth=2.0 + 4.0 * u(zones, _S_SIZE + 1),
            moulin_radius=3.0 + 3.0 * u(zones, _S_SIZE + 2),
            moulin_depth=8.0 + 7.0 * u(zones, _S_SIZE + 3),
            ridge_wavelength=30.0 + 120.0 * u(zones, _S_HUMMOCK),
            ridge_amplitude=0.5 + 2.0 * u(zones, _S_HUMMOCK + 1))
        # a lake's water level stays below the lowest point of its rim (downslope)
        radius = 70.0 + 130.0 * u(zones, _S_SIZE)
        lake_depth = np.maximum(3.0 + 5.0 * u(zones, _S_SIZE + 1),
                                2.5 * np.hypot(gx, gy) * radius)
        centre_z = self.regional_elevation(zones.centre_x, zones.centre_y)
        put(lake_radius=radius, lake_depth=lake_depth,
            lake_level=centre_z - np.hypot(gx, gy) * radius - 0.2 * lake_depth)
        return table

    # ----------------------------------------------------------------- zones
    def _zones(self, x: np.ndarray, y: np.ndarray) -> _Zones:
        p = self.params
        size = p.zone_size_m
        warp = 0.35 * size
        # zones are cells of (x / zone_aspect, y): zone_aspect times longer along flow
        zx, zy, bounds = kernel.zone_cells(
            x, y, float(p.zone_aspect), warp, 1.7 * size, size, _salted(p.seed, _S_WARP_X),
            _salted(p.seed, _S_WARP_Y), _salted(p.seed, _S_JITTER_X),
            _salted(p.seed, _S_JITTER_Y))
        # a zone's centre, class and trunk share are functions of its lattice cell
        # alone: evaluated once per zone (a frame holds millions of points and tens
        # of zones), the same numbers element by element
        (ux, uy), inverse = _unique_cells(zx, zy, bounds)
        cx, cy = self._zone_centre(ux, uy)
        cx = cx * p.zone_aspect
        code = _draw_class(self._class_cdf, hash_uniform(ux, uy, p.seed, _S_CLASS))
        trunk = np.zeros(ux.shape, dtype=bool)
        if p.trunk is not None:
            code, trunk = self._trunk_classes(code, ux, uy, cx, cy)
        code = self._apply_crevasse_limit(code, cx, cy)
        return _Zones(index=inverse, cell_x=ux, cell_y=uy, centre_x=cx, centre_y=cy,
                      zone_code=code, zone_trunk=trunk)

    def _trunk_classes(self, code: np.ndarray, zx: np.ndarray, zy: np.ndarray, cx: np.ndarray,
                       cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Zones whose centre lies in the trunk become trunk ice with the trunk's share
        of it; zones centred in a shear margin are crevasses."""
        p = self.params
        along = cx - p.origin_x_m
        weight = trunk_weight(p.trunk, along, cy, p.seed)
        trunk = hash_uniform(zx, zy, p.seed, _S_TRUNK_MIX) < weight
        trunk_code = _draw_class(self._trunk_cdf, hash_uniform(zx, zy, p.seed, _S_TRUNK_CLASS))
        in_margin = margin_side(p.trunk, along, cy, p.seed) != 0
        trunk_code = np.where(in_margin, np.uint8(CLASS_CODE["crevasses"]), trunk_code)
        trunk = trunk | in_margin
        return np.where(trunk, trunk_code, code).astype(np.uint8), trunk

    def _zone_centre(self, ix: np.ndarray, iy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre of a zone in the scaled coordinates of :meth:`_zones`."""
        size = self.params.zone_size_m
        jx = hash_uniform(ix, iy, self.params.seed, _S_JITTER_X)
        jy = hash_uniform(ix, iy, self.params.seed, _S_JITTER_Y)
        return (ix + 0.1 + 0.8 * jx) * size, (iy + 0.1 + 0.8 * jy) * size

    def _apply_crevasse_limit(
        self, code: np.ndarray, cx: np.ndarray, cy: np.ndarray
    ) -> np.ndarray:
        crevassed = np.isin(code, [CLASS_CODE[n] for n in CREVASSED_CLASSES])
        too_high = self.regional_elevation(cx, cy) > self.params.crevasse_upper_limit_m
        return np.where(crevassed & too_high, np.uint8(CLASS_CODE["hummocky"]), code)

    def _zone_uniform(self, zones: _Zones, sel: np.ndarray, salt: int) -> np.ndarray:
        """A uniform number of each selected point's zone (hashed once per zone)."""
        return zones.gather(self._distinct_zone_uniform(zones, salt), sel)

    def _distinct_zone_uniform(self, zones: _Zones, salt: int) -> np.ndarray:
        """A uniform number of each distinct zone."""
        return hash_uniform(zones.cell_x, zones.cell_y, self.params.seed, salt)

    def _zone_gradient(self, zones: _Zones, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The regional gradient at each selected point's zone centre (once per zone)."""
        gx, gy = self.regional_gradient(zones.centre_x, zones.centre_y)
        return zones.gather(gx, sel), zones.gather(gy, sel)

    # ---------------------------------------------------------------- relief
    def _relief(
        self,
        name: str,
        x: np.ndarray,
        y: np.ndarray,
        z_regional: np.ndarray,
        zones: _Zones,
        sel: np.ndarray,
        year: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Relief (m), class codes, roughness scale and open-crevasse depth (m) for the
        points of one class."""
        code = np.full(x.shape, CLASS_CODE[name], dtype=np.uint8)
        smooth = np.uint8(CLASS_CODE["smooth"])
        ones = np.ones(x.shape)
        none = np.zeros(x.shape)
        if name == "smooth":
            return np.zeros(x.shape), code, ones, none
        if name in CREVASSED_CLASSES:
            dz, depth = self._crevasse_relief(name, x, y, zones, sel)
            activity = self.params.trunk.activity if self.params.trunk else 0.0
            lowered = np.where(zones.trunk[sel], activity, 0.0)
            active = self._crevasse_envelope(x, y, year, lowered)
            return (np.where(active, dz, 0.0), np.where(active, code, smooth), ones,
                    np.where(active, depth, 0.0))
        if name == "channel":
            dz, inside = self._channel_relief(x, y, zones, sel, upstream_only=False)
            return dz, np.where(inside, code, smooth), ones, none
        if name == "moulin_bowl":
            return (*self._moulin_bowl_relief(x, y, zones, sel, code, smooth), none)
        if name == "lake":
            return (*self._lake_relief(x, y, z_regional, zones, sel, code, smooth), none)
        if name == "hummocky":
            return self._hummocky_relief(x, y, zones, sel), code, ones, none
        raise ValueError(f"no relief model for class {name!r}")

    def _crevasse_envelope(self, x: np.ndarray, y: np.ndarray, year: float,
                           lowered: np.ndarray | float = 0.0) -> np.ndarray:
        """Where crevasses are open in ``year``; ``lowered`` lowers the threshold."""
        p = self.params
        threshold = p.crevasse_envelope_threshold - p.crevasse_envelope_drift_per_year * (
            year - p.reference_year
        ) - lowered
        # the pattern seen at x in `year` is the reference pattern found further
        # down-glacier (+x), so fields move up-glacier as the years pass
        x_ref = np.asarray(x) + p.crevasse_migration_m_per_year * (year - p.reference_year)
        envelope = fractal_noise(x_ref, y, 420.0, p.seed, _S_ENVELOPE, 2)
        return envelope > threshold

    def _crevasse_set(
        self,
        x: np.ndarray,
        y: np.ndarray,
        theta: np.ndarray,
        spacing: np.ndarray,
        width: np.ndarray,
        depth: np.ndarray,
        exponent: np.ndarray,
        salt: int,
        depth_spread: np.ndarray | float = 0.4,
        depth_skew: np.ndarray | float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Depth below the surface of one set of parallel crevasses.

        Crevasse k of the set runs along direction ``theta``; its own width varies
        by up to +-40 % and its depth by up to +-``depth_spread`` (or, where
        ``depth_skew`` q > 0, by a factor (1 + q) u^q of mean 1: most crevasses
        shallower than the zone's depth, a few up to 1 + q times deeper), it is cut into
        segments of finite length that taper at their ends, and its trace meanders
        slowly. Returns the depth (m, >= 0), the integer index of the crevasse (or of the block
        beyond it) and the position across the block, in [-0.5, 0.5).
        """
        seed = self.params.seed
        points = np.broadcast(x, theta, spacing, width, depth, exponent, depth_spread,
                              depth_skew).shape

        def flat(values: np.ndarray | float) -> np.ndarray:
            return np.ascontiguousarray(np.broadcast_to(np.asarray(values, np.float64),
                                                        points)).ravel()

        theta = flat(theta)
        k, t, r, kd, taper = crevasse_set_kernel(
            flat(x), flat(y), np.sin(theta), np.cos(theta), flat(spacing), flat(width),
            _salted(seed, salt + _S_MEANDER), _salted(seed, salt + _S_CREV_K),
            _salted(seed, salt + _S_CREV_SEG))
        # the powers as array expressions (numpy's vectorised power, as in the array
        # form), taken only where they are used: skewed depths and crevasse walls
        skew, spread = flat(depth_skew), flat(depth_spread)
        factor = 1.0 - spread + 2.0 * spread * kd
        skewed = np.flatnonzero(skew > 0)
        factor[skewed] = (1.0 + skew[skewed]) * kd[skewed] ** skew[skewed]
        profile = np.zeros(r.shape)
        wall = np.flatnonzero(r < 1.0)
        profile[wall] = 1.0 - np.abs(np.clip(r[wall], 0.0, 1.0)) ** flat(exponent)[wall]
        d = flat(depth) * factor * taper
        return (d * profile).reshape(points), k.reshape(points), t.reshape(points)

    def _crevasse_parameters(
        self, name: str, x: np.ndarray, y: np.ndarray, zones: _Zones, sel: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Direction, spacing, width, depth and wall exponent of the crevasses at the
        selected points: drawn once per zone, the direction bent by a smooth field."""
        base, bend, *rest = self._crevasse_zone_parameters(name, zones)
        field = value_noise(x, y, 600.0, self.params.seed, _S_ORIENT_FIELD)
        theta = zones.gather(base, sel) + zones.gather(bend, sel) * field
        return theta, *(zones.gather(values, sel) for values in rest)

    def _crevasse_zone_parameters(self, name: str, zones: _Zones) -> tuple[np.ndarray, ...]:
        """Per distinct zone: direction, how far the orientation field bends it, spacing,
        width, depth and wall exponent; the trunk's zones take the trunk's."""
        u = self._distinct_zone_uniform
        interior = (np.pi * u(zones, _S_ORIENT), np.full(zones.cell_x.shape, 0.25),
                    *self._interior_crevasse_parameters(name, zones))
        if not zones.zone_trunk.any():
            return interior
        trunk = self._trunk_crevasse_parameters(zones)
        return tuple(np.where(zones.zone_trunk, t, i) for t, i in
                     zip(trunk, interior, strict=True))

    def _trunk_crevasse_parameters(self, zones: _Zones) -> tuple[np.ndarray, ...]:
        """Direction, bend, spacing, width, depth and wall exponent of trunk crevasses,
        per distinct zone."""
        u = self._distinct_zone_uniform
        t = self.params.trunk
        along = zones.centre_x - self.params.origin_x_m
        theta = crevasse_direction(t, along, zones.centre_y, self.params.seed)
        spacing = t.spacing_m[0] + (t.spacing_m[1] - t.spacing_m[0]) * u(zones, _S_SPACING)
        share = t.width_share[0] + (t.width_share[1] - t.width_share[0]) * u(zones, _S_WIDTH)
        depth = t.depth_m[0] * (t.depth_m[1] / t.depth_m[0]) ** u(zones, _S_DEPTH)
        exponent = np.where(u(zones, _S_SHAPE) < 0.5, 1.0, 4.0)
        return (theta, np.full(theta.shape, 0.15), spacing, spacing * share, depth,
                exponent)

    def _interior_crevasse_parameters(self, name: str, zones: _Zones
                                      ) -> tuple[np.ndarray, ...]:
        """Spacing, width, depth and wall exponent of the interior's crevasses, per
        distinct zone."""
        u = self._distinct_zone_uniform
        if name == "serac_field":
            spacing = 10.0 + 15.0 * u(zones, _S_SPACING)
            width = spacing * (0.35 + 0.3 * u(zones, _S_WIDTH))
            depth = 6.0 + 12.0 * u(zones, _S_DEPTH)
        else:
            spacing = 10.0 * 6.0 ** u(zones, _S_SPACING)  # log-uniform 10-60 m
            width = np.minimum(15.0, 0.55 * spacing) * (0.15 + 0.85 * u(zones, _S_WIDTH))
            width = np.maximum(width, 1.0)
            depth = np.clip(width * (0.8 + 2.2 * u(zones, _S_DEPTH)), 1.0, 20.0)
        exponent = np.where(u(zones, _S_SHAPE) < 0.5, 1.0, 4.0)  # V or U walls
        return spacing, width, depth, exponent

    def _crevasse_relief(
        self, name: str, x: np.ndarray, y: np.ndarray, zones: _Zones, sel: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Relief of the zone (m) and the depth of its open crevasses (m, >= 0)."""
        theta, spacing, width, depth, exponent = self._crevasse_parameters(name, x, y, zones, sel)
        # local coordinates keep the orientation field's bending gentle
        x = x - zones.cx[sel]
        y = y - zones.cy[sel]
        depth_scale = depth
        trunk = self.params.trunk
        in_trunk = zones.trunk[sel]
        spread = np.where(in_trunk, trunk.depth_spread if trunk else 0.4, 0.4)
        skew = np.where(in_trunk, trunk.depth_skew if trunk else 0.0, 0.0)
        first, k1, t1 = self._crevasse_set(x, y, theta, spacing, width, depth, exponent, 100,
                                           spread, skew)
        if name == "crevasses":
            heave = self._trunk_heave(k1, k1 + 1_000_003, t1, zones, sel, depth_scale)
            return heave - first, first
        cross_angle = np.radians(40.0 + 50.0 * self._zone_uniform(zones, sel, _S_CROSS))
        spacing2 = spacing * (0.8 + 0.6 * self._zone_uniform(zones, sel, _S_CROSS + 50))
        second, k2, t2 = self._crevasse_set(
            x, y, theta + cross_angle, spacing2, width, depth * 0.8, exponent, 200, spread, skew
        )
        depth = np.maximum(first, second)
        dz = -depth
        if name == "serac_field":
            # chaotic blocks: every block between crevasses is lifted and tilted
            seed = self.params.seed
            lift = 2.0 * hash_uniform(k1, k2, seed, _S_BLOCK) - 1.0
            tilt_x = hash_uniform(k1, k2, seed, _S_BLOCK + 1) - 0.5
            tilt_y = hash_uniform(k1, k2, seed, _S_BLOCK + 2) - 0.5
            tilt = 0.3 * (tilt_x * t1 * spacing + tilt_y * t2 * spacing2)
            # the trunk's seracs are blocks of tens of metres, heaved in proportion
            lift_m = np.where(zones.trunk[sel], 0.15 * depth_scale, 2.5)
            dz = dz + lift_m * lift + tilt
        return dz + self._trunk_heave(k1, k2, t1, zones, sel, depth_scale), depth

    def _trunk_heave(self, k1: np.ndarray, k2: np.ndarray, t1: np.ndarray, zones: _Zones,
                     sel: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Relief of the blocks between the trunk's crevasses (m): on a fast, chaotically
        crevassed trunk each block is heaved and tilted on its own, so no block top is
        level with the next (0 outside the trunk).

        ``k1``, ``k2`` index the block (the crevasses either side of it in each set) and
        ``t1`` is the position across it, in [-0.5, 0.5).
        """
        trunk = self.params.trunk
        if trunk is None or not zones.trunk[sel].any():
            return np.zeros(k1.shape)
        seed = self.params.seed
        lift = 2.0 * hash_uniform(k1, k2, seed, _S_HEAVE) - 1.0
        tilt = 2.0 * hash_uniform(k1, k2, seed, _S_HEAVE + 1) - 1.0
        block = trunk.heave * depth * (lift + trunk.heave_tilt * tilt * t1)
        return np.where(zones.trunk[sel], block, 0.0)

    def _flow_frame(
        self, x: np.ndarray, y: np.ndarray, zones: _Zones, sel: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Along-flow and across-flow coordinates relative to the zone centre."""
        cx, cy = zones.cx[sel], zones.cy[sel]
        gx, gy = self._zone_gradient(zones, sel)
        norm = np.hypot(gx, gy) + 1e-12
        fx, fy = -gx / norm, -gy / norm  # downslope
        dx, dy = x - cx, y - cy
        return dx * fx + dy * fy, -dx * fy + dy * fx

    def _channel_relief(
        self, x: np.ndarray, y: np.ndarray, zones: _Zones, sel: np.ndarray, upstream_only: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """A meandering supraglacial channel through the zone centre, along flow."""
        u = self._zone_uniform
        along, across = self._flow_frame(x, y, zones, sel)
        wavelength = 80.0 + 120.0 * u(zones, sel, _S_FEATURE)
        amplitude = 5.0 + 20.0 * u(zones, sel, _S_FEATURE + 1)
        phase = 2 * np.pi * u(zones, sel, _S_FEATURE + 2)
        half_width = 2.0 + 6.0 * u(zones, sel, _S_FEATURE + 3)
        depth = 1.0 + 3.0 * u(zones, sel, _S_FEATURE + 4)
        centre = amplitude * np.sin(2 * np.pi * along / wavelength + phase)
        centre = centre + 4.0 * value_noise(x, y, 40.0, self.params.seed, _S_MEANDER)
        r = np.abs(across - centre) / half_width
        dz = -depth * np.clip(1.0 - r**2, 0.0, None)
        inside = r < 2.0  # channel and its banks
        if upstream_only:
            upstream = along < 0.0
            dz = np.where(upstream, dz, 0.0)
            inside = inside & upstream
        return dz, inside

    def _moulin_bowl_relief(
        self,
        x: np.ndarray,
        y: np.ndarray,
        zones: _Zones,
        sel: np.ndarray,
        code: np.ndarray,
        smooth: np.uint8,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A bowl with a moulin at its centre, fed by a channel from upstream."""
        u = self._zone_uniform
        r = np.hypot(x - zones.cx[sel], y - zones.cy[sel])
        bowl_radius = 40.0 + 80.0 * u(zones, sel, _S_SIZE)
        bowl_depth = 2.0 + 4.0 * u(zones, sel, _S_SIZE + 1)
        moulin_radius = 3.0 + 3.0 * u(zones, sel, _S_SIZE + 2)
        moulin_depth = 8.0 + 7.0 * u(zones, sel, _S_SIZE + 3)
        bowl = -bowl_depth * np.exp(-0.5 * (r / (0.5 * bowl_radius)) ** 2)
        moulin = -moulin_depth * np.clip(1.0 - r / moulin_radius, 0.0, None)
        channel, in_channel = self._channel_relief(x, y, zones, sel, upstream_only=True)
        dz = bowl + np.minimum(moulin, channel)
        inside = (r < bowl_radius) | in_channel
        return dz, np.where(inside, code, smooth), np.ones(x.shape)

    def _lake_relief(
        self,
        x: np.ndarray,
        y: np.ndarray,
        z_regional: np.ndarray,
        zones: _Zones,
        sel: np.ndarray,
        code: np.ndarray,
        smooth: np.uint8,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A bowl on the regional slope, filled to a flat water level.

        The bowl is at least 2.5 times as deep as the slope's drop across its
        radius, so water always covers its centre and never spills over the rim.
        """
        u = self._zone_uniform
        cx, cy = zones.cx[sel], zones.cy[sel]
        radius = 70.0 + 130.0 * u(zones, sel, _S_SIZE)
        gx, gy = self._zone_gradient(zones, sel)
        depth = np.maximum(3.0 + 5.0 * u(zones, sel, _S_SIZE + 1), 2.5 * np.hypot(gx, gy) * radius)
        r = np.hypot(x - cx, y - cy) / radius
        r = r * (1.0 + 0.15 * value_noise(x, y, 60.0, self.params.seed, _S_FEATURE))
        bowl = -depth * np.clip(1.0 - r**2, 0.0, None)
        # the water level stays below the lowest point of the rim (downslope)
        centre_z = zones.gather(self.regional_elevation(zones.centre_x, zones.centre_y), sel)
        level = centre_z - np.hypot(gx, gy) * radius - 0.2 * depth
        flooded = (r < 1.0) & (z_regional + bowl < level)
        dz = np.where(flooded, level - z_regional, bowl)
        return dz, np.where(flooded, code, smooth), np.where(flooded, 0.0, 1.0)

    def _hummocky_relief(
        self, x: np.ndarray, y: np.ndarray, zones: _Zones, sel: np.ndarray
    ) -> np.ndarray:
        """Flow-transverse ridges (30-150 m) with hummocks on top."""
        u = self._zone_uniform
        along, _ = self._flow_frame(x, y, zones, sel)
        wavelength = 30.0 + 120.0 * u(zones, sel, _S_HUMMOCK)
        amplitude = 0.5 + 2.0 * u(zones, sel, _S_HUMMOCK + 1)
        warp = 0.2 * wavelength * value_noise(x, y, 200.0, self.params.seed, _S_HUMMOCK)
        ridges = amplitude * np.sin(2 * np.pi * (along + warp) / wavelength)
        hummocks = 1.2 * fractal_noise(x, y, 30.0, self.params.seed, _S_HUMMOCK + 2, 2)
        return ridges + hummocks


def _flat_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Points as flat, writeable float64 arrays of their broadcast shape (one type for
    the compiled pass), and that shape."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    shape = np.broadcast(x, y).shape

    def flat(values: np.ndarray) -> np.ndarray:
        if values.shape != shape:
            values = np.broadcast_to(values, shape)
        values = np.ascontiguousarray(values).ravel()
        return values if values.flags.writeable else values.copy()

    return flat(x), flat(y), shape


def _class_cdf(weights: dict[str, float], what: str) -> np.ndarray:
    """Cumulative class shares from a weights mapping, checked."""
    unknown = set(weights) - set(SURFACE_CLASSES)
    if unknown:
        raise ValueError(f"unknown surface classes in {what} class_weights: {sorted(unknown)}")
    values = np.array([weights.get(n, 0.0) for n in SURFACE_CLASSES])
    if np.any(values < 0) or values.sum() <= 0:
        raise ValueError(f"{what} class_weights must be non-negative and not all zero")
    return np.cumsum(values) / values.sum()


def _draw_class(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Class codes drawn by inverting the cumulative shares at uniform numbers."""
    code = np.searchsorted(cdf, uniform, "right")
    return np.minimum(code, len(SURFACE_CLASSES) - 1).astype(np.uint8)


def _unique_cells(ix: np.ndarray, iy: np.ndarray,
                  bounds: tuple[int, int, int, int] | None = None
                  ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """The distinct lattice cells (ix, iy) of flat int64 arrays, in order of (ix, iy),
    and for each point the index of its cell among them; ``bounds`` are the least and
    greatest ix and iy where known."""
    if ix.size == 0:
        return (ix, iy), np.zeros(0, dtype=np.intp)
    x0, x1, y0, y1 = bounds if bounds is not None else (ix.min(), ix.max(), iy.min(),
                                                        iy.max())
    span = y1 - y0 + 1
    n_keys = int(x1 - x0 + 1) * int(span)
    if n_keys > 4 * ix.size:
        keys, inverse = np.unique((ix - x0) * span + (iy - y0), return_inverse=True)
        return (keys // span + x0, keys % span + y0), inverse.reshape(-1)
    # a call's points lie in a compact block of cells: count them instead of sorting
    ux, uy, inverse = kernel.dense_cells(ix, iy, x0, y0, span, n_keys)
    return (ux, uy), inverse


def crevasse_set_arrays(
    seed: int,
    x: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    spacing: np.ndarray,
    width: np.ndarray,
    depth: np.ndarray,
    exponent: np.ndarray,
    salt: int,
    depth_spread: np.ndarray | float = 0.4,
    depth_skew: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``SyntheticWorld._crevasse_set`` as array expressions (the reference of its
    compiled kernel, :func:`cryolearn.synth._noise_kernel.crevasse_set_kernel`)."""
    across = -x * np.sin(theta) + y * np.cos(theta)
    along = x * np.cos(theta) + y * np.sin(theta)
    across = across + 0.25 * spacing * value_noise(x, y, 160.0, seed, salt + _S_MEANDER)
    pos = across / spacing
    k = np.floor(pos).astype(np.int64)
    t = pos - k - 0.5
    kw = hash_uniform(k, k, seed, salt + _S_CREV_K)
    kd = hash_uniform(k, -k, seed, salt + _S_CREV_K)
    half_width = 0.5 * width * (0.6 + 0.8 * kw)
    r = np.abs(t) * spacing / half_width
    # finite crevasse lengths: segments of 60-260 m, of which about 80 % open
    seg_len = 60.0 + 200.0 * hash_uniform(k, k + 7, seed, salt + _S_CREV_SEG)
    offset = seg_len * hash_uniform(k, k - 7, seed, salt + _S_CREV_SEG)
    seg_pos = (along + offset) / seg_len
    seg = np.floor(seg_pos).astype(np.int64)
    open_seg = hash_uniform(k, seg, seed, salt + _S_CREV_SEG) < 0.8
    frac = seg_pos - seg
    taper = np.clip(np.minimum(frac, 1.0 - frac) * seg_len / 25.0, 0.0, 1.0)
    factor = np.where(np.asarray(depth_skew) > 0, (1.0 + depth_skew) * kd ** depth_skew,
                      1.0 - depth_spread + 2.0 * depth_spread * kd)
    d = depth * factor * taper * open_seg
    profile = np.where(r < 1.0, 1.0 - np.abs(np.clip(r, 0.0, 1.0)) ** exponent, 0.0)
    return d * profile, k, t
