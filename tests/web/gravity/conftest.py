"""Fixtures for the gravity app: a chamber, sensors of each kind, and helpers to post as a
hydrometer would and to store readings at chosen times."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravityReading, GravitySensor, SensorKind, store_readings

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


@pytest.fixture
def chamber(admin_user) -> Device:
    """fridge-1, in a brewery that is set up (before its first run every path leads there)."""
    device = Device(name="fridge-1", simulated=True)
    device.issue_token()
    device.save()
    return device


@pytest.fixture
def ispindel(chamber) -> GravitySensor:
    """A calibrated iSpindel in fridge-1: SG = 0.0001·angle² + 0.001·angle + 0.7."""
    return GravitySensor.objects.create(
        name="Spindle 1",
        kind=SensorKind.ISPINDEL,
        device=chamber,
        name_on_device="spindle-ipa",
        ispindel_b=0.0001,
        ispindel_c=0.001,
        ispindel_d=0.7,
    )


@pytest.fixture
def tilt(chamber) -> GravitySensor:
    """The Purple Tilt heard over Bluetooth, in fridge-1, uncalibrated (0, 1, 0)."""
    return GravitySensor.objects.create(
        name="Purple Tilt", kind=SensorKind.TILT, colour="Purple", device=chamber
    )


@pytest.fixture
def bridged_tilt(chamber) -> GravitySensor:
    """The Red Tilt on the TiltBridge cellar-bridge, reading 0.002 high (d = -0.002)."""
    return GravitySensor.objects.create(
        name="Red Tilt",
        kind=SensorKind.TILTBRIDGE,
        colour="Red",
        bridge_mdns_id="cellar-bridge",
        device=chamber,
        tilt_d=-0.002,
    )


def post_json(path: str, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Client().post(path, data=data, content_type="application/json", **extra)


def store(sensor: GravitySensor, *readings: tuple) -> list[GravityReading]:
    """Store (ts, gravity[, temperature]) readings as a Tilt would send them (raw = gravity)."""
    made = []
    for ts, gravity, *rest in readings:
        reading = sensor.new_reading(ts, raw=gravity)
        reading.temperature = rest[0] if rest else None
        made.append(reading)
    store_readings(sensor, made)
    return list(sensor.readings.order_by("ts"))
