"""Checks a run of the chamber's outputs against the minimum times that protect the compressor.

Fed the heater's and cooler's state once a second, it counts starts and records every switch
that came sooner than §8.8 allows: on-times, off-times, the wait between heating and cooling,
and the guard after boot. Tests and benchmarks share it, so "0 violations" means one thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fermentrack.firmware.tempcontrol import MinTimes


@dataclass
class SwitchAudit:
    min_times: MinTimes
    boot_second: int = 0
    cooler_starts: int = 0
    heater_starts: int = 0
    violations: list[str] = field(default_factory=list)
    _cooling: bool = False
    _heating: bool = False
    _cooler_on_at: int | None = None
    _cooler_off_at: int | None = None
    _heater_on_at: int | None = None
    _heater_off_at: int | None = None

    def observe(self, now: int, heating: bool, cooling: bool, fridge_constant: bool) -> None:
        """The outputs as they are during second `now` (seconds on a steady clock)."""
        if cooling != self._cooling:
            self._cooling = cooling
            if cooling:
                self._cooler_started(now, fridge_constant)
            else:
                self._cooler_stopped(now)
        if heating != self._heating:
            self._heating = heating
            if heating:
                self._heater_started(now)
            else:
                self._heater_stopped(now)

    def _require(self, what: str, now: int, since: int | None, minimum: int) -> None:
        if since is not None and now - since < minimum:
            self.violations.append(f"{what} at {now} s: {now - since} s, at least {minimum} s")

    def _cooler_started(self, now: int, fridge_constant: bool) -> None:
        m = self.min_times
        self.cooler_starts += 1
        self._require("cooling after boot", now, self.boot_second, m.min_switch_time)
        off = m.min_cool_off_time_fridge_constant if fridge_constant else m.min_cool_off_time
        self._require("cooler off-time", now, self._cooler_off_at, off)
        self._require("heating to cooling switch", now, self._heater_off_at, m.min_switch_time)
        if self._heating:
            self.violations.append(f"cooler and heater on together at {now} s")
        self._cooler_on_at = now

    def _cooler_stopped(self, now: int) -> None:
        self._require("cooler on-time", now, self._cooler_on_at, self.min_times.min_cool_on_time)
        self._cooler_off_at = now

    def _heater_started(self, now: int) -> None:
        m = self.min_times
        self.heater_starts += 1
        self._require("heating after boot", now, self.boot_second, m.min_switch_time)
        self._require("heater off-time", now, self._heater_off_at, m.min_heat_off_time)
        self._require("cooling to heating switch", now, self._cooler_off_at, m.min_switch_time)
        if self._cooling:
            self.violations.append(f"heater and cooler on together at {now} s")
        self._heater_on_at = now

    def _heater_stopped(self, now: int) -> None:
        self._require("heater on-time", now, self._heater_on_at, self.min_times.min_heat_on_time)
        self._heater_off_at = now
