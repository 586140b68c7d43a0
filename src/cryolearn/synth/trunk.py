"""The outlet-glacier trunk of the synthetic world: where it lies and how its ice breaks.

Down-glacier of the interior the ice sheet steepens and drains through a fast
outlet trunk, several kilometres wide, like the lower trunk of Jakobshavn Isbræ
(Sermeq Kujalleq), where the real GLAS shots of ``../shared/data`` lie at
120-660 m. The trunk here is geometry only; :mod:`cryolearn.synth.world` asks it

* how much the surface drops (:func:`surface_drop`): the regional slope steepens
  from the interior's to ``slope_deg`` over the trunk's head, and the trunk is a
  shallow trough below its sides;
* how much of the trunk a point is in (:func:`trunk_weight`): 0 in the interior,
  rising over ``transition_m`` down-glacier of the head (the up-glacier transition
  to the interior's sparser fields) and falling off across the shear margins;
* whether a point is in a shear margin (:func:`margin_side`);
* which way its crevasses run (:func:`crevasse_direction`): transverse to flow on
  the centre line, splaying towards the margins, and at 45 degrees to the flow in
  the margins, as shear crevasses form (Vaughan 1993; Colgan et al. 2016).

The numbers of :class:`TrunkParams` are those of Jakobshavn's lower glacier:
crevasses 20-40 m apart (about 27 per km) and relief up to 50 m (Garvin & Williams
1993, from laser altimetry of the lower glacier); a trunk about 5 km wide; surface
slopes of several degrees on the trunk against 0.1-1 degrees in the interior.

The depths were then calibrated against the real GLAS shots of the lower trunk
(``results/eval/realism.json``; ``docs/real-data.md``): a zone's crevasses are
5-16 m deep on average (log-uniform), each crevasse 2.5 u^1.5 times that (u
uniform: most shallower, a few up to 2.5 times deeper, up to 40 m), and every block
between crevasses is heaved by up to 0.6 times the zone's depth and tilted, so that
from a block's top to the floor of the crevasse beside it the relief reaches 50 m.
Deeper zones made the synthetic returns broader than the real ones; level block
tops (no heave) made them peak early with too few peaks; crevasses of similar
depths gave returns of the right width but too short an extent: the real returns
are broad, centred, multi-peaked and long (median RMS width 33 ns, extent 179 ns,
3 peaks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cryolearn.synth.noise import hash_uniform

#: salt of the trunk's centre-line meander
_S_TRUNK_MEANDER = 40


@dataclass(frozen=True)
class TrunkParams:
    """Where the trunk lies and how its ice breaks; lengths in metres, angles in degrees.

    Attributes
    ----------
    head_m : along-flow distance from the world's up-glacier edge to the trunk's head
    transition_m : length over which interior ice gives way to the trunk's
    centre_y_m : northing of the trunk's centre line (it meanders about it)
    meander_m : amplitude of the centre line's meander (wavelength 8 km)
    width_m : width of the trunk between the middles of its two shear margins
    margin_m : width of each shear margin
    slope_deg : surface slope on the trunk (the interior keeps the world's)
    steepening_m : length over which the slope steepens, centred on the head
    trough_m : depth of the trunk's surface below its sides
    class_weights : surface classes of the trunk's zones
    spacing_m : range of crevasse spacing in trunk zones (uniform)
    depth_m : range of crevasse depth in trunk zones (log-uniform: most are shallower
        than the deepest)
    width_share : range of crevasse width as a share of the spacing
    depth_skew : if above 0 (q), each crevasse's depth is (1 + q) u^q times its zone's
        (u uniform): mean 1, most shallower, a few up to 1 + q times deeper; else
    depth_spread : each crevasse's depth varies by up to this share about its zone's
        (the interior's by 0.4)
    heave, heave_tilt : blocks between crevasses are lifted by up to ``heave`` times
        their zone's crevasse depth, and tilted by up to ``heave_tilt`` times that
        from one side of the block to the other
    splay_deg : rotation of transverse crevasses at the margins (splaying)
    shear_angle_deg : angle of shear crevasses to the flow
    activity : lowers the crevasse envelope's threshold in the trunk (more open ice)
    """

    head_m: float = 18_000.0
    transition_m: float = 4_000.0
    centre_y_m: float = -2_280_000.0
    meander_m: float = 300.0
    width_m: float = 5_000.0
    margin_m: float = 600.0
    slope_deg: float = 4.0
    steepening_m: float = 3_000.0
    trough_m: float = 60.0
    class_weights: dict[str, float] = field(
        default_factory=lambda: {"crevasses": 0.2, "crossing_crevasses": 0.4,
                                 "serac_field": 0.4})
    spacing_m: tuple[float, float] = (20.0, 40.0)
    depth_m: tuple[float, float] = (5.0, 16.0)
    width_share: tuple[float, float] = (0.5, 0.8)
    depth_spread: float = 0.9
    depth_skew: float = 1.5
    heave: float = 0.6
    heave_tilt: float = 1.0
    splay_deg: float = 35.0
    shear_angle_deg: float = 45.0
    activity: float = 1.0

    @classmethod
    def from_dict(cls, values: dict) -> TrunkParams:
        """Build from a config mapping; lists become tuples, unknown keys raise."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def meander_phase(seed: int) -> float:
    """Phase (radians) of the trunk centre line's meander in the world of ``seed``."""
    return 2.0 * np.pi * float(hash_uniform(np.int64(0), np.int64(0), seed, _S_TRUNK_MEANDER))


def centre_offset(trunk: TrunkParams, along: np.ndarray, y: np.ndarray, seed: int
                  ) -> np.ndarray:
    """Signed distance (m) of points from the trunk's meandering centre line, in northing."""
    phase = meander_phase(seed)
    meander = trunk.meander_m * np.sin(2.0 * np.pi * np.asarray(along) / 8000.0 + phase)
    return np.asarray(y) - (trunk.centre_y_m + meander)


def along_weight(trunk: TrunkParams, along: np.ndarray) -> np.ndarray:
    """0 up-glacier of the head, rising smoothly to 1 over the transition."""
    return _smoothstep((np.asarray(along) - trunk.head_m) / trunk.transition_m)


def across_weight(trunk: TrunkParams, offset: np.ndarray) -> np.ndarray:
    """1 between the margins, 0 beyond them, falling off across their width."""
    half = 0.5 * trunk.width_m
    return _smoothstep((half + 0.5 * trunk.margin_m - np.abs(offset)) / trunk.margin_m)


def trunk_weight(trunk: TrunkParams, along: np.ndarray, y: np.ndarray, seed: int
                 ) -> np.ndarray:
    """How much of the trunk each point is in, in [0, 1]."""
    return along_weight(trunk, along) * across_weight(trunk, centre_offset(trunk, along, y, seed))


def margin_side(trunk: TrunkParams, along: np.ndarray, y: np.ndarray, seed: int
                ) -> np.ndarray:
    """+1 or -1 in the northern or southern shear margin of the trunk, 0 elsewhere."""
    offset = centre_offset(trunk, along, y, seed)
    inside = np.abs(np.abs(offset) - 0.5 * trunk.width_m) < 0.5 * trunk.margin_m
    downstream = along_weight(trunk, along) > 0.5
    return np.where(inside & downstream, np.sign(offset), 0.0)


def surface_drop(trunk: TrunkParams, along: np.ndarray, y: np.ndarray, interior_slope_deg: float,
                 seed: int) -> np.ndarray:
    """How far (m) the trunk's surface lies below the interior's plane.

    The slope steepens from the interior's to ``slope_deg`` as a softplus centred on
    the head, and the trunk's trough deepens with its weight.
    """
    along = np.asarray(along, np.float64)
    extra = np.tan(np.radians(trunk.slope_deg)) - np.tan(np.radians(interior_slope_deg))
    scale = trunk.steepening_m / 4.0
    steepening = extra * scale * np.logaddexp(0.0, (along - trunk.head_m) / scale)
    return steepening + trunk.trough_m * trunk_weight(trunk, along, y, seed)


def crevasse_direction(trunk: TrunkParams, along: np.ndarray, y: np.ndarray, seed: int
                       ) -> np.ndarray:
    """Direction (radians from +x, the flow) in which trunk crevasses run.

    Transverse (across flow, pi/2) on the centre line, splaying by up to ``splay_deg``
    towards the margins, and ``shear_angle_deg`` to the flow inside a margin.
    """
    offset = centre_offset(trunk, along, y, seed)
    half = 0.5 * trunk.width_m
    splay = np.radians(trunk.splay_deg) * np.clip(offset / half, -1.0, 1.0)
    transverse = 0.5 * np.pi + splay
    side = margin_side(trunk, along, y, seed)
    shear = side * np.radians(trunk.shear_angle_deg)
    return np.where(side != 0, np.mod(shear, np.pi), transverse)
