"""JSON as the BrewPi wire uses it: reading it without losing number text, and writing it compactly.

The firmware prints numbers as fixed-point text (` 20.00`, `0.199`); reading them back through
floats would lose the exact value, so numbers are kept as their text (`WireNumber`) and converted
by the temperature and settings helpers. Values from a command's arguments arrive as text on AVR
and as JSON values on ESP; the `to_*` helpers accept both.
"""

from __future__ import annotations

import json
import re

from fermentrack.brewpi.errors import ProtocolError


class WireNumber(str):
    """A JSON number, kept as the text it was written with."""

    __slots__ = ()


def _reject_constant(name: str) -> object:
    raise ProtocolError(f"expected a JSON number, got {name}")


def load_json(text: str, what: str) -> object:
    """Parse JSON text, numbers as WireNumber; any failure is a ProtocolError starting `what`.

    `what` names the source, as a message prefix such as "T:".
    """
    try:
        return json.loads(
            text,
            parse_int=WireNumber,
            parse_float=WireNumber,
            parse_constant=_reject_constant,
            strict=False,  # AVR prints strings raw, control characters included
        )
    except ProtocolError as error:
        raise ProtocolError(f"{what} {error}") from None
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"{what} expected JSON, got {_clip(text)} ({error})") from None


def _clip(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def describe(value: object) -> str:
    """A short repr of a wire value for error messages."""
    return _clip(value) if isinstance(value, str) else _clip(repr(value))


def json_string(text: str) -> str:
    """A JSON string literal; non-ASCII stays as it is (the I/O layer encodes the line)."""
    return json.dumps(text, ensure_ascii=False)


def arduino_number(text: str) -> str:
    """Number text as ArduinoJson prints a double: no trailing zeros, `20.0` becomes `20`."""
    text = text.strip()
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_INTEGER = re.compile(r"^\s*[-+]?[0-9]{1,12}\s*$")


def to_int(value: object, what: str) -> int:
    """A whole number from a wire value: a JSON number, numeric text or a bool."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    raise ProtocolError(f"{what}: expected a whole number, got {describe(value)}")


def to_bool(value: object, what: str) -> bool:
    """true/false or 1/0, as a JSON value or as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
    raise ProtocolError(f"{what}: expected true, false, 1 or 0, got {describe(value)}")


def to_text(value: object, what: str) -> str:
    if isinstance(value, str):
        return str(value)
    raise ProtocolError(f"{what}: expected a string, got {describe(value)}")


def plain(value: object) -> object:
    """A parsed JSON value with WireNumbers turned into ints or floats (for free-form data)."""
    if isinstance(value, WireNumber):
        # int() refuses more than 4300 digits; such a number can only be a float anyway.
        if re.fullmatch(r"-?[0-9]{1,4000}", value):
            return int(value)
        return float(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value
