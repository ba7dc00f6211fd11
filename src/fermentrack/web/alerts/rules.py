"""When an alert fires and when it recovers: pure functions of the facts, the rule's state and
`now` (no Django, no clock, no I/O), so every timeline can be worked out by hand in a test.

Each kind first judges the facts: the condition is BAD (since a given second), CLEAR, or
UNCLEAR (data missing or stale, or a value inside the hysteresis margin). Then `decide` turns
the judgement and the rule's state into fire / recover / nothing:

- a rule that is not firing fires once the condition has been BAD for the rule's duration (a
  single spike is BAD for no time at all, so it never fires); until then it is pending;
- a firing rule recovers once, when the condition is CLEAR; UNCLEAR never changes a firing rule
  (missing data is not "in band") and never fires one.

Hysteresis, so an alert does not flap on a value sitting at its limit: a temperature band
recovers only inside the band narrowed by 0.3 °C (0.5 °F) on each side, at most a quarter of
the band's width; a battery recovers at 0.05 V above its limit; a stable gravity recovers when a
reading strays twice the tolerance from the median.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

# The kinds of rule (AlertRule.kind holds these values).
CONTROLLER_SILENT = "controller_silent"
HYDROMETER_SILENT = "hydrometer_silent"
TEMPERATURE_BAND = "temperature_band"
GRAVITY_STABLE = "gravity_stable"
BATTERY_LOW = "battery_low"
KINDS = (CONTROLLER_SILENT, HYDROMETER_SILENT, TEMPERATURE_BAND, GRAVITY_STABLE, BATTERY_LOW)

BAND_HYSTERESIS = {"C": 0.3, "F": 0.5}  # degrees, each side of the band
BATTERY_HYSTERESIS_V = 0.05
GRAVITY_POINT = 0.001  # gravity is counted in points: 1.012 to 1.010 is 2 points
GRAVITY_MIN_READINGS = 3
GRAVITY_COVERAGE_GAP_SHARE = 1 / 6  # the readings cover the span with no longer gap than this
GRAVITY_RECOVERY_FACTOR = 2  # a stable gravity moves again past this many tolerances

Sample = tuple[int, float | None]  # (Unix seconds, value); None: the value was not measured


class Condition(StrEnum):
    BAD = "bad"
    CLEAR = "clear"
    UNCLEAR = "unclear"


class State(StrEnum):
    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"


class Action(StrEnum):
    FIRE = "fired"
    RECOVER = "recovered"


@dataclass(frozen=True)
class Judgement:
    """What the facts say: `since` is when a BAD condition began; `value` the latest value."""

    condition: Condition
    since: int | None = None
    value: float | None = None

    @classmethod
    def unclear(cls, value: float | None = None) -> Judgement:
        return cls(Condition.UNCLEAR, None, value)


@dataclass(frozen=True)
class Decision:
    """The rule's new state (and since when), and what to send: an Action, or None."""

    state: State
    since: int | None
    action: Action | None = None


def decide(
    state: State, state_since: int | None, judgement: Judgement, duration_s: int, now: int
) -> Decision:
    """Fire once after the condition held `duration_s`; recover once when it clears."""
    if state == State.FIRING:
        if judgement.condition == Condition.CLEAR:
            return Decision(State.OK, now, Action.RECOVER)
        return Decision(State.FIRING, state_since)
    if judgement.condition == Condition.BAD and judgement.since is not None:
        if now - judgement.since >= duration_s:
            return Decision(State.FIRING, now, Action.FIRE)
        return Decision(State.PENDING, judgement.since)
    if judgement.condition == Condition.UNCLEAR and state == State.PENDING:
        # Missing data is neither bad nor good: a pending rule waits, as it was.
        return Decision(State.PENDING, state_since)
    return Decision(State.OK, state_since if state == State.OK else now)


# -- judging the facts ---------------------------------------------------------------------------


def judge_silence(
    last_seen: int | None, watched_since: int, duration_s: int, now: int
) -> Judgement:
    """Silent when nothing came for `duration_s`: from the last contact, or from when the rule
    began watching (`watched_since`) for a subject never heard at all."""
    since = last_seen if last_seen is not None else watched_since
    silence = now - since
    if silence >= duration_s:
        return Judgement(Condition.BAD, since, float(silence))
    return Judgement(Condition.CLEAR, None, float(silence))


def judge_samples(
    samples: Sequence[Sample],
    is_bad: Callable[[float], bool],
    is_clear: Callable[[float], bool],
    now: int,
    stale_after_s: int,
) -> Judgement:
    """BAD since the first sample of the unbroken run of bad samples that ends with the latest;
    CLEAR when the latest is clear; UNCLEAR when no sample is newer than `stale_after_s`, or the
    latest is neither (the hysteresis margin). Unmeasured samples are skipped, and a gap longer
    than `stale_after_s` between two samples breaks a run."""
    measured = sorted((int(ts), float(value)) for ts, value in samples if value is not None)
    measured = [(ts, value) for ts, value in measured if ts <= now]
    if not measured or now - measured[-1][0] > stale_after_s:
        return Judgement.unclear()
    latest_ts, latest = measured[-1]
    if is_bad(latest):
        since = latest_ts
        for (later_ts, _), (earlier_ts, earlier) in pairwise(reversed(measured)):
            if not is_bad(earlier) or later_ts - earlier_ts > stale_after_s:
                break
            since = earlier_ts
        return Judgement(Condition.BAD, since, latest)
    if is_clear(latest):
        return Judgement(Condition.CLEAR, None, latest)
    return Judgement.unclear(latest)


def band_hysteresis(low: float, high: float, unit: str) -> float:
    return min(BAND_HYSTERESIS.get(unit, BAND_HYSTERESIS["C"]), (high - low) / 4)


def judge_band(
    samples: Sequence[Sample], low: float, high: float, unit: str, now: int, stale_after_s: int
) -> Judgement:
    """Outside [low, high] is bad; back inside the band narrowed by the hysteresis is clear."""
    margin = band_hysteresis(low, high, unit)
    return judge_samples(
        samples,
        lambda value: value < low or value > high,
        lambda value: low + margin <= value <= high - margin,
        now,
        stale_after_s,
    )


def judge_battery_volts(
    samples: Sequence[Sample], limit_v: float, now: int, stale_after_s: int
) -> Judgement:
    return judge_samples(
        samples,
        lambda volts: volts < limit_v,
        lambda volts: volts >= limit_v + BATTERY_HYSTERESIS_V,
        now,
        stale_after_s,
    )


def judge_battery_weeks(
    samples: Sequence[Sample], limit_weeks: float, now: int, stale_after_s: int
) -> Judgement:
    """A Tilt counts the weeks since its battery was fitted: a new battery starts again at 0."""
    return judge_samples(
        samples,
        lambda weeks: weeks > limit_weeks,
        lambda weeks: weeks <= limit_weeks,
        now,
        stale_after_s,
    )


def judge_gravity_stable(
    readings: Sequence[tuple[int, float]], tolerance_points: float, for_s: int, now: int
) -> Judgement:
    """BAD ("done") when every reading of the last `for_s` seconds lies within the tolerance of
    their median and they cover that span (at least 3, no gap over a sixth of it before the
    first, between two, or after the last): BAD since the span began, so it fires at once.
    CLEAR when a covered span strays twice the tolerance; UNCLEAR when the span is not covered
    or the spread lies between the two."""
    start = now - for_s
    window = sorted((int(ts), float(sg)) for ts, sg in readings if start <= ts <= now)
    if len(window) < GRAVITY_MIN_READINGS:
        return Judgement.unclear()
    times = [start] + [ts for ts, _ in window] + [now]
    if any(
        later - earlier > for_s * GRAVITY_COVERAGE_GAP_SHARE for earlier, later in pairwise(times)
    ):
        return Judgement.unclear(window[-1][1])
    middle = statistics.median(sg for _, sg in window)
    spread = max(abs(sg - middle) for _, sg in window)
    limit = tolerance_points * GRAVITY_POINT
    if spread <= limit + 1e-9:
        return Judgement(Condition.BAD, start, middle)
    if spread > GRAVITY_RECOVERY_FACTOR * limit + 1e-9:
        return Judgement(Condition.CLEAR, None, window[-1][1])
    return Judgement.unclear(window[-1][1])


# -- a rule as a whole ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSettings:
    """What a rule watches for. `duration_s`: how long the condition must hold (for a stable
    gravity, the span it must stay steady over). `unit`: of `low`/`high` ('C' or 'F').
    `battery_unit`: 'V' (an iSpindel's volts, below `limit`) or 'weeks' (a Tilt's battery age,
    above `limit`)."""

    kind: str
    subject: str  # in words: "chamber-1", "Pale Ale (chamber-1)", "Purple Tilt"
    duration_s: int
    low: float | None = None
    high: float | None = None
    unit: str = "C"
    tolerance_points: float | None = None
    limit: float | None = None
    battery_unit: str = "V"


@dataclass(frozen=True)
class Facts:
    """What the database says about the subject. `last_seen`: the last contact (silence kinds);
    `watched_since`: when the rule began watching; `samples`: (ts, value) of the beer
    temperature in the rule's unit, or of the battery; `readings`: (ts, SG) that count;
    `stale_after_s`: a sample older than this is missing data. `missing`: the subject is gone."""

    now: int
    last_seen: int | None = None
    watched_since: int = 0
    samples: Sequence[Sample] = ()
    readings: Sequence[tuple[int, float]] = ()
    stale_after_s: int = 600
    missing: bool = False


def judge(rule: RuleSettings, facts: Facts) -> Judgement:
    if facts.missing:
        return Judgement.unclear()
    now = facts.now
    if rule.kind in (CONTROLLER_SILENT, HYDROMETER_SILENT):
        return judge_silence(facts.last_seen, facts.watched_since, rule.duration_s, now)
    if rule.kind == TEMPERATURE_BAND:
        return judge_band(facts.samples, rule.low, rule.high, rule.unit, now, facts.stale_after_s)
    if rule.kind == GRAVITY_STABLE:
        return judge_gravity_stable(facts.readings, rule.tolerance_points, rule.duration_s, now)
    if rule.kind == BATTERY_LOW:
        if rule.battery_unit == "weeks":
            return judge_battery_weeks(facts.samples, rule.limit, now, facts.stale_after_s)
        return judge_battery_volts(facts.samples, rule.limit, now, facts.stale_after_s)
    raise ValueError(f"alert kind {rule.kind!r} is not one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    message: str | None  # what to send, when the decision has an action


def evaluate(rule: RuleSettings, facts: Facts, state: State, state_since: int | None) -> Outcome:
    """Judge the facts, decide, and word the message when there is something to send."""
    judgement = judge(rule, facts)
    decision = decide(state, state_since, judgement, rule.duration_s, facts.now)
    if decision.action is None:
        return Outcome(decision, None)
    return Outcome(decision, message(rule, judgement, decision.action, facts.now))


def message(
    rule: RuleSettings,
    judgement: Judgement,
    action: Action,
    now: int,
) -> str:
    """The alert in plain words, with the values."""
    fired = action == Action.FIRE
    value = judgement.value
    if rule.kind == CONTROLLER_SILENT:
        if fired:
            return (
                f"Controller {rule.subject} has sent no readings for {duration_words(value)}: "
                "the controller, its firmware or the link between them is down."
            )
        return f"Controller {rule.subject} is sending readings again."
    if rule.kind == HYDROMETER_SILENT:
        if fired:
            return f"Hydrometer {rule.subject} has not been heard from for {duration_words(value)}."
        return f"Hydrometer {rule.subject} is reporting again."
    if rule.kind == TEMPERATURE_BAND:
        temperature = temperature_words(value, rule.unit)
        if fired:
            side, limit = ("above", rule.high) if value > rule.high else ("below", rule.low)
            return (
                f"Beer temperature of {rule.subject} has been {temperature}, {side} "
                f"{temperature_words(limit, rule.unit)}, "
                f"for {duration_words(now - judgement.since)}."
            )
        return (
            f"Beer temperature of {rule.subject} is back within {rule.low:.1f}–{rule.high:.1f} "
            f"°{rule.unit}: {temperature}."
        )
    if rule.kind == GRAVITY_STABLE:
        if fired:
            return (
                f"Gravity of {rule.subject} has stayed at {gravity_words(value)} (within "
                f"±{rule.tolerance_points:g} points) for {duration_words(rule.duration_s)}: "
                "fermentation looks done."
            )
        return f"Gravity of {rule.subject} is moving again: {gravity_words(value)}."
    if rule.battery_unit == "weeks":
        if fired:
            return (
                f"Battery of {rule.subject} is {value:g} weeks old, over {rule.limit:g} weeks: "
                "time to change it."
            )
        return f"Battery of {rule.subject} is fine again: {value:g} weeks old."
    if fired:
        return (
            f"Battery of {rule.subject} is at {value:.2f} V, below {rule.limit:.2f} V: "
            "time to charge it."
        )
    return f"Battery of {rule.subject} is fine again: {value:.2f} V."


# -- words ---------------------------------------------------------------------------------------


def duration_words(seconds: float) -> str:
    """'45 seconds', '15 minutes', '3 hours', '2 days 4 hours': as precise as a message needs."""
    seconds = max(0, round(seconds))
    if seconds < 120:
        return _count(seconds, "second")
    minutes = round(seconds / 60)
    if minutes < 120:
        return _count(minutes, "minute")
    hours = round(seconds / 3600)
    if hours < 48:
        return _count(hours, "hour")
    days, hours = divmod(hours, 24)
    return _count(days, "day") + (f" {_count(hours, 'hour')}" if hours else "")


def _count(number: int, name: str) -> str:
    return f"{number} {name}" + ("" if number == 1 else "s")


def gravity_words(sg: float) -> str:
    return f"{sg:.3f}"


def temperature_words(value: float, unit: str) -> str:
    return f"{value:.1f} °{unit}"
