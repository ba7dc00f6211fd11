"""Running a fermentation profile: which beer setting to send now, the holds that wait for the
beer's gravity, and the hand-over at the end.

The profile, its start time and the progress of its holds come from the web app's config
(interfaces.md §1, docs/interfaces-additions.md §1), so the place in the profile survives a
controller restart or a reboot: the setting is always computed from the stored start time, the
time held and the clock, never from a count kept in memory (brewpi-protocol §10).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fermentrack.brewpi.profile_schedule import DAY, HOUR, duration_words
from fermentrack.gravity.holds import (
    GRAVITY_AT_MOST,
    GRAVITY_LOOKBACK_S,
    Hold,
    HoldEnd,
    HoldProgress,
    Reading,
    hold_due,
    hold_end,
    is_finished_now,
    seconds_to_next_change,
    setpoint_now,
)

PROFILE_TICK_S = 30  # Fermentrack steps a running profile every 30 s (§10)
HOLD_FIELDS = ("hold_until", "hold_gravity", "hold_tolerance", "hold_for_s", "hold_max_s")


@dataclass(frozen=True)
class Profile:
    """A profile as the config gives it: temperatures are in the device's unit; `holds` pairs
    a point's index (in offset order) with its hold; `progress` is where the run stood when
    the config was written (not part of what the profile is, so left out of comparisons)."""

    id: int
    started_at: int
    points: tuple[tuple[int, float], ...]
    holds: tuple[tuple[int, Hold], ...] = ()
    progress: HoldProgress = field(default=HoldProgress(), compare=False)

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
            hold = Hold.from_fields(point)
            if hold is not None:
                problems = hold.problems()
                if problems:
                    raise ValueError(f"profile.points[{index}] hold: {'; '.join(problems)}")
            points.append((offset, float(temperature), hold))
        points.sort(key=lambda point: point[0])
        holds = tuple((index, hold) for index, (_, _, hold) in enumerate(points) if hold)
        progress = HoldProgress.from_json(data.get("progress"), "profile.progress")
        return cls(
            int(profile_id),
            int(started_at),
            tuple((offset, temperature) for offset, temperature, _ in points),
            holds,
            progress.fitted(dict(holds)),
        )

    @property
    def name(self) -> str:
        return f"Profile {self.id}"

    @property
    def hold_map(self) -> dict[int, Hold]:
        return dict(self.holds)

    def same_run(self, other: Profile | None) -> bool:
        """The same profile started at the same second: its progress carries over."""
        return other is not None and (other.id, other.started_at) == (self.id, self.started_at)


def beer_setting(
    profile: Profile, now: float, progress: HoldProgress | None = None
) -> float | None:
    """The beer setting at `now`, rounded to 0.1 degree as Fermentrack rounds it; None when the
    profile has no points."""
    progress = profile.progress if progress is None else progress
    value = setpoint_now(profile.points, profile.hold_map, profile.started_at, now, progress)
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class ProfileStep:
    """What to do at one tick: the `j{...}` values to send (None: nothing) and an annotation."""

    settings: dict[str, object] | None = None
    annotation: str | None = None
    finished: bool = False


def run_profile_step(
    profile: Profile,
    now: float,
    current_beer_set: float | None,
    unit: str,
    progress: HoldProgress | None = None,
) -> ProfileStep:
    """One tick of a running profile, given the firmware's current beer setting (device unit).

    Sends `beerSet` when the setting changed (compared rounded to 0.01, as Fermentrack does);
    once past the last point with every hold done, hands over to beer constant at the last
    temperature.
    """
    if not profile.points:
        return ProfileStep()
    progress = profile.progress if progress is None else progress
    if is_finished_now(profile.points, profile.hold_map, profile.started_at, now, progress):
        last = round(profile.points[-1][1], 1)
        return ProfileStep(
            settings={"mode": "b", "beerSet": last},
            annotation=f"{profile.name} finished; holding {last:.1f} °{unit}",
            finished=True,
        )
    value = beer_setting(profile, now, progress)
    if value is None or (current_beer_set is not None and round(current_beer_set, 2) == value):
        return ProfileStep()
    return ProfileStep(settings={"beerSet": value})


def seconds_to_next_point(
    profile: Profile, now: float, progress: HoldProgress | None = None
) -> float | None:
    """Seconds until the profile reaches its next point (a step or the end) or the hold under
    way reaches its time limit, or None when nothing is coming: a step in the profile is
    applied on time, not up to a tick late."""
    progress = profile.progress if progress is None else progress
    return seconds_to_next_change(
        profile.points, profile.hold_map, profile.started_at, now, progress
    )


def held_words(seconds: float) -> str:
    """How long a hold lasted, as a brewer says it: '40 s', '25 minutes', '5.5 hours',
    '2.3 days'."""
    if seconds < 120:
        return f"{round(seconds)} s"
    if seconds < 2 * HOUR:
        return f"{round(seconds / 60)} minutes"
    if seconds < 2 * DAY:
        return f"{seconds / HOUR:.1f} hours"
    return f"{seconds / DAY:.1f} days"


class ProfileRunner:
    """The profile a device runs, in the device's unit, and how far its holds have got; the
    profile is None while no profile is active."""

    def __init__(
        self,
        profile: Profile | None = None,
        unit: str = "C",
        *,
        progress: HoldProgress | None = None,
        tick_s: float = PROFILE_TICK_S,
    ) -> None:
        self.profile = profile
        self.unit = unit
        self.tick_s = tick_s
        if profile is None:
            self.progress = HoldProgress()
        else:
            self.progress = (profile.progress if progress is None else progress).fitted(
                profile.hold_map
            )

    def step(self, now: float, current_beer_set: float | None) -> ProfileStep:
        if self.profile is None:
            return ProfileStep()
        return run_profile_step(self.profile, now, current_beer_set, self.unit, self.progress)

    def setting_now(self, now: float) -> float | None:
        return None if self.profile is None else beer_setting(self.profile, now, self.progress)

    def seconds_to_next_tick(self, now: float) -> float:
        """Every tick_s, or sooner when the profile reaches a point (or a hold its time limit)
        before then."""
        if self.profile is None:
            return self.tick_s
        to_point = seconds_to_next_point(self.profile, now, self.progress)
        if to_point is None or to_point <= 0:  # a hold past its limit ends at the next tick
            return self.tick_s
        return max(0.1, min(self.tick_s, to_point))

    def report(self) -> dict | None:
        """The progress of the run for the status (`profile_progress`), or None."""
        if self.profile is None:
            return None
        return {"id": self.profile.id, "started_at": self.profile.started_at} | (
            self.progress.to_json()
        )

    # -- holds --------------------------------------------------------------------------------

    def begin_due_hold(self, now: float) -> str | None:
        """Begin the hold the schedule has reached, if any; its annotation."""
        profile = self.profile
        if profile is None:
            return None
        due = hold_due(profile.points, profile.hold_map, profile.started_at, now, self.progress)
        if due is None:
            return None
        index, since = due
        self.progress = self.progress.begin(index, since)
        hold = profile.hold_map[index]
        temperature = profile.points[index][1]
        return f"{profile.name}: holding at {temperature:.1f} °{self.unit} {hold.describe()}"

    def hold_under_way(self) -> tuple[Hold, int] | None:
        """The hold being held and the second it began."""
        if self.profile is None or self.progress.holding is None:
            return None
        index, since = self.progress.holding
        return self.profile.hold_map[index], since

    def end_hold_if_over(self, now: float, readings: Sequence[Reading] | None) -> str | None:
        """End the hold under way when its gravity condition is met or its time is up; the
        annotation then, None while it goes on. `readings` None: the web app gave none (the
        hold goes on until its limit)."""
        under_way = self.hold_under_way()
        if under_way is None:
            return None
        hold, since = under_way
        ended = hold_end(hold, since, now, readings or [])
        if ended is None:
            return None
        self.progress = self.progress.end(ended.held_s)
        return f"{self.profile.name}: {_hold_ended_words(hold, ended, readings is not None)}"


def _hold_ended_words(hold: Hold, ended: HoldEnd, web_answered: bool) -> str:
    gravity = None if ended.gravity is None else f"{ended.gravity:.3f}"
    if ended.reason == "gravity":
        if hold.until == GRAVITY_AT_MOST:
            return f"gravity {gravity} reached after {held_words(ended.held_s)}; continuing"
        return (
            f"gravity steady at {gravity} (within ±{hold.tolerance:g} points for "
            f"{duration_words(hold.for_s)}) after {held_words(ended.held_s)}; continuing"
        )
    if gravity is not None:
        why = f"gravity {gravity}, not {hold.condition_words().removeprefix('gravity ')}"
    elif not web_answered:
        why = "the web app gave no gravity readings"
    else:
        span = GRAVITY_LOOKBACK_S if hold.until == GRAVITY_AT_MOST else hold.for_s
        why = f"no gravity for {duration_words(span)}"
    return f"hold ended at its time limit ({why}); continuing"
