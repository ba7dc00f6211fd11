"""Checks a run of the chamber's outputs against the minimum times that protect the compressor.

Fed the heater's and cooler's state as they change, it counts starts and records every switch
that came sooner than §8.8 allows: on-times, off-times, the wait between heating and cooling,
and the guard after boot. Tests and benchmarks share it, so "0 violations" means one thing.

A mode change is the one thing allowed to cut a run short: the firmware drops to IDLE at once,
without the minimum on-time, and because its state machine last saw that run one tick before the
relay opened, the off-times that follow such a cut may be one second short. Report such a
change with `cut(now)` before the output goes off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fermentrack.firmware.tempcontrol import MinTimes


@dataclass
class _Output:
    name: str
    min_on: int
    min_off: int
    on: bool = False
    on_at: int | None = None
    off_at: int = 0  # boot counts as the moment both outputs last went off (§8.1)
    off_was_cut: bool = False
    starts: int = 0


@dataclass
class SwitchAudit:
    min_times: MinTimes
    violations: list[str] = field(default_factory=list)
    _cuts: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        m = self.min_times
        self._cooler = _Output("cooler", m.min_cool_on_time, m.min_cool_off_time)
        self._heater = _Output("heater", m.min_heat_on_time, m.min_heat_off_time)

    @property
    def cooler_starts(self) -> int:
        return self._cooler.starts

    @property
    def heater_starts(self) -> int:
        return self._heater.starts

    def cut(self, now: int) -> None:
        """A mode change at `now` may end a heating or cooling run early."""
        self._cuts.add(now)

    def observe(self, now: int, heating: bool, cooling: bool, fridge_constant: bool) -> None:
        """The outputs as they are during second `now`; call at least whenever one changes."""
        cooler, heater = self._cooler, self._heater
        # Whatever switched off this second did so before anything switched on.
        for output, on in ((cooler, cooling), (heater, heating)):
            if output.on and not on:
                self._stopped(output, now)
        for output, on, other in ((cooler, cooling, heater), (heater, heating, cooler)):
            if on and not output.on:
                min_off = output.min_off
                if output is cooler and fridge_constant:
                    min_off = max(min_off, self.min_times.min_cool_off_time_fridge_constant)
                self._started(output, other, now, min_off)

    def _stopped(self, output: _Output, now: int) -> None:
        output.on = False
        output.off_was_cut = now in self._cuts
        if not output.off_was_cut:
            self._require(f"{output.name} on-time", now, output.on_at, output.min_on, 0)
        output.off_at = now

    def _started(self, output: _Output, other: _Output, now: int, min_off: int) -> None:
        output.on = True
        output.starts += 1
        output.on_at = now
        own_slack = 1 if output.off_was_cut else 0
        self._require(f"{output.name} off-time", now, output.off_at, min_off, own_slack)
        other_slack = 1 if other.off_was_cut else 0
        switch = f"{other.name} to {output.name} switch"
        self._require(switch, now, other.off_at, self.min_times.min_switch_time, other_slack)
        if other.on:
            self.violations.append(f"heater and cooler on together at {now} s")

    def _require(self, what: str, now: int, since: int | None, minimum: int, slack: int) -> None:
        if since is not None and now - since < minimum - slack:
            self.violations.append(f"{what} at {now} s: {now - since} s, at least {minimum} s")
