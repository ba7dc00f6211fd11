"""Fixtures for push targets: a chamber with a log point and a beer, a Tilt floating in it
with a reading, and a local server that records what the services would receive."""

from __future__ import annotations

import time

import pytest

from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor, SensorKind, store_readings

from .recording_server import RecordingServer

# What Brewfather receives for the Purple Tilt floating in fridge-1 (as set up here and in the
# pusher process test): the Tilt's gravity with its chamber's temperatures and beer.
BREWFATHER_TILT = {
    "report_source": "Fermentrack",
    "name": "Purple Tilt",
    "gravity": 1.018,
    "gravity_unit": "G",
    "temp": 19.2,
    "temp_unit": "C",
    "aux_temp": 16.5,
    "ext_temp": 21.0,
    "beer": "Batch 42 IPA",
}


@pytest.fixture
def chamber(admin_user) -> Device:
    """fridge-1 in °C, beer constant at 19.0, with a log point from a few seconds ago and
    the beer 'Batch 42 IPA' running (its controller is not running: the stored status is used)."""
    device = Device(
        name="fridge-1",
        simulated=True,
        status={"mode": "beer_constant", "beer_set": 19.0, "fridge_set": None, "state": 4},
    )
    device.issue_token()
    device.save()
    now = int(time.time())
    LogPoint.objects.create(
        device=device,
        ts=now - 5,
        beer_temp=19.2,
        beer_set=19.0,
        fridge_temp=16.5,
        fridge_set=None,
        room_temp=21.0,
        state=4,
        temp_format="C",
    )
    Beer.objects.create(device=device, name="Batch 42 IPA", started_at=now - 86400)
    return device


@pytest.fixture
def tilt(chamber) -> GravitySensor:
    """The Purple Tilt in fridge-1, read 10 s ago: 1.018 at 19.4 °C."""
    sensor = GravitySensor.objects.create(
        name="Purple Tilt", kind=SensorKind.TILT, colour="Purple", device=chamber
    )
    reading = sensor.new_reading(int(time.time()) - 10, raw=1.018, temperature=19.4)
    store_readings(sensor, [reading])
    return sensor


@pytest.fixture
def server():
    recording = RecordingServer().start()
    yield recording
    recording.stop()
