"""Alerts fixtures: a chamber, a Tilt and an iSpindel to watch, and the local services alerts
are sent to (an HTTP recorder for webhooks and ntfy, an SMTP sink) with mail settings for it."""

from __future__ import annotations

import pytest

from fermentrack.web.alerts.models import MailSettings
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor, SensorKind

from .recorders import HttpRecorder, SmtpSink


@pytest.fixture
def chamber(db) -> Device:
    return Device.objects.create(name="chamber-1", simulated=True, log_interval_s=30)


@pytest.fixture
def tilt(db, chamber) -> GravitySensor:
    return GravitySensor.objects.create(
        name="Purple Tilt", kind=SensorKind.TILTBRIDGE, colour="Purple", device=chamber
    )


@pytest.fixture
def ispindel(db) -> GravitySensor:
    return GravitySensor.objects.create(
        name="Blue iSpindel", kind=SensorKind.ISPINDEL, name_on_device="blue"
    )


@pytest.fixture
def recorder():
    server = HttpRecorder()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
def mail_to_sink(db, smtp_sink) -> MailSettings:
    settings = MailSettings.load()
    settings.host, settings.port, settings.security = "127.0.0.1", smtp_sink.port, "none"
    settings.from_address = "brewery@example.com"
    settings.save()
    return settings
