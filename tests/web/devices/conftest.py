"""Fixtures for the device pages: devices, and a fake controller on a real unix socket.

The fake controller (tests/controller/fake_controller.py) speaks interfaces.md §2 from a
background thread, so pages reach it through fermentrack.controller.client exactly as they
would reach a real one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from controller.fake_controller import FakeController, short_home
from fermentrack import config
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.devices.models import Device


@pytest.fixture
def controller_home(monkeypatch):
    """A short FERMENTRACK_HOME for controller sockets (the database stays where it is)."""
    with short_home() as folder:
        monkeypatch.setenv("FERMENTRACK_HOME", str(folder))
        yield folder


@pytest.fixture
def start_controller(controller_home):
    started = []

    def start(name: str = "fridge-1") -> FakeController:
        fake = FakeController(config.controller_socket_path(name)).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_controller(start_controller) -> FakeController:
    """The controller of fridge-1, running and answering."""
    return start_controller("fridge-1")


@pytest.fixture
def no_controller(controller_home) -> None:
    """No controller runs: its socket does not exist."""


def reported_status(**changes) -> dict:
    status = {
        "ts": 1_700_000_000,
        "connected": True,
        "firmware": {"version": "0.2.13", "board": "s", "dialect": "avr"},
        "mode": "beer_constant",
        "beer_set": 19.0,
        "fridge_set": 17.2,
        "lcd": [
            "Mode   Beer Const.  ",
            "Beer   19.1  19.0 °C",
            "Fridge 17.3  17.2 °C",
            "Heating for    05m12",
        ],
        "state": 3,
        "last_error": None,
    }
    status.update(changes)
    return status


@pytest.fixture
def device(db) -> Device:
    """fridge-1, logging every 5 minutes, whose controller reported 3 minutes ago."""
    device = Device(
        name="fridge-1",
        link="tcp://192.168.1.20:23",
        log_interval_s=300,
        status=reported_status(),
        last_seen_at=timezone.now() - timedelta(minutes=3),
    )
    device.issue_token()
    device.save()
    return device


@pytest.fixture
def open_dashboard(db):
    """The brewery lets visitors who are not logged in see the dashboard."""
    settings = BrewerySettings.load()
    settings.dashboard_requires_login = False
    settings.save()
