"""Test hardware for the control algorithm: scripted probes, recording relays, a door, and a
simulated chamber wired to a TempControl."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from fermentrack.brewpi.settings import (
    ControlConstants,
    ControlSettings,
    default_constants,
    default_settings,
)
from fermentrack.brewpi.temperature import INVALID_TEMP, Dialect, temp_from_celsius
from fermentrack.firmware.hardware_interface import CelsiusProbe
from fermentrack.firmware.simulator import ChamberSimulator, Scenario
from fermentrack.firmware.temp_sensor import FilteredTempSensor
from fermentrack.firmware.tempcontrol import STANDARD_MIN_TIMES, MinTimes, TempControl


class ScriptedProbe:
    """A probe whose reading the test sets, in °C; None means it does not answer."""

    def __init__(self, celsius: float | None = 20.0) -> None:
        self.celsius = celsius

    def init(self) -> bool:
        return self.celsius is not None

    def read(self) -> int:
        return INVALID_TEMP if self.celsius is None else temp_from_celsius(self.celsius)


class Relay:
    """An actuator that remembers when it switched: `edges` holds (second, on)."""

    __slots__ = ("active", "clock", "edges")

    def __init__(self, clock: list[int]) -> None:
        self.active = False
        self.clock = clock  # clock[0] is the current second, set by the test loop
        self.edges: list[tuple[int, bool]] = []

    def set_active(self, on: bool) -> None:
        if on != self.active:
            self.active = on
            self.edges.append((self.clock[0], on))


class Door:
    def __init__(self) -> None:
        self.open = False

    def sense(self) -> bool:
        return self.open


@dataclass
class Rig:
    """A TempControl with scripted probes and recording relays; `run` ticks it."""

    control: TempControl
    beer: ScriptedProbe
    fridge: ScriptedProbe
    heater: Relay
    cooler: Relay
    light: Relay
    fan: Relay
    door: Door
    clock: list[int]
    now: int = 0
    logs: list[tuple[str, int, list]] = field(default_factory=list)
    stores: list[int] = field(default_factory=list)

    def run(self, seconds: int) -> list[int]:
        """Tick once a second for `seconds`; returns the seconds at which the state changed."""
        changes = []
        for _ in range(seconds):
            self.now += 1
            self.clock[0] = self.now
            if self.control.tick(self.now):
                changes.append(self.now)
        return changes

    def run_until(self, condition, limit: int) -> int:
        """Tick until `condition()` holds; returns the second it first did."""
        for _ in range(limit):
            self.run(1)
            if condition():
                return self.now
        raise AssertionError(f"condition not met within {limit} s")


def make_rig(
    dialect: Dialect = Dialect.AVR,
    *,
    beer_c: float | None = 20.0,
    fridge_c: float | None = 20.0,
    settings: ControlSettings | None = None,
    constants: ControlConstants | None = None,
    min_times: MinTimes = STANDARD_MIN_TIMES,
    heater: bool = True,
    cooler: bool = True,
) -> Rig:
    clock = [0]
    rig_logs: list[tuple[str, int, list]] = []
    rig_stores: list[int] = []
    control = TempControl(
        dialect,
        settings or default_settings(dialect),
        constants or default_constants(dialect),
        min_times,
        on_settings_changed=lambda: rig_stores.append(clock[0]),
        on_log=lambda kind, log_id, values: rig_logs.append((kind, log_id, values)),
    )
    beer = ScriptedProbe(beer_c)
    fridge = ScriptedProbe(fridge_c)
    control.beer_sensor = FilteredTempSensor(beer, 3, 4, 4)
    control.fridge_sensor = FilteredTempSensor(fridge, 1, 4, 3)
    relays = [Relay(clock) for _ in range(4)]
    if heater:
        control.heater = relays[0]
    if cooler:
        control.cooler = relays[1]
    control.light = relays[2]
    control.fan = relays[3]
    door = Door()
    control.door = door
    return Rig(control, beer, fridge, *relays, door, clock, logs=rig_logs, stores=rig_stores)


@dataclass
class Chamber:
    """A TempControl driving the simulated chamber, one second per `run` step."""

    control: TempControl
    simulator: ChamberSimulator
    heater: Relay
    cooler: Relay
    light: Relay
    fan: Relay
    clock: list[int]
    now: int = 0

    def run(self, seconds: int, every: int = 0, observe=None) -> None:
        """Run `seconds`; call observe(now) every `every` seconds when given."""
        control, simulator = self.control, self.simulator
        heater, cooler, fan, light = self.heater, self.cooler, self.fan, self.light
        clock = self.clock
        now = self.now
        for _ in range(seconds):
            now += 1
            clock[0] = now
            control.tick(now)
            simulator.step(heater.active, cooler.active, fan.active, light.active)
            if every and now % every == 0:
                observe(now)
        self.now = now


def make_chamber(
    dialect: Dialect = Dialect.AVR,
    scenario: Scenario | None = None,
    min_times: MinTimes = STANDARD_MIN_TIMES,
) -> Chamber:
    clock = [0]
    simulator = ChamberSimulator(scenario or Scenario())
    control = TempControl(dialect, default_settings(dialect), default_constants(dialect), min_times)
    constants = control.constants
    control.beer_sensor = FilteredTempSensor(
        CelsiusProbe(partial(simulator.read_celsius, "beer")),
        constants.beer_fast_filter,
        constants.beer_slow_filter,
        constants.beer_slope_filter,
    )
    control.fridge_sensor = FilteredTempSensor(
        CelsiusProbe(partial(simulator.read_celsius, "fridge")),
        constants.fridge_fast_filter,
        constants.fridge_slow_filter,
        constants.fridge_slope_filter,
    )
    control.room_sensor = FilteredTempSensor(
        CelsiusProbe(partial(simulator.read_celsius, "room")), 1, 4, 3
    )
    heater, cooler, light, fan = (Relay(clock) for _ in range(4))
    control.heater, control.cooler, control.light, control.fan = heater, cooler, light, fan
    return Chamber(control, simulator, heater, cooler, light, fan, clock)
