"""The synthetic world's per-point evaluation as one compiled pass (numba).

:meth:`cryolearn.synth.world.SyntheticWorld.evaluate` draws everything that belongs to
a zone (its class, centre, crevasse directions, spacings and depths, feature sizes)
once per distinct zone in numpy, in a table of :data:`ZONE_COLUMNS`, and hands the
points to :func:`evaluate_points`, which computes each point's regional surface,
relief, class, open-crevasse depth and roughness in compiled loops over blocks of
points: no per-class selections, and intermediate fields that stay in the caches.
:meth:`~cryolearn.synth.world.SyntheticWorld.evaluate_composed` is the same arithmetic
as array expressions around smaller kernels, the reference this pass is checked and
timed against (``tests/synth/test_world_kernel.py``, ``bench/world.py``).

The arithmetic keeps the reference's order of operations, so the two agree bit for bit
(97 % of elevations) but where a value is computed differently: numpy's vectorised
``exp`` and ``power`` round about one value in twenty differently (by one unit in the
last place) from the C library's, which these loops call; a U-shaped wall's fourth
power is a square squared; the second crevasse set's direction comes from the first's
by the angle-addition formulas. ``sin``, ``cos``, ``hypot`` and ``logaddexp`` are the
C library's in both. Elevations agree to picometres and classes exactly.

Numba caches :func:`evaluate_points` by this file alone: after editing the helpers it
inlines from :mod:`cryolearn.synth._noise_kernel`, clear this package's
``__pycache__/*.nb*`` (a clean clone compiles afresh).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from cryolearn.synth._noise_kernel import (
    _hash,
    _value_noise,
    crevasse_geometry,
    interpolate_corners,
    lattice_position,
    nearest_zone_in_cell,
    nearest_zone_into,
)

#: the columns of the per-zone table of :func:`evaluate_points`, in order
ZONE_COLUMNS: tuple[str, ...] = (
    "centre_x", "centre_y", "trunk",
    # crevasse sets: direction, bend of the orientation field, spacing, width, depth,
    # wall exponent, sine and cosine of the second set's angle to the first, its
    # spacing, depth spread and skew, envelope
    # lowering, serac block lift
    "theta", "bend", "spacing", "width", "depth", "exponent", "cross_sin", "cross_cos",
    "spacing2",
    "spread", "skew", "lowered", "lift",
    # the downslope direction at the zone's centre
    "flow_x", "flow_y",
    # a channel's meander wavelength, amplitude, phase, half width and depth
    "channel_wavelength", "channel_amplitude", "channel_phase", "channel_half_width",
    "channel_depth",
    # a moulin's bowl radius and depth, and its shaft's
    "bowl_radius", "bowl_depth", "moulin_radius", "moulin_depth",
    # a lake's radius, depth and water level
    "lake_radius", "lake_depth", "lake_level",
    # hummocky ridges' wavelength and amplitude
    "ridge_wavelength", "ridge_amplitude",
)
(Z_CX, Z_CY, Z_TRUNK, Z_THETA, Z_BEND, Z_SPACING, Z_WIDTH, Z_DEPTH, Z_EXPONENT, Z_CROSS_SIN,
 Z_CROSS_COS, Z_SPACING2, Z_SPREAD, Z_SKEW, Z_LOWERED, Z_LIFT, Z_FX, Z_FY, Z_CH_WAVE, Z_CH_AMP,
 Z_CH_PHASE, Z_CH_HALF, Z_CH_DEPTH, Z_BOWL_R, Z_BOWL_D, Z_MOULIN_R, Z_MOULIN_D, Z_LAKE_R,
 Z_LAKE_D, Z_LAKE_LEVEL, Z_RIDGE_WAVE, Z_RIDGE_AMP) = range(len(ZONE_COLUMNS))

#: the world's scalars of :func:`evaluate_points`, in order
CONSTANTS: tuple[str, ...] = (
    "origin_x", "base_elevation", "slope", "undulation_amplitude", "roughness",
    "has_trunk", "head", "transition", "centre_y", "meander", "meander_phase", "half_width",
    "margin", "extra_scale", "drop_scale", "trough", "heave", "heave_tilt",
    "envelope_threshold", "envelope_shift",
)
(C_ORIGIN_X, C_BASE, C_SLOPE, C_UND_AMP, C_ROUGH, C_HAS_TRUNK, C_HEAD, C_TRANSITION,
 C_CENTRE_Y, C_MEANDER, C_PHASE, C_HALF_WIDTH, C_MARGIN, C_EXTRA_SCALE, C_DROP_SCALE,
 C_TROUGH, C_HEAVE, C_HEAVE_TILT, C_THRESHOLD, C_SHIFT) = range(len(CONSTANTS))

#: the salted keys of :func:`evaluate_points`, in order
KEYS: tuple[str, ...] = (
    "orientation", "meander_1", "crevasse_1", "segment_1", "meander_2", "crevasse_2",
    "segment_2", "heave", "heave_tilt", "block_lift", "block_tilt_x", "block_tilt_y",
    "channel_meander", "lake_shore", "ridge_warp",
)
(K_ORIENT, K_MEANDER1, K_CREV1, K_SEG1, K_MEANDER2, K_CREV2, K_SEG2, K_HEAVE, K_HEAVE_TILT,
 K_BLOCK, K_BLOCK_X, K_BLOCK_Y, K_CH_MEANDER, K_LAKE, K_RIDGE_WARP) = range(len(KEYS))

#: the fractal fields of :func:`evaluate_points` (rows of its octave tables), in order,
#: and their octaves
FRACTALS: tuple[str, ...] = ("undulation", "roughness", "envelope", "hummocks")
FRACTAL_OCTAVES: tuple[int, ...] = (2, 3, 2, 2)
F_UNDULATION, F_ROUGHNESS, F_ENVELOPE, F_HUMMOCKS = range(len(FRACTALS))

#: surface-class codes, as :data:`cryolearn.classes.SURFACE_CLASSES` orders them
(SMOOTH, CREVASSES, CROSSING, SERAC, CHANNEL, MOULIN, LAKE, HUMMOCKY) = range(8)

_TWO_PI = 2.0 * np.pi
_LOG_2 = math.log(2.0)


@numba.njit(inline="always", error_model="numpy")
def _two_octaves(x: float, y: float, row: int, waves: np.ndarray, amps: np.ndarray,
                 keys: np.ndarray, norms: np.ndarray) -> float:
    """A two-octave fractal field at one point (its octaves added in order to 0, over
    their norm, as ``fractal_noise_kernel`` does)."""
    total = 0.0 + amps[row, 0] * _value_noise(x, y, waves[row, 0], keys[row, 0])
    total = total + amps[row, 1] * _value_noise(x, y, waves[row, 1], keys[row, 1])
    return total / norms[row]


@numba.njit(inline="always", error_model="numpy")
def _three_octaves(x: float, y: float, row: int, waves: np.ndarray, amps: np.ndarray,
                   keys: np.ndarray, norms: np.ndarray) -> float:
    """A three-octave fractal field at one point (see :func:`_two_octaves`)."""
    total = 0.0 + amps[row, 0] * _value_noise(x, y, waves[row, 0], keys[row, 0])
    total = total + amps[row, 1] * _value_noise(x, y, waves[row, 1], keys[row, 1])
    total = total + amps[row, 2] * _value_noise(x, y, waves[row, 2], keys[row, 2])
    return total / norms[row]


@numba.njit(inline="always", error_model="numpy")
def _smoothstep(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@numba.njit(inline="always", error_model="numpy")
def _logaddexp0(u: float) -> float:
    """log(1 + e^u), as numpy's ``logaddexp(0, u)`` computes it."""
    if u == 0.0:
        return _LOG_2
    if -u > 0.0:
        return math.log1p(math.exp(u))
    return u + math.log1p(math.exp(-u))


@numba.njit(inline="always", error_model="numpy")
def _drop_along(along: float, c: np.ndarray) -> tuple[float, float]:
    """The parts of :func:`cryolearn.synth.trunk.surface_drop` that depend on the
    along-flow distance alone: the steepening (m) and the centre line's northing."""
    steepening = c[C_EXTRA_SCALE] * _logaddexp0((along - c[C_HEAD]) / c[C_DROP_SCALE])
    meander = c[C_MEANDER] * math.sin(_TWO_PI * along / 8000.0 + c[C_PHASE])
    return steepening, c[C_CENTRE_Y] + meander


@numba.njit(inline="always", error_model="numpy")
def _surface_drop(along: float, y: float, steepening: float, centre: float,
                  c: np.ndarray) -> float:
    """:func:`cryolearn.synth.trunk.surface_drop` at one point, given :func:`_drop_along`."""
    offset = y - centre
    across = _smoothstep((c[C_HALF_WIDTH] + 0.5 * c[C_MARGIN] - abs(offset)) / c[C_MARGIN])
    weight = _smoothstep((along - c[C_HEAD]) / c[C_TRANSITION]) * across
    return steepening + c[C_TROUGH] * weight


@numba.njit(inline="always", error_model="numpy")
def _depth_factor(kd: float, spread: float, skew: float) -> float:
    """A crevasse's depth over its zone's, from its uniform draw ``kd``:
    ``(1 + skew) kd^skew`` where skewed, else ``1 - spread + 2 spread kd``."""
    if skew > 0.0:
        return (1.0 + skew) * kd ** skew
    return 1.0 - spread + 2.0 * spread * kd


@numba.njit(inline="always", error_model="numpy")
def _set_depth(r: float, kd: float, taper: float, depth: float, zones: np.ndarray, z: int,
               last: np.ndarray) -> float:
    """Depth (m) of one crevasse set at a point of zone z: its zone's ``depth`` times
    the crevasse's factor (kept in ``last`` while the draw and zone parameters repeat),
    the segment's taper and the wall's profile; 0 off the walls."""
    if not r < 1.0:
        return 0.0
    skew = zones[z, Z_SKEW]
    spread = zones[z, Z_SPREAD]
    if kd != last[0] or skew != last[1] or spread != last[2]:
        last[0] = kd
        last[1] = skew
        last[2] = spread
        last[3] = _depth_factor(kd, spread, skew)
    return depth * last[3] * taper * (1.0 - _wall(r, zones[z, Z_EXPONENT]))


@numba.njit(inline="always", error_model="numpy")
def _wall(r: float, exponent: float) -> float:
    """The wall profile's power of the distance from the crevasse's axis: V walls (1)
    and U walls (4) by multiplication, other exponents by the C library's ``pow``."""
    w = abs(min(max(r, 0.0), 1.0))
    if exponent == 1.0:
        return w
    if exponent == 4.0:
        w2 = w * w
        return w2 * w2
    return w ** exponent


@numba.njit(error_model="numpy")
def _bounds(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """The least and greatest x and y of a block of points (NaN compares false, so a
    NaN leaves them as they are; its cell then is no block's single cell)."""
    lo_x = hi_x = x[0]
    lo_y = hi_y = y[0]
    for k in range(1, x.shape[0]):
        lo_x = x[k] if x[k] < lo_x else lo_x
        hi_x = x[k] if x[k] > hi_x else hi_x
        lo_y = y[k] if y[k] < lo_y else lo_y
        hi_y = y[k] if y[k] > hi_y else hi_y
    return lo_x, hi_x, lo_y, hi_y


@numba.njit(error_model="numpy")
def _add_noise(x: np.ndarray, y: np.ndarray, bounds: tuple[float, float, float, float],
               wavelength: float, key: np.uint64, amplitude: float, out: np.ndarray) -> None:
    """``out += amplitude * value noise`` at a block of points within ``bounds``.

    A smooth field's lattice cell is often the same over a whole block (a few rows of
    a footprint): its four corners are then hashed once for the block, and each point
    only interpolates between them, the same numbers as :func:`_value_noise`.
    """
    lo_i = np.floor(bounds[0] / wavelength)
    lo_j = np.floor(bounds[2] / wavelength)
    if lo_i == np.floor(bounds[1] / wavelength) and lo_j == np.floor(bounds[3] / wavelength):
        i = np.int64(lo_i)
        j = np.int64(lo_j)
        v00 = _hash(i, j, key)
        v10 = _hash(i + 1, j, key)
        v01 = _hash(i, j + 1, key)
        v11 = _hash(i + 1, j + 1, key)
        for k in range(x.shape[0]):
            _, _, tx, ty = lattice_position(x[k], y[k], wavelength)
            out[k] = out[k] + amplitude * interpolate_corners(v00, v10, v01, v11, tx, ty)
    else:
        for k in range(x.shape[0]):
            out[k] = out[k] + amplitude * _value_noise(x[k], y[k], wavelength, key)


@numba.njit(error_model="numpy")
def _regional_fields(x: np.ndarray, y: np.ndarray, c: np.ndarray, waves: np.ndarray,
                     amps: np.ndarray, keys: np.ndarray, norms: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The regional undulation and the roughness (m) at every point, in one loop the
    compiler vectorises."""
    n = x.shape[0]
    bounds = _bounds(x, y)
    undulation = np.zeros(n)
    for o in range(FRACTAL_OCTAVES[F_UNDULATION]):
        _add_noise(x, y, bounds, waves[F_UNDULATION, o], keys[F_UNDULATION, o],
                   amps[F_UNDULATION, o], undulation)
    roughness = np.empty(n)
    for i in range(n):
        undulation[i] = c[C_UND_AMP] * (undulation[i] / norms[F_UNDULATION])
        roughness[i] = c[C_ROUGH] * _three_octaves(x[i], y[i], F_ROUGHNESS, waves, amps,
                                                   keys, norms)
    return undulation, roughness


@numba.njit(error_model="numpy")
def _set_geometry(x: np.ndarray, y: np.ndarray, sin_theta: np.ndarray, cos_theta: np.ndarray,
                  spacing: np.ndarray, width: np.ndarray, meander: np.ndarray,
                  key_k: np.uint64, key_seg: np.uint64) -> tuple[np.ndarray, ...]:
    """``crevasse_geometry`` of one set at a block of points, in a vectorised loop: the
    arrays k, t, r, kd and taper."""
    n = x.shape[0]
    k = np.empty(n, np.int64)
    t = np.empty(n)
    r = np.empty(n)
    kd = np.empty(n)
    taper = np.empty(n)
    for a in range(n):
        k[a], t[a], r[a], kd[a], taper[a] = crevasse_geometry(
            x[a], y[a], sin_theta[a], cos_theta[a], spacing[a], width[a], meander[a], key_k,
            key_seg)
    return k, t, r, kd, taper


@numba.njit(error_model="numpy")
def _crevasse_relief(x: np.ndarray, y: np.ndarray, points: np.ndarray, zone_index: np.ndarray,
                     zone_code: np.ndarray, zones: np.ndarray, c: np.ndarray,
                     keys: np.ndarray, waves: np.ndarray, amps: np.ndarray,
                     fractal_keys: np.ndarray, norms: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relief (m), open-crevasse depth (m) and whether the envelope opens them, at the
    crevassed points.

    In stages, so that most of the work runs in loops the compiler vectorises: the
    envelope; at the open points, the noise fields, the sets' directions (the C
    library's sine and cosine of the first set's; the second's by the angle-addition
    formulas), their geometry (``crevasse_geometry``), the hashed lift and tilt of
    their blocks, and the walls' depths.
    """
    m = points.shape[0]
    shifted = np.empty(m)
    ym = np.empty(m)
    threshold = np.empty(m)
    for j in range(m):
        p = points[j]
        shifted[j] = x[p] + c[C_SHIFT]
        ym[j] = y[p]
        threshold[j] = c[C_THRESHOLD] - zones[zone_index[p], Z_LOWERED]
    if m == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.bool_)
    envelope = np.zeros(m)
    lo_x, hi_x, lo_y, hi_y = _bounds(shifted, ym)
    for o in range(FRACTAL_OCTAVES[F_ENVELOPE]):
        _add_noise(shifted, ym, (lo_x, hi_x, lo_y, hi_y), waves[F_ENVELOPE, o],
                   fractal_keys[F_ENVELOPE, o], amps[F_ENVELOPE, o], envelope)
    active = np.empty(m, np.bool_)
    for j in range(m):
        active[j] = envelope[j] / norms[F_ENVELOPE] > threshold[j]
    n_open = 0
    opened = np.empty(m, np.int64)
    for j in range(m):
        if active[j]:
            opened[n_open] = j
            n_open += 1
    relief = np.zeros(m)
    depth = np.zeros(m)
    if n_open == 0:
        return relief, depth, active

    q = np.empty(n_open, np.int64)
    xs = np.empty(n_open)
    ys = np.empty(n_open)
    xl = np.empty(n_open)
    yl = np.empty(n_open)
    spacing_1 = np.empty(n_open)
    spacing_2 = np.empty(n_open)
    width = np.empty(n_open)
    for a in range(n_open):
        p = points[opened[a]]
        q[a] = zone_index[p]
        xs[a] = x[p]
        ys[a] = y[p]
        xl[a] = x[p] - zones[q[a], Z_CX]
        yl[a] = y[p] - zones[q[a], Z_CY]
        spacing_1[a] = zones[q[a], Z_SPACING]
        spacing_2[a] = zones[q[a], Z_SPACING2]
        width[a] = zones[q[a], Z_WIDTH]
    orientation = np.zeros(n_open)
    _add_noise(xs, ys, _bounds(xs, ys), 600.0, keys[K_ORIENT], 1.0, orientation)
    local = _bounds(xl, yl)
    meander_1 = np.zeros(n_open)
    _add_noise(xl, yl, local, 160.0, keys[K_MEANDER1], 1.0, meander_1)
    meander_2 = np.zeros(n_open)
    _add_noise(xl, yl, local, 160.0, keys[K_MEANDER2], 1.0, meander_2)

    sin_1 = np.empty(n_open)
    cos_1 = np.empty(n_open)
    for a in range(n_open):
        theta = zones[q[a], Z_THETA] + zones[q[a], Z_BEND] * orientation[a]
        sin_1[a] = math.sin(theta)
        cos_1[a] = math.cos(theta)
    sin_2 = np.empty(n_open)
    cos_2 = np.empty(n_open)
    for a in range(n_open):
        sc = zones[q[a], Z_CROSS_SIN]
        cc = zones[q[a], Z_CROSS_COS]
        sin_2[a] = sin_1[a] * cc + cos_1[a] * sc
        cos_2[a] = cos_1[a] * cc - sin_1[a] * sc

    k_1, t_1, r_1, kd_1, taper_1 = _set_geometry(xl, yl, sin_1, cos_1, spacing_1, width,
                                                 meander_1, keys[K_CREV1], keys[K_SEG1])
    k_2, t_2, r_2, kd_2, taper_2 = _set_geometry(xl, yl, sin_2, cos_2, spacing_2, width,
                                                 meander_2, keys[K_CREV2], keys[K_SEG2])
    # a block is indexed by the crevasses either side of it in each set; a single set's
    # blocks by a second index offset from the first
    heave = np.empty(n_open)
    block_lift = np.empty(n_open)
    block_tilt = np.empty(n_open)
    for a in range(n_open):
        k1 = k_1[a]
        k2 = k1 + 1_000_003 if zone_code[q[a]] == CREVASSES else k_2[a]
        lift = 2.0 * _hash(k1, k2, keys[K_HEAVE]) - 1.0
        tilt = 2.0 * _hash(k1, k2, keys[K_HEAVE_TILT]) - 1.0
        heave[a] = c[C_HEAVE] * zones[q[a], Z_DEPTH] * (lift + c[C_HEAVE_TILT] * tilt * t_1[a])
        block_lift[a] = zones[q[a], Z_LIFT] * (2.0 * _hash(k1, k2, keys[K_BLOCK]) - 1.0)
        tilt_x = _hash(k1, k2, keys[K_BLOCK_X]) - 0.5
        tilt_y = _hash(k1, k2, keys[K_BLOCK_Y]) - 0.5
        block_tilt[a] = 0.3 * (tilt_x * t_1[a] * spacing_1[a] + tilt_y * t_2[a] * spacing_2[a])

    # a crevasse's depth draw is the same at all its points, and points in a row cross
    # a crevasse every few tens: the last draw of each set is kept (draw, skew, spread,
    # factor)
    last = np.full((2, 4), -1.0)
    for a in range(n_open):
        z = q[a]
        code = zone_code[z]
        j = opened[a]
        lifted = heave[a] if zones[z, Z_TRUNK] != 0.0 else 0.0
        first = _set_depth(r_1[a], kd_1[a], taper_1[a], zones[z, Z_DEPTH], zones, z, last[0])
        if code == CREVASSES:
            relief[j] = lifted - first
            depth[j] = first
            continue
        second = _set_depth(r_2[a], kd_2[a], taper_2[a], zones[z, Z_DEPTH] * 0.8, zones, z,
                            last[1])
        depth[j] = max(first, second)
        dz = -depth[j]
        if code == SERAC:
            dz = dz + block_lift[a] + block_tilt[a]
        relief[j] = dz + lifted
    return relief, depth, active


@numba.njit(inline="always", error_model="numpy")
def _flow_frame(x: float, y: float, zones: np.ndarray, q: int) -> tuple[float, float]:
    """Along- and across-flow coordinates of a point from its zone's (q) centre."""
    dx = x - zones[q, Z_CX]
    dy = y - zones[q, Z_CY]
    return (dx * zones[q, Z_FX] + dy * zones[q, Z_FY],
            -dx * zones[q, Z_FY] + dy * zones[q, Z_FX])


@numba.njit(inline="always", error_model="numpy")
def _channel(x: float, y: float, zones: np.ndarray, q: int, keys: np.ndarray,
             upstream_only: bool) -> tuple[float, bool]:
    """A meandering channel through the centre of zone q: relief (m), and whether the
    point is in the channel or its banks."""
    along, across = _flow_frame(x, y, zones, q)
    centre = zones[q, Z_CH_AMP] * math.sin(_TWO_PI * along / zones[q, Z_CH_WAVE]
                                           + zones[q, Z_CH_PHASE])
    centre = centre + 4.0 * _value_noise(x, y, 40.0, keys[K_CH_MEANDER])
    r = abs(across - centre) / zones[q, Z_CH_HALF]
    dz = -zones[q, Z_CH_DEPTH] * max(1.0 - r * r, 0.0)
    inside = r < 2.0
    if upstream_only and not along < 0.0:
        return 0.0, False
    return dz, inside


#: slots of the cache of the trunk's along-flow terms (frames and footprints are grids,
#: so their points share a few thousand eastings)
_DROP_SLOTS = 8192


@numba.njit(error_model="numpy")
def _evaluate_block(x: np.ndarray, y: np.ndarray, zone_index: np.ndarray,
                    zone_code: np.ndarray, zones: np.ndarray, c: np.ndarray,
                    keys: np.ndarray, waves: np.ndarray, amps: np.ndarray,
                    fractal_keys: np.ndarray, norms: np.ndarray, memo_along: np.ndarray,
                    memo_steepening: np.ndarray, memo_centre: np.ndarray,
                    elevation: np.ndarray, surface_class: np.ndarray,
                    open_depth: np.ndarray) -> None:
    """:func:`evaluate_points` on one block of points, into its outputs."""
    n = x.shape[0]
    undulation, roughness = _regional_fields(x, y, c, waves, amps, fractal_keys, norms)
    crevassed = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        code = zone_code[zone_index[i]]
        if code == CREVASSES or code == CROSSING or code == SERAC:
            crevassed[m] = i
            m += 1
    crevasse_relief, crevasse_depth, crevasse_active = _crevasse_relief(
        x, y, crevassed[:m], zone_index, zone_code, zones, c, keys, waves, amps,
        fractal_keys, norms)
    j = 0
    for i in range(n):
        xi = x[i]
        yi = y[i]
        along = xi - c[C_ORIGIN_X]
        z = c[C_BASE] - c[C_SLOPE] * along + undulation[i]
        if c[C_HAS_TRUNK] != 0.0:
            slot = np.int64(2.0 * along) & (_DROP_SLOTS - 1)
            if memo_along[slot] != along:
                memo_along[slot] = along
                memo_steepening[slot], memo_centre[slot] = _drop_along(along, c)
            z = z - _surface_drop(along, yi, memo_steepening[slot], memo_centre[slot], c)
        q = zone_index[i]
        code = zone_code[q]
        relief = 0.0
        depth = 0.0
        rough = 1.0
        cls = code
        if code == CREVASSES or code == CROSSING or code == SERAC:
            if crevasse_active[j]:
                relief = crevasse_relief[j]
                depth = crevasse_depth[j]
            else:
                cls = SMOOTH
            j += 1
        elif code == CHANNEL:
            relief, inside = _channel(xi, yi, zones, q, keys, False)
            if not inside:
                cls = SMOOTH
        elif code == MOULIN:
            r = math.hypot(xi - zones[q, Z_CX], yi - zones[q, Z_CY])
            s = r / (0.5 * zones[q, Z_BOWL_R])
            bowl = -zones[q, Z_BOWL_D] * math.exp(-0.5 * (s * s))
            moulin = -zones[q, Z_MOULIN_D] * max(1.0 - r / zones[q, Z_MOULIN_R], 0.0)
            channel, in_channel = _channel(xi, yi, zones, q, keys, True)
            relief = bowl + min(moulin, channel)
            if not (r < zones[q, Z_BOWL_R] or in_channel):
                cls = SMOOTH
        elif code == LAKE:
            r = math.hypot(xi - zones[q, Z_CX], yi - zones[q, Z_CY]) / zones[q, Z_LAKE_R]
            r = r * (1.0 + 0.15 * _value_noise(xi, yi, 60.0, keys[K_LAKE]))
            bowl = -zones[q, Z_LAKE_D] * max(1.0 - r * r, 0.0)
            if r < 1.0 and z + bowl < zones[q, Z_LAKE_LEVEL]:
                relief = zones[q, Z_LAKE_LEVEL] - z
                rough = 0.0
            else:
                relief = bowl
                cls = SMOOTH
        elif code == HUMMOCKY:
            along_flow, _ = _flow_frame(xi, yi, zones, q)
            wavelength = zones[q, Z_RIDGE_WAVE]
            warp = 0.2 * wavelength * _value_noise(xi, yi, 200.0, keys[K_RIDGE_WARP])
            ridges = zones[q, Z_RIDGE_AMP] * math.sin(_TWO_PI * (along_flow + warp) / wavelength)
            hummocks = 1.2 * _two_octaves(xi, yi, F_HUMMOCKS, waves, amps, fractal_keys, norms)
            relief = ridges + hummocks
        surface_class[i] = cls
        open_depth[i] = depth
        elevation[i] = z + relief + rough * roughness[i]


#: points evaluated at a time: a block's intermediate fields stay in the core's caches,
#: and a footprint's 40,000 points are 20 blocks of 10 rows (100 m × 5 m), across which
#: the smooth fields' lattice cells rarely change (:func:`_add_noise`)
_BLOCK = 2000


@numba.njit(cache=True, error_model="numpy")
def evaluate_points(x: np.ndarray, y: np.ndarray, zone_index: np.ndarray,
                    zone_code: np.ndarray, zones: np.ndarray, c: np.ndarray,
                    keys: np.ndarray, waves: np.ndarray, amps: np.ndarray,
                    fractal_keys: np.ndarray, norms: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elevation (m), surface class and open-crevasse depth (m) at flat points.

    Parameters
    ----------
    x, y : float64 points, metres
    zone_index : each point's row of ``zones`` and ``zone_code``
    zone_code : the class code of each distinct zone
    zones : per distinct zone, the :data:`ZONE_COLUMNS`
    c : the world's :data:`CONSTANTS`
    keys : the salted keys of :data:`KEYS`
    waves, amps, fractal_keys : (len(FRACTALS), 3) octave tables; field f uses its
        first ``FRACTAL_OCTAVES[f]`` octaves
    norms : each fractal field's sum of amplitudes
    """
    n = x.shape[0]
    elevation = np.empty(n, np.float64)
    surface_class = np.empty(n, np.uint8)
    open_depth = np.empty(n, np.float64)
    memo_along = np.full(_DROP_SLOTS, np.nan)
    memo_steepening = np.empty(_DROP_SLOTS)
    memo_centre = np.empty(_DROP_SLOTS)
    for start in range(0, n, _BLOCK):
        end = min(n, start + _BLOCK)
        _evaluate_block(x[start:end], y[start:end], zone_index[start:end], zone_code, zones,
                        c, keys, waves, amps, fractal_keys, norms, memo_along,
                        memo_steepening, memo_centre, elevation[start:end],
                        surface_class[start:end], open_depth[start:end])
    return elevation, surface_class, open_depth


#: points of a block of :func:`zone_cells` (five rows of a footprint)
_ZONE_BLOCK = 1000


@numba.njit(cache=True, error_model="numpy")
def zone_cells(x: np.ndarray, y: np.ndarray, aspect: float, warp: float, wavelength: float,
               size: float, warp_x: np.uint64, warp_y: np.uint64, jitter_x: np.uint64,
               jitter_y: np.uint64) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """The lattice cell of each flat point's zone (``SyntheticWorld._zones``): the point
    warped by value noise (``warp`` metres at ``wavelength``) and stretched along flow
    by ``aspect``, then the nearest jittered centre of a lattice of ``size``; and the
    least and greatest cell indices (x, then y)."""
    n = x.shape[0]
    zx = np.empty(n, np.int64)
    zy = np.empty(n, np.int64)
    lo_zx = lo_zy = np.iinfo(np.int64).max
    hi_zx = hi_zy = np.iinfo(np.int64).min
    xw = np.empty(_ZONE_BLOCK)
    yw = np.empty(_ZONE_BLOCK)
    for start in range(0, n, _ZONE_BLOCK):
        m = min(n, start + _ZONE_BLOCK) - start
        xb = x[start:start + m]
        yb = y[start:start + m]
        bounds = _bounds(xb, yb)
        xw[:m] = 0.0
        yw[:m] = 0.0
        _add_noise(xb, yb, bounds, wavelength, warp_x, 1.0, xw[:m])
        _add_noise(xb, yb, bounds, wavelength, warp_y, 1.0, yw[:m])
        for i in range(m):
            xw[i] = xb[i] / aspect + warp * xw[i]
            yw[i] = yb[i] + warp * yw[i]
        # a block of a footprint or frame mostly lies in one cell of the zone lattice
        lo_x, hi_x, lo_y, hi_y = _bounds(xw[:m], yw[:m])
        ix = np.int64(np.floor(lo_x / size))
        iy = np.int64(np.floor(lo_y / size))
        if ix == np.int64(np.floor(hi_x / size)) and iy == np.int64(np.floor(hi_y / size)):
            nearest_zone_in_cell(xw[:m], yw[:m], ix, iy, size, jitter_x, jitter_y,
                                 zx[start:start + m], zy[start:start + m])
        else:
            nearest_zone_into(xw[:m], yw[:m], size, jitter_x, jitter_y, zx[start:start + m],
                              zy[start:start + m])
        for i in range(start, start + m):
            lo_zx = zx[i] if zx[i] < lo_zx else lo_zx
            hi_zx = zx[i] if zx[i] > hi_zx else hi_zx
            lo_zy = zy[i] if zy[i] < lo_zy else lo_zy
            hi_zy = zy[i] if zy[i] > hi_zy else hi_zy
    return zx, zy, (lo_zx, hi_zx, lo_zy, hi_zy)


@numba.njit(cache=True)
def dense_cells(ix: np.ndarray, iy: np.ndarray, x0: np.int64, y0: np.int64, span: np.int64,
                n_keys: np.int64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct cells (ix, iy) of points that lie in a compact block of cells
    (``n_keys`` of them, ``span`` a column, from ``(x0, y0)``), in order of
    ``(ix, iy)``, and each point's position among them: counted, not sorted."""
    position = np.full(n_keys, -1, np.int64)
    for i in range(ix.shape[0]):
        position[(ix[i] - x0) * span + (iy[i] - y0)] = 0
    n_cells = 0
    for key in range(n_keys):
        if position[key] == 0:
            position[key] = n_cells
            n_cells += 1
    ux = np.empty(n_cells, np.int64)
    uy = np.empty(n_cells, np.int64)
    for key in range(n_keys):
        if position[key] >= 0:
            ux[position[key]] = key // span + x0
            uy[position[key]] = key % span + y0
    inverse = np.empty(ix.shape[0], np.int64)
    for i in range(ix.shape[0]):
        inverse[i] = position[(ix[i] - x0) * span + (iy[i] - y0)]
    return ux, uy, inverse
