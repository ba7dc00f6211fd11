"""Fixtures of the profile page tests: a device, profiles, the editor's form data, and a fake
controller client that records what the pages asked of it."""

from __future__ import annotations

import pytest

from fermentrack.brewpi.profile_schedule import DAY
from fermentrack.controller import client
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles.models import FermentationProfile

ALE_POINTS = [(0, 18.0), (3 * DAY, 18.0), (5 * DAY, 21.0), (7 * DAY, 21.0)]


def make_device(name: str) -> Device:
    device = Device(name=name, simulated=True)
    device.issue_token()
    device.save()
    return device


def make_profile(name: str = "Ale", points=ALE_POINTS, unit: str = "C") -> FermentationProfile:
    profile = FermentationProfile.objects.create(name=name, temp_format=unit, notes="pitch cool")
    profile.replace_points(points)
    return profile


def editor_data(
    name: str = "Ale",
    rows=(("0", "18"), ("3d", "18"), ("5d", "21")),
    unit: str = "C",
    entry: str = "offsets",
    start: str = "",
    notes: str = "",
) -> dict:
    """The POST of the profile editor: details plus one formset row per (when, temperature),
    each optionally followed by its hold cells (HOLD_FIELDS)."""
    data = {
        "name": name,
        "temp_format": unit,
        "notes": notes,
        "entry": entry,
        "start": start,
        "points-TOTAL_FORMS": str(len(rows)),
        "points-INITIAL_FORMS": "0",
        "points-MIN_NUM_FORMS": "0",
        "points-MAX_NUM_FORMS": "1000",
    }
    for index, (when, temperature, *hold) in enumerate(rows):
        data[f"points-{index}-when"] = when
        data[f"points-{index}-temperature"] = temperature
        for name, text in zip(HOLD_FIELDS, hold, strict=False):
            data[f"points-{index}-{name}"] = text
    return data


# A row's hold cells, after its time and temperature: until, gravity, tolerance, for, at most.
HOLD_FIELDS = ("hold_until", "hold_gravity", "hold_tolerance", "hold_for", "hold_max")


@pytest.fixture
def device(db) -> Device:
    return make_device("fridge-1")


@pytest.fixture
def ale(db) -> FermentationProfile:
    return make_profile()


class FakeController:
    """Stands in for fermentrack.controller.client: records calls, fails when told to."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.failure: Exception | None = None

    def reload_config(self, name: str) -> dict:
        self.calls.append(("reload_config", name))
        if self.failure:
            raise self.failure
        return {}

    def set_mode(self, name: str, mode: str, temperature=None) -> dict:
        self.calls.append(("set_mode", name, mode))
        if self.failure:
            raise self.failure
        return {}


@pytest.fixture
def controller(monkeypatch) -> FakeController:
    fake = FakeController()
    monkeypatch.setattr(client, "reload_config", fake.reload_config)
    monkeypatch.setattr(client, "set_mode", fake.set_mode)
    return fake
