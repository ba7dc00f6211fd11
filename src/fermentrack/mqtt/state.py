"""The state payload of a chamber (`<base>/<device>/state`), built from what its controller
answered, its latest log point and the latest reading of each hydrometer in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The modes a brewer can choose over MQTT, in the order Home Assistant's select shows them, with
# the words the device pages use for them.
MODE_LABELS = {
    "off": "Off",
    "fridge_constant": "Fridge constant",
    "beer_constant": "Beer constant",
    "profile": "Beer profile",
}


@dataclass(frozen=True)
class Temperatures:
    """A chamber's latest log point, in the device's unit."""

    ts: int
    beer_temp: float | None
    fridge_temp: float | None
    room_temp: float | None
    beer_set: float | None
    fridge_set: float | None
    state: int | None


@dataclass(frozen=True)
class HydrometerReading:
    """The latest reading of a hydrometer in the chamber; `key` names it in topics and ids."""

    key: str
    name: str
    gravity: float | None  # in `unit`
    unit: str  # "SG" or "°P"
    battery: float | None  # volts
    ts: int | None


def chamber_state(
    *,
    unit: str,
    status: Mapping | None,
    temperatures: Temperatures | None,
    hydrometers: list[HydrometerReading],
    state_names: Mapping[int, str],
    problem: str | None = None,
) -> dict:
    """The JSON object published on the state topic. `status` is the controller's answer (None
    when it could not be reached, `problem` saying why); `state_names` maps the firmware's control
    state numbers to words."""
    status = status or {}
    point = temperatures
    mode = status.get("mode")
    state = status.get("state")
    if state is None and point is not None:
        state = point.state
    beer_set = status.get("beer_set", point.beer_set if point else None)
    fridge_set = status.get("fridge_set", point.fridge_set if point else None)
    if problem is None and status and not status.get("connected"):
        problem = status.get("last_error") or "the controller is not connected to its firmware"
    return {
        "connected": bool(status.get("connected")),
        "mode": mode,
        "mode_name": MODE_LABELS.get(mode, mode.replace("_", " ").capitalize() if mode else None),
        "beer_temp": point.beer_temp if point else None,
        "beer_set": beer_set,
        "fridge_temp": point.fridge_temp if point else None,
        "fridge_set": fridge_set,
        "room_temp": point.room_temp if point else None,
        "state": state_names.get(state) if isinstance(state, int) else None,
        "unit": unit,
        "temperatures_ts": point.ts if point else None,
        "hydrometers": {
            reading.key: {
                "name": reading.name,
                "gravity": reading.gravity,
                "unit": reading.unit,
                "battery": reading.battery,
                "ts": reading.ts,
            }
            for reading in hydrometers
        },
        "problem": problem,
    }
