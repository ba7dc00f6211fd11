"""The alerter against database rows: each kind judged from what the database holds (the kinds
the end-to-end test does not drive: hydrometer silent, gravity stable, low battery, and a beer's
band), and sending: every channel gets the alert, a failing channel is retried with backoff and
never stops the others, and each result is recorded in the history."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest
from django.core.management import call_command

from fermentrack.web.alerts import delivery, rules
from fermentrack.web.alerts.evaluator import check_rule, check_rules
from fermentrack.web.alerts.models import AlertEvent, AlertRule
from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.gravity.models import GravityReading

pytestmark = pytest.mark.django_db
NOW = 1_700_000_000


def rule(**fields) -> AlertRule:
    return AlertRule.objects.create(**({"webhook_url": "http://127.0.0.1:9/x"} | fields))


def kinds_sent(at: int) -> list[str]:
    return [event.kind for event in check_rules(at)]


def reading(sensor, ts: int, **values) -> None:
    GravityReading.objects.create(sensor=sensor, device=sensor.device, ts=ts, **values)


def test_a_hydrometer_that_stops_reporting_fires_once_and_recovers_when_it_reports(tilt):
    watch = rule(kind="hydrometer_silent", sensor=tilt, duration_s=1800, watched_since=NOW - 7200)
    reading(tilt, NOW, gravity=1.020)
    assert kinds_sent(NOW + 1799) == []
    assert kinds_sent(NOW + 1800) == ["fired"]
    assert kinds_sent(NOW + 3000) == []
    reading(tilt, NOW + 3000, gravity=1.019)
    assert kinds_sent(NOW + 3001) == ["recovered"]
    assert [e.message for e in watch.events.order_by("ts")] == [
        "Hydrometer Purple Tilt has not been heard from for 30 minutes.",
        "Hydrometer Purple Tilt is reporting again.",
    ]


def test_a_switched_off_hydrometer_is_not_reported_silent(tilt):
    rule(kind="hydrometer_silent", sensor=tilt, duration_s=60, watched_since=NOW - 7200)
    tilt.active = False
    tilt.save()
    assert kinds_sent(NOW) == []


def test_gravity_steady_for_its_hours_fires_fermentation_done_ignoring_hidden_and_outliers(tilt):
    rule(kind="gravity_stable", sensor=tilt, duration_s=6 * 3600, tolerance_points=1)
    for ts in range(NOW - 7 * 3600, NOW + 1, 900):
        reading(tilt, ts, gravity=1.011)
    reading(tilt, NOW - 100, gravity=1.030, outlier=True)  # a bubble, marked
    reading(tilt, NOW - 200, gravity=0.990, hidden=True)  # hidden by the brewer
    reading(tilt, NOW - 300, gravity=1.040, corrected_gravity=1.011)  # corrected by the brewer
    [event] = check_rules(NOW)
    assert event.message == (
        "Gravity of Purple Tilt has stayed at 1.011 (within ±1 points) for 6 hours: "
        "fermentation looks done."
    )


def test_a_settled_gravity_that_moves_again_recovers_once_from_the_rows(tilt):
    # A settled beer does not move again by itself in the simulated chamber (the end-to-end
    # test cannot drive this): here it is re-pitched, or the Tilt was moved to a new beer.
    rule(kind="gravity_stable", sensor=tilt, duration_s=6 * 3600, tolerance_points=1)
    for ts in range(NOW - 7 * 3600, NOW + 1, 900):
        reading(tilt, ts, gravity=1.011)
    assert kinds_sent(NOW) == ["fired"]
    for step, ts in enumerate(range(NOW + 900, NOW + 4 * 3600 + 1, 900), start=1):
        reading(tilt, ts, gravity=1.011 - 0.001 * step)
        assert kinds_sent(ts) == (["recovered"] if step == 3 else []), step
    events = AlertEvent.objects.filter(rule__kind="gravity_stable").order_by("ts")
    assert [event.kind for event in events] == ["fired", "recovered"]
    recovered = events.last()
    assert recovered.message == "Gravity of Purple Tilt is moving again: 1.008."


def test_a_low_ispindel_battery_fires_after_its_minutes(ispindel):
    rule(kind="battery_low", sensor=ispindel, duration_s=1800, battery_volts=3.6)
    for ts in range(NOW - 3600, NOW + 1, 900):
        reading(ispindel, ts, raw=30.0, battery=3.9 if ts < NOW - 1800 else 3.5)
    assert kinds_sent(NOW - 1) == []
    assert kinds_sent(NOW) == ["fired"]


def test_an_old_tilt_battery_is_read_from_the_weeks_it_reports(tilt):
    rule(kind="battery_low", sensor=tilt, duration_s=600, battery_weeks=52)
    for ts in range(NOW - 1200, NOW + 1, 60):
        reading(
            tilt, ts, gravity=1.010, extra={"battery_weeks": 60} if (NOW - ts) % 120 == 0 else {}
        )
    [event] = check_rules(NOW)
    assert "is 60 weeks old, over 52 weeks" in event.message


def test_a_beers_band_in_fahrenheit_reads_points_logged_in_celsius(chamber):
    beer = Beer.start(chamber, "Pale Ale", now=NOW - 3600)
    rule(kind="temperature_band", beer=beer, duration_s=600, low=64.0, high=70.0, temp_format="F")
    for ts in range(NOW - 1200, NOW + 1, 30):
        LogPoint.objects.create(device=chamber, ts=ts, beer_temp=23.0, temp_format="C")
    [event] = check_rules(NOW)
    assert event.message == (
        "Beer temperature of Pale Ale (chamber-1) has been 73.4 °F, above 70.0 °F, for 20 minutes."
    )
    Beer.stop_active(chamber, now=NOW + 10)
    assert kinds_sent(NOW + 3600) == []  # the beer has ended: no more facts, nothing changes


def test_a_chamber_whose_controller_reports_but_sends_no_readings_fires_and_recovers_on_one(
    chamber,
):
    # The USB cable is out: the controller still posts its status ("not connected") every few
    # seconds, but no reading arrives. That is the silence a brewer needs to hear about.
    rule(kind="controller_silent", device=chamber, duration_s=300, watched_since=NOW - 3600)
    LogPoint.objects.create(device=chamber, ts=NOW - 100, beer_temp=20.0)
    assert kinds_sent(NOW) == []
    chamber.last_seen_at = datetime.fromtimestamp(NOW + 250, UTC)
    chamber.save()
    [event] = check_rules(NOW + 260)
    assert event.message == (
        "Controller chamber-1 has sent no readings for 6 minutes: the controller, its firmware or "
        "the link between them is down."
    )
    LogPoint.objects.create(device=chamber, ts=NOW + 270, beer_temp=20.0)
    [event] = check_rules(NOW + 275)
    assert event.message == "Controller chamber-1 is sending readings again."


def test_a_rule_started_afresh_while_the_alerter_checks_it_is_not_overwritten(chamber):
    watch = rule(kind="temperature_band", device=chamber, duration_s=600, low=18.0, high=21.0)
    for ts in range(NOW - 900, NOW + 1, 30):
        LogPoint.objects.create(device=chamber, ts=ts, beer_temp=25.0, temp_format="C")
    loaded = AlertRule.objects.get(pk=watch.pk)  # as the alerter's round loaded it
    # Meanwhile a person widens the band on the edit page: the rule starts afresh.
    AlertRule.objects.filter(pk=watch.pk).update(high=26.0, watched_since=NOW)
    assert check_rule(loaded, NOW) is None
    watch.refresh_from_db()
    assert (watch.state, watch.state_since, watch.events.count()) == ("ok", None, 0)
    assert kinds_sent(NOW + 30) == []  # judged again on the new band: inside it


def test_a_rule_that_cannot_be_checked_does_not_stop_the_others(chamber, caplog):
    # A band without its limits (written around the form): it cannot be judged.
    rule(kind="temperature_band", device=chamber, duration_s=60)
    LogPoint.objects.create(device=chamber, ts=NOW - 10, beer_temp=20.0)
    rule(kind="controller_silent", device=chamber, duration_s=5, watched_since=NOW - 3600)
    assert kinds_sent(NOW) == ["fired"]  # the band is logged and skipped
    assert "could not be checked" in caplog.text


# -- sending -------------------------------------------------------------------------------------


def fired_event(chamber, **channels) -> AlertEvent:
    watch = AlertRule.objects.create(
        kind="controller_silent",
        device=chamber,
        duration_s=60,
        watched_since=NOW - 3600,
        **channels,
    )
    [event] = check_rules(NOW)
    assert event.rule == watch
    return event


def test_every_channel_gets_the_alert_as_its_service_expects(
    chamber, recorder, mail_to_sink, smtp_sink
):
    event = fired_event(
        chamber,
        email_to="a@example.com, b@example.com",
        webhook_url=f"{recorder.url}/hook",
        ntfy_server=recorder.url,
        ntfy_topic="brewery",
    )
    assert delivery.deliver_pending(NOW) is None
    event.refresh_from_db()
    assert [(d["channel"], d["status"]) for d in event.deliveries] == [
        ("email", "sent"),
        ("webhook", "sent"),
        ("ntfy", "sent"),
    ]
    assert not event.sending
    [mail] = smtp_sink.messages
    assert mail.to == ["a@example.com", "b@example.com"]
    assert mail.subject == "Alert: chamber-1: no readings for 60 seconds"
    assert mail.body == (
        "Controller chamber-1 has sent no readings for 60 minutes: the controller, its firmware or "
        "the link between them is down."
    )
    [hook] = recorder.on("/hook")
    assert hook.headers["Content-Type"] == "application/json"
    assert json.loads(hook.body) == {
        "rule": event.rule.pk,
        "subject": "chamber-1",
        "kind": "controller_silent",
        "state": "firing",
        "message": (
            "Controller chamber-1 has sent no readings for 60 minutes: the controller, its "
            "firmware or the link between them is down."
        ),
        "ts": NOW,
    }
    [ntfy] = recorder.on("/brewery")
    assert ntfy.body.decode() == (
        "Controller chamber-1 has sent no readings for 60 minutes: the controller, its firmware or "
        "the link between them is down."
    )
    assert ntfy.headers["Title"] == "Alert: chamber-1: no readings for 60 seconds"
    assert (ntfy.headers["Priority"], ntfy.headers["Tags"]) == ("high", "warning")


def test_a_failing_channel_is_retried_with_backoff_and_never_stops_the_others(
    chamber, recorder, mail_to_sink, smtp_sink
):
    recorder.statuses = [500, 502, 200]
    event = fired_event(
        chamber, email_to="a@example.com", webhook_url=f"{recorder.url}/hook", ntfy_topic=""
    )
    assert delivery.deliver_pending(NOW) == NOW + 10  # the webhook again in 10 s
    event.refresh_from_db()
    email, hook = event.deliveries
    assert (email["status"], hook["status"], hook["attempts"]) == ("sent", "pending", 1)
    assert hook["error"].endswith("answered 500 Internal Server Error: refused by the recorder")
    assert delivery.deliver_pending(NOW + 5) == NOW + 10  # not due yet: nothing tried
    assert len(recorder.requests) == 1
    assert delivery.deliver_pending(NOW + 10) == NOW + 70  # failed again: 60 s later
    assert delivery.deliver_pending(NOW + 70) is None
    event.refresh_from_db()
    assert (event.deliveries[1]["status"], event.deliveries[1]["attempts"]) == ("sent", 3)
    assert len(smtp_sink.messages) == 1 and len(recorder.requests) == 3


def test_a_server_that_hangs_until_its_timeout_delays_no_other_channel(
    chamber, recorder, monkeypatch, caplog
):
    monkeypatch.setattr(delivery, "SEND_TIMEOUT_S", 3)
    with socket.socket() as silent:  # connections are taken, never answered
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        event = fired_event(
            chamber,
            webhook_url=f"http://127.0.0.1:{silent.getsockname()[1]}/hook",
            ntfy_server=recorder.url,
            ntfy_topic="brewery",
        )
        started = time.monotonic()
        with caplog.at_level(logging.INFO, logger="fermentrack.alerts"):
            assert delivery.deliver_pending(NOW) == NOW + 10  # the webhook again in 10 s
        took = time.monotonic() - started

    [ntfy] = recorder.on("/brewery")
    assert ntfy.at - started < 1.5, "ntfy waited for the hung webhook"
    assert took >= 3
    event.refresh_from_db()
    hook, sent = event.deliveries
    assert sent["status"] == "sent"
    assert hook["status"] == "pending" and "timed out" in hook["error"]
    # Each result is written as it comes: ntfy's before the webhook's timeout.
    outcomes = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alert ")]
    assert [line.split(": ")[1] for line in outcomes] == [
        f"sent by ntfy to {recorder.url}",
        "webhook failed (attempt 1, again in 10 s)",
    ]


def test_an_alert_and_its_recovery_reach_one_target_in_the_order_they_happened(chamber, recorder):
    recorder.slow = {b'"state": "firing"': 0.5}  # the alert is answered slowly
    fired = fired_event(chamber, webhook_url=f"{recorder.url}/hook", ntfy_topic="")
    recovered = AlertEvent.record(fired.rule, rules.Action.RECOVER, "Readings again.", NOW + 1)

    assert delivery.deliver_pending(NOW + 1) is None

    alert, recovery = recorder.on("/hook")
    assert [json.loads(r.body)["state"] for r in (alert, recovery)] == ["firing", "recovered"]
    assert recovery.at - alert.at >= 0.5, "the recovery was sent before the alert was answered"
    recovered.refresh_from_db()
    assert recovered.deliveries[0]["status"] == "sent"


def test_a_recovery_waits_while_its_alert_is_retried_so_the_last_word_is_the_recovery(
    chamber, recorder
):
    recorder.statuses = [503, 200]  # the service is down for the alert's first try
    fired = fired_event(chamber, webhook_url=f"{recorder.url}/hook", ntfy_topic="")
    AlertEvent.record(fired.rule, rules.Action.RECOVER, "Readings again.", NOW + 1)

    assert delivery.deliver_pending(NOW + 1) == NOW + 11  # the alert again in 10 s
    assert len(recorder.requests) == 1  # the recovery waits behind it
    assert delivery.deliver_pending(NOW + 11) is None

    states = [json.loads(r.body)["state"] for r in recorder.on("/hook")]
    assert states == ["firing", "firing", "recovered"]


def test_an_alert_that_cannot_be_put_together_fails_alone_and_the_others_are_sent(
    chamber, recorder, monkeypatch
):
    event = fired_event(
        chamber, webhook_url=f"{recorder.url}/hook", ntfy_server=recorder.url, ntfy_topic="b"
    )
    original = delivery.webhook_request

    def broken(url, event):
        raise ValueError("no subject to name")

    monkeypatch.setattr(delivery, "webhook_request", broken)
    assert delivery.deliver_pending(NOW) == NOW + 10
    monkeypatch.setattr(delivery, "webhook_request", original)

    event.refresh_from_db()
    hook, ntfy = event.deliveries
    assert (hook["status"], hook["attempts"], hook["error"]) == ("pending", 1, "no subject to name")
    assert ntfy["status"] == "sent"


def test_a_channel_that_keeps_failing_is_recorded_as_failed_with_its_error(chamber, recorder):
    recorder.statuses = [503]
    event = fired_event(
        chamber,
        webhook_url=f"{recorder.url}/hook",
        ntfy_topic="t",
        ntfy_server="http://127.0.0.1:9",
    )
    at = NOW
    for _ in range(delivery.MAX_ATTEMPTS):
        at = delivery.deliver_pending(at) or at
    event.refresh_from_db()
    hook, ntfy = event.deliveries
    assert (hook["status"], hook["attempts"]) == ("failed", delivery.MAX_ATTEMPTS)
    assert "answered 503" in hook["error"]
    assert ntfy["status"] == "failed" and "could not be reached" in ntfy["error"]
    assert not event.sending


def test_a_failed_deliverys_error_names_the_server_never_the_secret_hook_path_or_topic(
    chamber, recorder
):
    # The history shows errors to guests too; a webhook's path and an ntfy topic are secrets.
    recorder.statuses = [500]
    event = fired_event(
        chamber,
        webhook_url=f"{recorder.url}/hook/secret-token",
        ntfy_topic="secret-topic",
        ntfy_server="http://127.0.0.1:9",
    )
    delivery.deliver_pending(NOW)
    event.refresh_from_db()
    hook, ntfy = event.deliveries
    assert hook["error"].startswith(f"{recorder.url} answered 500")
    assert ntfy["error"].startswith("http://127.0.0.1:9 could not be reached")
    assert "secret" not in hook["error"] + ntfy["error"]


# Outside a test transaction: the command closes old connections each round, as it must.
@pytest.mark.django_db(transaction=True)
def test_the_alerter_command_checks_and_sends_in_one_round(chamber, recorder):
    AlertRule.objects.create(
        kind="controller_silent",
        device=chamber,
        duration_s=60,
        watched_since=int(time.time()) - 3600,
        webhook_url=f"{recorder.url}/hook",
    )
    call_command("alerter", "--once")
    [hook] = recorder.on("/hook")
    assert json.loads(hook.body)["state"] == "firing"
    assert AlertRule.objects.get().state == "firing"


def test_an_ntfy_title_beyond_ascii_goes_as_an_encoded_word(chamber, recorder):
    AlertRule.objects.create(
        kind="temperature_band",
        device=chamber,
        duration_s=60,
        low=18.0,
        high=21.0,
        ntfy_server=recorder.url,
        ntfy_topic="cellar",
    )
    for ts in range(NOW - 600, NOW + 1, 30):
        LogPoint.objects.create(device=chamber, ts=ts, beer_temp=23.0, temp_format="C")
    check_rules(NOW)
    delivery.deliver_pending(NOW)
    [ntfy] = recorder.on("/cellar")
    title = ntfy.headers["Title"]
    assert title.startswith("=?utf-8?")
    assert str(make_header(decode_header(title))) == (
        "Alert: chamber-1: beer temperature outside 18.0–21.0 °C for 60 seconds"
    )
    # The points looked at go back twice the rule's time and two stale spans (3 × 30 s):
    # 5 of the 10 minutes out of band are seen.
    assert ntfy.body.decode().endswith("above 21.0 °C, for 5 minutes.")
