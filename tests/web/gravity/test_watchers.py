"""The Tilt scanner watcher: run by the spawner while an active Tilt listens over Bluetooth,
with a scanner token issued each time it is added."""

from __future__ import annotations

import sys

import pytest

from fermentrack.procman.layout import TILT_SCANNER_WATCHER, Layout, is_device_watcher
from fermentrack.web.devices.watchers import desired_watchers
from fermentrack.web.gravity.models import GravitySensor, SensorKind
from fermentrack.web.gravity.scanner_auth import issue_scanner_token, scanner_token_matches
from fermentrack.web.gravity.watchers import scanner_watchers

pytestmark = pytest.mark.django_db


def test_no_scanner_runs_without_a_tilt_heard_over_bluetooth(ispindel, bridged_tilt):
    assert scanner_watchers() == []


def test_a_switched_off_tilt_needs_no_scanner(tilt):
    tilt.active = False
    tilt.save()

    assert scanner_watchers() == []


def test_a_tilt_sensor_brings_the_scanner_into_the_spawners_watchers(tilt, monkeypatch):
    monkeypatch.setenv("FERMENTRACK_WEB_PORT", "8123")

    names = [spec.name for spec in desired_watchers(Layout())]
    (spec,) = scanner_watchers()

    assert TILT_SCANNER_WATCHER in names and "dev-fridge-1" in names
    assert (spec.cmd, spec.args) == (sys.executable, ("-m", "fermentrack.cli", "tilt-scanner"))
    assert spec.env == {"FERMENTRACK_API_URL": "http://127.0.0.1:8123"}
    assert is_device_watcher(TILT_SCANNER_WATCHER)  # the spawner adds and removes it


def test_adding_the_watcher_issues_a_scanner_token_that_replaces_the_old(tilt):
    old = issue_scanner_token()
    (spec,) = scanner_watchers()

    token = spec.make_secrets()["FERMENTRACK_SCANNER_TOKEN"]

    assert scanner_token_matches(token)
    assert not scanner_token_matches(old)
    assert spec.fingerprint() == scanner_watchers()[0].fingerprint()  # the token is not in it


def test_no_token_matches_before_one_is_issued(db):
    assert not scanner_token_matches("anything")
    assert not scanner_token_matches("")


def test_a_second_tilt_does_not_make_a_second_scanner(tilt):
    GravitySensor.objects.create(name="Red Tilt", kind=SensorKind.TILT, colour="Red")

    assert len(scanner_watchers()) == 1
