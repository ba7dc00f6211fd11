"""Starting a profile on a device: where in the profile to start, the record, the controller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fermentrack.brewpi.profile_schedule import DAY, HOUR
from fermentrack.controller.client import ControllerError, ControllerUnavailable
from fermentrack.web.profiles.forms import start_offset
from fermentrack.web.profiles.models import FermentationProfile

from .conftest import ALE_POINTS

pytestmark = pytest.mark.django_db


def start(client, profile, device_name="fridge-1", start_at="from the beginning"):
    return client.post(
        reverse("profile_start", args=[profile.pk]), {"device": device_name, "start_at": start_at}
    )


def assert_started_ago(device, seconds: int) -> None:
    device.refresh_from_db()
    expected = timezone.now() - timedelta(seconds=seconds)
    assert abs((device.profile_started_at - expected).total_seconds()) < 5


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("from the beginning", 0),
        ("", 0),
        ("Beginning", 0),
        ("at point 1", 0),
        ("at point 3", 5 * DAY),
        ("point 2", 3 * DAY),
        ("2d 6h", 2 * DAY + 6 * HOUR),
        ("1.5", DAY + 12 * HOUR),
        ("7d", 7 * DAY),
    ],
)
def test_a_start_is_the_beginning_a_point_or_an_offset(text, offset):
    assert start_offset(text, ALE_POINTS) == offset


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("at point 5", "there is no point 5: this profile has points 1 to 4"),
        ("at point 0", "there is no point 0"),
        ("next week", "'next week' is not a place to start: write 'from the beginning', "),
        ("8d", "8d is past the profile's last point at 7d: start there or earlier"),
    ],
)
def test_a_start_that_cannot_be_used_says_why(text, problem):
    with pytest.raises(ValueError, match="^" + problem.replace("(", r"\(")):
        start_offset(text, ALE_POINTS)


def test_starting_from_the_beginning_records_the_profile_and_tells_the_controller(
    brewer_client, ale, device, controller
):
    version = device.config_version
    response = start(brewer_client, ale)
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.active_profile == ale
    assert_started_ago(device, 0)
    assert device.config_version == version + 1
    assert controller.calls == [("reload_config", "fridge-1"), ("set_mode", "fridge-1", "profile")]


@pytest.mark.parametrize(
    ("start_at", "seconds"), [("at point 3", 5 * DAY), ("2d 6h", 2 * DAY + 6 * HOUR)]
)
def test_starting_part_way_back_dates_the_start(
    brewer_client, ale, device, controller, start_at, seconds
):
    start(brewer_client, ale, start_at=start_at)
    assert_started_ago(device, seconds)


def test_a_device_running_another_profile_switches_to_this_one(
    brewer_client, ale, device, controller
):
    lager = FermentationProfile.objects.create(name="Lager")
    lager.replace_points([(0, 10.0)])
    device.active_profile = lager
    device.save()
    start(brewer_client, ale)
    device.refresh_from_db()
    assert device.active_profile == ale


@pytest.mark.parametrize(
    "failure",
    [
        ControllerUnavailable("fridge-1", "is not running"),
        ControllerError("fridge-1", "no beer sensor installed"),
    ],
)
def test_a_controller_that_cannot_be_told_is_reported_plainly_and_the_record_stands(
    brewer_client, ale, device, controller, failure
):
    controller.failure = failure
    response = start(brewer_client, ale)
    page = brewer_client.get(response["Location"]).content.decode()
    assert "Ale is set to run on fridge-1 from the beginning, but the controller of" in page
    assert str(failure).replace("'", "&#x27;") in page
    device.refresh_from_db()
    assert device.active_profile == ale


@pytest.mark.parametrize(
    ("device_name", "start_at", "problem"),
    [
        ("fridge-9", "from the beginning", "there is no device named &#x27;fridge-9&#x27;"),
        ("fridge-1", "at point 9", "there is no point 9: this profile has points 1 to 4"),
        ("fridge-1", "soonish", "is not a place to start"),
        ("fridge-1", "30d", "30d is past the profile&#x27;s last point at 7d"),
    ],
)
def test_the_start_form_says_what_is_wrong(
    brewer_client, ale, device, controller, device_name, start_at, problem
):
    response = start(brewer_client, ale, device_name, start_at)
    assert response.status_code == 200
    assert problem in response.content.decode()
    device.refresh_from_db()
    assert device.active_profile is None and controller.calls == []


def test_a_profile_without_points_cannot_be_started(brewer_client, device, controller):
    empty = FermentationProfile.objects.create(name="Empty")
    page = start(brewer_client, empty).content.decode()
    assert "this profile has no points yet" in page


def test_the_start_page_lists_devices_and_numbered_points(brewer_client, ale, device):
    page = brewer_client.get(reverse("profile_start", args=[ale.pk])).content.decode()
    assert '<option value="fridge-1">fridge-1</option>' in page
    assert "<td>3</td><td>5d</td>" in page


def test_guests_cannot_start_a_profile(guest_client, ale, device, controller):
    assert start(guest_client, ale).status_code == 403
    device.refresh_from_db()
    assert device.active_profile is None and controller.calls == []
