"""BrewPi's temperature-control algorithm, run once a second (brewpi-protocol §8).

A PID turns the beer's error into a fridge set point (beer modes); a state machine switches
heater and cooler to reach it, with minimum on, off and switch times that protect the
compressor, and stops each run early on a predicted overshoot peak. Two self-learned estimators
predict that overshoot; after every run the real peak of the slow-filtered fridge temperature
is compared with the prediction and the estimator is adjusted.

Everything is the firmware's integer arithmetic: temperatures in 1/512 °C (offset −48 °C),
fixed-point factors ×512, arithmetic right shifts, int16 saturation, and a 16-bit clock of
seconds that wraps. The `Dialect` picks AVR or ESP where the two firmwares differ.

`tick` is the hot path (a benchmark runs weeks of ticks): it uses plain ints and local
variables, and compares enum members by identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fermentrack.brewpi.settings import (
    ControlConstants,
    ControlSettings,
    ControlState,
    ControlVariables,
    Mode,
)
from fermentrack.brewpi.temperature import (
    DISABLED_TEMP,
    INVALID_TEMP,
    Dialect,
    format_fixed_point,
    format_temperature,
)
from fermentrack.firmware.filters import check_filter_b
from fermentrack.firmware.hardware_interface import (
    Actuator,
    NullActuator,
    NullSwitch,
    NullTempSensor,
    SwitchSensor,
    is_installed,
)
from fermentrack.firmware.temp_sensor import (
    FilteredTempSensor,
    FilterKind,
    filter_reconfigured_at_runtime,
)


@dataclass(frozen=True, slots=True)
class MinTimes:
    """The compressor- and heater-protecting times of §8.8, in seconds."""

    min_cool_off_time: int = 300
    min_heat_off_time: int = 300
    min_cool_on_time: int = 180
    min_heat_on_time: int = 180
    min_cool_off_time_fridge_constant: int = 600
    min_switch_time: int = 600
    cool_peak_detect_time: int = 1800
    heat_peak_detect_time: int = 900

    @classmethod
    def standard(cls) -> MinTimes:
        return cls()

    @classmethod
    def low_delay(cls) -> MinTimes:
        """ESP's "low delay" option: shorter cooler times, for a cooler that is not a compressor."""
        return cls(
            min_cool_off_time=60,
            min_cool_on_time=20,
            min_cool_off_time_fridge_constant=60,
        )

    @classmethod
    def glycol(cls) -> MinTimes:
        """The glycol build: a chilled-liquid loop can switch almost freely."""
        return cls(
            min_cool_off_time=0,
            min_heat_off_time=30,
            min_cool_on_time=0,
            min_heat_on_time=30,
            min_cool_off_time_fridge_constant=0,
            min_switch_time=30,
            cool_peak_detect_time=180,
            heat_peak_detect_time=180,
        )


STANDARD_MIN_TIMES = MinTimes.standard()

# Log message ids (LogMessages.h version 3, info table) for peak detection.
INFO_POSITIVE_PEAK = 17
INFO_NEGATIVE_PEAK = 18
INFO_POSITIVE_DRIFT = 19
INFO_NEGATIVE_DRIFT = 20

# Thresholds of the algorithm, in 1/512 °C (§6).
BEER_IDLE_BAND = 16  # "half a sensor bit" around beerSet
INTEGRATOR_SATURATION_MARGIN = 1024  # 2 °C between fridge and its set point: actuator saturated
BEER_SET_RESET_THRESHOLD = 256  # a beerSet change above 0.5 °C restarts peak detection
PROFILE_STORE_THRESHOLD = 128  # profile steps below 0.25 °C are not written to EEPROM
INTEGRATOR_PERIOD = 61  # updatePID calls per integrator update
MIN_ESTIMATOR = 25  # ~0.049: an estimator never learns its way down to zero
CAMERA_LIGHT_SECONDS = 600

_CLOCK_MASK = 0xFFFF  # the firmware's seconds are 16 bits and wrap

# States as plain ints for the hot path (ControlState values).
_IDLE = 0
_STATE_OFF = 1
_HEATING = 3
_COOLING = 4
_WAITING_TO_COOL = 5
_WAITING_TO_HEAT = 6
_WAITING_FOR_PEAK_DETECT = 7
_COOLING_MIN_TIME = 8
_HEATING_MIN_TIME = 9
_HEATING_STATES = frozenset({_HEATING, _HEATING_MIN_TIME})
_COOLING_STATES = frozenset({_COOLING, _COOLING_MIN_TIME})
_ACTIVE_STATES = frozenset({_HEATING, _COOLING})
_WAITING_STATES = frozenset({_WAITING_TO_COOL, _WAITING_TO_HEAT, _WAITING_FOR_PEAK_DETECT})
_RESTING_STATES = frozenset(
    {_IDLE, _STATE_OFF, _WAITING_TO_COOL, _WAITING_TO_HEAT, _WAITING_FOR_PEAK_DETECT}
)

_OFF = Mode.OFF
_FRIDGE_CONSTANT = Mode.FRIDGE_CONSTANT
_BEER_CONSTANT = Mode.BEER_CONSTANT
_BEER_PROFILE = Mode.BEER_PROFILE
_TEST = Mode.TEST

_FILTER_SETTINGS: dict[str, tuple[bool, FilterKind]] = {
    "fridge_fast_filter": (False, FilterKind.FAST),
    "fridge_slow_filter": (False, FilterKind.SLOW),
    "fridge_slope_filter": (False, FilterKind.SLOPE),
    "beer_fast_filter": (True, FilterKind.FAST),
    "beer_slow_filter": (True, FilterKind.SLOW),
    "beer_slope_filter": (True, FilterKind.SLOPE),
}


def multiply_fixed(factor: int, value: int) -> int:
    """factor × value with 9 fraction bits: (a×b) >> 9, saturated to int16."""
    product = (factor * value) >> 9
    if product > 32767:
        return 32767
    if product < -32768:
        return -32768
    return product


def wrap_int16(value: int) -> int:
    """What a C assignment to a 16-bit signed variable leaves of `value`."""
    return ((value + 0x8000) & 0xFFFF) - 0x8000


def _error_magnitude(error: int) -> int:
    # The firmware takes abs() of a 16-bit error in int and stores it back in 16 bits, so
    # |−32768| comes back as −32768 and then counts as no error at all after clamping.
    return wrap_int16(abs(wrap_int16(error))) >> 5


def increased_estimator(estimator: int, error: int) -> int:
    """The estimator after an overshoot larger than predicted: ×1.2 … ×1.5, at least 25/512."""
    factor = 614 + min(max(_error_magnitude(error), 0), 154)
    result = multiply_fixed(factor, estimator)
    return MIN_ESTIMATOR if result < MIN_ESTIMATOR else result


def decreased_estimator(estimator: int, error: int) -> int:
    """The estimator after an overshoot smaller than predicted: ×0.83 … ×0.67."""
    factor = 426 - min(max(_error_magnitude(error), 0), 85)
    return multiply_fixed(factor, estimator)


def overshoot(estimator: int, active_seconds: int) -> int:
    """Predicted overshoot after heating or cooling this long; the estimator is per hour."""
    product = estimator * active_seconds
    # C division truncates toward zero; a negative estimator can come in through `j`.
    return product // 3600 if product >= 0 else -(-product // 3600)


class TempControl:
    """The control loop of one chamber: sensors and actuators in, state and outputs out.

    The device manager assigns the hardware attributes (null devices until then). Mode and set
    points must change through `set_mode`, `set_beer_temp` and `set_fridge_temp`, which run
    the firmware's side effects; estimators may be changed in `settings` directly.
    """

    __slots__ = (
        "_avr",
        "_beer_diff",
        "_beer_sensor",
        "_beer_slope",
        "_camera_light_on",
        "_camera_light_since",
        "_constants",
        "_d",
        "_dialect",
        "_diff_integral",
        "_door_open",
        "_estimated_peak",
        "_fridge_sensor",
        "_i",
        "_integrator_calls",
        "_last_cool_time",
        "_last_heat_time",
        "_last_idle_time",
        "_min_times",
        "_negative_peak",
        "_negative_peak_estimate",
        "_negative_peak_pending",
        "_off_temp",
        "_on_log",
        "_on_settings_changed",
        "_p",
        "_positive_peak",
        "_positive_peak_estimate",
        "_positive_peak_pending",
        "_room_sensor",
        "_settings",
        "_state",
        "_stored_beer_set",
        "_wait_time",
        "cooler",
        "door",
        "fan",
        "heater",
        "light",
    )

    def __init__(
        self,
        dialect: Dialect,
        settings: ControlSettings,
        constants: ControlConstants,
        min_times: MinTimes = STANDARD_MIN_TIMES,
        on_settings_changed: Callable[[], None] | None = None,
        on_log: Callable[[str, int, list], None] | None = None,
    ) -> None:
        self._dialect = dialect
        self._avr = dialect is Dialect.AVR
        # AVR marks a set point that is off as DISABLED; ESP has only INVALID.
        self._off_temp = DISABLED_TEMP if self._avr else INVALID_TEMP
        settings.mode = Mode(settings.mode)  # identity comparisons below need the member
        self._settings = settings
        self._constants = constants
        self._min_times = min_times
        self._on_settings_changed = on_settings_changed
        self._on_log = on_log
        self._stored_beer_set = settings.beer_set
        c = constants
        self._beer_sensor = FilteredTempSensor(
            NullTempSensor(), c.beer_fast_filter, c.beer_slow_filter, c.beer_slope_filter
        )
        self._fridge_sensor = FilteredTempSensor(
            NullTempSensor(), c.fridge_fast_filter, c.fridge_slow_filter, c.fridge_slope_filter
        )
        self._room_sensor = FilteredTempSensor(
            NullTempSensor(), c.fridge_fast_filter, c.fridge_slow_filter, c.fridge_slope_filter
        )
        self.heater: Actuator = NullActuator()
        self.cooler: Actuator = NullActuator()
        self.light: Actuator = NullActuator()
        self.fan: Actuator = NullActuator()
        self.door: SwitchSensor = NullSwitch()
        self.reset()

    def reset(self) -> None:
        """Back to the state at power-up, keeping settings and constants (they live in EEPROM).

        The clock restarts at 0 with every timer at 0, so nothing may switch until the minimum
        times since "the last heating and cooling" have passed: 600 s after boot (§8.1).
        """
        self._state = _IDLE
        self._wait_time = 0
        self._last_idle_time = 0
        self._last_heat_time = 0
        self._last_cool_time = 0
        self._positive_peak_pending = False
        self._negative_peak_pending = False
        self._door_open = False
        self._integrator_calls = 0
        self._camera_light_on = False
        self._camera_light_since = 0
        self._beer_diff = 0
        self._diff_integral = 0
        self._beer_slope = 0
        self._p = 0
        self._i = 0
        self._d = 0
        # Zero is 48 °C: what the firmware reports before it has seen any peak.
        self._estimated_peak = 0
        self._negative_peak_estimate = 0
        self._positive_peak_estimate = 0
        self._negative_peak = 0
        self._positive_peak = 0
        for sensor in (self._beer_sensor, self._fridge_sensor, self._room_sensor):
            sensor.reset()
        self._apply_filter_coefficients()  # a reboot undoes the AVR runtime filter quirk

    # -- hardware the device manager installs ----------------------------------------------

    @property
    def beer_sensor(self) -> FilteredTempSensor:
        return self._beer_sensor

    @beer_sensor.setter
    def beer_sensor(self, sensor: FilteredTempSensor) -> None:
        """Install a probe; it filters with the beer constants, whatever it was built with."""
        c = self._constants
        sensor.set_filter_coefficients(c.beer_fast_filter, c.beer_slow_filter, c.beer_slope_filter)
        self._beer_sensor = sensor

    @property
    def fridge_sensor(self) -> FilteredTempSensor:
        return self._fridge_sensor

    @fridge_sensor.setter
    def fridge_sensor(self, sensor: FilteredTempSensor) -> None:
        """Install a probe; it filters with the fridge constants, whatever it was built with."""
        c = self._constants
        sensor.set_filter_coefficients(
            c.fridge_fast_filter, c.fridge_slow_filter, c.fridge_slope_filter
        )
        self._fridge_sensor = sensor

    @property
    def room_sensor(self) -> FilteredTempSensor:
        return self._room_sensor

    @room_sensor.setter
    def room_sensor(self, sensor: FilteredTempSensor) -> None:
        """Install a probe; room air is filtered like fridge air."""
        c = self._constants
        sensor.set_filter_coefficients(
            c.fridge_fast_filter, c.fridge_slow_filter, c.fridge_slope_filter
        )
        self._room_sensor = sensor

    # -- read-only views -------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def settings(self) -> ControlSettings:
        return self._settings

    @property
    def constants(self) -> ControlConstants:
        return self._constants

    @property
    def min_times(self) -> MinTimes:
        return self._min_times

    @property
    def state(self) -> ControlState:
        """The control state, as sent in `T:` (never DOOR_OPEN)."""
        return ControlState(self._state)

    @property
    def display_state(self) -> ControlState:
        """What the LCD shows: DOOR_OPEN while the door is open, else the control state."""
        return ControlState.DOOR_OPEN if self._door_open else ControlState(self._state)

    @property
    def door_open(self) -> bool:
        """The door as of the last state update; a change deserves a `T:` annotation."""
        return self._door_open

    @property
    def wait_time(self) -> int:
        """Seconds still to wait before heating or cooling may start (for the LCD)."""
        return self._wait_time

    @property
    def beer_temp(self) -> int:
        """Fast-filtered beer temperature, INVALID_TEMP while the probe is disconnected."""
        sensor = self._beer_sensor
        return sensor.read_fast() if sensor.is_connected else INVALID_TEMP

    @property
    def fridge_temp(self) -> int:
        sensor = self._fridge_sensor
        return sensor.read_fast() if sensor.is_connected else INVALID_TEMP

    @property
    def room_temp(self) -> int:
        sensor = self._room_sensor
        return sensor.read_fast() if sensor.is_connected else INVALID_TEMP

    @property
    def peak_detection_pending(self) -> tuple[bool, bool]:
        """(positive, negative): whether a heating or cooling run still awaits its peak."""
        return self._positive_peak_pending, self._negative_peak_pending

    def time_since_cooling(self, now: int) -> int:
        return (now - self._last_cool_time) & _CLOCK_MASK

    def time_since_heating(self, now: int) -> int:
        return (now - self._last_heat_time) & _CLOCK_MASK

    def time_since_idle(self, now: int) -> int:
        return (now - self._last_idle_time) & _CLOCK_MASK

    def variables(self) -> ControlVariables:
        """The PID and peak-detection variables, as `V:` reports them."""
        return ControlVariables(
            beer_diff=self._beer_diff,
            diff_integral=self._diff_integral,
            beer_slope=self._beer_slope,
            p=self._p,
            i=self._i,
            d=self._d,
            estimated_peak=self._estimated_peak,
            negative_peak_estimate=self._negative_peak_estimate,
            positive_peak_estimate=self._positive_peak_estimate,
            negative_peak=self._negative_peak,
            positive_peak=self._positive_peak,
        )

    # -- commands --------------------------------------------------------------------------

    def set_mode(self, mode: Mode | str, now: int) -> None:
        """Change mode (§8.3). A change, or any waiting state, drops the state to IDLE.

        Unlike the set-point commands this does not run the state machine (the firmware does
        not either), so a heater or cooler that was on goes off at the next tick; `now` is
        taken for symmetry with the other commands.
        """
        mode = Mode(mode)
        if mode is self._settings.mode and self._state not in _WAITING_STATES:
            return
        self._state = _IDLE
        self._settings.mode = mode
        if mode is _OFF:
            self._settings.beer_set = self._off_temp
            self._settings.fridge_set = self._off_temp
        self._store_settings()

    def set_beer_temp(self, temp: int, now: int, *, from_profile: bool = False) -> None:
        """A new beer set point (§8.3); the PID and state machine react at once.

        In profile mode (or with `from_profile`), a step within 0.25 °C of the value in EEPROM
        is not stored, to spare EEPROM write cycles on a slow ramp.
        """
        settings = self._settings
        old = settings.beer_set
        settings.beer_set = temp
        if abs(old - temp) > BEER_SET_RESET_THRESHOLD:
            self._positive_peak_pending = False
            self._negative_peak_pending = False
        self._update_pid()
        self._update_state(now & _CLOCK_MASK)
        profile = from_profile or settings.mode is _BEER_PROFILE
        if not profile or abs(self._stored_beer_set - temp) > PROFILE_STORE_THRESHOLD:
            self._store_settings()

    def set_fridge_temp(self, temp: int, now: int) -> None:
        """A new fridge set point (§8.3): peak detection restarts; PID and state react at once."""
        self._settings.fridge_set = temp
        self._positive_peak_pending = False
        self._negative_peak_pending = False
        self._update_pid()
        self._update_state(now & _CLOCK_MASK)
        self._store_settings()

    def apply_constants(self, constants: ControlConstants) -> None:
        """Use a new set of constants, configuring every filter from it (as at boot)."""
        self._constants = constants
        self._apply_filter_coefficients()

    def set_filter_setting(self, name: str, b: int) -> None:
        """One `*Filt` constant changed at run time through `j` (§4.8).

        `name` is the ControlConstants attribute, e.g. "beer_slow_filter". The constant is
        stored as given; which filter changes now follows the dialect, AVR's bug included
        (see `filter_reconfigured_at_runtime`).
        """
        if name not in _FILTER_SETTINGS:
            raise ValueError(f"filter setting {name!r} is not one of {', '.join(_FILTER_SETTINGS)}")
        beer, kind = _FILTER_SETTINGS[name]
        setattr(self._constants, name, check_filter_b(b))
        target = filter_reconfigured_at_runtime(beer, kind, self._dialect)
        if target is None:
            return
        coefficients = {
            FilterKind.FAST: "fast_b",
            FilterKind.SLOW: "slow_b",
            FilterKind.SLOPE: "slope_b",
        }
        sensors = (self._beer_sensor,) if beer else (self._fridge_sensor, self._room_sensor)
        for sensor in sensors:
            sensor.set_filter_coefficients(**{coefficients[target]: b})

    def set_camera_light(self, on: bool, now: int) -> None:
        """`d{i:-2,w:1}`: the camera light, which switches itself off after 600 s."""
        self._camera_light_on = on
        self._camera_light_since = now & _CLOCK_MASK

    # -- the loop --------------------------------------------------------------------------

    def tick(self, now: int) -> bool:
        """One control update at second `now` (§8.1). True when the control state changed."""
        now &= _CLOCK_MASK
        self._beer_sensor.update()
        self._fridge_sensor.update()
        self._room_sensor.update()
        if self._positive_peak_pending or self._negative_peak_pending:
            self._detect_peaks(now)
        self._update_pid()
        old_state = self._state
        self._update_state(now)
        if self._settings.mode is not _TEST:  # test mode: outputs are set by hand
            self._update_outputs(now)
        return self._state != old_state

    def _detect_peaks(self, now: int) -> None:
        """Learn the overshoot estimators from the peak after a heating or cooling run (§8.6)."""
        state = self._state
        fridge = self._fridge_sensor
        settings = self._settings
        c = self._constants
        learnt = False
        if self._positive_peak_pending and state not in _HEATING_STATES:
            peak = fridge.detect_positive_peak()
            estimate = self._positive_peak_estimate
            error = wrap_int16(peak - estimate)
            old_estimator = settings.heat_estimator
            if peak != INVALID_TEMP:
                if error > c.heat_target_high:  # overshot more than predicted
                    settings.heat_estimator = increased_estimator(old_estimator, error)
                    learnt = True
                if error < c.heat_target_low:
                    settings.heat_estimator = decreased_estimator(old_estimator, error)
                    learnt = True
                detected = INFO_POSITIVE_PEAK
            elif self.time_since_heating(now) > self._min_times.heat_peak_detect_time:
                fridge_fast = fridge.read_fast()
                if fridge_fast < estimate + c.heat_target_low:
                    # Drifted up too slowly to peak: the estimator is too high. The error is
                    # still the one computed from the "no peak" marker, so huge (§8.6).
                    peak = fridge_fast
                    settings.heat_estimator = decreased_estimator(old_estimator, error)
                    learnt = True
                    detected = INFO_POSITIVE_DRIFT
                else:
                    self._positive_peak_pending = False  # timed out, nothing learnt
                    return
            else:
                return
            self._positive_peak = peak
            self._positive_peak_pending = False
            new_estimator = settings.heat_estimator
        elif self._negative_peak_pending and state not in _COOLING_STATES:
            peak = fridge.detect_negative_peak()
            estimate = self._negative_peak_estimate
            error = wrap_int16(peak - estimate)
            old_estimator = settings.cool_estimator
            if peak != INVALID_TEMP:
                if error < c.cool_target_low:  # undershot more than predicted
                    settings.cool_estimator = increased_estimator(old_estimator, error)
                    learnt = True
                if error > c.cool_target_high:
                    settings.cool_estimator = decreased_estimator(old_estimator, error)
                    learnt = True
                detected = INFO_NEGATIVE_PEAK
            elif self.time_since_cooling(now) > self._min_times.cool_peak_detect_time:
                fridge_fast = fridge.read_fast()
                if fridge_fast > estimate + c.cool_target_high:
                    peak = fridge_fast  # drifted down too slowly: the estimator is too high
                    settings.cool_estimator = decreased_estimator(old_estimator, error)
                    learnt = True
                    detected = INFO_NEGATIVE_DRIFT
                else:
                    self._negative_peak_pending = False
                    return
            else:
                return
            self._negative_peak = peak
            self._negative_peak_pending = False
            new_estimator = settings.cool_estimator
        else:
            return
        if learnt:
            self._store_settings()
        if self._on_log is not None:
            fmt = c.temp_format
            self._on_log(
                "I",
                detected,
                [
                    format_temperature(peak, fmt, 1),
                    format_temperature(estimate, fmt, 1),
                    format_fixed_point(old_estimator, 3),
                    format_fixed_point(new_estimator, 3),
                ],
            )

    def _update_pid(self) -> None:
        """Beer modes: turn the beer error into a fridge set point (§8.4)."""
        settings = self._settings
        mode = settings.mode
        if mode is not _BEER_CONSTANT and mode is not _BEER_PROFILE:
            if mode is _FRIDGE_CONSTANT:
                settings.beer_set = self._off_temp  # the beer set point plays no part
            return
        beer_set = settings.beer_set
        if beer_set <= DISABLED_TEMP:
            settings.fridge_set = self._off_temp
            return
        c = self._constants
        beer_sensor = self._beer_sensor
        beer_diff = beer_set - beer_sensor.read_slow()
        beer_slope = beer_sensor.read_slope()
        self._beer_diff = beer_diff
        self._beer_slope = beer_slope

        calls = self._integrator_calls
        if calls == INTEGRATOR_PERIOD - 1:
            self._integrator_calls = 0
            self._diff_integral += self._integrator_update(beer_diff, beer_set)
        else:
            self._integrator_calls = calls + 1

        p = multiply_fixed(c.kp, beer_diff)
        i = multiply_fixed(c.ki, self._diff_integral)
        d = multiply_fixed(c.kd, beer_slope)
        self._p = p
        self._i = i
        self._d = d
        fridge_set = beer_set + p + i + d
        if fridge_set > 32767:
            fridge_set = 32767
        elif fridge_set < -32768:
            fridge_set = -32768
        pid_max = c.pid_max
        lower = max(c.temp_set_min, beer_set - pid_max)
        upper = min(c.temp_set_max, beer_set + pid_max)
        if fridge_set < lower:
            fridge_set = lower
        elif fridge_set > upper:
            fridge_set = upper
        settings.fridge_set = fridge_set

    def _integrator_update(self, beer_diff: int, beer_set: int) -> int:
        """What the integrator adds this period, with its anti-windup rules (§8.4 step 3)."""
        if self._state != _IDLE:
            return 0  # integrate only once the fridge has settled at its set point
        c = self._constants
        integral = self._diff_integral
        if abs(beer_diff) >= c.i_max_error:
            return -(integral >> 3)  # far off: let the integrator decay toward 0
        if (beer_diff > 0) != (integral > 0):
            return beer_diff * 2  # shrinking the integrator: go faster than growing it
        # Growing: not while the actuator is already saturated, or it only winds up.
        fridge_set = self._settings.fridge_set
        fridge_fast = self._fridge_sensor.read_fast()
        if (
            fridge_set >= c.temp_set_max
            or fridge_set <= c.temp_set_min
            or fridge_set - beer_set >= c.pid_max
            or beer_set - fridge_set >= c.pid_max
            or (beer_diff <= 0 and fridge_fast > fridge_set + INTEGRATOR_SATURATION_MARGIN)
            or (beer_diff > 0 and fridge_fast < fridge_set - INTEGRATOR_SATURATION_MARGIN)
        ):
            return 0
        return beer_diff

    def _update_state(self, now: int) -> None:
        """The state machine (§8.5)."""
        settings = self._settings
        mode = settings.mode
        fridge = self._fridge_sensor
        beer = self._beer_sensor
        self._door_open = self.door.sense()

        hold = False
        if mode is _OFF:
            self._state = _STATE_OFF
            hold = True
        # AVR tests this even when off; with the set points disabled it then reports IDLE.
        if (self._avr or not hold) and (
            settings.fridge_set <= DISABLED_TEMP
            or not fridge.is_connected
            or ((mode is _BEER_CONSTANT or mode is _BEER_PROFILE) and not beer.is_connected)
        ):
            self._state = _IDLE
            hold = True

        state = self._state
        if state in _RESTING_STATES:
            self._last_idle_time = now
            if hold:
                return
            self._state = self._next_from_rest(now, mode)
        elif state in _COOLING_STATES:
            self._negative_peak_pending = True
            self._last_cool_time = now
            since_idle = (now - self._last_idle_time) & _CLOCK_MASK
            c = self._constants
            active = min(c.max_cool_time_for_estimate, since_idle)
            estimated_peak = fridge.read_fast() - overshoot(settings.cool_estimator, active)
            self._estimated_peak = estimated_peak
            if estimated_peak <= settings.fridge_set or (
                mode is not _FRIDGE_CONSTANT
                and beer.read_fast() < settings.beer_set - BEER_IDLE_BAND
            ):
                if since_idle > self._min_times.min_cool_on_time:
                    self._negative_peak_estimate = estimated_peak
                    self._state = _IDLE
                else:
                    self._state = _COOLING_MIN_TIME
            else:
                self._state = _COOLING
        elif state in _HEATING_STATES:
            self._positive_peak_pending = True
            self._last_heat_time = now
            since_idle = (now - self._last_idle_time) & _CLOCK_MASK
            c = self._constants
            active = min(c.max_heat_time_for_estimate, since_idle)
            estimated_peak = fridge.read_fast() + overshoot(settings.heat_estimator, active)
            self._estimated_peak = estimated_peak
            if estimated_peak >= settings.fridge_set or (
                mode is not _FRIDGE_CONSTANT
                and beer.read_fast() > settings.beer_set + BEER_IDLE_BAND
            ):
                if since_idle > self._min_times.min_heat_on_time:
                    self._positive_peak_estimate = estimated_peak
                    self._state = _IDLE
                else:
                    self._state = _HEATING_MIN_TIME
            else:
                self._state = _HEATING

    def _next_from_rest(self, now: int, mode: Mode) -> int:
        """From IDLE, OFF or a waiting state: whether to cool, heat, wait, or stay idle."""
        settings = self._settings
        c = self._constants
        times = self._min_times
        fridge_fast = self._fridge_sensor.read_fast()
        fridge_set = settings.fridge_set
        since_cooling = (now - self._last_cool_time) & _CLOCK_MASK
        since_heating = (now - self._last_heat_time) & _CLOCK_MASK
        state = self._state
        wait = 0
        if fridge_fast > fridge_set + c.idle_range_high:  # too warm
            if since_heating < times.min_switch_time:
                wait = times.min_switch_time - since_heating
            if mode is _FRIDGE_CONSTANT:
                limit = times.min_cool_off_time_fridge_constant
            else:
                if self._beer_sensor.read_fast() < settings.beer_set + BEER_IDLE_BAND:
                    self._wait_time = wait
                    return _IDLE  # the beer is already cold enough
                limit = times.min_cool_off_time
            if since_cooling < limit:
                wait = max(wait, limit - since_cooling)
            self._wait_time = wait
            if is_installed(self.cooler):
                state = _WAITING_TO_COOL if wait > 0 else _COOLING
        elif fridge_fast < fridge_set + c.idle_range_low:  # too cold
            if since_cooling < times.min_switch_time:
                wait = times.min_switch_time - since_cooling
            if since_heating < times.min_heat_off_time:
                wait = max(wait, times.min_heat_off_time - since_heating)
            self._wait_time = wait
            if (
                mode is not _FRIDGE_CONSTANT
                and self._beer_sensor.read_fast() > settings.beer_set - BEER_IDLE_BAND
            ):
                return _IDLE  # the beer is already warm enough
            if is_installed(self.heater) or (c.light_as_heater and is_installed(self.light)):
                state = _WAITING_TO_HEAT if wait > 0 else _HEATING
        else:
            self._wait_time = 0
            return _IDLE

        if state in _ACTIVE_STATES and (self._positive_peak_pending or self._negative_peak_pending):
            # Let the last run's peak be measured first. The wait shown is the time left of
            # the detection window; the real end is when _detect_peaks clears the flag.
            if self._avr:
                if self._negative_peak_pending and since_cooling < times.cool_peak_detect_time:
                    wait = max(wait, times.cool_peak_detect_time - since_cooling)
                if self._positive_peak_pending and since_heating < times.heat_peak_detect_time:
                    wait = max(wait, times.heat_peak_detect_time - since_heating)
                self._wait_time = wait
            return _WAITING_FOR_PEAK_DETECT
        return state

    def _update_outputs(self, now: int) -> None:
        """Switch the actuators to follow the state (§8.7)."""
        state = self._state
        heating = state in _HEATING_STATES
        cooling = state in _COOLING_STATES
        light_as_heater = self._constants.light_as_heater
        camera_light = self._camera_light_on
        if camera_light and (now - self._camera_light_since) & _CLOCK_MASK >= CAMERA_LIGHT_SECONDS:
            camera_light = self._camera_light_on = False
        self.cooler.set_active(cooling)
        # AVR keeps the heater on with light-as-heater (since 0.2.8); ESP uses the light instead.
        self.heater.set_active(heating if self._avr or not light_as_heater else False)
        self.light.set_active(self._door_open or (light_as_heater and heating) or camera_light)
        self.fan.set_active(heating or cooling)

    def _apply_filter_coefficients(self) -> None:
        c = self._constants
        self._beer_sensor.set_filter_coefficients(
            c.beer_fast_filter, c.beer_slow_filter, c.beer_slope_filter
        )
        for sensor in (self._fridge_sensor, self._room_sensor):
            sensor.set_filter_coefficients(
                c.fridge_fast_filter, c.fridge_slow_filter, c.fridge_slope_filter
            )

    def _store_settings(self) -> None:
        self._stored_beer_set = self._settings.beer_set
        if self._on_settings_changed is not None:
            self._on_settings_changed()
