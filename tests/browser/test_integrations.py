"""The integration pages under Settings in a real browser, at a phone's width and a desktop's:
a brewer adds a Brewfather push target for a hydrometer and reads how its last send went; adds
a temperature-band alert sent by ntfy and sets up the mail server; and an admin backs the
brewery up and finds the archive listed with what it holds, ready to download."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fermentrack.web.alerts.models import AlertEvent, AlertRule
from fermentrack.web.alerts.rules import Action
from fermentrack.web.beers.models import LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor, SensorKind, store_readings
from fermentrack.web.mqtt.models import MqttSettings
from fermentrack.web.push.models import PushTarget

pytestmark = pytest.mark.django_db(transaction=True)

# A Custom Stream URL is long and has no spaces: the pages must wrap it, not scroll sideways.
STREAM_URL = "https://log.brewfather.net/stream?id=Zq8XkP2mT7vYc4LwR9sJ3nHb6GdE1fA0uQ5oIiKxNy"


@pytest.fixture
def chamber(admin_user) -> Device:
    """fridge-1 in °C with a recent log point and the Purple Tilt floating in it."""
    device = Device(name="fridge-1", simulated=True)
    device.issue_token()
    device.save()
    now = int(time.time())
    LogPoint.objects.create(device=device, ts=now - 5, beer_temp=19.2, beer_set=19.0, state=4)
    tilt = GravitySensor.objects.create(
        name="Purple Tilt", kind=SensorKind.TILT, colour="Purple", device=device
    )
    store_readings(tilt, [tilt.new_reading(now - 10, raw=1.018, temperature=19.4)])
    return device


def test_a_brewer_sends_a_hydrometer_to_brewfather_and_sees_how_the_last_send_went(
    page, log_in, brewer, chamber, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/settings/push/")
    expect(page.get_by_role("heading", name="No push targets yet")).to_be_visible()
    assert_fits_width()
    page.get_by_role("link", name="Add a push target").click()
    shoot("push-choose")
    assert_fits_width()
    page.get_by_role("link", name="Brewfather").click()
    page.get_by_label("Name", exact=True).fill("Brewfather IPA")
    page.get_by_label("Address").fill(STREAM_URL)
    page.get_by_label("Gravity sensor").select_option(label="Purple Tilt")
    expect(page.get_by_label("How often")).to_have_value("900")
    shoot("push-form")
    assert_fits_width()
    page.get_by_role("button", name="Add target").click()

    expect(page.locator(".message.success")).to_contain_text("Added Brewfather IPA")
    card = page.locator(".push-target")
    expect(card).to_contain_text("Brewfather · Purple Tilt · every 15 min")
    expect(card.locator(".push-result")).to_have_text("Not sent yet.")
    target = PushTarget.objects.get(name="Brewfather IPA")
    assert (target.service, target.url, target.sensor.name) == (
        "brewfather",
        STREAM_URL,
        "Purple Tilt",
    )

    # The pusher tried twice and Brewfather refused (as it writes its result back).
    now = timezone.now()
    PushTarget.objects.filter(pk=target.pk).update(
        last_attempt_at=now - timedelta(minutes=2),
        last_success_at=now - timedelta(minutes=32),
        last_outcome="failed",
        last_status=500,
        last_error=f"HTTP 500 from {STREAM_URL}: internal server error",
        failures=2,
        next_due_at=now + timedelta(minutes=13),
    )
    page.reload()
    expect(card.locator(".push-result")).to_contain_text("Failed (2 failures in a row): HTTP 500")
    expect(card).to_contain_text("Last tried 2 min ago, last sent 32 min ago.")
    expect(card.get_by_role("button", name="Send now")).to_be_enabled()
    shoot("push-list")
    assert_fits_width()


def test_a_brewer_is_alerted_by_ntfy_when_the_beer_leaves_its_band_and_sets_up_mail(
    page, log_in, brewer, chamber, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/settings/alerts/")
    expect(page.get_by_role("heading", name="No alerts yet")).to_be_visible()
    page.get_by_role("link", name="Add an alert").click()
    page.get_by_label("Beer temperature outside a band").check()
    page.get_by_label("Chamber", exact=True).select_option(label="fridge-1")
    page.get_by_label("Lowest beer temperature").fill("17.5")
    page.get_by_label("Highest beer temperature").fill("20.5")
    page.get_by_label("For (minutes)").fill("20")
    page.get_by_label("ntfy topic").fill("brewery-fridge1-x7q")
    # Only the band's fields show.
    expect(page.get_by_label("Hydrometer", exact=True)).to_be_hidden()
    expect(page.get_by_label("Tolerance (gravity points)")).to_be_hidden()
    shoot("alert-form")
    assert_fits_width()
    page.get_by_role("button", name="Add alert").click()

    expect(page.locator(".message.success")).to_contain_text(
        "Added the alert fridge-1: beer temperature outside 17.5–20.5 °C for 20 minutes"
    )
    rule = AlertRule.objects.get()
    assert (rule.ntfy_topic, rule.duration_s, rule.device) == ("brewery-fridge1-x7q", 1200, chamber)
    card = page.locator(".alert-rule")
    expect(card.locator(".alert-state")).to_have_text("ok")
    expect(card).to_contain_text("Sends by ntfy")

    # The beer warmed up: the alerter fired it and the ntfy notification went out.
    now = int(time.time())
    AlertRule.objects.filter(pk=rule.pk).update(state="firing", state_since=now - 60)
    event = AlertEvent.record(
        rule, Action.FIRE, "fridge-1: beer at 21.3 °C, above 20.5 °C for 20 minutes", now - 60
    )
    event.deliveries[0] |= {"status": "sent", "attempts": 1, "sent_at": now - 59}
    event.update_sending()
    event.save()
    page.reload()
    expect(card.locator(".alert-state")).to_have_text("firing")
    expect(page.locator(".alert-history tbody tr")).to_have_count(1)
    expect(page.locator(".alert-history .delivery")).to_have_text("ntfy: sent")
    shoot("alert-list")
    assert_fits_width()

    mail = page.locator(".alert-mail")
    mail.get_by_label("SMTP server", exact=True).fill("smtp.example.com")
    mail.get_by_label("Port", exact=True).fill("587")
    mail.get_by_label("Username", exact=True).fill("brewery@example.com")
    mail.get_by_label("Password", exact=True).fill("app-password-123")
    mail.get_by_label("From address", exact=True).fill("brewery@example.com")
    mail.get_by_role("button", name="Save mail settings").click()
    expect(page.locator(".message.success")).to_have_text("Saved the mail settings.")
    expect(page.locator(".alert-mail").get_by_label("SMTP server")).to_have_value(
        "smtp.example.com"
    )
    expect(page.locator(".alert-mail")).to_contain_text("a password is stored")
    shoot("alert-mail")
    assert_fits_width()


@pytest.fixture
def home(tmp_path, monkeypatch):
    folder = tmp_path / "cellar"
    folder.mkdir()
    monkeypatch.setenv("FERMENTRACK_HOME", str(folder))
    return folder


def test_an_admin_backs_up_now_and_finds_the_archive_listed_to_download(
    page, log_in, admin_user, chamber, home, shoot, assert_fits_width
):
    log_in(admin_user)
    page.goto("/settings/backups/")
    expect(page.get_by_text("No backups in")).to_be_visible()
    shoot("backup-empty")
    assert_fits_width()
    page.get_by_role("button", name="Back up now").click()

    expect(page.locator(".message.success")).to_contain_text(re.compile(r"Backed up \d+ rows"))
    (archive,) = (home / "backups").glob("*.tar.gz")
    row = page.locator("table.backups tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".backup-name")).to_contain_text(archive.name)
    expect(row).to_contain_text("devices: 1")
    expect(row).to_contain_text("gravity readings: 1")
    download = row.get_by_role("link", name="Download")
    expect(download).to_have_attribute("href", f"/settings/backups/{archive.name}/download/")
    shoot("backup-list")
    assert_fits_width()
    with page.expect_download() as fetched:
        download.click()
    assert fetched.value.suggested_filename == archive.name


def test_a_brewer_points_fermentrack_at_a_broker_and_reads_whether_the_bridge_is_connected(
    page, log_in, brewer, chamber, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/settings/")
    page.get_by_role("link", name="MQTT").click()
    expect(page.get_by_text("MQTT is off")).to_be_visible()
    page.get_by_label("Publish to MQTT").check()
    page.get_by_label("Broker host").fill("mqtt://homeassistant.local")
    page.get_by_label("Accept commands from MQTT").check()
    page.get_by_role("button", name="Save MQTT settings").click()
    # Two mistakes, each said in words next to its field; nothing saved.
    expect(page.locator(".errorlist").first).to_be_visible()
    assert "mqtt://" in page.locator(".errorlist").first.inner_text()
    assert MqttSettings.load().enabled is False
    shoot("mqtt-errors")
    assert_fits_width()

    page.get_by_label("Broker host").fill("homeassistant.local")
    page.get_by_label("Commands act as").select_option(label=brewer.username)
    page.get_by_role("button", name="Save MQTT settings").click()
    expect(page.get_by_text("The bridge has not started yet.")).to_be_visible()
    saved = MqttSettings.load()
    assert (saved.enabled, saved.host, saved.command_user_id) == (
        True,
        "homeassistant.local",
        brewer.pk,
    )

    # The bridge reports in, as it does every few seconds once connected.
    now = timezone.now()
    saved.record(bridge_seen_at=now, connected=True, last_connected_at=now - timedelta(minutes=2))
    page.reload()
    expect(page.get_by_text("Connected to the broker at homeassistant.local:1883")).to_be_visible()
    expect(page.get_by_text(f"acting as {brewer.username}")).to_be_visible()
    expect(page.get_by_text("fermentrack/fridge-1/state", exact=True)).to_be_visible()
    shoot("mqtt-connected")
    assert_fits_width()
