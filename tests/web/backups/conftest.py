"""Fixtures for backups: a home folder of the test's own, a brewery with data in every corner
that matters (a device with readings and an EEPROM file, a beer, a note, a gravity sensor),
and a way to build altered archives (another version, a damaged member)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from fermentrack import config
from fermentrack.web.beers.models import Annotation, Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravityReading, GravitySensor

EEPROM = b'{"format_version": 1, "settings": {"mode": "b"}}\n'


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cellar"
    folder.mkdir()
    monkeypatch.setenv("FERMENTRACK_HOME", str(folder))
    return folder


@pytest.fixture
def brewery(home, admin_user):
    device = Device.objects.create(name="fridge-1", simulated=True, token_hash="0" * 64)
    LogPoint.objects.bulk_create(
        LogPoint(device=device, ts=1_700_000_000 + 30 * i, beer_temp=19.5, state=0)
        for i in range(500)
    )
    Beer.objects.create(name="Summer Saison", device=device, started_at=1_700_000_000)
    Annotation.objects.create(
        device=device, ts=1_700_000_300, text="dry hopped", source="user", created_by=admin_user
    )
    sensor = GravitySensor.objects.create(name="Hydrometer", kind="manual", device=device)
    GravityReading.objects.create(sensor=sensor, device=device, ts=1_700_000_100, gravity=1.050)
    eeprom = config.firmware_dir() / "fridge-1" / "eeprom.json"
    eeprom.parent.mkdir(parents=True)
    eeprom.write_bytes(EEPROM)
    return device


def rebuild(path: Path, target: Path, *, manifest=None, members=None, leave_out="") -> Path:
    """A copy of the archive at `path` with its manifest changed by `manifest(dict)`, its
    members' bytes by `members(name, bytes) -> bytes` (checksums left as they were), and the
    member `leave_out` left out."""
    with tarfile.open(path, "r:gz") as tar:
        contents = [(i.name, tar.extractfile(i).read()) for i in tar if i.name != leave_out]
    with tarfile.open(target, "w:gz") as tar:
        for name, data in contents:
            if name == "manifest.json" and manifest:
                changed = json.loads(data)
                manifest(changed)
                data = json.dumps(changed).encode()
            elif members:
                data = members(name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target
