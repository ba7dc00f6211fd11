"""Profile pages: list, read, create and edit (offsets or dates), copy, delete, who may do what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fermentrack.brewpi.profile_schedule import DAY, HOUR
from fermentrack.web.brewery.models import BrewerySettings
from fermentrack.web.profiles.models import FermentationProfile

from .conftest import ALE_POINTS, editor_data, make_device, make_profile

pytestmark = pytest.mark.django_db


def errors_of(response) -> str:
    assert response.status_code == 200, "an invalid form is shown again, not saved"
    return response.content.decode()


# -- reading ---------------------------------------------------------------------------------


def test_the_list_shows_each_profile_with_its_point_count_and_the_devices_running_it(
    brewer_client, ale, device
):
    make_profile("Lager", [(0, 10.0)])
    device.active_profile = ale
    device.save()
    page = brewer_client.get(reverse("profile_list")).content.decode()
    assert "Ale" in page and "Lager" in page
    assert "<td>4</td>" in page and "<td>1</td>" in page
    assert "fridge-1" in page


def test_a_profile_page_shows_its_summary_points_and_export_links(guest_client, ale):
    page = guest_client.get(reverse("profile_detail", args=[ale.pk])).content.decode()
    assert "Hold 18.0 °C for 3 days, ramp to 21.0 °C over 2 days" in page
    assert "3d" in page and "21.00 °C" in page
    assert reverse("profile_export", args=[ale.pk, "csv"]) in page
    assert reverse("profile_edit", args=[ale.pk]) not in page, "guests get no edit link"


def test_anonymous_visitors_are_sent_to_log_in_unless_the_brewery_is_open(anonymous_client, ale):
    response = anonymous_client.get(reverse("profile_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    brewery = BrewerySettings.load()
    brewery.dashboard_requires_login = False
    brewery.save()
    assert anonymous_client.get(reverse("profile_list")).status_code == 200
    assert anonymous_client.get(reverse("profile_detail", args=[ale.pk])).status_code == 200
    assert anonymous_client.get(reverse("profile_new")).status_code == 302


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("profile_new", [], "get"),
        ("profile_import", [], "get"),
        ("profile_preview", [], "post"),
        ("profile_edit", ["ale"], "get"),
        ("profile_edit", ["ale"], "post"),
        ("profile_copy", ["ale"], "post"),
        ("profile_delete", ["ale"], "post"),
        ("profile_start", ["ale"], "post"),
    ],
)
def test_guests_may_not_change_profiles(guest_client, anonymous_client, ale, name, args, method):
    url = reverse(name, args=[ale.pk if arg == "ale" else arg for arg in args])
    assert getattr(guest_client, method)(url).status_code == 403
    response = getattr(anonymous_client, method)(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert FermentationProfile.objects.count() == 1
    assert ale.point_list() == ALE_POINTS


# -- creating and editing --------------------------------------------------------------------


def test_a_brewer_creates_a_profile_with_offsets_in_days_and_hours(brewer_client):
    rows = [("0", "18"), ("3d 12h", "18.5"), ("5.5", "21,25")]
    response = brewer_client.post(reverse("profile_new"), editor_data("Saison", rows))
    profile = FermentationProfile.objects.get(name="Saison")
    assert response.status_code == 302
    assert response["Location"] == reverse("profile_detail", args=[profile.pk])
    assert profile.point_list() == [
        (0, 18.0),
        (3 * DAY + 12 * HOUR, 18.5),
        (5 * DAY + 12 * HOUR, 21.25),
    ]


def test_empty_rows_of_the_table_are_skipped(brewer_client):
    rows = [("0", "18"), ("", ""), ("2d", "20"), ("", "")]
    brewer_client.post(reverse("profile_new"), editor_data("Gaps", rows))
    assert FermentationProfile.objects.get(name="Gaps").point_list() == [(0, 18.0), (2 * DAY, 20.0)]


def test_points_entered_as_dates_become_offsets_from_the_start_date(brewer_client):
    rows = [("2025-05-01 18:00", "18"), ("2025-05-04 06:00", "18"), ("2025-05-06", "21")]
    data = editor_data("Dated", rows, entry="dates", start="2025-05-01 12:00")
    assert brewer_client.post(reverse("profile_new"), data).status_code == 302
    offsets = [offset for offset, _ in FermentationProfile.objects.get(name="Dated").point_list()]
    assert offsets == [6 * HOUR, 2 * DAY + 18 * HOUR, 4 * DAY + 12 * HOUR]


def test_dates_count_from_the_first_point_without_a_start_and_in_the_brewery_time_zone(
    brewer_client,
):
    brewery = BrewerySettings.load()
    brewery.time_zone = "Europe/Berlin"
    brewery.save()
    # Clocks went forward on 2025-03-30 in Berlin: noon to noon over that night is 47 hours.
    rows = [("2025-03-29 12:00", "18"), ("2025-03-31 12:00", "20")]
    brewer_client.post(reverse("profile_new"), editor_data("Spring", rows, entry="dates"))
    assert FermentationProfile.objects.get(name="Spring").point_list() == [
        (0, 18.0),
        (47 * HOUR, 20.0),
    ]


def test_a_fahrenheit_profile_keeps_its_temperatures_in_fahrenheit(brewer_client):
    rows = [("0", "64"), ("2d", "68")]
    brewer_client.post(reverse("profile_new"), editor_data("US ale", rows, unit="F"))
    profile = FermentationProfile.objects.get(name="US ale")
    assert profile.temp_format == "F" and profile.point_list() == [(0, 64.0), (2 * DAY, 68.0)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("0", "18"), ("3d", "18"), ("2d", "20")], "row 3: 2d comes before row 2 (3d)"),
        ([("0", "18"), ("3d", "18"), ("72h", "20")], "row 3: 3d is the same time as row 2"),
        ([("0", "18"), ("3x", "20")], "row 2: offset &#x27;3x&#x27; is not understood"),
        ([("0", "18"), ("3x", "20")], "3d 12h"),
        ([("0", "150")], "row 1: 150 °C is outside -10…110 °C"),
        ([("0", "-11")], "row 1: -11 °C is outside -10…110 °C"),
        ([("0", "eighteen")], "row 1: temperature &#x27;eighteen&#x27; is not a number"),
        ([("0", "")], "row 1: the temperature is missing"),
        ([("", "18")], "row 1: the time is missing"),
        ([("", ""), ("", "")], "add at least one point"),
        ([("3y", "18")], "is later than a profile may run"),
    ],
)
def test_the_editor_says_what_is_wrong_with_the_points(brewer_client, rows, message):
    page = errors_of(brewer_client.post(reverse("profile_new"), editor_data("Bad", rows)))
    assert message in page
    assert not FermentationProfile.objects.filter(name="Bad").exists()


def test_the_editor_reports_every_bad_row_at_once(brewer_client):
    rows = [("0", "18"), ("soon", "18"), ("2d", "300"), ("1d", "20")]
    page = errors_of(brewer_client.post(reverse("profile_new"), editor_data("Bad", rows)))
    assert "row 2: offset &#x27;soon&#x27;" in page
    assert "row 3: 300 °C is outside" in page
    assert "row 4: 1d comes before row 3 (2d)" in page


def test_fahrenheit_limits_apply_to_a_fahrenheit_profile(brewer_client):
    page = errors_of(
        brewer_client.post(reverse("profile_new"), editor_data("Hot", [("0", "231")], unit="F"))
    )
    assert "231 °F is outside 14…230 °F" in page
    rows = [("0", "14"), ("1d", "230")]
    response = brewer_client.post(reverse("profile_new"), editor_data("Edge", rows, unit="F"))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("rows", "start", "message"),
    [
        (
            [("2025-05-01", "18")],
            "2025-05-02 00:00",
            "row 1: 2025-05-01 is before the start 2025-05-02 00:00",
        ),
        (
            [("1st of May", "18")],
            "",
            "row 1: &#x27;1st of May&#x27; is not a date and time: write it like 2025-05-01 18:00",
        ),
        ([("2025-05-01", "18")], "tomorrow", "start: &#x27;tomorrow&#x27; is not a date and time"),
        (
            [("2025-05-01 12:00", "18"), ("2025-05-01 12:00", "19")],
            "",
            "row 2: 2025-05-01 12:00 is the same time as row 1",
        ),
    ],
)
def test_the_editor_says_what_is_wrong_with_dates(brewer_client, rows, start, message):
    data = editor_data("Bad", rows, entry="dates", start=start)
    assert message in errors_of(brewer_client.post(reverse("profile_new"), data))


def test_a_name_must_be_given_and_not_taken(brewer_client, ale):
    assert "This field is required" in errors_of(
        brewer_client.post(reverse("profile_new"), editor_data(""))
    )
    page = errors_of(brewer_client.post(reverse("profile_new"), editor_data("Ale")))
    assert "a profile named &#x27;Ale&#x27; already exists; choose another name" in page


def test_editing_replaces_the_points_and_keeps_the_name_free_for_itself(brewer_client, ale):
    rows = [("0", "19"), ("4d", "22")]
    response = brewer_client.post(reverse("profile_edit", args=[ale.pk]), editor_data("Ale", rows))
    assert response.status_code == 302
    ale.refresh_from_db()
    assert ale.point_list() == [(0, 19.0), (4 * DAY, 22.0)]


def test_the_edit_page_shows_the_points_as_offsets(brewer_client, ale):
    page = brewer_client.get(reverse("profile_edit", args=[ale.pk])).content.decode()
    assert 'value="3d"' in page and 'value="21"' in page
    assert 'id="profile-graph-data"' in page


def test_a_profile_in_use_cannot_be_edited_and_the_page_offers_a_copy(brewer_client, ale, device):
    device.active_profile = ale
    device.save()
    page = brewer_client.get(reverse("profile_edit", args=[ale.pk])).content.decode()
    assert "is running on fridge-1, so it cannot be edited" in page
    assert reverse("profile_copy", args=[ale.pk]) in page and "Copy of Ale" in page
    response = brewer_client.post(
        reverse("profile_edit", args=[ale.pk]), editor_data("Ale", [("0", "30")])
    )
    assert response.status_code == 409
    assert ale.point_list() == ALE_POINTS


def test_the_preview_gives_the_summary_and_the_problems_of_the_table(brewer_client):
    rows = [("0", "18"), ("3d", "18"), ("5d", "21")]
    page = brewer_client.post(reverse("profile_preview"), editor_data("", rows)).content.decode()
    assert "Hold 18.0 °C for 3 days, ramp to 21.0 °C over 2 days, then hold." in page
    assert "This field is required" not in page, "the preview is about points, not the name"
    page = brewer_client.post(
        reverse("profile_preview"), editor_data("x", [("0", "18"), ("0", "19")])
    ).content.decode()
    assert "row 2: 0h is the same time as row 1" in page


# -- copy and delete -------------------------------------------------------------------------


def test_copying_makes_a_new_profile_with_the_same_points(brewer_client, ale):
    response = brewer_client.post(reverse("profile_copy", args=[ale.pk]), {"name": "Ale 2"})
    twin = FermentationProfile.objects.get(name="Ale 2")
    assert response["Location"] == reverse("profile_edit", args=[twin.pk])
    assert twin.point_list() == ALE_POINTS and twin.notes == ale.notes


def test_the_copy_page_suggests_a_free_name_and_refuses_a_taken_one(brewer_client, ale):
    make_profile("Copy of Ale")
    page = brewer_client.get(reverse("profile_copy", args=[ale.pk])).content.decode()
    assert 'value="Copy 2 of Ale"' in page
    page = errors_of(brewer_client.post(reverse("profile_copy", args=[ale.pk]), {"name": "Ale"}))
    assert "a profile named &#x27;Ale&#x27; already exists" in page
    too_long = {"name": "x" * 129}
    page = errors_of(brewer_client.post(reverse("profile_copy", args=[ale.pk]), too_long))
    assert "at most 128 characters" in page


def test_deleting_asks_first_then_deletes(brewer_client, ale):
    page = brewer_client.get(reverse("profile_delete", args=[ale.pk])).content.decode()
    assert "Delete Ale?" in page
    assert FermentationProfile.objects.filter(pk=ale.pk).exists()
    response = brewer_client.post(reverse("profile_delete", args=[ale.pk]))
    assert response["Location"] == reverse("profile_list")
    assert not FermentationProfile.objects.filter(pk=ale.pk).exists()


def test_a_profile_in_use_cannot_be_deleted(admin_client, ale, device):
    device.active_profile = ale
    device.save()
    page = admin_client.get(reverse("profile_delete", args=[ale.pk])).content.decode()
    assert "is running on fridge-1, so it cannot be deleted" in page
    assert admin_client.post(reverse("profile_delete", args=[ale.pk])).status_code == 409
    assert FermentationProfile.objects.filter(pk=ale.pk).exists()


def test_the_list_links_to_new_and_import_only_for_people_who_may_change(
    brewer_client, guest_client
):
    assert reverse("profile_new") in brewer_client.get(reverse("profile_list")).content.decode()
    assert reverse("profile_new") not in guest_client.get(reverse("profile_list")).content.decode()


def test_an_unknown_profile_is_not_found(brewer_client):
    assert brewer_client.get(reverse("profile_detail", args=[999])).status_code == 404
    assert brewer_client.get(reverse("profile_edit", args=[999])).status_code == 404


def test_a_second_device_is_listed_as_running_the_same_profile(brewer_client, ale, device):
    other = make_device("fridge-2")
    for chamber in (device, other):
        chamber.active_profile = ale
        chamber.save()
    page = brewer_client.get(reverse("profile_detail", args=[ale.pk])).content.decode()
    assert "Running on fridge-1, fridge-2" in page
