"""How long one simulated second of the chamber takes: prints µs per step for 1,000,000 steps.

Run by hand: `.venv/bin/python bench/simulator_speed.py [steps]`. The budget is ≤ 6 µs per
step, so that a 14-day fermentation (1.2 million steps) leaves most of 60 s to the control.
"""

from __future__ import annotations

import sys
import time

from fermentrack.firmware.simulator import ChamberSimulator, Scenario


def time_steps(scenario: Scenario, steps: int, read_sensors: bool) -> float:
    """µs per step, with the outputs switching as a controller would switch them."""
    simulator = ChamberSimulator(scenario)
    step, read = simulator.step, simulator.read_celsius
    started = time.perf_counter()
    for now in range(steps):
        # 20 min cooling with the fan, then 40 min idle: the cooler's usual duty at high krausen.
        cooling = now % 3600 < 1200
        step(False, cooling, cooling)
        if read_sensors:
            read("beer")
            read("fridge")
    return (time.perf_counter() - started) * 1e6 / steps


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    noisy = Scenario(sensor_noise_c=0.05, seed=1)
    for label, scenario, read_sensors in (
        ("step", Scenario(), False),
        ("step + beer and fridge reads", Scenario(), True),
        ("step + reads, sensor noise on", noisy, True),
    ):
        per_step = time_steps(scenario, steps, read_sensors)
        print(f"{label}: {per_step:.2f} µs per step ({steps:,} steps)")


if __name__ == "__main__":
    main()
