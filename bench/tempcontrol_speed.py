"""How long one control tick takes: prints µs per tick, alone and with the simulated chamber.

Run by hand: `.venv/bin/python bench/tempcontrol_speed.py [days]`. The budget is a 14-day
fermentation (1,209,600 ticks plus simulator steps) in 60 s, i.e. under ~25 µs per tick.
"""

from __future__ import annotations

import sys
import time
from functools import partial

from fermentrack.brewpi.settings import Mode, default_constants, default_settings
from fermentrack.brewpi.temperature import Dialect, temp_from_celsius
from fermentrack.firmware.hardware_interface import CelsiusProbe
from fermentrack.firmware.simulator import ChamberSimulator, Scenario
from fermentrack.firmware.temp_sensor import FilteredTempSensor
from fermentrack.firmware.tempcontrol import TempControl


class Output:
    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active = False

    def set_active(self, on: bool) -> None:
        self.active = on


def build(dialect: Dialect) -> tuple[TempControl, ChamberSimulator, list[Output]]:
    simulator = ChamberSimulator(Scenario(beer_start_c=22.0, fridge_start_c=22.0))
    control = TempControl(dialect, default_settings(dialect), default_constants(dialect))
    for role in ("beer", "fridge", "room"):
        setattr(
            control,
            f"{role}_sensor",
            FilteredTempSensor(CelsiusProbe(partial(simulator.read_celsius, role)), 1, 4, 3),
        )
    outputs = [Output() for _ in range(4)]
    control.heater, control.cooler, control.fan, control.light = outputs
    control.set_mode(Mode.BEER_CONSTANT, 0)
    control.set_beer_temp(temp_from_celsius(19.0), 0)
    return control, simulator, outputs


def main() -> None:
    days = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    seconds = int(days * 86400)
    for dialect in (Dialect.AVR, Dialect.ESP):
        control, simulator, (heater, cooler, fan, light) = build(dialect)
        tick, step = control.tick, simulator.step
        started = time.perf_counter()
        for now in range(1, seconds + 1):
            tick(now)
            step(heater.active, cooler.active, fan.active, light.active)
        both = time.perf_counter() - started
        beer = simulator.beer_temperature

        control, _, _ = build(dialect)
        tick = control.tick
        started = time.perf_counter()
        for now in range(1, seconds + 1):
            tick(now)
        alone = time.perf_counter() - started

        per_tick = 1e6 / seconds
        print(
            f"{dialect.value}: tick {alone * per_tick:.2f} µs, tick + simulator step "
            f"{both * per_tick:.2f} µs; 14 days would take {both / days * 14:.1f} s "
            f"(beer {beer:.2f} °C after {days:g} days)"
        )


if __name__ == "__main__":
    main()
