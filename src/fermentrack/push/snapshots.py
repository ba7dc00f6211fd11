"""What a push carries: a controller or a gravity sensor as it was a moment ago, in plain
values (the process that gathers them reads the database and the controller)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ControllerSnapshot:
    """A temperature controller: temperatures and settings in its own unit (`unit` 'C'/'F')."""

    name: str
    internal_id: int
    unit: str
    mode: str | None = None  # the BrewPi mode letter: o f b p t
    beer_temp: float | None = None
    fridge_temp: float | None = None
    room_temp: float | None = None
    beer_setting: float | None = None
    fridge_setting: float | None = None
    state: int | None = None  # the control state number (brewpi-protocol §8.5)
    beer_name: str | None = None  # the active beer, if one is running
    gravity: float | None = None  # SG of the sensor floating in it, if any


@dataclass(frozen=True)
class SensorSnapshot:
    """A gravity sensor's latest counted reading (None where it is unknown or too old)."""

    name: str
    internal_id: int
    sensor_type: str  # manual, tilt, tiltbridge, ispindel
    gravity: float | None = None  # SG
    temperature: float | None = None
    unit: str = "C"  # the unit of `temperature`
    battery: float | None = None  # volts
    controller: ControllerSnapshot | None = None  # the chamber it floats in


MODE_LETTERS = {
    "off": "o",
    "fridge_constant": "f",
    "beer_constant": "b",
    "profile": "p",
    "test": "t",
}


def mode_letter(mode: object) -> str | None:
    """A status mode ('beer_constant', or already a letter 'b') as the BrewPi letter."""
    if not isinstance(mode, str) or not mode:
        return None
    if mode in MODE_LETTERS.values():
        return mode
    return MODE_LETTERS.get(mode)
