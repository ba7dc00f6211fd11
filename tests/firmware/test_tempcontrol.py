"""The BrewPi control algorithm (brewpi-protocol §8): boot guard, state machine, PID, peak
learning, outputs, and a month against the simulated chamber."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from control_rig import Rig, make_chamber, make_rig

from fermentrack.brewpi.settings import ControlState, Mode, default_constants
from fermentrack.brewpi.temperature import (
    DISABLED_TEMP,
    INVALID_TEMP,
    Dialect,
    TempFormat,
    temp_from_celsius,
)
from fermentrack.firmware.hardware_interface import NullActuator
from fermentrack.firmware.simulator import Scenario
from fermentrack.firmware.switch_audit import SwitchAudit
from fermentrack.firmware.tempcontrol import (
    INFO_NEGATIVE_DRIFT,
    INFO_NEGATIVE_PEAK,
    INFO_POSITIVE_DRIFT,
    INFO_POSITIVE_PEAK,
    MinTimes,
    decreased_estimator,
    increased_estimator,
    multiply_fixed,
)

S = ControlState
C = temp_from_celsius


def fridge_constant(rig: Rig, celsius: float) -> Rig:
    rig.control.set_mode(Mode.FRIDGE_CONSTANT, rig.now)
    rig.control.set_fridge_temp(C(celsius), rig.now)
    return rig


def beer_constant(rig: Rig, celsius: float) -> Rig:
    rig.control.set_mode(Mode.BEER_CONSTANT, rig.now)
    rig.control.set_beer_temp(C(celsius), rig.now)
    return rig


# -- boot -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", list(Dialect))
@pytest.mark.parametrize("fridge_c, relay", [(25.0, "cooler"), (15.0, "heater")])
def test_nothing_switches_in_the_first_600_seconds_after_boot(dialect, fridge_c, relay):
    rig = fridge_constant(make_rig(dialect, fridge_c=fridge_c), 20.0)
    rig.run(599)
    assert rig.cooler.edges == rig.heater.edges == []
    waiting = S.WAITING_TO_COOL if relay == "cooler" else S.WAITING_TO_HEAT
    assert rig.control.state is waiting
    assert rig.control.wait_time == 1
    rig.run(1)
    assert getattr(rig, relay).edges == [(600, True)]


def test_after_a_reset_the_boot_guard_applies_again():
    rig = fridge_constant(make_rig(fridge_c=25.0), 20.0)
    rig.run(700)
    assert rig.cooler.active
    rig.control.reset()
    rig.now = 0
    rig.run(1)
    assert rig.control.state is S.WAITING_TO_COOL
    assert rig.control.wait_time == 599
    assert rig.control.time_since_cooling(1) == 1


def test_the_clock_wraps_at_16_bits():
    rig = make_rig()
    assert rig.control.time_since_cooling(65535) == 65535
    assert rig.control.time_since_cooling(65536) == 0
    assert rig.control.time_since_idle(65536 + 5) == 5


# -- modes and the forced idle --------------------------------------------------------------


def test_avr_reports_state_idle_while_off():
    # AVR's two independent checks: off -> STATE_OFF, then the disabled fridge set point -> IDLE.
    rig = beer_constant(make_rig(Dialect.AVR), 20.0)
    rig.control.set_mode(Mode.OFF, rig.now)
    rig.run(5)
    assert rig.control.state is S.IDLE


def test_esp_reports_state_off_while_off():
    rig = beer_constant(make_rig(Dialect.ESP), 20.0)
    rig.control.set_mode(Mode.OFF, rig.now)
    rig.run(5)
    assert rig.control.state is S.STATE_OFF


@pytest.mark.parametrize(
    "dialect, off", [(Dialect.AVR, DISABLED_TEMP), (Dialect.ESP, INVALID_TEMP)]
)
def test_mode_off_disables_both_set_points(dialect, off):
    rig = beer_constant(make_rig(dialect), 20.0)
    rig.control.set_mode(Mode.OFF, rig.now)
    assert rig.control.settings.beer_set == rig.control.settings.fridge_set == off


def test_switching_off_stops_a_running_cooler_at_the_next_tick():
    rig = fridge_constant(make_rig(fridge_c=25.0), 20.0)
    rig.run(700)
    assert rig.cooler.active
    rig.control.set_mode(Mode.OFF, rig.now)
    rig.run(1)
    assert not rig.cooler.active
    rig.run(3600)
    assert rig.cooler.edges == [(600, True), (701, False)]


@pytest.mark.parametrize(
    "dialect, off", [(Dialect.AVR, DISABLED_TEMP), (Dialect.ESP, INVALID_TEMP)]
)
def test_fridge_constant_mode_disables_the_beer_set_point(dialect, off):
    rig = beer_constant(make_rig(dialect), 20.0)
    fridge_constant(rig, 18.0)
    rig.run(1)
    assert rig.control.settings.beer_set == off
    assert rig.control.settings.fridge_set == C(18.0)


def test_a_mode_change_drops_a_waiting_state_to_idle_and_stores_the_settings():
    rig = fridge_constant(make_rig(fridge_c=25.0), 20.0)
    rig.run(10)
    assert rig.control.state is S.WAITING_TO_COOL
    stored = len(rig.stores)
    rig.control.set_mode(Mode.FRIDGE_CONSTANT, rig.now)  # same mode, but waiting
    assert rig.control.state is S.IDLE
    assert len(rig.stores) == stored + 1


def test_setting_the_same_mode_while_idle_changes_nothing():
    rig = fridge_constant(make_rig(fridge_c=20.0), 20.0)
    rig.run(10)
    stored = len(rig.stores)
    rig.control.set_mode("f", rig.now)
    assert rig.control.state is S.IDLE
    assert len(rig.stores) == stored


@pytest.mark.parametrize("probe", ["beer", "fridge"])
def test_a_disconnected_probe_holds_a_beer_mode_idle(probe):
    rig = beer_constant(make_rig(beer_c=25.0, fridge_c=25.0), 20.0)
    getattr(rig, probe).celsius = None
    rig.run(2000)
    assert rig.control.state is S.IDLE
    assert rig.cooler.edges == []


def test_fridge_constant_mode_ignores_a_disconnected_beer_probe():
    rig = fridge_constant(make_rig(beer_c=None, fridge_c=25.0), 20.0)
    rig.run(600)
    assert rig.cooler.active


def test_without_a_cooler_a_warm_fridge_stays_idle():
    rig = fridge_constant(make_rig(fridge_c=25.0, cooler=False), 20.0)
    rig.run(2000)
    assert rig.control.state is S.IDLE


# -- outputs --------------------------------------------------------------------------------


def test_opening_the_door_turns_the_light_on_and_leaves_the_state_alone():
    rig = fridge_constant(make_rig(fridge_c=25.0), 20.0)
    rig.run(700)
    assert rig.control.state is S.COOLING
    rig.door.open = True
    rig.run(1)
    assert rig.light.active and rig.cooler.active
    assert rig.control.state is S.COOLING
    assert rig.control.display_state is S.DOOR_OPEN
    assert rig.control.door_open
    rig.door.open = False
    rig.run(1)
    assert not rig.light.active
    assert rig.control.display_state is S.COOLING


def test_test_mode_freezes_the_outputs_for_manual_control():
    rig = fridge_constant(make_rig(fridge_c=25.0), 20.0)
    rig.run(700)
    assert rig.cooler.active and rig.fan.active
    rig.control.set_mode(Mode.TEST, rig.now)
    rig.run(3600)
    assert rig.cooler.active and rig.fan.active  # the state machine no longer drives them
    rig.heater.set_active(True)  # as `d{i:N,w:1}` would
    rig.run(3600)
    assert rig.heater.active
    assert rig.cooler.edges == [(600, True)]


def test_the_fan_runs_while_heating_or_cooling():
    rig = fridge_constant(make_rig(fridge_c=15.0), 20.0)
    rig.run(600)
    assert rig.heater.active and rig.fan.active and not rig.cooler.active


@pytest.mark.parametrize("dialect, heater_on", [(Dialect.AVR, True), (Dialect.ESP, False)])
def test_light_as_heater_lights_the_light_and_on_avr_also_the_heater(dialect, heater_on):
    constants = replace(default_constants(dialect), light_as_heater=True)
    rig = fridge_constant(make_rig(dialect, fridge_c=15.0, constants=constants), 20.0)
    rig.run(600)
    assert rig.control.state is S.HEATING
    assert rig.light.active
    assert rig.heater.active is heater_on


def test_light_as_heater_heats_with_only_a_light_installed():
    constants = replace(default_constants(Dialect.ESP), light_as_heater=True)
    rig = make_rig(Dialect.ESP, fridge_c=15.0, constants=constants, heater=False)
    fridge_constant(rig, 20.0)
    rig.run(600)
    assert rig.control.state is S.HEATING
    assert rig.light.active
    assert isinstance(rig.control.heater, NullActuator)


def test_the_camera_light_switches_itself_off_after_600_seconds():
    rig = make_rig()
    rig.run(1)
    rig.control.set_camera_light(True, rig.now)
    rig.run(599)
    assert rig.light.active
    rig.run(1)
    assert not rig.light.active


def test_tick_reports_every_state_change():
    rig = fridge_constant(make_rig(fridge_c=25.0), 20.0)
    changes = rig.run(601)
    assert changes == [1, 600]  # IDLE -> WAITING_TO_COOL -> COOLING


# -- PID ------------------------------------------------------------------------------------


def integral_after(rig: Rig, ticks: int) -> list[int]:
    values = []
    for _ in range(ticks):
        rig.run(1)
        values.append(rig.control.variables().diff_integral)
    return values


def test_the_integrator_updates_once_every_61_calls_and_grows_while_there_is_room():
    # Beer 0.2 °C below its setting, the fridge in its idle band: the integrator should grow.
    rig = beer_constant(make_rig(beer_c=19.8, fridge_c=21.0), 20.0)  # the setter is call 1
    values = integral_after(rig, 200)
    diff = rig.control.variables().beer_diff
    assert diff == C(20.0) - C(19.8)
    # Call 61 (tick 60): the integrator is 0, which counts as negative, so the update doubles.
    assert values[58] == 0 and values[59] == 2 * diff
    assert values[119] == 2 * diff and values[120] == 3 * diff
    assert values[180] == 3 * diff and values[181] == 4 * diff
    assert rig.control.state is S.IDLE


def test_the_integrator_holds_still_while_not_idle():
    rig = beer_constant(make_rig(beer_c=19.8, fridge_c=15.0), 20.0)
    assert set(integral_after(rig, 500)) == {0}
    assert rig.control.state in (S.WAITING_TO_HEAT, S.HEATING)


def test_anti_windup_stops_growth_while_the_fridge_is_far_from_its_setting():
    # No cooler, so the warm fridge stays IDLE; cooling is "saturated" (fridge > set + 2 °C).
    rig = beer_constant(make_rig(beer_c=20.2, fridge_c=25.0, cooler=False), 20.0)
    assert set(integral_after(rig, 500)) == {0}
    rig.fridge.celsius = rig.control.settings.fridge_set / 512 + 48  # back in its band
    values = integral_after(rig, 200)
    assert values[-1] < 0


def test_anti_windup_stops_growth_at_the_top_of_the_setting_range():
    # The fridge set point is clamped at tempSetMax (30 °C): more integral would only wind up.
    rig = beer_constant(make_rig(beer_c=29.7, fridge_c=30.0), 29.9)
    values = integral_after(rig, 400)
    assert rig.control.settings.fridge_set == C(30.0)
    diff = C(29.9) - C(29.7)
    assert values[59] == 2 * diff  # shrinking from "negative" zero: doubled
    assert values[-1] == 2 * diff  # then frozen


def test_far_from_the_setting_the_integrator_decays_by_an_eighth_per_period():
    rig = beer_constant(make_rig(beer_c=19.8, fridge_c=21.0), 20.0)
    integral_after(rig, 61 * 4)
    built = rig.control.variables().diff_integral
    assert built > 0
    rig.beer.celsius = 25.0  # beerDiff now far beyond iMaxErr
    rig.fridge.celsius = 15.0  # keep the fridge in its (now lower) idle band
    values = integral_after(rig, 61 * 3)
    decays = sorted(set(values), reverse=True)
    assert decays[:2] == [built, built - (built >> 3)]


def test_pid_terms_are_products_shifted_by_9_and_saturated():
    assert multiply_fixed(2560, 512) == 2560  # 5 × 1 °C
    assert multiply_fixed(2560, -103) == -515  # arithmetic shift: floor(-515.0)
    assert multiply_fixed(768, -1) == -2  # floor(-1.5)
    assert multiply_fixed(32767, 32767) == 32767
    assert multiply_fixed(32767, -32768) == -32768


@pytest.mark.parametrize(
    "beer_set, beer_c, expected",
    [(20.0, 10.0, 30.0), (20.0, 25.0, 10.0), (5.0, 15.0, 1.0), (28.0, 20.0, 30.0)],
)
def test_the_fridge_setting_stays_within_pid_max_of_the_beer_and_inside_the_range(
    beer_set, beer_c, expected
):
    rig = beer_constant(make_rig(beer_c=beer_c, fridge_c=beer_c), beer_set)
    rig.run(1)
    assert rig.control.settings.fridge_set == C(expected)


def test_a_huge_kp_saturates_p_and_the_fridge_setting_still_clamps():
    constants = replace(default_constants(Dialect.AVR), kp=32767)
    rig = beer_constant(make_rig(beer_c=10.0, constants=constants), 20.0)
    rig.run(1)
    assert rig.control.variables().p == 32767
    assert rig.control.settings.fridge_set == C(30.0)


def test_the_pid_is_idle_until_beer_set_is_valid():
    rig = make_rig(Dialect.AVR)
    rig.control.set_mode(Mode.BEER_CONSTANT, 0)
    rig.run(10)
    assert rig.control.settings.fridge_set == DISABLED_TEMP
    assert rig.control.state is S.IDLE


# -- set-point changes ------------------------------------------------------------------------


def finish_a_heat_run(rig: Rig) -> None:
    """Heat from 18 °C to the 20 °C fridge setting, then hold the fridge flat (no peak yet)."""
    rig.run_until(lambda: rig.heater.active, 700)
    while rig.heater.active:
        rig.fridge.celsius += 0.004
        rig.run(1)


def test_a_beer_setting_change_over_half_a_degree_restarts_peak_detection():
    rig = beer_constant(make_rig(beer_c=19.0, fridge_c=18.0), 20.0)
    rig.run_until(lambda: rig.heater.active, 700)
    rig.run(300)
    rig.beer.celsius = 20.5  # warm enough: heating stops, its peak is awaited
    rig.run_until(lambda: not rig.heater.active, 600)
    assert rig.control.peak_detection_pending == (True, False)
    rig.control.set_beer_temp(C(20.4), rig.now)
    assert rig.control.peak_detection_pending == (True, False)
    rig.control.set_beer_temp(C(21.0), rig.now)
    assert rig.control.peak_detection_pending == (False, False)


def test_a_fridge_setting_change_restarts_peak_detection():
    rig = fridge_constant(make_rig(fridge_c=18.0), 20.0)
    finish_a_heat_run(rig)
    assert rig.control.peak_detection_pending == (True, False)
    rig.control.set_fridge_temp(C(20.0), rig.now)
    assert rig.control.peak_detection_pending == (False, False)


def test_in_profile_mode_small_steps_are_not_written_to_eeprom():
    rig = make_rig()
    rig.control.set_mode(Mode.BEER_PROFILE, 0)
    rig.control.set_beer_temp(C(20.0), 0)
    stored = len(rig.stores)
    for step in range(1, 6):
        rig.control.set_beer_temp(C(20.0 + 0.05 * step), 0)  # 0.25 °C above the stored value
    assert len(rig.stores) == stored
    rig.control.set_beer_temp(C(20.3), 0)
    assert len(rig.stores) == stored + 1
    rig.control.set_mode(Mode.BEER_CONSTANT, 0)
    stored = len(rig.stores)
    rig.control.set_beer_temp(C(20.35), 0)
    assert len(rig.stores) == stored + 1


def test_a_beer_setting_change_reacts_at_once_without_waiting_for_a_tick():
    rig = make_rig(beer_c=20.0, fridge_c=20.0)
    rig.run(700)
    rig.control.set_mode(Mode.BEER_CONSTANT, rig.now)
    rig.control.set_beer_temp(C(10.0), rig.now)
    assert rig.control.settings.fridge_set == C(1.0)  # beerSet - pidMax, floored at tempSetMin
    assert rig.control.state is S.COOLING


# -- peak detection and estimator learning --------------------------------------------------


def test_increasing_an_estimator_multiplies_it_by_1_2_to_1_5():
    assert increased_estimator(512, 0) == 614
    assert increased_estimator(512, 154 << 5) == 768
    assert increased_estimator(512, -30000) == 768
    assert increased_estimator(0, 100) == 25  # never below 25/512


def test_decreasing_an_estimator_multiplies_it_by_0_83_to_0_67():
    assert decreased_estimator(512, 0) == 426
    assert decreased_estimator(512, 85 << 5) == 341
    assert decreased_estimator(512, 20000) == 341
    assert decreased_estimator(10, 0) == 8  # no floor on the way down
    # The firmware's |error| in 16 bits: |-32768| stays -32768 and counts as no error.
    assert decreased_estimator(512, -32768) == 426


def heat_run_then(rig: Rig, bump_c: float) -> None:
    """A heat run in fridge-constant mode, then the fridge bulges by bump_c over 600 s."""
    finish_a_heat_run(rig)
    top = rig.fridge.celsius
    for second in range(2000):
        rig.fridge.celsius = top + bump_c * math.sin(math.pi * min(second, 600) / 600)
        rig.run(1)
        if rig.logs:
            return


def cool_run_then(rig: Rig, bump_c: float) -> None:
    """A cool run from 22 °C to a 20 °C setting, then the fridge dips by bump_c over 600 s."""
    rig.run_until(lambda: rig.cooler.active, 700)
    while rig.cooler.active:
        rig.fridge.celsius -= 0.004
        rig.run(1)
    bottom = rig.fridge.celsius
    for second in range(3000):
        rig.fridge.celsius = bottom - bump_c * math.sin(math.pi * min(second, 600) / 600)
        rig.run(1)
        if rig.logs:
            return


@pytest.mark.parametrize("dialect", list(Dialect))
def test_the_heat_estimator_rises_when_the_peak_overshoots_the_estimate(dialect):
    rig = fridge_constant(make_rig(dialect, fridge_c=18.0), 20.0)
    heat_run_then(rig, 1.5)
    [(kind, log_id, values)] = rig.logs
    assert (kind, log_id) == ("I", INFO_POSITIVE_PEAK)
    variables = rig.control.variables()
    error = variables.positive_peak - variables.positive_peak_estimate
    assert error > rig.control.constants.heat_target_high
    assert rig.control.settings.heat_estimator == increased_estimator(102, error) > 102
    assert values == [
        f"{variables.positive_peak / 512 + 48:.1f}",
        f"{variables.positive_peak_estimate / 512 + 48:.1f}",
        "0.199",
        f"{rig.control.settings.heat_estimator / 512:.3f}",
    ]
    assert rig.stores[-1] == rig.now
    assert rig.control.peak_detection_pending == (False, False)


def test_the_heat_estimator_falls_when_the_peak_stays_under_the_estimate():
    rig = fridge_constant(make_rig(fridge_c=18.0), 20.0)
    heat_run_then(rig, -1.0)
    [(_, log_id, _)] = rig.logs
    assert log_id == INFO_POSITIVE_PEAK
    assert rig.control.settings.heat_estimator < 102


def test_a_peak_inside_the_target_window_changes_nothing():
    rig = fridge_constant(make_rig(fridge_c=18.0), 20.0)
    heat_run_then(rig, 0.15)
    [(_, log_id, values)] = rig.logs
    assert log_id == INFO_POSITIVE_PEAK
    assert values[2] == values[3] == "0.199"


def test_the_cool_estimator_rises_when_the_peak_undershoots_the_estimate():
    rig = fridge_constant(make_rig(fridge_c=22.0), 20.0)
    cool_run_then(rig, 1.5)
    [(_, log_id, values)] = rig.logs
    assert log_id == INFO_NEGATIVE_PEAK
    assert rig.control.settings.cool_estimator > 2560
    assert values[2] == "5.000"
    variables = rig.control.variables()
    assert variables.negative_peak - variables.negative_peak_estimate < -154


def test_the_cool_estimator_falls_when_the_peak_stays_above_the_estimate():
    rig = fridge_constant(make_rig(fridge_c=22.0), 20.0)
    cool_run_then(rig, -1.0)
    [(_, log_id, _)] = rig.logs
    assert log_id == INFO_NEGATIVE_PEAK
    assert rig.control.settings.cool_estimator < 2560


def drift_after(rig: Rig, heat: bool) -> None:
    """The fridge drifts steadily against the actuator, so the slow filter never peaks; the
    beer reaching its setting is what ends the run."""
    sign = 1 if heat else -1
    beer_constant(rig, 20.0)
    drift = -sign / 3600
    for _ in range(900):
        rig.fridge.celsius += drift
        rig.run(1)
    rig.beer.celsius = 20.0 + sign * 0.1
    for _ in range(5000):
        rig.fridge.celsius += drift
        rig.run(1)
        if rig.logs:
            return


def test_no_peak_after_heating_and_a_fridge_drifting_down_lowers_the_heat_estimator():
    rig = make_rig(beer_c=19.0, fridge_c=18.0)
    drift_after(rig, heat=True)
    [(_, log_id, values)] = rig.logs
    assert log_id == INFO_POSITIVE_DRIFT
    # The error comes from the "no peak" marker, so the factor is always the smallest, 341/512.
    assert rig.control.settings.heat_estimator == (102 * 341) >> 9
    assert values[2:] == ["0.199", "0.131"]
    assert rig.control.time_since_heating(rig.now) == 901


def test_no_peak_after_cooling_and_a_fridge_drifting_up_lowers_the_cool_estimator():
    rig = make_rig(beer_c=21.0, fridge_c=22.0)
    drift_after(rig, heat=False)
    [(_, log_id, values)] = rig.logs
    assert log_id == INFO_NEGATIVE_DRIFT
    assert rig.control.settings.cool_estimator == (2560 * 341) >> 9
    assert values[2:] == ["5.000", "3.330"]


def test_peak_messages_follow_the_temperature_format():
    constants = replace(default_constants(Dialect.AVR), temp_format=TempFormat.FAHRENHEIT)
    rig = fridge_constant(make_rig(fridge_c=18.0, constants=constants), 20.0)
    heat_run_then(rig, 1.5)
    [(_, _, values)] = rig.logs
    peak = rig.control.variables().positive_peak
    assert values[0] == f"{(peak / 512 + 48) * 9 / 5 + 32:.1f}"


@pytest.mark.parametrize("dialect", list(Dialect))
def test_a_new_run_waits_for_the_last_runs_peak(dialect):
    # Kd 0: the beer probe's jumps below would otherwise swing the fridge setting about.
    constants = replace(default_constants(dialect), kd=0)
    rig = beer_constant(make_rig(dialect, beer_c=19.0, fridge_c=18.0, constants=constants), 20.0)
    rig.run_until(lambda: rig.heater.active, 700)
    for _ in range(300):
        rig.fridge.celsius += 0.004
        rig.run(1)
    rig.beer.celsius = 20.5
    rig.run_until(lambda: not rig.heater.active, 600)
    stopped = rig.now
    rig.beer.celsius = 19.0  # wants heat again; the fridge stays flat, so no peak shows
    rig.run(400)
    assert rig.control.state is S.WAITING_FOR_PEAK_DETECT
    expected_wait = 900 - rig.control.time_since_heating(rig.now) if dialect is Dialect.AVR else 0
    assert rig.control.wait_time == expected_wait
    rig.run_until(lambda: rig.heater.active, 1000)
    assert rig.now - stopped in (901, 902)  # the detection window ran out, then heat


# -- against the simulated chamber ------------------------------------------------------------


@pytest.mark.parametrize("dialect", list(Dialect))
@pytest.mark.parametrize(
    "scenario",
    [Scenario(beer_start_c=23.0), Scenario(beer_start_c=15.0, room_min_c=8.0, room_max_c=14.0)],
    ids=["cooling a fermenting beer", "heating in a cold room"],
)
def test_beer_constant_converges_on_its_setting(dialect, scenario):
    chamber = make_chamber(dialect, scenario)
    chamber.control.set_mode(Mode.BEER_CONSTANT, 0)
    chamber.control.set_beer_temp(C(19.0), 0)
    errors = []
    chamber.run(18 * 3600)
    chamber.run(2 * 86400, 60, lambda now: errors.append(chamber.simulator.beer_temperature - 19))
    rms = math.sqrt(sum(e * e for e in errors) / len(errors))
    assert rms < 0.2
    assert max(map(abs, errors)) < 0.5


@pytest.mark.parametrize("target", [4.0, 12.0, 26.0])
def test_fridge_constant_holds_the_fridge_near_its_setting(target):
    chamber = make_chamber(Dialect.ESP, Scenario(beer_start_c=20.0))
    chamber.control.set_mode(Mode.FRIDGE_CONSTANT, 0)
    chamber.control.set_fridge_temp(C(target), 0)
    air = []
    chamber.run(12 * 3600)
    chamber.run(86400, 10, lambda now: air.append(chamber.simulator.fridge_temperature - target))
    # On/off control inside a ±1 °C idle band: the air swings, centred within the band.
    assert abs(sum(air) / len(air)) < 0.75
    assert max(map(abs, air)) < 2.5


def audit_recorded(
    edges: dict[str, list[tuple[int, bool]]],
    cuts: set[int],
    modes: list[tuple[int, Mode]],
    times: MinTimes,
) -> SwitchAudit:
    """Replay the recorded relay edges through the one minimum-time checker we have."""
    audit = SwitchAudit(times)
    for moment in cuts:
        audit.cut(moment)
    changes = sorted((t, on, name) for name, pairs in edges.items() for t, on in pairs)
    state = {"heater": False, "cooler": False}
    mode_index = 0
    for t, on, name in changes:
        while mode_index + 1 < len(modes) and modes[mode_index + 1][0] <= t:
            mode_index += 1
        state[name] = on
        fridge_constant = modes[mode_index][1] is Mode.FRIDGE_CONSTANT
        audit.observe(t, state["heater"], state["cooler"], fridge_constant)
    return audit


def random_month(dialect: Dialect, times: MinTimes, days: int, seed: int) -> None:
    rng = random.Random(seed)
    scenario = Scenario(room_min_c=10.0, room_max_c=27.0, beer_start_c=20.0, sensor_noise_c=0.05)
    chamber = make_chamber(dialect, scenario, times)
    control = chamber.control

    cuts: set[int] = set()
    modes: list[tuple[int, Mode]] = [(0, Mode.OFF)]
    end = days * 86400
    now = 0
    while now < end:
        # Changes from every few seconds to half a day apart, evenly spread on a log scale.
        now = min(end, now + int(math.exp(rng.uniform(math.log(5), math.log(12 * 3600)))))
        chamber.run(now - chamber.now - 1)
        moment = chamber.now + 1  # commands land between ticks, just before this one
        chamber.clock[0] = moment
        state_before = control.state
        choice = rng.random()
        if choice < 0.1:
            mode = Mode.OFF
            control.set_mode(mode, moment)
        elif choice < 0.35:
            mode = Mode.FRIDGE_CONSTANT
            control.set_mode(mode, moment)
            control.set_fridge_temp(C(rng.uniform(2.0, 28.0)), moment)
        else:
            mode = rng.choice([Mode.BEER_CONSTANT, Mode.BEER_PROFILE])
            control.set_mode(mode, moment)
            control.set_beer_temp(C(rng.uniform(8.0, 26.0)), moment)
        if mode is not modes[-1][1]:
            modes.append((moment, mode))
            if state_before in (S.COOLING, S.COOLING_MIN_TIME, S.HEATING, S.HEATING_MIN_TIME):
                cuts.add(moment)
        chamber.run(1)
    edges = {"cooler": chamber.cooler.edges, "heater": chamber.heater.edges}
    assert len(edges["cooler"]) > 50 and len(edges["heater"]) > 50  # the test saw real work
    audit = audit_recorded(edges, cuts, modes, times)
    assert audit.violations == []
    tighter = replace(times, min_switch_time=times.min_switch_time + 2)
    assert audit_recorded(edges, cuts, modes, tighter).violations, "the audit must catch a miss"


@pytest.mark.slow
def test_no_minimum_time_is_ever_broken_in_a_month_of_random_changes():
    random_month(Dialect.AVR, MinTimes.standard(), days=30, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "times", [MinTimes.low_delay(), MinTimes.glycol()], ids=["low delay", "glycol"]
)
def test_no_minimum_time_is_broken_with_the_other_presets(times):
    random_month(Dialect.ESP, times, days=5, seed=2)
