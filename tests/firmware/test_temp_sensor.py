"""A probe with its fast, slow and slope filters and its connection bookkeeping (§8.2, §4.8)."""

from __future__ import annotations

import pytest
from control_rig import ScriptedProbe

from fermentrack.brewpi.settings import default_constants, default_settings
from fermentrack.brewpi.temperature import INVALID_TEMP, Dialect, temp_from_celsius
from fermentrack.firmware.temp_sensor import (
    FilteredTempSensor,
    FilterKind,
    filter_reconfigured_at_runtime,
)
from fermentrack.firmware.tempcontrol import TempControl

T20 = temp_from_celsius(20.0)
T25 = temp_from_celsius(25.0)


def sensor_reading(celsius: float | None = 20.0) -> tuple[FilteredTempSensor, ScriptedProbe]:
    probe = ScriptedProbe(celsius)
    return FilteredTempSensor(probe, 1, 4, 3), probe


def updates(sensor: FilteredTempSensor, count: int) -> None:
    for _ in range(count):
        sensor.update()


def test_a_probe_that_never_answered_is_disconnected_and_reads_48_degrees():
    sensor, _ = sensor_reading(None)
    updates(sensor, 100)
    assert not sensor.is_connected
    assert sensor.failed_reads == -1  # not counting until the first reading
    assert sensor.read_fast() == sensor.read_slow() == 0  # internal 0 is 48 °C
    assert sensor.read_slope() == 0


def test_the_first_good_reading_fills_every_filter():
    sensor, _ = sensor_reading(20.0)
    sensor.update()
    assert sensor.is_connected
    assert sensor.failed_reads == 0
    assert sensor.read_fast() == sensor.read_slow() == T20
    assert sensor.read_slope() == 0


def test_a_failed_read_disconnects_and_leaves_the_filters_alone():
    sensor, probe = sensor_reading(20.0)
    updates(sensor, 10)
    probe.celsius = None
    updates(sensor, 5)
    assert not sensor.is_connected
    assert sensor.failed_reads == 5
    assert sensor.read_fast() == T20


def test_a_dropout_of_up_to_60_failed_reads_keeps_the_filter_history():
    sensor, probe = sensor_reading(20.0)
    updates(sensor, 10)
    probe.celsius = None
    updates(sensor, 59)
    probe.celsius = 25.0
    sensor.update()  # the 60th failed read, and the probe answers init again
    assert sensor.is_connected
    assert sensor.failed_reads == 60
    updates(sensor, 10)
    assert T20 < sensor.read_fast() < T25  # filtering on from where it was


def test_more_than_60_failed_reads_refill_the_filters_on_reconnect():
    sensor, probe = sensor_reading(20.0)
    updates(sensor, 10)
    probe.celsius = None
    updates(sensor, 60)
    probe.celsius = 25.0
    sensor.update()  # the 61st failed read; reconnecting refills every filter
    assert sensor.is_connected
    assert sensor.failed_reads == 0
    assert sensor.read_fast() == sensor.read_slow() == T25
    assert sensor.read_slope() == 0


def test_failed_reads_add_up_across_short_dropouts_until_the_filters_are_refilled():
    sensor, probe = sensor_reading(20.0)
    sensor.update()
    for _ in range(3):
        probe.celsius = None
        updates(sensor, 25)
        probe.celsius = 20.0
        updates(sensor, 5)
    assert sensor.failed_reads == 0  # the third reconnection (78 > 60) refilled them


def test_calibration_offsets_every_reading():
    probe = ScriptedProbe(20.0)
    sensor = FilteredTempSensor(probe, 1, 4, 3, calibration=256)
    updates(sensor, 3)
    assert sensor.read_fast() == T20 + 256


def test_slope_stays_zero_for_the_first_254_readings():
    # Start-up readings are not trusted for the slope: its first sample is the 255th reading.
    sensor, probe = sensor_reading(20.0)
    for second in range(300):
        probe.celsius = 20.0 + second * 0.01
        sensor.update()
        if second < 254:
            assert sensor.read_slope() == 0
    assert sensor.read_slope() > 0


@pytest.mark.parametrize("degrees_per_hour", [1.0, -2.5, 0.25])
def test_the_slope_of_a_ramp_is_its_rate_in_degrees_per_hour(degrees_per_hour):
    probe = ScriptedProbe()
    sensor = FilteredTempSensor(probe, 3, 4, 4)  # the beer filters
    slopes = []
    for second in range(5 * 3600):
        # In 1/16 °C steps, as a DS18B20 reads: at 0.25 °C/h a step only every 15 minutes.
        probe.celsius = round((18.0 + degrees_per_hour * second / 3600) * 16) / 16
        sensor.update()
        if second >= 3 * 3600:
            slopes.append(sensor.read_slope())
    assert sum(slopes) / len(slopes) == pytest.approx(degrees_per_hour * 512, rel=0.03)
    assert slopes[-1] == pytest.approx(degrees_per_hour * 512, rel=0.15)


def test_the_slope_is_limited_to_27_units_per_3_seconds():
    sensor, probe = sensor_reading(0.0)
    for second in range(1800):
        probe.celsius = second / 36  # 100 °C/h; the limit is 27 × 1200 / 512 = 63 °C/h
        sensor.update()
    assert sensor.read_slope() <= 27 * 1200
    assert sensor.read_slope() >= 27 * 1200 * 0.99


def test_a_bump_gives_one_positive_peak_on_the_slow_filter():
    sensor, probe = sensor_reading(20.0)
    peaks, negatives = [], []
    for second in range(1200):
        probe.celsius = 21.0 if 100 <= second < 300 else 20.0
        sensor.update()
        peaks.append(sensor.detect_positive_peak())
        negatives.append(sensor.detect_negative_peak())
    found = [peak for peak in peaks if peak != INVALID_TEMP]
    assert len(found) == 1
    assert T20 < found[0] < temp_from_celsius(21.0)
    assert [n for n in negatives[150:] if n != INVALID_TEMP] == []


def test_changing_some_filter_coefficients_leaves_the_others():
    sensor, _ = sensor_reading()
    sensor.set_filter_coefficients(slow_b=2)
    assert sensor.filter_coefficients == (1, 2, 3)
    sensor.set_filter_coefficients(fast_b=0, slope_b=6)
    assert sensor.filter_coefficients == (0, 2, 6)


def test_reset_forgets_everything_but_the_probe_and_its_filter_settings():
    sensor, _ = sensor_reading(20.0)
    updates(sensor, 300)
    sensor.reset()
    assert not sensor.is_connected
    assert sensor.failed_reads == -1
    assert sensor.read_fast() == 0
    assert sensor.filter_coefficients == (1, 4, 3)


# -- the AVR runtime filter-setting bug (§4.8) ------------------------------------------------


@pytest.mark.parametrize("kind", list(FilterKind))
def test_fridge_filter_settings_reconfigure_the_right_filter_in_both_dialects(kind):
    for dialect in Dialect:
        assert filter_reconfigured_at_runtime(False, kind, dialect) is kind


@pytest.mark.parametrize("kind", list(FilterKind))
def test_esp_beer_filter_settings_reconfigure_the_right_filter(kind):
    assert filter_reconfigured_at_runtime(True, kind, Dialect.ESP) is kind


@pytest.mark.parametrize(
    "kind, reconfigured",
    [
        (FilterKind.FAST, None),
        (FilterKind.SLOW, FilterKind.FAST),
        (FilterKind.SLOPE, FilterKind.SLOW),
    ],
)
def test_avr_beer_filter_settings_reconfigure_the_wrong_filter(kind, reconfigured):
    assert filter_reconfigured_at_runtime(True, kind, Dialect.AVR) is reconfigured


def test_on_avr_a_runtime_beer_filter_setting_is_stored_right_and_applied_wrong_until_reboot():
    control = TempControl(
        Dialect.AVR, default_settings(Dialect.AVR), default_constants(Dialect.AVR)
    )
    control.beer_sensor = FilteredTempSensor(ScriptedProbe(), 0, 0, 0)
    assert control.beer_sensor.filter_coefficients == (3, 4, 4)  # installing applies constants
    control.set_filter_setting("beer_slow_filter", 2)
    assert control.constants.beer_slow_filter == 2
    assert control.beer_sensor.filter_coefficients == (2, 4, 4)  # landed on the fast filter
    control.set_filter_setting("beer_fast_filter", 5)
    assert control.beer_sensor.filter_coefficients == (2, 4, 4)  # landed nowhere
    control.reset()  # a reboot configures every filter from the stored constants
    assert control.beer_sensor.filter_coefficients == (5, 2, 4)


def test_on_esp_a_runtime_beer_filter_setting_applies_to_its_own_filter():
    control = TempControl(
        Dialect.ESP, default_settings(Dialect.ESP), default_constants(Dialect.ESP)
    )
    control.set_filter_setting("beer_slope_filter", 1)
    control.set_filter_setting("fridge_fast_filter", 0)
    assert control.beer_sensor.filter_coefficients == (3, 4, 1)
    assert control.fridge_sensor.filter_coefficients == (0, 4, 3)


def test_an_unknown_filter_setting_is_refused_with_the_valid_names():
    control = TempControl(
        Dialect.ESP, default_settings(Dialect.ESP), default_constants(Dialect.ESP)
    )
    with pytest.raises(ValueError, match="beer_fast_filter"):
        control.set_filter_setting("beerFastFilt", 1)
