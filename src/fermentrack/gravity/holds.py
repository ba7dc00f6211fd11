"""Holds in a fermentation profile: a point whose temperature is kept until the beer's gravity
says so, or until a time limit passes, with every later point moved on by the time held.

A hold sits on a point. When the schedule reaches that point it stops there, holding the
point's temperature, until its condition is met (`gravity_at_most`: the gravity has fallen to a
target; `gravity_stable`: the gravity stayed within a tolerance for a while) or its time limit
`max_s` has passed, so a dead hydrometer never stalls a beer. Then the schedule carries on, each
later offset shifted by the time held.

Where a run stands is `HoldProgress`: the holds done (point index, seconds held) and the hold
under way (point index, Unix second it began). The controller keeps it, reports it to the web
app, and gets it back in its config after a restart (docs/interfaces-additions.md §1).

Everything here is pure (no clock, no I/O), shared by the controller and the web app.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from fermentrack.brewpi.profile_schedule import DAY, Point, duration_words, setpoint_at
from fermentrack.gravity.hygiene import GRAVITY_LIMITS

GRAVITY_AT_MOST = "gravity_at_most"
GRAVITY_STABLE = "gravity_stable"
HOLD_KINDS = (GRAVITY_AT_MOST, GRAVITY_STABLE)
GRAVITY_POINT = 0.001  # brewers count gravity in points: 1.012 to 1.010 is 2 points
MAX_TOLERANCE_POINTS = 20.0
MAX_HOLD_S = 90 * DAY
READINGS_FOR_MEDIAN = 3  # gravity_reached: the median of this many latest readings
GRAVITY_LOOKBACK_S = 3600  # gravity_at_most looks at the last hour of readings
# gravity_stable: readings must cover the span, with no gap longer than this share of it.
COVERAGE_GAP_SHARE = 1 / 6

Reading = tuple[int, float]  # (Unix seconds, SG)


def gravity_words(sg: float) -> str:
    """An SG as a brewer writes it: 1.012, or 1.0115 when the fourth decimal matters."""
    text = f"{sg:.4f}"
    return text[:-1] if text.endswith("0") else text


def _points_words(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


@dataclass(frozen=True)
class Hold:
    """What a point waits for. `tolerance` is in gravity points (0.001 SG)."""

    until: str
    max_s: int
    gravity: float | None = None  # gravity_at_most: the target SG
    tolerance: float | None = None  # gravity_stable: how far readings may stray, in points
    for_s: int | None = None  # gravity_stable: for how long

    @classmethod
    def from_fields(cls, fields: Mapping[str, object]) -> Hold | None:
        """A hold from the flat fields a point carries (`hold_until`, `hold_gravity`,
        `hold_tolerance`, `hold_for_s`, `hold_max_s`), None when `hold_until` is empty.
        Values are taken as given: check them with `problems()`."""
        until = fields.get("hold_until")
        if not until:
            return None
        return cls(
            until=str(until),
            max_s=fields.get("hold_max_s"),  # type: ignore[arg-type]
            gravity=fields.get("hold_gravity"),  # type: ignore[arg-type]
            tolerance=fields.get("hold_tolerance"),  # type: ignore[arg-type]
            for_s=fields.get("hold_for_s"),  # type: ignore[arg-type]
        )

    def fields(self) -> dict[str, object]:
        """The flat fields of a point carrying this hold (the ones that do not apply: None)."""
        stable = self.until == GRAVITY_STABLE
        return {
            "hold_until": self.until,
            "hold_gravity": None if stable else self.gravity,
            "hold_tolerance": self.tolerance if stable else None,
            "hold_for_s": self.for_s if stable else None,
            "hold_max_s": self.max_s,
        }

    def problems(self) -> list[str]:
        """Every reason this cannot be a hold, in words naming the value and what is expected."""
        problems = []
        if self.until not in HOLD_KINDS:
            return [
                f"hold until {self.until!r} is not a condition: expected {GRAVITY_AT_MOST!r} "
                f"or {GRAVITY_STABLE!r}"
            ]
        why = "every hold needs one (such as 3d), so a silent hydrometer never stalls the beer"
        if self.max_s is None:
            problems.append(f"the hold has no time limit: {why}")
        elif not _whole(self.max_s) or self.max_s <= 0:
            problems.append(f"the hold's time limit {self.max_s!r} is not a time above 0: {why}")
        elif self.max_s > MAX_HOLD_S:
            problems.append(
                f"the hold's time limit {duration_words(self.max_s)} is longer than a hold may "
                f"last ({duration_words(MAX_HOLD_S)})"
            )
        if self.until == GRAVITY_AT_MOST:
            low, high = GRAVITY_LIMITS
            if not _number(self.gravity):
                got = "" if self.gravity is None else f" (got {self.gravity!r})"
                problems.append(f"the hold needs the gravity to wait for, such as 1.012{got}")
            elif not low <= self.gravity <= high:
                problems.append(
                    f"the hold's gravity {self.gravity:g} is outside {low:.3f}…{high:.3f} SG"
                )
        else:
            if self.tolerance is None:
                problems.append("the hold needs a tolerance in gravity points, such as 2 (±0.002)")
            elif not _number(self.tolerance) or not 0 < self.tolerance <= MAX_TOLERANCE_POINTS:
                problems.append(
                    f"the hold's tolerance {self.tolerance!r} is not a number of gravity points "
                    f"above 0 and at most {MAX_TOLERANCE_POINTS:g}, such as 2 (±0.002)"
                )
            if not _whole(self.for_s) or self.for_s <= 0:
                got = "" if self.for_s is None else f" (got {self.for_s!r})"
                problems.append(
                    f"the hold needs how long the gravity must stay steady, such as 1d{got}"
                )
            elif _whole(self.max_s) and self.for_s > self.max_s:
                problems.append(
                    f"the gravity must stay steady for {duration_words(self.for_s)}, longer "
                    f"than the hold's time limit of {duration_words(self.max_s)}: it could "
                    "never end on gravity"
                )
        return problems

    def condition_words(self) -> str:
        """'gravity ≤ 1.012' or 'gravity steady within ±2 points for 1 day'."""
        if self.until == GRAVITY_AT_MOST:
            return f"gravity ≤ {gravity_words(self.gravity)}"
        return (
            f"gravity steady within ±{_points_words(self.tolerance)} "
            f"for {duration_words(self.for_s)}"
        )

    def describe(self) -> str:
        """'until gravity ≤ 1.012 (at most 3 days)'."""
        return f"until {self.condition_words()} (at most {duration_words(self.max_s)})"

    def readings_since(self, since: int, now: float) -> int:
        """The first second of the readings `hold_end` needs for this hold, begun at `since`,
        at `now` (past the time limit, the readings up to the limit)."""
        span = self.for_s if self.until == GRAVITY_STABLE else GRAVITY_LOOKBACK_S
        return int(min(now, since + self.max_s)) - int(span)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


# -- where a run stands ----------------------------------------------------------------------


@dataclass(frozen=True)
class HoldProgress:
    """The holds a run has done, as (point index, seconds held), and the one under way, as
    (point index, Unix second it began), or None."""

    completed: tuple[tuple[int, int], ...] = ()
    holding: tuple[int, int] | None = None

    @property
    def held_s(self) -> int:
        """Seconds the schedule has been held back by the holds done."""
        return sum(held for _, held in self.completed)

    def is_done(self, index: int) -> bool:
        return any(done == index for done, _ in self.completed)

    def begin(self, index: int, since: int) -> HoldProgress:
        return replace(self, holding=(index, since))

    def end(self, held_s: int) -> HoldProgress:
        """The hold under way is done after `held_s` seconds."""
        if self.holding is None:
            raise ValueError("no hold is under way")
        index, _ = self.holding
        return HoldProgress((*self.completed, (index, max(0, int(held_s)))), None)

    def fitted(self, holds: Mapping[int, Hold]) -> HoldProgress:
        """Only what refers to holds the profile has, each done once (a progress kept for
        another version of the profile must not stall or skip this one)."""
        completed: list[tuple[int, int]] = []
        for index, held in self.completed:
            if index in holds and all(done != index for done, _ in completed):
                completed.append((index, held))
        holding = self.holding
        if holding is not None and (holding[0] not in holds or self.is_done(holding[0])):
            holding = None
        return HoldProgress(tuple(completed), holding)

    @classmethod
    def skipping(cls, points: Sequence[Point], holds: Mapping[int, Hold], offset_s: int):
        """The progress of a run started `offset_s` into the profile: holds on earlier points
        count as done without holding (a start at a point keeps that point's own hold)."""
        ordered = sorted(points)
        return cls(
            tuple((index, 0) for index in sorted(holds) if ordered[index][0] < offset_s), None
        )

    def to_json(self) -> dict:
        """{"holds": [{"index", "held_s"}], "holding": {"index", "since"} | null}"""
        return {
            "holds": [{"index": index, "held_s": held} for index, held in self.completed],
            "holding": None
            if self.holding is None
            else {"index": self.holding[0], "since": self.holding[1]},
        }

    @classmethod
    def from_json(cls, data: object, where: str = "progress") -> HoldProgress:
        """The shape `to_json` writes; ValueError naming the field that is wrong."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object, got {data!r}")
        raw_holds = data.get("holds") or []
        if not isinstance(raw_holds, list):
            raise ValueError(f"{where}.holds: expected a list, got {raw_holds!r}")
        completed = []
        for number, item in enumerate(raw_holds):
            index = item.get("index") if isinstance(item, Mapping) else None
            held = item.get("held_s") if isinstance(item, Mapping) else None
            if not _whole(index) or index < 0 or not _whole(held) or held < 0:
                raise ValueError(
                    f'{where}.holds[{number}]: expected {{"index": n, "held_s": s}} with '
                    f"whole numbers >= 0, got {item!r}"
                )
            completed.append((index, held))
        raw_holding = data.get("holding")
        holding = None
        if raw_holding is not None:
            index = raw_holding.get("index") if isinstance(raw_holding, Mapping) else None
            since = raw_holding.get("since") if isinstance(raw_holding, Mapping) else None
            if not _whole(index) or index < 0 or not _whole(since):
                raise ValueError(
                    f'{where}.holding: expected {{"index": n, "since": unix seconds}} or null, '
                    f"got {raw_holding!r}"
                )
            holding = (index, since)
        return cls(tuple(completed), holding)


# -- the schedule with holds -----------------------------------------------------------------


def _first_open_hold(
    points: Sequence[Point], holds: Mapping[int, Hold], progress: HoldProgress
) -> int | None:
    """The index of the first hold not yet done (the one under way, or the next to come)."""
    if progress.holding is not None:
        return progress.holding[0]
    open_holds = [index for index in holds if index < len(points) and not progress.is_done(index)]
    return min(open_holds, default=None)


def schedule_position(
    points: Sequence[Point],
    holds: Mapping[int, Hold],
    started_at: int,
    now: float,
    progress: HoldProgress,
) -> int:
    """Seconds into the profile's own time at `now`: the time since the start less the time
    held, and never past a hold not yet done (the schedule waits there)."""
    ordered = sorted(points)
    position = int(now) - started_at - progress.held_s
    waiting = _first_open_hold(ordered, holds, progress)
    if waiting is not None and (progress.holding is not None or position >= ordered[waiting][0]):
        position = ordered[waiting][0]
    return position


def setpoint_now(
    points: Sequence[Point],
    holds: Mapping[int, Hold],
    started_at: int,
    now: float,
    progress: HoldProgress,
) -> float | None:
    """The beer setting at `now` (as profile_schedule.setpoint_at, holds included)."""
    if not points:
        return None
    return setpoint_at(points, 0, schedule_position(points, holds, started_at, now, progress))


def is_finished_now(
    points: Sequence[Point],
    holds: Mapping[int, Hold],
    started_at: int,
    now: float,
    progress: HoldProgress,
) -> bool:
    """True once the last point is reached and every hold is done (or nothing is left)."""
    ordered = sorted(points)
    if not ordered:
        return True
    if _first_open_hold(ordered, holds, progress) is not None:
        return False
    return schedule_position(ordered, holds, started_at, now, progress) >= ordered[-1][0]


def hold_due(
    points: Sequence[Point],
    holds: Mapping[int, Hold],
    started_at: int,
    now: float,
    progress: HoldProgress,
) -> tuple[int, int] | None:
    """(index, since) of a hold the schedule has reached but that has not begun: `since` is
    the second the schedule reached its point, which may be before `now` (a late tick, or a
    controller that was down), so the hold is timed from there."""
    if progress.holding is not None:
        return None
    ordered = sorted(points)
    waiting = _first_open_hold(ordered, holds, progress)
    if waiting is None:
        return None
    reached_at = started_at + progress.held_s + ordered[waiting][0]
    return (waiting, reached_at) if int(now) >= reached_at else None


def seconds_to_next_change(
    points: Sequence[Point],
    holds: Mapping[int, Hold],
    started_at: int,
    now: float,
    progress: HoldProgress,
) -> float | None:
    """Seconds until the schedule reaches its next point, or until the hold under way reaches
    its time limit; None when nothing is coming (past the last point, no hold open)."""
    if progress.holding is not None:
        index, since = progress.holding
        hold = holds.get(index)
        return None if hold is None else since + hold.max_s - now
    ordered = sorted(points)
    position = now - started_at - progress.held_s
    for offset, _ in ordered:
        if offset > position:
            return offset - position
    return None


def points_with_longest_holds(points: Sequence[Point], holds: Mapping[int, Hold]) -> list[Point]:
    """The schedule if every hold lasted its time limit: each hold becomes a flat stretch of
    its `max_s` after its point (for the preview graph)."""
    shifted: list[Point] = []
    shift = 0
    for index, (offset, temperature) in enumerate(sorted(points)):
        shifted.append((offset + shift, temperature))
        hold = holds.get(index)
        if hold is not None and _whole(hold.max_s) and hold.max_s > 0:
            shift += hold.max_s
            shifted.append((offset + shift, temperature))
    return shifted


# -- the gravity tests -----------------------------------------------------------------------


def _ordered(readings: Sequence[Reading]) -> list[Reading]:
    return sorted((int(ts), float(gravity)) for ts, gravity in readings)


def latest_gravity(readings: Sequence[Reading]) -> float | None:
    """The median of the latest READINGS_FOR_MEDIAN readings (fewer when fewer came)."""
    ordered = _ordered(readings)
    if not ordered:
        return None
    return statistics.median(gravity for _, gravity in ordered[-READINGS_FOR_MEDIAN:])


def gravity_reached(readings: Sequence[Reading], target: float) -> bool:
    """True when the median of the last 3 readings is at most `target` (one low reading, a
    bubble on a Tilt, is not enough; fewer than 3 readings never are)."""
    ordered = _ordered(readings)
    if len(ordered) < READINGS_FOR_MEDIAN:
        return False
    return latest_gravity(ordered) <= target + 1e-9


def gravity_stable(readings: Sequence[Reading], tolerance: float, for_s: int, now: float) -> bool:
    """True when every reading of the last `for_s` seconds lies within `tolerance` gravity
    points of their median, and the readings cover that span: at least 3, and no gap longer
    than a sixth of it (before the first, between two, or after the last)."""
    start = now - for_s
    window = [(ts, gravity) for ts, gravity in _ordered(readings) if start <= ts <= now]
    if len(window) < READINGS_FOR_MEDIAN:
        return False
    allowed_gap = for_s * COVERAGE_GAP_SHARE
    times = [start] + [ts for ts, _ in window] + [now]
    if any(later - earlier > allowed_gap for earlier, later in pairwise(times)):
        return False
    middle = statistics.median(gravity for _, gravity in window)
    limit = tolerance * GRAVITY_POINT + 1e-9
    return all(abs(gravity - middle) <= limit for _, gravity in window)


@dataclass(frozen=True)
class HoldEnd:
    """Why a hold ended: `reason` "gravity" or "time_limit"; `gravity` the latest gravity
    (median of the last readings) when there was one."""

    reason: str
    held_s: int
    gravity: float | None


def hold_end(hold: Hold, since: int, now: float, readings: Sequence[Reading]) -> HoldEnd | None:
    """Whether the hold that began at `since` is over at `now`, given the readings; None while
    it goes on. Past its time limit only readings up to the limit count, so a hold resumed
    late (a controller down for days) ends as it would have ended on time."""
    deadline = since + hold.max_s
    moment = min(int(now), deadline)
    counted = [(ts, gravity) for ts, gravity in _ordered(readings) if ts <= moment]
    if hold.until == GRAVITY_AT_MOST:
        met = gravity_reached(counted, hold.gravity)
    else:
        met = gravity_stable(counted, hold.tolerance, hold.for_s, moment)
    if met:
        return HoldEnd("gravity", moment - since, latest_gravity(counted))
    if now >= deadline:
        return HoldEnd("time_limit", hold.max_s, latest_gravity(counted))
    return None
