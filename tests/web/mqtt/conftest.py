"""Fixtures for the MQTT app: its settings, a fake controller on a real unix socket, and a real
mosquitto broker (mqtt_broker.py)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from controller.fake_controller import FakeController, short_home
from fermentrack import config
from fermentrack.web.devices.models import Device
from fermentrack.web.mqtt.models import MqttSettings

from .certificates import TlsFiles, make_tls_files
from .mqtt_broker import Broker, Mosquitto, broker_from_environment, free_port


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


@pytest.fixture(scope="session")
def tls_files() -> TlsFiles:
    """Two throwaway CAs and broker certificates from the first (certificates.py); the test
    fails (never skips) without openssl. In a folder of /tmp of its own, not under pytest's
    (0700): mosquitto, started as root, reads them as its own user."""
    folder = Path(tempfile.mkdtemp(prefix="ft-tls-", dir="/tmp"))
    try:
        try:
            files = make_tls_files(folder)
        except RuntimeError as problem:
            pytest.fail(str(problem))
        yield files
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_broker(tmp_path_factory, tls_files) -> tuple[Broker, int]:
    """Our own mosquitto speaking only TLS: (its listener with a certificate for 127.0.0.1 and
    localhost, the port of a listener whose certificate is for broker.example)."""

    def tls(certificate) -> str:
        cert, key = certificate
        return f"cafile {tls_files.authority.certificate}\ncertfile {cert}\nkeyfile {key}\n"

    elsewhere_port = free_port()
    mosquitto = Mosquitto(
        tmp_path_factory.mktemp("mosquitto-tls"),
        listener=tls(tls_files.server),
        more=f"listener {elsewhere_port} 127.0.0.1\n{tls(tls_files.elsewhere)}",
    )
    try:
        broker = mosquitto.start()
    except RuntimeError as problem:
        pytest.fail(str(problem))
    try:
        yield broker, elsewhere_port
    finally:
        mosquitto.stop()
