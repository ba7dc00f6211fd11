"""Fixtures for the MQTT app: its settings, a fake controller on a real unix socket, and a real
mosquitto broker (mqtt_broker.py)."""

from __future__ import annotations

import pytest

from controller.fake_controller import FakeController, short_home
from fermentrack import config
from fermentrack.web.devices.models import Device
from fermentrack.web.mqtt.models import MqttSettings

from .mqtt_broker import Broker, Mosquitto, broker_from_environment


@pytest.fixture
def fake_controller(monkeypatch):
    """The controller of fridge-1, answering on its socket in a short FERMENTRACK_HOME."""
    with short_home() as folder:
        monkeypatch.setenv("FERMENTRACK_HOME", str(folder))
        fake = FakeController(config.controller_socket_path("fridge-1")).start()
        try:
            yield fake
        finally:
            fake.stop()


@pytest.fixture
def device(db) -> Device:
    device = Device(name="fridge-1", link="tcp://192.168.1.20:23", log_interval_s=60)
    device.issue_token()
    device.save()
    return device


@pytest.fixture
def commanding(db, brewer) -> MqttSettings:
    """MQTT on, accepting commands that act as the brewer."""
    settings = MqttSettings.load()
    settings.enabled, settings.host = True, "broker.local"
    settings.accept_commands, settings.command_user = True, brewer
    settings.save()
    return settings


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory) -> Broker:
    """A real broker: CI's, or our own mosquitto; the test fails (never skips) without one."""
    try:
        broker = broker_from_environment()
        if broker is not None:
            yield broker
            return
        mosquitto = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
        broker = mosquitto.start()
    except RuntimeError as problem:
        pytest.fail(str(problem))
    try:
        yield broker
    finally:
        mosquitto.stop()
