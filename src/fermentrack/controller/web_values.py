"""Firmware values as the web app takes them: temperatures in the device's unit, within the
range the web app accepts, text without NUL and of bounded length, records and device
definitions under their protocol keys (interfaces.md §1 and §2)."""

from __future__ import annotations

import unicodedata
from typing import Any

from fermentrack.brewpi.devices import TEMP_SENSOR_HARDWARE, DeviceDefinition, DeviceHardware
from fermentrack.brewpi.settings import Field, Mode, ValueKind
from fermentrack.brewpi.temperature import (
    ONE_DEGREE,
    TempFormat,
    diff_to_degrees,
    fixed_to_float,
    temp_from_degrees,
    temp_to_degrees,
)

WEB_TEMPERATURES = (-60.0, 150.0)  # what the web app accepts (interfaces.md §1)
MODE_WORDS = {
    Mode.OFF: "off",
    Mode.FRIDGE_CONSTANT: "fridge_constant",
    Mode.BEER_CONSTANT: "beer_constant",
    Mode.BEER_PROFILE: "profile",
    Mode.TEST: "test",
}
BOARD_NAMES = {
    "s": "Arduino Uno",
    "l": "Arduino Leonardo",
    "m": "Arduino Mega",
    "x": "Spark Core",
    "y": "Particle Photon",
    "e": "ESP8266",
    "3": "ESP32",
    "c": "ESP32-C3",
    "2": "ESP32-S2",
}


def web_temperature(temp: int, unit: TempFormat, decimals: int = 2) -> float | None:
    """An internal temperature in degrees of `unit`; None when invalid or out of the web
    app's range (a sensor's garbage must not refuse a whole batch)."""
    degrees = temp_to_degrees(temp, unit)
    if degrees is None or not WEB_TEMPERATURES[0] <= degrees <= WEB_TEMPERATURES[1]:
        return None
    return round(degrees, decimals)


def _field_json(spec: Field, value: Any, unit: TempFormat) -> Any:
    kind = spec.kind
    if kind is ValueKind.TEMPERATURE:
        degrees = temp_to_degrees(value, unit)
        return None if degrees is None else round(degrees, 2)
    if kind is ValueKind.DIFFERENCE:
        return round(diff_to_degrees(value, unit), 3)
    if kind is ValueKind.FIXED_POINT:
        return round(fixed_to_float(value), 3)
    if kind is ValueKind.BOOL:
        return bool(value)
    if kind in (ValueKind.MODE, ValueKind.FORMAT):
        return str(value.value if hasattr(value, "value") else value)
    return int(value)


def record_json(record: Any, table: tuple[Field, ...], unit: TempFormat) -> dict[str, Any]:
    """Settings, constants or variables under their protocol keys, temperatures in `unit`."""
    return {spec.key: _field_json(spec, getattr(record, spec.attr), unit) for spec in table}


def device_json(defn: DeviceDefinition, unit: TempFormat) -> dict[str, Any]:
    """A device definition under its protocol keys (§7.2), as `apply_device` takes it back;
    the sensor value `v` and calibration `j` in degrees of `unit`."""
    hardware = int(defn.hardware)
    out: dict[str, Any] = {"i": defn.slot, "t": int(defn.device_type), "c": defn.chamber}
    out |= {"b": defn.beer, "f": int(defn.function), "h": hardware}
    out |= {"d": int(bool(defn.deactivated)), "p": defn.pin}
    if defn.value is not None:
        if defn.reads_temperature:
            out["v"] = web_temperature(int(defn.value), unit, 3)
        else:
            out["v"] = int(bool(defn.value))
    if hardware == DeviceHardware.PIN:
        out["x"] = int(bool(defn.invert))
    if defn.address:
        out["a"] = defn.address
    if hardware in TEMP_SENSOR_HARDWARE:
        out["j"] = round(diff_to_degrees(defn.calibration, unit), 3)
    if defn.alias:
        out["r"] = defn.alias
    if hardware == DeviceHardware.TPLINK_PLUG:
        out["n"] = defn.child_id
    return out


def clean_text(text: str, limit: int) -> str:
    """Plain text the web app takes: no control characters (a tab or newline becomes a space,
    the rest is dropped), no lone surrogates, at most `limit` characters."""
    if not text.isprintable():
        text = "".join(_printable(character) for character in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _printable(character: str) -> str:
    if character.isprintable():
        return character
    if character in "\t\n\r":
        return " "
    return "" if unicodedata.category(character) in ("Cc", "Cs", "Cf", "Co", "Cn") else character


def degrees_between(value: float, from_unit: TempFormat, to_unit: TempFormat) -> float:
    if from_unit is to_unit:
        return value
    return round(temp_to_degrees(temp_from_degrees(value, from_unit), to_unit) or 0.0, 3)


def difference_between(value: float, from_unit: TempFormat, to_unit: TempFormat) -> float:
    if from_unit is to_unit:
        return value
    internal = value * ONE_DEGREE * (5 / 9 if from_unit is TempFormat.FAHRENHEIT else 1)
    return round(diff_to_degrees(round(internal), to_unit), 3)
