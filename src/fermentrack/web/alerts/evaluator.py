"""One round of the alerter: the facts of every enabled rule from the database, judged by the
pure rule logic (rules.py); a changed state is stored, and a firing or recovery becomes an
AlertEvent whose deliveries delivery.py sends."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Max

from fermentrack.gravity.units import c_to_f, f_to_c
from fermentrack.web.alerts import rules
from fermentrack.web.alerts.models import AlertEvent, AlertKind, AlertRule
from fermentrack.web.beers.models import LogPoint
from fermentrack.web.gravity.models import TILT_KINDS, GravityReading

log = logging.getLogger("fermentrack.alerts")

STALE_INTERVALS = 3  # a sample older than this many report intervals is missing data
MIN_STALE_S = 30


def _in_unit(value: float | None, unit_of_value: str, unit: str) -> float | None:
    if value is None or unit_of_value == unit:
        return value
    return c_to_f(value) if unit == "F" else f_to_c(value)


def facts_for(rule: AlertRule, now: int) -> rules.Facts:
    """What the database says about the rule's subject at `now`."""
    watched = rule.watched_since
    if rule.kind == AlertKind.CONTROLLER_SILENT:
        device = rule.device
        if device is None or not device.active:  # no controller is meant to run
            return rules.Facts(now=now, missing=True)
        # Heard from = a reading arrived. A controller that still posts its status but sends no
        # readings (its firmware stopped, the cable out) leaves the chamber uncontrolled too.
        last_point = LogPoint.objects.filter(device=device).aggregate(last=Max("ts"))["last"]
        return rules.Facts(now=now, last_seen=last_point, watched_since=watched)

    if rule.kind == AlertKind.TEMPERATURE_BAND:
        beer = rule.beer
        device = beer.device if beer is not None else rule.device
        if device is None or (beer is not None and not beer.is_active):
            return rules.Facts(now=now, missing=True)
        stale_after = max(MIN_STALE_S, STALE_INTERVALS * device.log_interval_s)
        # Twice the rule's time, so a message can say how long a run has lasted.
        start = now - 2 * rule.duration_s - 2 * stale_after
        if beer is not None:
            start = max(start, beer.started_at)
        points = LogPoint.objects.filter(device=device, ts__gte=start, ts__lte=now).values_list(
            "ts", "beer_temp", "temp_format"
        )
        samples = [(ts, _in_unit(temp, unit, rule.temp_format)) for ts, temp, unit in points]
        return rules.Facts(now=now, samples=samples, stale_after_s=stale_after)

    sensor = rule.sensor
    if sensor is None or not sensor.active:
        return rules.Facts(now=now, missing=True)
    readings = GravityReading.objects.filter(sensor=sensor)
    if rule.kind == AlertKind.HYDROMETER_SILENT:
        last = readings.aggregate(last=Max("ts"))["last"]
        return rules.Facts(now=now, last_seen=last, watched_since=watched)

    if rule.kind == AlertKind.GRAVITY_STABLE:
        window = readings.filter(
            ts__gte=now - rule.duration_s, ts__lte=now, hidden=False, outlier=False
        ).values_list("ts", "gravity", "corrected_gravity")
        counted = [
            (ts, corrected if corrected is not None else gravity)
            for ts, gravity, corrected in window
            if corrected is not None or gravity is not None
        ]
        return rules.Facts(now=now, readings=counted)

    # A low battery.
    stale_after = max(MIN_STALE_S, STALE_INTERVALS * sensor.expected_interval_s)
    recent = readings.filter(ts__gte=now - rule.duration_s - 2 * stale_after, ts__lte=now)
    if sensor.kind in TILT_KINDS:
        samples = [
            (ts, extra.get("battery_weeks") if isinstance(extra, dict) else None)
            for ts, extra in recent.values_list("ts", "extra")
        ]
        samples = [(ts, weeks if isinstance(weeks, int | float) else None) for ts, weeks in samples]
    else:
        samples = list(recent.values_list("ts", "battery"))
    return rules.Facts(now=now, samples=samples, stale_after_s=stale_after)


def check_rule(rule: AlertRule, now: int) -> AlertEvent | None:
    """Judge one rule at `now`; store its new state; the event it fired or recovered, if any."""
    outcome = rules.evaluate(
        rule.settings(), facts_for(rule, now), rules.State(rule.state), rule.state_since
    )
    decision = outcome.decision
    event = None
    with transaction.atomic():
        if (decision.state, decision.since) != (rule.state, rule.state_since):
            # Only over the state this round judged from: a person who saved the rule meanwhile
            # may have started it afresh, and an old judgement must not overwrite that.
            updated = AlertRule.objects.filter(
                pk=rule.pk,
                state=rule.state,
                state_since=rule.state_since,
                watched_since=rule.watched_since,
            ).update(state=decision.state.value, state_since=decision.since)
            if not updated:
                log.info("rule %s changed while it was checked: it is checked again", rule.pk)
                return None
            rule.state, rule.state_since = decision.state.value, decision.since
        if decision.action is not None:
            event = AlertEvent.record(rule, decision.action, outcome.message, now)
    if event is not None:
        log.info("rule %s %s: %s", rule.pk, decision.action.value, outcome.message)
    return event


def check_rules(now: int) -> list[AlertEvent]:
    """One round over every enabled rule; a rule that cannot be judged is logged and skipped."""
    events = []
    enabled = AlertRule.objects.filter(enabled=True).select_related(
        "device", "beer", "beer__device", "sensor"
    )
    for rule in enabled:
        try:
            event = check_rule(rule, now)
        except Exception:
            log.exception("rule %s (%s) could not be checked", rule.pk, rule.kind)
            continue
        if event is not None:
            events.append(event)
    return events
