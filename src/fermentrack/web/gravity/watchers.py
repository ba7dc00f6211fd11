"""The Tilt scanner as a spawner watcher (`tilt-scanner`): it runs while at least one active
sensor is a Tilt heard over Bluetooth, and posts what it hears to /api/gravity/bluetooth with a
token issued each time the watcher is added."""

from __future__ import annotations

import sys

from fermentrack import config
from fermentrack.procman.layout import TILT_SCANNER_WATCHER
from fermentrack.procman.spawner import WatcherSpec
from fermentrack.web.gravity.models import GravitySensor, SensorKind
from fermentrack.web.gravity.scanner_auth import issue_scanner_token


def _scanner_secrets() -> dict[str, str]:
    return {"FERMENTRACK_SCANNER_TOKEN": issue_scanner_token()}


def scanner_watchers() -> list[WatcherSpec]:
    """[the tilt-scanner spec] while an active Tilt sensor listens over Bluetooth, else []."""
    if not GravitySensor.objects.filter(kind=SensorKind.TILT, active=True).exists():
        return []
    return [
        WatcherSpec(
            name=TILT_SCANNER_WATCHER,
            cmd=sys.executable,
            args=("-m", "fermentrack.cli", "tilt-scanner"),
            env={"FERMENTRACK_API_URL": config.local_api_url()},
            make_secrets=_scanner_secrets,
        )
    ]
