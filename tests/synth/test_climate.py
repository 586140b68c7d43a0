"""Climate clustering: reanalysis reader, synthetic year, features, DSC and its baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import tiny_climate

from cryolearn.io.reanalysis import read_reanalysis
from cryolearn.synth.climate import (
    VARIABLES,
    bulk_fluxes,
    geostrophic_wind,
    make_climate,
    write_climate,
)


def test_synthetic_year_is_era5_shaped_persistent_and_deterministic(tmp_path):
    spec = tiny_climate()
    climate = make_climate(spec)
    fields = climate.fields
    assert set(fields.data_vars) == set(VARIABLES)
    assert fields.sizes == {"time": 80, "latitude": 13, "longitude": 13}
    assert fields["latitude"].values[0] > fields["latitude"].values[-1]  # north first
    land = np.isnan(fields["sst"].values)
    assert land.any() and (land == land[0]).all()  # islands, the same every step
    assert not any(np.isnan(fields[v].values).any() for v in VARIABLES if v != "sst")
    runs = np.diff(np.flatnonzero(np.diff(climate.regimes)))
    assert runs.mean() > 1.5  # persistent: regimes last days, not one day
    np.testing.assert_array_equal(make_climate(spec).fields["t2m"].values,
                                  fields["t2m"].values)

    path = write_climate(spec, tmp_path, tmp_path / "truth")
    daily = read_reanalysis(path, list(VARIABLES), lat_range=spec.lat_range,
                            lon_range=spec.lon_range)
    assert daily.sizes["time"] == tiny_climate().days
    expected = fields["t2m"].values.reshape(tiny_climate().days, 2, 13, 13).mean(axis=1)
    np.testing.assert_allclose(daily["t2m"].values[:, ::-1], expected, rtol=1e-6)
    truth = pd.read_csv(tmp_path / "truth" / "regimes.csv")
    assert list(truth["regime"]) == list(climate.regimes)


def test_geostrophic_wind_of_a_northward_pressure_rise_is_easterly():
    lat = np.array([40.5, 40.25, 40.0])  # rows north to south
    pressure = np.array([[200.0] * 3, [100.0] * 3, [0.0] * 3])  # rises 100 Pa per row northward
    u, v = geostrophic_wind(pressure, lat, 0.25, friction=1.0, turning_deg=0.0)
    f = 2 * 7.292e-5 * np.sin(np.radians(40.25))
    expected = -(100.0 / (0.25 * 111_195.0)) / (1.2 * f)
    assert u[1, 1] == pytest.approx(expected, rel=1e-3) and expected < 0
    np.testing.assert_allclose(v, 0.0, atol=1e-12)


def test_bulk_fluxes_carry_heat_out_of_a_warmer_sea():
    sensible, latent = bulk_fluxes(np.array([295.0]), np.array([293.0]), np.array([101000.0]),
                                   np.array([5.0]), np.array([0.0]))
    # ρ c_p C_H |U| ΔT = 1.2 · 1005 · 1.2e-3 · 6 · 2 ≈ 17.4 W m⁻², upward (negative in ERA5)
    assert sensible[0] == pytest.approx(-17.37, abs=0.01)
    assert latent[0] < sensible[0] < 0
