"""Holds in profiles: the points table, the pages, the files (CSV and JSON version 2), a copy and
a start. The hold maths itself is tested in tests/gravity/test_holds.py."""

from __future__ import annotations

import html
import json

import pytest
from django.urls import reverse

from fermentrack.brewpi.profile_schedule import DAY, HOUR
from fermentrack.gravity.holds import Hold
from fermentrack.web.profiles import formats
from fermentrack.web.profiles.formats import ProfileFile, ProfileFileError
from fermentrack.web.profiles.models import FermentationProfile

from .conftest import editor_data

pytestmark = pytest.mark.django_db

UNTIL_1012 = Hold("gravity_at_most", max_s=4 * DAY, gravity=1.012)
STEADY = Hold("gravity_stable", max_s=5 * DAY, tolerance=2.0, for_s=DAY)
POINTS = [(0, 18.0), (3 * DAY, 18.0), (5 * DAY, 21.0)]
HELD_ROWS = [
    ("0", "18"),
    ("3d", "18", "gravity_at_most", "1.012", "", "", "4d"),
    ("5d", "21", "gravity_stable", "", "2", "1d", "5d"),
]


@pytest.fixture
def held() -> FermentationProfile:
    profile = FermentationProfile.objects.create(name="Held ale", temp_format="C")
    profile.replace_points(POINTS, {3 * DAY: UNTIL_1012, 5 * DAY: STEADY})
    return profile


# -- the points table ----------------------------------------------------------------------------


def test_a_brewer_gives_points_holds_in_the_table(brewer_client):
    response = brewer_client.post(reverse("profile_new"), editor_data("Held", HELD_ROWS))

    assert response.status_code == 302
    profile = FermentationProfile.objects.get(name="Held")
    assert profile.point_list() == POINTS
    assert profile.hold_list() == {3 * DAY: UNTIL_1012, 5 * DAY: STEADY}
    assert profile.holds_by_index() == {1: UNTIL_1012, 2: STEADY}


def test_the_values_a_condition_does_not_use_are_not_kept(brewer_client):
    rows = [("0", "18", "gravity_at_most", "1.010", "3", "2d", "3d")]
    brewer_client.post(reverse("profile_new"), editor_data("Plain", rows))
    point = FermentationProfile.objects.get(name="Plain").points.get()
    assert (point.hold_gravity, point.hold_tolerance, point.hold_for_s) == (1.010, None, None)


@pytest.mark.parametrize(
    ("hold", "problem"),
    [
        (("gravity_at_most", "1.012", "", "", ""), "row 2: the hold has no time limit"),
        (("gravity_at_most", "", "", "", "3d"), "row 2: the hold needs the gravity to wait for"),
        (("gravity_at_most", "high", "", "", "3d"), "row 2: the hold's gravity: hold gravity"),
        (("gravity_at_most", "1.5", "", "", "3d"), "row 2: the hold's gravity 1.5 is outside"),
        (("gravity_stable", "", "2", "", "3d"), "row 2: the hold needs how long"),
        (("gravity_stable", "", "2", "4d", "3d"), "it could never end on gravity"),
        (("gravity_stable", "", "2", "1d", "soon"), "row 2: the hold's at most: offset 'soon'"),
        (("", "1.012", "", "", "3d"), "row 2: the hold's gravity and at most are given"),
        (("until dry", "", "", "", "3d"), "row 2: hold until 'until dry' is not a condition"),
    ],
)
def test_a_hold_that_cannot_work_is_shown_on_its_row_and_nothing_is_saved(
    brewer_client, hold, problem
):
    rows = [("0", "18"), ("3d", "18", *hold)]
    response = brewer_client.post(reverse("profile_new"), editor_data("Bad", rows))
    page = html.unescape(response.content.decode())
    assert problem in page, page[page.find("errorlist") :][:600]
    assert not FermentationProfile.objects.filter(name="Bad").exists()


def test_the_edit_page_shows_each_hold_in_its_row(brewer_client, held):
    page = brewer_client.get(reverse("profile_edit", args=[held.pk])).content.decode()
    assert 'name="points-1-hold_gravity" value="1.012"' in page
    assert 'name="points-1-hold_max" value="4d"' in page
    assert '<option value="gravity_stable" selected>' in page
    assert 'name="points-2-hold_tolerance" value="2"' in page
    assert 'name="points-2-hold_for" value="1d"' in page


def test_editing_without_touching_the_holds_keeps_them(brewer_client, held):
    rows = [("0", "17"), *HELD_ROWS[1:]]
    data = editor_data("Held ale", rows) | {"points-INITIAL_FORMS": "3"}  # as the page renders
    brewer_client.post(reverse("profile_edit", args=[held.pk]), data)
    held.refresh_from_db()
    assert held.point_list()[0] == (0, 17.0)
    assert held.hold_list() == {3 * DAY: UNTIL_1012, 5 * DAY: STEADY}


def test_the_preview_tells_the_holds_in_words(brewer_client):
    page = brewer_client.post(
        reverse("profile_preview"), editor_data("Held", HELD_ROWS)
    ).content.decode()
    assert "at 3 days, hold 18.0 °C until gravity ≤ 1.012 (at most 4 days)" in page
    assert (
        "at 5 days, hold 21.0 °C until gravity steady within ±2 points for 1 day (at most 5 days)"
    ) in page


# -- the profile's pages -----------------------------------------------------------------------


def test_the_profile_page_shows_the_holds_and_draws_them_at_their_longest(guest_client, held):
    response = guest_client.get(reverse("profile_detail", args=[held.pk]))
    page = response.content.decode()
    assert "then hold until gravity ≤ 1.012 (at most 4 days)" in page
    assert "at the earliest" in page  # points after a hold may come later
    graph = json.loads(
        page.split('id="profile-graph-data" type="application/json">')[1].split("<")[0]
    )
    assert graph["holds"] == {"1": 4 * DAY, "2": 5 * DAY}
    assert held.longest_schedule() == [
        (0, 18.0),
        (3 * DAY, 18.0),
        (7 * DAY, 18.0),
        (9 * DAY, 21.0),
        (14 * DAY, 21.0),
    ]


def test_a_copy_keeps_the_holds(held):
    twin = held.copy("Held again")
    assert twin.hold_list() == held.hold_list()


def test_starting_a_profile_sets_out_its_holds_progress_afresh(
    brewer_client, held, device, controller
):
    device.profile_progress = {"id": held.pk, "started_at": 1, "holds": [], "holding": None}
    device.save()

    brewer_client.post(
        reverse("profile_start", args=[held.pk]), {"device": "fridge-1", "start_at": "4d"}
    )

    device.refresh_from_db()
    assert device.profile_progress == {
        "id": held.pk,
        "started_at": int(device.profile_started_at.timestamp()),
        "holds": [{"index": 1, "held_s": 0}],  # the hold at 3 days is behind the start
        "holding": None,
    }


# -- files -------------------------------------------------------------------------------------

HELD_CSV = """fermentrack-profile,2
name,Held ale
unit,C
notes,
offset,temperature,hold_until,hold_gravity,hold_tolerance,hold_for,hold_max
0h,18.00,,,,,
3d,18.00,gravity_at_most,1.012,,,4d
5d,21.00,gravity_stable,,2,1d,5d
"""


def test_a_profile_with_holds_exports_as_version_2_csv(held):
    assert formats.to_csv(ProfileFile.of(held)) == HELD_CSV


def test_a_profile_with_holds_exports_as_version_2_json_with_hold_keys(held):
    document = json.loads(formats.to_json(ProfileFile.of(held)))
    assert document["version"] == 2
    assert "hold_until" not in document["points"][0]
    assert document["points"][1] == {
        "offset_s": 3 * DAY,
        "offset": "3d",
        "temperature": 18.0,
        "hold_until": "gravity_at_most",
        "hold_gravity": 1.012,
        "hold_max_s": 4 * DAY,
        "hold_max": "4d",
    }
    assert document["points"][2]["hold_for"] == "1d"


@pytest.mark.parametrize("write", [formats.to_csv, formats.to_json])
def test_an_exported_profile_with_holds_reads_back_the_same(held, write):
    again = formats.read_profile_file(write(ProfileFile.of(held)))
    assert again == ProfileFile.of(held)


def test_json_holds_may_give_their_times_as_text():
    document = {
        "format": "fermentrack-profile",
        "version": 2,
        "name": "Texts",
        "unit": "C",
        "points": [
            {"offset": "0", "temperature": 18},
            {
                "offset": "2d",
                "temperature": 18,
                "hold_until": "gravity_stable",
                "hold_tolerance": 1.5,
                "hold_for": "12h",
                "hold_max": "3d",
            },
        ],
    }
    read = formats.read_profile_file(json.dumps(document))
    assert read.holds == {2 * DAY: Hold("gravity_stable", 3 * DAY, None, 1.5, 12 * HOUR)}


def test_bad_holds_in_a_file_name_their_line_or_point():
    text = HELD_CSV.replace("1.012,,,4d", "1.012,,,").replace(",2,1d,5d", ",2,9d,5d")
    with pytest.raises(ProfileFileError) as error:
        formats.read_profile_file(text)
    assert [problem.split(":")[0] for problem in error.value.problems] == ["line 7", "line 8"]
    assert "every hold needs one" in error.value.problems[0]
    document = json.loads(formats.to_json(ProfileFile("x", "C", points=[(0, 18.0)])))
    document["points"][0] |= {"hold_until": "gravity_at_most", "hold_max_s": DAY}
    with pytest.raises(ProfileFileError, match="point 1: the hold needs the gravity"):
        formats.read_profile_file(json.dumps(document))


def test_a_version_1_file_cannot_hide_a_hold_in_extra_cells():
    text = "fermentrack-profile,1\nname,x\nunit,C\noffset,temperature\n0,18,gravity_at_most\n"
    with pytest.raises(ProfileFileError, match="line 5: expected an offset and a temperature"):
        formats.read_profile_file(text)


def test_importing_a_profile_with_holds_keeps_them(brewer_client, held):
    text = formats.to_csv(ProfileFile.of(held))
    brewer_client.post(reverse("profile_import"), {"text": text, "name": "Imported"})
    assert FermentationProfile.objects.get(name="Imported").hold_list() == held.hold_list()
