"""The scale knob: flights, frames and ground tracks multiplied (config scale)."""

from __future__ import annotations

import math

import pytest

from cryolearn.synth.flights import FlightSpec, flight_configs
from cryolearn.synth.scale import ScaleFactors, across_offset, scale_synth

SYNTH = {
    "flight_defaults": {"frame_length_m": 700.0, "frame_width_m": 500.0, "overlap": 0.3},
    "flights": [{"name": "IODMS3_20090402_L1", "date": "2009-04-02", "start_x_m": -190000.0,
                 "start_y_m": -2280800.0, "track_deg": 90.0, "n_frames": 10,
                 "start_time": "14:00:00"}],
    "glas": {"tracks": [{"name": "0412", "centre_x_m": -178000.0, "centre_y_m": -2280300.0,
                         "azimuth_deg": 90.0, "length_m": 22000.0}]},
}


def test_identity_factors_leave_the_campaign_as_it_is():
    assert scale_synth(SYNTH, ScaleFactors()) is SYNTH


def test_flight_copies_are_moved_across_track_and_flown_later_with_their_own_names():
    out = scale_synth(SYNTH, ScaleFactors(flights=3, frames=2.5, flight_spacing_m=600.0))
    flights = flight_configs(out)
    assert [f["name"] for f in flights] == ["IODMS3_20090402_L1", "IODMS3_20090402_L1_c01",
                                            "IODMS3_20090402_L1_c02"]
    assert [f["n_frames"] for f in flights] == [25, 25, 25]
    # an eastward line (track 90°): across track is north-south, x unchanged
    assert [f["start_y_m"] for f in flights] == pytest.approx([-2280800.0, -2281400.0,
                                                              -2280200.0])
    assert [f["start_x_m"] for f in flights] == pytest.approx([-190000.0] * 3)
    assert [f["start_time"] for f in flights] == ["14:00:00", "14:20:00", "14:40:00"]
    specs = [FlightSpec.from_dict(f) for f in flights]
    assert len({s.frame_name(0) for s in specs}) == 3
    assert SYNTH["flights"][0]["n_frames"] == 10  # the config itself is not changed


def test_track_copies_alternate_sides_and_tracks_are_lengthened():
    out = scale_synth(SYNTH, ScaleFactors(tracks=4, track_length=3.0, track_spacing_m=400.0))
    tracks = out["glas"]["tracks"]
    assert [t["name"] for t in tracks] == ["0412", "0412c01", "0412c02", "0412c03"]
    assert [t["centre_y_m"] for t in tracks] == pytest.approx(
        [-2280300.0, -2280700.0, -2279900.0, -2281100.0])
    assert all(t["length_m"] == 66000.0 for t in tracks)
    assert [across_offset(k, 1.0) for k in range(5)] == [0.0, 1.0, -1.0, 2.0, -2.0]


def test_copies_of_an_oblique_line_move_perpendicular_to_it():
    synth = {**SYNTH, "flights": [{**SYNTH["flights"][0], "track_deg": 30.0}]}
    first, copy = flight_configs(scale_synth(synth, ScaleFactors(flights=2)))
    dx, dy = copy["start_x_m"] - first["start_x_m"], copy["start_y_m"] - first["start_y_m"]
    direction = FlightSpec.from_dict(first).direction
    assert math.hypot(dx, dy) == pytest.approx(600.0)
    assert dx * direction[0] + dy * direction[1] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("values, message", [
    ({"flights": 0}, "scale.flights must be a whole number"),
    ({"tracks": 1.5}, "scale.tracks must be a whole number"),
    ({"frames": 0}, "scale.frames must be positive"),
    ({"flight": 2}, r"scale: unknown key\(s\) \['flight'\]"),
])
def test_bad_factors_are_refused_by_name(values, message):
    with pytest.raises(ValueError, match=message):
        ScaleFactors.from_dict(values)
