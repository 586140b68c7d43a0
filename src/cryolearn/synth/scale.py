"""The scale knob: the synthetic campaign multiplied towards the original's size.

The original cut about 250,000 tiles (212,534 unique) from IceBridge DMS flights
and matched about 3 million GLAS waveforms of 19 campaigns. Config ``scale``
multiplies the configured synthetic campaign without writing it out by hand:

- ``flights``: copies of every flight line, each moved across its track by
  ``flight_spacing_m`` (copy k by k times it, alternating sides) and flown
  ``k × 20`` minutes later, so that its frames have their own names and surface;
- ``frames``: frames per flight multiplied (rounded, at least one);
- ``tracks``: copies of every GLAS ground track, moved across it by
  ``track_spacing_m`` in the same way;
- ``track_length``: ground tracks lengthened (or shortened) about their centres.

Campaigns are listed, not multiplied: ``config/scale.yaml`` flies the 19 real
GLAS campaigns (L1A to L2F). Every copy is an ordinary flight or track, so the
workflow, its shards and their names stay as they are.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields

#: minutes between a flight line and its next copy
COPY_DELAY_MIN = 20


@dataclass(frozen=True)
class ScaleFactors:
    """Config ``scale``."""

    flights: int = 1
    frames: float = 1.0
    tracks: int = 1
    track_length: float = 1.0
    flight_spacing_m: float = 600.0
    track_spacing_m: float = 400.0

    def __post_init__(self) -> None:
        for name in ("flights", "tracks"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"scale.{name} must be a whole number of at least 1, "
                                 f"not {value!r}")
        for name in ("frames", "track_length", "flight_spacing_m", "track_spacing_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"scale.{name} must be positive, not {getattr(self, name)!r}")

    @classmethod
    def from_dict(cls, values: dict | None) -> ScaleFactors:
        """Factors from a config mapping; unknown keys are refused by name."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"scale: unknown key(s) {unknown} (known: {sorted(known)})")
        return cls(**values)

    @property
    def is_identity(self) -> bool:
        """Whether these factors leave a campaign as it is."""
        return self == ScaleFactors(flight_spacing_m=self.flight_spacing_m,
                                    track_spacing_m=self.track_spacing_m)


def across_offset(copy_index: int, spacing_m: float) -> float:
    """Across-track offset of copy ``k``: 0, +s, -s, +2s, -2s, ..."""
    step = (copy_index + 1) // 2
    return spacing_m * step * (1 if copy_index % 2 else -1)


def _shifted_time(start_time: str, minutes: int) -> str:
    hh, mm, ss = (int(v) for v in start_time.split(":"))
    total = (hh * 3600 + mm * 60 + ss + 60 * minutes) % 86400
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def scaled_flights(flights: list[dict], defaults: dict, factors: ScaleFactors) -> list[dict]:
    """The flight mappings of ``synth.flights`` multiplied by ``factors``.

    Copy 0 of a flight is the flight itself (its frames multiplied); copy k is
    named ``{name}_c{k:02d}``.
    """
    out = []
    for flight in flights:
        merged = {**defaults, **flight}
        n_frames = max(1, round(int(merged.get("n_frames", 6)) * factors.frames))
        # FlightSpec.direction: (sin, cos) of the track; across it is (cos, -sin)
        angle = math.radians(float(merged.get("track_deg", 90.0)))
        across = (math.cos(angle), -math.sin(angle))
        for k in range(factors.flights):
            scaled = {**flight, "n_frames": n_frames}
            if k:
                offset = across_offset(k, factors.flight_spacing_m)
                scaled.update(
                    name=f"{flight['name']}_c{k:02d}",
                    start_x_m=float(flight["start_x_m"]) + offset * across[0],
                    start_y_m=float(flight["start_y_m"]) + offset * across[1],
                    start_time=_shifted_time(merged.get("start_time", "14:00:00"),
                                             COPY_DELAY_MIN * k))
            out.append(scaled)
    return out


def scaled_tracks(tracks: list[dict], factors: ScaleFactors) -> list[dict]:
    """The ground tracks of ``synth.glas.tracks`` multiplied by ``factors``; copy k of
    track ``name`` is named ``{name}c{k:02d}``."""
    out = []
    for track in tracks:
        angle = math.radians(float(track["azimuth_deg"]))
        across = (math.cos(angle), -math.sin(angle))
        for k in range(factors.tracks):
            scaled = {**track, "length_m": float(track["length_m"]) * factors.track_length}
            if k:
                offset = across_offset(k, factors.track_spacing_m)
                scaled.update(name=f"{track['name']}c{k:02d}",
                              centre_x_m=float(track["centre_x_m"]) + offset * across[0],
                              centre_y_m=float(track["centre_y_m"]) + offset * across[1])
            out.append(scaled)
    return out


def scale_synth(synth: dict, factors: ScaleFactors) -> dict:
    """A copy of config ``synth`` with its flights and ground tracks multiplied."""
    if factors.is_identity:
        return synth
    out = copy.deepcopy(synth)
    out["flights"] = scaled_flights(synth.get("flights", []),
                                    synth.get("flight_defaults", {}) or {}, factors)
    glas = out.get("glas", {})
    if "tracks" in glas:
        glas["tracks"] = scaled_tracks(synth["glas"]["tracks"], factors)
    return out
