"""Control settings, constants and variables (the `S:`, `C:` and `V:` messages), in internal units.

Each dataclass holds the firmware's own fixed-point integers; the field tables say which wire key
maps to which attribute and what kind of value it is, so that printing and parsing in °C or °F
happen in one place (`encode_fields` / `parse_field`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum

from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.temperature import (
    DISABLED_TEMP,
    INVALID_TEMP,
    Dialect,
    TempFormat,
    diff_from_celsius,
    fixed_from_float,
    format_fixed_point,
    format_temp_diff,
    format_temperature,
    parse_fixed_point,
    parse_temp_diff,
    parse_temperature,
    temp_from_celsius,
)


class Mode(StrEnum):
    OFF = "o"
    FRIDGE_CONSTANT = "f"
    BEER_CONSTANT = "b"
    BEER_PROFILE = "p"
    TEST = "t"

    @property
    def is_beer_mode(self) -> bool:
        return self in (Mode.BEER_CONSTANT, Mode.BEER_PROFILE)


class ControlState(IntEnum):
    """The control state id sent as `State` (§8.5)."""

    IDLE = 0
    STATE_OFF = 1
    DOOR_OPEN = 2
    HEATING = 3
    COOLING = 4
    WAITING_TO_COOL = 5
    WAITING_TO_HEAT = 6
    WAITING_FOR_PEAK_DETECT = 7
    COOLING_MIN_TIME = 8
    HEATING_MIN_TIME = 9


class ValueKind(Enum):
    TEMPERATURE = "temperature"  # absolute, converted to °F, `null` = disabled
    DIFFERENCE = "difference"  # converted to °F without offset
    FIXED_POINT = "fixed point"  # never converted
    SECONDS = "seconds"  # uint16
    FILTER = "filter"  # 0..6
    BOOL = "bool"
    MODE = "mode"
    FORMAT = "format"


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # the wire key
    attr: str  # the dataclass attribute
    kind: ValueKind
    decimals: int = 3  # printed decimals for temperatures/differences/fixed point (§5.3)


@dataclass(slots=True)
class ControlSettings:
    mode: Mode
    beer_set: int
    fridge_set: int
    heat_estimator: int
    cool_estimator: int


@dataclass(slots=True)
class ControlConstants:
    temp_format: TempFormat
    temp_set_min: int
    temp_set_max: int
    pid_max: int
    kp: int
    ki: int
    kd: int
    i_max_error: int
    idle_range_high: int
    idle_range_low: int
    heat_target_high: int
    heat_target_low: int
    cool_target_high: int
    cool_target_low: int
    max_heat_time_for_estimate: int
    max_cool_time_for_estimate: int
    fridge_fast_filter: int
    fridge_slow_filter: int
    fridge_slope_filter: int
    beer_fast_filter: int
    beer_slow_filter: int
    beer_slope_filter: int
    light_as_heater: bool
    rotary_half_steps: bool


@dataclass(slots=True)
class ControlVariables:
    beer_diff: int = 0
    diff_integral: int = 0
    beer_slope: int = 0
    p: int = 0
    i: int = 0
    d: int = 0
    estimated_peak: int = 0
    negative_peak_estimate: int = 0
    positive_peak_estimate: int = 0
    negative_peak: int = 0
    positive_peak: int = 0


K = ValueKind
# Decimals 0 below mean "the dialect's set-point decimals" (2 on AVR, 1 on ESP).
SETTINGS_FIELDS: tuple[Field, ...] = (
    Field("mode", "mode", K.MODE),
    Field("beerSet", "beer_set", K.TEMPERATURE, 0),
    Field("fridgeSet", "fridge_set", K.TEMPERATURE, 0),
    Field("heatEst", "heat_estimator", K.FIXED_POINT),
    Field("coolEst", "cool_estimator", K.FIXED_POINT),
)
CONSTANTS_FIELDS: tuple[Field, ...] = (
    Field("tempFormat", "temp_format", K.FORMAT),
    Field("tempSetMin", "temp_set_min", K.TEMPERATURE, 1),
    Field("tempSetMax", "temp_set_max", K.TEMPERATURE, 1),
    Field("pidMax", "pid_max", K.DIFFERENCE),
    Field("Kp", "kp", K.FIXED_POINT),
    Field("Ki", "ki", K.FIXED_POINT),
    Field("Kd", "kd", K.FIXED_POINT),
    Field("iMaxErr", "i_max_error", K.DIFFERENCE),
    Field("idleRangeH", "idle_range_high", K.DIFFERENCE),
    Field("idleRangeL", "idle_range_low", K.DIFFERENCE),
    Field("heatTargetH", "heat_target_high", K.DIFFERENCE),
    Field("heatTargetL", "heat_target_low", K.DIFFERENCE),
    Field("coolTargetH", "cool_target_high", K.DIFFERENCE),
    Field("coolTargetL", "cool_target_low", K.DIFFERENCE),
    Field("maxHeatTimeForEst", "max_heat_time_for_estimate", K.SECONDS),
    Field("maxCoolTimeForEst", "max_cool_time_for_estimate", K.SECONDS),
    Field("fridgeFastFilt", "fridge_fast_filter", K.FILTER),
    Field("fridgeSlowFilt", "fridge_slow_filter", K.FILTER),
    Field("fridgeSlopeFilt", "fridge_slope_filter", K.FILTER),
    Field("beerFastFilt", "beer_fast_filter", K.FILTER),
    Field("beerSlowFilt", "beer_slow_filter", K.FILTER),
    Field("beerSlopeFilt", "beer_slope_filter", K.FILTER),
    Field("lah", "light_as_heater", K.BOOL),
    Field("hs", "rotary_half_steps", K.BOOL),
)
VARIABLES_FIELDS: tuple[Field, ...] = (
    Field("beerDiff", "beer_diff", K.DIFFERENCE),
    Field("diffIntegral", "diff_integral", K.DIFFERENCE),
    Field("beerSlope", "beer_slope", K.DIFFERENCE),
    Field("p", "p", K.FIXED_POINT),
    Field("i", "i", K.FIXED_POINT),
    Field("d", "d", K.FIXED_POINT),
    Field("estPeak", "estimated_peak", K.TEMPERATURE, 1),
    Field("negPeakEst", "negative_peak_estimate", K.TEMPERATURE, 1),
    Field("posPeakEst", "positive_peak_estimate", K.TEMPERATURE, 1),
    Field("negPeak", "negative_peak", K.TEMPERATURE, 1),
    Field("posPeak", "positive_peak", K.TEMPERATURE, 1),
)
del K

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in SETTINGS_FIELDS + CONSTANTS_FIELDS}
"""Every key `j{...}` accepts (§4.8)."""


def default_settings(dialect: Dialect) -> ControlSettings:
    """Settings after an EEPROM reset: mode off; set points disabled (AVR) or 20 °C (ESP)."""
    set_point = DISABLED_TEMP if dialect is Dialect.AVR else temp_from_celsius(20.0)
    return ControlSettings(
        mode=Mode.OFF,
        beer_set=set_point,
        fridge_set=set_point,
        heat_estimator=fixed_from_float(0.2),
        cool_estimator=fixed_from_float(5.0),
    )


def default_constants(dialect: Dialect) -> ControlConstants:
    """Control constants after `C` or an EEPROM reset (§6, §8.8)."""
    avr = dialect is Dialect.AVR
    return ControlConstants(
        temp_format=TempFormat.CELSIUS,
        temp_set_min=temp_from_celsius(1.0),
        temp_set_max=temp_from_celsius(30.0),
        pid_max=diff_from_celsius(10.0),
        kp=fixed_from_float(5.0),
        ki=fixed_from_float(0.25),
        kd=fixed_from_float(1.5 if avr else -1.5),
        i_max_error=diff_from_celsius(0.5),
        idle_range_high=diff_from_celsius(1.0),
        idle_range_low=diff_from_celsius(-1.0),
        heat_target_high=154 if avr else 153,
        heat_target_low=-102,
        cool_target_high=102,
        cool_target_low=-154 if avr else -153,
        max_heat_time_for_estimate=600,
        max_cool_time_for_estimate=1200,
        fridge_fast_filter=1,
        fridge_slow_filter=4,
        fridge_slope_filter=3,
        beer_fast_filter=3,
        beer_slow_filter=4,
        beer_slope_filter=4,
        light_as_heater=False,
        rotary_half_steps=False,
    )


def format_field(
    field: Field, value: object, fmt: TempFormat, dialect: Dialect
) -> str | int | bool | None:
    """One value as it goes into the JSON of `S:`, `C:` or `V:`.

    Numbers come back as raw number text (to be written unquoted), None as JSON null, and the
    mode and format letters as plain strings (to be quoted).
    """
    avr = dialect is Dialect.AVR
    kind = field.kind
    if kind is ValueKind.TEMPERATURE:
        decimals = field.decimals or dialect.set_point_decimals
        return format_temperature(value, fmt, decimals, leading_space=avr)  # type: ignore[arg-type]
    if kind is ValueKind.DIFFERENCE:
        return format_temp_diff(value, fmt, field.decimals, leading_space=avr)  # type: ignore[arg-type]
    if kind is ValueKind.FIXED_POINT:
        return format_fixed_point(value, field.decimals, leading_space=avr)  # type: ignore[arg-type]
    if kind in (ValueKind.MODE, ValueKind.FORMAT):
        return str(value)
    if kind is ValueKind.BOOL:
        return int(bool(value)) if avr else bool(value)
    return int(value)  # type: ignore[call-overload]


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def parse_field(field: Field, raw: object, fmt: TempFormat, dialect: Dialect) -> object:
    """A wire value for `field` (text on AVR, a JSON value on ESP) in internal units.

    Raises ProtocolError naming the key and what it expected.
    """
    kind = field.kind
    try:
        if kind is ValueKind.TEMPERATURE:
            return parse_temperature(raw, fmt, dialect)  # type: ignore[arg-type]
        if kind is ValueKind.DIFFERENCE:
            return parse_temp_diff(raw, fmt, dialect)  # type: ignore[arg-type]
        if kind is ValueKind.FIXED_POINT:
            return parse_fixed_point(raw, dialect)  # type: ignore[arg-type]
    except ProtocolError as error:
        raise ProtocolError(f"{field.key}: {error}") from None
    text = str(raw).strip().lower() if not isinstance(raw, bool) else str(raw).lower()
    if kind is ValueKind.MODE:
        for mode in Mode:
            if text == mode.value:
                return mode
        raise ProtocolError(f"mode: expected one of o, f, b, p, t, got {raw!r}")
    if kind is ValueKind.FORMAT:
        if text in ("c", "f"):
            return TempFormat(text.upper())
        raise ProtocolError(f"tempFormat: expected C or F, got {raw!r}")
    if kind is ValueKind.BOOL:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ProtocolError(f"{field.key}: expected true, false, 0 or 1, got {raw!r}")
    limit = 65535 if kind is ValueKind.SECONDS else 6
    # isascii: str.isdigit also accepts digits such as '²' that int() refuses.
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or int(text) > limit:
        raise ProtocolError(f"{field.key}: expected a whole number from 0 to {limit}, got {raw!r}")
    return int(text)


def encode_fields(
    record: object, table: tuple[Field, ...], fmt: TempFormat, dialect: Dialect
) -> list[tuple[str, str | int | bool | None]]:
    """(key, formatted value) pairs of a settings, constants or variables record, in wire order."""
    return [(f.key, format_field(f, getattr(record, f.attr), fmt, dialect)) for f in table]


def decode_fields(
    cls: type, table: tuple[Field, ...], values: dict, fmt: TempFormat, dialect: Dialect
):
    """A record from a parsed JSON object; every key of the table must be there."""
    missing = [f.key for f in table if f.key not in values]
    if missing:
        raise ProtocolError(f"{cls.__name__}: missing keys {', '.join(missing)}")
    kwargs = {}
    for f in table:
        raw = values[f.key]
        if raw is None or raw == "":
            kwargs[f.attr] = INVALID_TEMP if f.kind is ValueKind.TEMPERATURE else 0
        else:
            kwargs[f.attr] = parse_field(f, raw, fmt, dialect)
    return cls(**kwargs)


__all__ = [
    "CONSTANTS_FIELDS",
    "FIELDS_BY_KEY",
    "SETTINGS_FIELDS",
    "VARIABLES_FIELDS",
    "ControlConstants",
    "ControlSettings",
    "ControlState",
    "ControlVariables",
    "Field",
    "Mode",
    "ValueKind",
    "decode_fields",
    "default_constants",
    "default_settings",
    "encode_fields",
    "format_field",
    "parse_field",
]
