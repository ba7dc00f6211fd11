"""The push target pages: the list with each target's last result in plain words, adding
(service first), editing without showing the key, deleting after a confirmation, 'send now',
and nothing of it for a guest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fermentrack.push.services import Service
from fermentrack.web.push.models import Outcome, PushTarget

pytestmark = pytest.mark.django_db


def failed_target(tilt) -> PushTarget:
    return PushTarget.objects.create(
        name="My Brewfather",
        service=Service.BREWFATHER,
        url="https://log.brewfather.net/stream?id=abc",
        sensor=tilt,
        interval_s=900,
        last_attempt_at=timezone.now() - timedelta(minutes=3),
        last_outcome=Outcome.FAILED,
        last_status=401,
        last_error="the service answered HTTP 401: bad stream id",
        failures=2,
        next_due_at=timezone.now() + timedelta(minutes=12),
    )


def test_the_list_shows_each_targets_last_error_in_plain_words(brewer_client, tilt):
    failed_target(tilt)
    page = brewer_client.get("/settings/push/").content.decode()
    assert "My Brewfather" in page
    assert "Failed (2 failures in a row): the service answered HTTP 401: bad stream id" in page
    assert "Last tried 3 min ago, never sent." in page
    assert "Next: in 1" in page  # in 11 or 12 min
    assert "Purple Tilt" in page


def test_a_guest_can_neither_see_nor_change_push_targets(guest_client, tilt):
    target = failed_target(tilt)
    assert guest_client.get("/settings/push/").status_code == 403
    response = guest_client.post(
        "/settings/push/add/generic/",
        {
            "name": "x",
            "url": "http://x.example/",
            "interval_s": 60,
            "send_controllers": "all",
            "send_sensors": "all",
        },
    )
    assert response.status_code == 403
    assert guest_client.post(f"/settings/push/{target.pk}/delete/").status_code == 403
    assert guest_client.post(f"/settings/push/{target.pk}/send/").status_code == 403
    assert list(PushTarget.objects.values_list("name", flat=True)) == ["My Brewfather"]


def test_adding_starts_with_the_service_and_shows_only_its_fields(brewer_client, tilt):
    choose = brewer_client.get("/settings/push/add/").content.decode()
    for label in (
        "Brewfather",
        "Brewer&#x27;s Friend",
        "Grainfather",
        "ThingSpeak",
        "Generic JSON endpoint",
    ):
        assert label in choose
    form = brewer_client.get("/settings/push/add/brewfather/").content.decode()
    assert 'name="url"' in form and 'name="api_key"' not in form and 'name="brew_id"' not in form
    response = brewer_client.post(
        "/settings/push/add/brewfather/",
        {
            "name": "BF IPA",
            "active": "on",
            "url": "https://log.brewfather.net/stream?id=abc",
            "sensor": tilt.pk,
            "interval_s": 900,
        },
    )
    assert response.status_code == 302
    target = PushTarget.objects.get(name="BF IPA")
    assert (target.service, target.sensor, target.interval_s) == ("brewfather", tilt, 900)
    assert target.next_due_at is not None and target.next_due_at <= timezone.now()
    assert brewer_client.get("/settings/push/add/myspace/").status_code == 404


def test_a_refused_interval_is_explained_on_the_page(brewer_client, tilt):
    page = brewer_client.post(
        "/settings/push/add/brewersfriend/",
        {"name": "BF", "active": "on", "api_key": "abc123", "sensor": tilt.pk, "interval_s": 60},
    ).content.decode()
    assert "every 1 min is too often for Brewer&#x27;s Friend" in page
    assert not PushTarget.objects.exists()


def test_an_api_key_is_never_shown_back_in_full(brewer_client, chamber):
    target = PushTarget.objects.create(
        name="TS",
        service=Service.THINGSPEAK,
        api_key="ABCDEF0123456789",
        controller=chamber,
        interval_s=60,
    )
    for path in ("/settings/push/", f"/settings/push/{target.pk}/edit/"):
        page = brewer_client.get(path).content.decode()
        assert "ABCDEF0123456789" not in page
        assert "••••6789" in page


def test_deleting_asks_first_then_deletes(brewer_client, tilt):
    target = failed_target(tilt)
    confirm = brewer_client.get(f"/settings/push/{target.pk}/delete/").content.decode()
    assert "Delete My Brewfather?" in confirm
    assert PushTarget.objects.exists()
    assert brewer_client.post(f"/settings/push/{target.pk}/delete/").status_code == 302
    assert not PushTarget.objects.exists()


def test_send_now_marks_a_generic_target_due_at_once(brewer_client, chamber):
    target = PushTarget.objects.create(
        name="Mine",
        service=Service.GENERIC,
        url="http://x.example/in",
        interval_s=3600,
        last_attempt_at=timezone.now() - timedelta(seconds=5),
        next_due_at=timezone.now() + timedelta(minutes=59),
    )
    page = brewer_client.post(f"/settings/push/{target.pk}/send/", follow=True).content.decode()
    assert "Mine is sent within a few seconds." in page
    target.refresh_from_db()
    assert target.next_due_at <= timezone.now()


def test_send_now_still_respects_the_services_own_limit(brewer_client, tilt):
    target = failed_target(tilt)
    PushTarget.objects.filter(pk=target.pk).update(
        last_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    page = brewer_client.post(f"/settings/push/{target.pk}/send/", follow=True).content.decode()
    assert "My Brewfather is sent in 10 min: Brewfather ignores posts" in page
    target.refresh_from_db()
    assert target.next_due_at > timezone.now() + timedelta(minutes=9)


def test_the_settings_page_links_to_push_targets(brewer_client):
    assert 'href="/settings/push/"' in brewer_client.get("/settings/").content.decode()
