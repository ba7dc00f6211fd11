"""Stored readings: duplicates, outliers marked and never deleted, hiding and correcting, and a
new calibration restating every stored reading from its raw value."""

from __future__ import annotations

import pytest

from fermentrack.web.gravity.models import (
    GravityReading,
    GravitySensor,
    ReadingRefused,
    SensorKind,
    refresh_outliers,
    store_readings,
)

from .conftest import T0, store

pytestmark = pytest.mark.django_db
STEADY = [1.050, 1.049, 1.049, 1.048, 1.048, 1.047, 1.047, 1.046, 1.046, 1.045]


def spiky_log(sensor: GravitySensor) -> list[GravityReading]:
    """Ten readings a minute apart, falling slowly, with a knock to 1.080 at the sixth."""
    values = list(STEADY)
    values[5] = 1.080
    return store(sensor, *[(T0 + 60 * i, value) for i, value in enumerate(values)])


def outlier_ts(sensor: GravitySensor) -> list[int]:
    return list(sensor.readings.filter(outlier=True).values_list("ts", flat=True))


def test_a_reading_of_a_second_already_stored_is_a_duplicate(tilt):
    store(tilt, (T0, 1.050))

    stored, duplicates = store_readings(tilt, [tilt.new_reading(T0, raw=1.040)])

    assert (stored, duplicates) == (0, 1)
    assert tilt.readings.get().gravity == 1.050


def test_a_spike_is_marked_as_an_outlier_and_kept(tilt):
    spiky_log(tilt)

    assert outlier_ts(tilt) == [T0 + 300]
    assert tilt.readings.count() == 10
    assert tilt.readings.get(ts=T0 + 300).gravity == 1.080


def test_a_spike_is_marked_however_the_readings_arrive(tilt):
    values = list(STEADY)
    values[5] = 1.080
    for i, value in enumerate(values):  # one at a time, as a bridge posts them
        store(tilt, (T0 + 60 * i, value))

    assert outlier_ts(tilt) == [T0 + 300]


def test_a_real_step_is_not_marked_once_readings_after_it_confirm_it(tilt):
    store(tilt, *[(T0 + 60 * i, 1.050) for i in range(5)])
    store(tilt, (T0 + 300, 1.030))
    assert outlier_ts(tilt) == [T0 + 300]  # alone, it looks like a spike

    store(tilt, *[(T0 + 60 * i, 1.030) for i in range(6, 10)])

    assert outlier_ts(tilt) == []


def test_hiding_a_spike_keeps_it_out_of_its_neighbours_judgement(tilt):
    readings = spiky_log(tilt)
    spike = readings[5]
    spike.hidden = True
    spike.save()

    refresh_outliers(tilt)

    assert tilt.readings.get(pk=spike.pk).hidden
    assert outlier_ts(tilt) == [T0 + 300]  # its mark stays; no neighbour gets one


def test_a_manual_reading_is_never_marked(tilt):
    store(tilt, *[(T0 + 60 * i, 1.050) for i in range(4)])
    manual = tilt.new_reading(T0 + 240, manual=True)
    manual.gravity = 1.040
    store_readings(tilt, [manual])
    store(tilt, *[(T0 + 60 * i, 1.050) for i in range(5, 8)])

    assert outlier_ts(tilt) == []


def test_a_reading_outside_the_physical_limits_cannot_be_made(tilt):
    with pytest.raises(ReadingRefused, match=r"gravity 1\.8 is outside 0\.980 to 1\.200 SG"):
        tilt.new_reading(T0, raw=1.8)
    with pytest.raises(ReadingRefused, match=r"temperature 70\.0 °C is outside"):
        tilt.new_reading(T0, raw=1.05, temperature=158.0, temp_unit="F")


# -- recalibration ----------------------------------------------------------------------------


def test_a_new_tilt_calibration_restates_every_stored_reading_from_its_raw_value(tilt):
    store(tilt, (T0, 1.050), (T0 + 60, 1.040))
    manual = tilt.new_reading(T0 + 120, manual=True)
    manual.gravity = 1.035
    store_readings(tilt, [manual])

    tilt.set_coefficients((0.0, 1.0, -0.003))
    tilt.save()
    result = tilt.recalibrate()

    assert (result.restated, result.unphysical) == (2, 0)
    assert list(tilt.readings.order_by("ts").values_list("raw", "gravity")) == [
        (1.050, 1.047),
        (1.040, 1.037),
        (None, 1.035),  # typed by a person: kept as typed
    ]


def test_recalibrating_keeps_what_a_person_did(tilt):
    readings = store(tilt, (T0, 1.050), (T0 + 60, 1.040))
    GravityReading.objects.filter(pk=readings[0].pk).update(hidden=True)
    GravityReading.objects.filter(pk=readings[1].pk).update(corrected_gravity=1.041, note="x")

    tilt.set_coefficients((0.0, 1.0, 0.001))
    tilt.save()
    tilt.recalibrate()

    first, second = tilt.readings.order_by("ts")
    assert (first.hidden, first.gravity) == (True, 1.051)
    assert (second.corrected_gravity, second.gravity, second.note) == (1.041, 1.041, "x")


def test_calibrating_an_ispindel_gives_its_stored_angles_a_gravity(chamber):
    sensor = GravitySensor.objects.create(
        name="Spindle", kind=SensorKind.ISPINDEL, name_on_device="s"
    )
    store_readings(
        sensor, [sensor.new_reading(T0, raw=50.0), sensor.new_reading(T0 + 900, raw=40.0)]
    )
    assert list(sensor.readings.values_list("gravity", flat=True)) == [None, None]

    sensor.set_coefficients((0.0, 0.0001, 0.001, 0.7))
    sensor.save()
    sensor.recalibrate()

    # 0.16 + 0.04 + 0.7 = 0.90: below 0.980, so no gravity; 0.25 + 0.05 + 0.7 = 1.0
    assert list(sensor.readings.order_by("ts").values_list("gravity", flat=True)) == [1.0, None]


def test_a_recalibration_that_makes_readings_unphysical_says_how_many(tilt):
    store(tilt, (T0, 1.050), (T0 + 60, 1.100))

    tilt.set_coefficients((0.0, 3.0, -2.0))  # 1.05 -> 1.15, but 1.1 -> 1.3
    tilt.save()
    result = tilt.recalibrate()

    assert result.unphysical == 1
    assert list(tilt.readings.order_by("ts").values_list("raw", "gravity")) == [
        (1.05, 1.15),
        (1.1, None),
    ]


def test_a_straight_line_calibration_clears_an_older_quadratic_term(tilt):
    tilt.set_coefficients((0.5, 0.0, 0.5))
    tilt.set_coefficients((1.01, -0.01))

    assert tilt.coefficients == (0.0, 1.01, -0.01)


def test_changing_the_temperature_unit_converts_stored_temperatures(tilt):
    store(tilt, (T0, 1.050, 20.0))
    tilt.temp_format = "F"
    tilt.save()

    tilt.change_temperature_unit("C")

    assert tilt.readings.get().temperature == pytest.approx(68.0)


def test_temperature_correction_states_the_gravity_at_60_f_and_restates_stored_readings(tilt):
    # §4.4: SG60 = SG · f(T) / f(60), f(T) = 1.00130346 − 1.34722124e-4·T + 2.04052596e-6·T²
    # − 2.32820948e-9·T³: f(60) = 1.0000631, f(86) = 1.0033282, so 1.050 read at 86 °F (30 °C)
    # is 1.050 × 1.0033282 / 1.0000631 = 1.0534; read at 60 °F it stays 1.050.
    warm = tilt.new_reading(T0, raw=1.050, temperature=30.0, temp_unit="C")
    store_readings(tilt, [warm])
    assert tilt.readings.get().gravity == 1.050  # no correction until the brewer asks

    tilt.correct_to_60f = True
    tilt.save()
    tilt.recalibrate()

    assert tilt.readings.get().gravity == 1.0534
    at_60 = tilt.new_reading(T0 + 60, raw=1.050, temperature=60.0, temp_unit="F")
    assert at_60.gravity == 1.050
