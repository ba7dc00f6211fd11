"""Running a fermentation profile: which beer setting to send now, and the hand-over at its end.

The profile and its start time come from the web app's config (interfaces.md §1), so the place in
the profile survives a controller restart or a reboot: the setting is always computed from the
stored start time and the clock, never from a count kept in memory (brewpi-protocol §10).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fermentrack.brewpi.profile_schedule import is_finished, setpoint_at

PROFILE_TICK_S = 30  # Fermentrack steps a running profile every 30 s (§10)


@dataclass(frozen=True)
class Profile:
    """A profile as the config gives it: temperatures are in the device's unit."""

    id: int
    started_at: int
    points: tuple[tuple[int, float], ...]

    @classmethod
    def from_config(cls, data: Mapping[str, object]) -> Profile:
        """The `profile` object of the config; ValueError naming the field that is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"profile: expected an object, got {type(data).__name__}")
        profile_id, started_at = data.get("id"), data.get("started_at")
        if isinstance(profile_id, bool) or not isinstance(profile_id, int):
            raise ValueError(f"profile.id: expected a whole number, got {profile_id!r}")
        if isinstance(started_at, bool) or not isinstance(started_at, int | float):
            raise ValueError(f"profile.started_at: expected Unix seconds, got {started_at!r}")
        raw_points = data.get("points")
        if not isinstance(raw_points, Sequence) or isinstance(raw_points, str):
            raise ValueError(f"profile.points: expected a list, got {raw_points!r}")
        points = []
        for index, point in enumerate(raw_points):
            offset = point.get("offset_s") if isinstance(point, Mapping) else None
            temperature = point.get("temperature") if isinstance(point, Mapping) else None
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise ValueError(
                    f"profile.points[{index}].offset_s: expected seconds >= 0, got {offset!r}"
                )
            if isinstance(temperature, bool) or not isinstance(temperature, int | float):
                raise ValueError(
                    f"profile.points[{index}].temperature: expected a number, got {temperature!r}"
                )
            points.append((offset, float(temperature)))
        return cls(int(profile_id), int(started_at), tuple(sorted(points)))

    @property
    def name(self) -> str:
        return f"Profile {self.id}"


def beer_setting(profile: Profile, now: float) -> float | None:
    """The beer setting at `now`, rounded to 0.1 degree as Fermentrack rounds it; None when the
    profile has no points."""
    value = setpoint_at(profile.points, profile.started_at, int(now))
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class ProfileStep:
    """What to do at one tick: the `j{...}` values to send (None: nothing) and an annotation."""

    settings: dict[str, object] | None = None
    annotation: str | None = None
    finished: bool = False


def run_profile_step(
    profile: Profile, now: float, current_beer_set: float | None, unit: str
) -> ProfileStep:
    """One tick of a running profile, given the firmware's current beer setting (device unit).

    Sends `beerSet` when the setting changed (compared rounded to 0.01, as Fermentrack does);
    once past the last point, hands over to beer constant at the last temperature.
    """
    if not profile.points:
        return ProfileStep()
    if is_finished(profile.points, profile.started_at, int(now)):
        last = round(profile.points[-1][1], 1)
        return ProfileStep(
            settings={"mode": "b", "beerSet": last},
            annotation=f"{profile.name} finished; holding {last:.1f} °{unit}",
            finished=True,
        )
    value = beer_setting(profile, now)
    if value is None or (current_beer_set is not None and round(current_beer_set, 2) == value):
        return ProfileStep()
    return ProfileStep(settings={"beerSet": value})


def seconds_to_next_point(profile: Profile, now: float) -> float | None:
    """Seconds until the profile reaches its next point (a step or the end), or None past the
    last one: a step in the profile is applied on time, not up to a tick late."""
    elapsed = now - profile.started_at
    for offset, _ in profile.points:
        if offset > elapsed:
            return offset - elapsed
    return None


class ProfileRunner:
    """The profile a device runs, in the device's unit; None while no profile is active."""

    def __init__(self, profile: Profile | None = None, unit: str = "C") -> None:
        self.profile = profile
        self.unit = unit

    def step(self, now: float, current_beer_set: float | None) -> ProfileStep:
        if self.profile is None:
            return ProfileStep()
        return run_profile_step(self.profile, now, current_beer_set, self.unit)

    def setting_now(self, now: float) -> float | None:
        return None if self.profile is None else beer_setting(self.profile, now)

    def seconds_to_next_tick(self, now: float) -> float:
        """Every PROFILE_TICK_S, or sooner when the profile reaches a point before then."""
        if self.profile is None:
            return PROFILE_TICK_S
        to_point = seconds_to_next_point(self.profile, now)
        return PROFILE_TICK_S if to_point is None else max(0.1, min(PROFILE_TICK_S, to_point))
