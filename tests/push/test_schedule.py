"""When a push target is next due, worked by hand: interval after success, exponential backoff
after failures, the service's own limit, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from fermentrack.push.schedule import (
    backoff_s,
    earliest_send_now,
    next_due,
    retry_after_seconds,
)
from fermentrack.push.services import Service

T = 1_700_000_000.0


def test_after_a_send_the_next_is_one_interval_after_the_attempt():
    assert next_due(Service.GENERIC, 300, T, failures=0) == T + 300
    assert next_due(Service.THINGSPEAK, 60, T, failures=0) == T + 60


def test_a_rate_limited_service_waits_its_limit_plus_the_timeout_whatever_the_row_says():
    # 15 min, plus 10 s so a post that took the whole timeout to arrive is not too early.
    assert next_due(Service.BREWFATHER, 60, T, failures=0) == T + 910
    assert next_due(Service.BREWERS_FRIEND, 1800, T, failures=0) == T + 1800
    assert next_due(Service.GRAINFATHER, 900, T, failures=0) == T + 910


def test_backoff_doubles_from_a_minute_and_stops_at_an_hour():
    assert [backoff_s(n) for n in range(0, 9)] == [0, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff_s(10_000) == 3600


def test_failures_retry_by_backoff_even_before_the_interval():
    # A generic target every 30 min that failed twice is tried again 2 min later.
    assert next_due(Service.GENERIC, 1800, T, failures=2) == T + 120
    assert next_due(Service.GENERIC, 1800, T, failures=7) == T + 3600


def test_failures_never_retry_sooner_than_the_service_takes():
    assert next_due(Service.BREWFATHER, 900, T, failures=1) == T + 910
    assert next_due(Service.BREWFATHER, 900, T, failures=7) == T + 3600


def test_retry_after_is_honoured_when_longer_and_capped_at_a_day():
    assert next_due(Service.GENERIC, 60, T, failures=1, retry_after_s=600) == T + 600
    assert next_due(Service.GENERIC, 60, T, failures=1, retry_after_s=5) == T + 60
    assert next_due(Service.GENERIC, 60, T, failures=1, retry_after_s=10**9) == T + 86400


def test_the_time_scale_divides_every_wait():
    assert next_due(Service.BREWFATHER, 900, T, failures=0, time_scale=60) == T + 910 / 60
    assert next_due(Service.GENERIC, 60, T, failures=3, time_scale=60) == T + 4


def test_send_now_waits_only_for_the_services_own_limit():
    assert earliest_send_now(Service.GENERIC, T, T + 1) == T + 1
    assert earliest_send_now(Service.THINGSPEAK, T, T + 1) == T + 15
    assert earliest_send_now(Service.BREWFATHER, T, T + 100) == T + 910
    assert earliest_send_now(Service.BREWFATHER, None, T) == T


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("120", T) == 120
    date = format_datetime(datetime.fromtimestamp(T + 90, UTC), usegmt=True)
    assert retry_after_seconds(date, T) == 90
    assert retry_after_seconds("soon", T) is None
    assert retry_after_seconds(None, T) is None
