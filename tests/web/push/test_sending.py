"""One send from the database to a recording server: the data gathered (stored status, latest
log point, active beer, the Tilt's latest reading), the reply recorded on the row, the next
due time, and a target with nothing to send."""

from __future__ import annotations

import json
import time

import pytest
from django.utils import timezone

from fermentrack.push.services import Service
from fermentrack.web.push.models import PushTarget
from fermentrack.web.push.sending import send_target

from .conftest import BREWFATHER_TILT

pytestmark = pytest.mark.django_db


def test_a_brewfather_sensor_target_sends_the_tilt_with_its_chambers_data(server, tilt):
    target = PushTarget.objects.create(
        name="BF",
        service=Service.BREWFATHER,
        url=f"{server.url}/bf?id=abc",
        sensor=tilt,
        interval_s=900,
    )
    before = time.time()
    assert send_target(target.pk) == "sent"
    (received,) = server.to("/bf")
    assert received.path == "/bf?id=abc"
    assert received.headers["Content-Type"] == "application/json"
    assert json.loads(received.body) == BREWFATHER_TILT
    target.refresh_from_db()
    assert (target.last_outcome, target.last_status, target.last_error, target.failures) == (
        "sent",
        200,
        "",
        0,
    )
    assert target.next_due_at.timestamp() >= before + 910


def test_a_generic_target_sends_the_controller_with_its_mode_letter_and_gravity(server, tilt):
    target = PushTarget.objects.create(
        name="G", service=Service.GENERIC, url=f"{server.url}/g", api_key="k", interval_s=60
    )
    send_target(target.pk)
    body = json.loads(server.to("/g")[0].body)
    assert body["brewpi_devices"] == [
        {
            "name": "fridge-1",
            "internal_id": tilt.device_id,
            "temp_format": "C",
            "control_mode": "b",
            "beer_temp": 19.2,
            "fridge_temp": 16.5,
            "room_temp": 21.0,
            "beer_setting": 19.0,
            "controller_state": 4,
            "gravity": 1.018,
        }
    ]
    assert body["gravity_sensors"][0]["gravity"] == 1.018


def test_an_error_reply_is_recorded_with_its_status_and_text_and_backs_off(
    server, chamber, monkeypatch
):
    server.scripts["/ts"] = [(401, b'{"error": "bad key"}')]
    target = PushTarget.objects.create(
        name="TS", service=Service.THINGSPEAK, api_key="K", controller=chamber, interval_s=60
    )

    monkeypatch.setenv("FERMENTRACK_THINGSPEAK_URL", f"{server.url}/ts")
    before = time.time()
    assert send_target(target.pk) == "failed"
    assert send_target(target.pk) == "failed"
    target.refresh_from_db()
    assert target.last_error == 'the service answered HTTP 401: {"error": "bad key"}'
    assert (target.last_status, target.failures, target.last_success_at) == (401, 2, None)
    assert 119 <= target.next_due_at.timestamp() - before <= 125  # 2 min after the second


def test_a_429_retry_after_is_honoured(server, tilt):
    server.scripts["/gf"] = [(429, b"slow down", {"Retry-After": "3000"})]
    target = PushTarget.objects.create(
        name="GF",
        service=Service.GRAINFATHER,
        url=f"{server.url}/gf",
        brew_id="48213",
        sensor=tilt,
        interval_s=900,
    )
    before = time.time()
    send_target(target.pk)
    target.refresh_from_db()
    assert target.next_due_at.timestamp() >= before + 3000
    assert json.loads(server.to("/gf")[0].body)["name"] == "48213,SG"


def test_a_sensor_with_only_an_old_reading_sends_nothing_and_says_why(server, tilt):
    tilt.readings.update(ts=int(time.time()) - 3600)  # a Tilt reports every minute
    target = PushTarget.objects.create(
        name="BF", service=Service.BREWFATHER, url=f"{server.url}/bf", sensor=tilt, interval_s=900
    )
    assert send_target(target.pk) == "skipped"
    assert server.to("/bf") == []
    target.refresh_from_db()
    assert target.result_text() == "Nothing sent: Purple Tilt has no recent gravity reading."
    assert target.failures == 0


def test_a_server_that_cannot_be_reached_is_an_error_naming_the_host(chamber):
    target = PushTarget.objects.create(
        name="G",
        service=Service.GENERIC,
        url="http://127.0.0.1:9/in",
        interval_s=60,
        last_success_at=timezone.now(),
    )
    assert send_target(target.pk) == "failed"
    target.refresh_from_db()
    assert target.last_error.startswith("could not reach 127.0.0.1:9: ")
    assert target.last_status is None
