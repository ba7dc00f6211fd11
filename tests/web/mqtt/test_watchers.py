"""The bridge runs as the `mqtt` watcher only while MQTT is on, and restarts when its connection
settings change."""

from __future__ import annotations

import sys

import pytest

from fermentrack.procman.layout import Layout
from fermentrack.web.devices.watchers import desired_watchers
from fermentrack.web.mqtt.models import MqttSettings
from fermentrack.web.mqtt.watchers import mqtt_watchers

pytestmark = pytest.mark.django_db


def turn_on(**changes) -> MqttSettings:
    settings = MqttSettings.load()
    settings.enabled, settings.host = True, "broker.local"
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.save()
    return settings


def test_an_unconfigured_brewery_runs_no_bridge():
    assert mqtt_watchers() == []
    MqttSettings.load()
    assert mqtt_watchers() == []


def test_mqtt_on_runs_the_bridge_through_the_fermentrack_command(tmp_path):
    turn_on()
    [spec] = mqtt_watchers()
    assert spec.name == "mqtt"
    assert (spec.cmd, spec.args) == (
        sys.executable,
        ("-m", "fermentrack.cli", "manage", "mqtt_bridge"),
    )
    assert "mqtt" in [watcher.name for watcher in desired_watchers(Layout(tmp_path))]


def test_a_changed_connection_setting_changes_the_watchers_fingerprint():
    before = turn_on().connection_fingerprint()
    [spec] = mqtt_watchers()
    for change in (
        {"password": "new"},
        {"port": 1884},
        {"base_topic": "cellar"},
        {"tls": True},
        {"ca_certificate": "-----BEGIN"},
    ):
        turn_on(**change)
        assert mqtt_watchers()[0].fingerprint() != spec.fingerprint(), change
        turn_on(password="", port=1883, base_topic="fermentrack", tls=False, ca_certificate="")
    assert MqttSettings.load().connection_fingerprint() == before
    turn_on(accept_commands=True)  # read at each command: no restart
    assert mqtt_watchers()[0].fingerprint() == spec.fingerprint()


def test_turning_mqtt_off_stops_the_bridge():
    turn_on()
    turn_on(enabled=False)
    assert mqtt_watchers() == []
