"""Fixed-point temperatures as BrewPi firmware keeps them, and their text on the wire.

Internally a temperature is a signed 16-bit count of 1/512 °C, with absolute temperatures offset
so that 0 means 48 °C. Differences and fixed-point factors (Kp, estimators) have no offset. On
the wire every value is printed and parsed in the controller's current format, °C or °F.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from fermentrack.brewpi.errors import ProtocolError

FRACTION_BITS = 9
ONE_DEGREE = 1 << FRACTION_BITS  # 512
C_OFFSET = -48 * ONE_DEGREE  # internal value of 0 °C: -24576
F_OFFSET = -33678  # internal value of 0 °F, as the firmware keeps it
INVALID_TEMP = -32768
DISABLED_TEMP = -32767
MAX_TEMP = 32767
INT16_MIN = -32768
INT16_MAX = 32767

_NUMBER = re.compile(r"^\s*-?(\d+\.?\d*|\.\d+)\s*$")


class TempFormat(StrEnum):
    CELSIUS = "C"
    FAHRENHEIT = "F"


class Dialect(StrEnum):
    """Which firmware family's wire habits to follow (brewpi-protocol §0)."""

    ESP = "esp"
    AVR = "avr"

    @property
    def min_temp(self) -> int:
        """The lowest valid internal temperature; the values below are markers."""
        return -32766 if self is Dialect.AVR else -32767

    @property
    def set_point_decimals(self) -> int:
        """Decimals of temperatures in `T:` and `S:` lines (§5.3)."""
        return 2 if self is Dialect.AVR else 1


def clamp_int16(value: int) -> int:
    return max(INT16_MIN, min(INT16_MAX, value))


def is_valid(temp: int) -> bool:
    """True for a real reading or setting, false for the INVALID and DISABLED markers."""
    return temp > DISABLED_TEMP


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to nearest, halves away from zero (as the firmware does)."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


# -- between internal values and degrees in a format, as exact 1/512 fractions ---------------


def _temp_to_512ths(temp: int, fmt: TempFormat) -> int:
    """An absolute internal temperature as 1/512 degrees of `fmt`, offset removed."""
    celsius = temp - C_OFFSET
    if fmt is TempFormat.FAHRENHEIT:
        return _round_div(celsius * 9, 5) + 32 * ONE_DEGREE
    return celsius


def _512ths_to_temp(value: int, fmt: TempFormat, dialect: Dialect) -> int:
    if fmt is TempFormat.FAHRENHEIT:
        value = _round_div((value - 32 * ONE_DEGREE) * 5, 9)
    return max(dialect.min_temp, min(MAX_TEMP, value + C_OFFSET))


def _diff_to_512ths(diff: int, fmt: TempFormat) -> int:
    return _round_div(diff * 9, 5) if fmt is TempFormat.FAHRENHEIT else diff


def _512ths_to_diff(value: int, fmt: TempFormat) -> int:
    if fmt is TempFormat.FAHRENHEIT:
        value = _round_div(value * 5, 9)
    return clamp_int16(value)


# -- conversions for code that works in floating degrees (simulator, controller, web) --------


def temp_from_celsius(celsius: float) -> int:
    return max(INVALID_TEMP + 2, min(MAX_TEMP, round(celsius * ONE_DEGREE) + C_OFFSET))


def temp_to_celsius(temp: int) -> float | None:
    """Degrees Celsius, or None for the INVALID and DISABLED markers."""
    return (temp - C_OFFSET) / ONE_DEGREE if is_valid(temp) else None


def temp_to_degrees(temp: int, fmt: TempFormat) -> float | None:
    return _temp_to_512ths(temp, fmt) / ONE_DEGREE if is_valid(temp) else None


def temp_from_degrees(degrees: float, fmt: TempFormat, dialect: Dialect = Dialect.ESP) -> int:
    return _512ths_to_temp(round(degrees * ONE_DEGREE), fmt, dialect)


def diff_from_celsius(celsius: float) -> int:
    return clamp_int16(round(celsius * ONE_DEGREE))


def diff_to_degrees(diff: int, fmt: TempFormat) -> float:
    return _diff_to_512ths(diff, fmt) / ONE_DEGREE


def fixed_from_float(value: float) -> int:
    return clamp_int16(round(value * ONE_DEGREE))


def fixed_to_float(value: int) -> float:
    return value / ONE_DEGREE


# -- text on the wire ------------------------------------------------------------------------


def format_512ths(value: int, decimals: int, *, leading_space: bool = False) -> str:
    """An exact count of 1/512 units as decimal text, rounded half away from zero.

    `leading_space` gives AVR's habit of a space before non-negative numbers.
    """
    scaled = _round_div(value * 10**decimals, ONE_DEGREE)
    sign = "-" if scaled < 0 else (" " if leading_space else "")
    whole, fraction = divmod(abs(scaled), 10**decimals)
    if decimals == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{decimals}d}"


def format_temperature(
    temp: int, fmt: TempFormat, decimals: int, *, leading_space: bool = False
) -> str | None:
    """An absolute temperature as text in `fmt`, or None for INVALID/DISABLED."""
    if not is_valid(temp):
        return None
    return format_512ths(_temp_to_512ths(temp, fmt), decimals, leading_space=leading_space)


def format_temp_diff(
    diff: int, fmt: TempFormat, decimals: int = 3, *, leading_space: bool = False
) -> str:
    return format_512ths(_diff_to_512ths(diff, fmt), decimals, leading_space=leading_space)


def format_fixed_point(value: int, decimals: int = 3, *, leading_space: bool = False) -> str:
    return format_512ths(value, decimals, leading_space=leading_space)


def parse_512ths(text: str | float | int, dialect: Dialect = Dialect.AVR) -> int:
    """Decimal text (or a JSON number) as a count of 1/512 units.

    AVR rounds to the nearest 1/512; ESP truncates toward zero (§8.8: 0.3 gives 154 or 153).
    """
    if isinstance(text, bool):
        raise ProtocolError(f"expected a number, got {text!r}")
    if isinstance(text, int | float):
        text = repr(text)
    if not isinstance(text, str) or not _NUMBER.match(text):
        raise ProtocolError(f"expected a decimal number such as 20.5 or -1.25, got {text!r}")
    try:
        exact = Fraction(Decimal(text.strip())) * ONE_DEGREE
    except (InvalidOperation, ValueError) as error:  # pragma: no cover - the regex guards this
        raise ProtocolError(f"expected a decimal number, got {text!r}") from error
    if dialect is Dialect.AVR:
        return _round_div(exact.numerator, exact.denominator)
    return int(exact)  # truncates toward zero


def parse_temperature(
    text: str | float | int | None, fmt: TempFormat, dialect: Dialect = Dialect.AVR
) -> int:
    """A temperature in `fmt` as an internal value; `null` (or None) means DISABLED."""
    if text is None or (isinstance(text, str) and text.strip() == "null"):
        return DISABLED_TEMP
    return _512ths_to_temp(parse_512ths(text, dialect), fmt, dialect)


def parse_temp_diff(
    text: str | float | int, fmt: TempFormat, dialect: Dialect = Dialect.AVR
) -> int:
    return _512ths_to_diff(parse_512ths(text, dialect), fmt)


def parse_fixed_point(text: str | float | int, dialect: Dialect = Dialect.AVR) -> int:
    return clamp_int16(parse_512ths(text, dialect))
