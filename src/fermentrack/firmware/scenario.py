"""The simulated chamber's scenario: every physical figure, the beer, the sensors and the faults.

The firmware keeps it as `simulator.json` beside its EEPROM and changes it at run time with the
`y{...}` command; both go through `Scenario.from_dict`, which checks every key, type and range so
that a typo or an impossible figure is refused with a message naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# A fault is one of these, active from start_s for duration_s simulated seconds.
FAULT_KINDS = ("beer_dropout", "fridge_dropout", "room_dropout", "door_open")

# Longest scenario time we accept for faults and the pitch (10 years): keeps the figures sane.
MAX_TIME_S = 10 * 365 * 24 * 3600

# The fermentation curve is set by two times (5 % and 95 % of the gravity drop done); the
# kinetics can only make the second between these multiples of the first (see simulator.py).
FERMENTATION_TIME_RATIO_MIN = 1.5
FERMENTATION_TIME_RATIO_MAX = 50.0


@dataclass(frozen=True, slots=True)
class Fault:
    """Something going wrong for a while: a sensor dropping out, or the door left open."""

    fault: str  # one of FAULT_KINDS
    start_s: int  # simulated seconds since the simulation's time 0
    duration_s: int

    @property
    def end_s(self) -> int:
        return self.start_s + self.duration_s

    def to_dict(self) -> dict[str, Any]:
        return {"fault": self.fault, "start_s": self.start_s, "duration_s": self.duration_s}

    @classmethod
    def from_dict(cls, d: Any, where: str = "fault") -> Fault:
        """Check one fault given as {"fault": ..., "start_s": ..., "duration_s": ...}."""
        if not isinstance(d, dict):
            raise ValueError(
                f"{where} must be an object like "
                f'{{"fault": "door_open", "start_s": 3600, "duration_s": 60}}, got {d!r}'
            )
        valid = ("fault", "start_s", "duration_s")
        for key in d:
            if key not in valid:
                raise ValueError(f"unknown key {key!r} in {where}; valid keys: {', '.join(valid)}")
        for key in valid:
            if key not in d:
                raise ValueError(f"{where} needs {key!r}")
        kind = d["fault"]
        if kind not in FAULT_KINDS:
            raise ValueError(f"{where}: 'fault' = {kind!r}; allowed: {', '.join(FAULT_KINDS)}")
        start_s = _check_int(f"{where} start_s", d["start_s"], 0, MAX_TIME_S, "s")
        duration_s = _check_int(f"{where} duration_s", d["duration_s"], 1, MAX_TIME_S, "s")
        return cls(kind, start_s, duration_s)


def _setting(
    default: Any, low: float | None = None, high: float | None = None, unit: str = ""
) -> Any:
    """A scenario field with its allowed range (inclusive) and unit, used by the validation."""
    return field(default=default, metadata={"low": low, "high": high, "unit": unit})


@dataclass(frozen=True, slots=True)
class Scenario:
    """Every parameter of the simulated chamber. Units are SI and °C; names carry the unit.

    Defaults: a 20 L ale (OG 1.050 to FG 1.010) in a 200 L fridge converted with a 60 W heater
    and a compressor extracting 100 W, standing in a 20 °C room. The reasoning behind each
    figure is in simulator.py's docstring.
    """

    # The chamber.
    fridge_volume_l: float = _setting(200.0, 20.0, 5000.0, "L")  # air: 1.21 J/(L·K)
    walls_heat_capacity_j_per_k: float = _setting(10_000.0, 500.0, 1_000_000.0, "J/K")
    air_to_walls_w_per_k: float = _setting(8.0, 0.1, 1000.0, "W/K")
    walls_to_room_w_per_k: float = _setting(2.0, 0.0, 100.0, "W/K")  # the insulation
    air_to_beer_w_per_k: float = _setting(3.0, 0.0, 200.0, "W/K")  # through the fermenter
    fan_exchange_factor: float = _setting(2.0, 1.0, 10.0, "×")  # on air↔walls and air↔beer
    open_door_w_per_k: float = _setting(15.0, 0.0, 1000.0, "W/K")  # air↔room, door open

    # The actuators.
    heater_power_w: float = _setting(60.0, 0.0, 5000.0, "W")  # into the air
    cooler_power_w: float = _setting(100.0, 0.0, 10_000.0, "W")  # out of the walls
    light_power_w: float = _setting(15.0, 0.0, 500.0, "W")  # into the air

    # The room: a daily sine between min and max, warmest at room_warmest_hour; constant if equal.
    room_min_c: float = _setting(20.0, -30.0, 50.0, "°C")
    room_max_c: float = _setting(20.0, -30.0, 50.0, "°C")
    room_warmest_hour: float = _setting(15.0, 0.0, 24.0, "h")
    clock_start_hour: float = _setting(0.0, 0.0, 24.0, "h")  # time of day at time 0

    # The beer and its fermentation.
    beer_volume_l: float = _setting(20.0, 0.5, 5000.0, "L")
    original_gravity: float = _setting(1.050, 1.000, 1.150, "SG")
    final_gravity: float = _setting(1.010, 0.990, 1.150, "SG")
    fermentation_start_s: int = _setting(0, 0, MAX_TIME_S, "s")  # when the yeast is pitched
    fermentation_lag_h: float = _setting(18.0, 0.5, 480.0, "h")  # to 5 % of the drop, at ref.
    fermentation_days: float = _setting(3.0, 0.25, 120.0, "days")  # to 95 % of the drop, at ref.
    fermentation_reference_c: float = _setting(20.0, 0.0, 40.0, "°C")
    fermentation_q10: float = _setting(2.0, 1.0, 5.0, "×")  # rate factor per 10 °C warmer
    fermentation_heat_j_per_kg: float = _setting(590_000.0, 0.0, 5_000_000.0, "J/kg")

    # Starting temperatures; None = the room's temperature at the start.
    beer_start_c: float | None = _setting(None, -10.0, 60.0, "°C")
    fridge_start_c: float | None = _setting(None, -30.0, 60.0, "°C")  # air and walls

    # The sensors (DS18B20: 0.0625 °C steps).
    beer_sensor_fitted: bool = _setting(True)
    fridge_sensor_fitted: bool = _setting(True)
    room_sensor_fitted: bool = _setting(True)
    sensor_noise_c: float = _setting(0.0, 0.0, 5.0, "°C")  # standard deviation
    seed: int = _setting(0, 0, 2**63 - 1)

    faults: tuple[Fault, ...] = _setting(())

    def __post_init__(self) -> None:
        # Every way of making a scenario passes here, so this is the one place that checks.
        for spec in fields(self):
            value = _check_setting(spec.name, getattr(self, spec.name), spec.default, spec.metadata)
            object.__setattr__(self, spec.name, value)
        if self.room_min_c > self.room_max_c:
            raise ValueError(
                f"room_min_c ({self.room_min_c}) must not be above room_max_c ({self.room_max_c})"
            )
        if self.final_gravity > self.original_gravity:
            raise ValueError(
                f"final_gravity ({self.final_gravity}) must not be above "
                f"original_gravity ({self.original_gravity})"
            )
        ratio = self.fermentation_days * 24.0 / self.fermentation_lag_h
        if not FERMENTATION_TIME_RATIO_MIN <= ratio <= FERMENTATION_TIME_RATIO_MAX:
            raise ValueError(
                f"fermentation_days ({self.fermentation_days} d) must be between "
                f"{FERMENTATION_TIME_RATIO_MIN} and {FERMENTATION_TIME_RATIO_MAX} times "
                f"fermentation_lag_h ({self.fermentation_lag_h} h); it is {ratio:.2f} times"
            )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        """Defaults overridden by `d`, every key, type and range checked.

        Raises ValueError naming the unknown key (with the valid ones), or the key, the value
        and what is allowed.
        """
        if not isinstance(d, dict):
            raise ValueError(f"a simulator scenario must be a JSON object, got {d!r}")
        names = [spec.name for spec in fields(cls)]
        for key in d:
            if key not in names:
                raise ValueError(
                    f"unknown simulator setting {key!r}; valid settings: {', '.join(names)}"
                )
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        d["faults"] = [fault.to_dict() for fault in self.faults]
        return d

    def with_changes(self, d: dict[str, Any]) -> Scenario:
        """This scenario with the keys in `d` changed, checked as `from_dict` checks."""
        if not isinstance(d, dict):
            raise ValueError(f"simulator changes must be a JSON object, got {d!r}")
        return Scenario.from_dict({**self.to_dict(), **d})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON: {error}") from None
        return cls.from_dict(d)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """The scenario in `path` (simulator.json); the defaults when there is no such file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: cannot read the simulator scenario: {error}") from None
        try:
            return cls.from_json(text)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    def save(self, path: str | Path) -> None:
        """Write the scenario to `path`, atomically so a crash never leaves half a file."""
        path = Path(path)
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(self.to_json(), encoding="utf-8")
        partial.replace(path)


def _check_setting(key: str, value: Any, default: Any, spec: dict[str, Any]) -> Any:
    """`value` converted to the setting's type, or ValueError saying what is allowed."""
    if key == "faults":
        if not isinstance(value, list | tuple):
            raise ValueError(f"'faults' must be a list of faults, got {value!r}")
        return tuple(
            item if isinstance(item, Fault) else Fault.from_dict(item, f"faults[{i}]")
            for i, item in enumerate(value)
        )
    low, high, unit = spec["low"], spec["high"], spec["unit"]
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{key!r} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        return _check_int(repr(key), value, low, high, unit)
    if value is None and default is None:
        return None
    return _check_float(repr(key), value, low, high, unit, allow_none=default is None)


def _check_int(name: str, value: Any, low: float, high: float, unit: str) -> int:
    # JSON writers may give 3600.0 for 3600; a fractional second is a mistake.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{name} must be a whole number {_allowed(low, high, unit)}, got {value!r}"
        )
    if not low <= value <= high:
        raise ValueError(f"{name} = {value!r} is out of range; allowed {_allowed(low, high, unit)}")
    return value


def _check_float(
    name: str, value: Any, low: float, high: float, unit: str, allow_none: bool
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        also = " or null" if allow_none else ""
        raise ValueError(
            f"{name} must be a number {_allowed(low, high, unit)}{also}, got {value!r}"
        )
    value = float(value)
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} = {value!r} is out of range; allowed {_allowed(low, high, unit)}")
    return value


def _allowed(low: float, high: float, unit: str) -> str:
    return f"from {_number(low)} to {_number(high)}" + (f" {unit}" if unit else "")


def _number(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"
