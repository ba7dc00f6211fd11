"""A ramp from the device page: the beer taken from its temperature now to a target at a pace,
run as a two-point profile made for it; refused in words without a recent beer reading or with
a target or pace out of range."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from fermentrack.brewpi.profile_schedule import setpoint_at
from fermentrack.web.beers.models import LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles.models import FermentationProfile, remove_finished_ramps
from fermentrack.web.profiles.ramps import ramp_points, start_ramp

pytestmark = pytest.mark.django_db


def beer_reading(device, celsius: float, age_s: int = 30, unit: str = "C") -> None:
    LogPoint.objects.create(
        device=device, ts=int(time.time()) - age_s, beer_temp=celsius, temp_format=unit
    )


def ramp(client, **data):
    return client.post(reverse("device_ramp", args=["fridge-1"]), data, follow=True)


def test_a_ramp_takes_the_time_its_pace_needs_in_whole_minutes():
    assert ramp_points(18.64, 2.0, 1.0) == [(0, 18.6), (59_760, 2.0)]  # 16.6 h: 996 minutes
    assert ramp_points(18.6, 2.0, 0.7) == [(0, 18.6), (85_380, 2.0)]  # 1422.9 minutes: 1423
    assert ramp_points(19.0, 22.0, 0.5) == [(0, 19.0), (21_600, 22.0)]  # a warm-up: 6 h
    assert ramp_points(19.0, 19.0, 1.0) == [(0, 19.0), (60, 19.0)]  # at least a minute


def test_a_brewer_starts_a_cold_crash_from_the_beers_temperature_now(
    brewer_client, device, fake_controller
):
    beer_reading(device, 18.6)

    answer = ramp(brewer_client, target="2.0", pace="1.0")

    device.refresh_from_db()
    profile = device.active_profile
    assert profile.point_list() == [(0, 18.6), (59_760, 2.0)]
    assert profile.name.startswith("Ramp fridge-1 18.6 to 2 °C at 1 °C/h, ")
    assert profile.temp_format == "C"
    # Halfway through, the controller's profile runner asks for the halfway temperature.
    started = int(device.profile_started_at.timestamp())
    assert setpoint_at(profile.point_list(), started, started + 29_880) == pytest.approx(10.3)
    assert fake_controller.commands[-2:] == ["reload_config", "set_mode"]
    assert f"fridge-1 ramps the beer to 2 °C: {profile.name}." in answer.content.decode()


def test_two_ramps_in_one_minute_get_names_of_their_own(device):
    moment = datetime(2026, 11, 24, 12, 40, 30, tzinfo=UTC)
    first = start_ramp(device, 18.6, 2.0, 1.0, now=moment)
    second = start_ramp(device, 18.6, 2.0, 1.0, now=moment + timedelta(seconds=20))

    assert first.name == "Ramp fridge-1 18.6 to 2 °C at 1 °C/h, 2026-11-24 12:40"
    assert second.name == f"{first.name} (2)"


def test_a_ramp_says_which_running_profile_it_replaces(brewer_client, device, fake_controller):
    beer_reading(device, 18.6)
    ramp(brewer_client, target="2.0", pace="1.0")
    device.refresh_from_db()
    first = device.active_profile

    answer = ramp(brewer_client, target="4.0", pace="1.0")

    assert f"It replaces the profile {first.name}, which was running." in answer.content.decode()


def test_a_ramp_is_recorded_when_the_controller_is_away_and_says_so(
    brewer_client, device, no_controller
):
    beer_reading(device, 18.6)

    answer = ramp(brewer_client, target="2.0", pace="1.0")

    device.refresh_from_db()
    assert device.active_profile is not None
    assert "so the device has not switched to it yet" in answer.content.decode()


@pytest.mark.parametrize(
    ("reading", "words"),
    [
        (None, "has no recent beer temperature in °C"),
        ({"celsius": 18.6, "age_s": 3600}, "has no recent beer temperature in °C"),
        ({"celsius": 65.0, "unit": "F"}, "has no recent beer temperature in °C"),
        # A DS18B20's power-on value, or a probe out of the beer: never a ramp's first setting.
        ({"celsius": 85.0}, "The beer reads 85.0 °C, outside the -10.0 to 60.0 °C a ramp"),
    ],
)
def test_without_a_recent_beer_reading_in_its_unit_no_ramp_starts(
    brewer_client, device, fake_controller, reading, words
):
    if reading:
        beer_reading(device, **reading)

    answer = ramp(brewer_client, target="2.0", pace="1.0")

    assert words in answer.content.decode()
    assert not FermentationProfile.objects.exists()
    assert fake_controller.commands == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"target": "70.0", "pace": "1.0"}, "target", "70.0 °C is out of range: expected -10.0"),
        ({"target": "2.0", "pace": "0.0"}, "pace", "a pace of 0.0 °C an hour is out of range"),
        ({"target": "2.0", "pace": "25"}, "pace", "expected 0.1 to 10.0 °C an hour"),
        ({"target": "", "pace": "1.0"}, "target", "This field is required."),
    ],
)
def test_a_target_or_pace_out_of_range_is_refused(brewer_client, device, data, field, message):
    beer_reading(device, 18.6)

    answer = ramp(brewer_client, **data)

    (error,) = answer.context["ramp_form"].errors[field]
    assert message in error
    assert not FermentationProfile.objects.exists()


def test_guests_may_not_start_a_ramp(guest_client, device):
    beer_reading(device, 18.6)
    assert ramp(guest_client, target="2.0", pace="1.0").status_code == 403
    assert not FermentationProfile.objects.exists()


def test_a_ramp_replaced_by_another_mode_leaves_no_profile_behind(
    brewer_client, device, fake_controller
):
    beer_reading(device, 18.6)
    ramp(brewer_client, target="2.0", pace="1.0")
    other = FermentationProfile.objects.create(name="Lager", temp_format="C")

    brewer_client.post(
        reverse("device_set_mode", args=["fridge-1"]),
        {"mode": "beer_constant", "temperature": "18.0"},
    )

    assert list(FermentationProfile.objects.all()) == [other]  # a profile of one's own stays


def test_a_ramp_still_running_on_another_chamber_is_kept(device):
    twin = Device.objects.create(name="fridge-2", link="tcp://192.168.1.21:23")
    running = start_ramp(twin, 18.6, 2.0, 1.0)
    start_ramp(device, 18.6, 4.0, 1.0)
    device.active_profile = None
    device.save()

    remove_finished_ramps()

    assert list(FermentationProfile.objects.all()) == [running]
