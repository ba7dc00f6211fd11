"""Gravity and temperature units (spec §4.4, §4.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fermentrack.gravity.units import (
    c_to_f,
    f_to_c,
    plato_to_sg,
    sg_to_plato,
    temperature_corrected_sg,
)


def test_water_is_zero_plato_and_gravity_one() -> None:
    assert plato_to_sg(0.0) == 1.0
    assert sg_to_plato(1.0) == 0.0


def test_plato_to_sg_follows_the_calibration_formula() -> None:
    # 12 °P: 227.1 · 12 / 258.2 = 10.55461; 258.6 − 10.55461 = 248.04539; 12 / 248.04539 =
    # 0.0483782 → SG 1.0483782.
    assert plato_to_sg(12.0) == pytest.approx(1.0483782, abs=1e-7)
    # 20 °P: 227.1 · 20 / 258.2 = 17.59102; 258.6 − 17.59102 = 241.00898 → 1.0829845.
    assert plato_to_sg(20.0) == pytest.approx(1.0829845, abs=1e-7)


def test_sg_to_plato_is_the_algebraic_inverse() -> None:
    # SG 1.050: S = 0.05; 258.6 · 0.05 = 12.93; 227.1 / 258.2 = 0.8795507, so
    # 1 + 0.05 · 0.8795507 = 1.0439775; 12.93 / 1.0439775 = 12.385324 °P.
    assert sg_to_plato(1.050) == pytest.approx(12.385324, abs=1e-6)
    assert sg_to_plato(plato_to_sg(12.0)) == pytest.approx(12.0, abs=1e-12)


def test_the_guided_calibration_targets_come_out_as_the_spec_lists_them() -> None:
    # §4.2, Tilt steps 2 and 3: 300 g of sugar in 2750 + 250 g of water is 300 / 3300 =
    # 9.0909 °P → SG 1.036; 600 g in 2750 + 250 + 250 g is 600 / 3850 = 15.5844 °P → 1.064.
    assert round(plato_to_sg(300 / 3300 * 100), 3) == 1.036
    assert round(plato_to_sg(600 / 3850 * 100), 3) == 1.064


@given(st.floats(min_value=-5.0, max_value=40.0))
def test_plato_round_trips_through_sg(plato: float) -> None:
    assert sg_to_plato(plato_to_sg(plato)) == pytest.approx(plato, abs=1e-9)


@given(st.floats(min_value=0.98, max_value=1.2))
def test_sg_round_trips_through_plato(sg: float) -> None:
    assert plato_to_sg(sg_to_plato(sg)) == pytest.approx(sg, abs=1e-12)


def test_fahrenheit_and_celsius_convert_both_ways() -> None:
    assert f_to_c(32.0) == 0.0
    assert f_to_c(212.0) == 100.0
    assert f_to_c(-40.0) == -40.0
    assert c_to_f(20.0) == 68.0
    assert c_to_f(f_to_c(64.3)) == pytest.approx(64.3)


def test_a_reading_at_the_reference_temperature_needs_no_correction() -> None:
    assert temperature_corrected_sg(1.050, 60.0) == 1.050
    assert temperature_corrected_sg(1.050, 68.0, reference_f=68.0) == 1.050


def test_warm_wort_reads_light_so_its_corrected_gravity_is_higher() -> None:
    # f(T) = 1.00130346 − 1.34722124e-4·T + 2.04052596e-6·T² − 2.32820948e-9·T³:
    # f(60) = 1.00130346 − 0.00808333 + 0.00734589 − 0.00050289 = 1.00006313
    # f(80) = 1.00130346 − 0.01077777 + 0.01305937 − 0.00119204 = 1.00239302
    # 1.050 · 1.00239302 / 1.00006313 = 1.0524463
    assert temperature_corrected_sg(1.050, 80.0) == pytest.approx(1.0524463, abs=1e-7)
    assert temperature_corrected_sg(1.050, 40.0) < 1.050
