"""When a push target is next due: its interval after a send that went through, exponential
backoff after failures, never sooner than the service takes, and a 429's Retry-After honoured.

Times are Unix seconds. `time_scale` divides every wait (FERMENTRACK_PUSH_TIME_SCALE, for
tests): at 60, a 15-minute interval passes in 15 s.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from fermentrack.push.services import LIMIT_MARGIN_S, RATE_LIMITED, Service

BACKOFF_FIRST_S = 60  # the wait after the first failure; it doubles with each one after
BACKOFF_CAP_S = 3600  # ... up to an hour
RETRY_AFTER_CAP_S = 24 * 3600  # a Retry-After beyond a day is a service's mistake, not a plan
THINGSPEAK_LIMIT_S = 15  # one update per channel per 15 s (free licence)


def service_limit_s(service: Service) -> float:
    """The least time between two posts that the service itself takes (not our menu)."""
    if service in RATE_LIMITED:
        return service.min_interval_s + LIMIT_MARGIN_S
    if service == Service.THINGSPEAK:
        return THINGSPEAK_LIMIT_S
    return 0


def backoff_s(failures: int) -> int:
    """1, 2, 4, 8, 16, 32 min, then an hour for ever, after that many failures in a row."""
    if failures <= 0:
        return 0
    return min(BACKOFF_FIRST_S * 2 ** min(failures - 1, 16), BACKOFF_CAP_S)


def next_due(
    service: Service,
    interval_s: int,
    last_attempt: float,
    failures: int,
    retry_after_s: float | None = None,
    time_scale: float = 1.0,
) -> float:
    """When to send next, after an attempt at `last_attempt` that left `failures` failures in
    a row (0: it went through, or there was nothing to send)."""
    limit = service_limit_s(service)
    if failures <= 0:
        wait = max(interval_s, service.min_interval_s, limit)
    else:
        wait = max(backoff_s(failures), limit)
    if retry_after_s is not None and retry_after_s > 0:
        wait = max(wait, min(retry_after_s, RETRY_AFTER_CAP_S))
    return last_attempt + wait / time_scale


def earliest_send_now(
    service: Service, last_attempt: float | None, now: float, time_scale: float = 1.0
) -> float:
    """'Send now' as soon as the service allows: now, unless its own limit since the last
    attempt has not passed yet."""
    if last_attempt is None:
        return now
    return max(now, last_attempt + service_limit_s(service) / time_scale)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from `now`; None when it is
    missing or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)
