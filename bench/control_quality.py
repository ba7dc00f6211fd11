"""How well the BrewPi algorithm in our firmware holds a beer, on the simulated chamber.

Run by hand (`make bench` or `python bench/control_quality.py`); prints one block per scenario:
the beer's RMS error after settling, its largest deviation, the overshoot on a step, compressor
starts per day, minimum-time violations (must be 0) and how fast the simulation ran. The
firmware runs whole: a Board with its device manager, EEPROM and simulated board, ticked once
per simulated second, exactly as `fermentrack firmware` runs it minus the clock.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fermentrack.brewpi.commands import encode_command
from fermentrack.brewpi.settings import Mode
from fermentrack.brewpi.temperature import Dialect
from fermentrack.firmware.board import Board
from fermentrack.firmware.first_start import wire_and_start
from fermentrack.firmware.scenario import Scenario
from fermentrack.firmware.simulated_hardware import SimulatedBoard
from fermentrack.firmware.simulator import ChamberSimulator
from fermentrack.firmware.switch_audit import SwitchAudit

DAY = 86400
SAMPLE_S = 60
# DS18B20 probes read in 1/16 °C steps with a little noise; the simulator adds both.
NOISY_PROBES = {"sensor_noise_c": 0.02, "seed": 7}


@dataclass
class Step:
    at_s: int
    mode: Mode
    celsius: float


@dataclass
class Case:
    name: str
    days: float
    scenario: dict
    steps: list[Step]
    settle_s: int  # ignored at the start and after each step when computing errors


CASES = {
    "fermentation": Case(
        "beer constant 19 °C through a fermentation, warm room (22-27 °C daily)",
        14,
        {"room_min_c": 22.0, "room_max_c": 27.0, "beer_start_c": 23.0, **NOISY_PROBES},
        [Step(0, Mode.BEER_CONSTANT, 19.0)],
        settle_s=DAY,
    ),
    "step": Case(
        "beer constant 18 °C, then a 4 °C step up to 22 °C and back down (room 20 °C)",
        6,
        {"fermentation_start_s": 400 * DAY, "beer_start_c": 18.0, **NOISY_PROBES},
        [
            Step(0, Mode.BEER_CONSTANT, 18.0),
            Step(2 * DAY, Mode.BEER_CONSTANT, 22.0),
            Step(4 * DAY, Mode.BEER_CONSTANT, 18.0),
        ],
        settle_s=DAY,
    ),
    "fridge": Case(
        "fridge constant 4 °C (a cold crash) in a 20 °C room",
        4,
        {"fermentation_start_s": 400 * DAY, **NOISY_PROBES},
        [Step(0, Mode.FRIDGE_CONSTANT, 4.0)],
        settle_s=DAY // 2,
    ),
}


def set_mode(board: Board, step: Step) -> None:
    key = "beerSet" if step.mode is Mode.BEER_CONSTANT else "fridgeSet"
    board.receive(encode_command("j", {"mode": step.mode.value, key: step.celsius}).encode())


def run_case(case: Case, dialect: Dialect) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        simulator = ChamberSimulator(Scenario.from_dict(case.scenario))
        board = Board(Path(folder), dialect, SimulatedBoard(simulator), simulator=simulator)
        wire_and_start(board, case.steps[0].celsius)
        control = board.control
        audit = SwitchAudit(control.min_times)
        steps = list(case.steps)
        errors: list[float] = []
        step_overshoot = 0.0
        current: Step | None = None
        fridge_mode = False
        steps_at = {step.at_s: step for step in steps}
        total = int(case.days * DAY)
        started = time.perf_counter()
        settle_until = case.settle_s
        previous = None
        for now in range(total):
            step = steps_at.get(now)
            if step is not None:
                previous, current = current, step
                set_mode(board, step)
                fridge_mode = step.mode is Mode.FRIDGE_CONSTANT
                settle_until = now + case.settle_s
            board.tick()
            audit.observe(now, control.heater.active, control.cooler.active, fridge_mode)
            if now % SAMPLE_S:
                continue
            measured = simulator.fridge_temperature if fridge_mode else simulator.beer_temperature
            error = measured - current.celsius
            if previous is not None and now < settle_until:
                direction = math.copysign(1.0, current.celsius - previous.celsius)
                step_overshoot = max(step_overshoot, direction * error)
            if now >= settle_until:
                errors.append(error)
        elapsed = time.perf_counter() - started
    return {
        "rms": math.sqrt(sum(e * e for e in errors) / len(errors)),
        "max": max(abs(e) for e in errors),
        "overshoot": step_overshoot if len(case.steps) > 1 else None,
        "cooler_starts_per_day": audit.cooler_starts / case.days,
        "heater_starts_per_day": audit.heater_starts / case.days,
        "violations": audit.violations,
        "wall_s": elapsed,
        "speed": total / elapsed,
        "gravity": simulator.gravity,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dialect", choices=["esp", "avr"], default="esp")
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    dialect = Dialect(args.dialect)
    for key in args.case or list(CASES):
        case = CASES[key]
        result = run_case(case, dialect)
        what = "fridge" if key == "fridge" else "beer"
        print(f"\n{key}: {case.name} ({case.days:g} days, {dialect.value} dialect)")
        print(f"  {what} RMS error after settling   {result['rms']:.3f} °C")
        print(f"  {what} largest deviation          {result['max']:.3f} °C")
        if result["overshoot"] is not None:
            print(f"  overshoot on the steps           {result['overshoot']:.3f} °C")
        print(f"  compressor starts per day        {result['cooler_starts_per_day']:.1f}")
        print(f"  heater starts per day            {result['heater_starts_per_day']:.1f}")
        print(f"  minimum-time violations          {len(result['violations'])}")
        for violation in result["violations"][:5]:
            print(f"    {violation}")
        print(f"  final gravity                    {result['gravity']:.3f}")
        print(
            f"  simulation speed                 {result['speed']:,.0f}x real time "
            f"({result['wall_s']:.1f} s wall for {case.days:g} days)"
        )


if __name__ == "__main__":
    main()
